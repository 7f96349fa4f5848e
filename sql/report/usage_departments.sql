-- The report, department heatmap: the active-user rate of each department per quarter up to $q; a
-- suppressed cell carries its reason and no figure.
SELECT segment, quarter,
       CASE WHEN suppressed THEN NULL ELSE active_user_rate END AS active_user_rate,
       suppressed, CASE WHEN suppressed THEN suppression_reason END AS reason
FROM marts.kpi_usage
WHERE segment_type = 'department' AND quarter <= $q ORDER BY segment, quarter
