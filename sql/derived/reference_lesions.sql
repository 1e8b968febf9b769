-- Derived: the reference measurement of every lesion, per reference: a reference study (line-start basis) or, with
-- the nadir option, a screening scan's own nadir.
--
-- criteria.md: a lesion on S "has no measurement on the reference study (a new lesion)"; size and SUV are
-- compared with the reference study's. "(A protocol option may choose the nadir instead: per lesion, the smallest
-- size on same-modality studies from that window up to S.)"
-- docs/decisions.md D13 (a lesion is on the reference when a row with its lesion_id exists there, even with
-- missing sizes), D15 (nadir: smallest size_mm, and for an FDG-PET-CT scan the smallest suv_max, over studies of
-- the modality of S dated in [window start, S)), D62 (a nadir over a missing size or SUV is known only as far as
-- the known values go).
--
-- One row per (reference_basis, reference_key, lesion): reference_size, reference_suv, whether every size (and
-- every SUV) the reference is taken over is known, and whether the SUV comes from FDG-PET-CT (the SUV rule needs
-- PET on both sides). The key is the reference study itself for the
-- line-start basis: every scan of a line shares its reference, so its lesions are listed once, not once per scan
-- (at a national registry's scale, tens of millions of rows fewer). A nadir differs per scan, so its key is the
-- scan. A confirmation PET is compared with the same rows as its scan.
WITH scans AS (
    SELECT patient_id, study_id AS scan_id, screening_date, modality, window_start, reference_basis
    FROM reference_studies
),

line_start_references AS (
    SELECT DISTINCT reference_study_id, reference_modality
    FROM reference_studies
    WHERE reference_basis = 'line_start'
),

line_start_reference AS (
    SELECT
        'line_start' AS reference_basis,
        lesions.study_id AS reference_key,
        lesions.lesion_id,
        lesions.size_mm AS reference_size,
        lesions.suv_max AS reference_suv,
        -- One measurement: a missing one is the reference's NULL itself.
        TRUE AS reference_sizes_known,
        TRUE AS reference_suvs_known,
        line_start_references.reference_modality = {{ codes.pet_modality | sql }} AS reference_is_pet
    FROM lesions
    JOIN line_start_references ON line_start_references.reference_study_id = lesions.study_id
),

nadir_lesion_rows AS (
    SELECT imaging.patient_id, lesions.lesion_id, lesions.size_mm, lesions.suv_max, imaging.study_date,
           imaging.modality
    FROM lesions
    JOIN imaging ON imaging.study_id = lesions.study_id
),

nadir_reference AS (
    SELECT
        'nadir' AS reference_basis,
        scans.scan_id AS reference_key,
        lesion_rows.lesion_id,
        min(lesion_rows.size_mm) AS reference_size,
        min(lesion_rows.suv_max) AS reference_suv,
        -- min() passes over a missing value, which could have been the smallest (D62).
        bool_and(lesion_rows.size_mm IS NOT NULL) AS reference_sizes_known,
        bool_and(lesion_rows.suv_max IS NOT NULL) AS reference_suvs_known,
        scans.modality = {{ codes.pet_modality | sql }} AS reference_is_pet
    FROM scans
    JOIN nadir_lesion_rows AS lesion_rows
        ON lesion_rows.patient_id = scans.patient_id
        AND lesion_rows.modality = scans.modality
        AND lesion_rows.study_date >= scans.window_start
        AND lesion_rows.study_date < scans.screening_date
    WHERE scans.reference_basis = 'nadir'
    GROUP BY scans.scan_id, lesion_rows.lesion_id, scans.modality
)

SELECT reference_basis, reference_key, lesion_id, reference_size, reference_suv, reference_sizes_known,
       reference_suvs_known, reference_is_pet
FROM line_start_reference
UNION ALL
SELECT reference_basis, reference_key, lesion_id, reference_size, reference_suv, reference_sizes_known,
       reference_suvs_known, reference_is_pet
FROM nadir_reference
