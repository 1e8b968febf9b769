-- Criteria decided by clinical observations or chart review (inc_lat_amenable, inc_informed_consent,
-- exc_pregnancy, exc_medical_risk, exc_psychosocial), one row per screening unit.
--
-- Protocol: "Lesion(s) must be amenable to resection, radiotherapy or radiofrequency ablation with the intent of
-- local obliteration"; "Signed written informed consent before patient registration [...]"; exclusions "Current
-- pregnancy or breastfeeding", "Presence of any medical condition that would place the patient at unusual risk,
-- up to the discretion of the clinician", "Presence of any psychological, familial, sociological, or geographical
-- condition potentially hampering compliance with the study protocol and follow-up schedule".
-- criteria.md: inc_lat_amenable "latest lat_amenable observation on or before R: true -> pass, false -> fail;
-- none -> review". inc_informed_consent "informed_consent observation on or before R: true -> pass, false -> fail;
-- none -> review". exc_pregnancy "no observations table -> review; a true pregnant/breastfeeding observation
-- starting on or before R and not ended before S -> fail; else pass". exc_medical_risk / exc_psychosocial "latest
-- medical_risk / compliance_risk observation on or before R: true -> fail, false -> pass, missing value ->
-- unknown; none (or no observations table) -> review".
-- docs/decisions.md D18 (true and false on the latest date -> review), D31 (informed consent is read from its
-- latest observation on or before R, like lat_amenable), D43 (a record without a value on the latest date, and no
-- true one that day -> unknown).
WITH units AS (
    SELECT unit_id, patient_id, screening_date, registration_date FROM screening_units
),

observed AS (
    SELECT patient_id, code, start_date, end_date, value FROM observations
),

answers_by_date AS (
    -- The codes decided by their latest record on or before R, per date: a date may hold true and false, or a
    -- record without a value (only tables that bypass the loader can hold one: the data model requires a value).
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
        AND observed.code IN ('lat_amenable', 'informed_consent', 'medical_risk', 'compliance_risk')
        AND observed.start_date <= units.registration_date
    GROUP BY units.unit_id, observed.code, observed.start_date
),

latest_answers AS (
    -- The latest date of each code, read as one answer: true and false that day -> both (D18); else a true
    -- record -> true; else a record without a value -> missing (D43); else false.
    SELECT
        unit_id,
        code,
        start_date,
        CASE
            WHEN any_true AND any_false THEN 'both'
            WHEN any_true THEN 'true'
            WHEN any_missing THEN 'missing'
            ELSE 'false'
        END AS answer,
        code || CASE
            WHEN any_true AND any_false THEN ' both true and false on ' || CAST(start_date AS VARCHAR)
                || ': chart review'
            WHEN any_true THEN ' true on ' || CAST(start_date AS VARCHAR)
            WHEN any_missing THEN ' recorded without a value on ' || CAST(start_date AS VARCHAR)
            ELSE ' false on ' || CAST(start_date AS VARCHAR)
        END AS reason
    FROM (
        SELECT
            answers_by_date.*,
            row_number() OVER (PARTITION BY unit_id, code ORDER BY start_date DESC) AS recency
        FROM answers_by_date
    ) AS ranked
    WHERE recency = 1
),

pregnancies AS (
    -- A true pregnant/breastfeeding observation starting on or before R and not ended before S.
    SELECT
        units.unit_id,
        min(observed.code || ' from ' || CAST(observed.start_date AS VARCHAR)
            || coalesce(' to ' || CAST(observed.end_date AS VARCHAR), ' (not ended)')) AS current_pregnancy
    FROM units
    JOIN observed
        ON observed.patient_id = units.patient_id
        AND observed.code IN ('pregnant', 'breastfeeding')
        AND observed.value
        AND observed.start_date <= units.registration_date
        AND (observed.end_date IS NULL OR observed.end_date >= units.screening_date)
    GROUP BY units.unit_id
),

