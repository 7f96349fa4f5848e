-- The report, tool table: each tool in $q, with its active users in the previous quarter $p.
SELECT c.segment, c.suppressed, c.suppression_reason, c.active_users, c.active_user_rate,
       c.interaction_share, c.interactions_per_active_user_week, p.active_users AS prev_active_users
FROM marts.kpi_usage c LEFT JOIN marts.kpi_usage p
  ON p.quarter = $p AND p.segment_type = 'tool' AND p.segment = c.segment
WHERE c.quarter = $q AND c.segment_type = 'tool' ORDER BY c.active_users DESC NULLS LAST, c.segment ASC
