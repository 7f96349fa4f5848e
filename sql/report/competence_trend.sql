-- The report, competence chart: the company's skill and proficient rate to date (each person's
-- latest assessment up to the quarter's end) and trained share per quarter up to $q.
SELECT quarter, skill_score_to_date AS skill_score, proficient_rate_to_date AS proficient_rate, trained_share
FROM marts.kpi_competence
WHERE segment_type = 'company' AND quarter <= $q AND NOT suppressed ORDER BY quarter
