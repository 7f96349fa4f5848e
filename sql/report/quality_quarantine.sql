-- The report, data quality: quarantined rows by stage and reason.
SELECT stage, reason, count(*) AS n, count(DISTINCT file) AS files FROM audit.quarantine
GROUP BY ALL ORDER BY stage ASC, n DESC, reason ASC
