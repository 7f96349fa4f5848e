"""Shared test helpers."""

from __future__ import annotations

import os
import re

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def raw_identifier_hits(con, identifiers: set[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of any text column in the database that contains one of the
    raw identifiers (case-insensitive, whole tokens, so a short employee id does not "match"
    inside a hex pseudonym). The privacy property: this is empty."""
    needles = {i.strip().casefold() for i in identifiers if i and len(i.strip()) >= 3}
    words = {n for n in needles if " " not in n}
    phrases = [n for n in needles if " " in n]
    split = re.compile(r"[^0-9a-z@._\-]+")
    hits: list[tuple[str, str, str]] = []
    columns = con.sql(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR%' OR data_type = 'JSON'"
    ).fetchall()
    for schema, table, column in columns:
        values = con.sql(f'SELECT DISTINCT lower(CAST("{column}" AS VARCHAR)) FROM "{schema}"."{table}" '
                         f'WHERE "{column}" IS NOT NULL').fetchall()
        for (value,) in values:
            tokens = set(split.split(value)) | {value}
            tokens |= {t.strip("._-") for t in tokens}
            if tokens & words or any(p in value for p in phrases):
                hits.append((f"{schema}.{table}", column, value))
    return hits


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """The committed demo company run through the whole pipeline once per test session.

    Returns the warehouse path. Open it read-only (`duckdb.connect(str(path), read_only=True)`)
    and never write to it: other tests share it."""
    from kpi.paths import DEMO_DIR
    from pipelines.run import run_pipeline

    out = tmp_path_factory.mktemp("demo")
    warehouse = out / "warehouse.duckdb"
    run_pipeline(DEMO_DIR, DEMO_DIR / "config.yaml", warehouse, allow_development_key=True)
    return warehouse
