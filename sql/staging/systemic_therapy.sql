-- Staging: drug exposure episodes, as of the data cut-off, drug names read
-- against the vocabulary.
-- data-model.md: "an end date after the cut-off reads as still ongoing";
-- episodes starting after it are ignored. Brand names, biosimilar suffixes and
-- SC/IV spellings map to the vocabulary's generic name (drug_aliases.csv); an
-- unknown name is kept as written (lower case) and defines lines like any drug.
WITH source AS (
    SELECT * FROM typed_systemic_therapy
),

cutoff AS (
    SELECT as_of FROM run_cutoff
),

vocabulary_names AS (
    SELECT name, drug FROM drug_lookup
)

SELECT
    source._row,
    source.patient_id,
    coalesce(vocabulary_names.drug, source.drug) AS drug,
    source.start_date,
    CASE WHEN source.end_date <= cutoff.as_of THEN source.end_date END AS end_date,
    source.setting
FROM source
CROSS JOIN cutoff
LEFT JOIN vocabulary_names ON vocabulary_names.name = source.drug
WHERE source.start_date <= cutoff.as_of
