"""Canonical event log: ``.csv``, ``.jsonl`` or ``.parquet`` with event_time, user, tool.

Event-level files (an ``outcome`` column or no count column) give one interaction per row
(format ``canonical_events``); pre-aggregated files (``interactions``/``successes``/``failures``
columns) carry counts (format ``canonical_counts``). Rows are mapped by one DuckDB query per file
(``map_canonical``); each distinct timestamp, user, tool, action, outcome and count text is parsed
once, vectorised in polars. Plain NDJSON is parsed by DuckDB's JSON functions
(``read_canonical_lines``). This module declares both formats (``EVENTS``, ``COUNTS``) since they
differ only in the count columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from kpi.adapters.textio import (
    CsvTable,
    DateRange,
    missing_expr,
    normalise_identifier_series,
    with_parsed_int,
    with_parsed_timestamp,
)
from kpi.adapters.usage_common import (
    KEY_SEP,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    UsageFormat,
    UsageSource,
    empty_usage_frame,
    json_fallback_records,
    plain_ndjson_lines,
    qrow,
)
from kpi.errors import InputError

CANONICAL_COLUMNS = ("event_time", "user", "tool", "action", "outcome", "interactions", "successes", "failures")
REQUIRED = ("event_time", "user", "tool")
COUNT_COLUMNS = ("interactions", "successes", "failures")
OUTCOMES = ("success", "failure")


def canonical_kind(names: Iterable[str]) -> str | None:
    """``canonical_counts`` / ``canonical_events`` from column names, or None."""
    found = {str(n).strip().casefold() for n in names}
    if not set(REQUIRED) <= found:
        return None
    return "canonical_counts" if found & set(COUNT_COLUMNS) else "canonical_events"


def _resolve(names: list[str]) -> dict[str, str]:
    """canonical column -> the file's column name (first case-insensitive match)."""
    out: dict[str, str] = {}
    for n in names:
        key = str(n).strip().casefold()
        if key in CANONICAL_COLUMNS and key not in out:
            out[key] = str(n)
    return out


_CANONICAL_SQL = """
WITH mapped AS (
    SELECT t.row_number, t.event_time AS event_time_text, t."user" AS user_text, t.tool AS tool_text,
           t.outcome AS outcome_text, t.interactions AS interactions_text, t.successes AS successes_text,
           t.failures AS failures_text,
           -- the first problem, in the order the columns are checked (a value in no lookup row is null)
           CASE WHEN coalesce(ts.missing, true) OR NOT ts.ok OR ts.outside THEN 'event_time'
                WHEN coalesce(u.missing, true) THEN 'user'
                WHEN coalesce(tl.missing, true) THEN 'tool'
                {count_columns} END AS problem_column,
           CASE WHEN coalesce(ts.missing, true) THEN 'missing_required'
                WHEN NOT ts.ok THEN 'invalid_date'
                WHEN ts.outside THEN 'out_of_range'
                WHEN coalesce(u.missing, true) OR coalesce(tl.missing, true) THEN 'missing_required'
                {count_reasons} END AS reason,
           ts.id AS ts_id, ts.day_text, ts.time_text, u.id AS user_id, u.norm AS user_norm, tl.id AS tool_id,
           tl.text_value AS tool, a.id AS action_id, a.text_value AS action, {counts}
    FROM t
    LEFT JOIN ts_ AS ts ON ts.text = t.event_time
    LEFT JOIN values_ AS u ON u.col = 'user' AND u.text = t."user"
    LEFT JOIN values_ AS tl ON tl.col = 'tool' AND tl.text = t.tool
    LEFT JOIN values_ AS a ON a.col = 'action' AND a.text = t.action
    {count_joins}
)
"""
# The values of a usable row are returned as the lookup rows they come from (ids): DuckDB hands
# strings back to polars at about the cost of the whole mapping, so the rows' texts and natural
# keys are gathered from the lookups in polars (``_assemble``).
_SELECT = """
SELECT row_number, problem_column, reason,
       CASE problem_column WHEN 'event_time' THEN event_time_text WHEN 'user' THEN user_text WHEN 'tool' THEN tool_text
            WHEN 'outcome' THEN outcome_text WHEN 'interactions' THEN interactions_text
            WHEN 'successes' THEN successes_text WHEN 'failures' THEN failures_text END AS value,
       ts_id, user_id, tool_id, action_id, interactions, successes, failures, {extra}
FROM mapped
"""

