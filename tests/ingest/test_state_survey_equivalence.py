"""Issue 18: the state tables (`kpi.adapters.tables.table_from_records`) and the survey exports
(`kpi.ingest.surveys.read_survey`), now read column by column (each distinct text parsed once by
the scalar rules and joined back), give the same typed rows, quarantine (values, reasons, the
``cell`` flag, order), counts and errors as the per-row readers they replace
(tests/ingest/reference_table_reader.py, reference_survey_reader.py), row for row: on the demo
company's inputs, on the property-test corpus (every corruption of its catalogue, then random
plans) and on hostile files (Qualtrics and Microsoft Forms exports, labels, dates with offsets,
identifiers, decimal commas, ragged rows, non-UTF-8 bytes, every column type of `Column`). The
vectorised parts that do not call a scalar parser are tested equal to it on hostile values."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from kpi.adapters import tables
from kpi.adapters.tables import SPECS, Column, TableSpec
from kpi.adapters.textio import DateRange, read_csv_records
from kpi.adapters.vectorised import python_strip
from kpi.config import load_config
from kpi.errors import ConfigError, InputError
from kpi.ingest import surveys
from kpi.ingest.files import InputFile
from kpi.paths import DEMO_DIR
from kpi.privacy import pseudonym_map
from tests.ingest import reference_survey_reader as survey_reference
from tests.ingest import reference_table_reader as table_reference
from tests.ingest.test_ingest_properties import (
    ASSESSMENTS,
    COSTS,
    EMPLOYEES,
    PROCESS,
    PROPS,
    SURVEY,
    TRAININGS,
    USE_CASES,
    Duplicate,
    build_lines,
    plan_strategy,
)
from tests.ingest.test_ingest_properties import config as props_config

DATES = DateRange.around(dt.date(2025, 4, 2))
KEY = b"equivalence-key-0123456789abcdef"
STATE_FILES = {"hr/employees.csv": "employees", "hr/trainings.csv": "trainings", "hr/assessments.csv": "assessments",
               "hr/course_feedback.csv": "course_feedback", "finance/costs.csv": "costs",
               "finance/licenses.csv": "licenses", "business/process_metrics.csv": "process_metrics",
               "business/use_cases.csv": "use_cases"}


def outcome(read):
    """The read's result, or the exception it raised (compared by type and text)."""
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - any error must be the same error
        return exc


def same_errors(old, new) -> bool:
    """True when both raised (then the same error); False when both read."""
    if isinstance(old, Exception) or isinstance(new, Exception):
        assert (type(old), str(old)) == (type(new), str(new))
        return True
    return False


# -- state tables


def same_table(path: Path, spec: TableSpec, column_map: dict | None = None, dates: DateRange = DATES,
               rel: str | None = None, decimal_fallback: str = "."):
    """Read ``path`` with the reference and the production reader; assert every output equal.
    Returns the production read (or the error both raised)."""
    def read(reader):
        table = read_csv_records(path, decimal_fallback=decimal_fallback, rel_name=rel or path.name)
        return reader(table, spec, column_map, dates)

    old = outcome(lambda: read(table_reference.table_from_records))
    new = outcome(lambda: read(tables.table_from_records))
    if same_errors(old, new):
        return new
    assert_frame_equal(old.rows, new.rows)
    assert old.quarantine == new.quarantine  # values, reasons and order
    # the sanity gates' counts, in the order the row by row walk met them
    assert [(c, list(r.items())) for c, r in old.column_problems.items()] == \
        [(c, list(r.items())) for c, r in new.column_problems.items()]
    assert old.identifier_values == new.identifier_values
    for name in ("file", "rows_read", "chars_replaced", "mapped_columns", "delimiter", "decimal", "rows_parsed"):
        assert getattr(old, name) == getattr(new, name), name
    new.check_accounting()
    return new


def test_demo_state_files():
    for rel, kind in STATE_FILES.items():
        read = same_table(DEMO_DIR / rel, SPECS[kind], dates=DateRange.around(dt.date(2026, 11, 1)), rel=rel)
        assert read.rows.height > 50


STATE_KINDS = {k.rel: k for k in (EMPLOYEES, TRAININGS, ASSESSMENTS, COSTS, PROCESS, USE_CASES)}


def _write(kind, plan, n: int, tmp: Path, trailing_blank: int = 1, crlf: bool = False, bom: bool = False) -> Path:
    text = kind.text(build_lines(kind, n, plan), trailing_blank)
    text = ("\ufeff" if bom else "") + (text.replace("\n", "\r\n") if crlf else text)
    path = Path(tempfile.mkdtemp(dir=tmp)) / Path(kind.rel).name
    path.write_bytes(text.encode("utf-8"))
    return path


def _catalogue_plan(kind):
    plan = [(i, c, 7919 * i) for i, c in enumerate(kind.corruptions)]
    duplicate = next(c for c in kind.corruptions if isinstance(c, Duplicate))
    return plan + [(i, duplicate, 0) for i in range(len(kind.corruptions))]


