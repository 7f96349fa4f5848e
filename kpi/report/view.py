"""What the report says, as plain data for the templates: headline cards, the narrative, the
ROI status, and the rows of its tables (labels, changes, texts). Pure functions of
:class:`~kpi.report.collect.ReportData`; no markup (the templates lay it out and escape it).

Templates call these functions as ``view.<name>(d)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kpi.report.collect import (
    Assumption,
    CompetenceRow,
    ReportData,
    Restatement,
    SuppressedRow,
    ToolRow,
    UsageRow,
)
from kpi.report.formatting import (
    DASH,
    direction,
    fmt_eur,
    fmt_metric,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
    fmt_pts,
    fmt_signed,
    missing,
    process_label,
    segment_label,
)
from kpi.report.settings import Settings

ROI_MISSING = "ROI tables not built yet: run kpi run"
#: Restatements list this many changed figures per quarter at most.
RESTATEMENTS_SHOWN = 25


@dataclass(frozen=True)
class Section:
    """A section of the page: its anchor (and template ``sections/<id>.html.j2``) and title."""
    id: str
    title: str
    major: bool = False  # starts a new page in print


SECTIONS = (
    Section("standing", "Where we stand"),
    Section("summary", "Summary"),
    Section("usage", "Usage", major=True),
    Section("competence", "Competence"),
    Section("business", "Business"),
    Section("culture", "Culture"),
    Section("roi", "Return on investment", major=True),
    Section("alerts", "Alerts"),
    Section("restatements", "Restatements"),
    Section("quality", "Data quality"),
)


def change(now: float | None, before: float | None) -> float | None:
    """now - before, None when either is missing."""
    return None if missing(now) or missing(before) else now - before


# --------------------------------------------------------------------------------------------
# Summary: headline cards and narrative
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    delta: str | None  # the change, shown when set
    direction: str  # good | bad | flat
    note: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fragment:
    """A piece of a narrative sentence; strong pieces are set in bold."""
    text: str
    strong: bool = False


def _company(rows: Sequence[Any]) -> Any:
    return next((r for r in rows if r.segment_type == "company"), None)


def roi_status(d: ReportData, with_month: bool = True) -> str:
    """'Broke even in month 13 (January 2026); payback 12.4 months' or 'Not yet broken even: ...'."""
    r = d.roi
    row = r.row
    if row is None:
        return r.note or ROI_MISSING
    if row.break_even_month is not None:
        month = r.month_of.get(row.break_even_month)
        text = f"Broke even in month {row.break_even_month} ({month:%B %Y})"
        if row.payback_months is not None:
            text += f"; payback {row.payback_months:.1f} months"
        return text
    if row.cum_costs:
        cover = row.cum_benefits / row.cum_costs if row.cum_costs > 0 else None
        return (f"Not yet broken even: cumulative benefits cover {fmt_pct(cover, 0)} of costs"
                + (f" (as of month {row.m})" if with_month else ""))
    return "No programme costs recorded yet"


def _movers(rows: Sequence[Any], metric: str, prev_metric: str) -> list[tuple[str, float, float]]:
    """(label, change, value) of the departments and target groups shown, smallest change first."""
    out = []
    for r in rows:
        if r.segment_type not in ("department", "target_group") or r.suppressed:
            continue
        now, before = getattr(r, metric), getattr(r, prev_metric)
        if now is None or before is None:
            continue
        out.append((segment_label(r.segment_type, r.segment), now - before, now))
    return sorted(out, key=lambda x: x[1])


def narrative(d: ReportData) -> list[list[Fragment]]:
    """Sentences written from the figures, each a list of fragments."""
    s: list[list[Fragment]] = []
    q, p = d.quarter, d.previous
    company = _company(d.usage.table)
    if company and company.active_user_rate is not None:
        text = f" of the {company.headcount:,} employees used an AI tool at least once"
        if p and company.prev_active_user_rate is not None:
            text += f" ({fmt_pts(company.active_user_rate - company.prev_active_user_rate)} on {p})"
        if company.regular_user_rate is not None:
            text += f", and {fmt_pct(company.regular_user_rate)} were regular users"
        s.append([Fragment(f"In {q}, "), Fragment(fmt_pct(company.active_user_rate), True), Fragment(text + ".")])
    for metric, prev_metric, what, rows in (
            ("active_user_rate", "prev_active_user_rate", "active-user rate", d.usage.table),
            ("skill_score", "prev_skill_score", "skill score", d.competence.table)):
        movers = _movers(rows, metric, prev_metric)
        if not movers or not p:
            continue
        if metric == "active_user_rate":
            fmt_delta, fmt_value = fmt_pts, fmt_pct
        else:
            def fmt_delta(x: float) -> str:
                return fmt_signed(x, 1, " points")

            def fmt_value(x: float) -> str:
                return f"{x:.1f}"
        top, bottom = movers[-1], movers[0]
        parts: list[list[Fragment]] = []
        if top[1] > 1e-9:
            parts.append([Fragment("rose most in "), Fragment(top[0], True),
                          Fragment(f" ({fmt_delta(top[1])} to {fmt_value(top[2])})")])
        if bottom[1] < -1e-9:
            parts.append([Fragment("fell most in "), Fragment(bottom[0], True),
                          Fragment(f" ({fmt_delta(bottom[1])} to {fmt_value(bottom[2])})")])
        if parts:
            sentence = [Fragment(f"Since {p}, the {what} ")]
            for i, part in enumerate(parts):
                sentence += ([Fragment(" and ")] if i else []) + part
            s.append(sentence + [Fragment(".")])
        else:
            s.append([Fragment(f"Since {p}, no department or target group changed its {what}.")])
    now = d.business.now
    if now and now.hours_saved is not None:
        savings = (now.time_savings_eur or 0) + (now.quality_savings_eur or 0)
        s.append([Fragment("Measured processes saved "), Fragment(f"{fmt_num(now.hours_saved)} hours", True),
                  Fragment(f" against the baseline in {q}, worth {fmt_eur(savings)} before attribution.")])
    if d.alerts:
        n = len(d.alerts)
        s.append([Fragment(f"{n} alert{'s' if n > 1 else ''}", True),
                  Fragment(": " + "; ".join(a.describe().split(": ", 1)[1] for a in d.alerts) + ".")])
    else:
        s.append([Fragment(f"No alerts: no segment's active-user rate fell by more than "
                           f"{d.settings.usage_drop_points:g} points and no culture construct's favorability by "
                           f"more than {d.settings.culture_drop_points:g} points.")])
    cu = d.culture
    if cu.wave and cu.company:
        moved = [(r.construct, r.favorability_change, r.favorability_change_low, r.favorability_change_high)
                 for r in cu.company if r.favorability_change is not None]
        if moved:
            top = max(moved, key=lambda x: abs(x[1]))
            clear = top[2] is not None and top[3] is not None and (top[2] > 0 or top[3] < 0)
            s.append([Fragment(f"In the {cu.wave} survey the largest change in favorability was for {top[0]} "
                               f"({fmt_pts(top[1])}, 95 % interval {fmt_pts(top[2])} to {fmt_pts(top[3])}: "
                               f"{'a clear change' if clear else 'within the noise of the survey'}).")])
    row = d.roi.row
    if row is not None:
        status = roi_status(d, with_month=False)
        roi = f"ROI to date {fmt_pct_value(row.roi_pct)}" if row.roi_pct is not None else "no ROI yet"
        if row.break_even_month is not None or status.startswith("Not yet"):
            verb = "" if row.break_even_month is not None else "has "
            s.append([Fragment(f"The programme {verb}{status[0].lower()}{status[1:]} ({roi}, as of month {row.m}).")])
        else:
            s.append([Fragment(f"{status} (as of month {row.m}).")])
    elif not all(d.roi.have.values()):
        s.append([Fragment(ROI_MISSING + ".")])
    return s


def headline_cards(d: ReportData) -> list[Card]:
    """The summary's figures, each with its change against the previous quarter."""
    cards: list[Card] = []
    p = d.previous
    vs = f"vs {p}" if p else "no previous quarter"
    company: UsageRow | None = _company(d.usage.table)
    comp: CompetenceRow | None = _company(d.competence.table)

    def card(label: str, value: str, delta: float | None = None, delta_text: str | None = None,
             good_when_up: bool = True, note: str | None = None, lines: Sequence[str] = ()) -> None:
        text = delta_text if delta_text is not None else DASH
        cards.append(Card(label=label, value=value, delta=text if text and text != DASH else None,
                          direction=direction(delta, good_when_up), note=note or vs, lines=tuple(lines)))

    def get(row: Any, name: str) -> Any:
        return getattr(row, name) if row is not None else None

    delta = change(get(company, "active_user_rate"), get(company, "prev_active_user_rate"))
    card("Active-user rate", fmt_pct(get(company, "active_user_rate")), delta, fmt_pts(delta))
    delta = change(get(company, "regular_user_rate"), get(company, "prev_regular_user_rate"))
    card("Regular-user rate", fmt_pct(get(company, "regular_user_rate")), delta, fmt_pts(delta))
    skill = get(comp, "skill_score_to_date")
    delta = change(skill, get(comp, "prev_skill_score_to_date"))
    n, coverage = get(comp, "assessed_ever"), get(comp, "assessment_coverage")
    card("Skill score", fmt_num(skill, 1) + (" / 100" if skill is not None else ""), delta, fmt_signed(delta, 1),
         note=(f"n = {fmt_num(n)} assessed to date, {fmt_pct(coverage, 0)} of the headcount; {vs}"
               if n is not None else vs))
    delta = change(get(comp, "trained_share"), get(comp, "prev_trained_share"))
    card("Trained share", fmt_pct(get(comp, "trained_share")), delta, fmt_pts(delta))
    now, before = d.business.now, d.business.before
    hours = get(now, "hours_saved")
    delta = change(hours, get(before, "hours_saved"))
    card("Hours saved", fmt_num(hours) + (" h" if hours is not None else ""), delta, fmt_signed(delta, 0, " h"))

    def total(r: Any) -> float | None:
        if r is None or (r.time_savings_eur is None and r.quality_savings_eur is None):
            return None
        return (r.time_savings_eur or 0) + (r.quality_savings_eur or 0)

    delta = change(total(now), total(before))
    card("Savings (measured)", fmt_eur(total(now)), delta, fmt_eur(delta, signed=True),
         note=f"{vs}; before attribution")
    cu = d.culture
    if cu.wave:
        lines = []
        for r in cu.company:
            lines.append(f"{r.construct.capitalize()} {fmt_pct(r.favorability, 0)}"
                         + (f" ({fmt_pts(r.favorability_change, 0)})" if r.favorability_change is not None else ""))
        mean = [r.favorability for r in cu.company if r.favorability is not None]
        card("Favorability", fmt_pct(sum(mean) / len(mean), 0) if mean else DASH, None, "",
             note=f"mean of {len(mean)} constructs, wave {cu.wave}", lines=lines)
    else:
        card("Favorability", DASH, None, None, note="no survey wave yet")
    r = d.roi
    row, prev_row = r.row, r.prev_row
    if row is not None:
        delta = change(row.roi_pct, get(prev_row, "roi_pct"))
        card("ROI to date", fmt_pct_value(row.roi_pct), delta,
             fmt_signed(delta, 1, " pts") if delta is not None else None,
             note=f"as of month {row.m}" + (f"; vs month {prev_row.m}" if prev_row else ""))
        if row.payback_months is not None:
            card("Payback", f"{row.payback_months:.1f} months", None, "",
                 note=f"break-even in month {row.break_even_month}")
        else:
            card("Payback", "not yet", None, "",
                 note=f"benefits cover {fmt_pct(row.bcr, 0)} of costs" if row.bcr is not None else "no costs yet")
    else:
        card("ROI to date", DASH, None, None, note=r.note or ROI_MISSING)
        card("Payback", DASH, None, None, note=r.note or ROI_MISSING)
    return cards


