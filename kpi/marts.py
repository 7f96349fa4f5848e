"""The KPI marts (docs/metrics.md §1-4, 6, 7), built one quarter at a time.

``build_quarter(con, cfg, "2025-Q2")`` replaces that quarter's rows in ``marts.kpi_usage``,
``marts.kpi_competence``, ``marts.kpi_business``, ``marts.kpi_culture``, ``marts.kpi_champions`` and
``marts.kpi_maturity`` (in the catalogue's ``dimension`` order: maturity reads the others' rows):

1. each mart's SQL (``sql/marts/<table>.sql``, a SELECT with bound parameters) is inserted;
2. :func:`kpi.privacy.apply_suppression` suppresses small groups (and complementary cells) in
   every mart that declares ``suppression``; text declared ``withheld_with_row`` goes with them;
3. culture gets its changes against the previous and the baseline wave, with Newcombe intervals.

Only kpi_maturity reads marts: the same quarter's published rows of the marts built before it.
Nothing else read from the marts feeds a figure: the previous wave's culture figures are
recomputed from staging (with the same SQL and suppression), so building one quarter gives
exactly the rows that building every quarter gives. Reads ``staging.*`` and
``intermediate.usage_activity``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import Any

from kpi.config import Config
from kpi.paths import read_sql
from kpi.privacy import apply_suppression
from kpi.quarters import parse_quarter, quarter_bounds, quarter_label, quarters_between, weeks_in_quarter
from kpi.warehouse import table_exists

__all__ = [
    "MART_COLUMNS",
    "MART_KEYS",
    "MART_TABLES",
    "SUPPRESSION_PARTITIONS",
    "baseline_window",
    "build_quarter",
    "data_quarters",
    "ensure_inputs",
    "ensure_mart_tables",
    "metric_columns",
    "previous_wave",
]

def _marts():
    from kpi.catalog import load

    return load().kpi_marts


#: Column name -> DuckDB type of each KPI mart, in table order (from the catalogue, sql/marts/*.yml).
MART_COLUMNS: dict[str, list[tuple[str, str]]] = {t.name: [(c.name, c.type) for c in t.columns] for t in _marts()}

MART_TABLES: tuple[str, ...] = tuple(MART_COLUMNS)

#: The grain (unique key) of each mart table.
MART_KEYS: dict[str, tuple[str, ...]] = {t.name: t.grain for t in _marts()}

#: Tables that are suppressed, with the columns (besides quarter) of a complementary partition.
SUPPRESSION_PARTITIONS: dict[str, tuple[str, ...]] = {
    t.name: t.suppression_partition for t in _marts() if t.suppression_partition is not None}

_INTERMEDIATE_HELPERS = (
    "intermediate/int_employment_in.sql",
    "intermediate/int_latest_assessment_in.sql",
    "intermediate/int_activity_in.sql",
    "intermediate/int_survey_respondents.sql",
)

_CULTURE_PREVIOUS = "_kpi_culture_previous_wave"


def metric_columns(table: str) -> list[str]:
    """The figures of a mart table (role ``figure`` in the catalogue): withheld with a suppressed row."""
    from kpi.catalog import table as spec

    return spec(table).figures


def ensure_mart_tables(con) -> None:
    """Upgrade an older warehouse and create the KPI marts when missing (idempotent)."""
    from kpi.migrations import prepare

    prepare(con, *MART_TABLES)


def ensure_inputs(con) -> None:
    """The staging tables and matched usage the models read, empty when ingest has not written
    them (so that a mart or the ROI can be built from whatever exists)."""
    from kpi.migrations import ensure_schema_tables, ensure_tables

    ensure_schema_tables(con, "staging")
    ensure_tables(con, "intermediate.usage_activity")


def _ensure_helpers(con) -> None:
    """The intermediate table macros and views the mart SQL uses (need staging.* to exist)."""
    ensure_inputs(con)
    for model in _INTERMEDIATE_HELPERS:
        con.execute(read_sql(model))


def baseline_window(start: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """Baseline B: exactly ``months`` calendar months before the month of ``start``
    (first day of the first month, last day of the month before the start month)."""
    first_of_start = start.replace(day=1)
    index = first_of_start.year * 12 + first_of_start.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1), first_of_start - dt.timedelta(days=1)


def _quarter_params(quarter: str) -> dict[str, Any]:
    start, end = quarter_bounds(quarter)
    return {"quarter": quarter, "quarter_start": start, "quarter_end": end}


def _usage_params(cfg: Config, quarter: str) -> dict[str, Any]:
    return {
        **_quarter_params(quarter),
        "weeks_in_quarter": weeks_in_quarter(quarter),
        "regular_min_active_weeks": cfg.usage.regular_min_active_weeks,
    }


def _competence_params(cfg: Config, quarter: str) -> dict[str, Any]:
    return {
        **_quarter_params(quarter),
        "proficient_score_pct": float(cfg.competence.proficient_score_pct),
        "min_group_size": cfg.privacy.min_group_size,
    }


def _business_params(cfg: Config, quarter: str) -> dict[str, Any]:
    b_start, b_end = baseline_window(cfg.program.start, cfg.program.baseline_months)
    error_costs = {k: float(v) for k, v in cfg.benefits.cost_per_error_eur.items() if k != "default"}
    tool_minutes = {k: float(v) for k, v in cfg.benefits.time_saved_minutes_per_interaction.items()}
    return {
        **_quarter_params(quarter),
        "min_group_size": cfg.privacy.min_group_size,
        "baseline_start": b_start,
        "baseline_end": b_end,
        "baseline_months": cfg.program.baseline_months,
        "error_cost_processes": list(error_costs),
        "error_cost_eur": list(error_costs.values()),
        "default_cost_per_error": float(cfg.benefits.cost_per_error_eur["default"]),
        "has_tool_minutes": bool(tool_minutes),
        "tool_names": list(tool_minutes),
        "tool_minutes": list(tool_minutes.values()),
    }


def _culture_params(cfg: Config, quarter: str) -> dict[str, Any]:
    return {
        **_quarter_params(quarter),
        "scale_max": cfg.survey.scale_max,
        "favorable_min": cfg.survey.favorable_min,
    }


#: Degrees of freedom for which the t quantiles are passed; beyond, the normal quantile is used
#: (t(0.975, 1000) = 1.9623 against 1.9600).
T_QUANTILE_DF = 1000


@functools.cache
def t975() -> list[float]:
    """Student's t 97.5 % quantiles for 1..T_QUANTILE_DF degrees of freedom: scipy's, from the
    table kpi/t_quantiles.py (importing scipy would cost a run ~0.7 s)."""
    from kpi.t_quantiles import T975

    return list(T975[:T_QUANTILE_DF])


def _learning_params(cfg: Config, quarter: str) -> dict[str, Any]:
    return {
        **_quarter_params(quarter),
        "proficient_score_pct": float(cfg.competence.proficient_score_pct),
        "min_group_size": cfg.privacy.min_group_size,
        "t975": t975(),
    }


def _targets_params(cfg: Config, quarter: str) -> dict[str, Any]:
    from kpi.targets import targets_params

    return {**_quarter_params(quarter), **targets_params(cfg, quarter)}


#: Marts whose parameters are computed; any other mart's declared ``params`` are config keys,
#: read by name (``usage.regular_min_active_weeks``).
_PARAMS = {
    "marts.kpi_usage": _usage_params,
    "marts.kpi_competence": _competence_params,
    "marts.kpi_business": _business_params,
    "marts.kpi_culture": _culture_params,
    "marts.kpi_targets": _targets_params,
    "marts.kpi_learning": _learning_params,
}


def roi_to_date_pct(con, cfg: Config, quarter: str) -> float | None:
    """The programme's ROI % to date as of the last programme month in ``quarter`` (the same
    figure as ``marts.roi_quarterly.roi_pct``, with the configured assumptions); None before the
    programme's first month or while no cost is booked. Read from the staging tables, so a
    quarter's maturity is built before the ROI marts."""
    from kpi.roi import Assumptions, series_without_estimate, summary

    _, last = quarter_bounds(quarter)
    series = series_without_estimate(con, cfg)  # the ROI does not read the estimate; once per run
    months = [mo.m for mo in series if mo.month <= last]
    if not months:
        return None
    return summary(series, Assumptions.from_config(cfg), as_of_month=max(months)).roi_pct


