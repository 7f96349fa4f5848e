-- The report, ROI by department and process (marts.roi_by_segment, docs/metrics.md §16): every row
-- in its order; a withheld row carries no figure.
SELECT segment_type, segment, suppressed, suppression_reason, costs, costs_allocated, benefits, net_benefit, roi_pct,
       payback_months, rank
FROM marts.roi_by_segment
ORDER BY sort_order
