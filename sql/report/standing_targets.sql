-- Where we stand: the configured targets and the built-in benchmarks listed in $q
-- (marts.kpi_targets, docs/metrics.md §9): targets first.
SELECT metric_name, segment_type, segment, source, target, actual, status, due_quarter, owner
FROM marts.kpi_targets
WHERE quarter = $q
ORDER BY source <> 'target' ASC, segment_type <> 'company' ASC, segment ASC, metric_name ASC, target DESC