#: Parameters computed from the warehouse (they need the connection): mart -> name -> function.
_WAREHOUSE_PARAMS = {
    "marts.kpi_maturity": {"roi_to_date_pct": roi_to_date_pct},
}


def mart_params(cfg: Config, table: str, quarter: str, con=None) -> dict[str, Any]:
    """The parameters a mart's SQL binds for one quarter (those computed from the warehouse are
    None without ``con``)."""
    if table in _PARAMS:
        return _PARAMS[table](cfg, quarter)
    from kpi.catalog import CatalogError
    from kpi.catalog import table as spec

    params = _quarter_params(quarter)
    computed = _WAREHOUSE_PARAMS.get(table, {})
    for name, function in computed.items():
        params[name] = None if con is None else function(con, cfg, quarter)
    for name, path in spec(table).params.items():
        if name in computed:
            continue
        value: Any = cfg
        for part in path.split("."):
            if not hasattr(value, part):
                raise CatalogError(f"{table}: parameter {name} names {path}, which is not a config key; give the "
                                   "mart a function in kpi/marts.py::_PARAMS to compute it")
            value = getattr(value, part)
        params[name] = value
    return params


def _insert(con, cfg: Config, table: str, quarter: str, target: str | None = None) -> int:
    """Insert the rows of ``sql/marts/<table>.sql`` for one quarter into ``target`` (default: the
    mart); the number of rows inserted."""
    from kpi.catalog import sql_params

    query = read_sql(f"marts/{table.split('.')[-1]}.sql")
    used = sql_params(query)  # a model need not bind every built-in parameter
    params = {k: v for k, v in mart_params(cfg, table, quarter, con).items() if k in used}
    return int(con.execute(f"INSERT INTO {target or table} BY NAME {query}", params).fetchall()[0][0])


