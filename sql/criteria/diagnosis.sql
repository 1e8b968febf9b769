-- Criteria: the breast cancer diagnosis (inc_invasive_breast_cancer, inc_metastatic), one row per screening unit.
--
-- Protocol: "Histologically confirmed invasive breast cancer"; "MBC according to TNM-staging".
-- criteria.md inc_invasive_breast_cancer: "index tumour exists and basis_of_diagnosis is histology_primary/
-- histology_metastasis -> pass; no index tumour, or basis cytology/clinical/death_certificate -> fail; basis
-- missing/unknown -> unknown".
-- criteria.md inc_metastatic: "tnm_m = M1, or metastasis_date <= S -> pass; no index tumour, or a metastasis
-- date after S, or tnm_m = M0 with no metastasis date -> fail; else unknown".
-- docs/decisions.md D4 (the index tumour is the latest breast tumour, C50 behaviour 3, diagnosed on or before S).
WITH units AS (
    SELECT unit_id, patient_id, context_no, screening_date FROM screening_units
),

index_tumour AS (
    SELECT patient_id, context_no, tumour_id, diagnosis_date, topography, basis_of_diagnosis, tnm_m, metastasis_date
    FROM index_tumours
    WHERE tumour_id IS NOT NULL
),

unit_tumour AS (
    SELECT
        units.unit_id,
        units.screening_date,
        index_tumour.tumour_id,
        index_tumour.diagnosis_date,
        index_tumour.topography,
        index_tumour.basis_of_diagnosis,
        index_tumour.tnm_m,
        index_tumour.metastasis_date,
        'tumour ' || index_tumour.tumour_id || ' (' || index_tumour.topography || ', diagnosed '
            || CAST(index_tumour.diagnosis_date AS VARCHAR) || ')' AS tumour_label
    FROM units
    LEFT JOIN index_tumour
        ON index_tumour.patient_id = units.patient_id
        AND index_tumour.context_no = units.context_no
),

no_index_reason AS (
    SELECT 'no invasive breast tumour (C50, behaviour 3) diagnosed on or before ' AS text
)

SELECT
    unit_tumour.unit_id,

    -- inc_invasive_breast_cancer: the index tumour's most valid basis of diagnosis.
    CASE
        WHEN unit_tumour.tumour_id IS NULL THEN 'fail'
        WHEN unit_tumour.basis_of_diagnosis IN ('histology_primary', 'histology_metastasis') THEN 'pass'
        WHEN unit_tumour.basis_of_diagnosis IN ('cytology', 'clinical', 'death_certificate') THEN 'fail'
        ELSE 'unknown'
    END AS inc_invasive_breast_cancer,
    CASE
        WHEN unit_tumour.tumour_id IS NULL THEN no_index_reason.text || CAST(unit_tumour.screening_date AS VARCHAR)
        WHEN unit_tumour.basis_of_diagnosis IS NULL OR unit_tumour.basis_of_diagnosis = 'unknown'
            THEN unit_tumour.tumour_label || ': basis of diagnosis not recorded'
        ELSE unit_tumour.tumour_label || ': basis of diagnosis ' || unit_tumour.basis_of_diagnosis
    END AS inc_invasive_breast_cancer_reason,

    -- inc_metastatic: M1 at diagnosis, or a first distant metastasis on or before S.
    CASE
        WHEN unit_tumour.tumour_id IS NULL THEN 'fail'
        WHEN unit_tumour.tnm_m = 'M1' OR unit_tumour.metastasis_date <= unit_tumour.screening_date THEN 'pass'
        WHEN unit_tumour.metastasis_date > unit_tumour.screening_date THEN 'fail'
        WHEN unit_tumour.tnm_m = 'M0' AND unit_tumour.metastasis_date IS NULL THEN 'fail'
        ELSE 'unknown'
    END AS inc_metastatic,
    CASE
        WHEN unit_tumour.tumour_id IS NULL THEN no_index_reason.text || CAST(unit_tumour.screening_date AS VARCHAR)
        WHEN unit_tumour.tnm_m = 'M1' THEN unit_tumour.tumour_label || ': M1 at diagnosis'
        WHEN unit_tumour.metastasis_date <= unit_tumour.screening_date
            THEN unit_tumour.tumour_label || ': first distant metastasis '
                || CAST(unit_tumour.metastasis_date AS VARCHAR)
        WHEN unit_tumour.metastasis_date > unit_tumour.screening_date
            THEN unit_tumour.tumour_label || ': first distant metastasis '
                || CAST(unit_tumour.metastasis_date AS VARCHAR) || ', after the screening date '
                || CAST(unit_tumour.screening_date AS VARCHAR)
        ELSE unit_tumour.tumour_label || ': ' || coalesce(unit_tumour.tnm_m, 'M category not recorded')
            || ' and no metastasis date'
    END AS inc_metastatic_reason
FROM unit_tumour
CROSS JOIN no_index_reason