@pytest.mark.parametrize("rel", list(STATE_KINDS))
def test_every_corruption_of_the_state_catalogue(tmp_path, rel):
    kind = STATE_KINDS[rel]
    plan = _catalogue_plan(kind)
    read = same_table(_write(kind, plan, len(plan), tmp_path), SPECS[Path(rel).stem], rel=rel)
    assert read.quarantine and read.rows.height  # the corruptions reached the readers


@pytest.mark.parametrize("rel", list(STATE_KINDS))
@settings(PROPS, max_examples=4)
@given(data=st.data())
def test_random_state_corruptions(tmp_path, rel, data):
    kind = STATE_KINDS[rel]
    example = data.draw(plan_strategy(kind))
    path = _write(kind, example["plan"], example["n"], tmp_path, example["trailing_blank"], example["crlf"],
                  example["bom"])
    same_table(path, SPECS[Path(rel).stem], rel=rel)


def _cycle(rows: int, **values: list[str]) -> list[dict[str, str]]:
    """``rows`` records combining the columns' values: column k steps through its list by the
    k-th prime stride coprime with the list's length, so that values meet in many combinations
    and every value comes up."""
    primes = [p for p in (1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47)]

    def stride(k: int, n: int) -> int:
        return [p for p in primes if n % p or p == 1][k % 8]

    return [{c: v[(i * stride(k, len(v)) + k) % len(v)] for k, (c, v) in enumerate(values.items())}
            for i in range(rows)]


def _rows(valid: dict[str, list[str]], hostile: dict[str, list[str]], mixed: int = 60,
          unique: str | None = None) -> list[dict[str, str]]:
    """Valid rows, each with one hostile value (every hostile value of every column once; the
    ``unique`` column, an id, then differs from every other row's), then ``mixed`` rows combining
    hostile values of every column (several problems in one row)."""
    base = _cycle(97, **valid)
    rows = [{**base[(20 + k) % len(base)], **({unique: f"u{k}"} if unique else {}), column: value}
            for k, (column, value) in enumerate((c, v) for c, values in hostile.items() for v in values)]
    return [*base[:20], *rows, *_cycle(mixed, **{c: hostile.get(c, v) for c, v in valid.items()})]


