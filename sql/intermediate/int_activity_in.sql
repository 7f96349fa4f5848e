-- Tool activity per employee inside a period (both ends inclusive), from the matched usage
-- (intermediate.usage_activity: known employees, days they were employed).
-- A day is active when the employee's interactions that day sum to >= 1 (a pre-aggregated row
-- with 0 interactions makes nobody active). active_weeks counts the distinct Monday-start weeks
-- (date_trunc('week') is ISO, i.e. Monday) of the active days INSIDE the period, so a week that
-- straddles two quarters counts in both.
--   intermediate.activity_in($quarter_start, $quarter_end)
CREATE OR REPLACE MACRO intermediate.activity_in(period_start, period_end) AS TABLE
WITH days AS (
    SELECT
        employee_key,
        day,
        sum(interactions) AS interactions,
        sum(successes)    AS successes,
        sum(failures)     AS failures
    FROM intermediate.usage_activity
    WHERE day BETWEEN CAST(period_start AS DATE) AND CAST(period_end AS DATE)
    GROUP BY employee_key, day
)
SELECT
    employee_key,
    count(*) FILTER (WHERE interactions > 0)                                    AS active_days,
    count(DISTINCT CAST(date_trunc('week', day) AS DATE)) FILTER (WHERE interactions > 0) AS active_weeks,
    sum(interactions)::BIGINT AS interactions,
    sum(successes)::BIGINT    AS successes,
    sum(failures)::BIGINT     AS failures
FROM days
GROUP BY employee_key;