def _suppress(con, cfg: Config, table: str, quarter: str, target: str | None = None) -> int:
    from kpi.catalog import table as spec

    suppressed = apply_suppression(
        con,
        target or table,
        quarter,
        metric_columns(table),
        SUPPRESSION_PARTITIONS[table],
        k=cfg.privacy.min_group_size,
        complementary=cfg.privacy.complementary_suppression,
        families=spec(table).subset_families,
        prefer=cfg.privacy.suppress_first,
    )
    derived = [c.name for c in spec(table).columns if c.withheld_with_row]
    if derived:  # text derived from the figures (a status, a level name) goes with them
        nulls = ", ".join(f"{c} = NULL" for c in derived)
        con.execute(f"UPDATE {target or table} SET {nulls} WHERE quarter = $quarter AND suppressed",
                    {"quarter": quarter})
    return suppressed


def _follow(con, table: str, quarter: str) -> None:
    """Figures about the people of another table's segment (``population: marts.<t>.<type>`` in
    the catalogue, e.g. kpi_business.fte of a department) are withheld wherever that segment's
    own row is suppressed: published beside it, they would give its figures back by subtraction."""
    from kpi.catalog import table as spec

    linked: dict[str, list[str]] = {}
    for column in spec(table).columns:
        if column.role == "figure" and (column.population or "").startswith("marts."):
            linked.setdefault(column.population, []).append(column.name)
    for reference, figures in linked.items():
        other, segment_type = reference.rsplit(".", 1)
        nulls = ", ".join(f"{f} = NULL" for f in figures)
        con.execute(
            f"UPDATE {table} AS t SET {nulls} FROM {other} AS u WHERE t.quarter = $quarter AND u.quarter = $quarter "
            f"AND u.segment_type = $segment_type AND u.segment = t.{segment_type} AND u.suppressed",
            {"quarter": quarter, "segment_type": segment_type})


def previous_wave(con, quarter: str) -> str | None:
    """The survey wave before ``quarter``: the latest earlier quarter with a survey response."""
    start, _ = quarter_bounds(quarter)
    rows = con.sql(
        "SELECT max(CAST(submitted_at AS DATE)) FROM staging.survey_responses"
        " WHERE CAST(submitted_at AS DATE) < $start",
        params={"start": start},
    ).fetchall()
    return quarter_label(rows[0][0]) if rows and rows[0][0] is not None else None


def baseline_wave(con, cfg: Config) -> str | None:
    """The baseline survey wave: the quarter of the latest response submitted before
    ``program.start``, else (no response before it) the quarter of the first response. None
    when a purge froze a quarter before the programme start: the baseline's answers may be gone,
    and a later wave must not stand in for it (docs/privacy.md)."""
    from kpi.freshness import frozen_quarters

    if any(q < quarter_label(cfg.program.start) for q in frozen_quarters(con)):
        return None
    rows = con.sql(
        "SELECT max(day) FILTER (WHERE day < $start), min(day)"
        " FROM (SELECT CAST(submitted_at AS DATE) AS day FROM staging.survey_responses)",
        params={"start": cfg.program.start},
    ).fetchall()
    day = (rows[0][0] or rows[0][1]) if rows else None
    return quarter_label(day) if day is not None else None