# --------------------------------------------------------------------------------------------
# Segment tables (usage, tools, competence, culture)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentLine:
    """A row of a segment table: who it is, and its figures unless it is suppressed.

    ``row`` is the mart's row (a suppressed row's figures are all None); ``changes`` the changes
    against the previous quarter, by figure."""
    segment_type: str
    segment: str
    label: str
    kind: str  # shown under the label: 'department', 'target group' or ''
    suppressed: bool
    reason: str | None
    row: Any = None
    changes: dict[str, float | None] = field(default_factory=dict)


_KINDS = {"department": "department", "target_group": "target group"}


def _line(row: Any, **changes: float | None) -> SegmentLine:
    return SegmentLine(segment_type=row.segment_type, segment=row.segment,
                       label=segment_label(row.segment_type, row.segment), kind=_KINDS.get(row.segment_type, ""),
                       suppressed=row.suppressed, reason=row.suppression_reason, row=row, changes=changes)


def usage_lines(d: ReportData) -> list[SegmentLine]:
    return [_line(r, active_user_rate=change(r.active_user_rate, r.prev_active_user_rate),
                  regular_user_rate=change(r.regular_user_rate, r.prev_regular_user_rate))
            for r in d.usage.table]


def _tool_change(r: ToolRow) -> float | None:
    return None if r.prev_active_users is None else change(r.active_users, r.prev_active_users)


