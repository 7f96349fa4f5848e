-- The report, ROI chart: cumulative costs and benefits by month up to month $m.
SELECT strftime(month, '%Y-%m-%d') AS month, m, cum_costs, cum_benefits FROM marts.roi_monthly
WHERE m <= $m ORDER BY m
