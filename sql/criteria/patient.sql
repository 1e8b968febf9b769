-- Criteria: the patient (inc_age_18, inc_who_ps_0_1, exc_other_malignancy), one row per screening unit.
-- Records: inc_age_18, inc_who_ps_0_1, exc_other_malignancy.
-- Decides: inc_age_18, inc_who_ps_0_1, exc_other_malignancy.
--
-- Protocol: "Age >=18"; "World Health Organization (WHO) Performance Status 0 or 1"; exclusion "Other malignancy
-- except carcinoma in situ and basal-cell and squamous cell carcinoma of the skin, unless the other malignancy was
-- treated >=5 years ago with curative intent without the use of chemotherapy or radiation therapy".
-- criteria.md: inc_age_18 "full years at R >= 18 -> pass; < 18 -> fail; no birth date -> unknown".
-- inc_who_ps_0_1 "latest assessment in [S - 60 days, R]: WHO/ECOG <= 1 or KPS >= 80 -> pass; WHO/ECOG >= 2 or
-- KPS <= 60 -> fail; KPS 70 [...], or none -> unknown". exc_other_malignancy "other malignancy = behaviour 3,
-- topography not C50, diagnosed on or before R, not skin (C44) with BCC (8090-8098) or SCC (8050-8084)
-- morphology. It is exempt when intent is curative, chemotherapy and radiotherapy are both false, and
-- last_treatment_date is on or before R - 5 years. Any non-exempt one -> fail; else any whose exemption cannot be
-- decided [...] -> unknown; else pass".
-- docs/decisions.md D3 (full years: a 29 February birthday is reached on 1 March in non-leap years; R - 5 years
-- clamps at month end), D18 (several assessments on the latest date: the worst), D19 (KPS strictly between 60
-- and 80: unknown), D20 (skin C44 without morphology: possibly an other malignancy; Kleene over tumours), D48
-- (the tumour recorded: the first excluding one, else the first undecidable, else the first; in diagnosis order).
WITH units AS (
    SELECT
        screening_units.unit_id,
        screening_units.patient_id,
        screening_units.screening_date,
        screening_units.registration_date,
        screening_units.birth_date,
        -- D3: R - 5 years clamps at month end (29 Feb -> 28 Feb).
        CAST(screening_units.registration_date - to_years(p.other_malignancy_years) AS DATE) AS exemption_date
    FROM screening_units
    CROSS JOIN params AS p
),

assessments AS (
    -- ps_score is an integer fact: BIGINT, as oligo_cohort.facts types it.
    SELECT patient_id, assessment_date, scale, CAST(score AS BIGINT) AS score FROM performance_status
),

other_tumours AS (
    SELECT
        patient_id, tumour_id, diagnosis_date, topography, morphology, treatment_intent, chemotherapy,
        radiotherapy, last_treatment_date
    FROM tumours
    WHERE behaviour = {{ codes.invasive_behaviour | sql }}
      AND topography NOT LIKE {{ codes.breast_topography | sql_prefix }}
),

assessments_in_window AS (
    SELECT
        units.unit_id,
        assessments.assessment_date,
        assessments.scale,
        assessments.score,
        CASE
            WHEN assessments.scale IN ({{ codes.who_scales | sql }})
                AND assessments.score <= {{ codes.who_highest_passing_score }} THEN 'good'
            WHEN assessments.scale IN ({{ codes.who_scales | sql }}) THEN 'poor'
            WHEN assessments.score >= {{ codes.karnofsky_lowest_passing_score }} THEN 'kps_good'
            WHEN assessments.score <= {{ codes.karnofsky_highest_failing_score }} THEN 'kps_poor'
            ELSE 'kps_ambiguous'  -- D19: KPS strictly between 60 and 80 (70 maps to ECOG 1 or 2)
        END AS rule
    FROM units
    CROSS JOIN params AS p
    JOIN assessments
        ON assessments.patient_id = units.patient_id
        AND assessments.assessment_date >= units.screening_date - p.performance_status_window_days
        AND assessments.assessment_date <= units.registration_date
),

latest_assessment AS (
    -- The latest date, and on it (D18) the worst assessment: fail over unknown over pass.
    SELECT *
    FROM (
        SELECT
            assessments_in_window.*,
            row_number() OVER (
                PARTITION BY unit_id
                ORDER BY
                    assessment_date DESC,
                    CASE WHEN rule IN ('poor', 'kps_poor') THEN 0 WHEN rule = 'kps_ambiguous' THEN 1 ELSE 2 END,
                    scale,
                    score
            ) AS preference
        FROM assessments_in_window
    ) AS ranked
    WHERE preference = 1
),

unit_other_tumours AS (
    SELECT
        units.unit_id,
        other_tumours.tumour_id,
        other_tumours.topography,
        other_tumours.morphology,
        other_tumours.diagnosis_date,
        other_tumours.treatment_intent,
        other_tumours.last_treatment_date,
        -- Kleene: skin C44 with unknown morphology may or may not be a BCC/SCC (D20).
        CASE
            WHEN other_tumours.topography NOT LIKE {{ codes.skin_topography | sql_prefix }} THEN TRUE
            WHEN other_tumours.morphology IS NULL THEN NULL
            WHEN other_tumours.morphology {{ codes.basal_cell_morphology | sql_between }} THEN FALSE
            WHEN other_tumours.morphology {{ codes.squamous_cell_morphology | sql_between }} THEN FALSE
            ELSE TRUE
        END AS is_other_malignancy,
        CASE
            WHEN other_tumours.treatment_intent = {{ codes.curative_intent | sql }} THEN TRUE
            WHEN other_tumours.treatment_intent IN ({{ codes.non_curative_intents | sql }}) THEN FALSE
        END AS curative_intent,
        NOT other_tumours.chemotherapy AS without_chemotherapy,
        NOT other_tumours.radiotherapy AS without_radiotherapy,
        -- A missing last treatment date is undecidable only when the diagnosis itself lies far enough back.
        -- D3: R - 5 years clamps at month end (29 Feb -> 28 Feb).
        CASE
            WHEN other_tumours.last_treatment_date IS NOT NULL
                THEN other_tumours.last_treatment_date <= units.exemption_date
            WHEN other_tumours.diagnosis_date > units.exemption_date THEN FALSE
        END AS treated_long_ago
    FROM units
    JOIN other_tumours
        ON other_tumours.patient_id = units.patient_id
        AND other_tumours.diagnosis_date <= units.registration_date
),