def _csv(rows: list[dict[str, str]], delimiter: str = ",", header: list[str] | None = None) -> str:
    header = header or list(rows[0])

    def field(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "\n".join(delimiter.join(field(r.get(h, "")) for h in header) for r in [dict(zip(header, header)),
                                                                                      *rows]) + "\n"


def reasons_of(read) -> set[tuple[str, str]]:
    """(column, reason) of every quarantined row: the hostile values reached the readers."""
    return {(q["column"], q["reason"]) for q in read.quarantine}


BLANKS = ["", " ", "\u00a0", "\u3000", "\x1c", "\u2028"]
DATES_HOSTILE = [" 2024-02-29 ", "2023-02-29", "2024-02-30", "01.02.2024", "20240201", "2024-02-01T10:00:00Z",
                 "2024-02-01 10:00", "2024-02-01T25:00:00", "2024-02-01T10:00:00+25:00", "1949-12-31", "1950-01-01",
                 "0001-01-01", "0000-01-01", "9999-12-31", "2030-01-01", "null", "NONE", "yesterday", "２０２４-01-01",
                 *BLANKS]
NUMBERS_HOSTILE = ["0.5", "0,5", "1,5", "1.234,5", "1,234.5", "1 234,5", "€ 70", "70 EUR", "$-3", "0", "-0", "-1",
                   "1.0", "1e-1", "1e400", "NaN", "inf", "abc", "--1", "12abc", ".5", "5.", "+2", "٣", "1'000",
                   "null", *BLANKS]
INTS_HOSTILE = ["3.0", "3,0", "+3", "-1", "0", "1.5", "3.00", "03", "9223372036854775807", "9223372036854775808",
                "-9223372036854775808", "1e3", "٣", "abc", "none", *BLANKS]
BOOLS_HOSTILE = ["FALSE", "Yes", "n", "Y", "1", "0", "2", "maybe", "ja", " yes ", "None", *BLANKS]
IDS_HOSTILE = ["E1", " e1 ", "E1\u00a0", "İlker", "i̇lker", "Straße", "STRASSE", "ǅemal", "ǆemal", "a@x.org",
               "A@X.ORG", "E\u200b3", "\x1cE4\x1f", *BLANKS]


def test_hostile_employees(tmp_path):
    valid = {"employee_id": [f"E{i}" for i in range(1, 40)], "email": ["", "c@x.org", "D@x.org"],
             "github_login": ["", "octo"], "department": ["Ops", "Sales"], "target_group": ["user", "manager"],
             "hire_date": ["2024-01-01", "2023-05-06"], "exit_date": ["", "", "2025-01-01"], "fte": ["1", "0.5"],
             "hourly_cost_eur": ["", "70"]}
    hostile = {"employee_id": IDS_HOSTILE, "email": ["A@x.org", "a@x.org ", "\u00a0", "Ünal@x.org"],
               "github_login": ["OCTO", "\x1c"], "department": ["", " Sales ", "\u00a0", "a@x.org"],
               "target_group": [" Champion ", "EXECUTIVE", "boss", "Exec-utive", "", "\x1c", "42", "manager\x1c"],
               "hire_date": DATES_HOSTILE, "exit_date": ["9999-12-31", "2023-01-31", "1900-01-01", "x",
                                                         "2024-06-30T12:00:00+02:00"],
               "fte": NUMBERS_HOSTILE, "hourly_cost_eur": ["€ 70", "0", "-5", "1e400", "65.5"]}
    rows = _rows(valid, hostile, unique="employee_id")
    path = tmp_path / "employees.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    read = same_table(path, SPECS["employees"])
    assert {("employee_id", "duplicate"), ("employee_id", "missing_required"), ("hire_date", "invalid_date"),
            ("hire_date", "out_of_range"), ("exit_date", "out_of_range"), ("target_group", "out_of_range"),
            ("fte", "out_of_range"), ("hourly_cost_eur", "out_of_range")} <= reasons_of(read)
    assert read.rows.height > 30 and len(read.column_problems) >= 6
    # a German export: semicolons, decimal commas, mapped headers, optional columns left out (defaults)
    german = [{"Personalnummer": r["employee_id"], "Abteilung": r["department"], "Zielgruppe": r["target_group"],
               "Eintritt": r["hire_date"], "FTE": r["fte"].replace(".", ",")} for r in rows]
    path.write_text(_csv(german, ";"), encoding="utf-8")
    mapping = {"Personalnummer": "employee_id", "abteilung": "department", "Zielgruppe": "target_group",
               "Eintritt": "hire_date", "FTE": "fte"}
    read = same_table(path, SPECS["employees"], mapping)
    assert read.decimal == "," and 0.5 in read.rows["fte"].to_list()
    path.write_text(_csv([{k: v for k, v in r.items() if k != "FTE"} for r in german], ";"), encoding="utf-8")
    assert same_table(path, SPECS["employees"], mapping).rows["fte"].unique().to_list() == [1.0]  # the default


def test_hostile_trainings_assessments_and_feedback(tmp_path):
    courses = ["C1", " c1 ", "C1\u00a0", "Straße", "STRASSE", *BLANKS]
    valid = {"employee_id": ["E1", "E2", "E3"], "course_id": [f"C{i}" for i in range(30)],
             "format": ["elearning", "hackathon"], "started_on": ["2024-02-01", "2024-03-01"],
             "completed_on": ["", "2024-04-01"], "status": ["completed", "enrolled"], "hours": ["4", "1.5"]}
    hostile = {"employee_id": IDS_HOSTILE, "course_id": courses,
               "format": ["Basics Workshop", "basics-workshop", "BASICS_WORKSHOP", "seminar", "7", ""],
               "started_on": DATES_HOSTILE, "completed_on": ["2024-01-01", "x", "2030-01-01", "null"],
               "status": ["Enrolled", "finished", "", "in progress", "In-Progress"], "hours": NUMBERS_HOSTILE}
    path = tmp_path / "trainings.csv"
    path.write_text(_csv(_rows(valid, hostile)), encoding="utf-8")
    read = same_table(path, SPECS["trainings"])
    assert {("course_id", "duplicate"), ("completed_on", "out_of_range"), ("format", "out_of_range"),
            ("hours", "missing_required")} <= reasons_of(read)
    valid = {"employee_id": ["E1", "E2", "E3"], "assessed_on": ["2024-02-01", "2024-03-01"],
             "instrument": [f"quiz{i}" for i in range(30)], "score": ["50", "70"], "max_score": ["100"]}
    hostile = {"employee_id": IDS_HOSTILE, "assessed_on": DATES_HOSTILE,
               "instrument": ["quiz1", "QUIZ1", " quiz1", *BLANKS], "score": ["0", "100", "150", "-1", "abc", "",
                                                                          "99.5", "100.5"],
               "max_score": ["0", "-10", "", "50", "1e2", "120"]}
    path = tmp_path / "assessments.csv"
    path.write_text(_csv(_rows(valid, hostile)), encoding="utf-8")
    read = same_table(path, SPECS["assessments"])
    assert {("score", "out_of_range"), ("max_score", "out_of_range"), ("instrument", "duplicate")} <= reasons_of(read)
    valid = {"employee_id": ["E1", "E2"], "course_id": [f"C{i}" for i in range(30)], "date": ["2024-05-01"],
             "rating": ["4", "4,5"], "would_recommend": ["", "true", "false"]}
    hostile = {"employee_id": IDS_HOSTILE[:5], "course_id": courses, "date": DATES_HOSTILE[:8],
               "rating": ["1", "5", "0", "0.5", "abc", "", "7"], "would_recommend": BOOLS_HOSTILE}
    path = tmp_path / "course_feedback.csv"
    path.write_text(_csv(_rows(valid, hostile), ";"), encoding="utf-8")
    read = same_table(path, SPECS["course_feedback"])
    assert read.decimal == "," and ("would_recommend", "out_of_range") in reasons_of(read)


def test_hostile_finance_and_business(tmp_path):
    valid = {"booked_on": ["2024-02-01"], "category": ["licenses", "materials"], "amount_eur": ["100", "-20.5"],
             "description": ["", "booking"], "department": ["", "Sales"]}
    hostile = {"booked_on": DATES_HOSTILE, "category": ["Licenses", "external-training", "travel", ""],
               "amount_eur": NUMBERS_HOSTILE, "description": ["pay a@x.org", "\u00a0x", *BLANKS],
               "department": BLANKS}
    path = tmp_path / "costs.csv"
    path.write_text(_csv(_rows(valid, hostile)), encoding="utf-8")
    read = same_table(path, SPECS["costs"])
    assert {("amount_eur", "out_of_range"), ("booked_on", "invalid_date")} <= reasons_of(read)
    valid = {"tool": ["Copilot", "ChatGPT"], "month": ["2025-01", "2025-02"], "seats": ["3", "10"],
             "cost_eur": ["", "10,5"]}
    hostile = {"tool": [" copilot", "", "GitHub Copilot"], "month": ["2025-13", "2025-01-15", "Jan 2025", "2025/01",
                                                                    "0000-01", "2025-1", "1949-12", *BLANKS],
               "seats": INTS_HOSTILE, "cost_eur": ["-1", "1,5", "1.5", "x"]}
    path = tmp_path / "licenses.csv"
    path.write_text(_csv(_rows(valid, hostile), ";"), encoding="utf-8")  # decimal commas: "3,0" is a whole number
    read = same_table(path, SPECS["licenses"])
    assert read.decimal == "," and {("seats", "out_of_range"), ("month", "invalid_date")} <= reasons_of(read)
    valid = {"month": ["2024-01", "2024-02"], "process": ["quotes"], "department": ["Sales"], "cases": ["10", "12"],
             "handling_minutes": ["600.5"], "errors": ["", "2"], "csat": ["", "4.2"]}
    hostile = {"month": ["2024-02-14", "2024-13", "", "1949-12"], "process": BLANKS, "department": ["", "a@x.org"],
               "cases": INTS_HOSTILE, "handling_minutes": NUMBERS_HOSTILE, "errors": INTS_HOSTILE,
               "csat": ["-1", "abc", "1e400"]}
    path = tmp_path / "process_metrics.csv"
    path.write_text(_csv(_rows(valid, hostile)), encoding="utf-8")
    read = same_table(path, SPECS["process_metrics"])
    assert {("cases", "out_of_range"), ("errors", "out_of_range"), ("csat", "out_of_range")} <= reasons_of(read)
    valid = {"use_case_id": [f"UC{i}" for i in range(40)], "title": ["", "Title"], "department": ["Sales"],
             "submitted_on": ["2024-02-01"], "status": ["idea", "pilot"], "self_developed": ["true", "no"],
             "est_hours_saved_per_month": ["", "12.5"]}
    hostile = {"use_case_id": ["UC1", "uc1", " UC2", "", "\x1c"], "title": ["mail a@x.org", *BLANKS],
               "department": ["", "a@x.org"], "submitted_on": DATES_HOSTILE,
               "status": ["Pilot", "launched", "", "PRODUCTION"], "self_developed": BOOLS_HOSTILE,
               "est_hours_saved_per_month": ["-5", "0", "abc"]}
    path = tmp_path / "use_cases.csv"
    path.write_text(_csv(_rows(valid, hostile)), encoding="utf-8")
    read = same_table(path, SPECS["use_cases"])
    assert {("use_case_id", "duplicate"), ("self_developed", "out_of_range")} <= reasons_of(read)


def _plain_check(row):  # a row check without a polars form: the production reader calls it row by row
    return "amount" if row.get("amount") is not None and row.get("count") is not None \
        and row["amount"] > 10 * row["count"] else None


EVERY_TYPE = TableSpec(
    name="custom",
    columns=(
        Column("code", "text", required=True, identifier=True),
        Column("label", "text", default="n/a"),
        Column("kind", "enum", values=("alpha", "beta_gamma"), default="alpha"),
        Column("day", "date", open_end=True),
        Column("month", "month", required=True),
        Column("amount", "number", min=0, min_inclusive=False, max=100, max_inclusive=False),
        Column("count", "int", min=1, max=10, default=1),
        Column("flag", "bool", default=True),
    ),
    key=("code", "kind", "day"),
    checks=(("amount above ten per count", _plain_check),),
)


def test_every_column_type_default_bound_and_a_plain_row_check(tmp_path):
    valid = {"code": [f"K{i}" for i in range(10)], "label": ["", "x"], "kind": ["alpha", "beta_gamma", ""],
             "day": ["", "2024-01-01"], "month": ["2024-01", "2024-02-03"], "amount": ["", "5", "9.5"],
             "count": ["", "1", "3"], "flag": ["", "yes", "0"]}
    hostile = {"code": IDS_HOSTILE, "label": [" X ", "\x1c", *BLANKS], "kind": ["Beta Gamma", "beta-gamma", "delta"],
               "day": ["9999-12-31", "1949-01-01", "x", "null"], "month": ["", "x", "none"],
               "amount": ["0", "100", "99.99", "1e2", "0.001", "-0", "50", "x"],
               "count": ["10", "11", "0", "5.0", "x", "none"], "flag": BOOLS_HOSTILE}
    rows = _rows(valid, hostile)
    path = tmp_path / "custom.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    read = same_table(path, EVERY_TYPE)
    assert {("amount", "out_of_range"), ("count", "out_of_range"), ("kind", "duplicate"), ("month", "missing_required"),
            ("kind", "out_of_range"), ("day", "out_of_range")} <= reasons_of(read)
    assert "n/a" in read.rows["label"].to_list() and None in read.rows["day"].to_list()
    # optional columns absent: their defaults
    path.write_text(_csv([{c: r[c] for c in ("code", "kind", "day", "month")} for r in rows]), encoding="utf-8")
    read = same_table(path, EVERY_TYPE)
    assert set(read.rows["flag"].to_list()) == {True} and set(read.rows["count"].to_list()) == {1}


def test_ragged_rows_non_utf8_and_headers(tmp_path):
    good = "E1,Sales,user,2024-01-01"
    lines = ["employee_id,department,target_group,hire_date", good, "E2,Sales,user", "E3,Sales,user,2024-01-01,x",
             "E4,Sales,user,2024-01-01,,", 'E5,"Sa"les,user,2024-01-01', '"E6,Sales,user,2024-01-01', "",
             '"E7","Sales\nand more",user,2024-01-01', "E8,Sal\xe9s,user,2024-01-01", "E1,Sales,user,2024-01-01"]
    path = tmp_path / "employees.csv"
    path.write_bytes("\r\n".join(lines).encode("latin-1"))
    read = same_table(path, SPECS["employees"])
    assert read.chars_replaced == 1 and {"malformed_row", "duplicate"} <= {q["reason"] for q in read.quarantine}
    path.write_text("employee_id,department,target_group,hire_date\n", encoding="utf-8")  # no data rows
    assert same_table(path, SPECS["employees"]).rows_read == 0
    path.write_text(" Employee_ID ,DEPARTMENT,Target_Group,Hire_Date,Extra\nE1,Sales,User,2024-01-01,x\n",
                    encoding="utf-8")
    assert same_table(path, SPECS["employees"]).rows.height == 1
    # the same errors: a required column missing, two headers giving one column, a mapping to no column
    path.write_text("employee_id,department,hire_date\nE1,Sales,2024-01-01\n", encoding="utf-8")
    assert isinstance(same_table(path, SPECS["employees"]), InputError)
    path.write_text("employee_id,Abteilung,department,target_group,hire_date\nE1,a,b,user,2024-01-01\n",
                    encoding="utf-8")
    assert isinstance(same_table(path, SPECS["employees"], {"Abteilung": "department"}), InputError)
    assert isinstance(same_table(path, SPECS["employees"], {"Abteilung": "departement"}), ConfigError)


def test_vectorised_text_and_keys_equal_the_scalar_rules():
    """A text cell is trimmed by polars as `parse_cell` trims it (str.strip()), and a key's text in
    the matching form `_key_part` gave it (normalise_identifier)."""
    blanks = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    values = [*(f"{b}Ada{b}" for b in blanks), *IDS_HOSTILE, "", "\x00a\x07"]
    series = pl.Series(values, dtype=pl.String)
    assert pl.select(python_strip(pl.lit(series))).to_series().to_list() == [v.strip() for v in values]
    column = Column("employee_id", "text", required=True, identifier=True)
    assert tables._key_part(column, series).to_list() == [table_reference._key_part(column, v) for v in values]
    for text in values:  # the text path of the production reader against parse_cell
        value, reason = table_reference.parse_cell(column, text, ".")
        new_value, new_reason = tables._type_column(column, pl.Series([text]), ".", DATES)
        assert (new_value.item(), new_reason.item()) == (value, reason)


# -- surveys


def same_survey(path: Path, cfg, rel: str | None = None, dates: DateRange | None = DATES,
                known: set[str] | frozenset = frozenset()):
    """Read ``path`` with the reference and the production reader; assert every output equal.
    Returns the production read (or the error both raised)."""
    source = InputFile(path, rel or f"surveys/{path.name}", "survey")
    old = outcome(lambda: survey_reference.read_survey(source, cfg, KEY, dates, known))
    new = outcome(lambda: surveys.read_survey(source, cfg, KEY, dates, known))
    if same_errors(old, new):
        return new
    assert_frame_equal(old[0], new[0])  # responses
    assert_frame_equal(old[1], new[1])  # answers
    assert old[2] == new[2]  # quarantine: values, reasons, the cell flag, order
    assert old[3:] == new[3:]  # rows_read, cells_quarantined, chars_replaced
    return new


def _known(employees: Path) -> set[str]:
    table = read_csv_records(employees)
    return {p for c in ("employee_id", "email", "github_login")
            for p in pseudonym_map(table.column(c).to_list(), KEY).values()}


def test_demo_surveys():
    cfg = load_config(DEMO_DIR / "config.yaml")
    known = _known(DEMO_DIR / "hr" / "employees.csv")
    files = sorted((DEMO_DIR / "surveys").glob("*.csv"))
    assert len(files) >= 8
    for path in files:
        read = same_survey(path, cfg, dates=DateRange.around(dt.date(2026, 11, 1)), known=known)
        assert read[1].height > 100


def _survey_file(kind, plan, n, tmp: Path, trailing_blank=1, crlf=False, bom=False) -> Path:
    path = _write(kind, plan, n, tmp, trailing_blank, crlf, bom)
    return path.rename(path.with_name("pulse-2025-Q1.csv"))


def test_every_corruption_of_the_survey_catalogue(tmp_path):
    plan = _catalogue_plan(SURVEY)
    read = same_survey(_survey_file(SURVEY, plan, len(plan), tmp_path), props_config())
    assert read[3] and read[4] and read[2]


@settings(PROPS, max_examples=8)
@given(data=st.data())
def test_random_survey_corruptions(tmp_path, data):
    example = data.draw(plan_strategy(SURVEY))
    same_survey(_survey_file(SURVEY, example["plan"], example["n"], tmp_path, example["trailing_blank"],
                             example["crlf"], example["bom"]), props_config())


ITEMS = ["AI helps me", "I get support", "AI makes work harder"]
SURVEY_CONFIG = f"""\
company:
  name: Hostile GmbH
  timezone: Europe/Berlin
  decimal_separator: ","
program:
  start: 2025-01-01
survey:
  scale_max: 5
  items:
    "{ITEMS[0]}": {{construct: satisfaction}}
    "{ITEMS[1]}.": {{construct: support}}
    "{ITEMS[2]}": {{construct: satisfaction, reverse: true}}
  labels: {{"Strongly disagree": 1, "Disagree": 2, "Neutral": 3, "Agree": 4, "Strongly agree": 5}}
  files:
    "wave.csv": {{submitted_at: 2025-03-31}}
columns:
  surveys: {{"E-mail": identity, "Afdeling": department, "Group": target_group}}
"""


@pytest.fixture(scope="module")
def survey_cfg(tmp_path_factory):
    folder = tmp_path_factory.mktemp("survey-config")
    (folder / "config.yaml").write_text(SURVEY_CONFIG, encoding="utf-8")
    return load_config(folder / "config.yaml")


RESPONSE_IDS = ["r1", " r1 ", "R1", "r2", "r2\u00a0", "", "\x1c", "\u3000", "a@b.co", "E001", "r3", "r4", "r5",
                "r6", "r7", "r8"]
SUBMITTED = ["2025-03-10T10:00:00", "2025-03-10 10:00:00", "2025-03-10", " 2025-03-11T09:30:00 ",
             "2025-03-10T10:00", "2025-03-10T10:00:00Z", "2025-03-10T10:00:00+05:30", "2025-03-10T10:00:00-0800",
             "2025-03-10T10:00:00 UTC", "2025-03-10T10:00:00.123456789", "2025-03-10T10:00:00,5+01",
             "2025-03-10T10:00:00+24:00", "2025-03-30T02:30:00", "2025-02-30T10:00:00", "2025-02-30",
             "9/2/2024 7:00:33", "yesterday", "0000-01-01T00:00:00", "0000-01-01", "0001-01-01T00:00:00+01:00",
             "9999-12-31T23:59:59-05:00", "1949-12-31T23:59:59", "1950-01-01T00:30:00+05:00", "2027-01-01T00:00:00",
             "2026-04-03", "2026-04-04T00:00:00", "null", "NONE", "", "\u00a0", "2025-03-10T24:00:00",
             "2025-03-10t10:00:00", "２０２５-03-10"]
ANSWERS = ["Agree", " agree. ", "AGREE", "Strongly  agree", "Strongly agree..", "strongly disagree", "Stimme zu",
           "Neither agree nor disagree", "4", "4.0", "4.00", "+4", "-1", "0", "6", "4.5", "٤", "４", "1e0", "",
           " ", "\u00a0", "\x1c", "n/a", "null", "Ｎeutral", "Neutral\u200b", "５", "00003", "1,0", "\x1cMaybe\x1f",
           "7\x1c", "\x1d4\x1e"]
DEPARTMENTS = ["Sales", " Sales ", "", "\u00a0", "sales", "a@b.co", "E002", "Ops\x1c", "x@y.org"]
GROUPS = ["user", "", "USER", "x@y.org", "manager", "E003"]
IDENTITIES = ["Ada@Example.com", "ada@example.com ", "", "\u3000", "E001", "bob"]


def _survey_rows(mixed: int) -> list[dict[str, str]]:
    valid = {"response_id": [f"r{i}" for i in range(80)], "submitted_at": ["2025-03-10T10:00:00", "2025-03-11"],
             "Afdeling": ["Sales", "Ops"], "Group": ["user", ""], "E-mail": ["", "c@x.org"],
             ITEMS[0]: ["Agree", "4"], ITEMS[1] + ".": ["Neutral", ""], ITEMS[2]: ["Disagree", "5"],
             "Comments": ["", "call me: a@b.co"]}
    hostile = {"response_id": RESPONSE_IDS, "submitted_at": SUBMITTED, "Afdeling": DEPARTMENTS, "Group": GROUPS,
               "E-mail": IDENTITIES, ITEMS[0]: ANSWERS, ITEMS[1] + ".": ANSWERS[5:] + ANSWERS[:5],
               ITEMS[2]: ANSWERS[11:] + ANSWERS[:11]}
    return _rows(valid, hostile, mixed, unique="response_id")


def _known_survey() -> set[str]:
    return set(pseudonym_map(["E001", "E002", "E003", "someone@else.org"], KEY).values())


def test_hostile_survey_export(tmp_path, survey_cfg):
    rows = _survey_rows(100)
    path = tmp_path / "pulse.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    read = same_survey(path, survey_cfg, known=_known_survey())
    responses, answers, quarantine, rows_read, cells, _ = read
    assert rows_read == len(rows) and responses.height >= 50 and answers.height >= 100 and cells >= 30
    row_reasons = {q["reason"] for q in quarantine if not q.get("cell")}
    assert row_reasons == {"missing_required", "invalid_date", "out_of_range", "duplicate"}
    assert {q["reason"] for q in quarantine if q.get("cell")} == {"unmapped_label", "out_of_range"}
    assert responses["respondent_key"].null_count() < responses.height
    # without known identities, without a date range, with semicolons, CRLF, a BOM and non-UTF-8 bytes
    same_survey(path, survey_cfg, dates=None)
    text = "\ufeff" + _csv(rows, ";").replace("\n", "\r\n")
    path.write_bytes(text.encode("utf-8").replace(b"Stimme zu", b"Stimme \xfc"))
    read = same_survey(path, survey_cfg, known=_known_survey())
    assert read[5] > 0


def test_qualtrics_export(tmp_path, survey_cfg):
    """Qualtrics: question ids in the header, then a line of question texts (one spans lines) and
    one of ImportIds; the data rows are numbered from the first response."""
    ids = ["StartDate", "EndDate", "RecordedDate", "ResponseId", "Q1", "Q2", "Q3", "Q4", "Q5"]
    texts = ["Start Date", "End Date", "Recorded Date", "Response ID", ITEMS[0], '"' + ITEMS[1] + '.\n"', ITEMS[2],
             "Department", "Comments"]
    imports = ",".join(f'"{{""ImportId"":""{i}""}}"' for i in ids)
    rows = _survey_rows(60)
    data = [",".join([r["submitted_at"], r["submitted_at"], r["submitted_at"], r["response_id"], r[ITEMS[0]],
                      r[ITEMS[1] + "."], r[ITEMS[2]], r["Afdeling"], r["Comments"]]) for r in rows]
    data[3] = data[3] + ",surplus"  # a malformed row among the responses
    data[7] = '"' + data[7]
    for texts_line in (",".join(texts), ",".join(texts).replace('"' + ITEMS[1] + '.\n"', ITEMS[1] + "."),
                       ",".join(texts[:4]) + ",broken"):
        path = tmp_path / "qualtrics.csv"
        path.write_text("\n".join([",".join(ids), texts_line, imports, *data]) + "\n", encoding="utf-8")
        read = same_survey(path, survey_cfg, known=_known_survey())
        if not isinstance(read, Exception):
            assert read[3] == len(rows) and read[1].height and {q["reason"] for q in read[2]} >= {"malformed_row"}
    # the header has the item texts already, the line of question texts is malformed: still Qualtrics
    header = ",".join(ids[:4] + [ITEMS[0], ITEMS[1] + ".", ITEMS[2], "Department", "Comments"])
    path.write_text("\n".join([header, ",".join(texts[:4]) + ",broken", imports, *data]) + "\n", encoding="utf-8")
    read = same_survey(path, survey_cfg, known=_known_survey())
    assert read[3] == len(rows) and read[2][0]["reason"] == "malformed_row"
    path.write_text("\n".join([",".join(ids), ",".join(texts).replace('"' + ITEMS[1] + '.\n"', ITEMS[1] + "."),
                               imports]) + "\n", encoding="utf-8")  # no response yet
    assert same_survey(path, survey_cfg)[3] == 0


def test_microsoft_forms_like_export_and_a_wave_without_dates(tmp_path, survey_cfg):
    rows = _survey_rows(80)
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Afdeling", ITEMS[0], ITEMS[1] + ".",
              ITEMS[2]]
    forms = [{"ID": str(i + 1) if i % 9 else " 1 ", "Start time": "9/2/2024 7:00:33",
              "Completion time": r["submitted_at"], "Email": r["E-mail"], "Name": "Ada", "Afdeling": r["Afdeling"],
              ITEMS[0]: r[ITEMS[0]], ITEMS[1] + ".": r[ITEMS[1] + "."], ITEMS[2]: r[ITEMS[2]]}
             for i, r in enumerate(rows)]
    path = tmp_path / "forms.csv"
    path.write_text(_csv(forms, header=header), encoding="utf-8")
    read = same_survey(path, survey_cfg, known=_known_survey())
    assert read[0].height and "duplicate" in {q["reason"] for q in read[2]}
    # no response id and no date column: the wave date, response ids are row numbers
    path = tmp_path / "wave.csv"
    path.write_text(_csv([{k: v for k, v in r.items() if k not in ("response_id", "submitted_at")} for r in rows]),
                    encoding="utf-8")
    read = same_survey(path, survey_cfg, known=_known_survey())
    assert set(read[0]["submitted_at"].to_list()) == {dt.datetime(2025, 3, 31)}


