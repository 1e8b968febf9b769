-- Criteria: the imaging of the event (inc_oligoprogression, inc_same_modality, inc_imaging_window,
-- inc_pet_confirmation), one row per screening unit.
-- Records: inc_oligoprogression, inc_same_modality, inc_imaging_window, inc_pet_confirmation.
-- Decides: inc_same_modality, inc_imaging_window, inc_pet_confirmation (inc_oligoprogression is decided per study
-- in derived/oligoprogression.sql; its verdict on S is recorded here).
--
-- Protocol: "Oligoprogression defined as one or two distant metastatic lesions, limited to one organ, or the
-- primary tumor or locoregional lymph nodes [...]"; "Oligoprogression has to be detected with radiological imaging
-- comparing the lesion on the same type of imaging modality as has been used at the start of systemic therapy.";
-- "The radiological imaging that shows progression must be performed within 49 (+/- 3) days prior to
-- registration."; "Oligo-progression has to be confirmed with a FDG-PET-CT-scan 6 weeks (42 days) after the
-- first screening scan."
-- criteria.md: inc_same_modality "reference study has the modality of S -> pass; studies in the reference window
-- but none of that modality -> fail; no study in the window -> unknown". inc_imaging_window "death before S + 46
-- -> fail; in worklist mode also as_of > S + 52 (window closed) -> fail; else pass". inc_pet_confirmation "an
-- FDG-PET-CT study in [S + 35, S + 49] on which the oligoprogression rule (same reference as S) passes -> pass
-- [...] Only ones on which it fails, or none while as_of >= S + 49 -> fail; one on which it is unknown (and none
-- passes), or none yet while as_of < S + 49 -> unknown (pending)". "A patient with no event [...]:
-- inc_oligoprogression, inc_same_modality, inc_imaging_window and inc_pet_confirmation fail".
-- docs/decisions.md D17 (confirmation PETs assessed against S's reference), D22 (death on S + 46 itself passes),
-- D29 (a confirmation PET without lesion rows fails; every PET so far failing fails while the window is open).
WITH units AS (
    SELECT
        unit_id,
        event_id,
        has_event,
        screening_date,
        modality,
        death_date,
        window_start,
        window_end,
        window_modalities,
        reference_study_id,
        reference_date,
        reference_modality,
        reference_basis,
        registration_date
    FROM screening_units
),

rule_on_scan AS (
    -- Only the events' scans: oligoprogression holds every scan that could have been one, three times as many,
    -- and the join would otherwise hash them all (a third of this model at 250,000 patients).
    SELECT scan_id, outcome FROM oligoprogression
    WHERE NOT is_confirmation AND scan_id IN (SELECT event_id FROM units WHERE has_event)
),

assessed_lesions AS (
    SELECT scan_id, assessed_id, lesion_id, location, organ, progressive FROM progressing_lesions
),

rule_on_confirmations AS (
    SELECT
        scan_id,
        assessed_id,
        assessed_date,
        outcome,
        -- The PET that speaks for the outcome: a passing one, else an undecided one, else a failing one;
        -- the earliest of those.
        row_number() OVER (
            PARTITION BY scan_id
            ORDER BY CASE outcome WHEN 'pass' THEN 0 WHEN 'unknown' THEN 1 ELSE 2 END, assessed_date, assessed_id
        ) AS preference
    FROM oligoprogression
    WHERE is_confirmation
),

described_studies AS (
    -- The studies whose lesions the facts name: each event's scan and the confirmation PET that decided it.
    SELECT event_id AS scan_id, event_id AS assessed_id FROM units WHERE has_event

    UNION ALL

    SELECT scan_id, assessed_id FROM rule_on_confirmations WHERE preference = 1
),

lesion_lists AS (
    -- Progressive (TRUE) and undetermined (NULL) lesions, labelled "organ lesion_id".
    SELECT
        assessed_lesions.scan_id,
        assessed_lesions.assessed_id,
        list(assessed_lesions.organ || ' ' || assessed_lesions.lesion_id) FILTER (
            WHERE assessed_lesions.location = {{ codes.distant_location | sql }} AND assessed_lesions.progressive
        ) AS distant_lesions,
        list(assessed_lesions.organ || ' ' || assessed_lesions.lesion_id) FILTER (
            WHERE assessed_lesions.location <> {{ codes.distant_location | sql }} AND assessed_lesions.progressive
        ) AS local_lesions,
        list(assessed_lesions.organ || ' ' || assessed_lesions.lesion_id) FILTER (
            WHERE assessed_lesions.progressive IS NULL
        ) AS undetermined_lesions
    FROM described_studies
    JOIN assessed_lesions
        ON assessed_lesions.scan_id = described_studies.scan_id
        AND assessed_lesions.assessed_id = described_studies.assessed_id
    WHERE assessed_lesions.progressive OR assessed_lesions.progressive IS NULL
    GROUP BY assessed_lesions.scan_id, assessed_lesions.assessed_id
),

unit_facts AS (
    -- Everything the four criteria read, one row per unit.
    SELECT
        units.*,
        rule_on_scan.outcome AS scan_outcome,
        scan_lesions.distant_lesions,
        scan_lesions.local_lesions,
        scan_lesions.undetermined_lesions,
        confirmation.assessed_id AS pet_study_id,
        confirmation.assessed_date AS pet_date,
        date_diff('day', units.screening_date, confirmation.assessed_date) AS pet_days_after_scan,
        confirmation.outcome AS pet_outcome,
        pet_lesions.distant_lesions AS pet_distant_lesions,
        pet_lesions.local_lesions AS pet_local_lesions,
        pet_lesions.undetermined_lesions AS pet_undetermined_lesions,
        units.screening_date + p.imaging_window_earliest_days AS earliest_registration,
        units.screening_date + p.imaging_window_latest_days AS latest_registration,
        units.screening_date + p.pet_window_start_days AS pet_window_start,
        units.screening_date + p.pet_window_end_days AS pet_window_end,
        p.worklist,
        p.as_of AS cutoff_date
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN rule_on_scan ON rule_on_scan.scan_id = units.event_id
    LEFT JOIN lesion_lists AS scan_lesions
        ON scan_lesions.scan_id = units.event_id
        AND scan_lesions.assessed_id = units.event_id
    LEFT JOIN rule_on_confirmations AS confirmation
        ON confirmation.scan_id = units.event_id
        AND confirmation.preference = 1
    LEFT JOIN lesion_lists AS pet_lesions
        ON pet_lesions.scan_id = confirmation.scan_id
        AND pet_lesions.assessed_id = confirmation.assessed_id
)

SELECT
    unit_id,

    -- inc_oligoprogression: the rule on S against its reference (derived/oligoprogression.sql).
    struct_pack(
        rule := CASE
            WHEN NOT has_event THEN 'no_candidate_event'
            WHEN scan_outcome = 'pass' THEN 'oligoprogressive'
            WHEN scan_outcome = 'fail' THEN 'not_oligoprogressive'
            ELSE 'undecided'
        END,
        screening_date,
        scan_study_id := event_id,
        scan_modality := modality,
        reference_basis,
        reference_study_id,
        reference_modality,
        reference_date,
        distant_lesions,
        local_lesions,
        undetermined_lesions
    ) AS inc_oligoprogression,

    -- inc_same_modality: the reference has the modality of S.
    struct_pack(
        rule := CASE
            WHEN NOT has_event THEN 'no_candidate_event'
            WHEN reference_modality = modality THEN 'same_modality'
            WHEN reference_study_id IS NOT NULL THEN 'other_modality'
            ELSE 'no_study_near_line_start'
        END,
        scan_modality := modality,
        reference_study_id,
        reference_date,
        window_start,
        window_end,
        window_modalities
    ) AS inc_same_modality,

    -- inc_imaging_window: alive at the earliest registration; in worklist mode, the window still open.
    struct_pack(
        rule := CASE
            WHEN NOT has_event THEN 'no_candidate_event'
            WHEN death_date < earliest_registration THEN 'died_before_registration'
            WHEN worklist AND cutoff_date > latest_registration THEN 'window_closed'
            ELSE 'window_open'
        END,
        registration_date,
        cutoff_date,
        death_date,
        earliest_registration,
        latest_registration
    ) AS inc_imaging_window,

    -- inc_pet_confirmation: the best confirmation PET decides; none yet is pending until the window closes.
    struct_pack(
        rule := CASE
            WHEN NOT has_event THEN 'no_candidate_event'
            WHEN pet_outcome = 'pass' THEN 'confirmed'
            WHEN pet_outcome = 'fail' THEN 'not_confirmed'
            WHEN pet_outcome = 'unknown' THEN 'confirmation_undecided'
            WHEN cutoff_date >= pet_window_end THEN 'no_pet'
            ELSE 'pet_pending'
        END,
        cutoff_date,
        reference_basis,
        pet_study_id,
        pet_date,
        pet_days_after_scan,
        pet_distant_lesions,
        pet_local_lesions,
        pet_undetermined_lesions,
        pet_window_start,
        pet_window_end
    ) AS inc_pet_confirmation
FROM unit_facts