def tool_lines(d: ReportData) -> list[SegmentLine]:
    """Tools are named as the usage data names them."""
    return [SegmentLine(segment_type="tool", segment=r.segment, label=r.segment, kind="", suppressed=r.suppressed,
                        reason=r.suppression_reason, row=r, changes={"active_users": _tool_change(r)})
            for r in d.usage.tool_table]


def competence_lines(d: ReportData) -> list[SegmentLine]:
    return [_line(r, skill_score=change(r.skill_score, r.prev_skill_score),
                  trained_share=change(r.trained_share, r.prev_trained_share))
            for r in d.competence.table]


def retention_lines(d: ReportData) -> list[SegmentLine]:
    """Trained and untrained people's leaver rate by segment (marts.kpi_retention)."""
    return [_line(r) for r in d.business.retention or []]


def csat_processes(d: ReportData) -> list[Any]:
    """The processes with a customer-satisfaction figure in the quarter or the baseline."""
    return [r for r in d.business.processes if r.csat is not None or r.baseline_csat is not None]


def learning_lines(d: ReportData) -> list[SegmentLine]:
    """The learning gain by segment (marts.kpi_learning)."""
    return [_line(r) for r in d.learning.gain]


@dataclass(frozen=True)
class FormatLine:
    """A company row of the training table, shaped like a segment line (the format is its label)."""
    segment_type: str
    segment: str
    label: str
    kind: str
    suppressed: bool
    reason: str | None
    row: Any


