-- The report: every table of the warehouse, to tell which sections it can show.
SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary
