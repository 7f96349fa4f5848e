"""Property tests: corrupt random cells and lines of valid usage files; nothing is ever lost.

For a valid canonical CSV and a valid GitHub NDJSON, hypothesis corrupts random rows (garbage
dates, empty required fields, stray quotes, truncated lines, wrong types). Reading must not
raise, every source row must be accounted for exactly once, every corrupted row must be
quarantined with the reason its corruption calls for, and every intact row must be loaded with
its exact values.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.adapters.usage import read_usage_file
from kpi.errors import InputError

BAD_DATES = ["2025-13-01", "2025-02-30", "yesterday", "31.12.2025", "2025-03-01T25:00:00", "20250301", "2025-3-1"]
BAD_COUNTS = ["abc", "-3", "1.5", "1e3", "two", "--1"]
USERS = ["ann@example.com", "Bob@Example.com", "cid", "E00042", "dörte@example.com"]
TOOLS = ["chat-gateway", "claude", "m365-copilot"]
PROPS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_rows = st.lists(
    st.fixed_dictionaries({
        "day": st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31)),
        "time": st.one_of(st.none(), st.times().map(lambda t: t.replace(microsecond=0))),
        "user": st.sampled_from(USERS),
        "tool": st.sampled_from(TOOLS),
        "action": st.sampled_from(["", "chat", "draft"]),
        "interactions": st.integers(0, 500),
        "successes": st.integers(0, 50),
        "failures": st.integers(0, 50),
    }),
    min_size=1,
    max_size=25,
)
_corruptions = st.lists(
    st.tuples(
        st.integers(0, 10_000),  # which row (modulo the number of rows)
        st.sampled_from(["bad_date", "empty_required", "stray_quote", "truncate", "wrong_type"]),
        st.integers(0, 10_000),  # a free choice for the corruption
    ),
    max_size=8,
)


def _csv_line(r: dict) -> list[str]:
    when = r["day"].isoformat() if r["time"] is None else f"{r['day'].isoformat()}T{r['time'].isoformat()}"
    return [when, r["user"], r["tool"], r["action"], str(r["interactions"]), str(r["successes"]), str(r["failures"])]


EXPECTED_REASON = {
    "bad_date": "invalid_date",
    "empty_required": "missing_required",
    "stray_quote": "malformed_row",
    "truncate": "malformed_row",
    "wrong_type": "out_of_range",
}


def _apply(rows, corruptions):
    """Row index -> (kind, choice); one corruption per row, at most one stray quote per file
    (two stray quotes can legitimately pair up into one quoted multi-line field)."""
    chosen: dict[int, tuple[str, int]] = {}
    quotes = 0
    for which, kind, choice in corruptions:
        i = which % len(rows)
        if i in chosen or (kind == "stray_quote" and quotes):
            continue
        quotes += kind == "stray_quote"
        chosen[i] = (kind, choice)
    return chosen


@PROPS
@given(rows=_rows, corruptions=_corruptions, crlf=st.booleans(), final_newline=st.booleans())
def test_corrupted_canonical_csv_loses_nothing(tmp_path, rows, corruptions, crlf, final_newline):
    chosen = _apply(rows, corruptions)
    lines = []
    for i, r in enumerate(rows):
        cells = _csv_line(r)
        kind, choice = chosen.get(i, (None, 0))
        if kind == "bad_date":
            cells[0] = BAD_DATES[choice % len(BAD_DATES)]
        elif kind == "empty_required":
            cells[choice % 3] = ""  # event_time, user or tool
        elif kind == "wrong_type":
            cells[4 + choice % 3] = BAD_COUNTS[choice % len(BAD_COUNTS)]
        line = ",".join(cells)
        if kind == "stray_quote":
            pos = choice % (len(line) + 1)
            line = line[:pos] + '"' + line[pos:]
        elif kind == "truncate":
            line = line[: 1 + choice % line.rfind(",")]  # cut before the last delimiter, keep >= 1 char
        lines.append(line)
    nl = "\r\n" if crlf else "\n"
    text = "event_time,user,tool,action,interactions,successes,failures" + nl + nl.join(lines)
    path = tmp_path / "log.csv"
    path.write_bytes((text + (nl if final_newline else "")).encode("utf-8"))

    result = read_usage_file(path, "usage/log.csv", "Europe/Berlin", ".")
    result.check_accounting()
    assert result.rows_read == len(rows)
    quarantined = {q["row_number"]: q["reason"] for q in result.quarantine}
    assert quarantined == {i + 1: EXPECTED_REASON[kind] for i, (kind, _) in chosen.items()}
    loaded = {r[0]: r[1:] for r in result.rows.select(
        "row_number", "day", "event_time", "user", "tool", "action", "interactions", "successes", "failures"
    ).iter_rows()}
    for i, r in enumerate(rows):
        if i in chosen:
            continue
        event_time = None if r["time"] is None else dt.datetime.combine(r["day"], r["time"])
        assert loaded[i + 1] == (r["day"], event_time, r["user"], r["tool"], r["action"] or None,
                                 r["interactions"], r["successes"], r["failures"])


BAD_JSON_COUNTS = ["abc", -1, 1.5, [1], {"n": 1}, True]


@PROPS
@given(rows=_rows, corruptions=_corruptions, final_newline=st.booleans())
def test_corrupted_github_ndjson_loses_nothing(tmp_path, rows, corruptions, final_newline):
    chosen = _apply(rows, corruptions)
    lines = []
    for i, r in enumerate(rows):
        record = {
            "day": r["day"].isoformat(), "user_login": r["user"], "enterprise_id": "1",
            "user_initiated_interaction_count": r["interactions"],
            "code_generation_activity_count": r["successes"] + r["failures"],
            "code_acceptance_activity_count": r["successes"],
            "totals_by_ide": [{"ide": "vscode"}], "used_chat": bool(r["failures"] % 2),
        }
        kind, choice = chosen.get(i, (None, 0))
        if kind == "bad_date":
            record["day"] = BAD_DATES[choice % len(BAD_DATES)]
        elif kind == "empty_required":
            if choice % 2:
                record.pop(["day", "user_login"][choice % 4 // 2])
            else:
                record["user_login"] = ""
        elif kind == "wrong_type":
            record[["user_initiated_interaction_count", "code_generation_activity_count",
                    "code_acceptance_activity_count"][choice % 3]] = BAD_JSON_COUNTS[choice % len(BAD_JSON_COUNTS)]
        line = json.dumps(record)
        if kind == "stray_quote":
            pos = choice % (len(line) + 1)
            line = line[:pos] + '"' + line[pos:]
        elif kind == "truncate":
            line = line[: 2 + choice % (len(line) - 2)]
        lines.append(line)
    path = tmp_path / "gh.ndjson"
    path.write_text("\n".join(lines) + ("\n" if final_newline else ""), encoding="utf-8")

    text = path.read_text(encoding="utf-8")
    if not (re.search(r'"user_login"\s*:', text) and re.search(r'"(day|code_\w+_count|user_initiated_\w+)"\s*:', text)):
        # every record lost the keys that identify the format: a whole-file problem
        with pytest.raises(InputError, match="unrecognised usage format"):
            read_usage_file(path, "usage/gh.ndjson", "Europe/Berlin", ".")
        return
    result = read_usage_file(path, "usage/gh.ndjson", "Europe/Berlin", ".")
    result.check_accounting()
    assert result.rows_read == len(rows)
    quarantined = {q["row_number"]: q["reason"] for q in result.quarantine}
    assert quarantined == {i + 1: EXPECTED_REASON[kind] for i, (kind, _) in chosen.items()}
    loaded = {r[0]: r[1:] for r in result.rows.select(
        "row_number", "day", "user", "interactions", "successes", "failures").iter_rows()}
    for i, r in enumerate(rows):
        if i not in chosen:
            assert loaded[i + 1] == (r["day"], r["user"], r["interactions"] + r["successes"],
                                     r["successes"], r["failures"])
