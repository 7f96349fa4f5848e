-- The report, culture table: the company's figures per construct in wave $w.
SELECT construct, responses, mean_score, favorability, favorability_change, favorability_change_low,
       favorability_change_high, response_rate, mean_score_change
FROM marts.kpi_culture WHERE segment_type = 'company' AND quarter = $w ORDER BY construct
