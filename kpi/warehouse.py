"""Small questions about the DuckDB warehouse that several modules ask."""

from __future__ import annotations


def table_exists(con, qualified_name: str) -> bool:
    """Whether a (non-temporary) table `schema.table` exists in the warehouse."""
    schema, table = qualified_name.split(".")
    return con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND NOT temporary",
        params=[schema, table],
    ).fetchall()[0][0] > 0
