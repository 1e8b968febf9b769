-- Staging: lesion measurements of the studies kept at the cut-off.
-- A lesion has no date of its own: it is known when its study is.
WITH source AS (
    SELECT * FROM typed_lesions
),

kept_studies AS (
    SELECT study_id FROM imaging
)

SELECT
    source._row,
    source.study_id,
    source.patient_id,
    source.lesion_id,
    source.location,
    source.organ,
    source.size_mm,
    source.suv_max
FROM source
WHERE source.study_id IN (SELECT study_id FROM kept_studies)
