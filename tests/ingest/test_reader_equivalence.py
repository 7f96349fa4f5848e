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

from kpi.adapters import canonical, chatgpt, github, m365
from kpi.adapters.textio import DateRange, parse_csv_text, read_text
from kpi.adapters.usage_common import UsageSource, json_records
from kpi.paths import DEMO_DIR
from tests.ingest import reference_readers as reference
from tests.ingest.test_ingest_properties import (
    CHATGPT,
    GITHUB,
    M365,
    PROPS,
    USAGE,
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


CORPORA = {"m365": (M365, same_m365), "github": (GITHUB, same_github), "chatgpt": (CHATGPT, same_chatgpt),
           "canonical": (USAGE, lambda path: same_canonical(path))}


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
    # a trailing comma: DuckDB's JSON reads it, Python's json does not (a malformed row)
    '{"day": "2025-03-09", "user_login": "comma", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1, "totals_by_ide": [{"a": 1},]}',
    '{"day": "2025-03-09", "user_login": "comma2", "user_initiated_interaction_count": 1, '
    '"code_generation_activity_count": 2, "code_acceptance_activity_count": 1 ,\t}',
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


# -- the canonical logs (CSV, JSON lines, Parquet)


def same_canonical(path: Path, dates: DateRange = DATES, tz: str = "Europe/Berlin") -> None:
    from kpi.adapters.usage import recognise, sniff

    text, replaced = read_text(path, path.name) if path.suffix != ".parquet" else (None, 0)
    sniffed = sniff(path, text, path.name)
    kind = recognise(sniffed, path.name).name
    source = UsageSource(path=path, name=path.name, container=sniffed.container, tz=tz, text=text,
                         chars_replaced=replaced, dates=dates)
    new = canonical.read_canonical(source, kind)
    old = reference.read_canonical(source, kind)
    assert_same_read(old, new)


def test_canonical_demo_exports():
    files = sorted((DEMO_DIR / "usage" / "gateway").iterdir())
    assert any(p.suffix == ".csv" for p in files) and any(p.suffix == ".jsonl" for p in files)
    for path in files[::4] + files[1::8]:
        same_canonical(path, DateRange.around(dt.date(2026, 11, 1)))


CANONICAL_HOSTILE = [
    # event_time, user, tool, action, outcome, interactions, successes, failures
    ("2025-03-01", "  Ada@Example.com\u00a0", " chat-gateway ", "chat", " Success ", "3", "2", "1"),
    ("2025-03-01", "\u3000ADA@example.com", "chat-gateway", "chat", "success", "3", "2", "1"),
    ("2025-03-01", "ada@example.com", "chat-gateway", "chat", "success", "3", "2", "1"),  # the same event again
    ("2025-03-01T10:00:00Z", "ada@example.com", "chat-gateway", "", "FAILURE", "", "", ""),
    ("2025-03-01T10:00:00+01:00", "ada@example.com", "chat-gateway", "null", "", "+4", "0", "0"),
    ("2025-03-01 09:00", "ada@example.com", "chat-gateway", " None ", "maybe", "4.0", "x", "0"),
    ("2025-03-01T23:30:00.123456789-05:30", "\x1cada@example.com\x1f", "chat-gateway", "draft", "", "-1", "0", "0"),
    ("2025-03-30T01:30:00Z", "NULL", "chat-gateway", "draft", "", "1", "0", "0"),
    ("2025-03-30T02:30:00", "bob", "", "draft", "", "1", "-1", "0"),
    ("2025-02-30", "bob", "chat-gateway", "draft", "", "1", "0", "-2"),
    ("yesterday", "bob", "chat-gateway", "draft", "", "1", "0", "0"),
    ("", "bob", "chat-gateway", "draft", "", "1", "0", "0"),
    ("none", "", "", "draft", "", "abc", "0", "0"),
    ("1900-01-01", "bob", "chat-gateway", "draft", "", "1", "0", "0"),
    ("2025-03-01T25:00:00", "bob", "chat-gateway", "draft", "", "1", "0", "0"),
    ("2025-03-01T10:00:00+24:00", "bob", "chat-gateway", "draft", "", "1", "0", "0"),
    ("2025-03-01", "İlker", "chat-gateway", "draft", "success", "1000000000000000000", "0", "0"),
    ("2025-03-01", "straße", "chat-gateway", "draft", "success", "99999999999999999999", "0", "0"),
    ("2025-03-01", "bob", "chat-gateway", "draft", "success", "1,0", "0", "0"),
    # the key's separator inside values: the same key, so the events are numbered #1 and #2
    ("2025-03-02", "a\x1fb", "c", "draft", "", "1", "0", "0"),
    ("2025-03-02", "a", "b\x1fc", "draft", "", "1", "0", "0"),
]
CANONICAL_COLUMNS = ["event_time", "user", "tool", "action", "outcome", "interactions", "successes", "failures"]


def _canonical_csv(columns: list[str], rows, delimiter: str = ",") -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or '"' in value else value

    lines = [delimiter.join(columns)] + [delimiter.join(cell(dict(zip(CANONICAL_COLUMNS, r))[c]) for c in columns)
                                         for r in rows]
    return "\n".join(lines) + "\n"


def test_canonical_hostile_values(tmp_path):
    events = [c for c in CANONICAL_COLUMNS if c not in ("interactions", "successes", "failures")]
    counts = [c for c in CANONICAL_COLUMNS if c != "outcome"]
    required = ["event_time", "user", "tool"]
    for columns, delimiter in ((events, ","), (counts, ","), (counts[::-1], ";"), (required, ",")):
        path = tmp_path / "log.csv"
        path.write_text(_canonical_csv(columns, CANONICAL_HOSTILE, delimiter), encoding="utf-8")
        for tz in ("Europe/Berlin", "UTC", "America/New_York"):
            same_canonical(path, tz=tz)
    # one column of counts parsed on the fast path (every value a whole number), the others not
    path.write_text(_canonical_csv(counts, [r for r in CANONICAL_HOSTILE if r[5].strip("-+").isdigit()]),
                    encoding="utf-8")
    same_canonical(path)


def test_canonical_json_lines_and_parquet(tmp_path):
    import json

    import polars as pl

    records = [dict(zip(CANONICAL_COLUMNS, r)) for r in CANONICAL_HOSTILE]
    for columns in (CANONICAL_COLUMNS[:5], [c for c in CANONICAL_COLUMNS if c != "outcome"]):
        path = tmp_path / "log.jsonl"
        path.write_text("\n".join(json.dumps({c: r[c] for c in columns}) for r in records) + "\n", encoding="utf-8")
        same_canonical(path)
        path = tmp_path / "log.parquet"
        pl.DataFrame([{c: r[c] for c in columns} for r in records]).write_parquet(path)
        same_canonical(path)


CANONICAL_LINES = [
    '{"event_time": "2025-03-01T10:00:00Z", "user": "Ada@Example.com", "tool": "claude", "action": "chat", '
    '"outcome": "success"}',
    '{"event_time": "2025-03-01", "user": "ada@example.com", "tool": "claude", "outcome": null, "extra": {"a": [1]}}',
    '{"User": "bob", "event_time": "2025-03-01", "user": "carl", "tool": "claude"}',  # another spelling first
    '{"event_time": "2025-03-01", "user": "dan", "user": "eve", "tool": "claude"}',  # a repeated key: the last
    '{"event_time": "2025-03-01", " user ": "fay", "tool": "claude"}',  # trimmed: the user column
    '{"event_time": "2025-03-01", "uſer": "gus", "tool": "claude"}',  # casefolded (long s): the user column
    '{"event_time": "2025-03-01", "user": "h\\u00e9", "tool": "claude", "action": "a\\"b"}',  # escapes
    '{"event_time": "2025-03-01", "user": "ivy", "tool": "claude", "interactions": 3, "successes": 1.0, '
    '"failures": true}',
    '{"event_time": "2025-03-01", "user": "jo", "tool": "claude", "interactions": -0, "successes": 1e2, '
    '"failures": 12345678901234567890}',
    '{"event_time": "2025-03-01", "user": "kim", "tool": "claude", "action": ["x"], "outcome": {"o": 1}}',
    '{"event_time": "2025-03-01", "user": "lee", "tool": "claude",}',  # a trailing comma: malformed
    '{"event_time": "2025-03-01", "user": "lee", "tool": NaN}',
    '{"event_time": 20250301, "user": 42, "tool": "claude"}',
    '{"event_time": "2025-03-01", "user": "max", "tool": "claude", "note": "a, }"}',  # looks like a trailing comma
    '{"user": "ned", "tool": "claude"}',
    '{}',
    '{"event_time": "2025-03-01" "user": "x"}',  # not JSON
    '{"event_time": "2025-03-02", "user": "ada@example.com", "tool": "claude", "outcome": "SUCCESS"}',
    '{"event_time": "2025-03-02", "user": "ADA@example.com ", "tool": "claude", "outcome": " success"}',
]


def test_canonical_hostile_json_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    for lines in (CANONICAL_LINES, CANONICAL_LINES[::-1], CANONICAL_LINES[2:]):
        for body in ("\n".join(lines) + "\n", "\r\n".join(lines), "\n\n" + "\n \n".join(lines)):
            path.write_text(body, encoding="utf-8")
            same_canonical(path)
    counts = [line.replace('"outcome"', '"interactions"') for line in CANONICAL_LINES]
    path.write_text("\n".join(counts) + "\n", encoding="utf-8")
    same_canonical(path)


# -- pseudonyms: hashed once per identifier and run (a join), the same staged rows


def test_pseudonymised_rows(tmp_path):
    import polars as pl

    from kpi.adapters.usage import read_usage_file
    from kpi.adapters.usage_common import KEY_SEP, USAGE_SCHEMA
    from kpi.ingest.usage import pseudonymise_rows

    key = b"equivalence-key-0123456789"
    files = [p for sub in ("m365", "github", "chatgpt", "gateway")
             for p in sorted((DEMO_DIR / "usage" / sub).iterdir())[:2]]
    reads = [read_usage_file(p, p.name, "Europe/Berlin", dates=DateRange.around(dt.date(2026, 11, 1))).rows
             for p in files]
    # identifiers that are also other fields of their key (a day, the tool), blank, concealed, null,
    # a key ending in an empty field, non-ASCII before and after the user field
    hostile = pl.DataFrame({
        "row_number": [1, 2, 3, 4, 5, 6, 7, 8],
        "day": [dt.date(2025, 3, 1)] * 8,
        "user": ["x"] * 8,
        "user_norm": ["2025-03-01", "chat-gateway", " ", "5a1b2c3d4e5f60718293a4b5c6d7e8f9", None, "ada", "straße",
                      "\x1c"],
        "tool": ["chat-gateway"] * 8,
        "natural_key": [KEY_SEP.join(["2025-03-01", "2025-03-01", "chat-gateway", ""]),
                        KEY_SEP.join(["2025-03-01", "chat-gateway", "chat-gateway", "a"]),
                        KEY_SEP.join(["2025-03-01", " ", "chat-gateway", ""]),
                        KEY_SEP.join(["m365", "2025-03-01", "5a1b2c3d4e5f60718293a4b5c6d7e8f9", "word"]),
                        KEY_SEP.join(["2025-03-01", "", "chat-gateway"]),
                        KEY_SEP.join(["", "ada", "é", ""]),
                        KEY_SEP.join(["é", "straße", "ü"]),
                        KEY_SEP.join(["2025-03-01", "\x1c", "t"])],
    }, schema_overrides={"row_number": pl.Int64}).with_columns(
        [pl.lit(None).cast(USAGE_SCHEMA[c]).alias(c) for c in USAGE_SCHEMA if c not in
         ("row_number", "day", "user", "user_norm", "tool", "natural_key")]).select(list(USAGE_SCHEMA))
    for rows in [*reads, hostile, hostile.reverse(), hostile.clear()]:
        old = reference.pseudonymise_rows(rows, "f", "usage/x", key)
        # (a file without one usable identifier: the old map was empty, its column of type Null)
        old = old.with_columns(pl.col("user_key").cast(pl.String), pl.col("natural_key").cast(pl.String))
        assert_frame_equal(old, pseudonymise_rows(rows, "f", "usage/x", key))
