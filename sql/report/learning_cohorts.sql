-- The report, cohort curve: usage and skill by months since the first training, as of $q
-- (marts.kpi_cohorts, docs/metrics.md §13); shown months only.
SELECT months_since_training, people, active_user_rate, skill_score
FROM marts.kpi_cohorts
WHERE quarter = $q AND NOT suppressed
ORDER BY months_since_training