#: The comparisons of a culture wave: against the previous wave and against the baseline wave,
#: each (mean score change or None, favorability difference, its interval's low and high end).
_CULTURE_COMPARISONS = {
    "previous": ("mean_score_change", "favorability_change", "favorability_change_low", "favorability_change_high"),
    "baseline": (None, "favorability_vs_baseline", "favorability_vs_baseline_low", "favorability_vs_baseline_high"),
}


def _culture_changes(con, cfg: Config, quarter: str) -> None:
    """Changes against the previous wave and against the baseline wave (each recomputed from
    staging, suppressed the same way), with the 95 % Newcombe interval of the favorability
    difference (this wave - the other) in every row shown in both waves."""
    previous = previous_wave(con, quarter)
    if previous is not None:
        _culture_compare(con, cfg, quarter, previous, _CULTURE_COMPARISONS["previous"])
    baseline = baseline_wave(con, cfg)
    if baseline is None or quarter_bounds(baseline)[0] >= quarter_bounds(quarter)[0]:
        return  # the baseline wave itself, and the waves before it, are compared with nothing
    con.execute("UPDATE marts.kpi_culture SET baseline_wave = $baseline WHERE quarter = $quarter AND NOT suppressed",
                {"baseline": baseline, "quarter": quarter})
    if baseline == previous:  # the same comparison: copy it
        con.execute(
            """
            UPDATE marts.kpi_culture
            SET favorability_vs_baseline = favorability_change,
                favorability_vs_baseline_low = favorability_change_low,
                favorability_vs_baseline_high = favorability_change_high
            WHERE quarter = $quarter
            """,
            {"quarter": quarter},
        )
    else:
        _culture_compare(con, cfg, quarter, baseline, _CULTURE_COMPARISONS["baseline"])


