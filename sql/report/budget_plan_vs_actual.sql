-- The report, ROI: plan vs actual budget by category. The empty first SELECT supplies sort_order
-- as NULL for a warehouse built before the column existed (then ordered by category).
SELECT category, plan_eur, actual_eur, difference_eur
FROM ((SELECT NULL::INTEGER AS sort_order WHERE false) UNION ALL BY NAME SELECT * FROM marts.budget_plan_vs_actual) AS stored
ORDER BY sort_order NULLS LAST, category
