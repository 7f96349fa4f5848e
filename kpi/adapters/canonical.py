"""Canonical event log: ``.csv``, ``.jsonl`` or ``.parquet`` with event_time, user, tool.

Event-level files (an ``outcome`` column or no count column) give one interaction per row
(format ``canonical_events``); pre-aggregated files (``interactions``/``successes``/``failures``
columns) carry counts (format ``canonical_counts``). Parsing is vectorised in polars, so a
two-million-row CSV reads in a few seconds. This module declares both formats (``EVENTS``,
``COUNTS``) since they differ only in the count columns.
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


def map_canonical(
    src: pl.DataFrame, kind: str, tz: str, decimal: str, file_names: dict[str, str],
    dates: DateRange | None = None,
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Canonical rows and quarantine from a frame of row_number + canonical string columns; an
    event_time outside ``dates`` is ``out_of_range``."""
    if src.height == 0:
        return empty_usage_frame(), []
    df = src.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in CANONICAL_COLUMNS if c not in src.columns]
    )
    df = with_parsed_timestamp(df, "event_time", tz, prefix="_ts")
    df = df.with_columns(
        _user_missing=missing_blank(pl.col("user")),
        _tool_missing=missing_blank(pl.col("tool")),
    )
    checks: list[tuple[pl.Expr, str, str]] = [
        (pl.col("_ts_missing"), "event_time", "missing_required"),
        (~pl.col("_ts_ok"), "event_time", "invalid_date"),
        *([(dates.outside(pl.col("_ts_day")), "event_time", "out_of_range")] if dates is not None else []),
        (pl.col("_user_missing"), "user", "missing_required"),
        (pl.col("_tool_missing"), "tool", "missing_required"),
    ]
    if kind == "canonical_events":
        df = df.with_columns(
            _outcome=pl.when(missing_blank(pl.col("outcome"))).then(pl.lit(""))
            .otherwise(pl.col("outcome").str.strip_chars().str.to_lowercase())
        )
        checks.append((~pl.col("_outcome").is_in(["", *OUTCOMES]), "outcome", "out_of_range"))
        df = df.with_columns(
            _interactions=pl.lit(1, dtype=pl.Int64),
            _successes=(pl.col("_outcome") == "success").cast(pl.Int64),
            _failures=(pl.col("_outcome") == "failure").cast(pl.Int64),
        )
    else:
        defaults = {"interactions": 1, "successes": 0, "failures": 0}
        for name in COUNT_COLUMNS:
            df = with_parsed_int(df, name, decimal, prefix=f"_{name}")
            checks.append(
                (~pl.col(f"_{name}_ok") | (pl.col(f"_{name}_value") < 0).fill_null(False), name, "out_of_range")
            )
            df = df.with_columns(
                pl.when(pl.col(f"_{name}_missing")).then(defaults[name])
                .otherwise(pl.col(f"_{name}_value")).alias(f"_{name}")
            )
    reason = pl.lit(None, dtype=pl.String)
    column = pl.lit(None, dtype=pl.String)
    for cond, col, why in reversed(checks):
        reason = pl.when(cond).then(pl.lit(why)).otherwise(reason)
        column = pl.when(cond).then(pl.lit(col)).otherwise(column)
    df = df.with_columns(_reason=reason, _column=column)

    bad = df.filter(pl.col("_reason").is_not_null())
    quarantine = []
    if bad.height:
        bad = bad.with_columns(
            _value=pl.coalesce([pl.when(pl.col("_column") == c).then(pl.col(c)) for c in CANONICAL_COLUMNS])
        )
        quarantine = [
            qrow(n, file_names.get(c, c), v, r)
            for n, c, v, r in bad.select("row_number", "_column", "_value", "_reason").iter_rows()
        ]
    good = df.filter(pl.col("_reason").is_null())
    if good.height == 0:
        return empty_usage_frame(), quarantine
    good = good.with_columns(
        user=pl.col("user").str.strip_chars(),
        tool=pl.col("tool").str.strip_chars(),
        action=pl.when(missing_blank(pl.col("action"))).then(None).otherwise(pl.col("action").str.strip_chars()),
    )
    good = good.with_columns(user_norm=normalise_identifier_series(good["user"]))
    time_text = pl.col("_ts_time").dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
    day_text = pl.col("_ts_day").dt.to_string("%Y-%m-%d")
    action_text = pl.col("action").fill_null("")
    if kind == "canonical_events":
        parts = [pl.col("user_norm"), pl.col("tool"), action_text, pl.col("_outcome")]
        good = good.with_columns(_prefix=pl.concat_str([day_text, *parts], separator=KEY_SEP))
        occurrence = (pl.int_range(pl.len(), dtype=pl.Int64).over("_prefix") + 1).cast(pl.String)
        key = (
            pl.when(pl.col("_ts_time").is_not_null())
            .then(pl.concat_str([time_text, *parts], separator=KEY_SEP))
            .otherwise(pl.concat_str([pl.col("_prefix"), pl.lit("#") + occurrence], separator=KEY_SEP))
        )
    else:
        when = pl.when(pl.col("_ts_time").is_not_null()).then(time_text).otherwise(day_text)
        key = pl.concat_str([when, pl.col("user_norm"), pl.col("tool"), action_text], separator=KEY_SEP)
    rows = good.select(
        pl.col("row_number").cast(pl.Int64),
        pl.col("_ts_day").alias("day"),
        pl.col("_ts_time").alias("event_time"),
        pl.col("user"),
        pl.col("user_norm"),
        pl.col("tool"),
        pl.col("action"),
        pl.col("_interactions").alias("interactions"),
        pl.col("_successes").alias("successes"),
        pl.col("_failures").alias("failures"),
        key.alias("natural_key"),
        pl.lit(None, dtype=pl.Date).alias("period_start"),
        pl.lit(None, dtype=pl.Date).alias("period_end"),
        pl.lit(None, dtype=pl.String).alias("cadence"),
    ).cast(USAGE_SCHEMA)
    return rows.select(USAGE_COLUMNS), quarantine


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
    quarantine: list[dict[str, Any]] = []
    numbers: list[int] = []
    cols: dict[str, list[str | None]] = {c: [] for c in CANONICAL_COLUMNS}
    file_names: dict[str, str] = {}
    for number, obj, raw in records:
        if not isinstance(obj, dict):
            quarantine.append(qrow(number, None, raw, "malformed_row"))
            continue
        lowered: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k).strip().casefold()
            if key in cols and key not in lowered:
                lowered[key] = v
                file_names.setdefault(key, str(k))
        numbers.append(number)
        for c in CANONICAL_COLUMNS:
            cols[c].append(_to_text(lowered.get(c)))
    src = pl.DataFrame(
        {
            "row_number": pl.Series(numbers, dtype=pl.Int64),
            **{c: pl.Series(v, dtype=pl.String) for c, v in cols.items()},
        }
    )
    rows, q = map_canonical(src, kind, tz, ".", file_names, dates)
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
