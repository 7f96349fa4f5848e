-- The report, culture chart: the company's favorability per construct and wave up to $q.
SELECT quarter, upper(construct[1]) || construct[2:] AS construct, favorability FROM marts.kpi_culture
WHERE segment_type = 'company' AND quarter <= $q AND NOT suppressed AND favorability IS NOT NULL
ORDER BY construct, quarter
