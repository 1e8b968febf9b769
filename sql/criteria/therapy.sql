-- Criteria: the systemic therapy (inc_therapy_class, inc_line_1_or_2, inc_disease_control_6m,
-- exc_more_than_two_lines), one row per screening unit.
-- Records: inc_therapy_class, inc_line_1_or_2, inc_disease_control_6m, exc_more_than_two_lines.
-- Decides: inc_therapy_class, inc_line_1_or_2, inc_disease_control_6m, exc_more_than_two_lines.
--
-- Protocol: "Systemic treatment can be either endocrine, targeted, chemotherapy or immune-checkpoint blockade";
-- "Oligoprogression should occur during first- or second-line systemic therapy"; "Patients should be on systemic
-- therapy for at least six months. Status should be stable disease or partial or complete response for at least
-- 6 months."; exclusion "Having received more than two lines of systemic therapy for MBC".
-- criteria.md: inc_therapy_class "the line active at S holds a drug of one of those classes -> pass; no active
-- line -> fail; only drugs missing from the vocabulary -> unknown". inc_line_1_or_2 "active line number 1 or 2 ->
-- pass; 3 or more, or no active line -> fail". inc_disease_control_6m "S < line start + 6 months, or any PD
-- assessment strictly between line start and S -> fail; else at least one CR/PR/SD strictly between them -> pass;
-- else unknown". exc_more_than_two_lines "more than 2 metastatic lines started on or before S -> fail; else pass".
-- docs/decisions.md D3 (calendar months clamp at month end), D16 (no active line: inc_disease_control_6m fails),
-- D34 (the response recorded: the latest CR/PR/SD, the least of them on a tie).
WITH units AS (
    SELECT
        unit_id,
        patient_id,
        has_event,
        screening_date,
        -- Integer facts are BIGINT, as oligo_cohort.facts types them.
        CAST(lines_started AS BIGINT) AS lines_started,
        CAST(line_number AS BIGINT) AS line_number,
        line_start,
        line_drugs,
        line_drug_classes,
        line_has_known_drug
    FROM screening_units
),

responses AS (
    SELECT patient_id, assessment_date, response FROM response_assessments
),

unit_lines AS (
    SELECT
        units.*,
        -- D3: DuckDB's month arithmetic clamps at month end (31 Aug + 6 months = 28/29 Feb).
        CAST(units.line_start + to_months(p.min_months_on_line) AS DATE) AS enough_months_date,
        p.max_line_number,
        p.max_lines_before_scan,
        p.has_response_assessments
    FROM units
    CROSS JOIN params AS p
),

responses_on_line AS (
    -- Assessments strictly between the line start and S (criteria.md: on either day they do not count).
    SELECT
        unit_lines.unit_id,
        responses.assessment_date,
        responses.response
    FROM unit_lines
    JOIN responses
        ON responses.patient_id = unit_lines.patient_id
        AND responses.assessment_date > unit_lines.line_start
        AND responses.assessment_date < unit_lines.screening_date
),

first_progression AS (
    SELECT unit_id, min(assessment_date) AS first_progression_date
    FROM responses_on_line
    WHERE response = {{ codes.progression_response | sql }}
    GROUP BY unit_id
),

latest_control AS (
    -- D34: the latest CR/PR/SD; of several on that date the least (SD, then PR, then CR).
    SELECT unit_id, assessment_date AS control_date, response AS control_response
    FROM (
        SELECT
            responses_on_line.*,
            row_number() OVER (
                PARTITION BY unit_id
                ORDER BY
                    assessment_date DESC,
                    CASE response
{% for response in codes.control_responses %}
                        WHEN {{ response | sql }} THEN {{ loop.index0 }}
{% endfor %}
                    END
            ) AS recency
        FROM responses_on_line
        WHERE response IN ({{ codes.control_responses | sql }})
    ) AS ranked
    WHERE recency = 1
),

unit_facts AS (
    SELECT
        unit_lines.*,
        first_progression.first_progression_date,
        latest_control.control_date,
        latest_control.control_response
    FROM unit_lines
    LEFT JOIN first_progression ON first_progression.unit_id = unit_lines.unit_id
    LEFT JOIN latest_control ON latest_control.unit_id = unit_lines.unit_id
)

SELECT
    unit_id,

    -- inc_therapy_class: a drug of a treatment class in the active line.
    struct_pack(
        rule := CASE
            WHEN line_number IS NULL THEN 'no_active_line'
            WHEN line_has_known_drug THEN 'treatment_class'
            ELSE 'only_unknown_drugs'
        END,
        has_event,
        screening_date,
        line_number,
        line_start,
        line_drugs,
        line_drug_classes
    ) AS inc_therapy_class,

    -- inc_line_1_or_2: the active line's number.
    struct_pack(
        rule := CASE
            WHEN line_number IS NULL THEN 'no_active_line'
            WHEN line_number <= max_line_number THEN 'allowed_line'
            ELSE 'later_line'
        END,
        has_event,
        screening_date,
        line_number,
        line_start,
        line_drugs
    ) AS inc_line_1_or_2,

    -- inc_disease_control_6m: long enough on the line, no PD during it, and a CR/PR/SD recorded.
    struct_pack(
        rule := CASE
            WHEN line_number IS NULL THEN 'no_active_line'
            WHEN screening_date < enough_months_date THEN 'too_soon'
            WHEN first_progression_date IS NOT NULL THEN 'progression_on_line'
            WHEN control_date IS NOT NULL THEN 'disease_controlled'
            WHEN NOT has_response_assessments THEN 'no_response_table'
            ELSE 'no_response_recorded'
        END,
        has_event,
        screening_date,
        line_number,
        line_start,
        line_drugs,
        enough_months_date,
        first_progression_date,
        control_date,
        control_response
    ) AS inc_disease_control_6m,

    -- exc_more_than_two_lines: lines started on or before S.
    struct_pack(
        rule := CASE WHEN lines_started > max_lines_before_scan THEN 'too_many_lines' ELSE 'within_limit' END,
        has_event,
        screening_date,
        lines_started
    ) AS exc_more_than_two_lines
FROM unit_facts
