-- Criteria: the systemic therapy (inc_therapy_class, inc_line_1_or_2, inc_disease_control_6m,
-- exc_more_than_two_lines), one row per screening unit.
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
-- docs/decisions.md D3 (calendar months clamp at month end), D16 (no active line: inc_disease_control_6m fails).
WITH units AS (
    SELECT
        unit_id,
        patient_id,
        has_event,
        screening_date,
        lines_started,
        line_number,
        line_start,
        line_drugs,
        line_drug_classes,
        line_has_known_drug,
        CASE WHEN has_event THEN 'the scan ' ELSE 'the cut-off ' END || CAST(screening_date AS VARCHAR) AS at_label
    FROM screening_units
),

responses AS (
    SELECT patient_id, assessment_date, response FROM response_assessments
),

unit_lines AS (
    SELECT
        units.*,
        -- D3: DuckDB's month arithmetic clamps at month end (31 Aug + 6 months = 28/29 Feb).
        CAST(units.line_start + to_months(p.min_months_on_line) AS DATE) AS months_on_line_reached,
        p.min_months_on_line,
        p.max_line_number,
        p.max_lines_before_scan,
        p.has_response_assessments,
        'line ' || CAST(units.line_number AS VARCHAR) || ' (started ' || CAST(units.line_start AS VARCHAR) || ': '
            || units.line_drugs || ')' AS line_label
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

progression_on_line AS (
    -- Any PD fails the criterion, whatever else was recorded, the same day included; the reason names the first.
    SELECT
        unit_id,
        min(assessment_date) AS first_progression
    FROM responses_on_line
    WHERE response = 'PD'
    GROUP BY unit_id
),

controls_on_line AS (
    -- The CR/PR/SD assessments, latest first, for the reason. Two on one day: the least favourable comes first
    -- (SD, then PR, then CR), so that the reason never claims more control than was recorded.
    SELECT
        unit_id,
        assessment_date,
        response,
        row_number() OVER (
            PARTITION BY unit_id
            ORDER BY assessment_date DESC, CASE response WHEN 'SD' THEN 1 WHEN 'PR' THEN 2 ELSE 3 END
        ) AS recency
    FROM responses_on_line
    WHERE response IN ('CR', 'PR', 'SD')
),

unit_facts AS (
    SELECT
        unit_lines.*,
        progression_on_line.first_progression,
        -- "PR on 2023-12-19"
        controls_on_line.response || ' on ' || CAST(controls_on_line.assessment_date AS VARCHAR) AS latest_control,
        'no metastatic line active at ' || unit_lines.at_label AS no_line_reason
    FROM unit_lines
    LEFT JOIN progression_on_line ON progression_on_line.unit_id = unit_lines.unit_id
    LEFT JOIN controls_on_line
        ON controls_on_line.unit_id = unit_lines.unit_id
        AND controls_on_line.recency = 1
)

SELECT
    unit_id,

    -- inc_therapy_class: a drug of a treatment class in the active line.
    CASE
        WHEN line_number IS NULL THEN 'fail'
        WHEN line_has_known_drug THEN 'pass'
        ELSE 'unknown'
    END AS inc_therapy_class,
    CASE
        WHEN line_number IS NULL THEN no_line_reason
        WHEN line_has_known_drug THEN line_label || ': ' || line_drug_classes
        ELSE line_label || ': only drugs not in the vocabulary'
    END AS inc_therapy_class_reason,

    -- inc_line_1_or_2: the active line's number.
    CASE WHEN line_number <= max_line_number THEN 'pass' ELSE 'fail' END AS inc_line_1_or_2,
    CASE
        WHEN line_number IS NULL THEN no_line_reason
        ELSE line_label || ' active at ' || at_label
    END AS inc_line_1_or_2_reason,

    -- inc_disease_control_6m: long enough on the line, no PD during it, and a CR/PR/SD recorded.
    CASE
        WHEN line_number IS NULL THEN 'fail'
        WHEN screening_date < months_on_line_reached THEN 'fail'
        WHEN first_progression IS NOT NULL THEN 'fail'
        WHEN latest_control IS NOT NULL THEN 'pass'
        ELSE 'unknown'
    END AS inc_disease_control_6m,
    CASE
        WHEN line_number IS NULL THEN no_line_reason
        WHEN screening_date < months_on_line_reached
            THEN line_label || ': ' || at_label || ' is before ' || CAST(min_months_on_line AS VARCHAR)
                || ' months on the line (' || CAST(months_on_line_reached AS VARCHAR) || ')'
        WHEN first_progression IS NOT NULL
            THEN 'PD on ' || CAST(first_progression AS VARCHAR) || ', during ' || line_label
        WHEN latest_control IS NOT NULL
            THEN latest_control || ' and no PD during ' || line_label || ', ' || CAST(min_months_on_line AS VARCHAR)
                || ' months reached ' || CAST(months_on_line_reached AS VARCHAR)
        WHEN NOT has_response_assessments THEN line_label || ': no response assessments in the extract'
        ELSE line_label || ': no CR/PR/SD recorded between the line start and ' || at_label
    END AS inc_disease_control_6m_reason,

    -- exc_more_than_two_lines: lines started on or before S.
    CASE WHEN lines_started > max_lines_before_scan THEN 'fail' ELSE 'pass' END AS exc_more_than_two_lines,
    CAST(lines_started AS VARCHAR) || ' metastatic line' || CASE WHEN lines_started = 1 THEN '' ELSE 's' END
        || ' started on or before ' || at_label AS exc_more_than_two_lines_reason
FROM unit_facts
