-- The report, licences: seats against active users per tool in $q (marts.kpi_licences,
-- docs/metrics.md §14).
SELECT tool, seats, active_users, utilisation, idle_seats, cost_eur, cost_per_active_user
FROM marts.kpi_licences
WHERE quarter = $q
ORDER BY tool
