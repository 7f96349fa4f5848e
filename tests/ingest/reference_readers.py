"""The Microsoft 365 reader as it was before issue 18 (rows walked in Python), frozen as the
reference the SQL mapping is tested against, row for row, quarantine included
(tests/ingest/test_reader_equivalence.py). Not used by the pipeline. (The GitHub reader keeps its
per-record rules in production, ``github.map_record``, which serves as its reference.)"""

from __future__ import annotations

import datetime as dt

import polars as pl

from kpi.adapters.m365 import _CHAT_PARTS, _report_facts, _window_texts
from kpi.adapters.textio import CsvTable, DateRange, is_missing, normalise_identifier, parse_date
from kpi.adapters.usage_common import (
    KEY_SEP,
    TOOL_M365,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    empty_usage_frame,
    qrow,
)


def read_m365(table: CsvTable, dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, inactive rows, warnings and personal columns of a user-detail CSV.

    A date outside ``dates`` is ``out_of_range``. ``concealed_rows`` counts every row whose user
    is concealed (Microsoft's report privacy setting), active or not: a report of inactive
    concealed users is as unusable as one of active ones."""
    cols, header, personal, warnings, quarantine = _report_facts(table)
    user_i = cols["user"]
    inactive: list[int] = []
    ncols = len(header)
    # A report repeats the same few dozen dates and one report window in every row: each distinct
    # cell is parsed once (same results as parsing every cell; ~3x faster on large reports).
    date_of = _memo(parse_date)
    window_of = _memo(lambda texts: _window_texts(texts, cols, dates))
    iso_of = _memo(dt.date.isoformat)
    window_columns = [i for i in (cols["refresh"], cols["period"]) if i is not None]
    out: dict[str, list] = {c: [] for c in ("row_number", "day", "user", "user_norm", "action", "natural_key")}
    for rec in table.frame.select(["row_number", *[f"c{i}" for i in range(ncols)]]).iter_rows():
        number, cells = rec[0], rec[1:]
        window = window_of(tuple(cells[i] for i in window_columns))
        if window[0] is not None:
            column, text, reason = window[0]
            quarantine.append(qrow(number, header[column], text, reason))
            continue
        lo, hi = window[1]
        problem = None
        app_days: dict[str, set[dt.date]] = {}
        for i, app in cols["apps"]:
            day, ok = date_of(cells[i])
            if not ok:
                problem = qrow(number, header[i], cells[i], "invalid_date")
                break
            if day is not None and dates is not None and day not in dates:
                problem = qrow(number, header[i], cells[i], "out_of_range")
                break
            if day is not None and (lo is None or day >= lo) and (hi is None or day <= hi):
                app_days.setdefault(app, set()).add(day)
        if problem is None and cols["overall"] is not None:
            overall, ok = date_of(cells[cols["overall"]])
            if not ok:
                problem = qrow(number, header[cols["overall"]], cells[cols["overall"]], "invalid_date")
            elif overall is not None and dates is not None and overall not in dates:
                problem = qrow(number, header[cols["overall"]], cells[cols["overall"]], "out_of_range")
            elif overall is not None and (lo is None or overall >= lo) and (hi is None or overall <= hi):
                if not any(overall in days for days in app_days.values()):
                    app_days.setdefault("other", set()).add(overall)
        if problem:
            quarantine.append(problem)
            continue
        chat_days = app_days.get("copilot-chat", set())
        for part in _CHAT_PARTS:  # the plain Copilot Chat column already covers its parts
            if part in app_days:
                app_days[part] -= chat_days
                if not app_days[part]:
                    del app_days[part]
        if not app_days:
            inactive.append(number)
            continue
        user = (cells[user_i] if user_i is not None else "").strip()
        if is_missing(user):
            column = header[user_i] if user_i is not None else "User Principal Name"
            quarantine.append(qrow(number, column, cells[user_i] if user_i is not None else None, "missing_required"))
            continue
        norm = normalise_identifier(user)
        for app in sorted(app_days):
            for day in sorted(app_days[app]):
                out["row_number"].append(number)
                out["day"].append(day)
                out["user"].append(user)
                out["user_norm"].append(norm)
                out["action"].append(app)
                # = make_key(TOOL_M365, day, norm, app)
                out["natural_key"].append(f"{TOOL_M365}{KEY_SEP}{iso_of(day)}{KEY_SEP}{norm}{KEY_SEP}{app}")
    concealed = 0
    if user_i is not None and table.frame.height:
        concealed = int(table.frame.select(
            pl.col(f"c{user_i}").str.strip_chars().str.contains(r"^[0-9A-Fa-f]{32}$").sum()).item() or 0)
    return FormatRead(_frame(out), quarantine, table.rows_read, inactive_row_numbers=inactive,
                      warnings=warnings, personal_columns=personal, concealed_rows=concealed)


def _memo(fn):
    """fn with a per-call cache (arguments are cell texts or tuples of them)."""
    cache: dict = {}

    def cached(arg):
        try:
            return cache[arg]
        except KeyError:
            value = cache[arg] = fn(arg)
            return value

    return cached


def _frame(out: dict[str, list]) -> pl.DataFrame:
    """Canonical rows (USAGE_SCHEMA) from the columns collected by read_m365."""
    n = len(out["row_number"])
    if n == 0:
        return empty_usage_frame()
    constant = {"event_time": None, "tool": TOOL_M365, "interactions": 1, "successes": 0, "failures": 0,
                "period_start": None, "period_end": None, "cadence": None}
    data = {c: out[c] if c in out else [constant[c]] * n for c in USAGE_COLUMNS}
    return pl.DataFrame(data, schema=USAGE_SCHEMA)
