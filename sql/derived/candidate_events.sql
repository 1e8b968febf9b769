-- Derived: candidate events, the imaging studies that can be a first screening scan S.
--
-- criteria.md: "Every imaging study during an active metastatic line (after its reference window) with at least
-- one progressive or undetermined lesion is an event." "The unit of screening is the event: a candidate first
-- screening scan S (an imaging study). The planned registration date is R = S + 49 days."
-- docs/decisions.md D12: a metastatic line active at S, S > line start + reference_window_after_days, and at
-- least one progressive or undetermined lesion; a study without lesion rows is no event.
WITH scans AS (
    SELECT * FROM reference_studies
),

rule_on_scan AS (
    SELECT scan_id, definite_distant + undetermined_distant + definite_local + undetermined_local AS candidate_lesions
    FROM oligoprogression
    WHERE NOT is_confirmation
)

SELECT
    scans.patient_id,
    scans.study_id AS event_id,
    scans.screening_date,
    scans.screening_date + p.registration_days AS registration_date,
    scans.modality,
    scans.context_no,
    scans.tumour_id,
    scans.lines_started,
    scans.line_number,
    scans.line_start,
    scans.line_end,
    scans.window_start,
    scans.window_end,
    scans.window_modalities,
    scans.reference_study_id,
    scans.reference_date,
    scans.reference_modality,
    scans.reference_basis
FROM scans
CROSS JOIN params AS p
JOIN rule_on_scan ON rule_on_scan.scan_id = scans.study_id
WHERE rule_on_scan.candidate_lesions >= 1
