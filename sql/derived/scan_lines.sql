-- Derived: for every imaging study, and for each patient's cut-off date, the index tumour and the active line.
--
-- criteria.md: "The line active at S is the one with start <= S <= end + 30 days (the latest started, if
-- several)." "Index breast tumour: the latest tumour with topography C50.x and behaviour 3 diagnosed on or
-- before S." exc_more_than_two_lines counts the "metastatic lines started on or before S".
-- criteria.md "Time" and docs/decisions.md D21: a patient without an event is evaluated at S = R = as_of, so
-- the cut-off date of each patient is screened here too (study_id NULL, is_cutoff TRUE).
-- docs/decisions.md D4: a scan uses the lines of the index tumour it has.
WITH studies AS (
    SELECT patient_id, study_id, study_date, modality FROM imaging
),

patient_ids AS (
    SELECT patient_id FROM patients
),

contexts AS (
    SELECT patient_id, context_no, tumour_id, valid_from, valid_until FROM index_tumours
),

lines AS (
    SELECT patient_id, context_no, line_number, line_start, line_end FROM lines_of_therapy
),

screening_points AS (
    SELECT patient_id, study_id, study_date AS screening_date, modality, FALSE AS is_cutoff
    FROM studies

    UNION ALL

    SELECT patient_ids.patient_id, CAST(NULL AS VARCHAR), p.as_of, CAST(NULL AS VARCHAR), TRUE
    FROM patient_ids
    CROSS JOIN params AS p
),

point_contexts AS (
    -- Exactly one context holds each date: the latest breast tumour diagnosed on or before it, else context 0.
    -- point_no numbers the points (no order needed) so that the lines are counted per point on one integer key.
    SELECT screening_points.*, contexts.context_no, contexts.tumour_id, row_number() OVER () AS point_no
    FROM screening_points
    JOIN contexts
        ON contexts.patient_id = screening_points.patient_id
        AND (contexts.valid_from IS NULL OR contexts.valid_from <= screening_points.screening_date)
        AND (contexts.valid_until IS NULL OR screening_points.screening_date < contexts.valid_until)
),

lines_started AS (
    -- Lines started on or before the date, counted; the active one is the latest started among those still open
    -- or ended at most the grace days before. Lines are numbered in start order, so "latest" = highest number:
    -- the largest (line_number, line_start, line_end) struct of those lines is the active line itself, taken in
    -- the same pass (a join back to the lines for its start and end cost a sixth of this model).
    SELECT
        point_contexts.point_no,
        count(lines.line_number) AS lines_started,
        max(
            struct_pack(
                line_number := lines.line_number,
                line_start := lines.line_start,
                line_end := lines.line_end
            )
        ) FILTER (
            WHERE lines.line_number IS NOT NULL
              AND (
                  lines.line_end IS NULL
                  OR point_contexts.screening_date <= lines.line_end + p.line_end_grace_days
              )
        ) AS active_line
    FROM point_contexts
    CROSS JOIN params AS p
    LEFT JOIN lines
        ON lines.patient_id = point_contexts.patient_id
        AND lines.context_no = point_contexts.context_no
        AND lines.line_start <= point_contexts.screening_date
    GROUP BY point_contexts.point_no
)

SELECT
    point_contexts.patient_id,
    point_contexts.study_id,
    point_contexts.screening_date,
    point_contexts.modality,
    point_contexts.is_cutoff,
    point_contexts.context_no,
    point_contexts.tumour_id,
    CAST(lines_started.lines_started AS INTEGER) AS lines_started,
    lines_started.active_line.line_number,
    lines_started.active_line.line_start,
    lines_started.active_line.line_end
FROM point_contexts
JOIN lines_started ON lines_started.point_no = point_contexts.point_no
