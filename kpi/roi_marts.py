"""The ROI marts (docs/roi.md): written by the ``roi`` Dagster asset, read back by ``kpi roi``.

``build_roi_tables(con, cfg)`` replaces every row of ``marts.roi_monthly``,
``marts.roi_quarterly``, ``marts.roi_sensitivity``, ``marts.budget_plan_vs_actual`` and
``marts.roi_assumptions`` (declared in ``sql/marts/roi_tables.yml``) from the staging tables, with the
arithmetic of :mod:`kpi.roi`. The caller owns the transaction.

``read_stored_roi(con)`` reads the monthly series and the assumptions back, so every figure can
be recomputed from the warehouse alone (``kpi roi`` has no ``--config``). This half imports only
the standard library and :mod:`kpi.roi`: ``kpi roi`` must start fast.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kpi.errors import UserError
from kpi.report.i18n import N_
from kpi.roi import (
    MONTHLY_COLUMNS,
    QUARTERLY_COLUMNS,
    SENSITIVITY_COLUMNS,
    Assumptions,
    Month,
    RoiSummary,
    monthly_table,
    series_from_rows,
)

__all__ = [
    "ASSUMPTION_COLUMNS",
    "MONTHLY_TABLE_COLUMNS",
    "PLAN_COLUMNS",
    "ROI_TABLES",
    "AssumptionRow",
    "StoredRoi",
    "assumption_rows",
    "build_roi_tables",
    "headline",
    "monthly_rows",
    "read_stored_roi",
]

#: Every table the ROI asset writes, in the order it writes them.
ROI_TABLES: tuple[str, ...] = (
    "marts.roi_monthly",
    "marts.roi_quarterly",
    "marts.roi_sensitivity",
    "marts.budget_plan_vs_actual",
    "marts.roi_assumptions",
)

#: ``marts.roi_monthly``: the columns of docs/metrics.md §5 plus the cumulative gross and estimated benefits.
MONTHLY_TABLE_COLUMNS: tuple[str, ...] = (*MONTHLY_COLUMNS, "cum_gross_benefits", "cum_estimated_benefits")
PLAN_COLUMNS: tuple[str, ...] = ("category", "plan_eur", "actual_eur", "difference_eur")
ASSUMPTION_COLUMNS: tuple[str, ...] = ("name", "value", "value_text", "unit", "source", "explanation")

#: The explanations filled with a name from the config (a target group, a process, a tool, a
#: budget category, a scenario): English templates for the catalogue, keyed by the assumption's
#: name (a prefix, or the whole name). The stored text is the template filled in; the report
#: translates it with :func:`explanation_message`.
EXPLANATION_TEMPLATES: dict[str, str] = {
    "rates.hourly_cost_eur.": N_("Fully loaded hourly cost of target group %(group)s when HR gives none; values time "
                                 "savings and participant time."),
    "benefits.cost_per_error_eur.default": N_("Cost of one error in any process without its own value; values the "
                                              "errors avoided (quality savings)."),
    "benefits.cost_per_error_eur.": N_("Cost of one error in process %(process)s; values the errors avoided (quality "
                                       "savings)."),
    "benefits.time_saved_minutes_per_interaction.": N_("Estimated minutes saved per %(tool)s interaction: shown as "
                                                       "estimated_benefits, never added to benefits."),
    "program.budget_split.": N_("Share of the plan budget for %(category)s."),
    "roi.scenarios.*.attribution": N_("Scenario %(name)s: multiplier on attribution."),
    "roi.scenarios.*.benefits": N_("Scenario %(name)s: multiplier on benefits."),
    "roi.scenarios.*.costs": N_("Scenario %(name)s: multiplier on costs."),
}


#: The config name each template of EXPLANATION_TEMPLATES is filled with, by prefix.
_FILLED_WITH = {"rates.hourly_cost_eur.": "group", "benefits.cost_per_error_eur.": "process",
                "benefits.time_saved_minutes_per_interaction.": "tool", "program.budget_split.": "category"}


def filled_explanation(key: str, **values: str) -> str:
    """An explanation of :data:`EXPLANATION_TEMPLATES` filled in (English, as stored)."""
    return EXPLANATION_TEMPLATES[key] % values


def explanation_message(name: str, stored: str) -> tuple[str, dict[str, str]]:
    """The catalogue's message and its values for the stored explanation of assumption ``name``:
    ``_(message, **values)`` is the explanation in the report's language. A literal explanation
    is its own message (any % doubled); a filled one is its template and the name from the config
    (kept as it is)."""
    key, values = name, {}
    if name.startswith("roi.scenarios."):
        scenario, _, part = name.removeprefix("roi.scenarios.").rpartition(".")
        key, values = f"roi.scenarios.*.{part}", {"name": scenario}
    elif name not in EXPLANATION_TEMPLATES:
        prefix = next((p for p in _FILLED_WITH if name.startswith(p)), None)
        if prefix is not None:
            value = name.removeprefix(prefix)
            key, values = prefix, {_FILLED_WITH[prefix]: value.replace("_", " ") if prefix == "program.budget_split."
                                   else value}
    template = EXPLANATION_TEMPLATES.get(key)
    if template is not None and template % values == stored:
        return template, values
    return stored.replace("%", "%%"), {}


# --------------------------------------------------------------------------------------------
# Assumptions as rows
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssumptionRow:
    """One row of ``marts.roi_assumptions``."""

    name: str  # the config key, e.g. benefits.attribution
    value: float | None  # numeric value; None for text and dates
    value_text: str
    unit: str
    source: str  # config (differs from the default) | default | derived (from the data)
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ASSUMPTION_COLUMNS}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def assumption_rows(cfg: Any, headcount_at_start: int) -> list[AssumptionRow]:
    """Every assumption the ROI figures rest on, in the order a controller reads them.

    ``source`` is ``config`` where the YAML sets a value other than the default, ``default``
    where the default applies, ``derived`` for figures taken from the data."""
    from kpi.config import default_config

    base = default_config(cfg.program.start)
    rows: list[AssumptionRow] = []

    def add(name: str, value: Any, default: Any, unit: str, explanation: str, source: str | None = None) -> None:
        numeric = None
        if isinstance(value, bool):
            numeric = 1.0 if value else 0.0
        elif isinstance(value, (int, float)):
            numeric = float(value)
        if source is None:
            source = N_("default") if default is not None and value == default else N_("config")
        rows.append(AssumptionRow(name, numeric, _text(value), unit, source, explanation))

    b, bb = cfg.benefits, base.benefits
    add("company.name", cfg.company.name, None, "text", N_("The company the figures are about."), source=N_("config"))
    add("company.language", cfg.company.language, base.company.language, "code",
        N_("Language of the report (en, nl or de); kpi report --language overrides it."))
    add("company.currency", cfg.company.currency, base.company.currency, "code", N_("Currency of every amount."))
    add("privacy.min_group_size", cfg.privacy.min_group_size, base.privacy.min_group_size, "people",
        N_("No figure is shown for a group with fewer people (or survey responses) than this."))
    add("alerts.usage_drop_points", cfg.alerts.usage_drop_points, base.alerts.usage_drop_points, "points",
        N_("A segment alerts when its active-user rate fell by more than this since the previous quarter."))
    add("alerts.culture_drop_points", cfg.alerts.culture_drop_points, base.alerts.culture_drop_points, "points",
        N_("A construct alerts when its favorability fell by more than this since the previous wave."))
    add("program.start", cfg.program.start, None, "date",
        N_("Month 1 of the ROI series is the calendar month of this date; costs booked earlier count in month 1."),
        source=N_("config"))
    add("program.baseline_months", cfg.program.baseline_months, base.program.baseline_months, "months",
        N_("Calendar months before month 1 whose process data form the baseline of the savings."))
    add("benefits.attribution", b.attribution, bb.attribution, "fraction",
        N_("Isolation: share of the measured improvement credited to the training (capped at 1)."))
    add("benefits.confidence", b.confidence, bb.confidence, "fraction",
        N_("Confidence in the attribution estimate (Phillips adjustment; capped at 1)."))
    add("benefits.include_training_time", b.include_training_time, bb.include_training_time, "boolean",
        N_("Participants' training hours x their hourly cost are a cost line (participant_time)."))
    add("roi.discount_rate_annual", cfg.roi.discount_rate_annual, base.roi.discount_rate_annual, "fraction",
        N_("Annual discount rate of the NPV; monthly rate = (1 + annual)^(1/12) - 1."))
    add("roi.horizon_months", cfg.roi.horizon_months, base.roi.horizon_months, "months",
        N_("The series never runs past this month; 'at horizon' = its last month."))
    for group, rate in cfg.rates.hourly_cost_eur.items():
        add(f"rates.hourly_cost_eur.{group}", float(rate), base.rates.hourly_cost_eur.get(group), "EUR/hour",
            filled_explanation("rates.hourly_cost_eur.", group=group))
    for process, eur in b.cost_per_error_eur.items():
        add(f"benefits.cost_per_error_eur.{process}", float(eur), bb.cost_per_error_eur.get(process), "EUR/error",
            filled_explanation("benefits.cost_per_error_eur.default") if process == "default"
            else filled_explanation("benefits.cost_per_error_eur.", process=process))
    for tool, minutes in b.time_saved_minutes_per_interaction.items():
        add(f"benefits.time_saved_minutes_per_interaction.{tool}", float(minutes), None, "minutes",
            filled_explanation("benefits.time_saved_minutes_per_interaction.", tool=tool))
    add("program.budget_per_employee_eur", cfg.program.budget_per_employee_eur,
        base.program.budget_per_employee_eur, "EUR", N_("Plan budget per employee for year 1 (plan vs actual)."))
    for category, share in cfg.program.budget_split.items():
        add(f"program.budget_split.{category}", float(share), base.program.budget_split.get(category), "fraction",
            filled_explanation("program.budget_split.", category=category.replace("_", " ")))
    add("headcount_at_start", int(headcount_at_start), None, "employees",
        N_("Employees employed on program.start (HR data): plan = budget per employee x this headcount."),
        source=N_("derived"))
    base_scenarios = base.roi.scenarios
    for name, mult in cfg.roi.scenarios.items():
        for part in ("attribution", "benefits", "costs"):
            default = base_scenarios[name][part] if name in base_scenarios else None
            add(f"roi.scenarios.{name}.{part}", float(mult[part]), default, "multiplier",
                filled_explanation(f"roi.scenarios.*.{part}", name=name))
    return rows


def assumptions_from_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[Assumptions, dict[str, dict[str, float]]]:
    """The :class:`Assumptions` and the scenarios (name -> multipliers, in table order) stored in
    ``marts.roi_assumptions``."""
    values = {r["name"]: r for r in rows}
    needed = ("benefits.attribution", "benefits.confidence", "roi.discount_rate_annual", "roi.horizon_months")
    missing = [n for n in needed if n not in values or values[n]["value"] is None]
    if missing:
        raise UserError(f"marts.roi_assumptions lacks {', '.join(missing)}; "
                        "run kpi run again to rebuild the ROI tables")
    a = Assumptions(
        attribution=float(values["benefits.attribution"]["value"]),
        confidence=float(values["benefits.confidence"]["value"]),
        discount_rate_annual=float(values["roi.discount_rate_annual"]["value"]),
        horizon_months=int(values["roi.horizon_months"]["value"]),
    )
    scenarios: dict[str, dict[str, float]] = {}
    prefix = "roi.scenarios."
    for r in rows:
        if r["name"].startswith(prefix) and r["value"] is not None:
            name, part = r["name"][len(prefix):].rsplit(".", 1)
            scenarios.setdefault(name, {})[part] = float(r["value"])
    return a, scenarios


# --------------------------------------------------------------------------------------------
# Building the tables
# --------------------------------------------------------------------------------------------


def monthly_rows(series: Sequence[Month], assumptions: Assumptions) -> list[dict[str, Any]]:
    """:func:`kpi.roi.monthly_table` plus ``cum_gross_benefits`` and ``cum_estimated_benefits``
    (None while no month has an estimate, i.e. no minutes per interaction are configured)."""
    rows = monthly_table(series, assumptions)
    cum_gross = 0.0
    cum_est: float | None = None
    for row in rows:
        cum_gross += row["gross_benefits"]
        if row["estimated_benefits"] is not None:
            cum_est = (cum_est or 0.0) + row["estimated_benefits"]
        row["cum_gross_benefits"] = cum_gross
        row["cum_estimated_benefits"] = cum_est
    return rows


@dataclass
class RoiBuild:
    """What :func:`build_roi_tables` wrote."""

    counts: dict[str, int] = field(default_factory=dict)  # table -> rows
    summary: RoiSummary | None = None  # figures at horizon with the configured assumptions


def _ensure_inputs(con: Any) -> None:
    """The staging tables the series reads, empty when ingest has not created them."""
    from kpi.marts import ensure_inputs

    ensure_inputs(con)


def _replace(con: Any, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]],
             sort_order: bool = False) -> int:
    con.execute(f"DELETE FROM {table}")
    names = [*columns, "sort_order"] if sort_order else list(columns)
    if rows:
        quoted = ", ".join(f'"{c}"' for c in names)
        marks = ", ".join("?" for _ in names)
        values = [
            [*(row[c] for c in columns), *([i] if sort_order else [])] for i, row in enumerate(rows, start=1)
        ]
        con.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", values)
    return len(rows)


def build_roi_tables(con: Any, cfg: Any) -> RoiBuild:
    """Replace the rows of every ROI mart from ``staging.*`` and ``intermediate.usage_activity``
    with the configured assumptions (``cfg`` is a :class:`kpi.config.Config`)."""
    from kpi.migrations import prepare
    from kpi.roi import (
        build_monthly_series,
        headcount_at_start,
        ledger_by_category,
        plan_vs_actual,
        quarterly_table,
        sensitivity,
        summary,
    )

    _ensure_inputs(con)
    prepare(con, *ROI_TABLES)
    series = build_monthly_series(con, cfg)
    a = Assumptions.from_config(cfg)
    scenarios = {name: dict(mult.items()) for name, mult in cfg.roi.scenarios.items()}
    headcount = headcount_at_start(con, cfg.program.start)
    plan = plan_vs_actual(cfg.program.budget_per_employee_eur, headcount, cfg.program.budget_split,
                          ledger_by_category(series))
    out = RoiBuild(summary=summary(series, a))
    out.counts["marts.roi_monthly"] = _replace(con, "marts.roi_monthly", MONTHLY_TABLE_COLUMNS,
                                               monthly_rows(series, a))
    out.counts["marts.roi_quarterly"] = _replace(con, "marts.roi_quarterly", QUARTERLY_COLUMNS,
                                                 quarterly_table(series, a))
    out.counts["marts.roi_sensitivity"] = _replace(con, "marts.roi_sensitivity", SENSITIVITY_COLUMNS,
                                                   sensitivity(series, a, scenarios), sort_order=True)
    out.counts["marts.budget_plan_vs_actual"] = _replace(con, "marts.budget_plan_vs_actual", PLAN_COLUMNS, plan,
                                                         sort_order=True)
    out.counts["marts.roi_assumptions"] = _replace(
        con, "marts.roi_assumptions", ASSUMPTION_COLUMNS,
        [r.as_dict() for r in assumption_rows(cfg, headcount)], sort_order=True)
    return out


# --------------------------------------------------------------------------------------------
# Reading them back
# --------------------------------------------------------------------------------------------


@dataclass
class StoredRoi:
    """The ROI marts as stored: enough to recompute every figure with other assumptions."""

    series: list[Month]
    assumptions: Assumptions  # as configured when the tables were built
    scenarios: dict[str, dict[str, float]]
    assumption_rows: list[dict[str, Any]]  # marts.roi_assumptions in order
    plan_vs_actual: list[dict[str, Any]]
    currency: str = "EUR"
    workbook_lines: Any = None  # kpi.roi_workbook.WorkbookLines, read for kpi roi --export FILE.xlsx


def _rows(con: Any, query: str) -> list[dict[str, Any]]:
    cur = con.execute(query)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def missing_roi_tables(con: Any) -> list[str]:
    """The ROI tables (schema.table) that the warehouse lacks."""
    have = {f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name = 'marts'").fetchall()}
    return [t for t in ROI_TABLES if t not in have]


def read_stored_roi(con: Any) -> StoredRoi:
    """Read ``marts.roi_monthly``, ``marts.roi_assumptions`` and ``marts.budget_plan_vs_actual``.
    The caller checks :func:`missing_roi_tables` first."""
    monthly = _rows(con, "SELECT * FROM marts.roi_monthly ORDER BY m")
    rows = _rows(con, f"SELECT {', '.join(ASSUMPTION_COLUMNS)} FROM marts.roi_assumptions ORDER BY sort_order")
    plan = _rows(con, f"SELECT {', '.join(PLAN_COLUMNS)} FROM marts.budget_plan_vs_actual ORDER BY sort_order")
    a, scenarios = assumptions_from_rows(rows)
    currency = next((r["value_text"] for r in rows if r["name"] == "company.currency"), "EUR")
    return StoredRoi(series_from_rows(monthly), a, scenarios, rows, plan, currency)


def headline(con: Any) -> dict[str, Any]:
    """The headline figures at horizon (the last row of ``marts.roi_quarterly``): roi_pct,
    break_even_month, payback_months, year1_roi_pct, npv; all None when there is no row."""
    names = ("roi_pct", "break_even_month", "payback_months", "year1_roi_pct", "npv")
    rows = con.execute(f"SELECT {', '.join(names)} FROM marts.roi_quarterly ORDER BY m DESC LIMIT 1").fetchall()
    if not rows:
        return dict.fromkeys(names)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in zip(names, rows[0])}