unit_facts AS (
    SELECT
        units.*,
        p.has_observations,
        'no observations table in the extract: chart review' AS no_table_reason,
        lat_amenable.answer AS lat_amenable_answer,
        lat_amenable.reason AS lat_amenable_reason,
        informed_consent.answer AS informed_consent_answer,
        informed_consent.reason AS informed_consent_reason,
        medical_risk.answer AS medical_risk_answer,
        medical_risk.reason AS medical_risk_reason,
        compliance_risk.answer AS compliance_risk_answer,
        compliance_risk.reason AS compliance_risk_reason,
        pregnancies.current_pregnancy
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN latest_answers AS lat_amenable
        ON lat_amenable.unit_id = units.unit_id
        AND lat_amenable.code = 'lat_amenable'
    LEFT JOIN latest_answers AS informed_consent
        ON informed_consent.unit_id = units.unit_id
        AND informed_consent.code = 'informed_consent'
    LEFT JOIN latest_answers AS medical_risk
        ON medical_risk.unit_id = units.unit_id
        AND medical_risk.code = 'medical_risk'
    LEFT JOIN latest_answers AS compliance_risk
        ON compliance_risk.unit_id = units.unit_id
        AND compliance_risk.code = 'compliance_risk'
    LEFT JOIN pregnancies ON pregnancies.unit_id = units.unit_id
)

SELECT
    unit_id,

    -- inc_lat_amenable: the latest lat_amenable observation on or before R, else chart review.
    CASE lat_amenable_answer
        WHEN 'true' THEN 'pass'
        WHEN 'false' THEN 'fail'
        WHEN 'missing' THEN 'unknown'
        ELSE 'review'
    END AS inc_lat_amenable,
    coalesce(
        lat_amenable_reason,
        'no lat_amenable observation on or before registration ' || CAST(registration_date AS VARCHAR)
            || ': chart review'
    ) AS inc_lat_amenable_reason,

    -- inc_informed_consent: the latest informed_consent observation on or before R, else chart review.
    CASE informed_consent_answer
        WHEN 'true' THEN 'pass'
        WHEN 'false' THEN 'fail'
        WHEN 'missing' THEN 'unknown'
        ELSE 'review'
    END AS inc_informed_consent,
    coalesce(
        informed_consent_reason,
        'no informed_consent observation on or before registration ' || CAST(registration_date AS VARCHAR)
            || ': chart review'
    ) AS inc_informed_consent_reason,

    -- exc_pregnancy: an extract with observations is taken to record pregnancies; without them, chart review.
    CASE
        WHEN NOT has_observations THEN 'review'
        WHEN current_pregnancy IS NOT NULL THEN 'fail'
        ELSE 'pass'
    END AS exc_pregnancy,
    CASE
        WHEN NOT has_observations THEN no_table_reason
        WHEN current_pregnancy IS NOT NULL THEN current_pregnancy
        ELSE 'no pregnancy or breastfeeding recorded between ' || CAST(screening_date AS VARCHAR) || ' and '
            || CAST(registration_date AS VARCHAR)
    END AS exc_pregnancy_reason,

    -- exc_medical_risk: the latest medical_risk observation on or before R (true = a condition of unusual risk).
    CASE medical_risk_answer
        WHEN 'true' THEN 'fail'
        WHEN 'false' THEN 'pass'
        WHEN 'missing' THEN 'unknown'
        ELSE 'review'
    END AS exc_medical_risk,
    CASE
        WHEN medical_risk_reason IS NOT NULL THEN medical_risk_reason
        WHEN NOT has_observations THEN no_table_reason
        ELSE 'no medical_risk observation on or before registration ' || CAST(registration_date AS VARCHAR)
            || ': chart review'
    END AS exc_medical_risk_reason,

    -- exc_psychosocial: the latest compliance_risk observation on or before R (true = compliance hampered).
    CASE compliance_risk_answer
        WHEN 'true' THEN 'fail'
        WHEN 'false' THEN 'pass'
        WHEN 'missing' THEN 'unknown'
        ELSE 'review'
    END AS exc_psychosocial,
    CASE
        WHEN compliance_risk_reason IS NOT NULL THEN compliance_risk_reason
        WHEN NOT has_observations THEN no_table_reason
        ELSE 'no compliance_risk observation on or before registration ' || CAST(registration_date AS VARCHAR)
            || ': chart review'
    END AS exc_psychosocial_reason
FROM unit_facts
