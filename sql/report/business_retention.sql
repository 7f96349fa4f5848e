-- The report, retention: trained and untrained people's annualised leaver rate in $q, company and
-- departments (marts.kpi_retention, docs/metrics.md §15); a suppressed row carries no figure.
SELECT segment_type, segment, suppressed, suppression_reason, headcount, trained_headcount, trained_leaver_rate,
       untrained_headcount, untrained_leaver_rate
FROM marts.kpi_retention
WHERE quarter = $q
ORDER BY segment_type <> 'company', segment
