"""Security property: no raw personal identifier of the demo inputs is anywhere in the warehouse
(every text column of every table, and the file's bytes)."""

from __future__ import annotations

import json

import duckdb
import polars as pl

from kpi.paths import DEMO_DIR
from tests.conftest import raw_identifier_hits


def demo_identifiers() -> set[str]:
    found: set[str] = set()
    hr = pl.read_csv(DEMO_DIR / "hr" / "employees.csv", infer_schema=False)
    for column in ("employee_id", "email", "github_login"):
        found |= {v for v in hr.get_column(column).to_list() if v}
    for path in (DEMO_DIR / "usage").rglob("*.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        for column in ("user", "email", "name", "User Principal Name", "Display Name", "public_id"):
            if column in frame.columns:
                found |= {v for v in frame.get_column(column).to_list() if v}
    for path in (DEMO_DIR / "usage").rglob("*.ndjson"):
        for line in path.read_text().splitlines():
            found.add(json.loads(line)["user_login"])
    for path in (DEMO_DIR / "usage").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            found.add(json.loads(line)["user"])
    return found


def test_no_raw_identifier_in_any_text_column(demo_warehouse):
    identifiers = demo_identifiers()
    assert len(identifiers) > 400  # ids, e-mails, logins and display names of ~200 people and contractors
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        assert raw_identifier_hits(con, identifiers) == []


def test_no_raw_email_in_the_file_bytes(demo_warehouse):
    data = demo_warehouse.read_bytes().lower()
    leaked = [i for i in demo_identifiers() if "@" in i and i.lower().encode() in data]
    assert leaked == []
