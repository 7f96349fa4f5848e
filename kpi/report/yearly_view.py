"""What the yearly deep dive says: pure functions of :class:`~kpi.report.yearly.YearData`, its
charts and its page (templates/yearly.html.j2 with the sections in templates/yearly/).

What "the year's figure" is, per figure (:data:`FIGURES`, docs/report.md "The yearly deep dive"):

- ``sum``: hours saved, savings and interactions add up over the quarters;
- ``mean``: rates of use (active-, regular-user rate) are the mean of the year's quarters;
- ``end``: figures "to date" (trained share, skill to date, coverage) and favorability are the
  year's last published value (the latest survey wave);
- ``quarter``: counts of people (headcount, active users) are per quarter only: one person counts
  in every quarter, and a count of distinct people over the year would need person-level rows.

A sum or mean is written only when every quarter of the year has its figure (a withheld figure
is never filled in by arithmetic); a department suppressed in any quarter of the year gets no
yearly figure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kpi.report.formatting import (
    DASH,
    fmt_eur,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
    fmt_pts,
    fmt_signed,
    month_text,
    process_label,
    suppression_text,
)
from kpi.report.i18n import N_, _, ngettext
from kpi.report.view import Section

if TYPE_CHECKING:  # pragma: no cover
    from kpi.report.charts import ChartOut
    from kpi.report.collect import RoiQuarter
    from kpi.report.standing import BenchmarkRow
    from kpi.report.yearly import YearData

YEAR_SECTIONS = (
    Section("totals", N_("The year in figures")),
    Section("comparison", N_("Against the previous year and the baseline")),
    Section("roi", N_("Year-1 ROI against the benchmarks"), major=True),
    Section("standing", N_("Maturity path and rollout")),
    Section("budget", N_("Budget: plan against actual")),
    Section("cohorts", N_("Cohort curves")),
    Section("restatements", N_("Restatements made during the year")),
    Section("notes", N_("Qualitative findings"), major=True),
)


@dataclass(frozen=True)
class YearFigure:
    key: str  # a field of CompanyQuarter
    label: str  # marked with N_, translated where shown
    rule: str  # sum | mean | end | quarter
    kind: str  # pct | eur | count | score


FIGURES = (
    YearFigure("headcount", N_("Headcount"), "quarter", "count"),
    YearFigure("active_users", N_("Active users"), "quarter", "count"),
    YearFigure("regular_users", N_("Regular users"), "quarter", "count"),
    YearFigure("active_user_rate", N_("Active-user rate"), "mean", "pct"),
    YearFigure("regular_user_rate", N_("Regular-user rate"), "mean", "pct"),
    YearFigure("interactions", N_("Interactions"), "sum", "count"),
    YearFigure("trained_share", N_("Trained share"), "end", "pct"),
    YearFigure("skill_score_to_date", N_("Skill score to date (0–100)"), "end", "score"),
    YearFigure("proficient_rate_to_date", N_("Proficient rate to date"), "end", "pct"),
    YearFigure("assessment_coverage", N_("Assessed to date (share of headcount)"), "end", "pct"),
    YearFigure("hours_saved", N_("Hours saved"), "sum", "count"),
    YearFigure("time_savings_eur", N_("Time savings (before attribution)"), "sum", "eur"),
    YearFigure("quality_savings_eur", N_("Quality savings (before attribution)"), "sum", "eur"),
    YearFigure("favorability", N_("Favorability (mean of the constructs)"), "end", "pct"),
)
#: What the year's column holds, per rule.
RULES = {"sum": N_("sum of the quarters"), "mean": N_("mean of the quarters"), "end": N_("the year's last value"),
         "quarter": N_("per quarter only: people are counted in each quarter, not once a year")}


def figure_text(kind: str, value: float | None) -> str:
    if kind == "pct":
        return fmt_pct(value)
    if kind == "eur":
        return fmt_eur(value)
    if kind == "score":
        return fmt_num(value, 1)
    return fmt_num(value)


def change_text(kind: str, now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return DASH
    if kind == "pct":
        return fmt_pts(now - before)
    if kind == "eur":
        return fmt_eur(now - before, signed=True)
    return fmt_signed(now - before, 1 if kind == "score" else 0)


def _value(d: YearData, key: str, quarter: str) -> float | None:
    row = d.company.get(quarter)
    return getattr(row, key) if row is not None else None


def aggregate(d: YearData, f: YearFigure, quarters: list[str]) -> float | None:
    """The figure over these quarters by its rule; None when a quarter lacks it (sum, mean), for
    counts of people (quarter), or without any quarter."""
    values = [_value(d, f.key, q) for q in quarters]
    if not quarters or f.rule == "quarter":
        return None
    if f.rule == "end":
        shown = [v for v in values if v is not None]
        return shown[-1] if shown else None
    if any(v is None for v in values):
        return None
    return sum(values) if f.rule == "sum" else sum(values) / len(values)


# --------------------------------------------------------------------------------------------
# Header
# --------------------------------------------------------------------------------------------


def status_text(d: YearData) -> str:
    """'complete: quarters 2025-Q1 to 2025-Q4 closed' or 'incomplete: quarters 2026-Q1–2026-Q3'."""
    if d.complete:
        return _("complete: quarters %(first)s to %(last)s closed", first=d.first, last=d.last)
    text = (_("incomplete: quarters %(first)s–%(last)s", first=d.first, last=d.last) if d.first != d.last
            else _("incomplete: quarter %(quarter)s only", quarter=d.first))
    if d.open_quarters:
        text += " " + _("(%(quarters)s still open)", quarters=", ".join(d.open_quarters))
    return text


# --------------------------------------------------------------------------------------------
# The year in figures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotalsLine:
    label: str
    cells: list[str]  # one per quarter of the year
    year: str
    rule: str


def totals_lines(d: YearData) -> list[TotalsLine]:
    out = []
    for f in FIGURES:
        cells = [figure_text(f.kind, _value(d, f.key, q)) for q in d.labels]
        year = DASH if f.rule == "quarter" else figure_text(f.kind, aggregate(d, f, d.labels))
        out.append(TotalsLine(_(f.label), cells, year, _(RULES[f.rule])))
    return out


def totals_headers(d: YearData) -> list[tuple[str, str]]:
    return [("", "left"), *((q, "num") for q in d.labels), (d.year, "num"), (_("The year's figure"), "left")]


def department_headers(d: YearData) -> list[tuple[str, str]]:
    return [(_("Department"), "left"), *((q, "num") for q in d.labels), (_("Mean of the quarters"), "num")]


def comparison_headers(d: YearData) -> list[tuple[str, str]]:
    base = d.baseline_quarters
    baseline = (_("Baseline (%(quarters)s)", quarters=", ".join(base)) if base else _("Baseline"))
    return [("", "left"), (_("The year's figure"), "left"), (d.year, "num"), (previous_header(d), "num"),
            (_("Change"), "num"), (baseline, "num"), (_("Against the baseline"), "num")]


@dataclass(frozen=True)
class DepartmentCell:
    text: str
    suppressed: bool
    reason: str | None


@dataclass(frozen=True)
class DepartmentLine:
    segment: str
    cells: list[DepartmentCell]
    year: str  # the mean of the quarters, or why there is none


def department_lines(d: YearData) -> list[DepartmentLine]:
    """Each department's active-user rate per quarter of the year and the mean of the quarters,
    which only a department shown in every quarter of the year gets."""
    by: dict[str, dict[str, dict[str, Any]]] = {}
    for row in d.departments.iter_rows(named=True):
        if row["quarter"] in d.labels:
            by.setdefault(row["segment"], {})[row["quarter"]] = row
    out = []
    k = d.settings.k
    for segment, rows in by.items():
        cells, values = [], []
        for q in d.labels:
            row = rows.get(q)
            if row is None:
                cells.append(DepartmentCell(DASH, False, None))
                values.append(None)
            elif row["suppressed"]:
                cells.append(DepartmentCell(suppression_text(row["reason"], k, short=True), True, row["reason"]))
                values.append(None)
            else:
                cells.append(DepartmentCell(fmt_pct(row["active_user_rate"]), False, None))
                values.append(row["active_user_rate"])
        complete = all(v is not None for v in values)
        year = fmt_pct(sum(values) / len(values)) if complete else DASH
        out.append(DepartmentLine(segment, cells, year))
    return out


# --------------------------------------------------------------------------------------------
# Against the previous year and the baseline
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompareLine:
    label: str
    rule: str
    now: str
    previous: str
    change: str
    change_value: float | None
    baseline: str
    vs_baseline: str
    vs_baseline_value: float | None
    good_when_up: bool = True


def comparison_lines(d: YearData) -> list[CompareLine]:
    """This year, the previous year and the baseline by the same rule per figure. A sum is compared
    only with a year of as many quarters; sums have no baseline (savings are measured against it)."""
    prev = d.quarters_of(d.previous_year)
    base = d.baseline_quarters
    out = []
    for f in FIGURES:
        if f.rule == "quarter":
            continue
        now = aggregate(d, f, d.labels)
        before = aggregate(d, f, prev) if (f.rule != "sum" or len(prev) == len(d.labels)) else None
        shown_before = aggregate(d, f, prev)
        baseline = aggregate(d, f, base) if f.rule != "sum" else None
        out.append(CompareLine(
            _(f.label), _(RULES[f.rule]), figure_text(f.kind, now), figure_text(f.kind, shown_before),
            change_text(f.kind, now, before), None if now is None or before is None else now - before,
            figure_text(f.kind, baseline), change_text(f.kind, now, baseline),
            None if now is None or baseline is None else now - baseline))
    return out


def previous_year_note(d: YearData) -> str:
    prev = d.quarters_of(d.previous_year)
    if not prev:
        return _("The warehouse holds no quarter of %(year)s: there is no previous year to compare with.",
                 year=d.previous_year)
    if len(prev) == 4 and len(d.labels) < 4:
        return _("%(year)s: all four quarters are in the warehouse; its sums are not compared with this incomplete "
                 "year.", year=d.previous_year)
    if len(prev) == 4:
        return _("%(year)s: all four quarters are in the warehouse.", year=d.previous_year)
    return ngettext("%(year)s: only %(quarters)s is in the warehouse (%(num)d quarter); its sums are not compared.",
                    "%(year)s: only %(quarters)s are in the warehouse (%(num)d quarters); its sums are not compared.",
                    len(prev), year=d.previous_year, quarters=", ".join(prev))


def baseline_note(d: YearData) -> str:
    base = d.baseline_quarters
    if d.program_start is None:
        return _("The programme start is not recorded in the warehouse: no baseline.")
    start = month_text(d.program_start)
    if not base:
        return _("No quarter before the programme start (%(start)s) is in the warehouse: no baseline.", start=start)
    return _("Baseline: the quarters before the programme start (%(start)s): %(quarters)s.", start=start,
             quarters=", ".join(base))


def previous_header(d: YearData) -> str:
    prev = d.quarters_of(d.previous_year)
    if prev and len(prev) < 4:
        return _("%(year)s (%(quarters)s only)", year=d.previous_year, quarters=", ".join(prev))
    return d.previous_year


@dataclass(frozen=True)
class ProcessLine:
    label: str
    minutes: tuple[str, str]  # baseline, at the year's end
    time_reduction: str
    errors: tuple[str, str]


def process_lines(d: YearData) -> list[ProcessLine]:
    return [ProcessLine(f"{process_label(p.process)} ({p.department})",
                        (fmt_num(p.baseline_minutes_per_case, 1), fmt_num(p.minutes_per_case, 1)),
                        fmt_pct(p.time_reduction), (fmt_pct(p.baseline_error_rate), fmt_pct(p.error_rate)))
            for p in d.processes if p.process != "all"]


# --------------------------------------------------------------------------------------------
# ROI and benchmarks
# --------------------------------------------------------------------------------------------


def roi_at_end(d: YearData) -> RoiQuarter | None:
    """The ROI as of the year's last quarter (or the series' last quarter within the year)."""
    rows = [r for r in d.roi if r.quarter <= d.last]
    return rows[-1] if rows and rows[-1].quarter.startswith(f"{d.year}-") else None


def roi_previous(d: YearData) -> RoiQuarter | None:
    rows = [r for r in d.roi if r.quarter.startswith(f"{d.previous_year}-")]
    return rows[-1] if rows else None


@dataclass(frozen=True)
class RoiLine:
    label: str
    value: str
    note: str


def year1_months_note(d: YearData) -> str:
    if d.program_start is None:
        return _("programme months 1–12")
    import datetime as dt

    start = d.program_start
    end_index = start.year * 12 + start.month - 1 + 11
    end = dt.date(end_index // 12, end_index % 12 + 1, 1)
    return _("programme months 1–12 (%(first)s to %(last)s)", first=month_text(start), last=month_text(end))


def year1_bcr(row: RoiQuarter | None) -> float | None:
    """Benefits per € of cost over months 1–12: BCR = 1 + ROI / 100."""
    return None if row is None or row.year1_roi_pct is None else 1 + row.year1_roi_pct / 100


def roi_lines(d: YearData) -> list[RoiLine]:
    row = roi_at_end(d)
    if row is None:
        return []
    as_of = _("as of %(quarter)s (programme month %(m)s)", quarter=row.quarter, m=row.m)
    not_yet = _("not yet: the first 12 programme months end after %(quarter)s", quarter=row.quarter)
    out = [
        RoiLine(_("Year-1 ROI"), fmt_pct_value(row.year1_roi_pct) if row.year1_roi_pct is not None else DASH,
                year1_months_note(d) if row.year1_roi_pct is not None else not_yet),
        RoiLine(_("Year-1 benefit per € of cost (BCR)"), fmt_num(year1_bcr(row), 2) if row.year1_roi_pct is not None
                else DASH, year1_months_note(d) if row.year1_roi_pct is not None else not_yet),
        RoiLine(_("ROI to date"), fmt_pct_value(row.roi_pct), as_of),
        RoiLine(_("Benefit-cost ratio to date"), fmt_num(row.bcr, 2), as_of),
        RoiLine(_("Break-even"), _("month %(m)s", m=row.break_even_month) if row.break_even_month is not None
                else _("not yet"), as_of),
        RoiLine(_("Payback"), _("%(months)s months", months=fmt_num(row.payback_months, 1))
                if row.payback_months is not None else _("not yet"), as_of),
        RoiLine(_("Net present value to date"), fmt_eur(row.npv), as_of),
    ]
    c = d.costs
    if c is not None:
        months = ngettext("%(num)d month of the ROI series in %(year)s", "%(num)d months of the ROI series in %(year)s",
                          c.months, year=d.year)
        out += [
            RoiLine(_("Costs in %(year)s", year=d.year), fmt_eur(c.costs), months),
            RoiLine(_("Benefits in %(year)s", year=d.year), fmt_eur(c.benefits),
                    _("after attribution and confidence; %(months)s", months=months)),
            RoiLine(_("Net benefit in %(year)s", year=d.year), fmt_eur(c.benefits - c.costs, signed=True), months),
        ]
    return out


#: A benchmark's position (kpi.benchmarks.position) in words.
POSITION = {"better": N_("better than the range"), "within": N_("within the range"),
            "worse": N_("worse than the range")}


@dataclass(frozen=True)
class BenchmarkLine:
    label: str
    subject: str
    actual: str
    range: str
    position: str
    source: int  # the note's number


def year_benchmarks(d: YearData) -> list[BenchmarkRow]:
    """The published ranges (marts.roi_benchmarks) with the programme's figures as of the year's
    end: year-1 BCR, break-even and payback from the ROI as of its last quarter, each process's
    time and error reduction in its last quarter of the year."""
    from kpi.benchmarks import position

    row = roi_at_end(d)
    programme = {"bcr_year1": year1_bcr(row), "break_even_month": row.break_even_month if row else None,
                 "payback_months": row.payback_months if row else None}
    processes = {(p.process, p.department): p for p in d.processes}
    out = []
    for b in d.standing.benchmarks:
        if b.process == "all":
            actual = programme.get(b.benchmark)
            quarter = b.quarter
        else:
            p = processes.get((b.process, b.department))
            actual = None
            if p is not None and b.benchmark == "time_reduction":
                actual = p.time_reduction
            elif p is not None and b.benchmark == "error_reduction" and p.error_rate is not None \
                    and p.baseline_error_rate:
                actual = 1 - p.error_rate / p.baseline_error_rate
            quarter = d.last
        out.append(dataclasses.replace(b, actual=actual, quarter=quarter,
                                       status=position(actual, b.low, b.high, b.better)))
    return out


def benchmark_lines(d: YearData) -> tuple[list[BenchmarkLine], list[str]]:
    from kpi.report import standing

    rows = year_benchmarks(d)
    sources: list[str] = []
    for b in rows:
        if b.source not in sources:
            sources.append(b.source)
    row = roi_at_end(d)

    def where(b: BenchmarkRow) -> str:
        if b.status in POSITION:
            return _(POSITION[b.status])
        if b.benchmark in ("break_even_month", "payback_months") and row is not None:
            return _("not reached by %(quarter)s", quarter=row.quarter)
        return _("not yet measured")

    lines = [BenchmarkLine(standing.label(b.benchmark), standing.benchmark_subject(b), standing.benchmark_actual(b),
                           standing.benchmark_range(b), where(b), sources.index(b.source) + 1) for b in rows]
    return lines, sources


# --------------------------------------------------------------------------------------------
# Budget
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLine:
    label: str
    plan: str
    actual: str
    difference: str
    over: bool | None  # True: over plan


def plan_lines(d: YearData) -> list[PlanLine]:
    """The yearly plan per ledger category (marts.budget_plan_vs_actual) against the year's ledger
    (marts.roi_monthly); the participants' training time is not in the plan and stands apart."""
    from kpi.report.view import plan_label

    c = d.costs
    if c is None or not d.plan:
        return []
    out = []
    plan_total = actual_total = 0.0
    for p in d.plan:
        actual = getattr(c, p.category, None)
        if actual is None:
            continue
        plan_total += p.plan_eur
        actual_total += actual
        out.append(PlanLine(plan_label(p.category), fmt_eur(p.plan_eur), fmt_eur(actual),
                            fmt_eur(actual - p.plan_eur, signed=True), actual - p.plan_eur > 0.005))
    out.append(PlanLine(_("Total"), fmt_eur(plan_total), fmt_eur(actual_total),
                        fmt_eur(actual_total - plan_total, signed=True), actual_total - plan_total > 0.005))
    out.append(PlanLine(_("Participants' training time (not in the plan)"), DASH, fmt_eur(c.participant_time),
                        DASH, None))
    return out


