"""ChatGPT Enterprise user engagement CSV (weekly or monthly cadence; 22 or more columns).

Columns are matched by name; extra columns of newer exports are ignored, so are ``department``
(a JSON array in newer exports), ``is_active`` (empty for pending users) and the rest. One row per
user and period gives at most two activity rows (tool ``chatgpt-enterprise``):

* ``first_day_active_in_period`` and ``last_day_active_in_period``, each when inside
  ``[period_start, period_end]``;
* ``messages`` split half/half, the larger half on the last day (5 -> 2 + 3; 1 -> 0 + 1: the
  first day still proves activity); the same day twice, or only one day inside the period, puts
  all messages on that one day;
* no message (0 or empty) or no active day inside the period: no activity row (the source row
  counts as loaded, inactive).

The cadence is taken from the ``cadence`` column (casefolded) or, when empty, from the period
length (7 days or less: ``weekly``, else ``monthly``) for the later weekly-over-monthly rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from kpi.adapters.textio import (
    MISSING_TOKENS,
    PYTHON_WHITESPACE,
    CsvTable,
    DateRange,
    normalise_identifier_series,
    parse_int,
)
from kpi.adapters.usage_common import (
    KEY_SEP,
    TOOL_CHATGPT,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    UsageFormat,
    empty_usage_frame,
    qrow,
)
from kpi.errors import InputError

REQUIRED = (
    "period_start",
    "period_end",
    "email",
    "first_day_active_in_period",
    "last_day_active_in_period",
    "messages",
)


def is_chatgpt_header(header: Sequence[str]) -> bool:
    names = {h.strip().casefold() for h in header}
    return {"period_start", "period_end", "email"} <= names and bool(
        names & {"messages", "first_day_active_in_period", "last_day_active_in_period"}
    )


# ----------------------------------------------------------------------------------------------
# the mapping: one DuckDB query per file (issue 18); Python only per distinct date, count and
# cadence text

_COLUMNS = {"period_start": "ps", "period_end": "pe", "email": "email", "first_day_active_in_period": "fd",
            "last_day_active_in_period": "ld", "messages": "ms", "cadence": "cad"}

_CHATGPT_SQL = """
WITH dates_ AS ({dates}),
counts_ AS (
    SELECT unnest($count_text::VARCHAR[]) AS text, unnest($count_value::BIGINT[]) AS value,
           unnest($count_bad::BOOLEAN[]) AS bad
),
cadences_ AS (SELECT unnest($cadence_text::VARCHAR[]) AS text, unnest($cadence_value::VARCHAR[]) AS value),
parsed AS (  -- a missing date or count is in no lookup row (NULL here)
    SELECT t.row_number, s.text IS NULL AS start_missing, s.day AS start, s.reason AS start_reason,
           e.text IS NULL AS end_missing, e.day AS "end", e.reason AS end_reason,
           coalesce(m.value, 0) AS messages, coalesce(m.bad, false) AS messages_bad,
           f.day AS first, f.reason AS first_reason, l.day AS last, l.reason AS last_reason, c.value AS cadence
    FROM t
    LEFT JOIN dates_ AS s ON s.text = t.ps
    LEFT JOIN dates_ AS e ON e.text = t.pe
    LEFT JOIN counts_ AS m ON m.text = t.ms
    LEFT JOIN dates_ AS f ON f.text = t.fd
    LEFT JOIN dates_ AS l ON l.text = t.ld
    LEFT JOIN cadences_ AS c ON c.text = t.cad
),
checked AS (  -- the first problem, in the order the columns are checked
    SELECT *,
           CASE WHEN start_missing THEN ['period_start', 'missing_required']
                WHEN start_reason IS NOT NULL THEN ['period_start', start_reason]
                WHEN end_missing THEN ['period_end', 'missing_required']
                WHEN end_reason IS NOT NULL THEN ['period_end', end_reason]
                WHEN "end" < start THEN ['period_end', 'out_of_range']
                WHEN messages_bad THEN ['messages', 'out_of_range']
                WHEN first_reason IS NOT NULL THEN ['first_day_active_in_period', first_reason]
                WHEN last_reason IS NOT NULL THEN ['last_day_active_in_period', last_reason]
                WHEN first > last THEN ['first_day_active_in_period', 'out_of_range'] END AS problem,
           CASE WHEN first BETWEEN start AND "end" THEN first END AS first_in,
           CASE WHEN last BETWEEN start AND "end" THEN last END AS last_in
    FROM parsed
)
SELECT row_number, problem[1] AS problem_column, problem[2] AS reason,
       -- no message, or no active day inside the period: loaded, no activity
       problem IS NULL AND (messages = 0 OR (first_in IS NULL AND last_in IS NULL)) AS inactive,
       messages > 0 AS has_messages, start, "end",
       coalesce(nullif(cadence, ''), CASE WHEN "end" - start <= 7 THEN 'weekly' ELSE 'monthly' END) AS cadence,
       -- the messages split half/half, the larger half on the last day; one day takes them all
       CASE WHEN problem IS NOT NULL OR messages = 0 OR (first_in IS NULL AND last_in IS NULL) THEN []
            WHEN first_in IS NOT NULL AND last_in IS NOT NULL AND first_in <> last_in
            THEN [{'slot': 'first', 'day': first_in, 'count': messages // 2},
                  {'slot': 'last', 'day': last_in, 'count': messages - messages // 2}]
            WHEN last_in IS NOT NULL THEN [{'slot': 'last', 'day': last_in, 'count': messages}]
            ELSE [{'slot': 'first', 'day': first_in, 'count': messages}] END AS parts
FROM checked
"""


def read_chatgpt(table: CsvTable, dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, inactive rows, warnings and personal columns of a user engagement
    CSV (a date outside ``dates`` is ``out_of_range``), by one DuckDB query over the tokenised
    records: each distinct date text is parsed once by ``parse_date``, each distinct count by
    ``parse_int`` and each cadence casefolded once, in Python; the checks, the report period and
    the split of the messages are SQL; the e-mails of active rows are trimmed and normalised as
    columns (``normalise_identifier_series``, the vectorised ``kpi.privacy.normalise_identifier``)."""
    from kpi.adapters.sqlmap import DATES_SQL, parsed_dates, query

    idx = {c: table.column_index(c) for c in (*REQUIRED, "cadence")}
    missing = [c for c in REQUIRED if idx[c] is None]
    if missing:
        raise InputError(
            f"{table.name}: ChatGPT Enterprise export lacks column '{missing[0]}' "
            f"(found: {', '.join(table.header[:30])}); export the user engagement report again"
        )
    header = table.header
    name = {c: header[i] for c, i in idx.items() if i is not None}
    personal = {name["email"]}
    for extra in ("name", "public_id", "account_id"):
        i = table.column_index(extra)
        if i is not None:
            personal.add(header[i])
    quarantine: list[dict[str, Any]] = [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]
    frame = table.frame.select(
        "row_number", *[(pl.col(f"c{idx[c]}") if idx[c] is not None else pl.lit(None, pl.String)).alias(short)
                        for c, short in _COLUMNS.items()])
    if frame.height == 0:
        return FormatRead(empty_usage_frame(), quarantine, table.rows_read, personal_columns=personal)
    date_texts = pl.concat([frame.get_column(c) for c in ("ps", "pe", "fd", "ld")]).unique().to_list()
    counts: dict[str, list] = {"count_text": [], "count_value": [], "count_bad": []}
    for text in frame.get_column("ms").unique().to_list():
        value, ok = parse_int(text, table.decimal)
        if ok and value is None:
            continue  # missing: no message
        counts["count_text"].append(text)
        counts["count_value"].append(value if ok and value >= 0 else None)
        counts["count_bad"].append(not ok or value < 0)
    cadences = frame.get_column("cad").drop_nulls().unique().to_list()
    params = {**parsed_dates(date_texts, dates), **counts, "cadence_text": cadences,
              "cadence_value": [text.strip().casefold() for text in cadences]}
    out = query(_CHATGPT_SQL.replace("{dates}", DATES_SQL), params, t=frame)
    problems = out.filter(pl.col("problem_column").is_not_null()).join(frame, on="row_number", how="left")
    for number, column, reason, *cells in problems.select(
            "row_number", "problem_column", "reason", *_COLUMNS.values()).iter_rows():
        quarantine.append(qrow(number, name[column], dict(zip(_COLUMNS, cells))[column], reason))
    inactive_rows = out.filter("inactive")
    inactive = inactive_rows.get_column("row_number").to_list()
    dropped_messages = int(inactive_rows.get_column("has_messages").sum() or 0)
    active = out.filter(pl.col("parts").list.len() > 0).sort("row_number").join(
        frame.select("row_number", "email"), on="row_number", how="left", maintain_order="left")
    active = active.with_columns(pl.col("email").str.strip_chars(PYTHON_WHITESPACE).alias("user"))  # = str.strip()
    active = active.with_columns(normalise_identifier_series(active.get_column("user")).alias("user_norm"))
    no_email = active.get_column("user_norm").is_in(sorted(MISSING_TOKENS))  # is_missing
    for number, text in active.filter(no_email).select("row_number", "email").iter_rows():
        quarantine.append(qrow(number, name["email"], text, "missing_required"))
    active = active.filter(~no_email).explode("parts").unnest("parts")
    rows = active.select(
        pl.col("row_number"), pl.col("day"), pl.lit(None, pl.Datetime("us")).alias("event_time"), pl.col("user"),
        pl.col("user_norm"), pl.lit(TOOL_CHATGPT).alias("tool"), pl.lit(None, pl.String).alias("action"),
        pl.col("count").alias("interactions"), pl.lit(0).alias("successes"), pl.lit(0).alias("failures"),
        # = make_key(TOOL_CHATGPT, start, end, norm, slot)
        pl.concat_str([pl.lit(TOOL_CHATGPT), pl.col("start").dt.to_string("%Y-%m-%d"),
                       pl.col("end").dt.to_string("%Y-%m-%d"), pl.col("user_norm"), pl.col("slot")],
                      separator=KEY_SEP).alias("natural_key"),
        pl.col("start").alias("period_start"), pl.col("end").alias("period_end"), pl.col("cadence"),
    ).cast(USAGE_SCHEMA).select(USAGE_COLUMNS)
    warnings = []
    if dropped_messages:
        warnings.append(
            f"{dropped_messages} row(s) report messages but no active day inside their period: no activity recorded"
        )
    return FormatRead(rows, quarantine, table.rows_read, inactive_row_numbers=inactive,
                      warnings=warnings, personal_columns=personal)


FORMAT = UsageFormat(
    name="chatgpt_enterprise",
    tool=TOOL_CHATGPT,
    description="ChatGPT Enterprise user engagement (CSV)",
    containers=("csv",),
    recognises=is_chatgpt_header,
    read=lambda source: read_chatgpt(source.table(), source.dates),
    priority=10,  # after the Microsoft 365 user detail
)
