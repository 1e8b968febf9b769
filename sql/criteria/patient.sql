-- Criteria: the patient (inc_age_18, inc_who_ps_0_1, exc_other_malignancy), one row per screening unit.
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
-- and 80: unknown), D20 (skin C44 without morphology: possibly an other malignancy; Kleene over tumours).
WITH units AS (
    SELECT unit_id, patient_id, screening_date, registration_date, birth_date FROM screening_units
),

assessments AS (
    SELECT patient_id, assessment_date, scale, score FROM performance_status
),

other_tumours AS (
    SELECT
        patient_id, tumour_id, diagnosis_date, topography, morphology, treatment_intent, chemotherapy,
        radiotherapy, last_treatment_date
    FROM tumours
    WHERE behaviour = '3' AND topography NOT LIKE 'C50%'
),

assessments_in_window AS (
    SELECT
        units.unit_id,
        assessments.assessment_date,
        assessments.scale,
        assessments.score,
        CASE
            WHEN assessments.scale IN ('WHO', 'ECOG') AND assessments.score <= 1 THEN 'pass'
            WHEN assessments.scale IN ('WHO', 'ECOG') THEN 'fail'
            WHEN assessments.score >= 80 THEN 'pass'
            WHEN assessments.score <= 60 THEN 'fail'
            ELSE 'unknown'  -- D19: KPS strictly between 60 and 80 (70 maps to ECOG 1 or 2)
        END AS outcome
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
                    CASE outcome WHEN 'fail' THEN 0 WHEN 'unknown' THEN 1 ELSE 2 END,
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
        -- Kleene: skin C44 with unknown morphology may or may not be a BCC/SCC (D20).
        CASE
            WHEN other_tumours.topography NOT LIKE 'C44%' THEN TRUE
            WHEN other_tumours.morphology IS NULL THEN NULL
            WHEN other_tumours.morphology BETWEEN '8090' AND '8098' THEN FALSE
            WHEN other_tumours.morphology BETWEEN '8050' AND '8084' THEN FALSE
            ELSE TRUE
        END AS is_other_malignancy,
        CASE
            WHEN other_tumours.treatment_intent = 'curative' THEN TRUE
            WHEN other_tumours.treatment_intent IN ('palliative', 'none') THEN FALSE
        END AS curative_intent,
        NOT other_tumours.chemotherapy AS without_chemotherapy,
        NOT other_tumours.radiotherapy AS without_radiotherapy,
        -- A missing last treatment date is undecidable only when the diagnosis itself lies far enough back.
        -- D3: R - 5 years clamps at month end (29 Feb -> 28 Feb).
        CASE
            WHEN other_tumours.last_treatment_date IS NOT NULL
                THEN other_tumours.last_treatment_date
                    <= CAST(units.registration_date - to_years(p.other_malignancy_years) AS DATE)
            WHEN other_tumours.diagnosis_date
                    > CAST(units.registration_date - to_years(p.other_malignancy_years) AS DATE) THEN FALSE
        END AS treated_long_ago,
        other_tumours.topography || coalesce(' ' || other_tumours.morphology, '') || ' diagnosed '
            || CAST(other_tumours.diagnosis_date AS VARCHAR) AS tumour_label
    FROM units
    CROSS JOIN params AS p
    JOIN other_tumours
        ON other_tumours.patient_id = units.patient_id
        AND other_tumours.diagnosis_date <= units.registration_date
),

tumour_exclusion AS (
    -- Kleene: the exclusion applies = other malignancy AND NOT exempt.
    SELECT
        unit_other_tumours.*,
        is_other_malignancy
            AND NOT (curative_intent AND without_chemotherapy AND without_radiotherapy AND treated_long_ago)
            AS excludes
    FROM unit_other_tumours
),

