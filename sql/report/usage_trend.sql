-- The report, usage chart: active- and regular-user rate per quarter up to $q, for the company and
-- each target group that is shown.
WITH rates AS (
    SELECT quarter,
           CASE WHEN segment_type = 'company' THEN 'Company' ELSE upper(segment[1]) || segment[2:] END AS segment,
           metric, value,
           CASE segment_type WHEN 'company' THEN 0 WHEN 'department' THEN 1 WHEN 'target_group' THEN 2 ELSE 3 END AS o1,
           CASE segment WHEN 'executive' THEN 1 WHEN 'manager' THEN 2 WHEN 'champion' THEN 3
                        WHEN 'user' THEN 4 ELSE 5 END AS o2
    FROM marts.kpi_usage
    UNPIVOT (value FOR metric IN (active_user_rate AS 'Active-user rate', regular_user_rate AS 'Regular-user rate'))
    WHERE quarter <= $q AND segment_type IN ('company', 'target_group') AND NOT suppressed
)
SELECT quarter, segment, metric, value FROM rates ORDER BY o1, o2, quarter, metric
