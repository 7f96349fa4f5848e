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

from kpi.adapters.textio import (
    MISSING_TOKENS,
    PYTHON_WHITESPACE,
    CsvTable,
    DateRange,
    is_missing,
    normalise_identifier_series,
    parse_date,
)
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


def _report_facts(table: CsvTable) -> tuple[dict[str, Any], list[str], set[str], list[str], list[dict[str, Any]]]:
    """What a report's header says: its columns (``_columns``), the header, the personal columns
    (the user and ``Display Name``), the warning of a report without its window columns, and the
    malformed rows' quarantine."""
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
    return cols, header, personal, warnings, [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]


# ----------------------------------------------------------------------------------------------
# the mapping: one DuckDB query per file (issue 18); Python only per distinct cell text and
# report window

_M365_SQL = """
WITH dates_ AS ({dates}),
windows_ AS (
    SELECT unnest($window_key::VARCHAR[]) AS window_key, unnest($problem_col::INTEGER[]) AS problem_col,
           unnest($problem_text::VARCHAR[]) AS problem_text, unnest($window_reason::VARCHAR[]) AS reason,
           unnest($lo::DATE[]) AS lo, unnest($hi::DATE[]) AS hi
),
report AS (  -- each row with its report window (or the window's problem) and its date cells in check order
    SELECT t.row_number, w.problem_col, w.problem_text, w.reason, w.lo, w.hi, [{cells}] AS texts
    FROM t INNER JOIN windows_ AS w ON w.window_key = {window_key}
),
cell AS (  -- the cells that hold a date or a problem (a missing date is in no lookup row)
    SELECT c.row_number, c.pos, c.text, d.day, d.reason, ($apps::VARCHAR[])[c.pos] AS app,
           d.reason IS NULL AND (c.lo IS NULL OR d.day >= c.lo) AND (c.hi IS NULL OR d.day <= c.hi) AS in_window
    FROM (SELECT row_number, lo, hi, unnest(texts) AS text, generate_subscripts(texts, 1) AS pos
          FROM report WHERE reason IS NULL) AS c
    INNER JOIN dates_ AS d ON c.text = d.text
),
problem AS (  -- the first cell with a problem, in the order the columns are checked
    SELECT row_number, min(pos) AS pos FROM cell WHERE reason IS NOT NULL GROUP BY row_number
),
days AS (  -- the apps of each day inside the report window
    SELECT row_number, day, list(DISTINCT app) FILTER (WHERE app IS NOT NULL) AS apps
    FROM cell WHERE in_window AND row_number NOT IN (SELECT row_number FROM problem)
    GROUP BY row_number, day
)
SELECT 'q' AS kind, row_number, problem_col AS col, problem_text AS text, reason, NULL::DATE AS day,
       NULL::VARCHAR AS app
FROM report WHERE reason IS NOT NULL
UNION ALL
SELECT 'q', c.row_number, ($columns::INTEGER[])[c.pos], c.text, c.reason, NULL, NULL
FROM cell AS c INNER JOIN problem AS p ON c.row_number = p.row_number AND c.pos = p.pos
UNION ALL
-- the overall date adds 'other' only when no app has that day; the plain Copilot Chat column
-- already covers its (work)/(web) parts
SELECT 'active', row_number, NULL, NULL, NULL, day,
       unnest(CASE WHEN apps IS NULL OR len(apps) = 0 THEN ['other']
                   WHEN list_contains(apps, 'copilot-chat')
                   THEN [a FOR a IN apps IF a NOT IN ('copilot-chat-work', 'copilot-chat-web')]
                   ELSE apps END)
FROM days
"""