def training_lines(d: ReportData) -> list[FormatLine]:
    return [FormatLine("format", r.format, r.format.replace("_", " ").capitalize(), "", r.suppressed,
                       r.suppression_reason, r) for r in d.learning.training]


def licences_held(d: ReportData) -> bool:
    """Whether any tool has licence data (finance/licenses.csv) in the quarter."""
    return any(r.seats is not None for r in d.usage.licences or [])


def learning_summary(d: ReportData) -> str | None:
    """The company's learning gain in one sentence, or None without one."""
    r = next((r for r in d.learning.gain if r.segment_type == "company" and not r.suppressed), None)
    if r is None or r.gain is None:
        return None
    text = (f"Of the {fmt_num(r.people_with_pre_and_post)} people assessed before and after their first training, "
            f"the mean score rose from {fmt_num(r.pre_mean, 1)} to {fmt_num(r.post_mean, 1)}: "
            f"{fmt_signed(r.gain, 1)} points")
    if r.gain_ci_low is not None:
        text += f" (95 % interval {fmt_signed(r.gain_ci_low, 1)} to {fmt_signed(r.gain_ci_high, 1)})"
    text += f"; proficient before {fmt_pct(r.proficient_pre, 0)}, after {fmt_pct(r.proficient_post, 0)}."
    if r.retained_6m is not None:
        text += (f" Re-assessed at least six months later ({fmt_num(r.reassessed_6m)} people), "
                 f"{fmt_pct(r.retained_6m, 0)} of their gain remained.")
    return text


