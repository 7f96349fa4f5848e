-- The report: the quarters the KPI marts hold.
SELECT DISTINCT quarter FROM marts.kpi_usage ORDER BY quarter
