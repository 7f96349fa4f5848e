-- The report, use cases not in production yet (marts.roi_use_cases, docs/metrics.md §17): the
-- largest expected annual benefits first.
SELECT use_case_id, title, department, status, est_hours_saved_per_month, expected_annual_benefit_eur,
       implementation_cost_eur, simple_payback_months
FROM marts.roi_use_cases
ORDER BY sort_order
LIMIT 10