@dataclass(frozen=True)
class CultureMatrix:
    constructs: list[str]
    #: one line per segment; ``row`` maps each construct to its cell (None: no cell)
    lines: list[SegmentLine]

    @property
    def headers(self) -> list[tuple[str, str]]:
        """(text, class) of the constructs' columns."""
        return [(c.capitalize(), "num") for c in self.constructs]


def culture_matrix(d: ReportData) -> CultureMatrix:
    """Favorability by segment (rows) and construct (columns) in the latest wave. A line is marked
    suppressed when any of its cells is; each cell carries its own suppression."""
    cells = d.culture.cells
    constructs = sorted({c.construct for c in cells})
    segments: dict[tuple[str, str], dict[str, Any]] = {}
    for c in cells:
        segments.setdefault((c.segment_type, c.segment), {})[c.construct] = c
    lines = [SegmentLine(segment_type=segment_type, segment=segment, label=segment_label(segment_type, segment),
                         kind=_KINDS.get(segment_type, ""),
                         suppressed=any(c.suppressed for c in by_construct.values()), reason=None,
                         row={construct: by_construct.get(construct) for construct in constructs})
             for (segment_type, segment), by_construct in segments.items()]
    return CultureMatrix(constructs=constructs, lines=lines)


def culture_baseline_wave(d: ReportData) -> str | None:
    """The wave the company rows are compared with as the baseline, when there is one."""
    return next((r.baseline_wave for r in d.culture.company if r.baseline_wave), None)


def culture_response_rate(d: ReportData) -> float | None:
    """The company's response rate in the latest wave."""
    return next((r.response_rate for r in d.culture.company if r.response_rate is not None), None)


# --------------------------------------------------------------------------------------------
# ROI
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    note: str


def roi_figures(d: ReportData) -> list[Figure]:
    """The ROI's key figures as of the report's quarter (empty without an ROI row)."""
    row = d.roi.row
    if row is None:
        return []
    payback = f"{row.payback_months:.1f} months" if row.payback_months is not None else "not yet"
    dpayback = (f"{row.discounted_payback_months:.1f} months"
                if row.discounted_payback_months is not None else "not yet")
    month = d.roi.month_of.get(row.m)
    as_of = f"months 1–{row.m} (to {month:%B %Y})" if month else f"months 1–{row.m}"
    return [
        Figure("ROI", fmt_pct_value(row.roi_pct), as_of),
        Figure("Benefit-cost ratio", fmt_num(row.bcr, 2), "benefits per € of cost"),
        Figure("Payback", payback, f"break-even month {row.break_even_month}"
               if row.break_even_month is not None else roi_status(d)),
        Figure("NPV", fmt_eur(row.npv), f"discounted payback {dpayback}"),
        Figure("Year-1 ROI", fmt_pct_value(row.year1_roi_pct),
               "months 1–12" if row.year1_roi_pct is not None else "needs 12 months of data"),
        Figure("Cumulative costs", fmt_eur(row.cum_costs), "fully loaded"),
        Figure("Cumulative benefits", fmt_eur(row.cum_benefits),
               f"gross {fmt_eur(row.cum_gross_benefits)} × attribution × confidence"),
        Figure("Break-even attribution", break_even_attribution_text(row.break_even_attribution, row.roi_pct),
               break_even_attribution_note(row)),
    ]


