-- Derived: the studies on which the oligoprogression rule is assessed for each possible screening scan S:
-- S itself, and every FDG-PET-CT study in the confirmation window.
--
-- criteria.md inc_pet_confirmation: "an FDG-PET-CT study in [S + 35, S + 49] on which the oligoprogression
-- rule (same reference as S) passes". Protocol: "Oligo-progression has to be confirmed with a FDG-PET-CT-scan
-- 6 weeks (42 days) after the first screening scan."
-- docs/decisions.md D17: each such PET is assessed with the lesion rule against S's reference.
WITH scans AS (
    SELECT patient_id, study_id AS scan_id, screening_date, modality, reference_basis, reference_study_id
    FROM reference_studies
),

pet_studies AS (
    SELECT patient_id, study_id, study_date, modality FROM imaging WHERE modality = {{ codes.pet_modality | sql }}
),

screening_scan AS (
    SELECT
        scans.patient_id,
        scans.scan_id,
        scans.reference_basis,
        scans.reference_study_id,
        scans.scan_id AS assessed_id,
        scans.screening_date AS assessed_date,
        scans.modality AS assessed_modality,
        FALSE AS is_confirmation
    FROM scans
),

confirmation_pets AS (
    SELECT
        scans.patient_id,
        scans.scan_id,
        scans.reference_basis,
        scans.reference_study_id,
        pet_studies.study_id,
        pet_studies.study_date,
        pet_studies.modality,
        TRUE
    FROM scans
    CROSS JOIN params AS p
    JOIN pet_studies
        ON pet_studies.patient_id = scans.patient_id
        AND pet_studies.study_date BETWEEN scans.screening_date + p.pet_window_start_days
                                       AND scans.screening_date + p.pet_window_end_days
)

SELECT * FROM screening_scan
UNION ALL
SELECT * FROM confirmation_pets
