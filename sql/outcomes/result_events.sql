-- Outcomes: one row per candidate event (docs/design.md "Engine results": result_events).
--
-- criteria.md "Time": "The unit of screening is the event: a candidate first screening scan S (an imaging study).
-- The planned registration date is R = S + 49 days." Columns in the order of docs/design.md, the 18 criteria in
-- oligo_cohort.criteria.CRITERION_IDS order.
WITH events AS (
    SELECT * FROM unit_outcomes WHERE has_event
)

SELECT
    patient_id,
    site_id,
    event_id,
    screening_date,
    registration_date,
    CAST(line_number AS INTEGER) AS line_number,
    reference_study_id,
    status,
    is_best AS is_best_event,
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
FROM events
