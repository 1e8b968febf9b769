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
-- starting on or before R and not ended before S -> fail; else pass". exc_medical_risk, exc_psychosocial: review.
-- docs/decisions.md D18 (true and false on the latest date -> review; informed consent, like lat_amenable, is
-- read from its latest observation on or before R).
WITH units AS (
    SELECT unit_id, patient_id, screening_date, registration_date FROM screening_units
),

observed AS (
    SELECT patient_id, code, start_date, end_date, value FROM observations
),

answers_by_date AS (
    -- lat_amenable and informed_consent recorded on or before R, per date (a date may hold true and false).
    SELECT
        units.unit_id,
        observed.code,
        observed.start_date,
        bool_or(observed.value) AS any_true,
        bool_or(NOT observed.value) AS any_false
    FROM units
    JOIN observed
        ON observed.patient_id = units.patient_id
        AND observed.code IN ('lat_amenable', 'informed_consent')
        AND observed.start_date <= units.registration_date
    GROUP BY units.unit_id, observed.code, observed.start_date
),

latest_answers AS (
    -- The latest date of each code; D18: true and false on it -> review.
    SELECT
        unit_id,
        code,
        CASE
            WHEN any_true AND any_false THEN 'review'
            WHEN any_true THEN 'pass'
            ELSE 'fail'
        END AS outcome,
        code || CASE
            WHEN any_true AND any_false
                THEN ' both true and false on ' || CAST(start_date AS VARCHAR) || ': chart review'
            WHEN any_true THEN ' true on ' || CAST(start_date AS VARCHAR)
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
        lat_amenable.outcome AS lat_amenable_outcome,
        lat_amenable.reason AS lat_amenable_answer,
        informed_consent.outcome AS informed_consent_outcome,
        informed_consent.reason AS informed_consent_answer,
        pregnancies.current_pregnancy
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN latest_answers AS lat_amenable
        ON lat_amenable.unit_id = units.unit_id
        AND lat_amenable.code = 'lat_amenable'
    LEFT JOIN latest_answers AS informed_consent
        ON informed_consent.unit_id = units.unit_id
        AND informed_consent.code = 'informed_consent'
    LEFT JOIN pregnancies ON pregnancies.unit_id = units.unit_id
)

SELECT
    unit_id,

    -- inc_lat_amenable: the latest lat_amenable observation on or before R, else chart review.
    coalesce(lat_amenable_outcome, 'review') AS inc_lat_amenable,
    coalesce(
        lat_amenable_answer,
        'no lat_amenable observation on or before registration ' || CAST(registration_date AS VARCHAR)
            || ': chart review'
    ) AS inc_lat_amenable_reason,

    -- inc_informed_consent: the latest informed_consent observation on or before R, else chart review.
    coalesce(informed_consent_outcome, 'review') AS inc_informed_consent,
    coalesce(
        informed_consent_answer,
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
        WHEN NOT has_observations THEN 'no observations in the extract: chart review'
        WHEN current_pregnancy IS NOT NULL THEN current_pregnancy
        ELSE 'no pregnancy or breastfeeding recorded between ' || CAST(screening_date AS VARCHAR) || ' and '
            || CAST(registration_date AS VARCHAR)
    END AS exc_pregnancy_reason,

    -- exc_medical_risk and exc_psychosocial: never in registry data.
    'review' AS exc_medical_risk,
    'medical risk is the clinician''s judgement: chart review' AS exc_medical_risk_reason,
    'review' AS exc_psychosocial,
    'psychosocial and geographical conditions are not in registry data: chart review' AS exc_psychosocial_reason
FROM unit_facts
