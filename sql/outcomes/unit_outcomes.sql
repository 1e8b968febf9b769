-- Outcomes: every screening unit with its 18 criterion outcomes, its status, and whether it is the patient's best
-- unit.
--
-- criteria.md "Outcomes": "A patient's status: ineligible if any criterion fails; else unknown if any is unknown;
-- else eligible (the review criteria remain for chart review)." "Time": "The patient's result is that of the best
-- event: fewest fail, then fewest unknown, then earliest S, then smallest study_id."
-- A patient without an event has exactly one (event-less) unit, which is therefore their best.
-- Each criterion's outcome is that of the rule its group table records (the mapping is oligo_cohort.criteria's).
WITH units AS (
    SELECT unit_id, patient_id, site_id, event_id, has_event, screening_date, registration_date, line_number,
           reference_study_id
    FROM screening_units
),

criteria AS (
    SELECT
        units.*,
{% for c in criteria %}
        {{ c.outcome(c.table ~ "." ~ c.id ~ ".rule") }} AS {{ c.id }}{{ "," if not loop.last }}
{% endfor %}
    FROM units
{% for table in criteria_tables %}
    JOIN {{ table }} ON {{ table }}.unit_id = units.unit_id
{% endfor %}
),

counted AS (
    SELECT
        criteria.*,
        0
{% for c in criteria %}
            + CASE WHEN {{ c.id }} = 'fail' THEN 1 ELSE 0 END
{% endfor %}
            AS failed_criteria,
        0
{% for c in criteria %}
            + CASE WHEN {{ c.id }} = 'unknown' THEN 1 ELSE 0 END
{% endfor %}
            AS unknown_criteria
    FROM criteria
),

best_unit AS (
    -- Ranked on the few columns that decide it, so the sort carries little.
    SELECT
        unit_id,
        row_number() OVER (
            PARTITION BY patient_id ORDER BY failed_criteria, unknown_criteria, screening_date, event_id
        ) AS preference
    FROM counted
)

SELECT
    counted.*,
    CASE
        WHEN counted.failed_criteria > 0 THEN 'ineligible'
        WHEN counted.unknown_criteria > 0 THEN 'unknown'
        ELSE 'eligible'
    END AS status,
    best_unit.preference = 1 AS is_best
FROM counted
JOIN best_unit ON best_unit.unit_id = counted.unit_id
