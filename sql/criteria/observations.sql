-- Criteria decided by clinical observations or chart review (inc_lat_amenable, inc_informed_consent,
-- exc_pregnancy, exc_medical_risk, exc_psychosocial), one row per screening unit.
-- Records: inc_lat_amenable, inc_informed_consent, exc_pregnancy, exc_medical_risk, exc_psychosocial.
-- Decides: inc_lat_amenable, inc_informed_consent, exc_pregnancy, exc_medical_risk, exc_psychosocial.
--
-- Protocol: "Lesion(s) must be amenable to resection, radiotherapy or radiofrequency ablation with the intent of
-- local obliteration"; "Signed written informed consent before patient registration [...]"; exclusions "Current
-- pregnancy or breastfeeding", "Presence of any medical condition that would place the patient at unusual risk,
-- up to the discretion of the clinician", "Presence of any psychological, familial, sociological, or geographical
-- condition potentially hampering compliance with the study protocol and follow-up schedule".
-- criteria.md: inc_lat_amenable "latest lat_amenable observation on or before R: true -> pass, false -> fail;
-- none -> review". inc_informed_consent "informed_consent observation on or before R: true -> pass, false -> fail;
-- none -> review". exc_pregnancy "no observations table -> review; a true pregnant/breastfeeding observation
-- starting on or before R and not ended before S -> fail; else pass". exc_medical_risk "latest medical_risk
-- observation on or before R: true -> fail, false -> pass, missing value -> unknown; none (or no observations
-- table) -> review"; exc_psychosocial the same of compliance_risk.
-- docs/decisions.md D18 (true and false on the latest date -> review), D31 (informed consent, like lat_amenable,
-- is read from its latest observation on or before R), D43 (a record without a value on the latest date, and no
-- true one that day -> unknown), D49 (the pregnancy recorded: the earliest current one).
WITH units AS (
    SELECT unit_id, patient_id, screening_date, registration_date FROM screening_units
),

observed AS (
    SELECT patient_id, code, start_date, end_date, value FROM observations
),

answers_by_date AS (
    -- Observations read from their latest record on or before R, per date (a date may hold true and false).
    SELECT
        units.unit_id,
        observed.code,
        observed.start_date,
        coalesce(bool_or(observed.value), FALSE) AS any_true,
        coalesce(bool_or(NOT observed.value), FALSE) AS any_false,
        bool_or(observed.value IS NULL) AS any_missing
    FROM units
    JOIN observed
        ON observed.patient_id = units.patient_id
        AND observed.code IN (
            {{ codes.amenability_observation | sql }},
            {{ codes.consent_observation | sql }},
            {{ codes.medical_risk_observation | sql }},
            {{ codes.compliance_risk_observation | sql }}
        )
        AND observed.start_date <= units.registration_date
    GROUP BY units.unit_id, observed.code, observed.start_date
),

latest_answers AS (
    -- The latest date of each code, read as one answer: true and false that day -> conflicting (D18); else a true
    -- record decides; else a record without a value leaves the exclusions unknown (D43) and the inclusions, which
    -- have no unknown outcome, to chart review as if none were recorded; else false.
    SELECT
        unit_id,
        code,
        start_date AS observation_date,
        CASE
            WHEN any_true AND any_false THEN 'conflicting'
            WHEN any_true THEN 'recorded_true'
            WHEN any_missing
                AND code IN ({{ codes.medical_risk_observation | sql }}, {{ codes.compliance_risk_observation | sql }})
                THEN 'recorded_without_value'
            WHEN any_missing THEN 'not_recorded'
            ELSE 'recorded_false'
        END AS rule
    FROM (
        SELECT
            answers_by_date.*,
            row_number() OVER (PARTITION BY unit_id, code ORDER BY start_date DESC) AS recency
        FROM answers_by_date
    ) AS ranked
    WHERE recency = 1
),

