-- Staging: imaging studies, as of the data cut-off (later studies are ignored).
WITH source AS (
    SELECT * FROM typed_imaging
),

cutoff AS (
    SELECT as_of FROM run_cutoff
)

SELECT
    source._row,
    source.study_id,
    source.patient_id,
    source.study_date,
    source.modality
FROM source
CROSS JOIN cutoff
WHERE source.study_date <= cutoff.as_of
