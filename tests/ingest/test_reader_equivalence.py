"""Issue 18: the usage readers that map records in DuckDB SQL give the same staged rows,
quarantine, inactive rows and counts as the per-row Python readers they replace
(tests/ingest/reference_readers.py), row for row: on the demo company's exports, on the
property-test corpus (every corruption of its catalogue, then random plans) and on hostile values
(Unicode blanks, case, control characters, missing report columns)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from kpi.adapters import chatgpt, github, m365
from kpi.adapters.textio import DateRange, parse_csv_text, read_text
from kpi.adapters.usage_common import UsageSource, json_records
from kpi.paths import DEMO_DIR
from tests.ingest import reference_readers as reference
from tests.ingest.test_ingest_properties import (
    CHATGPT,
    GITHUB,
    M365,
    PROPS,
    Duplicate,
    build_lines,
    plan_strategy,
    write_inputs,
)

DATES = DateRange.around(dt.date(2025, 4, 2))


def assert_same_read(old, new) -> None:
    assert_frame_equal(old.rows, new.rows)
    by_row = lambda q: q["row_number"]  # noqa: E731
    assert sorted(old.quarantine, key=by_row) == sorted(new.quarantine, key=by_row)
    assert sorted(old.inactive_row_numbers) == sorted(new.inactive_row_numbers)
    assert (old.rows_read, old.warnings, old.personal_columns, old.concealed_rows) == (
        new.rows_read, new.warnings, new.personal_columns, new.concealed_rows)


def same_m365(path: Path, dates: DateRange = DATES) -> None:
    text, replaced = read_text(path, path.name)
    table = parse_csv_text(text, path.name, chars_replaced=replaced)
    assert_same_read(reference.read_m365(table, dates), m365.read_m365(table, dates))


def test_m365_demo_exports():
    files = sorted((DEMO_DIR / "usage" / "m365").glob("*.csv"))
    assert len(files) > 50
    for path in files[::6]:  # every sixth weekly report: the suite's time budget
        same_m365(path, DateRange.around(dt.date(2026, 11, 1)))


def _write(kind, plan, n, tmp: Path, trailing_blank=1, crlf=False, bom=False) -> Path:
    root = Path(tempfile.mkdtemp(dir=tmp))
    write_inputs(root, kind, build_lines(kind, n, plan), trailing_blank, crlf, bom)
    return root / kind.rel


HOSTILE_USERS = ["  Ada@Example.com\u00a0", "\u3000ADA@example.com", "\x1cada@example.com\x1f", "NULL", "none",
                 "Straße@example.com", "\u2028bob@example.com", "İlker@example.com", "bob@example.com\u200b"]


def _m365_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def test_m365_hostile_users_and_columns(tmp_path):
    full = ["Report Refresh Date", "User Principal Name", "Last Activity Date", "Copilot Chat Last Activity Date",
            "Copilot Chat (work) Last Activity Date", "Copilot Chat (web) Last Activity Date",
            "Teams Copilot Last Activity Date", "Microsoft Teams Copilot Last Activity Date",
            "Last activity date of Loop (UTC)", "Report Period"]
    rows = []
    for i, user in enumerate(HOSTILE_USERS):
        d = f"2025-03-{20 + i % 9:02d}"
        other = f"2025-03-{21 + i % 8:02d}"
        rows.append(["2025-03-30", user, [d, other, "", "null"][i % 4], d, d if i % 2 else other, "",
                     other if i % 3 else "", d, ["", "2025-02-30", other][i % 3], ["30", "7", "D28", ""][i % 4]])
    for header in (full, full[1:-1], [c for c in full if c != "User Principal Name"] + ["User name"],
                   [c for c in full if "Report" not in c and c != "User Principal Name"]):
        path = tmp_path / "m365.csv"
        keep = [full.index(c) if c in full else full.index("User Principal Name") for c in header]
        path.write_text(_m365_text(header, [[r[k] for k in keep] for r in rows]), encoding="utf-8")
        same_m365(path)


# -- GitHub Copilot users-1-day


def same_github(path: Path, dates: DateRange = DATES) -> None:
    text, replaced = read_text(path, path.name)
    # the reference: every record mapped one by one in Python (the per-row reader's rules, now
    # github.map_record, which the SQL mapping leaves the unusual records to)
    old = github.read_github_records(json_records(text, path.name, github.RECORD_KEYS), dates)
    new = github.read_github(UsageSource(path=path, name=path.name, container="json", text=text,
                                         chars_replaced=replaced, dates=dates))
    assert_same_read(old, new)


# -- ChatGPT Enterprise user engagement


def same_chatgpt(path: Path, dates: DateRange = DATES) -> None:
    text, replaced = read_text(path, path.name)
    table = parse_csv_text(text, path.name, chars_replaced=replaced)
    assert_same_read(reference.read_chatgpt(table, dates), chatgpt.read_chatgpt(table, dates))


def test_chatgpt_demo_exports():
    files = sorted((DEMO_DIR / "usage" / "chatgpt").glob("*.csv"))
    assert files
    for path in files[::3]:
        same_chatgpt(path, DateRange.around(dt.date(2026, 11, 1)))


CHATGPT_HOSTILE = [
    # period, e-mail, first and last active day, messages, cadence
    ("2025-03-01", "2025-03-31", "  Ada@Example.com\u00a0", "2025-03-02", "2025-03-09", "5", " Monthly "),
    ("2025-03-01", "2025-03-07", "\u3000ADA@example.com", "2025-03-02", "2025-03-02", "1", ""),
    ("2025-03-01", "2025-03-31", "\x1cada@example.com\x1f", "", "2025-03-09", "4", "WEEKLY"),
    ("2025-03-01", "2025-03-31", "d@example.com", "", "2025-03-09", "4,0", ""),  # a decimal comma in a comma file
    ("2025-03-01", "2025-03-31", "NULL", "2025-03-02", "", "3", ""),
    ("2025-03-01", "2025-03-31", "none", "", "", "3", ""),  # messages, no active day: inactive, warned
    ("2025-03-01", "2025-03-31", "Straße@example.com", "2025-02-02", "2025-04-09", "3", ""),  # outside the period
    ("2025-03-31", "2025-03-01", "b@example.com", "", "", "3", ""),  # end before start
    ("2025-03-01", "2025-03-31", "b@example.com", "2025-03-09", "2025-03-02", "3", ""),  # first after last
    ("2025-03-01", "2025-03-31", "b@example.com", "2025-03-02", "2025-03-09", "-1", ""),
    ("2025-03-01", "2025-03-31", "b@example.com", "2025-03-02", "2025-03-09", "1.5", ""),
    ("2025-03-01", "2025-03-31", "b@example.com", "2025-03-02", "2025-03-09", "null", ""),
    ("1900-03-01", "2025-03-31", "b@example.com", "2025-03-02", "2025-03-09", "2", ""),
    ("2025-03-01", "2999-03-31", "b@example.com", "2025-03-02", "2025-03-09", "2", ""),
    ("2025-03-01", "2025-03-31", "b@example.com", "1900-03-02", "2025-03-09", "2", ""),
    ("2025-03-01", "2025-03-31", "b@example.com", "2025-03-02", "2999-03-09", "2", ""),
    ("2025-03-01T10:00:00Z", " 2025-03-31 ", "İlker@example.com", "2025-03-31", "2025-03-31", "7", "weekly"),
    ("", "2025-03-31", "c@example.com", "", "", "", ""),
    ("2025-03-01", "yesterday", "c@example.com", "", "", "", ""),
    ("2025-03-01", "2025-03-31", "c@example.com", "2025-02-30", "", "2", ""),
    ("2025-03-01", "2025-03-31", "c@example.com", "", "2025-02-30", "2", ""),
    ("2025-03-01", "2025-03-31", "", "2025-03-05", "", "2", ""),
]


def test_chatgpt_hostile_values(tmp_path):
    path = tmp_path / "chatgpt.csv"
    columns = ["period_start", "period_end", "email", "first_day_active_in_period", "last_day_active_in_period",
               "messages", "cadence"]
    for keep in (columns, columns[:-1], columns[::-1]):  # with and without cadence, in another order
        rows = [dict(zip(columns, row)) for row in CHATGPT_HOSTILE]
        text = "\n".join([",".join(keep), *(",".join(f'"{r[c]}"' if "," in r[c] else r[c] for c in keep)
                                            for r in rows)]) + "\n"
        path.write_text(text, encoding="utf-8")
        same_chatgpt(path)
    # a semicolon file with decimal commas: "4,0" messages is a whole number
    path.write_text("period_start;period_end;email;first_day_active_in_period;last_day_active_in_period;messages\n"
                    "2025-03-01;2025-03-31;a@example.com;2025-03-02;2025-03-09;4,0\n"
                    "2025-03-01;2025-03-31;b@example.com;2025-03-02;2025-03-09;1,5\n", encoding="utf-8")
    same_chatgpt(path)


CORPORA = {"m365": (M365, same_m365), "github": (GITHUB, same_github), "chatgpt": (CHATGPT, same_chatgpt)}


@pytest.mark.parametrize("name", list(CORPORA))
def test_every_corruption_of_the_catalogue(tmp_path, name):
    kind, same = CORPORA[name]
    plan = [(i, c, 7919 * i) for i, c in enumerate(kind.corruptions)]
    duplicate = next(c for c in kind.corruptions if isinstance(c, Duplicate))
    plan += [(i, duplicate, 0) for i in range(len(kind.corruptions))]
    same(_write(kind, plan, len(plan), tmp_path))


@pytest.mark.parametrize("name", list(CORPORA))
@settings(PROPS, max_examples=10)
@given(data=st.data())
def test_random_corruptions(tmp_path, name, data):
    kind, same = CORPORA[name]
    example = data.draw(plan_strategy(kind))
    same(_write(kind, example["plan"], example["n"], tmp_path, example["trailing_blank"], example["crlf"],
                example["bom"]))


def test_github_demo_exports():
    files = sorted((DEMO_DIR / "usage" / "github").glob("*.ndjson"))
    assert files
    for path in files[::4]:
        same_github(path, DateRange.around(dt.date(2026, 11, 1)))


HOSTILE_RECORDS = [
    '{"day": "2025-03-01", "user_login": "  Octo\\u00a0", "code_generation_activity_count": 3, '
    '"code_acceptance_activity_count": 5, "user_initiated_interaction_count": null}',  # clamped
    '{"day": "2025-03-01", "user_login": "\\u3000OCTO", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-02", "user_login": "\\u001coctocat\\u001f", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-02", "user_login": "NULL", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-03", "user_login": "Straße", "user_initiated_interaction_count": 9223372036854775808, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-03", "user_login": "dup", "user_login": "İlker", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-04", "user_login": "feat", "totals_by_feature": [{"code_acceptance_activity_count": 2}, '
    '{"code_acceptance_activity_count": "3"}, {"code_generation_activity_count": 9}]}',
    '{"day": "2025-03-04", "user_login": 42, "user_initiated_interaction_count": NaN, '
    '"code_generation_activity_count": 2.0, "code_acceptance_activity_count": "1"}',
    '{"day": " 2025-03-05T10:00:00Z ", "user_login": "t", "user_initiated_interaction_count": 0, '
    '"code_generation_activity_count": 0, "code_acceptance_activity_count": 0}',
    '{"day": "none", "user_login": "t"}',
    '{"day": "1900-01-01", "user_login": "t"}',
    '{"day": "2025-03-06", "user_login": "t", "x": Infinity}',
    '{"day": "2025-03-06", "user_login": "t",}',
    '{"day": "2025-03-07", "user_login": "t", "user_initiated_interaction_count": 1, '  # acceptances summed
    '"code_generation_activity_count": 5, "totals_by_feature": [{"code_acceptance_activity_count": 4}]}',
    '{}',
    # a duplicate key: Python's json keeps the last, DuckDB the first, so such a record goes through
    # map_record (also written with an escape); a duplicate of a key the mapping does not read does not matter
    '{"day": "2025-03-08", "\\u0064ay": "2025-03-09", "user_login": "esc", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-08", "user_login": "dupcount", "user_initiated_interaction_count": 1, '
    '"user_initiated_interaction_count": 7, "code_generation_activity_count": 2, "code_acceptance_activity_count": 1}',
    '{"day": "2025-03-08", "user_login": "other", "x": 1, "x": 2, "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1, "totals_by_ide": [{"a": 1, "a": 2}]}',
]


def test_github_hostile_records(tmp_path):
    path = tmp_path / "gh.ndjson"
    for body in ("\n".join(HOSTILE_RECORDS), "\r\n".join(HOSTILE_RECORDS) + "\r\n\r\n",
                 "\n\n" + "\n \n".join(HOSTILE_RECORDS), "[" + ",\n".join(HOSTILE_RECORDS[:5]) + "]",
                 HOSTILE_RECORDS[1]):
        path.write_text(body, encoding="utf-8")
        same_github(path)


def test_one_normalisation_on_hostile_identifiers():
    """The readers' vectorised normalisation and trimming equal kpi.privacy.normalise_identifier and
    str.strip() (what the per-row readers used) on Unicode blanks, case and control characters."""
    import polars as pl

    from kpi.adapters.textio import PYTHON_WHITESPACE, normalise_identifier_series
    from kpi.privacy import normalise_identifier

    blanks = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    values = [*(f"{b}Ada@Example.COM{b}" for b in blanks), "\x00ada\x07", "\x1c\x1dADA\x1e\x1f", "ǅemal", "İlker",
              "STRASSE", "Straße", "ﬁle", "\u200bzero-width\u200b", "\ufeffbom", "", " ", "NULL"]
    series = pl.Series(values, dtype=pl.String)
    assert normalise_identifier_series(series).to_list() == [normalise_identifier(v) for v in values]
    assert series.str.strip_chars(PYTHON_WHITESPACE).to_list() == [v.strip() for v in values]
    assert sorted(PYTHON_WHITESPACE) == blanks
