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
{% for c in criteria %}
    {{ c.id }}{{ "," if not loop.last }}
{% endfor %}
FROM best_units
