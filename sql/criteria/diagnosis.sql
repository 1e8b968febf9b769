-- Criteria: the breast cancer diagnosis (inc_invasive_breast_cancer, inc_metastatic), one row per screening unit.
-- Records: inc_invasive_breast_cancer, inc_metastatic (each the rule taken and its facts; oligo_cohort.criteria).
-- Decides: inc_invasive_breast_cancer, inc_metastatic.
--
-- Protocol: "Histologically confirmed invasive breast cancer"; "MBC according to TNM-staging".
-- criteria.md inc_invasive_breast_cancer: "index tumour exists and basis_of_diagnosis is histology_primary/
-- histology_metastasis -> pass; no index tumour, or basis cytology/clinical/death_certificate -> fail; basis
-- missing/unknown -> unknown".
-- criteria.md inc_metastatic: "tnm_m = M1, or metastasis_date <= S -> pass; no index tumour, or a metastasis
-- date after S, or tnm_m = M0 with no metastasis date -> fail; else unknown".
-- docs/decisions.md D4 (the index tumour is the latest breast tumour, C50 behaviour 3, diagnosed on or before S),
-- D23 (M1 with a metastasis date after S passes).
WITH units AS (
    SELECT unit_id, patient_id, context_no, has_event, screening_date FROM screening_units
),

index_tumour AS (
    SELECT patient_id, context_no, tumour_id, diagnosis_date, topography, basis_of_diagnosis, tnm_m, metastasis_date
    FROM index_tumours
    WHERE tumour_id IS NOT NULL
),

unit_tumour AS (
    SELECT
        units.unit_id,
        units.has_event,
        units.screening_date,
        index_tumour.tumour_id,
        index_tumour.topography AS tumour_topography,
        index_tumour.diagnosis_date AS tumour_diagnosis_date,
        index_tumour.basis_of_diagnosis,
        index_tumour.tnm_m,
        index_tumour.metastasis_date
    FROM units
    LEFT JOIN index_tumour
        ON index_tumour.patient_id = units.patient_id
        AND index_tumour.context_no = units.context_no
)

SELECT
    unit_id,

    -- inc_invasive_breast_cancer: the index tumour's most valid basis of diagnosis.
    struct_pack(
        rule := CASE
            WHEN tumour_id IS NULL THEN 'no_index_tumour'
            WHEN basis_of_diagnosis IN ({{ codes.histological_bases | sql }}) THEN 'histological'
            WHEN basis_of_diagnosis IN ({{ codes.non_histological_bases | sql }}) THEN 'not_histological'
            ELSE 'basis_not_recorded'
        END,
        has_event,
        screening_date,
        tumour_id,
        tumour_topography,
        tumour_diagnosis_date,
        basis_of_diagnosis
    ) AS inc_invasive_breast_cancer,

    -- inc_metastatic: M1 at diagnosis, or a first distant metastasis on or before S.
    struct_pack(
        rule := CASE
            WHEN tumour_id IS NULL THEN 'no_index_tumour'
            WHEN tnm_m = {{ codes.metastatic_at_diagnosis | sql }} THEN 'm1_at_diagnosis'
            WHEN metastasis_date <= screening_date THEN 'metastasis_by_screening'
            WHEN metastasis_date > screening_date THEN 'metastasis_after_screening'
            WHEN tnm_m = {{ codes.non_metastatic_at_diagnosis | sql }} THEN 'm0_without_metastasis'
            ELSE 'metastasis_not_recorded'
        END,
        has_event,
        screening_date,
        tumour_id,
        tumour_topography,
        tumour_diagnosis_date,
        tnm_m,
        metastasis_date
    ) AS inc_metastatic
FROM unit_tumour