current_pregnancies AS (
    -- A true pregnant/breastfeeding observation starting on or before R and not ended before S; D49: the
    -- earliest started (then by code, then the one not ended or ending last).
    SELECT unit_id, code AS pregnancy_code, start_date AS pregnancy_start, end_date AS pregnancy_end
    FROM (
        SELECT
            units.unit_id,
            observed.code,
            observed.start_date,
            observed.end_date,
            row_number() OVER (
                PARTITION BY units.unit_id
                ORDER BY observed.start_date, observed.code, observed.end_date DESC NULLS FIRST
            ) AS preference
        FROM units
        JOIN observed
            ON observed.patient_id = units.patient_id
            AND observed.code IN ({{ codes.pregnancy_observations | sql }})
            AND observed.value
            AND observed.start_date <= units.registration_date
            AND (observed.end_date IS NULL OR observed.end_date >= units.screening_date)
    ) AS ranked
    WHERE preference = 1
),

unit_facts AS (
    SELECT
        units.*,
        p.has_observations,
        -- The rule of an observation criterion with no answer: chart review, or no observations table at all.
        CASE WHEN p.has_observations THEN 'not_recorded' ELSE 'no_observations_table' END AS unanswered_rule,
        lat_amenable.rule AS lat_amenable_rule,
        lat_amenable.observation_date AS lat_amenable_date,
        informed_consent.rule AS informed_consent_rule,
        informed_consent.observation_date AS informed_consent_date,
        medical_risk.rule AS medical_risk_rule,
        medical_risk.observation_date AS medical_risk_date,
        compliance_risk.rule AS compliance_risk_rule,
        compliance_risk.observation_date AS compliance_risk_date,
        current_pregnancies.pregnancy_code,
        current_pregnancies.pregnancy_start,
        current_pregnancies.pregnancy_end
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN latest_answers AS lat_amenable
        ON lat_amenable.unit_id = units.unit_id
        AND lat_amenable.code = {{ codes.amenability_observation | sql }}
    LEFT JOIN latest_answers AS informed_consent
        ON informed_consent.unit_id = units.unit_id
        AND informed_consent.code = {{ codes.consent_observation | sql }}
    LEFT JOIN latest_answers AS medical_risk
        ON medical_risk.unit_id = units.unit_id
        AND medical_risk.code = {{ codes.medical_risk_observation | sql }}
    LEFT JOIN latest_answers AS compliance_risk
        ON compliance_risk.unit_id = units.unit_id
        AND compliance_risk.code = {{ codes.compliance_risk_observation | sql }}
    LEFT JOIN current_pregnancies ON current_pregnancies.unit_id = units.unit_id
)

SELECT
    unit_id,

    -- inc_lat_amenable: the latest lat_amenable observation on or before R, else chart review.
    struct_pack(
        rule := coalesce(lat_amenable_rule, unanswered_rule),
        registration_date,
        observation_date := lat_amenable_date
    ) AS inc_lat_amenable,

    -- inc_informed_consent: the latest informed_consent observation on or before R, else chart review.
    struct_pack(
        rule := coalesce(informed_consent_rule, unanswered_rule),
        registration_date,
        observation_date := informed_consent_date
    ) AS inc_informed_consent,

    -- exc_pregnancy: an extract with observations is taken to record pregnancies; without them, chart review.
    struct_pack(
        rule := CASE
            WHEN NOT has_observations THEN 'no_observations_table'
            WHEN pregnancy_code IS NOT NULL THEN 'current'
            ELSE 'none_current'
        END,
        screening_date,
        registration_date,
        pregnancy_code,
        pregnancy_start,
        pregnancy_end
    ) AS exc_pregnancy,

    -- exc_medical_risk: the latest medical_risk observation on or before R (true: the risk excludes).
    struct_pack(
        rule := coalesce(medical_risk_rule, unanswered_rule),
        registration_date,
        observation_date := medical_risk_date
    ) AS exc_medical_risk,

    -- exc_psychosocial: the latest compliance_risk observation on or before R (true: the risk excludes).
    struct_pack(
        rule := coalesce(compliance_risk_rule, unanswered_rule),
        registration_date,
        observation_date := compliance_risk_date
    ) AS exc_psychosocial
FROM unit_facts