# --------------------------------------------------------------------------------------------
# Restatements and notes
# --------------------------------------------------------------------------------------------


def restatement_title(item: Any) -> str:
    return _("%(quarter)s: version %(version)s, written on %(day)s", quarter=item.quarter, version=item.version,
             day=item.restated_on.isoformat())


def restated_lines(item: Any) -> list[Any]:
    """The changed figures of a restatement, as the quarterly report lists them."""
    from kpi.report.collect import Restatement
    from kpi.report.view import restated_lines as quarterly_lines

    return quarterly_lines(Restatement(item.quarter, item.version, item.changes or []))


# --------------------------------------------------------------------------------------------
# Charts and page
# --------------------------------------------------------------------------------------------


def build_year_charts(d: YearData) -> list[ChartOut]:
    """Hours and savings per quarter of the year, and the cohort curve as of its end (the Altair
    builders of the quarterly report, kpi/charts.py)."""
    import polars as pl

    from kpi import charts
    from kpi.report.charts import ChartOut, _spec

    out = []
    company = d.business.filter(pl.col("quarter").is_in(d.labels) & pl.col("hours_saved").is_not_null())
    if company.height:
        hours = company.select("quarter", "hours_saved")
        savings = company.unpivot(index="quarter", on=["time_savings_eur", "quality_savings_eur"],
                                  variable_name="component", value_name="eur").drop_nulls().with_columns(
            component=pl.col("component").replace({"time_savings_eur": _("Time savings"),
                                                   "quality_savings_eur": _("Quality savings")}))
        out.append(ChartOut("year_savings", _spec(charts.business_savings(hours, savings, d.labels))))
    if d.cohorts is not None:
        out.append(ChartOut("year_cohorts", _spec(charts.cohort_curve(d.cohorts)),
                            _("As of %(quarter)s. Read each month with the number of people behind it: the later "
                              "months rest on the earliest-trained only.", quarter=d.last)))
    return out


SHELL = "yearly.html.j2"


def render_year(d: YearData, chart_list: list[ChartOut]) -> str:
    """The yearly report's page (the quarterly report's environment, macros, filters and static files)."""
    import sys

    from kpi.report import i18n
    from kpi.report.render import environment, static_files

    template = environment().get_template(SHELL)
    return template.render(y=d, k=d.settings.k, charts={c.name: c for c in chart_list}, sections=YEAR_SECTIONS,
                           static=static_files(), language=i18n.current_language(), yv=sys.modules[__name__])
