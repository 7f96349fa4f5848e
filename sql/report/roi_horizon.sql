-- The report, ROI: the last month of the series (the horizon the tornado and scenarios refer to).
SELECT m, month, roi_pct, cum_costs, cum_benefits FROM marts.roi_monthly ORDER BY m DESC LIMIT 1
