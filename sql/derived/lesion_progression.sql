-- Derived: whether each lesion on an assessed study is progressive, in three-valued (Kleene) logic.
--
-- criteria.md: "A lesion on S is progressive when: it has no measurement on the reference study (a new lesion);
-- or size: size_S >= 1.20 x size_ref and, except for organ = bone, size_S > 15 mm (bone: the lytic component, no
-- size floor); or metabolism: both studies are FDG-PET-CT and suv_S >= 1.20 x suv_ref. A lesion whose sizes (or
-- SUVs, where both studies are PET) are missing is undetermined; with no reference study every lesion is
-- undetermined."
-- Protocol: "increasing >=20% in size and be larger than 15 mm or if metabolic activity increases (with 20% in
-- SUVmax) on FDG-PET-CT"; "Bone metastases are classified as progressive if the lytic component of the lesion
-- increases by >=20% or the FDG-uptake increases by >=20% on FDG-PET-CT".
-- docs/decisions.md D13 (only lesion rows of the assessed study count; a row on the reference makes the lesion
-- not new), D14 (progressive = new OR size_rule OR suv_rule in SQL's three-valued logic; the SUV rule is FALSE
-- unless both sides are PET; TRUE = progressive, NULL = undetermined).
--
-- Exact arithmetic: sizes and SUVs are DECIMAL(12,3), so "+20 %" is compared as size * 100 >= ref * (100 + pct).
WITH assessed AS (
    SELECT
        patient_id,
        scan_id,
        reference_basis,
        -- The reference_lesions key: the reference study (line-start basis) or the scan's own nadir.
        CASE WHEN reference_basis = 'nadir' THEN scan_id ELSE reference_study_id END AS reference_key,
        assessed_id,
        assessed_date,
        assessed_modality,
        is_confirmation,
        -- The thresholds travel with each study, so that deciding a lesion is a filter on one row (joined in
        -- per lesion, DuckDB evaluates the rule as a nested-loop join condition).
        p.size_increase_pct,
        CAST(p.size_floor_mm AS DECIMAL(12, 3)) AS size_floor_mm,
        p.suv_increase_pct
    FROM assessed_studies
    CROSS JOIN params AS p
),

measured AS (
    SELECT study_id, lesion_id, location, organ, size_mm, suv_max FROM lesions
),

reference AS (
    SELECT reference_basis, reference_key, lesion_id, reference_size, reference_suv, reference_sizes_known,
           reference_suvs_known, reference_is_pet
    FROM reference_lesions
),

assessed_lesions AS (
    -- D13: only the lesion rows of the assessed study itself.
    SELECT assessed.*, measured.lesion_id, measured.location, measured.organ, measured.size_mm, measured.suv_max
    FROM assessed
    JOIN measured ON measured.study_id = assessed.assessed_id
),

compared AS (
    SELECT
        assessed_lesions.*,
        reference.lesion_id IS NOT NULL AS on_reference,
        reference.reference_size,
        reference.reference_suv,
        reference.reference_sizes_known,
        reference.reference_suvs_known,
        reference.reference_is_pet
    FROM assessed_lesions
    LEFT JOIN reference
        ON reference.reference_basis = assessed_lesions.reference_basis
        AND reference.reference_key = assessed_lesions.reference_key
        AND reference.lesion_id = assessed_lesions.lesion_id
),

lesion_rules AS (
    SELECT
        compared.*,
        -- Without any reference, whether the lesion is new is unknown (NULL): every lesion is undetermined.
        CASE WHEN compared.reference_basis IS NOT NULL THEN NOT compared.on_reference END AS is_new,
        -- "+20 % over the smallest size" is "+20 % over some size": a size missing from a nadir could be that
        -- one, so where the known ones do not decide, the rule is unknown (D62). A known FALSE OR-ed in is a no-op.
        (compared.size_mm * 100 >= compared.reference_size * (100 + compared.size_increase_pct)
            OR CASE WHEN compared.reference_sizes_known THEN FALSE END)
            AND (compared.organ = {{ codes.bone_organ | sql }} OR compared.size_mm > compared.size_floor_mm)
            AS size_rule,
        CASE
            WHEN compared.assessed_modality = {{ codes.pet_modality | sql }} AND compared.reference_is_pet
                THEN compared.suv_max * 100 >= compared.reference_suv * (100 + compared.suv_increase_pct)
                    OR CASE WHEN compared.reference_suvs_known THEN FALSE END
            ELSE FALSE
        END AS suv_rule
    FROM compared
)

-- Only what progressing_lesions keeps for the rule and its reasons: at scale this view has a row per lesion per
-- assessed study, so its width is its cost.
SELECT
    scan_id,
    assessed_id,
    is_confirmation,
    lesion_id,
    location,
    organ,
    is_new,
    is_new OR size_rule OR suv_rule AS progressive
FROM lesion_rules
