"""ROI, BCR, break-even, payback, NPV and sensitivity over a monthly series (docs/metrics.md §5).

Plain functions over a list of :class:`Month` (one per programme month, m = 1..N) and an
:class:`Assumptions` (attribution, confidence, what-if multipliers, discount rate, horizon).
Shared by the Dagster ROI assets, the ``kpi roi`` command and notebooks, so this module imports
nothing but the standard library (and kpi.quarters): ``kpi roi`` answers in milliseconds.

``build_monthly_series(con, cfg)`` assembles the series from the warehouse with
``sql/intermediate/int_roi_parts.sql`` and ``int_roi_monthly_inputs.sql``; everything else is pure
arithmetic.

Figures are never rounded here; NULL is ``None``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kpi.quarters import quarter_label

__all__ = [
    "LEDGER_CATEGORIES",
    "MONTHLY_COLUMNS",
    "QUARTERLY_COLUMNS",
    "SENSITIVITY_COLUMNS",
    "TORNADO",
    "Assumptions",
    "Month",
    "RoiSummary",
    "break_even_attribution",
    "break_even_attribution_status",
    "break_even_month",
    "build_monthly_series",
    "discounted_payback_months",
    "headcount_at_start",
    "ledger_by_category",
    "monthly_rate",
    "monthly_table",
    "npv",
    "payback_months",
    "plan_vs_actual",
    "quarterly_table",
    "sensitivity",
    "series_from_rows",
    "series_without_estimate",
    "summary",
    "year1_roi_pct",
]

#: Ledger categories (docs/inputs.md, finance/costs.csv), in budget-split order.
LEDGER_CATEGORIES: tuple[str, ...] = (
    "external_training",
    "internal_time",
    "licenses",
    "materials",
    "other",
)

#: Columns of ``marts.roi_monthly`` (docs/metrics.md §5), in order; the rows of :func:`monthly_table`.
MONTHLY_COLUMNS: tuple[str, ...] = (
    "month",
    "m",
    "cost_external_training",
    "cost_internal_time",
    "cost_licenses",
    "cost_materials",
    "cost_other",
    "cost_participant_time",
    "costs",
    "time_savings_eur",
    "quality_savings_eur",
    "gross_benefits",
    "benefits",
    "estimated_benefits",
    "cum_costs",
    "cum_benefits",
    "roi_pct",
    "bcr",
)

#: Columns of ``marts.roi_quarterly``; the rows of :func:`quarterly_table`.
QUARTERLY_COLUMNS: tuple[str, ...] = (
    "quarter",
    "m",
    "cum_costs",
    "cum_benefits",
    "cum_gross_benefits",
    "roi_pct",
    "bcr",
    "break_even_month",
    "payback_months",
    "npv",
    "discounted_payback_months",
    "year1_roi_pct",
    "break_even_attribution",
    "year1_break_even_attribution",
)

#: Columns of ``marts.roi_sensitivity``; the rows of :func:`sensitivity`.
SENSITIVITY_COLUMNS: tuple[str, ...] = ("assumption", "case", "roi_pct", "npv", "swing")

#: Tornado assumptions: row name -> the :class:`Assumptions` field moved ×0.8 / ×1.2.
TORNADO: tuple[tuple[str, str], ...] = (
    ("attribution", "attribution"),
    ("confidence", "confidence"),
    ("hourly_cost", "hourly_cost_scale"),
    ("cost_per_error", "cost_per_error_scale"),
    ("total_cost", "cost_scale"),
)
TORNADO_CASES: tuple[tuple[str, float], ...] = (("low", 0.8), ("high", 1.2))

# Cumulative costs within this of zero count as zero (a credit note that cancels a booking
# must not give a ROI of 10^17 %); comparisons of money use the same relative tolerance.
_EPS = 1e-9


def _tol(x: float) -> float:
    return _EPS * max(1.0, abs(x))


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Month:
    """One month of the ROI series, before any assumption is applied (EUR)."""

    m: int
    month: dt.date
    cost_external_training: float = 0.0
    cost_internal_time: float = 0.0
    cost_licenses: float = 0.0
    cost_materials: float = 0.0
    cost_other: float = 0.0
    cost_participant_time: float = 0.0
    time_savings_eur: float = 0.0
    quality_savings_eur: float = 0.0
    estimated_benefits: float | None = None

    @property
    def ledger_costs(self) -> float:
        return (
            self.cost_external_training
            + self.cost_internal_time
            + self.cost_licenses
            + self.cost_materials
            + self.cost_other
        )


_MONTH_FIELDS = tuple(f.name for f in dataclasses.fields(Month))


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What the ROI is computed with.

    ``attribution`` and ``confidence`` come from ``benefits.*``; the scales are what-if
    multipliers (1.0 = as measured): ``hourly_cost_scale`` moves time savings AND participant
    time together, ``cost_per_error_scale`` moves quality savings, ``cost_scale`` moves every
    cost, ``benefits_scale`` moves both measured savings. Attribution and confidence are capped
    at 1 when used, whatever multiplier produced them.
    """

    attribution: float
    confidence: float
    hourly_cost_scale: float = 1.0
    cost_per_error_scale: float = 1.0
    cost_scale: float = 1.0
    benefits_scale: float = 1.0
    discount_rate_annual: float = 0.08
    horizon_months: int = 24

    @classmethod
    def from_config(cls, cfg: Any, **overrides: Any) -> Assumptions:
        """The assumptions of a :class:`kpi.config.Config`, with optional overrides."""
        values = {
            "attribution": float(cfg.benefits.attribution),
            "confidence": float(cfg.benefits.confidence),
            "discount_rate_annual": float(cfg.roi.discount_rate_annual),
            "horizon_months": int(cfg.roi.horizon_months),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Assumptions:
        return dataclasses.replace(self, **changes)

    @property
    def effective_attribution(self) -> float:
        return min(1.0, self.attribution)

    @property
    def effective_confidence(self) -> float:
        return min(1.0, self.confidence)

    @property
    def monthly_rate(self) -> float:
        return monthly_rate(self.discount_rate_annual)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def series_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[Month]:
    """Months from mappings holding at least the :class:`Month` fields (e.g. rows of
    ``marts.roi_monthly`` or of the intermediate query); other keys are ignored."""
    out = []
    for row in rows:
        kw = {k: row[k] for k in _MONTH_FIELDS if k in row}
        for k, v in kw.items():
            if k in ("m", "month") or v is None:
                continue
            kw[k] = float(v)
        if kw.get("month") is not None and isinstance(kw["month"], dt.datetime):
            kw["month"] = kw["month"].date()
        out.append(Month(**kw))
    return out


def monthly_rate(discount_rate_annual: float) -> float:
    """Monthly rate r = (1 + annual)^(1/12) − 1."""
    return (1.0 + discount_rate_annual) ** (1.0 / 12.0) - 1.0


# --------------------------------------------------------------------------------------------
# Core arithmetic
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Flows:
    months: list[Month]
    costs: list[float]  # C_m after cost and hourly-cost scales
    gross: list[float]  # G_m after hourly-cost, cost-per-error and benefits scales
    benefits: list[float]  # B_m = G_m × attribution × confidence


def _prepare(series: Sequence[Month], a: Assumptions, as_of_month: int | None = None) -> list[Month]:
    months = sorted(series, key=lambda x: x.m)
    for i, mo in enumerate(months, start=1):
        if mo.m != i:
            raise ValueError(f"the ROI series must hold months 1..N without gaps; month {i} is missing")
    last = a.horizon_months if as_of_month is None else min(a.horizon_months, as_of_month)
    return months[: max(0, last)]


def _flows(series: Sequence[Month], a: Assumptions, as_of_month: int | None = None) -> _Flows:
    months = _prepare(series, a, as_of_month)
    hourly, cpe, cs, bs = a.hourly_cost_scale, a.cost_per_error_scale, a.cost_scale, a.benefits_scale
    factor = a.effective_attribution * a.effective_confidence
    costs = [(mo.ledger_costs + mo.cost_participant_time * hourly) * cs for mo in months]
    gross = [(mo.time_savings_eur * hourly + mo.quality_savings_eur * cpe) * bs for mo in months]
    return _Flows(months, costs, gross, [g * factor for g in gross])


def _ratio_figures(cc: float, cb: float) -> tuple[float | None, float | None]:
    """(ROI %, BCR) for cumulative costs and benefits; NULL while CC is zero (or negative)."""
    if cc <= _tol(0.0):
        return None, None
    return (cb - cc) / cc * 100.0, cb / cc


def _payback(costs: Sequence[float], benefits: Sequence[float]) -> tuple[int | None, float | None]:
    """(break-even month, payback months) of a cost and a benefit stream.

    Break-even n = first month with CC_n > 0 and CB_n ≥ CC_n; payback = (n − 1) +
    (CC_{n−1} − CB_{n−1}) / (B_n − C_n) with CB_0 = CC_0 = 0, and n when B_n = C_n.
    """
    cc = cb = 0.0
    for n, (c, b) in enumerate(zip(costs, benefits), start=1):
        prev_gap = cc - cb
        cc += c
        cb += b
        if cc > _tol(0.0) and cb >= cc - _tol(cc):
            net = b - c
            if abs(net) <= _tol(max(abs(b), abs(c))):
                return n, float(n)
            fraction = prev_gap / net
            # Only when benefits came before any cost (CC_{n-1} <= 0) can the fraction leave
            # [0, 1]; keep payback inside month n then.
            return n, (n - 1) + min(1.0, max(0.0, fraction))
    return None, None


def _discount_factors(n: int, rate_annual: float) -> list[float]:
    r = monthly_rate(rate_annual)
    return [(1.0 + r) ** -(m - 1) for m in range(1, n + 1)]


# --------------------------------------------------------------------------------------------
# Public figures
# --------------------------------------------------------------------------------------------


def monthly_table(series: Sequence[Month], assumptions: Assumptions) -> list[dict[str, Any]]:
    """Rows of ``marts.roi_monthly`` (:data:`MONTHLY_COLUMNS`) with the assumptions applied:
    the cost and saving columns are as scaled by the what-if multipliers."""
    a = assumptions
    f = _flows(series, a)
    hourly, cs, bs = a.hourly_cost_scale, a.cost_scale, a.benefits_scale
    rows: list[dict[str, Any]] = []
    cc = cb = 0.0
    for mo, c, g, b in zip(f.months, f.costs, f.gross, f.benefits):
        cc += c
        cb += b
        roi, bcr = _ratio_figures(cc, cb)
        est = mo.estimated_benefits
        rows.append(
            {
                "month": mo.month,
                "m": mo.m,
                "cost_external_training": mo.cost_external_training * cs,
                "cost_internal_time": mo.cost_internal_time * cs,
                "cost_licenses": mo.cost_licenses * cs,
                "cost_materials": mo.cost_materials * cs,
                "cost_other": mo.cost_other * cs,
                "cost_participant_time": mo.cost_participant_time * hourly * cs,
                "costs": c,
                "time_savings_eur": mo.time_savings_eur * hourly * bs,
                "quality_savings_eur": mo.quality_savings_eur * a.cost_per_error_scale * bs,
                "gross_benefits": g,
                "benefits": b,
                "estimated_benefits": None if est is None else est * hourly,
                "cum_costs": cc,
                "cum_benefits": cb,
                "roi_pct": roi,
                "bcr": bcr,
            }
        )
    return rows


def break_even_month(series: Sequence[Month], assumptions: Assumptions) -> int | None:
    """First month n with CC_n > 0 and CB_n ≥ CC_n; None if never."""
    f = _flows(series, assumptions)
    return _payback(f.costs, f.benefits)[0]


def payback_months(series: Sequence[Month], assumptions: Assumptions) -> float | None:
    """(n − 1) + (CC_{n−1} − CB_{n−1}) / (B_n − C_n) at the break-even month n; None if never."""
    f = _flows(series, assumptions)
    return _payback(f.costs, f.benefits)[1]


def npv(series: Sequence[Month], assumptions: Assumptions, rate: float | None = None) -> float:
    """Σ_m (B_m − C_m) / (1 + r)^(m−1), r the monthly rate of ``rate`` (annual; default the
    assumptions' ``discount_rate_annual``). Month 1 is not discounted."""
    f = _flows(series, assumptions)
    annual = assumptions.discount_rate_annual if rate is None else rate
    d = _discount_factors(len(f.costs), annual)
    return math.fsum((b - c) * k for b, c, k in zip(f.benefits, f.costs, d))


def discounted_payback_months(series: Sequence[Month], assumptions: Assumptions) -> float | None:
    """The payback formula on the discounted flows B_m/(1+r)^(m−1) and C_m/(1+r)^(m−1)."""
    f = _flows(series, assumptions)
    d = _discount_factors(len(f.costs), assumptions.discount_rate_annual)
    return _payback([c * k for c, k in zip(f.costs, d)], [b * k for b, k in zip(f.benefits, d)])[1]


def year1_roi_pct(series: Sequence[Month], assumptions: Assumptions) -> float | None:
    """ROI over months 1–12 only; None until month 12 is in the series."""
    f = _flows(series, assumptions, as_of_month=12)
    if len(f.costs) < 12:
        return None
    return _ratio_figures(math.fsum(f.costs), math.fsum(f.benefits))[0]


#: :func:`break_even_attribution_status`: an attribution in [0, 1] gives ROI = 0 ...
BREAK_EVEN_SOLVED = "solved"
#: ... ROI < 0 at every attribution in [0, 1] (even crediting the training with the whole
#: improvement does not pay: gross benefits × confidence < costs, or no positive gross benefits)
BREAK_EVEN_NEGATIVE = "negative"
#: ... there is no ROI to break even: no costs yet, or (year 1) month 12 is not in the series.
BREAK_EVEN_UNDEFINED = "undefined"


def _solve_attribution(
    costs: Sequence[float], gross: Sequence[float], confidence: float, multiplier: float = 1.0
) -> tuple[float | None, str]:
    """Closed form of CB(x) = CC: CB = Σ G × min(1, x × multiplier) × confidence is linear in the
    credited attribution min(1, x × multiplier) and costs do not depend on it, so the credited
    attribution at ROI = 0 is CC / (Σ G × confidence); it exists in [0, 1] or the cap forbids it."""
    cc = math.fsum(costs)
    if cc <= _tol(0.0):
        return None, BREAK_EVEN_UNDEFINED
    full = math.fsum(gross) * min(1.0, confidence)  # CB with the whole improvement credited
    if full <= 0.0:
        return None, BREAK_EVEN_NEGATIVE
    credited = cc / full
    if credited > 1.0 + _EPS:
        return None, BREAK_EVEN_NEGATIVE
    x = min(credited, 1.0) / multiplier
    if x > 1.0 + _EPS:
        return None, BREAK_EVEN_NEGATIVE
    return min(x, 1.0), BREAK_EVEN_SOLVED


def break_even_attribution_status(
    series: Sequence[Month], assumptions: Assumptions, year1: bool = False, attribution_multiplier: float = 1.0
) -> tuple[float | None, str]:
    """(:func:`break_even_attribution`, why): ``BREAK_EVEN_SOLVED``, ``BREAK_EVEN_NEGATIVE`` (ROI
    below zero at every attribution in [0, 1]) or ``BREAK_EVEN_UNDEFINED`` (no ROI: no costs, or
    year 1 asked before month 12 is in the series). ROI is never positive at every attribution:
    attribution 0 credits nothing, so ROI = −100 % whenever costs are positive."""
    if attribution_multiplier <= 0.0:
        raise ValueError("attribution_multiplier must be positive")
    f = _flows(series, assumptions, as_of_month=12 if year1 else None)
    if year1 and len(f.costs) < 12:
        return None, BREAK_EVEN_UNDEFINED
    return _solve_attribution(f.costs, f.gross, assumptions.effective_confidence, attribution_multiplier)


def break_even_attribution(
    series: Sequence[Month], assumptions: Assumptions, year1: bool = False, attribution_multiplier: float = 1.0
) -> float | None:
    """The attribution at which ROI = 0 at the horizon (``year1``: over months 1–12), with the
    confidence and every other assumption as given (the attribution itself is ignored): ROI ≥ 0
    exactly when attribution ≥ this value. Closed form: B is linear in the attribution up to the
    cap at 1, so it is CC / (Σ G × confidence). None when no attribution in [0, 1] breaks even
    (:func:`break_even_attribution_status` says why).

    ``attribution_multiplier`` is a scenario's multiplier (``roi.scenarios.*.attribution``): the
    scenario credits min(1, attribution × multiplier), so its break-even configured attribution is
    the credited one divided by the multiplier, and None when that exceeds 1 or the cap at 1 stops
    the credited attribution short of break-even. Pass the scenario's benefits and costs
    multipliers as ``benefits_scale`` and ``cost_scale`` of ``assumptions``."""
    return break_even_attribution_status(series, assumptions, year1, attribution_multiplier)[0]


@dataclass(frozen=True, slots=True)
class RoiSummary:
    """The ROI figures as of month ``m`` (the horizon unless asked otherwise)."""

    m: int
    month: dt.date | None
    cum_costs: float
    cum_benefits: float
    cum_gross_benefits: float
    cum_estimated_benefits: float | None
    roi_pct: float | None
    bcr: float | None
    break_even_month: int | None
    payback_months: float | None
    npv: float
    discounted_payback_months: float | None
    year1_roi_pct: float | None
    assumptions: Assumptions
    # the attribution at which ROI (year 1: the year-1 ROI) is 0, given the rest; None: see
    # break_even_attribution_status
    break_even_attribution: float | None = None
    year1_break_even_attribution: float | None = None

    def as_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["assumptions"] = self.assumptions.as_dict()
        return d


def summary(
    series: Sequence[Month], assumptions: Assumptions, as_of_month: int | None = None
) -> RoiSummary:
    """Every §5 figure as of month n = ``as_of_month`` (default: the horizon, i.e. the last month
    of the series): cumulative figures to n, break-even/payback only if reached by n, NPV over
    1..n, year-1 ROI once n ≥ 12."""
    a = assumptions
    f = _flows(series, a, as_of_month)
    n = len(f.costs)
    d = _discount_factors(n, a.discount_rate_annual)
    cc, cb = math.fsum(f.costs), math.fsum(f.benefits)
    roi, bcr = _ratio_figures(cc, cb)
    be, pb = _payback(f.costs, f.benefits)
    dc = [c * k for c, k in zip(f.costs, d)]
    db = [b * k for b, k in zip(f.benefits, d)]
    year1 = _ratio_figures(math.fsum(f.costs[:12]), math.fsum(f.benefits[:12]))[0] if n >= 12 else None
    estimates = [mo.estimated_benefits for mo in f.months if mo.estimated_benefits is not None]
    return RoiSummary(
        m=n,
        month=f.months[-1].month if f.months else None,
        cum_costs=cc,
        cum_benefits=cb,
        cum_gross_benefits=math.fsum(f.gross),
        cum_estimated_benefits=math.fsum(estimates) * a.hourly_cost_scale if estimates else None,
        roi_pct=roi,
        bcr=bcr,
        break_even_month=be,
        payback_months=pb,
        npv=math.fsum(b - c for b, c in zip(db, dc)),
        discounted_payback_months=_payback(dc, db)[1],
        year1_roi_pct=year1,
        assumptions=a,
        break_even_attribution=_solve_attribution(f.costs, f.gross, a.effective_confidence)[0],
        year1_break_even_attribution=(_solve_attribution(f.costs[:12], f.gross[:12], a.effective_confidence)[0]
                                      if n >= 12 else None),
    )


def quarterly_table(
    series: Sequence[Month],
    assumptions: Assumptions,
    quarter_of_month: Callable[[dt.date], str] = quarter_label,
) -> list[dict[str, Any]]:
    """Rows of ``marts.roi_quarterly`` (:data:`QUARTERLY_COLUMNS`): one per quarter of the
    series, "as of" its last month in the series (the last quarter may end early)."""
    months = _prepare(series, assumptions)
    last_of: dict[str, int] = {}
    for mo in months:
        last_of[quarter_of_month(mo.month)] = mo.m
    rows = []
    for quarter, n in last_of.items():
        s = summary(months, assumptions, as_of_month=n)
        rows.append(
            {
                "quarter": quarter,
                "m": n,
                "cum_costs": s.cum_costs,
                "cum_benefits": s.cum_benefits,
                "cum_gross_benefits": s.cum_gross_benefits,
                "roi_pct": s.roi_pct,
                "bcr": s.bcr,
                "break_even_month": s.break_even_month,
                "payback_months": s.payback_months,
                "npv": s.npv,
                "discounted_payback_months": s.discounted_payback_months,
                "year1_roi_pct": s.year1_roi_pct,
                "break_even_attribution": s.break_even_attribution,
                "year1_break_even_attribution": s.year1_break_even_attribution,
            }
        )
    return rows


def _horizon_roi_npv(series: Sequence[Month], a: Assumptions) -> tuple[float | None, float]:
    f = _flows(series, a)
    d = _discount_factors(len(f.costs), a.discount_rate_annual)
    roi = _ratio_figures(math.fsum(f.costs), math.fsum(f.benefits))[0]
    return roi, math.fsum((b - c) * k for b, c, k in zip(f.benefits, f.costs, d))


def sensitivity(
    series: Sequence[Month],
    assumptions: Assumptions,
    scenarios: Mapping[str, Mapping[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``marts.roi_sensitivity`` (:data:`SENSITIVITY_COLUMNS`), ROI and NPV at horizon.

    Tornado: each of attribution, confidence, hourly cost, cost per error and total cost moved
    alone ×0.8 (``low``) and ×1.2 (``high``); pairs sorted by swing = |ROI_high − ROI_low|,
    largest first (low before high; a NULL swing last). Then one row per scenario
    (assumption ``scenario``, case = its name, swing NULL), multiplying attribution, benefits
    and costs. Attribution and confidence are capped at 1 after any multiplier.
    """
    a = assumptions
    pairs = []
    for name, field in TORNADO:
        rows = []
        for case, factor in TORNADO_CASES:
            moved = a.replace(**{field: getattr(a, field) * factor})
            roi, value = _horizon_roi_npv(series, moved)
            rows.append({"assumption": name, "case": case, "roi_pct": roi, "npv": value, "swing": None})
        low, high = rows[0]["roi_pct"], rows[1]["roi_pct"]
        swing = None if low is None or high is None else abs(high - low)
        for row in rows:
            row["swing"] = swing
        pairs.append(rows)
    # Rounded for the order only, so float noise cannot flip equal swings (attribution and
    # confidence always swing alike); ties keep the TORNADO order.
    pairs.sort(key=lambda rows: (rows[0]["swing"] is None, -round(rows[0]["swing"] or 0.0, 9)))
    out = [row for rows in pairs for row in rows]
    for name, mult in (scenarios or {}).items():
        moved = a.replace(
            attribution=a.attribution * float(mult["attribution"]),
            benefits_scale=a.benefits_scale * float(mult["benefits"]),
            cost_scale=a.cost_scale * float(mult["costs"]),
        )
        roi, value = _horizon_roi_npv(series, moved)
        out.append({"assumption": "scenario", "case": name, "roi_pct": roi, "npv": value, "swing": None})
    return out


# --------------------------------------------------------------------------------------------
# Plan vs actual budget
# --------------------------------------------------------------------------------------------


def ledger_by_category(series: Sequence[Month], through_month: int = 12) -> dict[str, float]:
    """The ledger (no participant time, no what-if) summed by category over months 1..through."""
    months = [mo for mo in series if 1 <= mo.m <= through_month]
    return {
        cat: math.fsum(getattr(mo, f"cost_{cat}") for mo in months) for cat in LEDGER_CATEGORIES
    }


def plan_vs_actual(
    budget_per_employee_eur: float,
    headcount_at_start: int,
    budget_split: Mapping[str, float] | Any,
    ledger_by_category_months_1_12: Mapping[str, float],
) -> list[dict[str, Any]]:
    """Rows of ``marts.budget_plan_vs_actual``: one per ledger category (plus any other category
    in the split or the ledger), plan = budget per employee × headcount × share, actual = the
    ledger over months 1–12, difference = actual − plan (positive = over plan)."""
    split = dict(budget_split.items())
    total = float(budget_per_employee_eur) * int(headcount_at_start)
    categories = list(LEDGER_CATEGORIES)
    for cat in (*split, *ledger_by_category_months_1_12):
        if cat not in categories:
            categories.append(cat)
    rows = []
    for cat in categories:
        plan = total * float(split.get(cat, 0.0) or 0.0)
        actual = float(ledger_by_category_months_1_12.get(cat, 0.0) or 0.0)
        rows.append({"category": cat, "plan_eur": plan, "actual_eur": actual, "difference_eur": actual - plan})
    return rows


# --------------------------------------------------------------------------------------------
# From the warehouse
# --------------------------------------------------------------------------------------------


def load_roi_parts(con: Any, cfg: Any, estimated: bool = True) -> None:
    """The temporary table ``roi_parts`` (``sql/intermediate/int_roi_parts.sql``): every cost and
    benefit of every programme month, by part, department and process, with the savings from the
    temporary table ``roi_benefit_lines`` (``int_roi_benefit_lines.sql``, loaded first). Works on a
    read-only connection (temporary tables of the session).

    ``estimated=False`` leaves out the estimated (interaction-based) benefits, as when
    ``benefits.time_saved_minutes_per_interaction`` is empty: no other part changes (they never
    read the usage), and the usage, the costliest input by far, is not read."""
    from kpi.catalog import sql_params

    lines, query = _parts_sql()
    params = _parts_params(cfg, estimated)
    con.execute(f"CREATE OR REPLACE TEMP TABLE roi_benefit_lines AS {lines}",
                {**{k: v for k, v in params.items() if k in sql_params(lines)},
                 "last_month": params["horizon_months"]})
    con.execute(f"CREATE OR REPLACE TEMP TABLE roi_parts AS {query}",
                {k: v for k, v in params.items() if k in sql_params(query)})


def _parts_sql() -> tuple[str, str]:
    """The SQL of the benefit lines and of the parts (sql/intermediate)."""
    from kpi.paths import read_sql

    return read_sql("intermediate/int_roi_benefit_lines.sql"), read_sql("intermediate/int_roi_parts.sql")


def _parts_params(cfg: Any, estimated: bool) -> dict[str, Any]:
    """The parameters of the parts' SQL for a config (``estimated``: see :func:`load_roi_parts`)."""
    cpe = dict(cfg.benefits.cost_per_error_eur)
    default_cpe = float(cpe.pop("default", 50.0))
    minutes = dict(cfg.benefits.time_saved_minutes_per_interaction) if estimated else {}
    return {
        "program_start": cfg.program.start,
        "baseline_months": int(cfg.program.baseline_months),
        "horizon_months": int(cfg.roi.horizon_months),
        "include_training_time": bool(cfg.benefits.include_training_time),
        "min_group_size": int(cfg.privacy.min_group_size),
        "cost_per_error_process": list(cpe),
        "cost_per_error_eur": [float(v) for v in cpe.values()],
        "default_cost_per_error": default_cpe,
        "minutes_tool": list(minutes),
        "minutes_per_interaction": [float(v) for v in minutes.values()],
    }


def build_monthly_series(con: Any, cfg: Any, estimated: bool = True) -> list[Month]:
    """The monthly series from the warehouse's staging tables and ``intermediate.usage_activity``
    (``sql/intermediate/int_roi_parts.sql`` summed per month by
    ``sql/intermediate/int_roi_monthly_inputs.sql``); ``cfg`` is a :class:`kpi.config.Config`.
    Works on a read-only connection.

    ``estimated=False``: every month's ``estimated_benefits`` is None and the usage is not read
    (:func:`load_roi_parts`); every other field is the same, and so is every figure of
    :func:`summary` but ``cum_estimated_benefits`` (what ``kpi.marts.roi_to_date_pct`` needs)."""
    from kpi.paths import read_sql

    minutes = dict(cfg.benefits.time_saved_minutes_per_interaction) if estimated else {}
    load_roi_parts(con, cfg, estimated)
    cur = con.execute(read_sql("intermediate/int_roi_monthly_inputs.sql"), {"has_minutes": bool(minutes)})
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row)) for row in cur.fetchall()]
    if minutes:  # usage deleted by kpi purge still counts in its months' estimate (kpi/retention.py)
        from kpi.retention import purged_estimated_benefits

        purged = purged_estimated_benefits(con, cfg.program.start, minutes)
        for row in rows:
            if row["m"] in purged:
                row["estimated_benefits"] = (row["estimated_benefits"] or 0.0) + purged[row["m"]]
    return series_from_rows(rows)


#: The table only the estimated benefits read (int_roi_parts.sql joins it to the minutes per
#: interaction, none without the estimate).
_USAGE_TABLE = "intermediate.usage_activity"

#: The series without the estimate by the digest of its inputs (at most one): every quarter of a
#: run reads the same one (kpi.marts.roi_to_date_pct).
_SERIES_WITHOUT_ESTIMATE: dict[str, list[Month]] = {}


def series_without_estimate_digest(con: Any, cfg: Any) -> str:
    """A digest of everything ``build_monthly_series(con, cfg, estimated=False)`` is computed
    from: its three SQL models, their parameters, and every table the models name but the usage
    (which only the estimate reads), each by its row count and the sum of its rows' hashes (as
    kpi.freshness.table_content): one query over a few tens of thousands of rows."""
    import hashlib
    import re

    from kpi.paths import read_sql

    texts = [*_parts_sql(), read_sql("intermediate/int_roi_monthly_inputs.sql")]
    tables = sorted({m.group(0) for text in texts for m in re.finditer(r"\b(?:staging|intermediate)\.\w+", text)}
                    - {_USAGE_TABLE})
    present = {f"{schema}.{name}" for schema, name in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    sums = ", ".join(f"(SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM {table} AS t)"
                     for table in tables if table in present)
    contents = con.execute(f"SELECT {sums}").fetchall()[0] if sums else ()
    parts = [*texts, repr(sorted(_parts_params(cfg, estimated=False).items())),
             repr([t for t in tables if t in present]), repr(contents)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def series_without_estimate(con: Any, cfg: Any) -> list[Month]:
    """``build_monthly_series(con, cfg, estimated=False)``, computed once for the same inputs
    (:func:`series_without_estimate_digest`) however many times it is asked for: a run's quarters
    ask for it one after the other, from unchanged staging tables. Every call checks the digest,
    so changed tables or config give the new series, never a stale one."""
    key = series_without_estimate_digest(con, cfg)
    if key not in _SERIES_WITHOUT_ESTIMATE:
        series = build_monthly_series(con, cfg, estimated=False)
        _SERIES_WITHOUT_ESTIMATE.clear()
        _SERIES_WITHOUT_ESTIMATE[key] = series
    return list(_SERIES_WITHOUT_ESTIMATE[key])


def headcount_at_start(con: Any, start: dt.date) -> int:
    """Employees employed on ``program.start`` (hire_date ≤ start ≤ exit_date or no exit)."""
    rows = con.execute(
        "SELECT count(*) FROM staging.employees "
        "WHERE hire_date <= $start AND (exit_date IS NULL OR exit_date >= $start)",
        {"start": start},
    ).fetchall()
    return int(rows[0][0])
