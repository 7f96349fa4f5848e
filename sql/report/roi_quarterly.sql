-- The report, ROI: the figures as of each quarter's last month.
SELECT quarter, m, cum_costs, cum_benefits, cum_gross_benefits, roi_pct, bcr, break_even_month, payback_months,
       npv, discounted_payback_months, year1_roi_pct, break_even_attribution, year1_break_even_attribution
FROM marts.roi_quarterly ORDER BY m
