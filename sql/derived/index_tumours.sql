-- Derived: the candidate index breast tumours of each patient ("contexts"), with the dates each is the index for.
--
-- criteria.md: "Index breast tumour: the latest tumour with topography C50.x and behaviour 3 diagnosed on or
-- before S." Metastatic episodes are inferred from "the metastasis_date of the index tumour (the diagnosis date
-- when tnm_m = M1)".
-- docs/decisions.md D4: lines are computed per (patient, candidate index tumour), plus "no index tumour"
-- (context 0: only episodes with setting = metastatic count). D10: with neither a metastasis date nor M1 an
-- unknown setting cannot be inferred (metastatic_from stays NULL).
--
-- One row per context: context_no 1, 2, ... for the breast tumours in diagnosis order, valid for screening dates
-- in [valid_from, valid_until); context 0 (tumour_id NULL) before the first breast tumour, only for patients who
-- have no breast tumour or an imaging study dated before it.
WITH breast_tumours AS (
    SELECT patient_id, tumour_id, diagnosis_date, topography, basis_of_diagnosis, tnm_m, metastasis_date
    FROM tumours
    WHERE topography LIKE {{ codes.breast_topography | sql_prefix }}
      AND behaviour = {{ codes.invasive_behaviour | sql }}
),

patient_ids AS (
    SELECT patient_id FROM patients
),

studies AS (
    SELECT patient_id, study_date FROM imaging
),

same_day_ranked AS (
    -- Two breast tumours diagnosed the same day: the smallest tumour_id is the index, the other never is.
    SELECT
        breast_tumours.*,
        row_number() OVER (PARTITION BY patient_id, diagnosis_date ORDER BY tumour_id) AS same_day_rank
    FROM breast_tumours
),

index_candidates AS (
    SELECT
        patient_id,
        tumour_id,
        diagnosis_date,
        topography,
        basis_of_diagnosis,
        tnm_m,
        metastasis_date,
        row_number() OVER (PARTITION BY patient_id ORDER BY diagnosis_date) AS context_no,
        diagnosis_date AS valid_from,
        lead(diagnosis_date) OVER (PARTITION BY patient_id ORDER BY diagnosis_date) AS valid_until
    FROM same_day_ranked
    WHERE same_day_rank = 1
),

first_breast_tumour AS (
    SELECT patient_id, diagnosis_date FROM index_candidates WHERE context_no = 1
),

no_index_context AS (
    -- A scan before any breast tumour was diagnosed has no index tumour; the cut-off never does (it follows
    -- every diagnosis), so context 0 is needed only for such scans or for patients without a breast tumour.
    SELECT patient_ids.patient_id, first_breast_tumour.diagnosis_date AS valid_until
    FROM patient_ids
    LEFT JOIN first_breast_tumour ON first_breast_tumour.patient_id = patient_ids.patient_id
    WHERE first_breast_tumour.patient_id IS NULL
       OR EXISTS (
           SELECT 1 FROM studies
           WHERE studies.patient_id = patient_ids.patient_id
             AND studies.study_date < first_breast_tumour.diagnosis_date
       )
)

SELECT
    patient_id,
    context_no,
    tumour_id,
    valid_from,
    valid_until,
    diagnosis_date,
    topography,
    basis_of_diagnosis,
    tnm_m,
    metastasis_date,
    -- Start of metastatic disease for inferring an unknown setting: the metastasis date, or the diagnosis date
    -- when the tumour was M1 at diagnosis (the earlier of the two if both are recorded).
    CASE
        WHEN tnm_m = {{ codes.metastatic_at_diagnosis | sql }}
            THEN least(diagnosis_date, coalesce(metastasis_date, diagnosis_date))
        ELSE metastasis_date
    END AS metastatic_from
FROM index_candidates

UNION ALL

SELECT
    patient_id,
    0 AS context_no,
    CAST(NULL AS VARCHAR) AS tumour_id,
    CAST(NULL AS DATE) AS valid_from,
    valid_until,
    CAST(NULL AS DATE) AS diagnosis_date,
    CAST(NULL AS VARCHAR) AS topography,
    CAST(NULL AS VARCHAR) AS basis_of_diagnosis,
    CAST(NULL AS VARCHAR) AS tnm_m,
    CAST(NULL AS DATE) AS metastasis_date,
    CAST(NULL AS DATE) AS metastatic_from
FROM no_index_context