tumour_rules AS (
    -- Kleene: the exclusion applies = other malignancy AND NOT exempt; the rule names the first condition that
    -- decides it (for an excluding tumour the first exemption condition that is false, for an undecidable one the
    -- first that is missing).
    SELECT
        unit_other_tumours.*,
        CASE
            WHEN is_other_malignancy
                AND NOT (curative_intent AND without_chemotherapy AND without_radiotherapy AND treated_long_ago)
                THEN CASE
                    WHEN NOT curative_intent THEN 'not_curative'
                    WHEN NOT without_chemotherapy THEN 'chemotherapy'
                    WHEN NOT without_radiotherapy THEN 'radiotherapy'
                    WHEN last_treatment_date IS NOT NULL THEN 'treated_recently'
                    ELSE 'diagnosed_recently'
                END
            WHEN (is_other_malignancy
                AND NOT (curative_intent AND without_chemotherapy AND without_radiotherapy AND treated_long_ago))
                IS NULL
                THEN CASE
                    WHEN is_other_malignancy IS NULL THEN 'skin_morphology_missing'
                    WHEN curative_intent IS NULL THEN 'intent_missing'
                    WHEN without_chemotherapy IS NULL THEN 'chemotherapy_missing'
                    WHEN without_radiotherapy IS NULL THEN 'radiotherapy_missing'
                    ELSE 'last_treatment_missing'
                END
            WHEN NOT is_other_malignancy THEN 'skin_carcinoma'
            ELSE 'exempt'
        END AS rule
    FROM unit_other_tumours
),

deciding_tumour AS (
    -- D48: an excluding tumour, else an undecidable one, else any; the first diagnosed (then the smallest id).
    SELECT *
    FROM (
        SELECT
            tumour_rules.*,
            count(*) OVER (PARTITION BY unit_id) AS other_tumours,
            row_number() OVER (
                PARTITION BY unit_id
                ORDER BY
                    CASE
                        WHEN rule IN ('skin_carcinoma', 'exempt') THEN 2
                        WHEN rule LIKE '%_missing' THEN 1
                        ELSE 0
                    END,
                    diagnosis_date,
                    tumour_id
            ) AS preference
        FROM tumour_rules
    ) AS ranked
    WHERE preference = 1
),

unit_facts AS (
    SELECT
        units.*,
        -- Full years: the birthday counts once its (month, day) is reached; 29 February is reached on 1 March.
        year(units.registration_date) - year(units.birth_date)
            - CASE
                WHEN month(units.registration_date) < month(units.birth_date)
                  OR (month(units.registration_date) = month(units.birth_date)
                      AND day(units.registration_date) < day(units.birth_date))
                    THEN 1
                ELSE 0
            END AS age_years,
        p.min_age_years,
        p.has_performance_status,
        units.screening_date - p.performance_status_window_days AS ps_window_start,
        latest.assessment_date AS ps_date,
        latest.scale AS ps_scale,
        latest.score AS ps_score,
        latest.rule AS ps_rule,
        other.rule AS other_rule,
        other.tumour_id AS other_tumour_id,
        other.topography AS other_topography,
        other.morphology AS other_morphology,
        other.diagnosis_date AS other_diagnosis_date,
        other.treatment_intent AS other_treatment_intent,
        other.last_treatment_date AS other_last_treatment_date,
        coalesce(other.other_tumours, 0) AS other_tumours
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN latest_assessment AS latest ON latest.unit_id = units.unit_id
    LEFT JOIN deciding_tumour AS other ON other.unit_id = units.unit_id
)

SELECT
    unit_id,

    -- inc_age_18: full years at R.
    struct_pack(
        rule := CASE
            WHEN age_years IS NULL THEN 'no_birth_date'
            WHEN age_years >= min_age_years THEN 'adult'
            ELSE 'under_age'
        END,
        registration_date,
        birth_date,
        age_years
    ) AS inc_age_18,

    -- inc_who_ps_0_1: the latest assessment in [S - 60 days, R], the worst on its date.
    struct_pack(
        rule := CASE
            WHEN ps_rule IS NOT NULL THEN ps_rule
            WHEN NOT has_performance_status THEN 'no_performance_table'
            ELSE 'none_in_window'
        END,
        registration_date,
        ps_window_start,
        ps_date,
        ps_scale,
        ps_score
    ) AS inc_who_ps_0_1,

    -- exc_other_malignancy: any non-exempt other malignancy excludes; an undecidable exemption is unknown.
    struct_pack(
        rule := coalesce(other_rule, 'none'),
        registration_date,
        exemption_date,
        other_tumour_id,
        other_topography,
        other_morphology,
        other_diagnosis_date,
        other_treatment_intent,
        other_last_treatment_date,
        other_tumours
    ) AS exc_other_malignancy
FROM unit_facts
