-- Derived: the lesions that can count towards oligoprogression on an assessed study: progressive (TRUE) or
-- undetermined (NULL).
--
-- criteria.md inc_oligoprogression counts "progressive lesions on S"; "Undetermined lesions: pass/fail only if
-- every way of resolving them gives the same answer". A lesion that is surely not progressive plays no part in
-- the rule or in its reasons, and about three lesions in four are such lesions: lesion_progression (every
-- lesion's verdict) streams into this table instead of being stored whole.
WITH verdicts AS (
    SELECT scan_id, assessed_id, lesion_id, location, organ, progressive FROM lesion_progression
)

SELECT scan_id, assessed_id, lesion_id, location, organ, progressive
FROM verdicts
WHERE progressive OR progressive IS NULL
