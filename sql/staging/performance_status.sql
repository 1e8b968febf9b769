-- Staging: performance status assessments, as of the data cut-off.
WITH source AS (
    SELECT * FROM typed_performance_status
),

cutoff AS (
    SELECT as_of FROM run_cutoff
)

SELECT
    source._row,
    source.patient_id,
    source.assessment_date,
    source.scale,
    source.score
FROM source
CROSS JOIN cutoff
WHERE source.assessment_date <= cutoff.as_of
