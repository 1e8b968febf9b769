-- Criteria: the imaging of the event (inc_oligoprogression, inc_same_modality, inc_imaging_window,
-- inc_pet_confirmation), one row per screening unit.
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
-- docs/decisions.md D17 (confirmation PETs assessed against S's reference), D22 (death on S + 46 itself passes).
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
        reference_basis
    FROM screening_units
),

rule_on_scan AS (
    SELECT scan_id, outcome FROM oligoprogression WHERE NOT is_confirmation
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
    -- The studies whose lesions a reason names: each event's scan and the confirmation PET that decided it.
    SELECT event_id AS scan_id, event_id AS assessed_id, reference_basis FROM units WHERE has_event

    UNION ALL

    SELECT rule_on_confirmations.scan_id, rule_on_confirmations.assessed_id, units.reference_basis
    FROM rule_on_confirmations
    JOIN units ON units.event_id = rule_on_confirmations.scan_id
    WHERE rule_on_confirmations.preference = 1
),

described_lesions AS (
    -- Progressive (TRUE) and undetermined (NULL) lesions, labelled "organ lesion_id".
    SELECT
        described_studies.scan_id,
        described_studies.assessed_id,
        described_studies.reference_basis,
        assessed_lesions.location = 'distant' AS is_distant,
        assessed_lesions.progressive IS NOT NULL AS is_definite,
        assessed_lesions.organ || ' ' || assessed_lesions.lesion_id AS label
    FROM described_studies
    JOIN assessed_lesions
        ON assessed_lesions.scan_id = described_studies.scan_id
        AND assessed_lesions.assessed_id = described_studies.assessed_id
    WHERE assessed_lesions.progressive OR assessed_lesions.progressive IS NULL
),

lesion_lists AS (
    SELECT
        scan_id,
        assessed_id,
        reference_basis,
        sum(CASE WHEN is_distant AND is_definite THEN 1 ELSE 0 END) AS definite_distant,
        sum(CASE WHEN NOT is_distant AND is_definite THEN 1 ELSE 0 END) AS definite_local,
        sum(CASE WHEN is_definite THEN 0 ELSE 1 END) AS undetermined,
        -- DuckDB: an unordered list() sorted afterwards is far cheaper than an ordered string_agg.
        array_to_string(list_sort(list(CASE WHEN is_distant AND is_definite THEN label END)), ', ') AS distant,
        array_to_string(list_sort(list(CASE WHEN NOT is_distant AND is_definite THEN label END)), ', ') AS local,
        array_to_string(list_sort(list(CASE WHEN is_definite THEN NULL ELSE label END)), ', ') AS undetermined_labels
    FROM described_lesions
    GROUP BY scan_id, assessed_id, reference_basis
),

lesion_summaries AS (
    -- e.g. "3 progressive distant lesions: liver L1, liver L2, lung L3".
    SELECT
        described_studies.scan_id,
        described_studies.assessed_id,
        CASE
            WHEN lesion_lists.scan_id IS NULL THEN 'no progressive lesion'
            ELSE concat_ws(
                '; ',
                CASE WHEN definite_distant > 0 THEN
                    CAST(definite_distant AS VARCHAR) || ' progressive distant lesion'
                    || CASE WHEN definite_distant > 1 THEN 's' ELSE '' END || ': ' || distant
                END,
                CASE WHEN definite_local > 0 THEN
                    CAST(definite_local AS VARCHAR) || ' progressive primary/locoregional lesion'
                    || CASE WHEN definite_local > 1 THEN 's' ELSE '' END || ': ' || local
                END,
                CASE WHEN undetermined > 0 THEN
                    CAST(undetermined AS VARCHAR) || ' undetermined ('
                    || CASE WHEN lesion_lists.reference_basis IS NULL THEN 'no reference study'
                        ELSE 'measurements missing' END
                    || '): ' || undetermined_labels
                END
            )
        END AS lesion_summary
    FROM described_studies
    LEFT JOIN lesion_lists
        ON lesion_lists.scan_id = described_studies.scan_id
        AND lesion_lists.assessed_id = described_studies.assessed_id
),

unit_facts AS (
    -- Everything the four criteria read, one row per unit.
    SELECT
        units.*,
        rule_on_scan.outcome AS scan_outcome,
        scan_lesions.lesion_summary AS scan_lesion_summary,
        confirmation.assessed_id AS pet_id,
        confirmation.assessed_date AS pet_date,
        confirmation.outcome AS pet_outcome,
        pet_lesions.lesion_summary AS pet_lesion_summary,
        units.screening_date + p.imaging_window_earliest_days AS earliest_registration,
        units.screening_date + p.imaging_window_latest_days AS latest_registration,
        units.screening_date + p.registration_days AS planned_registration,
        units.screening_date + p.pet_window_start_days AS pet_window_start,
        units.screening_date + p.pet_window_end_days AS pet_window_end,
        p.worklist,
        p.as_of,
        'no candidate screening scan (no study during an active metastatic line with a progressive or '
            || 'undetermined lesion)' AS no_event_reason
    FROM units
    CROSS JOIN params AS p
    LEFT JOIN rule_on_scan ON rule_on_scan.scan_id = units.event_id
    LEFT JOIN lesion_summaries AS scan_lesions
        ON scan_lesions.scan_id = units.event_id
        AND scan_lesions.assessed_id = units.event_id
    LEFT JOIN rule_on_confirmations AS confirmation
        ON confirmation.scan_id = units.event_id
        AND confirmation.preference = 1
    LEFT JOIN lesion_summaries AS pet_lesions
        ON pet_lesions.scan_id = confirmation.scan_id
        AND pet_lesions.assessed_id = confirmation.assessed_id
)

