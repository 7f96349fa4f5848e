"""Issue 18: the usage readers that map records in DuckDB SQL give the same staged rows,
quarantine, inactive rows and counts as the per-row readers they replaced, row for row.

The per-row readers (Microsoft 365 and ChatGPT Enterprise walked in Python, the canonical logs'
polars mapping and per-record JSON conversion, the per-file pseudonym map) were kept in
tests/ingest/reference_readers.py until the SQL mappings matched them; their outcome on a small
corpus was then committed and the frozen readers deleted. The corpus
(tests/fixtures/usage_equivalence/inputs, 260 KB; the expected outcomes 360 KB) holds the demo
company's exports (cut to their first lines), the property-test catalogue of every corruption once
then duplicated
(tests/ingest/test_ingest_properties.py), and hostile values: Unicode blanks, case folding and
control characters in identifiers, missing report columns, periods and days out of order or out
of range, decimal commas, timestamps with offsets in three time zones, JSON lines that DuckDB and
Python's json read differently (another spelling of a key, a repeated key, escapes, a trailing
comma, floats and booleans), Parquet. tests/fixtures/usage_equivalence/expected holds what the
reference readers returned for each (generated once from them at the parent of the commit that
deleted them: ``git log -- tests/ingest/reference_readers.py``; reviewed). GitHub's
per-record rules stay in production (``github.map_record``) and remain the live reference of its
SQL mapping, random corruptions included."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from kpi.adapters import canonical, chatgpt, github, m365
from kpi.adapters.textio import DateRange, parse_csv_text, read_text
from kpi.adapters.usage import read_usage_file, recognise, sniff
from kpi.adapters.usage_common import USAGE_SCHEMA, UsageSource, json_records
from kpi.paths import DEMO_DIR
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
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "usage_equivalence"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))


def _value(v):
    return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v


def as_json(read) -> dict:
    """A reader's outcome as the corpus stores it."""
    assert list(read.rows.schema.items()) == list(USAGE_SCHEMA.items()), read.rows.schema
    return {"rows": [[_value(v) for v in r] for r in read.rows.iter_rows()],
            "quarantine": sorted(read.quarantine, key=lambda q: q["row_number"]),
            "inactive": sorted(read.inactive_row_numbers), "rows_read": read.rows_read, "warnings": read.warnings,
            "personal_columns": sorted(read.personal_columns), "concealed_rows": read.concealed_rows}


def read_with(reader: str, path: Path, tz: str, dates: DateRange):
    """The production reader of a corpus entry, called as the reference was."""
    text, replaced = read_text(path, path.name) if path.suffix != ".parquet" else (None, 0)
    if reader == "m365":
        return m365.read_m365(parse_csv_text(text, path.name, chars_replaced=replaced), dates)
    if reader == "chatgpt":
        return chatgpt.read_chatgpt(parse_csv_text(text, path.name, chars_replaced=replaced), dates)
    sniffed = sniff(path, text, path.name)
    source = UsageSource(path=path, name=path.name, container=sniffed.container, tz=tz, text=text,
                         chars_replaced=replaced, dates=dates)
    if reader == "github":
        return github.read_github(source)
    return canonical.read_canonical(source, recognise(sniffed, path.name).name)


def _dates(entry: dict) -> DateRange:
    return DateRange(*(dt.date.fromisoformat(d) for d in entry["dates"]))


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["expected"].removeprefix("expected/") for e in MANIFEST])
def test_the_readers_give_the_frozen_outcome(entry):
    expected = json.loads((CORPUS / entry["expected"]).read_text(encoding="utf-8"))
    got = as_json(read_with(entry["reader"], CORPUS / entry["input"], entry["tz"], _dates(entry)))
    for part in expected:  # one part at a time: a difference names what differs
        assert got[part] == expected[part], part


def test_the_corpus_covers_every_format_and_outcome():
    """The frozen outcomes hold loaded, inactive and quarantined rows of every reason, for every
    reader (so the test above can fail on any of them)."""
    seen: dict[str, set] = {}
    for entry in MANIFEST:
        expected = json.loads((CORPUS / entry["expected"]).read_text(encoding="utf-8"))
        kinds = seen.setdefault(entry["reader"], set())
        kinds.update({"rows"} if expected["rows"] else set())
        kinds.update({"inactive"} if expected["inactive"] else set())
        kinds.update(q["reason"] for q in expected["quarantine"])
    for reader in ("m365", "chatgpt", "github", "canonical"):
        assert {"rows", "missing_required", "invalid_date", "out_of_range", "malformed_row"} <= seen[reader], reader
    assert "inactive" in seen["m365"] and "inactive" in seen["chatgpt"]


def test_pseudonymised_rows():
    """Pseudonyms hashed once per identifier and run (a join) give the rows the per-file map gave."""
    from kpi.ingest.usage import pseudonymise_rows

    key = b"equivalence-key-0123456789"
    for case in json.loads((CORPUS / "expected" / "pseudonyms.json").read_text(encoding="utf-8")):
        rows = read_with(case["reader"], CORPUS / case["input"], case["tz"], _dates(case)).rows
        out = pseudonymise_rows(rows, "f", "usage/x", key)
        assert out.columns == case["columns"]
        assert [[_value(v) for v in row] for row in out.iter_rows()] == case["rows"]


