"""Ingest of a tiny hand-made inputs folder: every row accounted for, every rejection quarantined
with its reason, identifiers pseudonymised, re-ingest idempotent, matching redone every run."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from kpi.config import load_config
from kpi.errors import InputError
from kpi.ingest import ingest_inputs
from kpi.privacy import pseudonymise
from tests.conftest import raw_identifier_hits
from tests.ingest.tiny import IDENTIFIERS, write_tiny_inputs

KEY = b"test-key-0123456789abcdef"


@pytest.fixture()
def tiny(tmp_path):
    root = write_tiny_inputs(tmp_path / "inputs")
    return root, load_config(root / "config.yaml")


@pytest.fixture()
def ingested(tiny):
    root, cfg = tiny
    con = duckdb.connect()
    result = ingest_inputs(con, root, cfg, KEY, now=datetime(2025, 4, 2, 8, 0))
    yield con, result, root, cfg
    con.close()


def manifest(con):
    return {r[0]: r[1:] for r in con.sql(
        "SELECT file, rows_read, rows_loaded, rows_quarantined, rows_replaced, cells_quarantined "
        "FROM audit.ingest_manifest WHERE NOT superseded").fetchall()}


def quarantine(con, stage=None):
    where = f"WHERE stage = '{stage}'" if stage else ""
    return con.sql(f'SELECT file, row_number, "column", value, reason FROM audit.quarantine {where} '
                   "ORDER BY file, row_number, reason").fetchall()


def test_every_row_is_loaded_or_quarantined(ingested):
    con, result, _, _ = ingested
    assert manifest(con) == {
        # file: (read, loaded, quarantined, replaced, cells quarantined)
        "hr/employees.csv": (7, 4, 3, 0, 0),
        "hr/trainings.csv": (4, 2, 2, 0, 0),
        "hr/assessments.csv": (2, 1, 1, 0, 0),
        "finance/costs.csv": (3, 2, 1, 0, 0),
        "business/process_metrics.csv": (3, 2, 1, 0, 0),
        "usage/gateway.csv": (7, 5, 2, 0, 0),
        "surveys/pulse-2025-Q1.csv": (4, 3, 1, 0, 2),
    }
    for report in result.files:
        assert report.rows_read == report.rows_loaded + report.rows_quarantined


def test_ingest_stage_quarantine_names_file_row_column_value_and_reason(ingested):
    con = ingested[0]
    rows = quarantine(con, "ingest")
    plain = [(f, n, c, v, r) for f, n, c, v, r in rows]
    assert ("hr/employees.csv", 5, "Personalnummer", pseudonymise("E004", KEY), "duplicate") in plain
    assert ("hr/employees.csv", 6, "target_group", "boss", "out_of_range") in plain
    assert ("hr/employees.csv", 7, "hire_date", "not-a-date", "invalid_date") in plain
    assert ("hr/trainings.csv", 3, "course_id", "BASICS-1", "duplicate") in plain
    assert ("hr/trainings.csv", 4, "employee_id", pseudonymise("E999", KEY), "unknown_user") in plain
    assert ("hr/assessments.csv", 2, "score", "120", "out_of_range") in plain
    assert ("finance/costs.csv", 3, "booked_on", "2025-02-31", "invalid_date") in plain
    assert ("business/process_metrics.csv", 3, "cases", "-1", "out_of_range") in plain
    assert ("usage/gateway.csv", 2, "(natural key)", None, "duplicate") in plain
    assert ("usage/gateway.csv", 6, "event_time", "2025-13-01", "invalid_date") in plain
    assert ("surveys/pulse-2025-Q1.csv", 2, "I get the support I need to use AI tools", "Maybe",
            "unmapped_label") in plain
    assert ("surveys/pulse-2025-Q1.csv", 3, "I am satisfied with how AI tools are introduced here", "7",
            "out_of_range") in plain
    assert ("surveys/pulse-2025-Q1.csv", 4, "response_id", "r1", "duplicate") in plain
    assert len(plain) == 13


def test_match_stage_decides_known_employee_and_employment(ingested):
    con = ingested[0]
    assert quarantine(con, "match") == [
        ("usage/gateway.csv", 3, "user", pseudonymise("E003", KEY), "before_hire"),  # hired 2025-02-15
        ("usage/gateway.csv", 4, "user", pseudonymise("dan.ek@tiny.example", KEY), "after_exit"),  # left 02-28
        ("usage/gateway.csv", 5, "user", pseudonymise("contractor@ext.example", KEY), "unknown_user"),
    ]
    # Anna's two rows count, matched by e-mail (any case) and by employee id to one employee.
    rows = con.sql("SELECT employee_key, day, interactions, successes, failures FROM intermediate.usage_activity "
                   "ORDER BY day").fetchall()
    anna = pseudonymise("E001", KEY)
    assert rows == [(anna, date(2025, 2, 3), 5, 4, 1), (anna, date(2025, 4, 1), 2, 2, 0)]


def test_utc_timestamp_is_converted_to_the_company_day(ingested):
    # 2025-03-31T23:30Z is 2025-04-01 01:30 in Berlin (CEST): a Q2 day, not Q1.
    con = ingested[0]
    assert con.sql("SELECT day, event_time FROM staging.usage_activity WHERE row_number = 7").fetchall() == [
        (date(2025, 4, 1), datetime(2025, 4, 1, 1, 30))]


def test_staged_hr_rows(ingested):
    con = ingested[0]
    rows = con.sql("SELECT employee_key, department, target_group, hire_date, exit_date, fte, hourly_cost_eur, "
                   "hourly_cost_from_config FROM staging.employees ORDER BY hire_date").fetchall()
    assert rows == [
        (pseudonymise("E004", KEY), "Sales", "manager", date(2019, 1, 1), date(2025, 2, 28), 1.0, 90.0, False),
        (pseudonymise("E001", KEY), "Engineering", "champion", date(2020, 1, 1), None, 1.0, 70.0, False),
        # no hourly cost in the row: the config rate of a `user` (55)
        (pseudonymise("E002", KEY), "Sales", "user", date(2021, 5, 1), None, 0.5, 55.0, True),
        (pseudonymise("E003", KEY), "Engineering", "user", date(2025, 2, 15), None, 1.0, 60.0, False),
    ]
    # Each of id, e-mail and GitHub login is an identity of the same employee.
    assert con.sql("SELECT kind, count(*) FROM staging.employee_identities GROUP BY kind ORDER BY kind").fetchall() \
        == [("email", 4), ("employee_id", 4), ("github_login", 2)]


def test_semicolons_and_decimal_commas(ingested):
    con = ingested[0]
    assert con.sql("SELECT booked_on, category, amount_eur FROM staging.costs ORDER BY booked_on").fetchall() == [
        (date(2024, 12, 20), "external_training", 1000.5), (date(2025, 1, 31), "licenses", -200.0)]


def test_survey_answers_labels_reverse_scoring_and_no_comments(ingested):
    con = ingested[0]
    answers = con.sql("SELECT response_id, item, answer_points, points FROM staging.survey_answers "
                      "ORDER BY response_id, item").fetchall()
    assert answers == [
        ("r1", "AI tools make my work harder", 1, 5),  # "Strongly disagree", reverse-scored 6 - 1
        ("r1", "I am satisfied with how AI tools are introduced here", 4, 4),  # "Agree"
        ("r2", "AI tools make my work harder", 2, 4),
        ("r2", "I am satisfied with how AI tools are introduced here", 5, 5),  # "Strongly agree." (period)
        ("r3", "AI tools make my work harder", 2, 4),  # digits are points
        ("r3", "I get the support I need to use AI tools", 4, 4),
    ]
    # r1's empty support answer is a skipped item: missing, not quarantined.
    columns = {r[0] for r in con.sql("SELECT column_name FROM information_schema.columns "
                                     "WHERE table_name LIKE 'survey%'").fetchall()}
    assert not any("comment" in c.lower() for c in columns)


def test_no_raw_identifier_anywhere_in_the_warehouse(ingested):
    con = ingested[0]
    assert raw_identifier_hits(con, IDENTIFIERS) == []
    # the survey comment held an e-mail address: it is not stored either
    assert raw_identifier_hits(con, {"contact me"}) == []


def test_reingest_is_idempotent(ingested):
    con, _, root, cfg = ingested
    tables = ["staging.employees", "staging.usage_activity", "staging.survey_answers", "staging.costs",
              "intermediate.usage_activity", "audit.quarantine"]
    before = {t: sorted(map(str, con.sql(f"SELECT * FROM {t}").fetchall())) for t in tables}
    second = ingest_inputs(con, root, cfg, KEY, now=datetime(2025, 4, 3))
    assert [r.file for r in second.files if r.skipped] == [  # nothing changed: nothing read again
        "hr/employees.csv", "hr/trainings.csv", "hr/assessments.csv", "finance/costs.csv",
        "business/process_metrics.csv", "usage/gateway.csv", "surveys/pulse-2025-Q1.csv"]
    after = {t: sorted(map(str, con.sql(f"SELECT * FROM {t}").fetchall())) for t in tables}
    assert after == before
    assert con.sql("SELECT count(*) FROM audit.ingest_manifest").fetchall() == [(7,)]


def test_overlapping_export_counts_once_and_a_corrected_row_replaces(ingested):
    con, _, root, cfg = ingested
    # A second download overlapping the first: one identical row, one corrected (5 -> 6 interactions).
    (root / "usage" / "gateway-redownload.csv").write_text(
        "event_time,user,tool,action,interactions,successes,failures\n"
        "2025-03-31T23:30:00Z,E001,chat-gateway,chat,2,2,0\n"
        "2025-02-03,anna.berg@tiny.example,chat-gateway,chat,6,5,1\n")
    ingest_inputs(con, root, cfg, KEY)
    assert manifest(con)["usage/gateway-redownload.csv"] == (2, 1, 1, 1, 0)
    assert con.sql("SELECT day, interactions FROM intermediate.usage_activity ORDER BY day").fetchall() == [
        (date(2025, 2, 3), 6), (date(2025, 4, 1), 2)]


def test_a_state_file_is_read_again_when_it_or_its_settings_change(ingested):
    con, _, root, cfg = ingested
    read_again = lambda result: [r.file for r in result.files if not r.skipped and r.input_kind == "state"]  # noqa: E731
    # the HR list changed: it is read again, and so are the files checked against it
    employees = root / "hr" / "employees.csv"
    employees.write_text(employees.read_text().replace("2025-02-15", "2025-02-01"))
    assert read_again(ingest_inputs(con, root, cfg, KEY)) == [
        "hr/employees.csv", "hr/trainings.csv", "hr/assessments.csv"]
    # the ledger changed: only the ledger
    costs = root / "finance" / "costs.csv"
    costs.write_text(costs.read_text() + "2025-03-31;licenses;100;late invoice\n")
    assert read_again(ingest_inputs(con, root, cfg, KEY)) == ["finance/costs.csv"]
    assert con.sql("SELECT count(*) FROM audit.ingest_manifest WHERE file = 'finance/costs.csv' AND NOT superseded"
                   ).fetchall() == [(1,)]
    # a config change (here an hourly rate) or another pseudonym key: every state file
    changed = cfg.model_copy(update={"rates": cfg.rates.model_copy(update={
        "hourly_cost_eur": cfg.rates.hourly_cost_eur.model_copy(update={"user": 99.0})})})
    assert len(read_again(ingest_inputs(con, root, changed, KEY))) == 5
    assert read_again(ingest_inputs(con, root, changed, KEY)) == []


def test_another_pseudonym_key_is_refused_in_one_line(ingested):
    """Usage staged under one key never matches an HR list pseudonymised with another."""
    from kpi.errors import UserError

    con, _, root, cfg = ingested
    before = con.sql("SELECT count(*) FROM intermediate.usage_activity").fetchall()
    with pytest.raises(UserError) as error:
        ingest_inputs(con, root, cfg, b"another-key-0123456789")
    message = str(error.value)
    assert "another pseudonym key than the one in KPI_PSEUDONYM_KEY" in message and "\n" not in message
    assert con.sql("SELECT count(*) FROM intermediate.usage_activity").fetchall() == before
    assert con.sql("SELECT count(*) FROM audit.pseudonym_key_check").fetchall() == [(1,)]


def test_an_hr_correction_brings_rows_back(ingested):
    con, _, root, cfg = ingested
    employees = root / "hr" / "employees.csv"
    employees.write_text(employees.read_text().replace("2025-02-15", "2025-02-01"))  # E003 hired earlier
    ingest_inputs(con, root, cfg, KEY)
    assert [r[4] for r in quarantine(con, "match")] == ["after_exit", "unknown_user"]
    assert con.sql("SELECT count(*) FROM intermediate.usage_activity").fetchall() == [(3,)]
    # the superseded HR version stays in the manifest, marked as such
    assert con.sql("SELECT count(*) FROM audit.ingest_manifest WHERE file = 'hr/employees.csv' AND superseded"
                   ).fetchall() == [(1,)]


@pytest.mark.parametrize("change, message", [
    (lambda root: (root / "hr" / "trainings.csv").unlink(),
     "hr/trainings.csv: required file is missing in"),
    (lambda root: (root / "hr" / "employees.csv").write_text(
        "Personalnummer,department,target_group\nE1,Sales,user\n"),
     "hr/employees.csv: required column 'hire_date' is missing"),
    (lambda root: (root / "finance" / "costs.csv").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50),
     "finance/costs.csv: not a text file"),
    (lambda root: (root / "usage" / "export.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100),
     "usage/export.xlsx:"),
    (lambda root: (root / "usage" / "notes.csv").write_text("when,who,what\n2025-01-01,a,b\n"),
     "usage/notes.csv: unrecognised usage format"),
])
def test_unusable_file_stops_with_one_line_naming_file_problem_and_fix(tiny, change, message):
    root, cfg = tiny
    change(root)
    with pytest.raises(InputError) as error:
        ingest_inputs(duckdb.connect(), root, cfg, KEY)
    text = str(error.value)
    assert message in text
    assert "\n" not in text


def test_demo_company_twice_gives_identical_staging_tables(tmp_path):
    from kpi.paths import DEMO_DIR

    cfg = load_config(DEMO_DIR / "config.yaml")
    snapshots = []
    for attempt in range(2):
        con = duckdb.connect()
        ingest_inputs(con, DEMO_DIR, cfg, KEY)
        if attempt == 0:  # and ingesting again into the same warehouse changes nothing
            ingest_inputs(con, DEMO_DIR, cfg, KEY)
        tables = [r[0] for r in con.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                                        "WHERE schema_name IN ('staging', 'intermediate') ORDER BY 1").fetchall()]
        snapshots.append({t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables})
        con.close()
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["staging.usage_activity"]) > 30000


def test_files_of_one_run_compare_in_order_like_one_by_one(tiny):
    """Three new exports in one run carrying the same activity: the second (equal) is a duplicate,
    the third (corrected) replaces it, whatever the batch size."""
    root, cfg = tiny
    header = "event_time,user,tool,action,interactions,successes,failures\n"
    for name, interactions, more in (("z1", 4, ""), ("z2", 4, "2025-03-11,E001,claude,chat,1,1,0\n"), ("z3", 9, "")):
        (root / "usage" / f"{name}.csv").write_text(header + f"2025-03-10,E001,claude,chat,{interactions},4,0\n" + more)
    results = []
    for batch_rows in (1, 10_000):  # one file per batch (the old file-by-file ingest) and all in one
        import kpi.ingest.usage as usage

        previous, usage.BATCH_ROWS = usage.BATCH_ROWS, batch_rows
        try:
            con = duckdb.connect()
            ingest_inputs(con, root, cfg, KEY, now=datetime(2025, 4, 2, 8, 0))
        finally:
            usage.BATCH_ROWS = previous
        found = manifest(con)
        assert [found[f"usage/{n}.csv"] for n in ("z1", "z2", "z3")] == [
            (1, 1, 0, 0, 0), (2, 1, 1, 0, 0), (1, 1, 0, 1, 0)]
        assert con.sql("SELECT file, day, interactions FROM staging.usage_activity WHERE tool = 'claude' "
                       "AND user_key = ? ORDER BY day", params=[pseudonymise("E001", KEY)]).fetchall() == [
            ("usage/z3.csv", date(2025, 3, 10), 9), ("usage/z2.csv", date(2025, 3, 11), 1)]
        assert [q for q in quarantine(con, "ingest") if q[0] == "usage/z2.csv"] == [
            ("usage/z2.csv", 1, "(natural key)", None, "duplicate")]
        results.append({t: sorted(map(str, con.sql(f"SELECT * EXCLUDE (ingested_at) FROM {t}").fetchall()
                                      if t == "audit.ingest_manifest" else con.sql(f"SELECT * FROM {t}").fetchall()))
                        for t in ("staging.usage_activity", "audit.quarantine", "audit.ingest_manifest")})
        con.close()
    assert results[0] == results[1]


def test_a_rewritten_file_of_the_same_size_is_hashed_again(ingested):
    """Hashes are remembered per (path, size, modification time): a corrected export of exactly the
    same size is still read, because writing it changed its modification time."""
    import os

    con, _, root, cfg = ingested
    path = root / "usage" / "gateway.csv"
    text = path.read_text()
    stat = path.stat()
    assert ",5,4,1" in text
    path.write_text(text.replace(",5,4,1", ",6,4,2"))  # same size, other figures
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = ingest_inputs(con, root, cfg, KEY)
    [report] = [r for r in second.files if r.file == "usage/gateway.csv"]
    assert not report.skipped and report.rows_replaced == 1
    assert con.sql("SELECT file, size FROM audit.file_hashes WHERE file = 'usage/gateway.csv'").fetchall() == [
        ("usage/gateway.csv", stat.st_size)]  # the path inside the inputs folder, not where that is
