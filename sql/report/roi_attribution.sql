-- The report, measured attribution (marts.roi_attribution_estimate, docs/roi.md "Measured
-- attribution"): one row per outcome.
SELECT outcome, method, estimate, ci_low, ci_high, n_series, pre_periods, post_periods, parallel_trends_p, note
FROM marts.roi_attribution_estimate
ORDER BY outcome <> 'minutes_per_case', outcome
