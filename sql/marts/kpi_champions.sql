-- marts.kpi_champions rows of ONE quarter (docs/metrics.md §6), before suppression.
-- Parameters: $quarter, $quarter_start, $quarter_end, $band_low, $band_high (champions.band_*).
-- Champions are the people of target group `champion` in P(q); every department is listed,
-- also one without a champion (a count of zero reveals nobody).
-- Reach (company row only): the regular-use rate of the departments with and without a champion,
-- summed from the quarter's PUBLISHED department rows of marts.kpi_usage (built and suppressed
-- before it), so that it adds nothing a reader could not already add up.
WITH people AS (            -- P(q): one row per employee employed on at least one day of q
    SELECT * FROM intermediate.employment_in($quarter_start, $quarter_end)
),
members AS (
    SELECT 'company' AS segment_type, 'all' AS segment, employee_key, target_group FROM people
    UNION ALL
    SELECT 'department', department, employee_key, target_group FROM people
),
segments AS (
    SELECT
        segment_type,
        segment,
        count(*)                                           AS headcount,
        count(*) FILTER (WHERE target_group = 'champion')  AS champions
    FROM members
    GROUP BY segment_type, segment
),
published AS (              -- departments whose usage row is shown, with or without a champion
    SELECT
        s.champions > 0  AS with_champion,
        u.headcount,
        u.regular_users
    FROM marts.kpi_usage AS u
    JOIN segments AS s ON s.segment_type = 'department' AND s.segment = u.segment
    WHERE u.quarter = $quarter AND u.segment_type = 'department' AND NOT u.suppressed
      AND u.regular_users IS NOT NULL
),
reach AS (
    SELECT
        sum(headcount) FILTER (WHERE with_champion)          AS people_with_champion,
        sum(regular_users) FILTER (WHERE with_champion)      AS regular_with_champion,
        sum(headcount) FILTER (WHERE NOT with_champion)      AS people_without_champion,
        sum(regular_users) FILTER (WHERE NOT with_champion)  AS regular_without_champion
    FROM published
)
SELECT
    $quarter                                               AS quarter,
    s.segment_type,
    s.segment,
    s.headcount                                            AS group_size,
    false                                                  AS suppressed,
    NULL                                                   AS suppression_reason,
    s.headcount,
    s.champions,
    s.headcount / nullif(s.champions, 0)                   AS employees_per_champion,
    $band_low                                              AS band_low,
    $band_high                                             AS band_high,
    CASE
        WHEN s.champions = 0 OR s.headcount / s.champions > $band_high THEN 'under_served'
        WHEN s.headcount / s.champions < $band_low THEN 'over_served'
        ELSE 'within'
    END                                                    AS status,
    CASE WHEN s.segment_type = 'company' THEN r.people_with_champion END AS people_with_champion,
    CASE WHEN s.segment_type = 'company'
            THEN r.regular_with_champion / r.people_with_champion END     AS regular_user_rate_with_champion,
    CASE WHEN s.segment_type = 'company' THEN r.people_without_champion END AS people_without_champion,
    CASE WHEN s.segment_type = 'company'
            THEN r.regular_without_champion / r.people_without_champion END AS regular_user_rate_without_champion
FROM segments AS s
CROSS JOIN reach AS r
