-- Derived: lines of therapy for metastatic disease, per (patient, index-tumour context).
--
-- criteria.md: "Line 1 starts at the first metastatic episode. A line's regimen is every drug starting within
-- 28 days of the line's start, plus every drug whose episode is still running at that start (carried over from
-- the previous line). A later episode starts a new line when its drug is not in the current regimen (a drug
-- added or switched to), unless it substitutes one in it [...]; or when it starts more than 120 days after every
-- episode of the current line ended. Stopping some drugs of a regimen (de-escalation) never starts a new line.
-- A line ends when its last running episode ends, or when the next line starts, whichever comes first (open
-- while an episode is ongoing). Lines are numbered 1, 2, 3... in start order."
-- Protocol: "If a treatment regimen has been de-escalated without adding other therapies, this is seen as one
-- line of therapy."
-- docs/decisions.md D5 (episode order), D6 (membership by regimen component: an episode stays in the line when
-- all its components are in the regimen), D7 (regimen window inclusive; restart within line_gap_days of the
-- latest end, an ongoing episode never ends), D8 (carry-over of episodes running on the new line's start day),
-- D9 (line end = min(latest end of its episodes, next line's start); NULL while ongoing with no next line).
--
-- The recursion steps every (patient, context) through its episodes in order, one episode per iteration for
-- all patients at once, carrying the line state (number, start, regimen components, latest end, ongoing).
-- Regimens are DuckDB lists (list_has_all, list_concat): Spark arrays have the same operations.
WITH RECURSIVE episodes AS (
    SELECT patient_id, context_no, episode_no, drug, drug_class, start_date, end_date, components
    FROM metastatic_episodes
),

carried_pairs AS (
    -- D8: for each episode, the earlier episodes still running on its start day (start <= day <= end, or no end).
    -- Patients have few episodes: the pairs per patient stay small.
    SELECT
        episode.patient_id,
        episode.context_no,
        episode.episode_no,
        running.drug AS carried_drug,
        running.drug_class AS carried_drug_class,
        running.end_date AS carried_end_date,
        running.components AS carried_components
    FROM episodes AS episode
    JOIN episodes AS running
        ON running.patient_id = episode.patient_id
        AND running.context_no = episode.context_no
        AND running.episode_no < episode.episode_no
        AND running.start_date <= episode.start_date
        AND (running.end_date IS NULL OR running.end_date >= episode.start_date)
),

carry_over AS (
    SELECT
        patient_id,
        context_no,
        episode_no,
        flatten(list(carried_components)) AS carried_components,
        max(carried_end_date) AS carried_latest_end,
        bool_or(carried_end_date IS NULL) AS carried_ongoing
    FROM carried_pairs
    GROUP BY patient_id, context_no, episode_no
),

episodes_with_carry AS (
    SELECT
        episodes.*,
        coalesce(carry_over.carried_components, []) AS carried_components,
        carry_over.carried_latest_end,
        coalesce(carry_over.carried_ongoing, FALSE) AS carried_ongoing
    FROM episodes
    LEFT JOIN carry_over
        ON carry_over.patient_id = episodes.patient_id
        AND carry_over.context_no = episodes.context_no
        AND carry_over.episode_no = episodes.episode_no
),

line_steps (
    patient_id, context_no, episode_no, line_number, line_start, regimen, latest_end, ongoing, starts_line
) AS (
    -- The first metastatic episode starts line 1.
    SELECT
        patient_id,
        context_no,
        episode_no,
        1,
        start_date,
        list_sort(list_distinct(components)),
        end_date,
        end_date IS NULL,
        TRUE
    FROM episodes_with_carry
    WHERE episode_no = 1

    UNION ALL

    SELECT
        patient_id,
        context_no,
        episode_no,
        CASE WHEN stays_in_line THEN line_number ELSE line_number + 1 END,
        CASE WHEN stays_in_line THEN line_start ELSE start_date END,
        CASE
            WHEN stays_in_line THEN list_sort(list_distinct(list_concat(regimen, components)))
            ELSE list_sort(list_distinct(list_concat(components, carried_components)))
        END,
        CASE
            WHEN stays_in_line THEN greatest(latest_end, end_date)
            ELSE greatest(end_date, carried_latest_end)
        END,
        CASE
            WHEN stays_in_line THEN ongoing OR end_date IS NULL
            ELSE end_date IS NULL OR carried_ongoing
        END,
        NOT stays_in_line
    FROM (
        SELECT
            state.line_number,
            state.line_start,
            state.regimen,
            state.latest_end,
            state.ongoing,
            next_episode.*,
            -- D7: within the regimen window the episode joins the line whatever its drug; later it stays only
            -- when every component is already in the regimen and it starts within the gap after the latest end.
            (
                next_episode.start_date <= state.line_start + p.regimen_window_days
                OR (
                    list_has_all(state.regimen, next_episode.components)
                    AND (state.ongoing OR next_episode.start_date <= state.latest_end + p.line_gap_days)
                )
            ) AS stays_in_line
        FROM line_steps AS state
        JOIN episodes_with_carry AS next_episode
            ON next_episode.patient_id = state.patient_id
            AND next_episode.context_no = state.context_no
            AND next_episode.episode_no = state.episode_no + 1
        CROSS JOIN params AS p
    ) AS step
),

line_members AS (
    -- Every episode of a line with the line's state at that step, plus the episodes carried into it at its start.
    SELECT
        line_steps.patient_id,
        line_steps.context_no,
        line_steps.line_number,
        line_steps.line_start,
        line_steps.latest_end,
        line_steps.ongoing,
        episodes.drug,
        episodes.drug_class
    FROM line_steps
    JOIN episodes
        ON episodes.patient_id = line_steps.patient_id
        AND episodes.context_no = line_steps.context_no
        AND episodes.episode_no = line_steps.episode_no

    UNION ALL

    SELECT
        line_steps.patient_id,
        line_steps.context_no,
        line_steps.line_number,
        line_steps.line_start,
        line_steps.latest_end,
        line_steps.ongoing,
        carried_pairs.carried_drug,
        carried_pairs.carried_drug_class
    FROM line_steps
    JOIN carried_pairs
        ON carried_pairs.patient_id = line_steps.patient_id
        AND carried_pairs.context_no = line_steps.context_no
        AND carried_pairs.episode_no = line_steps.episode_no
    WHERE line_steps.starts_line
),

lines AS (
    -- The state grows along a line (greatest end, ongoing once ongoing): its maximum is the line's final state.
    SELECT
        patient_id,
        context_no,
        line_number,
        min(line_start) AS line_start,
        max(latest_end) AS latest_end,
        bool_or(ongoing) AS ongoing,
        -- DuckDB: an unordered list() sorted afterwards is far cheaper than an ordered string_agg.
        array_to_string(list_sort(list_distinct(list(drug))), ', ') AS drugs,
        array_to_string(list_sort(list_distinct(list(drug_class))), ', ') AS drug_classes,
        -- Drugs missing from the vocabulary have no class.
        bool_or(drug_class IS NOT NULL) AS has_known_drug
    FROM line_members
    GROUP BY patient_id, context_no, line_number
)

SELECT
    lines.patient_id,
    lines.context_no,
    CAST(lines.line_number AS INTEGER) AS line_number,
    lines.line_start,
    CASE
        WHEN next_line.line_start IS NULL AND lines.ongoing THEN NULL
        WHEN next_line.line_start IS NULL THEN lines.latest_end
        WHEN lines.ongoing OR lines.latest_end > next_line.line_start THEN next_line.line_start
        ELSE lines.latest_end
    END AS line_end,
    next_line.line_start AS next_line_start,
    lines.drugs,
    lines.drug_classes,
    lines.has_known_drug
FROM lines
LEFT JOIN lines AS next_line
    ON next_line.patient_id = lines.patient_id
    AND next_line.context_no = lines.context_no
    AND next_line.line_number = lines.line_number + 1
