-- The yearly report: every quarter the KPI marts hold, with its latest snapshot version (NULL: the
-- quarter is open) and the day that version was written.
SELECT q.quarter, max(s.version) AS version, max(s.computed_at)::DATE AS closed_on
FROM (SELECT DISTINCT quarter FROM marts.kpi_usage) AS q
LEFT JOIN marts.kpi_snapshots AS s ON q.quarter = s.quarter
GROUP BY q.quarter
ORDER BY q.quarter
