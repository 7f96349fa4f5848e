-- The report, competence chart: the company's skill score, proficient rate and trained share per
-- quarter up to $q.
SELECT quarter, skill_score, proficient_rate, trained_share FROM marts.kpi_competence
WHERE segment_type = 'company' AND quarter <= $q AND NOT suppressed ORDER BY quarter
