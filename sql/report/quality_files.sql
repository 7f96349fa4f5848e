-- The report, data quality: the current version of every file read at ingest, by folder and
-- format, with the loaded usage rows that matched no employee. The empty first SELECT supplies
-- superseded as NULL for a warehouse built before the column existed (every file is current).
SELECT split_part(file, '/', 1) || ' · ' || replace(format, '_', ' ') AS kind, count(*) AS files,
       sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
       sum(rows_quarantined) AS rows_quarantined, sum(cells_quarantined) AS cells_quarantined,
       sum((SELECT count(*) FROM audit.quarantine q WHERE q.stage = 'match' AND q.file = m.file)) AS rows_unmatched,
       sum(chars_replaced) AS chars_replaced
FROM ((SELECT NULL::BOOLEAN AS superseded WHERE false) UNION ALL BY NAME SELECT * FROM audit.ingest_manifest) m
WHERE superseded IS NOT TRUE
GROUP BY ALL ORDER BY kind
