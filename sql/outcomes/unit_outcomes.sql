-- Outcomes: every screening unit with its 18 criterion outcomes, its status, and whether it is the patient's best
-- unit.
--
-- criteria.md "Outcomes": "A patient's status: ineligible if any criterion fails; else unknown if any is unknown;
-- else eligible (the review criteria remain for chart review)." "Time": "The patient's result is that of the best
-- event: fewest fail, then fewest unknown, then earliest S, then smallest study_id."
-- A patient without an event has exactly one (event-less) unit, which is therefore their best.
-- The criterion tables are those of sql/criteria/<group>.sql, named criteria_<group>; their reasons are read
-- only for the best units (result_reasons).
WITH units AS (
    SELECT unit_id, patient_id, site_id, event_id, has_event, screening_date, registration_date, line_number,
           reference_study_id
    FROM screening_units
),

criteria AS (
    SELECT
        units.*,
        criteria_diagnosis.inc_invasive_breast_cancer,
        criteria_diagnosis.inc_metastatic,
        criteria_imaging.inc_oligoprogression,
        criteria_therapy.inc_therapy_class,
        criteria_therapy.inc_line_1_or_2,
        criteria_therapy.inc_disease_control_6m,
        criteria_imaging.inc_same_modality,
        criteria_imaging.inc_imaging_window,
        criteria_imaging.inc_pet_confirmation,
        criteria_observations.inc_lat_amenable,
        criteria_patient.inc_age_18,
        criteria_patient.inc_who_ps_0_1,
        criteria_observations.inc_informed_consent,
        criteria_therapy.exc_more_than_two_lines,
        criteria_patient.exc_other_malignancy,
        criteria_observations.exc_pregnancy,
        criteria_observations.exc_medical_risk,
        criteria_observations.exc_psychosocial
    FROM units
    JOIN criteria_diagnosis ON criteria_diagnosis.unit_id = units.unit_id
    JOIN criteria_therapy ON criteria_therapy.unit_id = units.unit_id
    JOIN criteria_imaging ON criteria_imaging.unit_id = units.unit_id
    JOIN criteria_patient ON criteria_patient.unit_id = units.unit_id
    JOIN criteria_observations ON criteria_observations.unit_id = units.unit_id
),

counted AS (
    SELECT
        criteria.*,
        CASE WHEN inc_invasive_breast_cancer = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_metastatic = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_oligoprogression = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_therapy_class = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_line_1_or_2 = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_disease_control_6m = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_same_modality = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_imaging_window = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_pet_confirmation = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_lat_amenable = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_age_18 = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_who_ps_0_1 = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN inc_informed_consent = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN exc_more_than_two_lines = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN exc_other_malignancy = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN exc_pregnancy = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN exc_medical_risk = 'fail' THEN 1 ELSE 0 END
            + CASE WHEN exc_psychosocial = 'fail' THEN 1 ELSE 0 END AS failed_criteria,
        CASE WHEN inc_invasive_breast_cancer = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_metastatic = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_oligoprogression = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_therapy_class = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_line_1_or_2 = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_disease_control_6m = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_same_modality = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_imaging_window = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_pet_confirmation = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_lat_amenable = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_age_18 = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_who_ps_0_1 = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN inc_informed_consent = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN exc_more_than_two_lines = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN exc_other_malignancy = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN exc_pregnancy = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN exc_medical_risk = 'unknown' THEN 1 ELSE 0 END
            + CASE WHEN exc_psychosocial = 'unknown' THEN 1 ELSE 0 END AS unknown_criteria
    FROM criteria
),

best_unit AS (
    -- Ranked on the few columns that decide it, so the sort carries little.
    SELECT
        unit_id,
        row_number() OVER (
            PARTITION BY patient_id ORDER BY failed_criteria, unknown_criteria, screening_date, event_id
        ) AS preference
    FROM counted
)

SELECT
    counted.*,
    CASE
        WHEN counted.failed_criteria > 0 THEN 'ineligible'
        WHEN counted.unknown_criteria > 0 THEN 'unknown'
        ELSE 'eligible'
    END AS status,
    best_unit.preference = 1 AS is_best
FROM counted
JOIN best_unit ON best_unit.unit_id = counted.unit_id