def test_same_survey_errors(tmp_path, survey_cfg):
    path = tmp_path / "pulse.csv"
    path.write_text("response_id,submitted_at,Q1\nr1,2025-03-10,Agree\n", encoding="utf-8")
    assert "none of the configured survey items" in str(same_survey(path, survey_cfg))
    path.write_text(f"response_id,{ITEMS[0]}\nr1,Agree\n", encoding="utf-8")
    assert "no submission date column" in str(same_survey(path, survey_cfg))
    # the per-row reader stopped with OverflowError on an answer of hundreds of digits: now it is
    # out_of_range like any other number off the scale (the reference still raises)
    path.write_text(f"response_id,submitted_at,{ITEMS[0]}\nr1,2025-03-10,{'9' * 400}\nr2,2025-03-10,+004\n",
                    encoding="utf-8")
    source = InputFile(path, "surveys/pulse.csv", "survey")
    responses, answers, quarantine = surveys.read_survey(source, survey_cfg, KEY, DATES)[:3]
    assert [(q["row_number"], q["reason"]) for q in quarantine] == [(1, "out_of_range")]
    assert answers.get_column("answer_points").to_list() == [4] and responses.height == 2


def test_submitted_series_equals_parse_submitted():
    """The vectorised submitted-at parser (polars for the common forms) equals `_parse_submitted`
    (`parse_timestamp`) on hostile texts, in two time zones."""
    texts = [s.strip() for s in SUBMITTED if s.strip()] + [
        "2024-02-29T23:59:59", "2023-02-29T00:00:00", "1900-02-29", "2000-02-29 12:00:00", "2025-04-31",
        "2025-00-10", "2025-01-00T00:00:00", "0001-01-01T00:00:00", "0001-01-01", "9999-12-31T23:59:59",
        "1969-12-31T23:59:59", "1950-01-01T00:00:00", "2025-03-10T10:00:60", "2025-03-10T9:00:00",
        "2025-03-10  10:00:00", "+2025-03-10", "2025-3-10", "2025-03-10T10:00:00Z ", "٢٠٢٥-03-10"]
    for tz in ("Europe/Berlin", "America/New_York"):
        got = surveys.submitted_series(pl.Series(texts, dtype=pl.String), tz).to_list()
        assert got == [survey_reference._parse_submitted(t, tz) for t in texts]
    assert surveys.submitted_series(pl.Series([], dtype=pl.String), "UTC").to_list() == []


def test_row_checks_equal_the_functions_they_replace():
    """The specs' row checks (`Compare`) name the same column as the frozen functions, called on a
    row or as polars masks."""
    day = dt.date
    cases = {
        "employees": [{"hire_date": day(2024, 1, 2), "exit_date": e} for e in (None, day(2024, 1, 1), day(2024, 1, 2),
                                                                               day(2025, 1, 1))]
        + [{"hire_date": None, "exit_date": day(2024, 1, 1)}],
        "trainings": [{"started_on": day(2024, 1, 2), "completed_on": c} for c in (None, day(2024, 1, 1),
                                                                                   day(2024, 1, 2))],
        "assessments": [{"score": s, "max_score": m} for s, m in itertools.product((None, 0.0, 50.0, 100.5),
                                                                                   (None, 100.0, 50.0))],
    }
    for name, rows in cases.items():
        (_, new), = SPECS[name].checks
        (_, old), = table_reference.CHECKS[name]
        expected = [old(row) for row in rows]
        assert [new(row) for row in rows] == expected
        masks = pl.DataFrame(rows).select(new.mask()).to_series().to_list()
        assert [new.column if m else None for m in masks] == expected
        assert any(expected) and not all(expected)