malignancy_summary AS (
    SELECT
        unit_id,
        bool_or(excludes) AS any_excludes,
        bool_or(excludes IS NULL) AS any_undecided,
        string_agg(CASE WHEN excludes THEN tumour_label END, '; ' ORDER BY tumour_label) AS excluding,
        string_agg(
            CASE WHEN excludes IS NULL THEN tumour_label || ' (' || concat_ws(
                ', ',
                CASE WHEN is_other_malignancy IS NULL THEN 'skin morphology not recorded' END,
                CASE WHEN curative_intent IS NULL THEN 'intent not recorded' END,
                CASE WHEN without_chemotherapy IS NULL THEN 'chemotherapy not recorded' END,
                CASE WHEN without_radiotherapy IS NULL THEN 'radiotherapy not recorded' END,
                CASE WHEN treated_long_ago IS NULL THEN 'last treatment date not recorded' END
            ) || ')' END,
            '; ' ORDER BY tumour_label
        ) AS undecided,
        string_agg(
            CASE WHEN NOT excludes THEN tumour_label || CASE
                WHEN NOT is_other_malignancy THEN ' (skin BCC/SCC)'
                ELSE ' (exempt: curative, no chemotherapy or radiotherapy, treated long enough ago)'
            END END,
            '; ' ORDER BY tumour_label
        ) AS not_excluding
    FROM tumour_exclusion
    GROUP BY unit_id
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
            END AS full_years,
        p.min_age_years,
        p.has_performance_status,
        units.screening_date - p.performance_status_window_days AS performance_window_start,
        latest.assessment_date AS performance_date,
        latest.scale AS performance_scale,
        latest.score AS performance_score,
        latest.outcome AS performance_outcome,
        malignancy.any_excludes,
        malignancy.any_undecided,
        malignancy.excluding,
        malignancy.undecided,
        malignancy.not_excluding
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN latest_assessment AS latest ON latest.unit_id = units.unit_id
    LEFT JOIN malignancy_summary AS malignancy ON malignancy.unit_id = units.unit_id
)

SELECT
    unit_id,

    -- inc_age_18: full years at R.
    CASE
        WHEN full_years IS NULL THEN 'unknown'
        WHEN full_years >= min_age_years THEN 'pass'
        ELSE 'fail'
    END AS inc_age_18,
    CASE
        WHEN full_years IS NULL THEN 'no birth date'
        ELSE 'age ' || CAST(full_years AS VARCHAR) || ' at registration ' || CAST(registration_date AS VARCHAR)
            || ' (born ' || CAST(birth_date AS VARCHAR) || ')'
    END AS inc_age_18_reason,

    -- inc_who_ps_0_1: the latest assessment in [S - 60 days, R].
    coalesce(performance_outcome, 'unknown') AS inc_who_ps_0_1,
    CASE
        WHEN performance_outcome IS NULL AND NOT has_performance_status THEN 'no performance status in the extract'
        WHEN performance_outcome IS NULL
            THEN 'no performance status in [' || CAST(performance_window_start AS VARCHAR) || ', '
                || CAST(registration_date AS VARCHAR) || ']'
        ELSE performance_scale || ' ' || CAST(performance_score AS VARCHAR) || ' on '
            || CAST(performance_date AS VARCHAR) || CASE
                WHEN performance_scale <> 'KPS' THEN ''
                WHEN performance_outcome = 'unknown' THEN ': maps to ECOG 1 or 2'
                WHEN performance_outcome = 'pass' THEN ': maps to ECOG 0 or 1'
                ELSE ': maps to ECOG 2 or worse'
            END
    END AS inc_who_ps_0_1_reason,

    -- exc_other_malignancy: any non-exempt other malignancy excludes; an undecidable exemption is unknown.
    CASE
        WHEN any_excludes THEN 'fail'
        WHEN any_undecided THEN 'unknown'
        ELSE 'pass'
    END AS exc_other_malignancy,
    CASE
        WHEN any_excludes THEN 'other malignancy, not exempt: ' || excluding
        WHEN any_undecided THEN 'exemption undecidable: ' || undecided
        WHEN not_excluding IS NOT NULL THEN 'no excluding malignancy: ' || not_excluding
        ELSE 'no other malignancy diagnosed on or before ' || CAST(registration_date AS VARCHAR)
    END AS exc_other_malignancy_reason
FROM unit_facts
