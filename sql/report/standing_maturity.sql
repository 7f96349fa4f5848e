-- Where we stand: the maturity level of the company and every department per quarter up to $q
-- (marts.kpi_maturity, docs/metrics.md §7); a suppressed row carries its reason and no level.
SELECT quarter, segment_type, segment, suppressed, suppression_reason, level, level_name,
       criteria_met, next_level_gaps
FROM marts.kpi_maturity
WHERE quarter <= $q
ORDER BY segment_type <> 'company', segment, quarter
