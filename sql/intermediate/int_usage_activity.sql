-- The usage that counts: rows of known employees on days they were employed, one row per
-- employee, day, tool and action.
CREATE OR REPLACE TABLE intermediate.usage_activity AS
SELECT
    employee_key,
    day,
    tool,
    action,
    sum(interactions)::BIGINT AS interactions,
    sum(successes)::BIGINT    AS successes,
    sum(failures)::BIGINT     AS failures
FROM temp.usage_match
WHERE match_problem IS NULL
GROUP BY ALL;
