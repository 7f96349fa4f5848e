-- marts.kpi_champions rows of ONE quarter (docs/metrics.md §6), before suppression.
-- Parameters: $quarter, $quarter_start, $quarter_end, $band_low, $band_high (champions.band_*).
-- Champions are the people of target group `champion` in P(q); every department is listed,
-- also one without a champion (a count of zero reveals nobody).
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
)
SELECT
    $quarter                                               AS quarter,
    segment_type,
    segment,
    headcount                                              AS group_size,
    false                                                  AS suppressed,
    NULL                                                   AS suppression_reason,
    headcount,
    champions,
    headcount / nullif(champions, 0)                       AS employees_per_champion,
    $band_low                                              AS band_low,
    $band_high                                             AS band_high,
    CASE
        WHEN champions = 0 OR headcount / champions > $band_high THEN 'under_served'
        WHEN headcount / champions < $band_low THEN 'over_served'
        ELSE 'within'
    END                                                    AS status
FROM segments
