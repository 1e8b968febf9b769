-- Staging: patients, as of the data cut-off.
-- criteria.md "Time": nothing dated after as_of is used; a death recorded after
-- the cut-off is not yet known on the cut-off date (docs/decisions.md D2).
WITH source AS (
    SELECT * FROM typed_patients
),

cutoff AS (
    SELECT as_of FROM run_cutoff
)

SELECT
    source._row,
    source.patient_id,
    source.site_id,
    source.birth_date,
    source.sex,
    CASE WHEN source.death_date <= cutoff.as_of THEN source.death_date END AS death_date
FROM source
CROSS JOIN cutoff
