-- The report, usage table: company, departments and target groups in $q, with the rates of the
-- previous quarter $p.
SELECT c.segment_type, c.segment, c.suppressed, c.suppression_reason, c.headcount, c.active_users,
       c.active_user_rate, c.regular_user_rate, c.interactions_per_employee_week,
       p.active_user_rate AS prev_active_user_rate, p.regular_user_rate AS prev_regular_user_rate
FROM marts.kpi_usage c LEFT JOIN marts.kpi_usage p
  ON p.quarter = $p AND p.segment_type = c.segment_type AND p.segment = c.segment
WHERE c.quarter = $q AND c.segment_type IN ('company', 'department', 'target_group')
ORDER BY CASE c.segment_type WHEN 'company' THEN 0 WHEN 'department' THEN 1 WHEN 'target_group' THEN 2 ELSE 3 END,
         CASE c.segment WHEN 'executive' THEN 1 WHEN 'manager' THEN 2 WHEN 'champion' THEN 3
                        WHEN 'user' THEN 4 ELSE 5 END,
         c.segment