def break_even_attribution_text(value: float | None, roi_pct: float | None) -> str:
    """The attribution at which the ROI is 0: '0.42', 'none' (negative even at 1), or a dash."""
    if value is not None:
        return fmt_num(value, 2)
    return "none" if roi_pct is not None else DASH


def break_even_attribution_note(row: Any) -> str:
    """What the break-even attribution means, in one line."""
    if row.break_even_attribution is not None:
        text = f"ROI stays positive as long as attribution ≥ {fmt_num(row.break_even_attribution, 2)}"
    elif row.roi_pct is not None:
        text = "ROI stays negative even at attribution 1"
    else:
        return "no ROI yet"
    if row.year1_break_even_attribution is not None:
        text += f"; year 1: ≥ {fmt_num(row.year1_break_even_attribution, 2)}"
    return text + " (confidence and the rest as assumed)"


@dataclass(frozen=True)
class Estimate:
    """Time saved estimated from tool interactions: shown apart, never part of the ROI."""
    total_eur: float | None
    to_month: int | str  # months 1 to this one ('' without an ROI row)
    quarter_hours: float | None  # in the report's quarter (None: not estimated)
    quarter_eur: float | None


def roi_estimate(d: ReportData) -> Estimate | None:
    """None when no per-tool minutes are configured (no month has an estimate)."""
    total, months = d.roi.estimated or (None, 0)
    if not months:
        return None
    now = d.business.now
    return Estimate(total_eur=total, to_month=d.roi.row.m if d.roi.row else "",
                    quarter_hours=now.estimated_hours_saved if now else None,
                    quarter_eur=now.estimated_savings_eur if now else None)


@dataclass(frozen=True)
class ScenarioLine:
    name: str
    attribution: str  # multipliers: '×0.8', or a dash
    benefits: str
    costs: str
    roi_pct: float | None
    npv: float


def scenario_lines(d: ReportData) -> list[ScenarioLine]:
    values = d.roi.assumption_values

    def multiplier(name: str, part: str) -> str:
        a = values.get(f"roi.scenarios.{name}.{part}")
        return f"×{a.value:g}" if a and a.value is not None else DASH

    return [ScenarioLine(s.case.capitalize(), multiplier(s.case, "attribution"), multiplier(s.case, "benefits"),
                         multiplier(s.case, "costs"), s.roi_pct, s.npv)
            for s in d.roi.sensitivity if s.assumption == "scenario"]


def configured_attribution(d: ReportData) -> float | None:
    """benefits.attribution as the ROI used it (marts.roi_assumptions)."""
    a = d.roi.assumption_values.get("benefits.attribution")
    return a.value if a is not None else None


def attribution_outcome(outcome: str) -> str:
    return {"minutes_per_case": "Minutes per case", "error_rate": "Error rate"}.get(outcome, outcome)


def measured_sentence(d: ReportData) -> str | None:
    """Configured against measured attribution, in one sentence (None without an estimate table)."""
    rows = d.roi.attribution
    if rows is None:
        return None
    configured = configured_attribution(d)
    main = next((r for r in rows if r.outcome == "minutes_per_case"), None)
    conf = f"The ROI uses the configured attribution {fmt_num(configured, 2)}" if configured is not None else \
        "The ROI uses the configured attribution"
    if main is None or main.estimate is None:
        why = main.note if main is not None else "no estimate"
        return f"{conf}; the staggered rollout gives no measured estimate ({why})."
    return (f"{conf}; measured from the staggered rollout, the training caused {fmt_pct(main.estimate, 0)} of the "
            f"improvement in minutes per case (95 % interval {fmt_pct(main.ci_low, 0)} to {fmt_pct(main.ci_high, 0)}). "
            "kpi roi --attribution measured recomputes the ROI with it.")


def top_areas(d: ReportData, n: int = 3) -> list[Any]:
    """The n processes with the largest net benefit (marts.roi_by_segment's rank)."""
    return sorted((r for r in d.roi.segments or [] if r.rank), key=lambda r: r.rank)[:n]


