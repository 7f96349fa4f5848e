-- The report, event-study chart: the training's effect by months relative to each department's
-- training (marts.roi_attribution_event_study), as a share of the baseline level.
SELECT outcome, relative_month, effect, ci_low, ci_high, n_series
FROM marts.roi_attribution_event_study
ORDER BY outcome, relative_month
