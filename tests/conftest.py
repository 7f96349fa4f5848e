"""Shared test helpers."""

from __future__ import annotations

import os
import re

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def raw_identifier_hits(con, identifiers: set[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of any text column in the database that contains one of the
    raw identifiers (case-insensitive). The privacy property: this is empty."""
    needles = sorted({i.strip().casefold() for i in identifiers if i and len(i.strip()) >= 3})
    hits: list[tuple[str, str, str]] = []
    columns = con.sql(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR%' OR data_type = 'JSON'"
    ).fetchall()
    if not needles:
        return hits
    # Whole-token matches only: a short employee id must not "match" inside a hex pseudonym.
    patterns = [r"(^|[^0-9a-z_])" + re.escape(n) + r"($|[^0-9a-z_])" for n in needles]
    con.execute("CREATE OR REPLACE TEMP TABLE _needles AS SELECT unnest(?::VARCHAR[]) AS needle, "
                "unnest(?::VARCHAR[]) AS pattern", [needles, patterns])
    for schema, table, column in columns:
        rows = con.sql(
            f'SELECT DISTINCT n.needle, t."{column}" FROM "{schema}"."{table}" t '
            f'JOIN _needles n ON regexp_matches(lower(t."{column}"), n.pattern) LIMIT 5'
        ).fetchall()
        hits += [(f"{schema}.{table}", column, value) for _, value in rows]
    return hits
