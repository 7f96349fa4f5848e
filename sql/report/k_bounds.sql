-- The report, without a config at hand: per table, the largest group hidden as small and the
-- smallest group that is not (shown, or hidden only as complementary). k lies in between.
SELECT max(group_size) FILTER (suppression_reason = 'small_group') AS largest_small,
       min(group_size) FILTER (suppression_reason IS DISTINCT FROM 'small_group') AS smallest_other
FROM marts.kpi_usage
UNION ALL
SELECT max(group_size) FILTER (suppression_reason = 'small_group'),
       min(group_size) FILTER (suppression_reason IS DISTINCT FROM 'small_group')
FROM marts.kpi_competence
UNION ALL
SELECT max(group_size) FILTER (suppression_reason = 'small_group'),
       min(group_size) FILTER (suppression_reason IS DISTINCT FROM 'small_group')
FROM marts.kpi_culture
