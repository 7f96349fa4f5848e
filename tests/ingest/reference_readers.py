"""The usage readers as they were before their mapping moved to DuckDB SQL (issue 18), frozen as
the reference the SQL mappings are tested against, row for row, quarantine included
(tests/ingest/test_reader_equivalence.py). Not used by the pipeline.

* ``read_m365``: Microsoft 365 user detail, rows walked in Python;
* ``read_chatgpt``: ChatGPT Enterprise user engagement, rows walked in Python;
* ``map_canonical``: the canonical logs' mapping in polars (frame of row_number + canonical string
  columns to canonical rows and quarantine).

(The GitHub reader keeps its per-record rules in production, ``github.map_record``, which serves as
its reference.)"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from kpi.adapters.canonical import CANONICAL_COLUMNS, COUNT_COLUMNS, OUTCOMES, REQUIRED, _resolve, canonical_kind
from kpi.adapters.chatgpt import REQUIRED as CHATGPT_REQUIRED
from kpi.adapters.m365 import _CHAT_PARTS, _report_facts, _window_texts
from kpi.adapters.textio import (
    CsvTable,
    DateRange,
    is_missing,
    missing_expr,
    normalise_identifier,
    normalise_identifier_series,
    parse_date,
    parse_int,
    with_parsed_int,
    with_parsed_timestamp,
)
from kpi.adapters.usage_common import (
    KEY_SEP,
    TOOL_CHATGPT,
    TOOL_M365,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    UsageSource,
    empty_usage_frame,
    make_key,
    qrow,
    usage_frame,
)
from kpi.errors import InputError
from kpi.privacy import pseudonym_map


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


# -- ChatGPT Enterprise, as kpi/adapters/chatgpt.py had it


def read_chatgpt(table: CsvTable, dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, inactive rows, warnings and personal columns of a user engagement
    CSV (a date outside ``dates`` is ``out_of_range``)."""
    idx = {c: table.column_index(c) for c in (*CHATGPT_REQUIRED, "cadence")}
    missing = [c for c in CHATGPT_REQUIRED if idx[c] is None]
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
    records: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]
    inactive: list[int] = []
    dropped_messages = 0
    cols = ["row_number", *[f"c{idx[c]}" for c in (*CHATGPT_REQUIRED, "cadence") if idx[c] is not None]]
    keys = [c for c in (*CHATGPT_REQUIRED, "cadence") if idx[c] is not None]
    for rec in table.frame.select(cols).iter_rows():
        number, cells = rec[0], dict(zip(keys, rec[1:]))

        def bad(column: str, reason: str, number=number, cells=cells) -> None:
            quarantine.append(qrow(number, name[column], cells.get(column), reason))

        def implausible(column: str, day) -> bool:
            if day is not None and dates is not None and day not in dates:
                bad(column, "out_of_range")
                return True
            return False

        start, ok = parse_date(cells["period_start"])
        if not ok or start is None:
            bad("period_start", "invalid_date" if not ok else "missing_required")
            continue
        if implausible("period_start", start):
            continue
        end, ok = parse_date(cells["period_end"])
        if not ok or end is None:
            bad("period_end", "invalid_date" if not ok else "missing_required")
            continue
        if implausible("period_end", end):
            continue
        if end < start:
            bad("period_end", "out_of_range")
            continue
        messages, ok = parse_int(cells["messages"], table.decimal)
        if not ok or (messages is not None and messages < 0):
            bad("messages", "out_of_range")
            continue
        messages = messages or 0
        first, ok = parse_date(cells["first_day_active_in_period"])
        if not ok:
            bad("first_day_active_in_period", "invalid_date")
            continue
        if implausible("first_day_active_in_period", first):
            continue
        last, ok = parse_date(cells["last_day_active_in_period"])
        if not ok:
            bad("last_day_active_in_period", "invalid_date")
            continue
        if implausible("last_day_active_in_period", last):
            continue
        if first is not None and last is not None and first > last:
            bad("first_day_active_in_period", "out_of_range")
            continue
        first_in = first if first is not None and start <= first <= end else None
        last_in = last if last is not None and start <= last <= end else None
        if messages == 0 or (first_in is None and last_in is None):
            if messages > 0:
                dropped_messages += 1
            inactive.append(number)
            continue
        email = (cells["email"] or "").strip()
        if is_missing(email):
            bad("email", "missing_required")
            continue
        cadence_text = (cells.get("cadence") or "").strip().casefold()
        cadence = cadence_text or ("weekly" if (end - start).days <= 7 else "monthly")
        norm = normalise_identifier(email)
        if first_in is not None and last_in is not None and first_in != last_in:
            parts = [("first", first_in, messages // 2), ("last", last_in, messages - messages // 2)]
        elif last_in is not None:
            parts = [("last", last_in, messages)]
        else:
            parts = [("first", first_in, messages)]
        for slot, day, count in parts:
            records.append({
                "row_number": number, "day": day, "event_time": None, "user": email,
                "user_norm": norm, "tool": TOOL_CHATGPT, "action": None, "interactions": count,
                "successes": 0, "failures": 0,
                "natural_key": make_key(TOOL_CHATGPT, start, end, norm, slot),
                "period_start": start, "period_end": end, "cadence": cadence,
            })
    warnings = []
    if dropped_messages:
        warnings.append(
            f"{dropped_messages} row(s) report messages but no active day inside their period: no activity recorded"
        )
    return FormatRead(usage_frame(records), quarantine, table.rows_read, inactive_row_numbers=inactive,
                      warnings=warnings, personal_columns=personal)


# -- the canonical logs' mapping, as kpi/adapters/canonical.py had it


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


# -- the canonical logs' three containers, as kpi/adapters/canonical.py had them (JSON records
# converted one by one in Python)


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


# -- pseudonyms, as kpi/ingest/usage.py computed them (a map per file, the natural key rewritten
# with polars' string functions)


def pseudonymise_rows(rows: pl.DataFrame, fmt: str, rel: str, key: bytes) -> pl.DataFrame:
    """Replace identifiers by pseudonyms; natural keys are rebuilt on the pseudonym.

    (Event-level rows with a date only carry their occurrence number among identical rows in the
    key, so the n-th identical row of a re-export lines up with the n-th of the earlier file.)
    """
    from kpi.adapters.usage import is_concealed_identity
    from kpi.adapters.usage_common import KEY_SEP

    users = rows.get_column("user_norm").unique().to_list()
    mapping = pseudonym_map(users, key)
    concealed = {u for u in users if u is not None and is_concealed_identity(u)}
    rows = rows.with_columns(
        pl.col("user_norm").replace_strict(mapping, default=None).alias("user_key"),
        pl.col("user_norm").is_in(list(concealed)).alias("user_concealed"),
    )
    # The key's user field (a whole KEY_SEP-separated field) becomes the pseudonym.
    padded = pl.lit(KEY_SEP) + pl.col("natural_key") + pl.lit(KEY_SEP)
    field = pl.lit(KEY_SEP) + pl.col("user_norm") + pl.lit(KEY_SEP)
    position = padded.str.find(field, literal=True)
    rows = rows.with_columns(
        pl.when(position.is_not_null())
        .then(padded.str.slice(0, position) + pl.lit(KEY_SEP) + pl.col("user_key") + pl.lit(KEY_SEP)
              + padded.str.slice(position + field.str.len_chars()))
        .otherwise(padded)
        .str.strip_chars(KEY_SEP)
        .alias("natural_key")
    )
    return rows.with_columns(pl.lit(rel).alias("file"), pl.lit(fmt).alias("format"))
