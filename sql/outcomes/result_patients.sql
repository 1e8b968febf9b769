-- Outcomes: one row per patient, the outcome of their best event (docs/design.md "Engine results":
-- result_patients).
--
-- criteria.md "Time": "The patient's result is that of the best event [...] A patient with no event still gets a
-- row" (evaluated at S = R = as_of). docs/decisions.md D21: for such a patient event_id and screening_date are
-- NULL.
WITH best_units AS (
    SELECT * FROM unit_outcomes WHERE is_best
)

SELECT
    patient_id,
    site_id,
    status,
    event_id,
    CASE WHEN has_event THEN screening_date END AS screening_date,
    inc_invasive_breast_cancer,
    inc_metastatic,
    inc_oligoprogression,
    inc_therapy_class,
    inc_line_1_or_2,
    inc_disease_control_6m,
    inc_same_modality,
    inc_imaging_window,
    inc_pet_confirmation,
    inc_lat_amenable,
    inc_age_18,
    inc_who_ps_0_1,
    inc_informed_consent,
    exc_more_than_two_lines,
    exc_other_malignancy,
    exc_pregnancy,
    exc_medical_risk,
    exc_psychosocial
FROM best_units
