-- Outcomes: the rule each criterion took and the facts behind it, one row per screening unit to explain
-- (docs/design.md "Engine results": result_facts): each patient's best unit, or every unit when the run explains
-- all events. The explain step (oligo_cohort/explain.py) turns them into reasons; every engine leaves this
-- table in the same shape: the rule and facts as the criteria models record them, in the facts' declared types
-- (oligo_cohort/facts.py; tests/definitions/test_criteria_definitions.py holds the SQL to them).
WITH units AS (
    SELECT unit_outcomes.unit_id, unit_outcomes.patient_id, unit_outcomes.event_id, unit_outcomes.is_best
    FROM unit_outcomes
    CROSS JOIN params AS p
    WHERE unit_outcomes.is_best OR p.explain_all_events
)

SELECT
    units.unit_id,
    units.patient_id,
    units.event_id,
    units.is_best,
{% for c in criteria %}
    {{ c.table }}.{{ c.id }}{{ "," if not loop.last }}
{% endfor %}
FROM units
{% for table in criteria_tables %}
JOIN {{ table }} ON {{ table }}.unit_id = units.unit_id
{% endfor %}
