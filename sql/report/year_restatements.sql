-- The yearly report: every restatement (a snapshot version after the first) of a quarter of the
-- year $year, or written during it, with the day it was written.
SELECT quarter, version, max(computed_at)::DATE AS restated_on
FROM marts.kpi_snapshots
WHERE version > 1
GROUP BY quarter, version
HAVING left(quarter, 4) = $year OR year(max(computed_at))::VARCHAR = $year
ORDER BY quarter, version
