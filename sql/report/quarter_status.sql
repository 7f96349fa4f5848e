-- The report: the latest snapshot version of the quarter and when it was written (NULL: open).
SELECT max(version) AS version, max(computed_at) AS computed_at FROM marts.kpi_snapshots WHERE quarter = $q
