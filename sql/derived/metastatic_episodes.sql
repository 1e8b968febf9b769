-- Derived: the drug exposure episodes that count as treatment of metastatic disease, per index-tumour context.
--
-- criteria.md: "Metastatic episodes: setting = metastatic, or setting missing/unknown and start_date >=
-- metastasis_date of the index tumour (the diagnosis date when tnm_m = M1). Adjuvant and neoadjuvant episodes
-- never count. Drugs of class supportive (bone agents, GnRH agonists given for ovarian suppression) never start
-- or define a line." "A drug missing from the vocabulary defines lines like any treatment drug."
-- docs/decisions.md D4 (per context; context 0 counts setting = metastatic only), D5 (episode order: start date,
-- drug name, end date with ongoing last), D6 (regimen membership by component; an unknown drug is its own
-- component), D10 (unknown setting without a metastasis date or M1: not metastatic).
WITH therapy AS (
    SELECT patient_id, drug, start_date, end_date, setting FROM systemic_therapy
),

contexts AS (
    SELECT patient_id, context_no, metastatic_from FROM index_tumours
),

vocabulary AS (
    SELECT drug, drug_class FROM drug_vocabulary
),

regimen_components AS (
    SELECT drug, list(component ORDER BY component) AS components
    FROM drug_components
    GROUP BY drug
),

treatment_episodes AS (
    -- Supportive drugs are left out here, so they neither start nor extend nor define a line.
    SELECT therapy.*, vocabulary.drug_class
    FROM therapy
    LEFT JOIN vocabulary ON vocabulary.drug = therapy.drug
    WHERE vocabulary.drug_class IS NULL OR vocabulary.drug_class <> {{ codes.supportive_drug_class | sql }}
),

metastatic_in_context AS (
    SELECT contexts.context_no, treatment_episodes.*
    FROM treatment_episodes
    JOIN contexts ON contexts.patient_id = treatment_episodes.patient_id
    WHERE treatment_episodes.setting = {{ codes.metastatic_setting | sql }}
       OR (coalesce(treatment_episodes.setting, 'unknown') = 'unknown'
           AND treatment_episodes.start_date >= contexts.metastatic_from)
)

SELECT
    metastatic_in_context.patient_id,
    metastatic_in_context.context_no,
    row_number() OVER (
        PARTITION BY metastatic_in_context.patient_id, metastatic_in_context.context_no
        ORDER BY metastatic_in_context.start_date, metastatic_in_context.drug,
                 metastatic_in_context.end_date NULLS LAST
    ) AS episode_no,
    metastatic_in_context.drug,
    metastatic_in_context.drug_class,
    metastatic_in_context.start_date,
    metastatic_in_context.end_date,
    -- A DuckDB list of regimen components (a Spark array); an unknown drug is its own component.
    coalesce(regimen_components.components, [metastatic_in_context.drug]) AS components
FROM metastatic_in_context
LEFT JOIN regimen_components ON regimen_components.drug = metastatic_in_context.drug
