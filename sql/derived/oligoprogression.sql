-- Derived: the oligoprogression rule on each assessed study (a screening scan S, or a confirmation PET of S).
-- Decides: inc_oligoprogression (recorded per screening unit in criteria/imaging.sql).
--
-- Protocol: "Oligoprogression defined as one or two distant metastatic lesions, limited to one organ, or the
-- primary tumor or locoregional lymph nodes".
-- criteria.md inc_oligoprogression: "progressive lesions on S are either 1 or 2 distant lesions, all in one
-- organ, with no progressive primary/locoregional lesion; or only primary/locoregional lesions (any number) ->
-- pass. None, 3+ distant, 2+ organs, or distant together with primary/locoregional -> fail. Undetermined
-- lesions: pass/fail only if every way of resolving them gives the same answer, else unknown."
-- docs/decisions.md D17: the same rule, on the same reference, for every confirmation PET.
--
-- Over all resolutions of the undetermined lesions, in closed form:
--   can_pass: no definite local lesion and either 1..max definite distant lesions in at most max organs, or no
--             definite distant lesion and one undetermined one to pick; or no definite distant lesion and at
--             least one definite or undetermined local lesion.
--   can_fail: nothing definite (all undetermined may be resolved as not progressive); or more than max distant
--             or organs when every undetermined distant lesion counts; or distant and local both possible.
-- pass = can_pass AND NOT can_fail; fail = can_fail AND NOT can_pass; else unknown.
WITH assessed AS (
    SELECT patient_id, scan_id, reference_basis, assessed_id, assessed_date, assessed_modality, is_confirmation
    FROM assessed_studies
),

candidate_lesions AS (
    -- Progressive (TRUE) or undetermined (NULL): progressing_lesions holds no other.
    SELECT
        scan_id,
        assessed_id,
        organ,
        location = {{ codes.distant_location | sql }} AS is_distant,
        progressive IS NOT NULL AS is_definite
    FROM progressing_lesions
),

organ_counts AS (
    -- Per organ first, so that organs are counted without DISTINCT aggregates (costly at scale).
    SELECT
        scan_id,
        assessed_id,
        organ,
        is_distant,
        sum(CASE WHEN is_definite THEN 1 ELSE 0 END) AS definite,
        sum(CASE WHEN is_definite THEN 0 ELSE 1 END) AS undetermined
    FROM candidate_lesions
    GROUP BY scan_id, assessed_id, organ, is_distant
),

lesion_counts AS (
    SELECT
        scan_id,
        assessed_id,
        sum(CASE WHEN is_distant THEN definite ELSE 0 END) AS definite_distant,
        sum(CASE WHEN is_distant THEN undetermined ELSE 0 END) AS undetermined_distant,
        sum(CASE WHEN is_distant THEN 0 ELSE definite END) AS definite_local,
        sum(CASE WHEN is_distant THEN 0 ELSE undetermined END) AS undetermined_local,
        sum(CASE WHEN is_distant AND definite > 0 THEN 1 ELSE 0 END) AS definite_distant_organs,
        sum(CASE WHEN is_distant THEN 1 ELSE 0 END) AS possible_distant_organs
    FROM organ_counts
    GROUP BY scan_id, assessed_id
),

counted AS (
    SELECT
        assessed.*,
        CAST(coalesce(lesion_counts.definite_distant, 0) AS INTEGER) AS definite_distant,
        CAST(coalesce(lesion_counts.undetermined_distant, 0) AS INTEGER) AS undetermined_distant,
        CAST(coalesce(lesion_counts.definite_local, 0) AS INTEGER) AS definite_local,
        CAST(coalesce(lesion_counts.undetermined_local, 0) AS INTEGER) AS undetermined_local,
        CAST(coalesce(lesion_counts.definite_distant_organs, 0) AS INTEGER) AS definite_distant_organs,
        CAST(coalesce(lesion_counts.possible_distant_organs, 0) AS INTEGER) AS possible_distant_organs
    FROM assessed
    LEFT JOIN lesion_counts
        ON lesion_counts.scan_id = assessed.scan_id
        AND lesion_counts.assessed_id = assessed.assessed_id
),

resolutions AS (
    SELECT
        counted.*,
        (
            counted.definite_local = 0
            AND (
                (counted.definite_distant BETWEEN 1 AND p.max_progressive_distant_lesions
                 AND counted.definite_distant_organs <= p.max_progressive_organs)
                OR (counted.definite_distant = 0 AND counted.undetermined_distant >= 1
                    AND p.max_progressive_distant_lesions >= 1 AND p.max_progressive_organs >= 1)
            )
        )
        OR (counted.definite_distant = 0 AND counted.definite_local + counted.undetermined_local >= 1) AS can_pass,
        (counted.definite_distant = 0 AND counted.definite_local = 0)
        OR counted.definite_distant + counted.undetermined_distant > p.max_progressive_distant_lesions
        OR counted.possible_distant_organs > p.max_progressive_organs
        OR (counted.definite_distant + counted.undetermined_distant >= 1
            AND counted.definite_local + counted.undetermined_local >= 1) AS can_fail
    FROM counted
    CROSS JOIN params AS p
)

SELECT
    patient_id,
    scan_id,
    assessed_id,
    assessed_date,
    assessed_modality,
    is_confirmation,
    reference_basis,
    definite_distant,
    undetermined_distant,
    definite_local,
    undetermined_local,
    definite_distant_organs,
    possible_distant_organs,
    can_pass,
    can_fail,
    CASE
        WHEN can_pass AND NOT can_fail THEN 'pass'
        WHEN can_fail AND NOT can_pass THEN 'fail'
        ELSE 'unknown'
    END AS outcome
FROM resolutions