def segment_roi_lines(d: ReportData, segment_type: str) -> list[SegmentLine]:
    """The rows of one segment type of marts.roi_by_segment as segment lines."""
    out = []
    for r in d.roi.segments or []:
        if r.segment_type != segment_type:
            continue
        label = process_label(r.segment) if segment_type == "process" else r.segment
        out.append(SegmentLine(segment_type=segment_type, segment=r.segment, label=label, kind="",
                               suppressed=r.suppressed, reason=r.suppression_reason, row=r))
    return out


def plan_label(category: str) -> str:
    """'external_training' -> 'External training'."""
    return category.replace("_", " ").capitalize()


def plan_totals(d: ReportData) -> dict[str, float]:
    return {c: sum(getattr(p, c) for p in d.roi.plan) for c in ("plan_eur", "actual_eur", "difference_eur")}


#: Families of assumptions printed as one row (config key prefix -> what it is).
ASSUMPTION_FAMILIES = {
    "rates.hourly_cost_eur": "Fully loaded hourly cost per target group when HR gives none; values time savings "
                             "and participants' training time.",
    "benefits.cost_per_error_eur": "Cost of one error per process (default: any other process); values the errors "
                                   "avoided.",
    "benefits.time_saved_minutes_per_interaction": "Estimated minutes saved per interaction and tool: only for the "
                                                   "estimate shown apart, never added to the benefits.",
    "program.budget_split": "Share of the plan budget per cost category.",
    "roi.scenarios": "Scenario multipliers on attribution · benefits · costs.",
}


@dataclass(frozen=True)
class AssumptionValue:
    text: str
    note: str | None = None  # shown muted in brackets after the value: the fraction as a percent


def assumption_value(a: Assumption, short: bool = False) -> AssumptionValue:
    """How an assumption's value is printed: 0.3 (30 %), €65 per hour, ×1.2, yes; ``short`` in a
    family's list (30 %, €65/h)."""
    unit, value, text = a.unit or "", a.value, a.value_text or ""
    if value is None:
        return AssumptionValue(text)
    if unit == "fraction":
        percent = fmt_pct(value, 1 if value * 100 % 1 else 0)
        return AssumptionValue(percent) if short else AssumptionValue(f"{value:g}", percent)
    if unit == "minutes" and short:
        return AssumptionValue(f"{value:g} min")
    if unit in ("EUR", "EUR/hour", "EUR/error"):
        suffix = {"EUR": "", "EUR/hour": "/h" if short else " per hour",
                  "EUR/error": "" if short else " per error"}[unit]
        return AssumptionValue(fmt_eur(value, 0 if float(value).is_integer() else 2) + suffix)
    if unit == "multiplier":
        return AssumptionValue(f"×{value:g}")
    if unit == "boolean":
        return AssumptionValue("yes" if value else "no")
    return AssumptionValue(f"{text} {unit}".strip())


@dataclass(frozen=True)
class AssumptionLine:
    """One assumption, or a family of them (``name`` ends in '.*') with one value per member."""
    name: str
    explanation: str
    source: str
    value: AssumptionValue | None = None  # a single assumption
    members: tuple[tuple[str, AssumptionValue], ...] = ()  # a family: (member, value)

    @property
    def family(self) -> bool:
        return self.value is None