#: the events' checks and counts: one interaction per row, its outcome; a row with a date only is
#: numbered among the file's usable rows of its day, user, tool, action and outcome (the key's
#: fields: so the n-th identical row of a re-export lines up with the n-th of the earlier file)
_EVENTS = {
    "count_columns": "WHEN o.text_value NOT IN ('', 'success', 'failure') THEN 'outcome'",
    "count_reasons": "WHEN o.text_value NOT IN ('', 'success', 'failure') THEN 'out_of_range'",
    "counts": "1 AS interactions, (o.text_value = 'success')::BIGINT AS successes, "
              "(o.text_value = 'failure')::BIGINT AS failures, o.id AS outcome_id, o.text_value AS outcome",
    "count_joins": "LEFT JOIN values_ AS o ON o.col = 'outcome' AND o.text IS NOT DISTINCT FROM t.outcome",
}
_OCCURRENCE = ("row_number() OVER (PARTITION BY problem_column IS NULL, concat(day_text, $sep, user_norm, $sep, tool, "
               "$sep, action, $sep, outcome) ORDER BY row_number)")
_COUNTS = {
    "count_columns": " ".join(f"WHEN NOT coalesce(n{i}.ok, true) OR coalesce(n{i}.number < 0, false) THEN '{name}'"
                              for i, name in enumerate(COUNT_COLUMNS)),
    "count_reasons": "WHEN " + " OR ".join(f"NOT coalesce(n{i}.ok, true) OR coalesce(n{i}.number < 0, false)"
                                           for i in range(len(COUNT_COLUMNS))) + " THEN 'out_of_range'",
    "counts": ", ".join(f"CASE WHEN coalesce(n{i}.missing, true) THEN {default} ELSE n{i}.number END AS {name}"
                        for i, (name, default) in enumerate(zip(COUNT_COLUMNS, (1, 0, 0)))),
    "count_joins": " ".join(f"LEFT JOIN values_ AS n{i} ON n{i}.col = '{name}' AND n{i}.text = t.{name}"
                            for i, name in enumerate(COUNT_COLUMNS)),
}


