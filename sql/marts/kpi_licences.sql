-- marts.kpi_licences rows of ONE quarter (docs/metrics.md §14): licence seats against the people
-- who used each tool. Reads the quarter's PUBLISHED (already suppressed) tool rows of
-- marts.kpi_usage, built before it (dimension 11), and staging.licenses (finance/licenses.csv).
-- Parameters: $quarter, $quarter_start, $quarter_end.
-- A tool gets a row when it has a tool row of kpi_usage in q, or licence rows in q's months.
-- active_users is kpi_usage's published value: NULL when that row is suppressed (or the figure
-- withheld), 0 for a licensed tool without a kpi_usage row (nobody used it in q) as long as q has
-- usage at all; every figure derived from it follows. Seats and cost describe no person.
WITH usage_tools AS (
    SELECT segment AS tool, active_users
    FROM marts.kpi_usage
    WHERE quarter = $quarter AND segment_type = 'tool'
),
any_usage AS (              -- q has usage data: the published company row counts interactions
    SELECT coalesce(bool_or(interactions > 0), false) AS has_usage
    FROM marts.kpi_usage
    WHERE quarter = $quarter AND segment_type = 'company'
),
licensed AS (               -- the seats of q's last month with a licence row, the cost of q's months
    SELECT
        tool,
        arg_max(seats, month)  AS seats,
        sum(cost_eur)          AS cost_eur
    FROM staging.licenses
    WHERE month BETWEEN $quarter_start AND $quarter_end
    GROUP BY tool
),
tools AS (
    SELECT tool FROM usage_tools
    UNION
    SELECT tool FROM licensed
),
figures AS (
    SELECT
        t.tool,
        l.seats,
        CASE WHEN u.tool IS NOT NULL THEN u.active_users
             WHEN a.has_usage THEN 0 END                    AS active_users,
        l.cost_eur
    FROM tools AS t
    LEFT JOIN usage_tools AS u USING (tool)
    LEFT JOIN licensed AS l USING (tool)
    CROSS JOIN any_usage AS a
)
SELECT
    $quarter                                                AS quarter,
    tool,
    seats,
    active_users,
    active_users / nullif(seats, 0)                         AS utilisation,
    CASE WHEN seats IS NOT NULL AND active_users IS NOT NULL
         THEN greatest(seats - active_users, 0) END         AS idle_seats,
    cost_eur,
    cost_eur / nullif(active_users, 0)                      AS cost_per_active_user
FROM figures
