-- Outcomes: one row per candidate event (docs/design.md "Engine results": result_events).
--
-- criteria.md "Time": "The unit of screening is the event: a candidate first screening scan S (an imaging study).
-- The planned registration date is R = S + 49 days." Columns in the order of docs/design.md, the 18 criteria in
-- oligo_cohort.criteria.CRITERION_IDS order.
WITH events AS (
    SELECT * FROM unit_outcomes WHERE has_event
)

SELECT
    patient_id,
    site_id,
    event_id,
    screening_date,
    registration_date,
    CAST(line_number AS INTEGER) AS line_number,
    reference_study_id,
    status,
    is_best AS is_best_event,
{% for c in criteria %}
    {{ c.id }}{{ "," if not loop.last }}
{% endfor %}
FROM events
