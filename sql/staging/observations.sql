-- Staging: clinical observations, as of the data cut-off.
-- An observation starting after the cut-off is not yet known; one ending after
-- it still holds at the cut-off (its end reads as missing).
WITH source AS (
    SELECT * FROM typed_observations
),

cutoff AS (
    SELECT as_of FROM run_cutoff
)

SELECT
    source._row,
    source.patient_id,
    source.code,
    source.start_date,
    CASE WHEN source.end_date <= cutoff.as_of THEN source.end_date END AS end_date,
    source.value
FROM source
CROSS JOIN cutoff
WHERE source.start_date <= cutoff.as_of
