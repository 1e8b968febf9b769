-- Derived: the reference study of every scan that could be a screening scan.
--
-- criteria.md: "Reference study of an event: among imaging studies dated within [line start - 60 days, line start
-- + 30 days] of the line active at S, the latest with the same modality as S; if there is none, the latest of any
-- modality; if there is no study in that window, the event has no reference. (A protocol option may choose the
-- nadir instead [...])"
-- Protocol: "comparing the lesion on the same type of imaging modality as has been used at the start of systemic
-- therapy."
-- docs/decisions.md D11 (ties on the latest date: smallest study_id), D12 (a scan can be an event only after
-- the reference window: S > line start + reference_window_after_days), D15 (nadir: used when a study of the
-- modality of S lies in [window start, S); otherwise the line-start reference).
--
-- The window depends on the line only, so the studies in it are found once per line, not once per scan.
WITH scans AS (
    SELECT scan_lines.*
    FROM scan_lines
    CROSS JOIN params AS p
    WHERE NOT scan_lines.is_cutoff
      AND scan_lines.line_number IS NOT NULL
      AND scan_lines.screening_date > scan_lines.line_start + p.reference_window_after_days
),

studies AS (
    SELECT patient_id, study_id, study_date, modality FROM imaging
),

line_windows AS (
    SELECT DISTINCT
        scans.patient_id,
        scans.context_no,
        scans.line_number,
        scans.line_start - p.reference_window_before_days AS window_start,
        scans.line_start + p.reference_window_after_days AS window_end
    FROM scans
    CROSS JOIN params AS p
),

window_studies AS (
    SELECT line_windows.*, studies.study_id, studies.study_date, studies.modality
    FROM line_windows
    JOIN studies
        ON studies.patient_id = line_windows.patient_id
        AND studies.study_date BETWEEN line_windows.window_start AND line_windows.window_end
),

ranked_window_studies AS (
    SELECT
        window_studies.*,
        row_number() OVER (
            PARTITION BY patient_id, context_no, line_number, modality ORDER BY study_date DESC, study_id
        ) AS rank_in_modality,
        row_number() OVER (
            PARTITION BY patient_id, context_no, line_number ORDER BY study_date DESC, study_id
        ) AS rank_in_window
    FROM window_studies
),

latest_per_modality AS (
    SELECT patient_id, context_no, line_number, modality, study_id, study_date
    FROM ranked_window_studies
    WHERE rank_in_modality = 1
),

latest_any_modality AS (
    SELECT patient_id, context_no, line_number, modality, study_id, study_date
    FROM ranked_window_studies
    WHERE rank_in_window = 1
),

window_modalities AS (
    SELECT patient_id, context_no, line_number, string_agg(DISTINCT modality, ', ' ORDER BY modality) AS modalities
    FROM window_studies
    GROUP BY patient_id, context_no, line_number
),

reference_choice AS (
    SELECT
        scans.*,
        line_windows.window_start,
        line_windows.window_end,
        coalesce(same_modality.study_id, any_modality.study_id) AS reference_study_id,
        coalesce(same_modality.study_date, any_modality.study_date) AS reference_date,
        coalesce(same_modality.modality, any_modality.modality) AS reference_modality,
        window_modalities.modalities AS window_modalities
    FROM scans
    JOIN line_windows
        ON line_windows.patient_id = scans.patient_id
        AND line_windows.context_no = scans.context_no
        AND line_windows.line_number = scans.line_number
    LEFT JOIN latest_per_modality AS same_modality
        ON same_modality.patient_id = scans.patient_id
        AND same_modality.context_no = scans.context_no
        AND same_modality.line_number = scans.line_number
        AND same_modality.modality = scans.modality
    LEFT JOIN latest_any_modality AS any_modality
        ON any_modality.patient_id = scans.patient_id
        AND any_modality.context_no = scans.context_no
        AND any_modality.line_number = scans.line_number
    LEFT JOIN window_modalities
        ON window_modalities.patient_id = scans.patient_id
        AND window_modalities.context_no = scans.context_no
        AND window_modalities.line_number = scans.line_number
),

nadir_scans AS (
    -- D15: the nadir option applies to a scan with a study of its own modality in [window start, S).
    -- Read from the scans (the window start is that of the scan's line), not from reference_choice: read once,
    -- reference_choice streams into the final select instead of being stored. The option is joined first, so
    -- that with the default reference (line_start) DuckDB skips the search altogether.
    SELECT DISTINCT scans.study_id
    FROM scans
    JOIN params AS p ON p.reference = 'nadir'
    JOIN studies
        ON studies.patient_id = scans.patient_id
        AND studies.modality = scans.modality
        AND studies.study_date >= scans.line_start - p.reference_window_before_days
        AND studies.study_date < scans.screening_date
)

SELECT
    reference_choice.*,
    CASE
        WHEN nadir_scans.study_id IS NOT NULL THEN 'nadir'
        WHEN reference_choice.reference_study_id IS NOT NULL THEN 'line_start'
    END AS reference_basis
FROM reference_choice
LEFT JOIN nadir_scans ON nadir_scans.study_id = reference_choice.study_id
