-- marts.kpi_usage rows of ONE quarter (docs/metrics.md §1), before suppression (kpi.privacy.apply_suppression).
-- Parameters: $quarter (label), $quarter_start, $quarter_end (inclusive), $weeks_in_quarter
-- (days / 7), $regular_min_active_weeks.
WITH people AS (            -- P(q): one row per employee employed on at least one day of q
    SELECT * FROM intermediate.employment_in($quarter_start, $quarter_end)
),
activity AS (
    SELECT * FROM intermediate.activity_in($quarter_start, $quarter_end)
),
members AS (                -- each person once in the company row, their department and target group
    SELECT 'company' AS segment_type, 'all' AS segment, employee_key, fte_employed FROM people
    UNION ALL
    SELECT 'department', department, employee_key, fte_employed FROM people
    UNION ALL
    SELECT 'target_group', target_group, employee_key, fte_employed FROM people
),
segments AS (
    SELECT
        m.segment_type,
        m.segment,
        count(*)                                                                  AS headcount,
        sum(m.fte_employed)                                                       AS fte,
        count(*) FILTER (WHERE a.active_days > 0)                                 AS active_users,
        count(*) FILTER (WHERE a.active_weeks >= $regular_min_active_weeks)        AS regular_users,
        coalesce(sum(a.interactions), 0)                                          AS interactions
    FROM members AS m
    LEFT JOIN activity AS a USING (employee_key)
    GROUP BY m.segment_type, m.segment
),
company AS (
    SELECT headcount, interactions FROM segments WHERE segment_type = 'company'
),
tools AS (                  -- a tool gets a row when it has at least one active user in q
    SELECT
        tool,
        count(DISTINCT employee_key) FILTER (WHERE interactions > 0) AS active_users,
        sum(interactions)                                            AS interactions
    FROM intermediate.usage_activity
    WHERE day BETWEEN $quarter_start AND $quarter_end
    GROUP BY tool
    HAVING count(DISTINCT employee_key) FILTER (WHERE interactions > 0) > 0
)
SELECT
    $quarter                                              AS quarter,
    segment_type,
    segment,
    headcount                                             AS group_size,
    false                                                 AS suppressed,
    NULL                                                  AS suppression_reason,
    headcount,
    fte,
    active_users,
    active_users / headcount                              AS active_user_rate,
    regular_users,
    regular_users / headcount                             AS regular_user_rate,
    interactions,
    interactions / headcount / $weeks_in_quarter          AS interactions_per_employee_week,
    interactions / nullif(active_users, 0) / $weeks_in_quarter AS interactions_per_active_user_week,
    NULL                                                  AS interaction_share
FROM segments
UNION ALL BY NAME
SELECT
    $quarter                                              AS quarter,
    'tool'                                                AS segment_type,
    t.tool                                                AS segment,
    t.active_users                                        AS group_size,
    false                                                 AS suppressed,
    NULL                                                  AS suppression_reason,
    c.headcount                                           AS headcount,
    t.active_users,
    t.active_users / c.headcount                          AS active_user_rate,
    t.interactions,
    t.interactions / t.active_users / $weeks_in_quarter   AS interactions_per_active_user_week,
    t.interactions / nullif(c.interactions, 0)            AS interaction_share
FROM tools AS t
CROSS JOIN company AS c
