-- Match-stage quarantine rows are recomputed on every run: one row per source row and reason.
-- Rows whose value kpi purge removed (their usage rows are deleted: kpi/retention.py) are kept, so
-- that the counts of purged quarters stay as they were.
DELETE FROM audit.quarantine WHERE stage = 'match' AND value IS NOT NULL;
INSERT INTO audit.quarantine (file, row_number, "column", value, reason, stage, sha256)
SELECT DISTINCT file, row_number, 'user', user_key, match_problem, 'match', NULL
FROM temp.usage_match
WHERE match_problem IS NOT NULL;
