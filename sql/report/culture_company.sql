-- The report, culture table: the company's figures per construct in wave $w.
SELECT construct, responses, mean_score, favorability, favorability_change, favorability_change_low,
       favorability_change_high, response_rate, mean_score_change, baseline_wave, favorability_vs_baseline,
       favorability_vs_baseline_low, favorability_vs_baseline_high
FROM marts.kpi_culture WHERE segment_type = 'company' AND quarter = $w ORDER BY construct
