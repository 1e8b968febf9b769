-- Outcomes: the facts behind each criterion of each patient's best unit, 18 rows per patient
-- (docs/design.md "Engine results": result_reasons).
--
-- The reason is a short sentence with the facts that decided the outcome, e.g. "CT S2 against CT ref of
-- 2021-12-27: 3 progressive distant lesions: liver L1, liver L2, lung L3" or "KPS 70 on 2023-01-04: maps to ECOG 1
-- or 2". Each comes from its criterion group's table (criteria_<group>, made from sql/criteria/<group>.sql); the
-- outcome from unit_outcomes. Criteria in oligo_cohort.criteria.CRITERION_IDS order.
WITH best_units AS (
    SELECT * FROM unit_outcomes WHERE is_best
)

SELECT best_units.patient_id, best_units.event_id, 'inc_invasive_breast_cancer' AS criterion,
       best_units.inc_invasive_breast_cancer AS outcome, criteria_diagnosis.inc_invasive_breast_cancer_reason AS reason
FROM best_units JOIN criteria_diagnosis USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_metastatic' AS criterion,
       best_units.inc_metastatic AS outcome, criteria_diagnosis.inc_metastatic_reason AS reason
FROM best_units JOIN criteria_diagnosis USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_oligoprogression' AS criterion,
       best_units.inc_oligoprogression AS outcome, criteria_imaging.inc_oligoprogression_reason AS reason
FROM best_units JOIN criteria_imaging USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_therapy_class' AS criterion,
       best_units.inc_therapy_class AS outcome, criteria_therapy.inc_therapy_class_reason AS reason
FROM best_units JOIN criteria_therapy USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_line_1_or_2' AS criterion,
       best_units.inc_line_1_or_2 AS outcome, criteria_therapy.inc_line_1_or_2_reason AS reason
FROM best_units JOIN criteria_therapy USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_disease_control_6m' AS criterion,
       best_units.inc_disease_control_6m AS outcome, criteria_therapy.inc_disease_control_6m_reason AS reason
FROM best_units JOIN criteria_therapy USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_same_modality' AS criterion,
       best_units.inc_same_modality AS outcome, criteria_imaging.inc_same_modality_reason AS reason
FROM best_units JOIN criteria_imaging USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_imaging_window' AS criterion,
       best_units.inc_imaging_window AS outcome, criteria_imaging.inc_imaging_window_reason AS reason
FROM best_units JOIN criteria_imaging USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_pet_confirmation' AS criterion,
       best_units.inc_pet_confirmation AS outcome, criteria_imaging.inc_pet_confirmation_reason AS reason
FROM best_units JOIN criteria_imaging USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_lat_amenable' AS criterion,
       best_units.inc_lat_amenable AS outcome, criteria_observations.inc_lat_amenable_reason AS reason
FROM best_units JOIN criteria_observations USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_age_18' AS criterion,
       best_units.inc_age_18 AS outcome, criteria_patient.inc_age_18_reason AS reason
FROM best_units JOIN criteria_patient USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_who_ps_0_1' AS criterion,
       best_units.inc_who_ps_0_1 AS outcome, criteria_patient.inc_who_ps_0_1_reason AS reason
FROM best_units JOIN criteria_patient USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'inc_informed_consent' AS criterion,
       best_units.inc_informed_consent AS outcome, criteria_observations.inc_informed_consent_reason AS reason
FROM best_units JOIN criteria_observations USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'exc_more_than_two_lines' AS criterion,
       best_units.exc_more_than_two_lines AS outcome, criteria_therapy.exc_more_than_two_lines_reason AS reason
FROM best_units JOIN criteria_therapy USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'exc_other_malignancy' AS criterion,
       best_units.exc_other_malignancy AS outcome, criteria_patient.exc_other_malignancy_reason AS reason
FROM best_units JOIN criteria_patient USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'exc_pregnancy' AS criterion,
       best_units.exc_pregnancy AS outcome, criteria_observations.exc_pregnancy_reason AS reason
FROM best_units JOIN criteria_observations USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'exc_medical_risk' AS criterion,
       best_units.exc_medical_risk AS outcome, criteria_observations.exc_medical_risk_reason AS reason
FROM best_units JOIN criteria_observations USING (unit_id)

UNION ALL

SELECT best_units.patient_id, best_units.event_id, 'exc_psychosocial' AS criterion,
       best_units.exc_psychosocial AS outcome, criteria_observations.exc_psychosocial_reason AS reason
FROM best_units JOIN criteria_observations USING (unit_id)