def _culture_compare(con, cfg: Config, quarter: str, other: str, columns: tuple[str | None, str, str, str]) -> None:
    """Fill one comparison of ``quarter``'s culture rows with wave ``other``: the differences
    (NULL where either side is NULL: suppressed or missing) and the Newcombe interval."""
    mean_change, change, low_column, high_column = columns
    table = ", ".join(f"{name} {kind}" for name, kind in MART_COLUMNS["marts.kpi_culture"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CULTURE_PREVIOUS} ({table})")
    try:
        _insert(con, cfg, "marts.kpi_culture", other, target=_CULTURE_PREVIOUS)
        _suppress(con, cfg, "marts.kpi_culture", other, target=_CULTURE_PREVIOUS)
        mean = f"{mean_change} = c.mean_score - p.mean_score, " if mean_change else ""
        con.execute(
            f"""
            UPDATE marts.kpi_culture AS c
            SET {mean}{change} = c.favorability - p.favorability
            FROM {_CULTURE_PREVIOUS} AS p
            WHERE c.quarter = $quarter
              AND p.construct = c.construct AND p.segment_type = c.segment_type AND p.segment = c.segment
            """,
            {"quarter": quarter},
        )
        pairs = con.sql(
            f"""
            SELECT c.construct, c.segment_type, c.segment,
                   c.favorability, c.responses, p.favorability, p.responses
            FROM marts.kpi_culture AS c
            JOIN {_CULTURE_PREVIOUS} AS p
              ON p.construct = c.construct AND p.segment_type = c.segment_type AND p.segment = c.segment
            WHERE c.quarter = $quarter
              AND c.favorability IS NOT NULL AND p.favorability IS NOT NULL
            ORDER BY 1, 2, 3
            """,
            params={"quarter": quarter},
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_CULTURE_PREVIOUS}")
    if not pairs:
        return
    # Each wave is one proportion with n = responses; count = favorability x responses is passed
    # unrounded so the interval is centred on the stored difference.
    intervals = [newcombe_interval(fav * n, n, other_fav * other_n, other_n)
                 for _, _, _, fav, n, other_fav, other_n in pairs]
    con.execute(
        f"""
        UPDATE marts.kpi_culture AS c
        SET {low_column} = i.low, {high_column} = i.high
        FROM (SELECT unnest($construct::VARCHAR[]) AS construct, unnest($segment_type::VARCHAR[]) AS segment_type,
                     unnest($segment::VARCHAR[]) AS segment, unnest($low::DOUBLE[]) AS low,
                     unnest($high::DOUBLE[]) AS high) AS i
        WHERE c.quarter = $quarter AND c.construct = i.construct
          AND c.segment_type = i.segment_type AND c.segment = i.segment
        """,
        {
            "quarter": quarter,
            "construct": [p[0] for p in pairs],
            "segment_type": [p[1] for p in pairs],
            "segment": [p[2] for p in pairs],
            "low": [low for low, _ in intervals],
            "high": [high for _, high in intervals],
        },
    )


#: The standard normal's 97.5 % quantile and its square as statsmodels computes them
#: (``scipy.stats.norm.isf(0.025)``, and that ``** 2``); a test checks both against scipy.
_Z975 = 1.9599639845400545
_Z975_SQUARED = 3.841458820694127


def _wilson(count: float, nobs: int) -> tuple[float, float]:
    """The 95 % Wilson score interval of count / nobs: statsmodels' ``proportion_confint(count,
    nobs, method="wilson")``, operation for operation (so to the last bit)."""
    q = count / nobs
    denom = 1 + _Z975_SQUARED / nobs
    center = (q + _Z975_SQUARED / (2 * nobs)) / denom
    dist = _Z975 * math.sqrt(q * (1.0 - q) / nobs + _Z975_SQUARED / (4.0 * nobs**2))
    dist /= denom
    return min(max(center - dist, 0.0), 1.0), min(max(center + dist, 0.0), 1.0)


def newcombe_interval(count1: float, nobs1: int, count2: float, nobs2: int) -> tuple[float, float]:
    """The 95 % Newcombe (hybrid Wilson score) interval of p1 - p2, p = count / nobs: statsmodels'
    ``confint_proportions_2indep(count1, nobs1, count2, nobs2, method="newcomb", compare="diff")``
    operation for operation, without importing statsmodels, scipy and pandas (~1 s); a test
    checks it equals statsmodels' to the last bit."""
    p1 = count1 / nobs1
    p2 = count2 / nobs2
    diff = p1 - p2
    low1, upp1 = _wilson(count1, nobs1)
    low2, upp2 = _wilson(count2, nobs2)
    d_low = math.sqrt((p1 - low1) ** 2 + (upp2 - p2) ** 2)
    d_upp = math.sqrt((p2 - low2) ** 2 + (upp1 - p1) ** 2)
    return diff - d_low, diff + d_upp


def _audit(con, cfg: Config, quarter: str) -> None:
    """The privacy auditor on what this quarter is about to publish (kpi/privacy_audit.py): a
    recoverable figure stops the quarter before anything of it is committed."""
    from kpi.errors import UserError
    from kpi.privacy_audit import audit

    k = cfg.privacy.min_group_size
    findings = audit(con, k, [quarter])
    if findings:
        hint = ("; privacy.complementary_suppression is false: set it to true" if not
                cfg.privacy.complementary_suppression else "; this is a bug in kpi: please report it")
        raise UserError(f"{quarter}: the privacy audit found {len(findings)} recoverable figure(s), e.g. "
                        f"{findings[0].describe(k)}; nothing of this quarter was written{hint}")


def _begin(con) -> bool:
    """Start a transaction unless the caller already holds one (then the caller commits).

    DuckDB has no "in a transaction?" call, and a failed BEGIN aborts the caller's transaction;
    but in autocommit mode every statement gets a new transaction id, inside one they repeat.
    """
    first = con.sql("SELECT txid_current()").fetchall()[0][0]
    second = con.sql("SELECT txid_current()").fetchall()[0][0]
    if first == second:
        return False
    con.execute("BEGIN TRANSACTION")
    return True


def _spec(table: str):
    from kpi.catalog import table as spec

    return spec(table)


def _history_kept(con, quarter: str) -> bool:
    """Whether the quarter's figures that read person-level history keep their published values:
    a purge or an erasure froze an earlier quarter (its person-level rows may be gone), and this
    quarter has a snapshot (docs/privacy.md, "Retention")."""
    from kpi.freshness import frozen_quarters

    if not any(q < quarter for q in frozen_quarters(con)) or not table_exists(con, "marts.kpi_snapshots"):
        return False
    return bool(con.sql("SELECT count(*) FROM marts.kpi_snapshots WHERE quarter = $quarter",
                        params={"quarter": quarter}).fetchall()[0][0])


def _history_values(con, spec, quarter: str) -> list[dict[str, Any]]:
    """The quarter's rows of a mart as published: row key, history figures and what was withheld."""
    columns = [*spec.row_key, "withheld", *spec.history_figures]
    relation = con.sql(f"SELECT {', '.join(columns)} FROM {spec.name} WHERE quarter = $quarter",
                       params={"quarter": quarter})
    return [dict(zip(columns, row)) for row in relation.fetchall()]


def _restore_history(con, spec, quarter: str, rows: list[dict[str, Any]]) -> None:
    """Put the published history figures back into the rebuilt rows, withheld as they were
    published (they were audited with the figures they go with, which are history figures too);
    a row suppressed now gets nothing back."""
    figures = spec.history_figures
    order = [c.name for c in spec.columns]
    where = " AND ".join(["quarter = $quarter", *(f"{k} = ${k}" for k in spec.row_key)])
    sets = ", ".join(f"{c} = ${c}" for c in figures)
    for row in rows:
        keys = {k: row[k] for k in spec.row_key}
        current = con.execute(f"SELECT suppressed, withheld FROM {spec.name} WHERE {where}",
                              {"quarter": quarter, **keys}).fetchall()
        if not current or current[0][0]:
            continue
        now = [f for f in (current[0][1] or "").split(", ") if f and f not in figures]
        before = [f for f in (row["withheld"] or "").split(", ") if f in figures]
        withheld = ", ".join(sorted(set(now) | set(before), key=order.index)) or None
        values = {c: row[c] for c in figures}
        con.execute(f"UPDATE {spec.name} SET {sets}, withheld = $withheld WHERE {where}",
                    {"quarter": quarter, **keys, **values, "withheld": withheld})


def build_quarter(con, cfg: Config, quarter: str) -> dict[str, int]:
    """Rebuild one quarter of the KPI marts; returns the rows written per table.

    Runs in one transaction (or inside the caller's): the quarter's old rows are deleted, fresh
    rows inserted, suppressed, and culture's changes filled in.
    """
    parse_quarter(quarter)
    ensure_mart_tables(con)
    own = _begin(con)
    try:
        _ensure_helpers(con)
        counts: dict[str, int] = {}
        keep_history = _history_kept(con, quarter)
        saved: dict[str, list[dict[str, Any]]] = {}
        for table in MART_TABLES:
            spec = _spec(table)
            count = f"SELECT count(*) FROM {table} WHERE quarter = $quarter"
            if keep_history and spec.history and con.sql(count, params={"quarter": quarter}).fetchall()[0][0]:
                counts[table] = con.sql(count, params={"quarter": quarter}).fetchall()[0][0]
                continue  # every figure reads purged history: the rows stay as published
            if keep_history and spec.history_figures:
                saved[table] = _history_values(con, spec, quarter)
            con.execute(f"DELETE FROM {table} WHERE quarter = $quarter", {"quarter": quarter})
            counts[table] = _insert(con, cfg, table, quarter)  # suppression only updates rows
            if table in SUPPRESSION_PARTITIONS:
                _suppress(con, cfg, table, quarter)
            _follow(con, table, quarter)
        _culture_changes(con, cfg, quarter)
        for table, rows in saved.items():
            _restore_history(con, _spec(table), quarter, rows)
        _audit(con, cfg, quarter)
        if own:
            con.execute("COMMIT")
    except BaseException:
        if own:
            con.execute("ROLLBACK")
        raise
    return counts


def data_quarters(con, cfg: Config) -> list[str]:
    """The quarters to build: from the quarter of ``program.start`` (or an earlier quarter with
    data) to the last quarter with any usage, assessment, survey or process data; empty when
    there is no such data at all."""
    sources = [
        ("staging", "assessments", "assessed_on"),
        ("staging", "survey_responses", "CAST(submitted_at AS DATE)"),
        ("staging", "process_metrics", "month"),
        ("intermediate", "usage_activity", "day"),
    ]
    first: dt.date | None = None
    last: dt.date | None = None
    existing = {tuple(row) for row in con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    for schema, table, column in sources:
        if (schema, table) not in existing:
            continue
        low, high = con.sql(f"SELECT min({column}), max({column}) FROM {schema}.{table}").fetchall()[0]
        if low is not None:
            first = low if first is None else min(first, low)
            last = high if last is None else max(last, high)
    if first is None or last is None:
        return []
    start = cfg.program.start
    return quarters_between(min(first, start), max(last, start))