def assumption_lines(assumptions: Sequence[Assumption]) -> list[AssumptionLine]:
    """One line per assumption; the members of a family (hourly cost per group, cost per error per
    process, scenarios …) share a line, one entry each, so that every value is printed compactly."""
    families: dict[str, list[Assumption]] = {}
    order: list[tuple[str, Any]] = []
    for a in assumptions:
        family = next((f for f in ASSUMPTION_FAMILIES if a.name.startswith(f + ".")), None)
        if family is None:
            order.append(("one", a))
        else:
            if family not in families:
                order.append(("family", family))
            families.setdefault(family, []).append(a)

    def source(items: list[Assumption]) -> str:
        counts: dict[str, int] = {}
        for a in items:
            counts[a.source or ""] = counts.get(a.source or "", 0) + 1
        return ", ".join(k if len(counts) == 1 else f"{k} {n}" for k, n in counts.items())

    out = []
    for kind, item in order:
        if kind == "one":
            out.append(AssumptionLine(item.name, item.explanation or "", item.source or "", assumption_value(item)))
            continue
        members = families[item]
        if item == "roi.scenarios":
            by_name: dict[str, list[str]] = {}
            for a in members:
                name, _part = a.name[len(item) + 1:].rsplit(".", 1)
                by_name.setdefault(name, []).append(f"×{a.value:g}" if a.value is not None else str(a.value_text))
            entries = tuple((name, AssumptionValue(" · ".join(parts))) for name, parts in by_name.items())
        else:
            entries = tuple((a.name[len(item) + 1:].replace("_", " "), assumption_value(a, short=True))
                            for a in members)
        out.append(AssumptionLine(f"{item}.*", ASSUMPTION_FAMILIES[item], source(members), members=entries))
    return out


# --------------------------------------------------------------------------------------------
# Alerts, restatements, data quality
# --------------------------------------------------------------------------------------------


def alert_rule(s: Settings) -> str:
    return (f"A segment alerts when its active-user rate fell by more than {s.usage_drop_points:g} percentage points "
            f"since the previous quarter; a culture construct when the company's favorability fell by more than "
            f"{s.culture_drop_points:g} points since the previous wave. Suppressed segments never alert.")


@dataclass(frozen=True)
class RestatedLine:
    table: str
    row: str
    metric: str
    before: str
    now: str


def restated_lines(item: Restatement) -> list[RestatedLine]:
    """The first RESTATEMENTS_SHOWN changed figures of a restated quarter."""
    out = []
    for c in item.changes[:RESTATEMENTS_SHOWN]:
        where = " / ".join(x for x in (c.construct, c.process, c.department) if x)
        seg = ""
        if c.segment_type:
            seg = segment_label(c.segment_type, c.segment)
            seg += f" ({c.segment_type.replace('_', ' ')})" if c.segment_type != "company" else ""
        out.append(RestatedLine(table=c.table.replace("kpi_", ""), row=" · ".join(x for x in (seg, where) if x),
                                metric=c.metric.replace("_", " "), before=fmt_metric(c.metric, c.old),
                                now=fmt_metric(c.metric, c.new)))
    return out


QUALITY_TOTALS = ("files", "rows_read", "rows_loaded", "rows_quarantined", "cells_quarantined", "rows_unmatched")


def quality_totals(d: ReportData) -> list[int]:
    """Totals over every input of the columns QUALITY_TOTALS."""
    return [sum(getattr(r, key) or 0 for r in d.quality.manifest) for key in QUALITY_TOTALS]


# --------------------------------------------------------------------------------------------
# Chart captions
# --------------------------------------------------------------------------------------------


def hidden_caption(hidden: Sequence[SuppressedRow], k: int, what: str, with_construct: bool = False) -> str:
    """'Not shown, fewer than 5 people: Executive in 8 quarters, 2024-Q4 to 2026-Q3; ...' — names,
    no figures."""
    if not hidden:
        return ""
    groups: dict[tuple, list[str]] = {}
    for h in hidden:
        key = (h.segment_type, h.segment, h.construct if with_construct else None, h.suppression_reason)
        groups.setdefault(key, []).append(h.quarter)
    small, comp = [], []
    for (segment_type, segment, construct, reason), quarters in groups.items():
        name = segment_label(segment_type, segment) + (f" ({construct})" if construct else "")
        span = quarters[0] if len(quarters) == 1 else f"{len(quarters)} quarters, {quarters[0]} to {quarters[-1]}"
        (comp if reason == "complementary" else small).append(f"{name} in {span}")
    parts = []
    if small:
        parts.append(f"Not shown, fewer than {k} {what}: " + "; ".join(small) + ".")
    if comp:
        parts.append(f"Withheld so that a group of fewer than {k} cannot be worked out from the total: "
                     + "; ".join(comp) + ".")
    return " ".join(parts)
