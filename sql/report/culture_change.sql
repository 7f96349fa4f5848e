-- The report, culture chart: the change of the company's favorability per construct in wave $w,
-- with its 95 % interval.
SELECT upper(construct[1]) || construct[2:] AS construct, favorability_change AS change,
       favorability_change_low AS low, favorability_change_high AS high
FROM marts.kpi_culture
WHERE segment_type = 'company' AND quarter = $w AND NOT suppressed AND favorability_change IS NOT NULL
ORDER BY construct
