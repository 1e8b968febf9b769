-- Derived: the screening units, every candidate event plus one unit per patient without an event.
--
-- criteria.md "Time": "A patient with no event still gets a row: inc_oligoprogression, inc_same_modality,
-- inc_imaging_window and inc_pet_confirmation fail, and the patient-level criteria are evaluated with
-- S = R = as_of."
-- docs/decisions.md D21: such a unit has no event_id and no screening date in the results.
--
-- unit_id is a key for joining the criterion tables (event_id is NULL for event-less units).
WITH events AS (
    SELECT * FROM candidate_events
),

cutoff_points AS (
    SELECT * FROM scan_lines WHERE is_cutoff
),

line_drugs AS (
    SELECT patient_id, context_no, line_number, drugs, drug_classes, has_known_drug FROM lines_of_therapy
),

patient_sites AS (
    SELECT patient_id, site_id, birth_date, death_date FROM patients
),

patients_without_event AS (
    SELECT cutoff_points.*
    FROM cutoff_points
    WHERE NOT EXISTS (SELECT 1 FROM events WHERE events.patient_id = cutoff_points.patient_id)
),

units AS (
    SELECT
        patient_id,
        event_id,
        screening_date,
        registration_date,
        modality,
        context_no,
        tumour_id,
        lines_started,
        line_number,
        line_start,
        line_end,
        window_start,
        window_end,
        window_modalities,
        reference_study_id,
        reference_date,
        reference_modality,
        reference_basis
    FROM events

    UNION ALL

    -- S = R = as_of; no scan, so no modality, reference window or reference.
    SELECT
        patient_id,
        CAST(NULL AS VARCHAR),
        screening_date,
        screening_date,
        CAST(NULL AS VARCHAR),
        context_no,
        tumour_id,
        lines_started,
        line_number,
        line_start,
        line_end,
        CAST(NULL AS DATE),
        CAST(NULL AS DATE),
        CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR),
        CAST(NULL AS DATE),
        CAST(NULL AS VARCHAR),
        CAST(NULL AS VARCHAR)
    FROM patients_without_event
)

SELECT
    -- A join key only (never shown): numbering without an order costs no sort.
    row_number() OVER () AS unit_id,
    units.patient_id,
    patient_sites.site_id,
    units.event_id,
    units.event_id IS NOT NULL AS has_event,
    units.screening_date,
    units.registration_date,
    units.modality,
    units.context_no,
    units.tumour_id,
    units.lines_started,
    units.line_number,
    units.line_start,
    units.line_end,
    line_drugs.drugs AS line_drugs,
    line_drugs.drug_classes AS line_drug_classes,
    line_drugs.has_known_drug AS line_has_known_drug,
    units.window_start,
    units.window_end,
    units.window_modalities,
    units.reference_study_id,
    units.reference_date,
    units.reference_modality,
    units.reference_basis,
    patient_sites.birth_date,
    patient_sites.death_date
FROM units
JOIN patient_sites ON patient_sites.patient_id = units.patient_id
LEFT JOIN line_drugs
    ON line_drugs.patient_id = units.patient_id
    AND line_drugs.context_no = units.context_no
    AND line_drugs.line_number = units.line_number