def read_m365(table: CsvTable, dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, inactive rows, warnings and personal columns of a user-detail
    CSV, by one DuckDB query over the tokenised records. A date outside ``dates`` is
    ``out_of_range``; ``concealed_rows`` counts every row whose user is concealed (Microsoft's
    report privacy setting), active or not. The cells of the date columns are unpivoted and joined
    with their parsed dates (each distinct text parsed once, in Python, by ``parse_date``), the
    report window is looked up per distinct (refresh, period) pair, and the users of active rows
    are trimmed and normalised as columns (``normalise_identifier_series``, the vectorised
    ``kpi.privacy.normalise_identifier``)."""
    from kpi.adapters.sqlmap import DATES_SQL, parsed_dates, query

    cols, header, personal, warnings, quarantine = _report_facts(table)
    user_i = cols["user"]
    frame = table.frame
    concealed = 0
    if user_i is not None and frame.height:
        concealed = int(frame.select(
            pl.col(f"c{user_i}").str.strip_chars().str.contains(r"^[0-9A-Fa-f]{32}$").sum()).item() or 0)
    if frame.height == 0:
        return FormatRead(empty_usage_frame(), quarantine, table.rows_read, warnings=warnings,
                          personal_columns=personal, concealed_rows=concealed)
    # the date columns in the order the reader checks them: the apps, then the overall date
    checked = [(i, app) for i, app in cols["apps"]]
    if cols["overall"] is not None:
        checked.append((cols["overall"], None))
    window_columns = [i for i in (cols["refresh"], cols["period"]) if i is not None]
    texts = (pl.concat([frame.get_column(f"c{i}") for i, _ in checked]).unique().to_list() if checked else [])
    keys = (frame.select(pl.concat_str([pl.col(f"c{i}") for i in window_columns], separator="\x00")
                         .unique()).to_series().to_list() if window_columns else [""])
    params = {**parsed_dates(texts, dates), **_window_lookup(keys, cols, dates),
              "apps": [app for _, app in checked], "columns": [i for i, _ in checked]}
    sql = _M365_SQL.format(
        dates=DATES_SQL, cells=", ".join(f"t.c{i}" for i, _ in checked),
        window_key=" || chr(0) || ".join(f"t.c{i}" for i in window_columns) if window_columns else "''")
    used = dict.fromkeys(f"c{i}" for i in (*window_columns, *(i for i, _ in checked)))
    out = query(sql, params, t=frame.select("row_number", *used))
    problems = out.filter(pl.col("kind") == "q")
    for number, col, text, reason in problems.select("row_number", "col", "text", "reason").iter_rows():
        quarantine.append(qrow(number, header[col], text, reason))
    active = out.filter(pl.col("kind") == "active").select("row_number", "day", "app").sort("row_number", "app", "day")
    inactive = frame.select("row_number").join(problems, on="row_number", how="anti").join(
        active, on="row_number", how="anti").get_column("row_number").to_list()
    user = pl.col(f"c{user_i}") if user_i is not None else pl.lit("")
    user_text = frame.select("row_number", user.alias("user_text"))
    active = active.join(user_text, on="row_number", how="left", maintain_order="left").with_columns(
        pl.col("user_text").str.strip_chars(PYTHON_WHITESPACE).alias("user"))  # = str.strip()
    active = active.with_columns(normalise_identifier_series(active.get_column("user")).alias("user_norm"))
    active = active.with_columns(pl.col("user_norm").is_in(sorted(MISSING_TOKENS)).alias("missing"))  # is_missing
    missing = active.filter(pl.col("missing")).group_by("row_number", maintain_order=True).agg(
        pl.col("user_text").first())
    column = header[user_i] if user_i is not None else "User Principal Name"
    for number, text in missing.iter_rows():
        quarantine.append(qrow(number, column, text if user_i is not None else None, "missing_required"))
    active = active.filter(~pl.col("missing"))
    rows = active.select(
        pl.col("row_number"), pl.col("day"), pl.lit(None, pl.Datetime("us")).alias("event_time"),
        pl.col("user"), pl.col("user_norm"), pl.lit(TOOL_M365).alias("tool"), pl.col("app").alias("action"),
        pl.lit(1).alias("interactions"), pl.lit(0).alias("successes"), pl.lit(0).alias("failures"),
        pl.concat_str([pl.lit(TOOL_M365), pl.col("day").dt.to_string("%Y-%m-%d"), pl.col("user_norm"),
                       pl.col("app")], separator=KEY_SEP).alias("natural_key"),
        pl.lit(None, pl.Date).alias("period_start"), pl.lit(None, pl.Date).alias("period_end"),
        pl.lit(None, pl.String).alias("cadence"),
    ).cast(USAGE_SCHEMA).select(USAGE_COLUMNS)
    return FormatRead(rows, quarantine, table.rows_read, inactive_row_numbers=inactive, warnings=warnings,
                      personal_columns=personal, concealed_rows=concealed)


def _window_lookup(keys: list[str], cols: dict[str, Any], dates: DateRange | None) -> dict[str, list]:
    """Each distinct (refresh, period) pair (joined by NUL): its problem or its window, as list
    parameters (``window_key``, ``problem_col``, ``problem_text``, ``window_reason``, ``lo``, ``hi``)."""
    out: dict[str, list] = {c: [] for c in ("window_key", "problem_col", "problem_text", "window_reason", "lo", "hi")}
    for key in keys:
        problem, window = _window_texts(tuple(key.split("\x00")) if key or cols["refresh"] is not None
                                        or cols["period"] is not None else (), cols, dates)
        out["window_key"].append(key)
        out["problem_col"].append(problem[0] if problem else None)
        out["problem_text"].append(problem[1] if problem else None)
        out["window_reason"].append(problem[2] if problem else None)
        out["lo"].append(window[0] if window else None)
        out["hi"].append(window[1] if window else None)
    return out


FORMAT = UsageFormat(
    name="m365_copilot",
    tool=TOOL_M365,
    description="Microsoft 365 Copilot user detail (CSV)",
    containers=("csv",),
    recognises=is_m365_header,
    read=lambda source: read_m365(source.table(), source.dates),
    priority=20,
)
