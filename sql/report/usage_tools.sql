-- The report, tool chart: active users per tool and quarter up to $q (suppressed tools left out).
SELECT quarter, segment AS tool, active_users FROM marts.kpi_usage
WHERE segment_type = 'tool' AND NOT suppressed AND quarter <= $q ORDER BY segment, quarter
