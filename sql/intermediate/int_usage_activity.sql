-- The usage that counts: rows of known employees on days they were employed, one row per
-- employee, day, tool and action.
-- Stored in day order, so a mart's scan of one quarter (WHERE day BETWEEN ...) reads only the row
-- groups of that quarter: at 50,000 employees (11 M rows) the 9 quarters' marts took 14 s -> 8 s;
-- the sort costs the match stage ~1.3 s (docs/benchmarks.md).
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
GROUP BY ALL
ORDER BY day;
