"""No raw identifier reaches staging through a text column (swapped columns, an e-mail in a description).

A value of a non-identifier text column (tool, action, department, process, course_id, ...) that looks
like an e-mail address or equals an identifier of the HR list quarantines its row as `out_of_range`;
in the free-text columns costs.description and use_cases.title it is pseudonymised in place instead
(docs/quality.md, "Identifiers in text columns").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from kpi.config import load_config
from kpi.ingest import InputChecks, ingest_inputs
from kpi.privacy import pseudonymise
from tests.conftest import raw_identifier_hits
from tests.ingest.tiny import IDENTIFIERS, write_tiny_inputs

KEY = b"test-key-0123456789abcdef"
NOW = dt.datetime(2025, 4, 2, 8, 0)


def swap_header(path: Path, a: str, b: str) -> None:
    head, rest = path.read_text(encoding="utf-8").split("\n", 1)
    sep = ";" if ";" in head else ","
    path.write_text(sep.join(b if n == a else a if n == b else n for n in head.split(sep)) + "\n" + rest,
                    encoding="utf-8")


def append(path: Path, *lines: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


def ingest(root: Path):
    cfg = load_config(root / "config.yaml")
    con = duckdb.connect()
    checks = InputChecks.from_config(cfg, NOW, stop_on_fatal=False, echo=False)
    return con, ingest_inputs(con, root, cfg, KEY, now=NOW, checks=checks)


def assert_accounting(con, result) -> None:
    for report in result.files:
        assert report.rows_read == report.rows_loaded + report.rows_quarantined, report
    rows = con.sql("SELECT file, rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest").fetchall()
    for file, read, loaded, quarantined in rows:
        assert read == loaded + quarantined, file
    quarantined = dict(con.sql("SELECT file, count(DISTINCT row_number) FROM audit.quarantine "
                               "WHERE stage = 'ingest' AND reason <> 'malformed_row' GROUP BY file").fetchall())
    for file, _, _, n in rows:
        if file.startswith(("usage/", "hr/", "finance/", "business/")):
            assert quarantined.get(file, 0) <= n, file


def test_swapped_usage_user_and_tool_and_an_e_mail_in_a_cost_description(tmp_path):
    root = write_tiny_inputs(tmp_path / "inputs")
    swap_header(root / "usage" / "gateway.csv", "user", "tool")
    append(root / "finance" / "costs.csv", "2025-01-15;materials;10;invoice from Anna.Berg@tiny.example, March")
    con, result = ingest(root)
    assert raw_identifier_hits(con, IDENTIFIERS) == []
    assert_accounting(con, result)
    # every usage row held a person in its tool column: quarantined, the value pseudonymised
    usage = con.sql("SELECT row_number, \"column\", value, reason FROM audit.quarantine "
                    "WHERE file = 'usage/gateway.csv' AND reason = 'out_of_range' ORDER BY row_number").fetchall()
    assert (1, "tool", pseudonymise("anna.berg@tiny.example", KEY), "out_of_range") in usage
    assert (3, "tool", pseudonymise("E003", KEY), "out_of_range") in usage
    assert (5, "tool", pseudonymise("contractor@ext.example", KEY), "out_of_range") in usage
    assert con.sql("SELECT count(*) FROM staging.usage_activity").fetchall() == [(0,)]
    # the cost row is kept (quarantining it would change the ROI), the e-mail in it pseudonymised
    assert con.sql("SELECT description FROM staging.costs WHERE amount_eur = 10").fetchall() == [
        (f"invoice from {pseudonymise('anna.berg@tiny.example', KEY)}, March",)]


CASES = {
    # case: (file, lines appended, (column quarantined as out_of_range, row number) or None when kept)
    "usage action holds an HR id": ("usage/gateway.csv", ("2025-02-11,E001,chat-gateway, e002 ,1,,",), ("action", 8)),
    "trainings course_id holds an e-mail": (
        "hr/trainings.csv", ("E003,dan.ek@tiny.example,elearning,2025-03-01,,enrolled,1",), ("course_id", 5)),
    "assessments instrument holds a login": (
        "hr/assessments.csv", ("E003,2025-03-01,ANNAB,50,100",), ("instrument", 3)),
    "process department holds an e-mail": (
        "business/process_metrics.csv", ("2025-01,onboarding,fay.gul@tiny.example,1,1,0,",), ("department", 4)),
    "use case title holds an e-mail": (
        "business/use_cases.csv", ("use_case_id,title,department,submitted_on,status,self_developed",
                                   "UC1,Mail triage for cara.diaz@tiny.example,Sales,2025-02-01,idea,false",
                                   "UC2,E002,Sales,2025-02-01,idea,false"), None),
    "survey department holds an e-mail": (
        "surveys/pulse-2025-Q1.csv", ("r7,2025-03-24T11:00:00,eve.fox@tiny.example,user,Agree,Agree,Agree,",),
        ("department", 5)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_raw_identifier_in_any_text_column(tmp_path, case):
    rel, lines, quarantined = CASES[case]
    root = write_tiny_inputs(tmp_path / "inputs")
    append(root / rel, *lines)
    con, result = ingest(root)
    assert raw_identifier_hits(con, IDENTIFIERS) == []
    assert_accounting(con, result)
    rows = con.sql("SELECT \"column\", row_number FROM audit.quarantine WHERE file = ? AND reason = 'out_of_range'",
                   params=[rel]).fetchall()
    if quarantined:
        assert quarantined in rows
    else:
        assert rows == []