SELECT
    unit_id,

    -- inc_oligoprogression: the rule on S against its reference.
    CASE WHEN has_event THEN scan_outcome ELSE 'fail' END AS inc_oligoprogression,
    CASE
        WHEN has_event THEN modality || ' ' || event_id || CASE
                WHEN reference_basis = 'nadir' THEN ' against the nadir of each lesion'
                WHEN reference_basis = 'line_start' THEN ' against ' || reference_modality || ' '
                    || reference_study_id || ' of ' || CAST(reference_date AS VARCHAR)
                ELSE ''
            END || ': ' || scan_lesion_summary
        ELSE no_event_reason
    END AS inc_oligoprogression_reason,

    -- inc_same_modality: the reference has the modality of S.
    CASE
        WHEN NOT has_event THEN 'fail'
        WHEN reference_modality = modality THEN 'pass'
        WHEN reference_study_id IS NOT NULL THEN 'fail'
        ELSE 'unknown'
    END AS inc_same_modality,
    CASE
        WHEN NOT has_event THEN no_event_reason
        WHEN reference_modality = modality
            THEN 'reference ' || reference_modality || ' ' || reference_study_id || ' of '
                || CAST(reference_date AS VARCHAR) || ', the modality of the scan'
        WHEN reference_study_id IS NOT NULL
            THEN 'the scan is ' || modality || '; the reference window [' || CAST(window_start AS VARCHAR) || ', '
                || CAST(window_end AS VARCHAR) || '] holds only ' || window_modalities
        ELSE 'no imaging study in the reference window [' || CAST(window_start AS VARCHAR) || ', '
            || CAST(window_end AS VARCHAR) || ']'
    END AS inc_same_modality_reason,

    -- inc_imaging_window: alive at the earliest registration; in worklist mode, the window still open.
    CASE
        WHEN NOT has_event THEN 'fail'
        WHEN death_date < earliest_registration THEN 'fail'
        WHEN worklist AND as_of > latest_registration THEN 'fail'
        ELSE 'pass'
    END AS inc_imaging_window,
    CASE
        WHEN NOT has_event THEN no_event_reason
        WHEN death_date < earliest_registration
            THEN 'died ' || CAST(death_date AS VARCHAR) || ', before the earliest registration '
                || CAST(earliest_registration AS VARCHAR)
        WHEN worklist AND as_of > latest_registration
            THEN 'registration window closed on ' || CAST(latest_registration AS VARCHAR) || ' (cut-off '
                || CAST(as_of AS VARCHAR) || ')'
        ELSE 'registration planned ' || CAST(planned_registration AS VARCHAR) || ', window ['
            || CAST(earliest_registration AS VARCHAR) || ', ' || CAST(latest_registration AS VARCHAR) || ']'
    END AS inc_imaging_window_reason,

    -- inc_pet_confirmation: the best confirmation PET decides; none yet is pending until the window closes.
    CASE
        WHEN NOT has_event THEN 'fail'
        WHEN pet_outcome IS NOT NULL THEN pet_outcome
        WHEN as_of >= pet_window_end THEN 'fail'
        ELSE 'unknown'
    END AS inc_pet_confirmation,
    CASE
        WHEN NOT has_event THEN no_event_reason
        WHEN pet_outcome IS NOT NULL
            THEN 'FDG-PET-CT ' || pet_id || ' of ' || CAST(pet_date AS VARCHAR) || ' (S + '
                || CAST(date_diff('day', screening_date, pet_date) AS VARCHAR) || '): ' || pet_lesion_summary
                || ', oligoprogression rule '
                || CASE pet_outcome WHEN 'pass' THEN 'passes' WHEN 'fail' THEN 'fails' ELSE 'undecided' END
        WHEN as_of >= pet_window_end
            THEN 'no FDG-PET-CT in [' || CAST(pet_window_start AS VARCHAR) || ', ' || CAST(pet_window_end AS VARCHAR)
                || ']'
        ELSE 'pending: no FDG-PET-CT yet in [' || CAST(pet_window_start AS VARCHAR) || ', '
            || CAST(pet_window_end AS VARCHAR) || '] at the cut-off ' || CAST(as_of AS VARCHAR)
    END AS inc_pet_confirmation_reason
FROM unit_facts
