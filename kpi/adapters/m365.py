"""Microsoft 365 Copilot usage, user detail (Graph report CSV v1/v2 or admin-center export).

Columns are matched by name in any order:

* user: ``User Principal Name`` (Graph) or ``User name`` (admin center);
* report window: ``Report Refresh Date`` and ``Report Period`` (days);
* per-app dates: ``<App> Last Activity Date`` (Graph, e.g. ``Word Copilot Last Activity Date``,
  ``Copilot Chat (work) Last Activity Date``) or ``Last activity date of <App> (UTC)``
  (admin center);
* the overall ``Last Activity Date`` / ``Last activity date (UTC)``.

Each app's date inside ``[refresh - period + 1, refresh]`` gives one activity row (tool
``m365-copilot``, action = app id, 1 interaction). The overall last-activity date gives a row with
action ``other`` only when no app row has that day (activity in an app without its own column).
Without a refresh date/period column every valid date counts. Dates are the report's UTC dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from kpi.adapters.textio import CsvTable, DateRange, is_missing, normalise_identifier, parse_date
from kpi.adapters.usage_common import (
    KEY_SEP,
    TOOL_M365,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    UsageFormat,
    empty_usage_frame,
    qrow,
)

_KNOWN_APPS = {
    "copilot chat": "copilot-chat",
    "copilot chat (work)": "copilot-chat-work",
    "copilot chat (web)": "copilot-chat-web",
    "microsoft teams copilot": "teams",
    "teams copilot": "teams",
    "microsoft 365 copilot": "m365-copilot-app",
    "microsoft 365 copilot app": "m365-copilot-app",
    "microsoft 365 copilot (app)": "m365-copilot-app",
}
_CHAT_PARTS = ("copilot-chat-work", "copilot-chat-web")

_GRAPH_APP = re.compile(r"^(.+?)\s+last activity date(?:\s*\(utc\))?$")
_UI_APP = re.compile(r"^last activity date of\s+(.+?)(?:\s*\(utc.*\))?$")
_OVERALL = re.compile(r"^last activity date(?:\s*\(utc.*\))?$")
_USER_COLUMNS = ("user principal name", "user name", "userprincipalname", "username")


def app_id(label: str) -> str:
    """Stable action id of an app label (``Word Copilot`` -> ``word``)."""
    s = re.sub(r"\s+", " ", label.strip().casefold())
    if s in _KNOWN_APPS:
        return _KNOWN_APPS[s]
    s = re.sub(r"\bcopilot\b", " ", s)
    s = re.sub(r"^\s*microsoft\b", " ", s)
    slug = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    return slug or "other"


def is_m365_header(header: Sequence[str]) -> bool:
    names = [h.strip().casefold() for h in header]
    has_user = any(n in _USER_COLUMNS for n in names)
    has_dates = any("last activity date" in n for n in names)
    return has_user and has_dates


def _columns(header: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"apps": [], "overall": None, "user": None, "refresh": None, "period": None}
    for i, h in enumerate(header):
        n = re.sub(r"\s+", " ", h.strip().casefold())
        if n in _USER_COLUMNS and out["user"] is None:
            out["user"] = i
        elif n == "report refresh date":
            out["refresh"] = i
        elif n == "report period":
            out["period"] = i
        elif _OVERALL.match(n):
            out["overall"] = i
        elif m := _UI_APP.match(n):
            out["apps"].append((i, app_id(m.group(1))))
        elif m := _GRAPH_APP.match(n):
            out["apps"].append((i, app_id(m.group(1))))
    return out


def read_m365(table: CsvTable, dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, inactive rows, warnings and personal columns of a user-detail CSV.

    A date outside ``dates`` is ``out_of_range``. ``concealed_rows`` counts every row whose user
    is concealed (Microsoft's report privacy setting), active or not: a report of inactive
    concealed users is as unusable as one of active ones."""
    cols = _columns(table.header)
    header = table.header
    user_i = cols["user"]
    personal = {header[user_i]} if user_i is not None else set()
    display = next((h for h in header if h.strip().casefold() == "display name"), None)
    if display:
        personal.add(display)
    warnings: list[str] = []
    if cols["refresh"] is None or cols["period"] is None:
        warnings.append(
            f"{table.name}: no 'Report Refresh Date'/'Report Period' column: every last-activity "
            "date in the file counts (the report period cannot be checked)"
        )
    quarantine: list[dict[str, Any]] = [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]
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


def _window_texts(texts: tuple, cols: dict[str, Any], dates: DateRange | None = None):
    """The report window from the refresh-date and period cells (in that order, each only when
    its column exists): (problem, window), problem = (column index, text, quarantine reason) or
    None, window = (first day, last day) of the report period, None = open."""
    cells: dict[int, Any] = dict(zip([i for i in (cols["refresh"], cols["period"]) if i is not None], texts))
    refresh = period = None
    if cols["refresh"] is not None:
        text = cells[cols["refresh"]]
        refresh, ok = parse_date(text)
        if not ok:
            return (cols["refresh"], text, "invalid_date"), None
        if refresh is None:
            return (cols["refresh"], text, "missing_required"), None
        if dates is not None and refresh not in dates:
            return (cols["refresh"], text, "out_of_range"), None
    if cols["period"] is not None:
        text = cells[cols["period"]]
        if not is_missing(text):
            m = re.fullmatch(r"\s*[dD]?\s*(\d{1,4})(?:\s*days?)?\s*", text)
            if not m or int(m.group(1)) == 0:
                return (cols["period"], text, "out_of_range"), None
            period = int(m.group(1))
    lo = refresh - dt.timedelta(days=period - 1) if refresh is not None and period is not None else None
    return None, (lo, refresh)


FORMAT = UsageFormat(
    name="m365_copilot",
    tool=TOOL_M365,
    description="Microsoft 365 Copilot user detail (CSV)",
    containers=("csv",),
    recognises=is_m365_header,
    read=lambda source: read_m365(source.table(), source.dates),
    priority=20,
)
