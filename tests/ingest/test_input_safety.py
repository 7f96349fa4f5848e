"""Issue 19, the input half: what ingest does with a file that is wrong as a whole.

Sanity gates (a required state file that loads nothing, loses too much or has a column without one
usable value stops the run; any other input gets a warning), identifiers kept out of the quarantine
whatever the column, implausible dates quarantined as out_of_range in every input, links that leave
the inputs folder refused, concealed Microsoft 365 reports flagged per file, a file with the content
of another named, and a development-key warehouse marked. Every hostile file is generated here from
the tiny inputs of tests/ingest/tiny.py.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from kpi.adapters import registry
from kpi.adapters.textio import DateRange
from kpi.adapters.usage import read_usage_file
from kpi.config import load_config
from kpi.errors import InputError, UserError
from kpi.ingest import InputChecks, ingest_inputs
from kpi.ingest.checks import CONCEALED_IDENTITY_HINT
from kpi.ingest.files import discover_inputs
from kpi.ingest.store import development_key_warehouse
from kpi.privacy import DEVELOPMENT_KEY, pseudonymise
from tests.conftest import raw_identifier_hits
from tests.ingest.tiny import IDENTIFIERS, write_tiny_inputs

KEY = b"test-key-0123456789abcdef"
NOW = dt.datetime(2025, 4, 2, 8, 0)

COSTS_LINE = ("finance/costs.csv: every booked_on is invalid (3 of 3 rows quarantined as invalid_date): "
              "are the columns swapped? see columns.costs in the config")
EMPLOYEES_LINE = ("hr/employees.csv: every hire_date is invalid (7 of 7 rows quarantined as invalid_date): "
                  "are the columns swapped? see columns.employees in the config")


def swap_header(path: Path, a: str, b: str) -> None:
    """Swap two column names in a CSV header (the data stays where it is)."""
    head, rest = path.read_text(encoding="utf-8").split("\n", 1)
    sep = ";" if ";" in head else ","
    names = [b if n == a else a if n == b else n for n in head.split(sep)]
    path.write_text(sep.join(names) + "\n" + rest, encoding="utf-8")


def append(path: Path, *lines: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


@pytest.fixture()
def tiny(tmp_path):
    return write_tiny_inputs(tmp_path / "inputs")


def cfg_of(root: Path, extra: str = ""):
    if extra:
        (root / "config.yaml").write_text((root / "config.yaml").read_text() + extra)
    return load_config(root / "config.yaml")


def collect(cfg) -> InputChecks:
    """The checks `kpi validate` uses: every file checked, fatal problems collected."""
    return InputChecks.from_config(cfg, NOW, stop_on_fatal=False, echo=False)


def ingest(root: Path, cfg=None, checks=None, key=KEY, con=None):
    con = con or duckdb.connect()
    cfg = cfg or cfg_of(root)
    return con, ingest_inputs(con, root, cfg, key, now=NOW, checks=checks or collect(cfg))


def quarantine(con, file: str | None = None) -> list[tuple]:
    where = "WHERE file = ?" if file else ""
    return con.sql(f'SELECT file, row_number, "column", value, reason FROM audit.quarantine {where} '
                   "ORDER BY file, row_number", params=[file] if file else None).fetchall()


# ----------------------------------------------------------------------------------------------
# 1. sanity gates


def test_swapped_cost_columns_stop_the_ingest_with_one_line(tiny):
    swap_header(tiny / "finance" / "costs.csv", "booked_on", "amount_eur")
    con = duckdb.connect()
    with pytest.raises(InputError) as error:
        ingest_inputs(con, tiny, cfg_of(tiny), KEY, now=NOW,
                      checks=InputChecks.from_config(cfg_of(tiny), NOW, echo=False))
    assert str(error.value) == COSTS_LINE


def test_swapped_employee_columns_stop_the_ingest_with_one_line(tiny):
    swap_header(tiny / "hr" / "employees.csv", "email", "hire_date")
    with pytest.raises(InputError) as error:
        ingest_inputs(duckdb.connect(), tiny, cfg_of(tiny), KEY, now=NOW,
                      checks=InputChecks.from_config(cfg_of(tiny), NOW, echo=False))
    assert str(error.value) == EMPLOYEES_LINE


def test_validate_collects_every_fatal_problem_and_reads_on(tiny):
    swap_header(tiny / "finance" / "costs.csv", "booked_on", "amount_eur")
    swap_header(tiny / "hr" / "employees.csv", "email", "hire_date")
    con, result = ingest(tiny)
    assert result.fatal == [EMPLOYEES_LINE, COSTS_LINE]
    # read on: every file has its manifest line
    assert con.sql("SELECT count(*) FROM audit.ingest_manifest").fetchall() == [(7,)]
    # with no employee staged, every training row is an unknown user: a warning (trainings are optional)
    assert [(w.file, w.warning) for w in result.warnings] == [
        ("hr/trainings.csv", "no_rows_loaded"), ("hr/assessments.csv", "no_rows_loaded")]
    assert result.warnings[0].detail == (
        "hr/trainings.csv: no row could be loaded (3 of 4 rows quarantined as unknown_user); correct the file "
        "(kpi validate lists the reasons, audit.quarantine every row)")


def test_a_required_file_losing_more_than_the_allowed_share_stops(tiny):
    config = tiny / "config.yaml"
    config.write_text(config.read_text().replace("  max_quarantined_share: 0.5\n", "  max_quarantined_share: 0.25\n"))
    with pytest.raises(InputError) as error:
        ingest_inputs(duckdb.connect(), tiny, cfg_of(tiny), KEY, now=NOW,
                      checks=InputChecks.from_config(cfg_of(tiny), NOW, echo=False))
    # 3 of 7 quarantined, one of them a duplicate (which does not count): 2 of 7 = 28.6 % > 25 %
    assert str(error.value) == (
        "hr/employees.csv: 2 of 7 rows quarantined (28.6 %, as invalid_date 1, out_of_range 1), more than "
        "quality.max_quarantined_share (25 %); correct the file, or raise quality.max_quarantined_share in the "
        "config if that many rejected rows are expected")


def test_default_share_is_a_fifth(tiny):
    config = tiny / "config.yaml"
    config.write_text(config.read_text().replace("  max_quarantined_share: 0.5\n", ""))
    cfg = cfg_of(tiny)
    assert cfg.quality.max_quarantined_share == 0.2
    _, result = ingest(tiny, cfg)
    assert [line.split(":")[0] for line in result.fatal] == ["hr/employees.csv", "finance/costs.csv"]
    assert result.fatal[1].startswith("finance/costs.csv: 1 of 3 rows quarantined (33.3 %, as invalid_date), more "
                                      "than quality.max_quarantined_share (20 %)")


def test_a_header_only_employee_list_stops(tiny):
    path = tiny / "hr" / "employees.csv"
    path.write_text(path.read_text().split("\n", 1)[0] + "\n")
    with pytest.raises(InputError) as error:
        ingest_inputs(duckdb.connect(), tiny, cfg_of(tiny), KEY, now=NOW,
                      checks=InputChecks.from_config(cfg_of(tiny), NOW, echo=False))
    assert str(error.value) == ("hr/employees.csv: no data rows, only a header; export the current HR list "
                                "(employee_id, department, target_group, hire_date, ...)")


def test_an_optional_input_gets_a_warning_recorded_in_the_audit_table(tiny):
    swap_header(tiny / "business" / "process_metrics.csv", "month", "process")
    append(tiny / "usage" / "other.csv", "event_time,user,tool", "today,E001,chat-gateway", "soon,E002,chat-gateway")
    con, result = ingest(tiny, checks=InputChecks.from_config(cfg_of(tiny), NOW, echo=False))  # as kpi run does
    assert result.fatal == []
    lines = {
        "business/process_metrics.csv": "business/process_metrics.csv: every month is invalid (3 of 3 rows "
        "quarantined as invalid_date): are the columns swapped? see columns.process_metrics in the config",
        "usage/other.csv": "usage/other.csv: every event_time is invalid (2 of 2 rows quarantined as invalid_date): "
        "is it the right export? see docs/inputs.md, Usage formats",
    }
    assert [(w.file, w.warning, w.detail) for w in result.warnings] == [
        (file, "column_invalid", line) for file, line in lines.items()]
    assert con.sql("SELECT file, warning, detail, noted_at FROM audit.input_warnings ORDER BY file").fetchall() == [
        (file, "column_invalid", line, NOW) for file, line in lines.items()]


def test_warnings_are_printed_as_the_run_finds_them(tiny, capsys):
    swap_header(tiny / "business" / "process_metrics.csv", "month", "process")
    cfg = cfg_of(tiny)
    ingest(tiny, cfg, checks=InputChecks.from_config(cfg, NOW))
    assert capsys.readouterr().err == (
        "warning: business/process_metrics.csv: every month is invalid (3 of 3 rows quarantined as invalid_date): "
        "are the columns swapped? see columns.process_metrics in the config\n")


def test_a_survey_item_without_one_readable_answer_is_a_warning(tiny):
    path = tiny / "surveys" / "pulse-2025-Q1.csv"
    header = path.read_text().split("\n", 1)[0]
    path.write_text(header + "\nr1,2025-03-20T10:00:00,Sales,user,Stimme zu,Stimme nicht zu,,\n"
                             "r2,2025-03-21T10:00:00,Sales,user,Stimme voll zu,Stimme nicht zu,,\n")
    _, result = ingest(tiny)
    assert [w.detail for w in result.warnings if w.file.startswith("surveys/")] == [
        f"surveys/pulse-2025-Q1.csv: no answer to '{item}' could be read (2 answers quarantined as unmapped_label); "
        "check survey.labels and survey.scale_max in the config"
        for item in ("I am satisfied with how AI tools are introduced here", "AI tools make my work harder")]


def test_a_re_export_whose_rows_are_all_known_is_no_warning(tiny):
    con, _ = ingest(tiny)
    gateway = (tiny / "usage" / "gateway.csv").read_text()
    (tiny / "usage" / "gateway-again.csv").write_text(gateway + "\n")  # other bytes, the same rows
    _, again = ingest(tiny, con=con)
    report = next(r for r in again.files if r.file == "usage/gateway-again.csv")
    # 6 rows loaded before (duplicates) and the bad date of the original: 1 of 7 lost, under the share
    assert (report.skipped, report.rows_loaded, report.quarantine_reasons) == (
        False, 0, {"duplicate": 6, "invalid_date": 1})
    assert [w for w in again.warnings if w.file.startswith("usage/")] == []


# ----------------------------------------------------------------------------------------------
# 2. the quarantine never stores a raw identifier


SURVEY_WITH_IDENTITY = """\
response_id,E-mail,submitted_at,I am satisfied with how AI tools are introduced here
r1,anna.berg@tiny.example,2025-03-20T10:00:00,Agree
r2,E002,2025-03-21T10:00:00,Disagree
"""
M365_HEADER = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
               "Copilot Chat Last Activity Date,Microsoft Teams Copilot Last Activity Date,"
               "Word Copilot Last Activity Date,Report Period")
CHATGPT_HEADER = ("cadence,period_start,period_end,email,name,first_day_active_in_period,"
                  "last_day_active_in_period,messages")


def github_line(day: str, login: str) -> str:
    return json.dumps({"day": day, "user_login": login, "user_initiated_interaction_count": 2,
                       "code_generation_activity_count": 3, "code_acceptance_activity_count": 1})


SWAPS = {
    # input kind: (file, the two columns swapped, extra lines written first (identifiers in a text column))
    "employees (e-mails into hire_date)": ("hr/employees.csv", ("email", "hire_date"), ()),
    "employees (ids into hire_date)": ("hr/employees.csv", ("Personalnummer", "hire_date"), ()),
    "trainings": ("hr/trainings.csv", ("employee_id", "started_on"), ()),
    "assessments": ("hr/assessments.csv", ("employee_id", "assessed_on"), ()),
    "costs": ("finance/costs.csv", ("booked_on", "description"),
              ("2025-01-15;materials;10;anna.berg@tiny.example", "2025-01-16;materials;10;E003")),
    "process metrics": ("business/process_metrics.csv", ("month", "department"), ("2025-01,onboarding,annab,1,1,0,",)),
    "use cases": ("business/use_cases.csv", ("title", "submitted_on"),
                  ("use_case_id,title,department,submitted_on,status,self_developed",
                   "UC1,E001,Sales,2025-02-01,idea,false", "UC2,cara.diaz@tiny.example,Sales,2025-02-02,pilot,true")),
    "usage, canonical": ("usage/gateway.csv", ("event_time", "user"), ()),
    "usage, Microsoft 365": ("usage/m365.csv", ("Report Refresh Date", "User Principal Name"),
                             (M365_HEADER, "2025-03-09,dan.ek@tiny.example,Dan,2025-03-05,2025-03-05,,,7")),
    "usage, ChatGPT": ("usage/chatgpt.csv", ("period_start", "email"),
                       (CHATGPT_HEADER,
                        "weekly,2025-03-03,2025-03-09,ben.cole@tiny.example,Ben,2025-03-04,2025-03-05,4")),
    "usage, GitHub": ("usage/github.ndjson", None, (github_line("annab", "2025-03-04"), github_line("carad", "E003"))),
    "surveys": ("surveys/identified.csv", ("E-mail", "submitted_at"), SURVEY_WITH_IDENTITY.splitlines()),
}


@pytest.mark.parametrize("case", list(SWAPS))
def test_no_raw_identifier_in_the_quarantine_after_swapped_columns(tiny, case):
    rel, swapped, lines = SWAPS[case]
    path = tiny / rel
    append(path, *lines)
    if swapped:
        swap_header(path, *swapped)
    if case == "surveys":
        config = tiny / "config.yaml"
        config.write_text(config.read_text().replace("columns:\n", 'columns:\n  surveys: {"E-mail": identity}\n'))
    cfg = cfg_of(tiny)
    con, _ = ingest(tiny, cfg)  # as kpi validate reads (nothing stops it): the quarantine of every file is written
    values = con.sql("SELECT value FROM audit.quarantine WHERE file = ? AND stage = 'ingest'", params=[rel]).fetchall()
    assert values, "the swap quarantines rows"
    hits = [hit for hit in raw_identifier_hits(con, IDENTIFIERS) if hit[0] == "audit.quarantine"]
    assert hits == []


def test_a_quarantined_e_mail_or_hr_identifier_is_stored_as_its_pseudonym(tiny):
    swap_header(tiny / "hr" / "trainings.csv", "employee_id", "started_on")
    append(tiny / "finance" / "costs.csv", "2025-01-15;materials;ten;paid by E003")
    append(tiny / "usage" / "gateway.csv", "someday Anna.Berg@tiny.example,E001,chat-gateway,chat,1,,")
    con, _ = ingest(tiny)
    rows = quarantine(con, "hr/trainings.csv")
    # started_on holds the employee ids now: E001 and E002 are HR ids (matching form), E999 is not
    assert rows == [
        ("hr/trainings.csv", 1, "started_on", pseudonymise("E001", KEY), "invalid_date"),
        ("hr/trainings.csv", 2, "started_on", pseudonymise("E002", KEY), "invalid_date"),
        ("hr/trainings.csv", 3, "started_on", pseudonymise("E002", KEY), "invalid_date"),
        # the whole started_on column is unusable (swapped): its values count as identifiers
        ("hr/trainings.csv", 4, "started_on", pseudonymise("E999", KEY), "invalid_date"),
    ]
    assert quarantine(con, "finance/costs.csv")[-1] == ("finance/costs.csv", 4, "amount_eur", "ten", "out_of_range")
    assert quarantine(con, "usage/gateway.csv")[-1] == (
        "usage/gateway.csv", 8, "event_time", pseudonymise("someday Anna.Berg@tiny.example", KEY), "invalid_date")


# ----------------------------------------------------------------------------------------------
# 3. dates outside the plausible range


def write_dated_inputs(root: Path) -> Path:
    """The tiny inputs plus a row dated 0001-01-01 in every dated input (and one far ahead)."""
    write_tiny_inputs(root)
    append(root / "hr" / "employees.csv", "E010,gil.ho@tiny.example,,Sales,user,0001-01-01,,1,50",
           "E011,ida.jo@tiny.example,,Sales,user,2020-01-01,9999-12-31,1,50")  # an open end is kept
    append(root / "hr" / "trainings.csv", "E001,X-1,elearning,0001-01-01,,enrolled,1")
    append(root / "hr" / "assessments.csv", "E002,0001-01-01,ai_literacy,50,100")
    append(root / "finance" / "costs.csv", "0001-01-01;licenses;10;x", "2031-01-01;licenses;10;far ahead")
    append(root / "business" / "process_metrics.csv", "0001-01,quote_preparation,Sales,1,1,0,")
    append(root / "business" / "use_cases.csv", "use_case_id,title,department,submitted_on,status,self_developed",
           "UC1,Mail triage,Sales,2025-02-01,idea,false", "UC2,Old,Sales,0001-01-01,idea,false")
    append(root / "usage" / "gateway.csv", "0001-01-01,E001,chat-gateway,chat,1,,")
    append(root / "usage" / "m365.csv", M365_HEADER, "0001-01-01,anna.berg@tiny.example,Anna,,,,,7",
           "2025-03-09,anna.berg@tiny.example,Anna,2025-03-05,2025-03-05,,,7")
    append(root / "usage" / "github.ndjson", github_line("0001-01-01", "annab"), github_line("2025-03-04", "annab"))
    append(root / "usage" / "chatgpt.csv", CHATGPT_HEADER,
           "weekly,0001-01-01,2025-03-09,ben.cole@tiny.example,Ben,2025-03-04,2025-03-05,4",
           "weekly,2025-03-03,2025-03-09,ben.cole@tiny.example,Ben,2025-03-04,2025-03-05,4")
    # (a second, good row each: a column of which no value is usable is stored pseudonymised, as if swapped)
    append(root / "surveys" / "pulse-2025-Q1.csv",
           "r9,0001-01-01T00:00:00+01:00,Sales,user,Agree,Agree,Agree,")  # before year 1 in UTC: no crash
    return root


def test_a_date_outside_the_plausible_range_is_out_of_range_in_every_input(tmp_path):
    root = write_dated_inputs(tmp_path / "inputs")
    con, result = ingest(root)
    found = {(file, column, value) for file, _, column, value, reason in quarantine(con) if reason == "out_of_range"
             and ("0001-" in (value or "") or "2031" in (value or ""))}
    assert found == {
        ("hr/employees.csv", "hire_date", "0001-01-01"),
        ("hr/trainings.csv", "started_on", "0001-01-01"),
        ("hr/assessments.csv", "assessed_on", "0001-01-01"),
        ("finance/costs.csv", "booked_on", "0001-01-01"),
        ("finance/costs.csv", "booked_on", "2031-01-01"),  # more than 366 days after the run's day
        ("business/process_metrics.csv", "month", "0001-01"),
        ("business/use_cases.csv", "submitted_on", "0001-01-01"),
        ("usage/gateway.csv", "event_time", "0001-01-01"),
        ("usage/m365.csv", "Report Refresh Date", "0001-01-01"),
        ("usage/github.ndjson", "day", "0001-01-01"),
        ("usage/chatgpt.csv", "period_start", "0001-01-01"),
        ("surveys/pulse-2025-Q1.csv", "submitted_at", "0001-01-01T00:00:00+01:00"),
    }
    # the employee with an open end (9999-12-31) is kept; no staged date is implausible
    assert con.sql("SELECT exit_date FROM staging.employees WHERE exit_date > DATE '2100-01-01'").fetchall() == [
        (dt.date(9999, 12, 31),)]
    for table, column in (("staging.employees", "hire_date"), ("staging.trainings", "started_on"),
                          ("staging.assessments", "assessed_on"), ("staging.costs", "booked_on"),
                          ("staging.process_metrics", "month"), ("staging.use_cases", "submitted_on"),
                          ("staging.usage_activity", "day"), ("staging.survey_responses", "submitted_at")):
        low, high = con.sql(f"SELECT min({column})::DATE, max({column})::DATE FROM {table}").fetchall()[0]
        assert dt.date(1950, 1, 1) <= low <= high <= dt.date(2026, 4, 3), table


def test_the_plausible_range_comes_from_the_config(tmp_path):
    root = write_dated_inputs(tmp_path / "inputs")
    cfg = cfg_of(root, "  earliest_date: 2025-01-01\n  max_days_ahead: 3660\n")  # in the tiny config's quality section
    assert InputChecks.from_config(cfg, NOW).dates == DateRange(dt.date(2025, 1, 1), dt.date(2035, 4, 10))
    con, _ = ingest(root, cfg)
    costs = {(value, reason) for _, _, column, value, reason in quarantine(con, "finance/costs.csv")}
    assert ("2024-12-20", "out_of_range") in costs  # before earliest_date now
    assert not any(value == "2031-01-01" for value, _ in costs)  # within ten years ahead now


def test_a_format_that_checks_no_date_is_caught_by_the_backstop(tmp_path, monkeypatch):
    from tests.unit.test_adapters_registry import FORMAT

    monkeypatch.setattr(registry, "FORMATS", (*registry.FORMATS, FORMAT))
    path = tmp_path / "acme.csv"
    path.write_text("acme_day,acme_member,acme_prompts\n0001-01-01,ada@example.com,3\n2025-03-03,ada@example.com,4\n")
    read = read_usage_file(path, "usage/acme.csv", dates=DateRange(dt.date(1950, 1, 1), dt.date(2026, 1, 1)))
    read.check_accounting()
    assert read.quarantine == [{"row_number": 1, "column": "day", "value": "0001-01-01", "reason": "out_of_range"}]
    assert read.rows.get_column("day").to_list() == [dt.date(2025, 3, 3)]


# ----------------------------------------------------------------------------------------------
# 4. inputs stay inside the inputs folder


def test_a_link_to_a_system_file_is_refused_naming_the_link_only(tiny):
    (tiny / "usage" / "x.csv").symlink_to("/etc/passwd")
    with pytest.raises(InputError) as error:
        discover_inputs(tiny)
    message = str(error.value)
    assert message == ("usage/x.csv: is a link that points outside the inputs folder; copy the file into the "
                       "inputs folder instead of linking to it (inputs are only read inside the folder)")
    assert "/etc" not in message and "root:" not in message


@pytest.mark.parametrize("link, target_kind", [("usage/exports", "folder"), ("hr/employees.csv", "file"),
                                               ("hr", "folder"), ("surveys", "folder")])
def test_links_leaving_the_folder_are_refused_wherever_they_are(tiny, tmp_path, link, target_kind):
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "sub" / "a.csv").write_text("event_time,user,tool\n2025-01-01,x,y\n")
    (outside / "employees.csv").write_text((tiny / "hr" / "employees.csv").read_text())
    target = {"usage/exports": outside / "sub", "hr/employees.csv": outside / "employees.csv",
              "hr": outside, "surveys": outside / "sub"}[link]
    path = tiny / link
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    path.symlink_to(target)
    with pytest.raises(InputError) as error:
        discover_inputs(tiny)
    assert str(error.value).startswith(f"{link}: is a link that points outside the inputs folder; copy the "
                                       f"{target_kind} into the inputs folder")
    assert str(tmp_path) not in str(error.value)


def test_links_inside_the_folder_are_read_and_counted_once(tiny):
    (tiny / "usage" / "latest.csv").symlink_to(tiny / "usage" / "gateway.csv")
    (tiny / "usage" / "loop").symlink_to(tiny / "usage")  # a folder it is in: not walked again
    (tiny / "usage" / "hr").symlink_to(tiny / "hr")
    found = discover_inputs(tiny)
    assert [f.rel for f in found.usage] == ["usage/gateway.csv", "usage/hr/assessments.csv", "usage/hr/employees.csv",
                                           "usage/hr/trainings.csv", "usage/latest.csv"]
    (tiny / "usage" / "hr").unlink()
    _, result = ingest(tiny)
    assert [(r.file, r.skipped, r.same_as) for r in result.files if r.file.startswith("usage/")] == [
        ("usage/gateway.csv", False, None), ("usage/latest.csv", True, "usage/gateway.csv")]


# ----------------------------------------------------------------------------------------------
# 5. concealed Microsoft 365 reports, whatever the activity


CONCEALED = ["5F3A9C0B1D2E4F60718293A4B5C6D7E8", "0123456789abcdef0123456789ABCDEF"]


def test_a_concealed_report_of_inactive_users_is_flagged(tiny):
    append(tiny / "usage" / "m365" / "copilot-2025-03-09.csv", M365_HEADER,
           *[f"2025-03-09,{user},{user[:4]},,,,,7" for user in CONCEALED])
    con, result = ingest(tiny)
    line = ("usage/m365/copilot-2025-03-09.csv: the user names of this report are concealed (2 of 2 rows): "
            + CONCEALED_IDENTITY_HINT)
    assert "Display concealed user, group, and site names in all reports" in line
    assert [(w.file, w.warning, w.detail) for w in result.warnings] == [
        ("usage/m365/copilot-2025-03-09.csv", "concealed_identity", line)]
    sha = con.sql(
        "SELECT sha256 FROM audit.ingest_manifest WHERE file = 'usage/m365/copilot-2025-03-09.csv'"
    ).fetchall()
    assert con.sql("SELECT file, sha256, warning, detail FROM audit.input_warnings").fetchall() == [
        ("usage/m365/copilot-2025-03-09.csv", sha[0][0], "concealed_identity", line)]
    # nobody was active: nothing quarantined, so only the warning tells
    assert quarantine(con, "usage/m365/copilot-2025-03-09.csv") == []


# ----------------------------------------------------------------------------------------------
# 6. a file whose content another file brought


def test_a_copy_names_the_file_it_repeats(tiny):
    for rel in ("usage/gateway.csv", "surveys/pulse-2025-Q1.csv"):
        copy = tiny / rel.replace("/", "/resent/")
        copy.parent.mkdir()
        shutil.copy(tiny / rel, copy)
    _, result = ingest(tiny)
    skipped = [(r.file, r.rows_read, r.same_as) for r in result.files if r.skipped]
    assert skipped == [("usage/resent/gateway.csv", 0, "usage/gateway.csv"),
                       ("surveys/resent/pulse-2025-Q1.csv", 0, "surveys/pulse-2025-Q1.csv")]


# ----------------------------------------------------------------------------------------------
# 7. a development-key warehouse is marked


def test_a_development_key_warehouse_is_marked_and_refuses_another_key(tiny, tmp_path):
    warehouse = tmp_path / "demo.duckdb"
    development = DEVELOPMENT_KEY.encode()
    with duckdb.connect(str(warehouse)) as con:
        ingest(tiny, key=development, con=con)
        assert con.sql("SELECT flag FROM audit.warehouse_flags").fetchall() == [("development_key",)]
        ingest(tiny, key=development, con=con)  # the same opt-in again: added to, flagged once
        assert con.sql("SELECT count(*) FROM audit.warehouse_flags").fetchall() == [(1,)]
        with pytest.raises(UserError) as error:
            ingest(tiny, key=KEY, con=con)
    assert str(error.value).startswith("this warehouse was built with the public development key (demonstration "
                                       "only): ")
    assert "KPI_PSEUDONYM_KEY" in str(error.value)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert development_key_warehouse(con) is True


def test_a_warehouse_from_before_the_flag_is_recognised_by_its_key_check(tiny, tmp_path):
    warehouse = tmp_path / "old.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ingest(tiny, key=DEVELOPMENT_KEY.encode(), con=con)
        con.execute("DROP TABLE audit.warehouse_flags")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert development_key_warehouse(con) is True
    real = tmp_path / "real.duckdb"
    with duckdb.connect(str(real)) as con:
        ingest(tiny, key=KEY, con=con)
        assert con.sql("SELECT count(*) FROM audit.warehouse_flags").fetchall() == [(0,)]
    with duckdb.connect(str(real), read_only=True) as con:
        assert development_key_warehouse(con) is False
    with duckdb.connect() as con:
        assert development_key_warehouse(con) is False  # no warehouse tables at all
