-- Outcomes: the facts behind each criterion of each patient's best unit, 18 rows per patient
-- (docs/design.md "Engine results": result_reasons).
--
-- The reason is a short sentence with the facts that decided the outcome, e.g. "CT S2 against CT ref of
-- 2021-12-27: 3 progressive distant lesions: liver L1, liver L2, lung L3" or "KPS 70 on 2023-01-04: maps to ECOG 1
-- or 2". Each comes from its criterion group's table (criteria_<group>, made from sql/criteria/<group>.sql); the
-- outcome from unit_outcomes. Criteria in oligo_cohort.criteria.CRITERION_IDS order.
--
-- The best units are joined with the five criterion tables once (one wide row per patient), then turned into
-- 18 rows each by a cross join with the list of criteria.
WITH best_units AS (
    SELECT * FROM unit_outcomes WHERE is_best
),

best_unit_reasons AS (
    SELECT
        best_units.*,
        criteria_diagnosis.inc_invasive_breast_cancer_reason,
        criteria_diagnosis.inc_metastatic_reason,
        criteria_imaging.inc_oligoprogression_reason,
        criteria_therapy.inc_therapy_class_reason,
        criteria_therapy.inc_line_1_or_2_reason,
        criteria_therapy.inc_disease_control_6m_reason,
        criteria_imaging.inc_same_modality_reason,
        criteria_imaging.inc_imaging_window_reason,
        criteria_imaging.inc_pet_confirmation_reason,
        criteria_observations.inc_lat_amenable_reason,
        criteria_patient.inc_age_18_reason,
        criteria_patient.inc_who_ps_0_1_reason,
        criteria_observations.inc_informed_consent_reason,
        criteria_therapy.exc_more_than_two_lines_reason,
        criteria_patient.exc_other_malignancy_reason,
        criteria_observations.exc_pregnancy_reason,
        criteria_observations.exc_medical_risk_reason,
        criteria_observations.exc_psychosocial_reason
    FROM best_units
    JOIN criteria_diagnosis ON criteria_diagnosis.unit_id = best_units.unit_id
    JOIN criteria_therapy ON criteria_therapy.unit_id = best_units.unit_id
    JOIN criteria_imaging ON criteria_imaging.unit_id = best_units.unit_id
    JOIN criteria_patient ON criteria_patient.unit_id = best_units.unit_id
    JOIN criteria_observations ON criteria_observations.unit_id = best_units.unit_id
),

criteria_list AS (
    SELECT criterion
    FROM (
        VALUES
            ('inc_invasive_breast_cancer'),
            ('inc_metastatic'),
            ('inc_oligoprogression'),
            ('inc_therapy_class'),
            ('inc_line_1_or_2'),
            ('inc_disease_control_6m'),
            ('inc_same_modality'),
            ('inc_imaging_window'),
            ('inc_pet_confirmation'),
            ('inc_lat_amenable'),
            ('inc_age_18'),
            ('inc_who_ps_0_1'),
            ('inc_informed_consent'),
            ('exc_more_than_two_lines'),
            ('exc_other_malignancy'),
            ('exc_pregnancy'),
            ('exc_medical_risk'),
            ('exc_psychosocial')
    ) AS listed (criterion)
)

SELECT
    best_unit_reasons.patient_id,
    best_unit_reasons.event_id,
    criteria_list.criterion,
    CASE criteria_list.criterion
        WHEN 'inc_invasive_breast_cancer' THEN best_unit_reasons.inc_invasive_breast_cancer
        WHEN 'inc_metastatic' THEN best_unit_reasons.inc_metastatic
        WHEN 'inc_oligoprogression' THEN best_unit_reasons.inc_oligoprogression
        WHEN 'inc_therapy_class' THEN best_unit_reasons.inc_therapy_class
        WHEN 'inc_line_1_or_2' THEN best_unit_reasons.inc_line_1_or_2
        WHEN 'inc_disease_control_6m' THEN best_unit_reasons.inc_disease_control_6m
        WHEN 'inc_same_modality' THEN best_unit_reasons.inc_same_modality
        WHEN 'inc_imaging_window' THEN best_unit_reasons.inc_imaging_window
        WHEN 'inc_pet_confirmation' THEN best_unit_reasons.inc_pet_confirmation
        WHEN 'inc_lat_amenable' THEN best_unit_reasons.inc_lat_amenable
        WHEN 'inc_age_18' THEN best_unit_reasons.inc_age_18
        WHEN 'inc_who_ps_0_1' THEN best_unit_reasons.inc_who_ps_0_1
        WHEN 'inc_informed_consent' THEN best_unit_reasons.inc_informed_consent
        WHEN 'exc_more_than_two_lines' THEN best_unit_reasons.exc_more_than_two_lines
        WHEN 'exc_other_malignancy' THEN best_unit_reasons.exc_other_malignancy
        WHEN 'exc_pregnancy' THEN best_unit_reasons.exc_pregnancy
        WHEN 'exc_medical_risk' THEN best_unit_reasons.exc_medical_risk
        WHEN 'exc_psychosocial' THEN best_unit_reasons.exc_psychosocial
    END AS outcome,
    CASE criteria_list.criterion
        WHEN 'inc_invasive_breast_cancer' THEN best_unit_reasons.inc_invasive_breast_cancer_reason
        WHEN 'inc_metastatic' THEN best_unit_reasons.inc_metastatic_reason
        WHEN 'inc_oligoprogression' THEN best_unit_reasons.inc_oligoprogression_reason
        WHEN 'inc_therapy_class' THEN best_unit_reasons.inc_therapy_class_reason
        WHEN 'inc_line_1_or_2' THEN best_unit_reasons.inc_line_1_or_2_reason
        WHEN 'inc_disease_control_6m' THEN best_unit_reasons.inc_disease_control_6m_reason
        WHEN 'inc_same_modality' THEN best_unit_reasons.inc_same_modality_reason
        WHEN 'inc_imaging_window' THEN best_unit_reasons.inc_imaging_window_reason
        WHEN 'inc_pet_confirmation' THEN best_unit_reasons.inc_pet_confirmation_reason
        WHEN 'inc_lat_amenable' THEN best_unit_reasons.inc_lat_amenable_reason
        WHEN 'inc_age_18' THEN best_unit_reasons.inc_age_18_reason
        WHEN 'inc_who_ps_0_1' THEN best_unit_reasons.inc_who_ps_0_1_reason
        WHEN 'inc_informed_consent' THEN best_unit_reasons.inc_informed_consent_reason
        WHEN 'exc_more_than_two_lines' THEN best_unit_reasons.exc_more_than_two_lines_reason
        WHEN 'exc_other_malignancy' THEN best_unit_reasons.exc_other_malignancy_reason
        WHEN 'exc_pregnancy' THEN best_unit_reasons.exc_pregnancy_reason
        WHEN 'exc_medical_risk' THEN best_unit_reasons.exc_medical_risk_reason
        WHEN 'exc_psychosocial' THEN best_unit_reasons.exc_psychosocial_reason
    END AS reason
FROM best_unit_reasons
CROSS JOIN criteria_list