def map_canonical(
    src: pl.DataFrame, kind: str, tz: str, decimal: str, file_names: dict[str, str],
    dates: DateRange | None = None,
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Canonical rows and quarantine from a frame of row_number + canonical string columns; an
    event_time outside ``dates`` is ``out_of_range``. One DuckDB query per file (issue 18): each
    distinct timestamp, user, tool, action, outcome and count text is parsed once, vectorised in
    polars (``with_parsed_timestamp``, ``with_parsed_int``, ``missing_expr``,
    ``normalise_identifier_series``), and the checks, counts and natural keys are SQL."""
    from kpi.adapters.sqlmap import query

    if src.height == 0:
        return empty_usage_frame(), []
    df = src.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in CANONICAL_COLUMNS if c not in src.columns]
    ).select("row_number", *CANONICAL_COLUMNS)
    ts = with_parsed_timestamp(df.select(pl.col("event_time").unique().drop_nulls()), "event_time", tz, prefix="_ts")
    ts = ts.select(
        pl.col("event_time").alias("text"), pl.col("_ts_missing").alias("missing"), pl.col("_ts_ok").alias("ok"),
        (dates.outside(pl.col("_ts_day")) if dates is not None else pl.lit(False)).alias("outside"),
        pl.col("_ts_day").alias("day"), pl.col("_ts_time").alias("time"),
        pl.col("_ts_day").dt.to_string("%Y-%m-%d").alias("day_text"),
        pl.col("_ts_time").dt.to_string("%Y-%m-%dT%H:%M:%S%.f").alias("time_text"))
    values = [_distinct(df, "user").with_columns(pl.col("text_value").str.strip_chars()),
              _distinct(df, "tool").with_columns(pl.col("text_value").str.strip_chars()),
              _distinct(df, "action").with_columns(
                  pl.when(pl.col("missing")).then(None).otherwise(pl.col("text_value").str.strip_chars())
                  .alias("text_value"))]
    values[0] = values[0].with_columns(normalise_identifier_series(values[0].get_column("text_value")).alias("norm"))
    if kind == "canonical_events":
        values.append(_distinct(df, "outcome", nulls=True).with_columns(
            pl.when(pl.col("missing")).then(pl.lit("")).otherwise(
                pl.col("text_value").str.strip_chars().str.to_lowercase()).alias("text_value")))
    else:
        for name in COUNT_COLUMNS:  # each column parsed on its own, as the reader did (its fast path is per column)
            numbers = with_parsed_int(df.select(pl.col(name).unique().drop_nulls()), name, decimal, prefix="_n")
            values.append(numbers.select(pl.lit(name).alias("col"), pl.col(name).alias("text"),
                                         pl.col("_n_missing").alias("missing"), pl.col("_n_ok").alias("ok"),
                                         pl.col("_n_value").alias("number")))
    values_ = pl.concat(values, how="diagonal_relaxed").with_row_index("id")
    ts = ts.with_row_index("id")
    out = query(_canonical_sql(kind), {"sep": KEY_SEP} if kind == "canonical_events" else None,
                t=df, ts_=ts, values_=values_)
    if not out.get_column("row_number").is_sorted():
        out = out.sort("row_number")
    bad = out.filter(pl.col("problem_column").is_not_null())
    quarantine = [qrow(n, file_names.get(c, c), v, r)
                  for n, c, v, r in bad.select("row_number", "problem_column", "value", "reason").iter_rows()]
    good = out.filter(pl.col("problem_column").is_null())
    if good.height == 0:
        return empty_usage_frame(), quarantine
    return _assemble(good, kind, ts, values_), quarantine


def _assemble(good: pl.DataFrame, kind: str, ts: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """The usable rows as canonical rows: their texts gathered from the lookups by the ids the query
    chose, and the natural key of those texts (the time, or the day and for events the row's
    occurrence number; the normalised user, the tool, the action, for events the outcome)."""
    def texts(frame: pl.DataFrame, column: str, ids: str) -> pl.Series:
        return frame.get_column(column).gather(good.get_column(ids))

    rows = good.select("row_number", "interactions", "successes", "failures").with_columns(
        texts(ts, "day", "ts_id").alias("day"), texts(ts, "time", "ts_id").alias("event_time"),
        texts(ts, "day_text", "ts_id").alias("_day_text"), texts(ts, "time_text", "ts_id").alias("_time_text"),
        texts(values, "text_value", "user_id").alias("user"), texts(values, "norm", "user_id").alias("user_norm"),
        texts(values, "text_value", "tool_id").alias("tool"), texts(values, "text_value", "action_id").alias("action"))
    action = pl.col("action").fill_null("")
    if kind == "canonical_events":
        rows = rows.with_columns(texts(values, "text_value", "outcome_id").alias("_outcome"),
                                 good.get_column("occurrence").alias("_occurrence"))
        parts = [pl.col("user_norm"), pl.col("tool"), action, pl.col("_outcome")]
        occurrence = pl.lit("#") + pl.col("_occurrence").cast(pl.String)
        key = (pl.when(pl.col("event_time").is_not_null())
               .then(pl.concat_str([pl.col("_time_text"), *parts], separator=KEY_SEP))
               .otherwise(pl.concat_str([pl.col("_day_text"), *parts, occurrence], separator=KEY_SEP)))
    else:
        when = pl.when(pl.col("event_time").is_not_null()).then(pl.col("_time_text")).otherwise(pl.col("_day_text"))
        key = pl.concat_str([when, pl.col("user_norm"), pl.col("tool"), action], separator=KEY_SEP)
    return rows.with_columns(key.alias("natural_key"), pl.lit(None, dtype=pl.Date).alias("period_start"),
                             pl.lit(None, dtype=pl.Date).alias("period_end"),
                             pl.lit(None, dtype=pl.String).alias("cadence")).select(USAGE_COLUMNS).cast(USAGE_SCHEMA)


def _canonical_sql(kind: str) -> str:
    """The mapping query of a kind. The events' occurrence numbers run over the usable rows only
    (as the polars reader's did): the window's partitions keep rows with a problem apart."""
    if kind != "canonical_events":
        return _CANONICAL_SQL.format(**_COUNTS) + _SELECT.format(extra="NULL::BIGINT AS occurrence")
    return _CANONICAL_SQL.format(**_EVENTS) + _SELECT.format(extra=f"outcome_id, {_OCCURRENCE} AS occurrence")


def _distinct(df: pl.DataFrame, column: str, nulls: bool = False) -> pl.DataFrame:
    """The distinct texts of a column (null too when ``nulls``) with ``missing`` (``missing_expr``)."""
    values = df.select(pl.col(column).unique())
    if not nulls:
        values = values.drop_nulls()
    return values.select(pl.lit(column).alias("col"), pl.col(column).alias("text"),
                         missing_expr(pl.col(column)).alias("missing"), pl.col(column).alias("text_value"))


def missing_blank(col: pl.Expr) -> pl.Expr:
    return missing_expr(col)


# ----------------------------------------------------------------------------------------------
# the three containers


def read_canonical_csv(table: CsvTable, kind: str, tz: str,
                       dates: DateRange | None = None) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    names = _resolve(table.header)
    index = {c: table.header.index(n) for c, n in names.items()}
    src = table.named_frame(index)
    rows, quarantine = map_canonical(src, kind, tz, table.decimal, names, dates)
    quarantine.extend(qrow(n, None, raw, "malformed_row") for n, raw in table.malformed)
    return rows, quarantine


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
            return str(int(value))
        return repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def json_kind(records: list[tuple[int, Any, str]]) -> str | None:
    keys: set[str] = set()
    for _, obj, _ in records:
        if isinstance(obj, dict):
            keys.update(str(k) for k in obj)
    return canonical_kind(keys)


def read_canonical_json(
    records: list[tuple[int, Any, str]], kind: str, tz: str, dates: DateRange | None = None
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """A JSON document's records (an array, a wrapper object, pretty-printed), converted one by one
    (plain NDJSON goes through ``read_canonical_lines``)."""
    src, quarantine, first = _json_columns(records)
    rows, q = map_canonical(src, kind, tz, ".", {c: name for c, (_, name) in first.items()}, dates)
    return rows, quarantine + q


def _json_columns(records: list[tuple[int, Any, str]]):
    """(row_number + the canonical columns as text, the quarantine of records that are not objects,
    canonical column -> (first record holding it, the key's spelling there)). A key matches its
    column trimmed and casefolded; the first such key of a record gives the value."""
    quarantine: list[dict[str, Any]] = []
    numbers: list[int] = []
    cols: dict[str, list[str | None]] = {c: [] for c in CANONICAL_COLUMNS}
    first: dict[str, tuple[int, str]] = {}
    for number, obj, raw in records:
        if not isinstance(obj, dict):
            quarantine.append(qrow(number, None, raw, "malformed_row"))
            continue
        lowered: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k).strip().casefold()
            if key in cols and key not in lowered:
                lowered[key] = v
                first.setdefault(key, (number, str(k)))
        numbers.append(number)
        for c in CANONICAL_COLUMNS:
            cols[c].append(_to_text(lowered.get(c)))
    src = pl.DataFrame(
        {
            "row_number": pl.Series(numbers, dtype=pl.Int64),
            **{c: pl.Series(v, dtype=pl.String) for c, v in cols.items()},
        }
    )
    return src, quarantine, first


_NAMES = ", ".join(f"'{c}'" for c in CANONICAL_COLUMNS)
_FIELDS = ", ".join(f'"{c}": "JSON"' for c in CANONICAL_COLUMNS)
_TYPES = " AND ".join(f"""coalesce(json_type(f."{c}") IN ('VARCHAR', 'BIGINT', 'UBIGINT'), true)"""
                      for c in CANONICAL_COLUMNS)
_TEXTS = ", ".join(f"f.\"{c}\" ->> '$' AS \"{c}\"" for c in CANONICAL_COLUMNS)
_HOLDS = ", ".join(f"list_contains(keys, '{c}') AS has_{c}" for c in CANONICAL_COLUMNS)
_LINES_SQL = f"""
WITH parsed AS (  -- each line parsed for its keys and the canonical fields as JSON values
    SELECT row_number, line, TRY(json_keys(line)) AS keys, TRY(json_transform(line, '{{{_FIELDS}}}')) AS f
    FROM lines_
)
SELECT row_number,
       -- what the per-record conversion would read the same way: an object whose keys are the
       -- canonical names as written (each once) or keys no trimming or case makes one (printable
       -- ASCII), values strings, whole numbers or null, no escape (a backslash) and no trailing
       -- comma, which DuckDB reads and Python's json refuses; the other lines are converted in Python
       coalesce(keys IS NOT NULL AND f IS NOT NULL AND NOT contains(line, '\\')
                AND NOT regexp_matches(line, ',[ \\t\\r\\n]*[\\]}}]')
                AND len([k FOR k IN keys IF k NOT IN ({_NAMES}) AND (NOT regexp_full_match(k, '[ -~]*')
                                                                      OR lower(trim(k)) IN ({_NAMES}))]) = 0
                AND len([k FOR k IN keys IF k IN ({_NAMES})]) = len(list_distinct([k FOR k IN keys IF k IN ({_NAMES})]))
                AND {_TYPES}, false) AS simple,
       {_TEXTS},
       {_HOLDS}
FROM parsed
"""


def read_canonical_lines(lines: pl.DataFrame, kind: str, tz: str, dates: DateRange | None = None
                         ) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Plain NDJSON (``plain_ndjson_lines``): each line parsed by DuckDB's JSON functions; the
    records whose fields read the same as Python's (string, whole-number or null values under the
    canonical names) are taken as columns, any other line is converted in Python like a JSON
    document's records (``_json_columns``), then everything is mapped by ``map_canonical``."""
    from kpi.adapters.sqlmap import query

    parsed = query(_LINES_SQL, lines_=lines.select("row_number", "line"))
    simple = parsed.filter(pl.col("simple"))
    src, quarantine, first = _json_columns(json_fallback_records(parsed, lines))
    for c in CANONICAL_COLUMNS:  # the column's name in the file: the first record holding it
        holding = simple.filter(pl.col(f"has_{c}")).get_column("row_number")
        if holding.len() and (c not in first or holding.min() < first[c][0]):
            first[c] = (holding.min(), c)
    src = pl.concat([simple.select("row_number", *CANONICAL_COLUMNS), src]).sort("row_number")
    rows, q = map_canonical(src, kind, tz, ".", {c: name for c, (_, name) in first.items()}, dates)
    return rows, quarantine + q


def read_canonical_parquet(
    path: str | Path, name: str, kind: str, tz: str, dates: DateRange | None = None
) -> tuple[pl.DataFrame, list[dict[str, Any]], int]:
    try:
        raw = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{name}: not a valid Parquet file ({type(exc).__name__}); export it again") from exc
    names = _resolve(raw.columns)
    exprs = [pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_number")]
    for canon, col in names.items():
        dtype = raw.schema[col]
        e = pl.col(col)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                e = e.dt.convert_time_zone(tz).dt.replace_time_zone(None)
            e = e.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
        elif dtype == pl.Date:
            e = e.dt.to_string("%Y-%m-%d")
        elif dtype == pl.Boolean:
            e = pl.when(e).then(pl.lit("true")).when(~e).then(pl.lit("false"))
        elif dtype.is_float():
            whole = e.is_finite() & (e == e.round(0))
            e = pl.when(whole).then(e.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(e.cast(pl.String))
        elif dtype.is_nested() or dtype == pl.Object:
            e = e.map_elements(lambda v: json.dumps(v, default=str), return_dtype=pl.String)
        else:
            e = e.cast(pl.String, strict=False)
        exprs.append(e.alias(canon))
    src = raw.select(exprs)
    rows, quarantine = map_canonical(src, kind, tz, ".", names, dates)
    return rows, quarantine, raw.height


# ----------------------------------------------------------------------------------------------
# the two formats


def read_canonical(source: UsageSource, kind: str) -> FormatRead:
    """A canonical log in any of its containers as ``kind`` (canonical_events/canonical_counts)."""
    if source.container == "parquet":
        rows, quarantine, rows_read = read_canonical_parquet(source.path, source.name, kind, source.tz,
                                                             source.dates)
        return FormatRead(rows, quarantine, rows_read, personal_columns={"user"})
    if source.container == "json":
        lines = plain_ndjson_lines(source.text or "")
        if lines is not None:
            rows, quarantine = read_canonical_lines(lines, kind, source.tz, source.dates)
            return FormatRead(rows, quarantine, lines.height, personal_columns={"user"})
        records = source.records(REQUIRED)
        rows, quarantine = read_canonical_json(records, kind, source.tz, source.dates)
        return FormatRead(rows, quarantine, len(records), personal_columns={"user"})
    table = source.table()
    rows, quarantine = read_canonical_csv(table, kind, source.tz, source.dates)
    user_i = table.column_index("user")
    return FormatRead(rows, quarantine, table.rows_read,
                      personal_columns={table.header[user_i]} if user_i is not None else set())


DESCRIPTION = "canonical event log (.csv/.jsonl/.parquet with event_time,user,tool)"

EVENTS = UsageFormat(
    name="canonical_events",
    tool=None,  # each row names its tool
    description=DESCRIPTION,
    containers=("csv", "json", "parquet"),
    recognises=lambda names: canonical_kind(names) == "canonical_events",
    read=lambda source: read_canonical(source, "canonical_events"),
    priority=30,  # before every vendor format: a file with event_time, user and tool is canonical
)

COUNTS = UsageFormat(
    name="canonical_counts",
    tool=None,
    description=DESCRIPTION,
    containers=("csv", "json", "parquet"),
    recognises=lambda names: canonical_kind(names) == "canonical_counts",
    read=lambda source: read_canonical(source, "canonical_counts"),
    priority=30,
)