def test_pseudonyms_of_identifiers_that_are_other_fields_of_their_key():
    """The key's user field is its first whole field equal to the identifier (a user named like the
    day or the tool takes that field); a blank identifier has no pseudonym, a concealed one is
    flagged; the same key hashes once per process."""
    from kpi.adapters.usage_common import KEY_SEP
    from kpi.ingest.usage import pseudonymise_rows
    from kpi.privacy import pseudonymise

    key = b"equivalence-key-0123456789"
    users = ["2025-03-01", "chat-gateway", " ", "5a1b2c3d4e5f60718293a4b5c6d7e8f9", "ada", "straße"]
    # (every format puts ASCII fields before the user: polars' str.find counts bytes, str.head characters)
    keys = [KEY_SEP.join(["2025-03-01", "2025-03-01", "chat-gateway", ""]),
            KEY_SEP.join(["2025-03-01", "chat-gateway", "chat-gateway", "a"]),
            KEY_SEP.join(["2025-03-01", " ", "chat-gateway", ""]),
            KEY_SEP.join(["m365", "2025-03-01", users[3], "word"]),
            KEY_SEP.join(["", "ada", "é", ""]),
            KEY_SEP.join(["tool", "straße", "ü"])]
    rows = pl.DataFrame({"row_number": range(1, 7), "user_norm": users, "natural_key": keys},
                        schema={"row_number": pl.Int64, "user_norm": pl.String, "natural_key": pl.String})
    rows = rows.with_columns([pl.lit(None).cast(t).alias(c) for c, t in USAGE_SCHEMA.items() if c not in rows.columns])
    out = pseudonymise_rows(rows.select(list(USAGE_SCHEMA)), "f", "usage/x", key)
    p = {u: pseudonymise(u, key) for u in users if u.strip()}
    assert out.get_column("natural_key").to_list() == [
        KEY_SEP.join([p["2025-03-01"], "2025-03-01", "chat-gateway"]),  # the trailing empty field stripped
        KEY_SEP.join(["2025-03-01", p["chat-gateway"], "chat-gateway", "a"]),
        None,  # no pseudonym for a blank identifier
        KEY_SEP.join(["m365", "2025-03-01", p[users[3]], "word"]),
        KEY_SEP.join([p["ada"], "é"]),  # the empty first and last fields stripped
        KEY_SEP.join(["tool", p["straße"], "ü"])]
    assert out.get_column("user_concealed").to_list() == [False, False, False, True, False, False]


# -- GitHub Copilot users-1-day: the per-record rules (github.map_record) are the live reference


def same_github(path: Path, dates: DateRange = DATES) -> None:
    text, replaced = read_text(path, path.name)
    old = github.read_github_records(json_records(text, path.name, github.RECORD_KEYS), dates)
    new = github.read_github(UsageSource(path=path, name=path.name, container="json", text=text,
                                         chars_replaced=replaced, dates=dates))
    assert_frame_equal(old.rows, new.rows)
    by_row = lambda q: q["row_number"]  # noqa: E731
    assert sorted(old.quarantine, key=by_row) == sorted(new.quarantine, key=by_row)
    assert (old.rows_read, old.warnings, old.personal_columns) == (new.rows_read, new.warnings, new.personal_columns)


def _write(kind, plan, n, tmp: Path, trailing_blank=1, crlf=False, bom=False) -> Path:
    root = Path(tempfile.mkdtemp(dir=tmp))
    write_inputs(root, kind, build_lines(kind, n, plan), trailing_blank, crlf, bom)
    return root / kind.rel


def test_github_demo_exports():
    files = sorted((DEMO_DIR / "usage" / "github").glob("*.ndjson"))
    assert files
    for path in files[::4]:
        same_github(path, DateRange.around(dt.date(2026, 11, 1)))


def test_github_every_corruption_of_the_catalogue(tmp_path):
    plan = [(i, c, 7919 * i) for i, c in enumerate(GITHUB.corruptions)]
    duplicate = next(c for c in GITHUB.corruptions if isinstance(c, Duplicate))
    plan += [(i, duplicate, 0) for i in range(len(GITHUB.corruptions))]
    same_github(_write(GITHUB, plan, len(plan), tmp_path))


@settings(PROPS, max_examples=10)
@given(data=st.data())
def test_github_random_corruptions(tmp_path, data):
    example = data.draw(plan_strategy(GITHUB))
    same_github(_write(GITHUB, example["plan"], example["n"], tmp_path, example["trailing_blank"], example["crlf"],
                       example["bom"]))


@pytest.mark.parametrize("kind", [M365, CHATGPT, USAGE], ids=["m365", "chatgpt", "canonical"])
@settings(PROPS, max_examples=5)
@given(data=st.data())
def test_random_corruptions_lose_nothing(tmp_path, kind, data):
    """Random plans of the other formats: every source row is loaded, inactive or quarantined once
    (their rows are compared with the frozen readers' on the catalogue above; the ingest's property
    tests check the reasons and the warehouse)."""
    example = data.draw(plan_strategy(kind))
    path = _write(kind, example["plan"], example["n"], tmp_path, example["trailing_blank"], example["crlf"],
                  example["bom"])
    read_usage_file(path, path.name, "Europe/Berlin", dates=DATES).check_accounting()


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



