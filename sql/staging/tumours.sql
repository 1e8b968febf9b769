-- Staging: primary tumours, as of the data cut-off.
-- A tumour diagnosed after the cut-off is not yet known; a metastasis or a
-- last treatment dated after it is read as missing (docs/decisions.md D2).
WITH source AS (
    SELECT * FROM typed_tumours
),

cutoff AS (
    SELECT as_of FROM run_cutoff
)

SELECT
    source._row,
    source.tumour_id,
    source.patient_id,
    source.diagnosis_date,
    source.topography,
    source.morphology,
    source.behaviour,
    source.basis_of_diagnosis,
    source.tnm_m,
    CASE WHEN source.metastasis_date <= cutoff.as_of THEN source.metastasis_date END AS metastasis_date,
    source.treatment_intent,
    source.chemotherapy,
    source.radiotherapy,
    CASE WHEN source.last_treatment_date <= cutoff.as_of THEN source.last_treatment_date END AS last_treatment_date
FROM source
CROSS JOIN cutoff
WHERE source.diagnosis_date <= cutoff.as_of
