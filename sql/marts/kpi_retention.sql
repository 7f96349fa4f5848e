-- marts.kpi_retention rows of ONE quarter (docs/metrics.md §15), before suppression: the company
-- and every department of P(q), each split into trained and untrained people.
-- Parameters: $quarter, $quarter_start, $quarter_end, $min_group_size (subset rule: the leavers
-- and leaver rate of a side are NULL when it has fewer than k people).
-- Trained in q: at least one training of status `completed` with completed_on on or before the
-- quarter's first day (fixed before any of q's exits can happen). Leavers: exit_date within q.
-- The leaver rate is annualised linearly: leavers / headcount × 365 / days(q).
-- No figure over both sides (all leavers) is published: it would give a withheld side back as the
-- difference with the shown one.
WITH people AS (            -- P(q): one row per employee employed on at least one day of q
    SELECT * FROM intermediate.employment_in($quarter_start, $quarter_end)
),
trained AS (
    SELECT DISTINCT employee_key
    FROM staging.trainings
    WHERE lower(trim(status)) = 'completed' AND completed_on <= $quarter_start
),
status AS (
    SELECT p.employee_key,
           p.department,
           t.employee_key IS NOT NULL                                   AS is_trained,
           coalesce(e.exit_date BETWEEN $quarter_start AND $quarter_end, false) AS left_in_quarter
    FROM people AS p
    JOIN staging.employees AS e USING (employee_key)
    LEFT JOIN trained AS t USING (employee_key)
),
members AS (
    SELECT 'company' AS segment_type, 'all' AS segment, is_trained, left_in_quarter FROM status
    UNION ALL
    SELECT 'department', department, is_trained, left_in_quarter FROM status
),
segments AS (
    SELECT segment_type,
           segment,
           count(*)                                                      AS headcount,
           count(*) FILTER (WHERE is_trained)                            AS trained_headcount,
           count(*) FILTER (WHERE is_trained AND left_in_quarter)        AS trained_leavers,
           count(*) FILTER (WHERE NOT is_trained)                        AS untrained_headcount,
           count(*) FILTER (WHERE NOT is_trained AND left_in_quarter)    AS untrained_leavers
    FROM members
    GROUP BY segment_type, segment
),
quarter_days AS (
    SELECT (CAST($quarter_end AS DATE) - CAST($quarter_start AS DATE) + 1)::BIGINT AS days
)
SELECT
    $quarter                                                                    AS quarter,
    s.segment_type,
    s.segment,
    s.headcount                                                                 AS group_size,
    false                                                                       AS suppressed,
    NULL                                                                        AS suppression_reason,
    s.headcount,
    s.trained_headcount,
    CASE WHEN s.trained_headcount >= $min_group_size THEN s.trained_leavers END  AS trained_leavers,
    CASE WHEN s.trained_headcount >= $min_group_size
         THEN s.trained_leavers / s.trained_headcount * 365 / d.days END        AS trained_leaver_rate,
    s.untrained_headcount,
    CASE WHEN s.untrained_headcount >= $min_group_size THEN s.untrained_leavers END AS untrained_leavers,
    CASE WHEN s.untrained_headcount >= $min_group_size
         THEN s.untrained_leavers / s.untrained_headcount * 365 / d.days END    AS untrained_leaver_rate
FROM segments AS s
CROSS JOIN quarter_days AS d
