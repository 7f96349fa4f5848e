-- The report, ROI: the estimate from tool interactions up to month $m (shown apart, never added).
SELECT sum(estimated_benefits) AS estimated_benefits, count(estimated_benefits) AS months
FROM marts.roi_monthly WHERE m <= $m
