-- The report, culture: the survey waves up to $q.
SELECT DISTINCT quarter FROM marts.kpi_culture WHERE quarter <= $q ORDER BY 1
