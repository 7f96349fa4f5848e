"""What the report says, as plain data for the templates: headline cards, the narrative, the
ROI status, and the rows of its tables (labels, changes, texts). Pure functions of
:class:`~kpi.report.collect.ReportData`; no markup (the templates lay it out and escape it).

Templates call these functions as ``view.<name>(d)``.

Every text is in the report's language (:mod:`kpi.report.i18n`): whole sentences are messages with
named placeholders, figures formatted before they fill them. A narrative sentence is ONE message
whose bold parts the translator marks with ``**`` (:func:`_strong`). Constants (SECTIONS' titles,
ROI_MISSING, the label tables) hold English marked with ``N_`` and are translated where shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kpi.report import i18n
from kpi.report.collect import (
    Assumption,
    CompetenceRow,
    Message,
    ReportData,
    Restatement,
    SuppressedRow,
    ToolRow,
    UsageRow,
)
from kpi.report.formatting import (
    DASH,
    MINUS,
    direction,
    fmt_eur,
    fmt_metric,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
    fmt_pts,
    fmt_signed,
    missing,
    month_text,
    number_text,
    process_label,
    segment_label,
)
from kpi.report.i18n import N_, _, ngettext, stored_message
from kpi.report.settings import Settings
from kpi.roi_segments import UNASSIGNED

#: English here (the tests compare with it); shown as _(ROI_MISSING).
ROI_MISSING = N_("ROI tables not built yet: run kpi run")
#: Restatements list this many changed figures per quarter at most.
RESTATEMENTS_SHOWN = 25


@dataclass(frozen=True)
class Section:
    """A section of the page: its anchor (and template ``sections/<id>.html.j2``) and title."""
    id: str
    title: str
    major: bool = False  # starts a new page in print


#: The titles are English (shown as ``_(s.title)``).
SECTIONS = (
    Section("standing", N_("Where we stand")),
    Section("summary", N_("Summary")),
    Section("usage", N_("Usage"), major=True),
    Section("competence", N_("Competence")),
    Section("business", N_("Business")),
    Section("culture", N_("Culture")),
    Section("roi", N_("Return on investment"), major=True),
    Section("alerts", N_("Alerts")),
    Section("restatements", N_("Restatements")),
    Section("quality", N_("Data quality")),
)


def change(now: float | None, before: float | None) -> float | None:
    """now - before, None when either is missing."""
    return None if missing(now) or missing(before) else now - before


def short_number(x: float, grouping: bool = True) -> str:
    """A number with as few digits as it needs (Python's ``:g``: 10.0 -> '10', 7.5 -> '7.5'), in the
    language's separators."""
    text = f"{x:g}"
    if "e" in text or "inf" in text or "nan" in text:
        return text
    digits = len(text.split(".")[1]) if "." in text else 0
    if grouping:
        return fmt_num(x, digits)
    return (MINUS if round(x, digits) < 0 else "") + number_text(abs(x), digits, grouping=False)


def _catalogue():
    """The current language's catalogue: for a message whose bold parts are found before it is filled."""
    return i18n.translations(i18n.current_language())


def _strong(template: str, /, **values: Any) -> list[Fragment]:
    """A translated narrative sentence as fragments: the parts between ``**`` are bold.

    ``template`` is the translated message before its placeholders are filled (``_catalogue().gettext(...)``),
    so the markers are the translator's only: a name from the data that holds ``**`` stays text."""
    return [Fragment(part % values, bool(i % 2)) for i, part in enumerate(template.split("**")) if part]


# --------------------------------------------------------------------------------------------
# The page's head
# --------------------------------------------------------------------------------------------


def page_title(d: ReportData) -> str:
    if d.settings.company:
        return _("%(company)s — AI-training programme, quarterly review %(quarter)s", company=d.settings.company,
                 quarter=d.quarter)
    return _("AI-training programme, quarterly review %(quarter)s", quarter=d.quarter)


def kicker(d: ReportData) -> str:
    return _("%(company)s · quarterly review", company=d.settings.company or _("AI-training programme"))


def status_state(d: ReportData) -> str:
    """The quarter's state: 'open', 'closed', 'closed, restated (version 2)'."""
    if isinstance(d.status, Message):
        state = d.status.values.get("state")
        return str(state if state is not None else d.status)
    return d.status.split(":")[0]


def status_text(d: ReportData) -> str:
    """The quarter's state and what it means."""
    return str(d.status)


def status_sentence(d: ReportData) -> str:
    """The summary's last paragraph: the quarter's status and the rule for small groups."""
    return _("Quarter status: %(status)s. Groups with fewer than %(k)s people are never shown: their cells read "
             "“fewer than %(k)s” and no figure of theirs appears in tables or charts.", status=status_text(d),
             k=d.settings.k)


def meta_line(d: ReportData) -> str:
    return _("Quarter %(quarter)s · %(state)s · generated %(generated)s from %(warehouse)s", quarter=d.quarter,
             state=status_state(d), generated=d.generated_at.strftime("%Y-%m-%d %H:%M"), warehouse=d.warehouse.name)


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


def _month(d: ReportData, m: int | None) -> str:
    """Programme month m as a calendar month ('January 2026'), a dash when unknown."""
    month = d.roi.month_of.get(m) if m is not None else None
    return month_text(month) if month is not None else DASH


def roi_note(d: ReportData) -> str:
    """Why the ROI figures are not the report's quarter's (or missing), in one sentence."""
    return str(d.roi.note) if d.roi.note else _(ROI_MISSING)


def roi_status(d: ReportData, with_month: bool = True) -> str:
    """'Broke even in month 13 (January 2026); payback 12.4 months' or 'Not yet broken even: ...'."""
    r = d.roi
    row = r.row
    if row is None:
        return roi_note(d)
    if row.break_even_month is not None:
        values = {"m": row.break_even_month, "month": _month(d, row.break_even_month)}
        if row.payback_months is not None:
            return _("Broke even in month %(m)s (%(month)s); payback %(payback)s months",
                     payback=fmt_num(row.payback_months, 1), **values)
        return _("Broke even in month %(m)s (%(month)s)", **values)
    if row.cum_costs:
        cover = fmt_pct(row.cum_benefits / row.cum_costs if row.cum_costs > 0 else None, 0)
        if with_month:
            return _("Not yet broken even: cumulative benefits cover %(share)s of costs (as of month %(m)s)",
                     share=cover, m=row.m)
        return _("Not yet broken even: cumulative benefits cover %(share)s of costs", share=cover)
    return _("No programme costs recorded yet")


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


#: The narrative's sentence on the departments and target groups that moved most, by figure and by
#: what moved: (rose and fell, rose only, fell only, none). One message per case: word order differs.
_MOVERS = {
    "active_user_rate": (
        N_("Since %(previous)s, the active-user rate rose most in **%(top)s** (%(top_change)s to %(top_value)s) and "
           "fell most in **%(bottom)s** (%(bottom_change)s to %(bottom_value)s)."),
        N_("Since %(previous)s, the active-user rate rose most in **%(top)s** (%(top_change)s to %(top_value)s)."),
        N_("Since %(previous)s, the active-user rate fell most in **%(bottom)s** (%(bottom_change)s to "
           "%(bottom_value)s)."),
        N_("Since %(previous)s, no department or target group changed its active-user rate."),
    ),
    "skill_score": (
        N_("Since %(previous)s, the skill score rose most in **%(top)s** (%(top_change)s points to %(top_value)s) "
           "and fell most in **%(bottom)s** (%(bottom_change)s points to %(bottom_value)s)."),
        N_("Since %(previous)s, the skill score rose most in **%(top)s** (%(top_change)s points to "
           "%(top_value)s)."),
        N_("Since %(previous)s, the skill score fell most in **%(bottom)s** (%(bottom_change)s points to "
           "%(bottom_value)s)."),
        N_("Since %(previous)s, no department or target group changed its skill score."),
    ),
}


def narrative(d: ReportData) -> list[list[Fragment]]:
    """Sentences written from the figures, each a list of fragments (the bold ones strong).

    Each sentence is ONE message of the catalogue, its bold parts between ``**`` (:func:`_strong`)."""
    s: list[list[Fragment]] = []
    gettext = _catalogue().gettext
    q, p = d.quarter, d.previous
    company = _company(d.usage.table)
    if company and company.active_user_rate is not None:
        values = {"quarter": q, "rate": fmt_pct(company.active_user_rate), "headcount": fmt_num(company.headcount),
                  "previous": p, "regular": fmt_pct(company.regular_user_rate)}
        compared = bool(p and company.prev_active_user_rate is not None)
        if compared:
            values["change"] = fmt_pts(company.active_user_rate - company.prev_active_user_rate)
        if compared and company.regular_user_rate is not None:
            text = gettext("In %(quarter)s, **%(rate)s** of the %(headcount)s employees used an AI tool at least once "
                           "(%(change)s on %(previous)s), and %(regular)s were regular users.")
        elif compared:
            text = gettext("In %(quarter)s, **%(rate)s** of the %(headcount)s employees used an AI tool at least once "
                           "(%(change)s on %(previous)s).")
        elif company.regular_user_rate is not None:
            text = gettext("In %(quarter)s, **%(rate)s** of the %(headcount)s employees used an AI tool at least "
                           "once, and %(regular)s were regular users.")
        else:
            text = gettext("In %(quarter)s, **%(rate)s** of the %(headcount)s employees used an AI tool at least "
                           "once.")
        s.append(_strong(text, **values))
    for metric, prev_metric, rows in (("active_user_rate", "prev_active_user_rate", d.usage.table),
                                      ("skill_score", "prev_skill_score", d.competence.table)):
        movers = _movers(rows, metric, prev_metric)
        if not movers or not p:
            continue
        if metric == "active_user_rate":
            fmt_delta, fmt_value = fmt_pts, fmt_pct
        else:
            def fmt_delta(x: float) -> str:
                return fmt_signed(x, 1)

            def fmt_value(x: float) -> str:
                return fmt_num(x, 1)
        top, bottom = movers[-1], movers[0]
        rose, fell = top[1] > 1e-9, bottom[1] < -1e-9
        both, rose_only, fell_only, neither = _MOVERS[metric]
        template = both if rose and fell else rose_only if rose else fell_only if fell else neither
        s.append(_strong(gettext(template), previous=p,
                         top=top[0], top_change=fmt_delta(top[1]), top_value=fmt_value(top[2]),
                         bottom=bottom[0], bottom_change=fmt_delta(bottom[1]), bottom_value=fmt_value(bottom[2])))
    now = d.business.now
    if now and now.hours_saved is not None:
        savings = (now.time_savings_eur or 0) + (now.quality_savings_eur or 0)
        s.append(_strong(gettext("Measured processes saved **%(hours)s hours** against the baseline in %(quarter)s, "
                                 "worth %(savings)s before attribution."),
                         hours=fmt_num(now.hours_saved), quarter=q, savings=fmt_eur(savings)))
    if d.alerts:
        n = len(d.alerts)
        s.append(_strong(_catalogue().ngettext("**%(num)d alert**: %(alerts)s.", "**%(num)d alerts**: %(alerts)s.", n),
                         num=n, alerts="; ".join(a.report_text(with_quarter=False) for a in d.alerts)))
    else:
        s.append(_strong(gettext("No alerts: no segment's active-user rate fell by more than %(usage)s points and no "
                                 "culture construct's favorability by more than %(culture)s points."),
                         usage=short_number(d.settings.usage_drop_points),
                         culture=short_number(d.settings.culture_drop_points)))
    cu = d.culture
    if cu.wave and cu.company:
        moved = [(r.construct, r.favorability_change, r.favorability_change_low, r.favorability_change_high)
                 for r in cu.company if r.favorability_change is not None]
        if moved:
            top = max(moved, key=lambda x: abs(x[1]))
            clear = top[2] is not None and top[3] is not None and (top[2] > 0 or top[3] < 0)
            values = {"wave": cu.wave, "construct": top[0], "change": fmt_pts(top[1]), "low": fmt_pts(top[2]),
                      "high": fmt_pts(top[3])}
            if clear:
                text = gettext("In the %(wave)s survey the largest change in favorability was for %(construct)s "
                               "(%(change)s, 95 %% interval %(low)s to %(high)s: a clear change).")
            else:
                text = gettext("In the %(wave)s survey the largest change in favorability was for %(construct)s "
                               "(%(change)s, 95 %% interval %(low)s to %(high)s: within the noise of the survey).")
            s.append(_strong(text, **values))
    row = d.roi.row
    if row is not None:
        roi = _("ROI to date %(roi)s", roi=fmt_pct_value(row.roi_pct)) if row.roi_pct is not None else _("no ROI yet")
        values = {"roi": roi, "now": row.m}
        if row.break_even_month is not None:
            values |= {"m": row.break_even_month, "month": _month(d, row.break_even_month)}
            if row.payback_months is not None:
                text = gettext("The programme broke even in month %(m)s (%(month)s); payback %(payback)s months "
                               "(%(roi)s, as of month %(now)s).")
                values["payback"] = fmt_num(row.payback_months, 1)
            else:
                text = gettext("The programme broke even in month %(m)s (%(month)s) (%(roi)s, as of month %(now)s).")
        elif row.cum_costs:
            text = gettext("The programme has not yet broken even: cumulative benefits cover %(share)s of costs "
                           "(%(roi)s, as of month %(now)s).")
            values["share"] = fmt_pct(row.cum_benefits / row.cum_costs if row.cum_costs > 0 else None, 0)
        else:
            text = gettext("No programme costs recorded yet (as of month %(now)s).")
        s.append(_strong(text, **values))
    elif not all(d.roi.have.values()):
        s.append(_strong(gettext("ROI tables not built yet: run kpi run.")))
    return s


def headline_cards(d: ReportData) -> list[Card]:
    """The summary's figures, each with its change against the previous quarter."""
    cards: list[Card] = []
    p = d.previous
    vs = _("vs %(quarter)s", quarter=p) if p else _("no previous quarter")
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
    card(_("Active-user rate"), fmt_pct(get(company, "active_user_rate")), delta, fmt_pts(delta))
    delta = change(get(company, "regular_user_rate"), get(company, "prev_regular_user_rate"))
    card(_("Regular-user rate"), fmt_pct(get(company, "regular_user_rate")), delta, fmt_pts(delta))
    skill = get(comp, "skill_score_to_date")
    delta = change(skill, get(comp, "prev_skill_score_to_date"))
    n, coverage = get(comp, "assessed_ever"), get(comp, "assessment_coverage")
    card(_("Skill score"), _("%(score)s / 100", score=fmt_num(skill, 1)) if skill is not None else fmt_num(skill, 1),
         delta, fmt_signed(delta, 1),
         note=(_("n = %(n)s assessed to date, %(coverage)s of the headcount; %(vs)s", n=fmt_num(n),
                 coverage=fmt_pct(coverage, 0), vs=vs) if n is not None else vs))
    delta = change(get(comp, "trained_share"), get(comp, "prev_trained_share"))
    card(_("Trained share"), fmt_pct(get(comp, "trained_share")), delta, fmt_pts(delta))
    now, before = d.business.now, d.business.before
    hours = get(now, "hours_saved")
    delta = change(hours, get(before, "hours_saved"))
    card(_("Hours saved"), _("%(hours)s h", hours=fmt_num(hours)) if hours is not None else fmt_num(hours), delta,
         _("%(hours)s h", hours=fmt_signed(delta, 0)) if not missing(delta) else DASH)

    def total(r: Any) -> float | None:
        if r is None or (r.time_savings_eur is None and r.quality_savings_eur is None):
            return None
        return (r.time_savings_eur or 0) + (r.quality_savings_eur or 0)

    delta = change(total(now), total(before))
    card(_("Savings (measured)"), fmt_eur(total(now)), delta, fmt_eur(delta, signed=True),
         note=_("%(vs)s; before attribution", vs=vs))
    cu = d.culture
    if cu.wave:
        lines = []
        for r in cu.company:
            if r.favorability_change is not None:
                lines.append(_("%(construct)s %(favorability)s (%(change)s)", construct=r.construct.capitalize(),
                               favorability=fmt_pct(r.favorability, 0), change=fmt_pts(r.favorability_change, 0)))
            else:
                lines.append(_("%(construct)s %(favorability)s", construct=r.construct.capitalize(),
                               favorability=fmt_pct(r.favorability, 0)))
        mean = [r.favorability for r in cu.company if r.favorability is not None]
        card(_("Favorability"), fmt_pct(sum(mean) / len(mean), 0) if mean else DASH, None, "",
             note=ngettext("mean of %(num)d construct, wave %(wave)s", "mean of %(num)d constructs, wave %(wave)s",
                           len(mean), wave=cu.wave), lines=lines)
    else:
        card(_("Favorability"), DASH, None, None, note=_("no survey wave yet"))
    r = d.roi
    row, prev_row = r.row, r.prev_row
    if row is not None:
        delta = change(row.roi_pct, get(prev_row, "roi_pct"))
        card(_("ROI to date"), fmt_pct_value(row.roi_pct), delta,
             _("%(change)s pts", change=fmt_signed(delta, 1)) if not missing(delta) else None,
             note=_("as of month %(m)s; vs month %(previous)s", m=row.m, previous=prev_row.m) if prev_row
             else _("as of month %(m)s", m=row.m))
        if row.payback_months is not None:
            card(_("Payback"), _("%(months)s months", months=fmt_num(row.payback_months, 1)), None, "",
                 note=_("break-even in month %(m)s", m=row.break_even_month))
        else:
            card(_("Payback"), _("not yet"), None, "",
                 note=_("benefits cover %(share)s of costs", share=fmt_pct(row.bcr, 0)) if row.bcr is not None
                 else _("no costs yet"))
    else:
        card(_("ROI to date"), DASH, None, None, note=roi_note(d))
        card(_("Payback"), DASH, None, None, note=roi_note(d))
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


_KINDS = {"department": N_("department"), "target_group": N_("target group")}


def kind_text(segment_type: str) -> str:
    """What kind of segment a line is ('department', 'target group'), '' for the company and others."""
    return _(_KINDS[segment_type]) if segment_type in _KINDS else ""


def _line(row: Any, **changes: float | None) -> SegmentLine:
    return SegmentLine(segment_type=row.segment_type, segment=row.segment,
                       label=segment_label(row.segment_type, row.segment), kind=kind_text(row.segment_type),
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


#: What a training format (trainings.csv, kpi.config.TRAINING_FORMATS) is called on the page.
TRAINING_FORMAT_LABELS = {
    "basics_workshop": N_("Basics workshop"), "usecase_workshop": N_("Use-case workshop"),
    "prompt_masterclass": N_("Prompt masterclass"), "hackathon": N_("Hackathon"),
    "executive_briefing": N_("Executive briefing"), "elearning": N_("E-learning"), "coaching": N_("Coaching"),
    "train_the_trainer": N_("Train the trainer"), "other": N_("Other"),
}


def training_format_label(value: str) -> str:
    """'basics_workshop' -> 'Basics workshop' (in the report's language)."""
    return _(TRAINING_FORMAT_LABELS[value]) if value in TRAINING_FORMAT_LABELS else value.replace("_", " ").capitalize()


def training_lines(d: ReportData) -> list[FormatLine]:
    return [FormatLine("format", r.format, training_format_label(r.format), "", r.suppressed,
                       r.suppression_reason, r) for r in d.learning.training]


def licences_held(d: ReportData) -> bool:
    """Whether any tool has licence data (finance/licenses.csv) in the quarter."""
    return any(r.seats is not None for r in d.usage.licences or [])


def learning_summary(d: ReportData) -> str | None:
    """The company's learning gain in one sentence, or None without one."""
    r = next((r for r in d.learning.gain if r.segment_type == "company" and not r.suppressed), None)
    if r is None or r.gain is None:
        return None
    values = {"people": fmt_num(r.people_with_pre_and_post), "pre": fmt_num(r.pre_mean, 1),
              "post": fmt_num(r.post_mean, 1), "gain": fmt_signed(r.gain, 1), "low": fmt_signed(r.gain_ci_low, 1),
              "high": fmt_signed(r.gain_ci_high, 1), "before": fmt_pct(r.proficient_pre, 0),
              "after": fmt_pct(r.proficient_post, 0)}
    if r.gain_ci_low is not None:
        text = _("Of the %(people)s people assessed before and after their first training, the mean score rose from "
                 "%(pre)s to %(post)s: %(gain)s points (95 %% interval %(low)s to %(high)s); proficient before "
                 "%(before)s, after %(after)s.", **values)
    else:
        text = _("Of the %(people)s people assessed before and after their first training, the mean score rose from "
                 "%(pre)s to %(post)s: %(gain)s points; proficient before %(before)s, after %(after)s.", **values)
    if r.retained_6m is not None:
        text += " " + _("Re-assessed at least six months later (%(people)s people), %(share)s of their gain remained.",
                        people=fmt_num(r.reassessed_6m), share=fmt_pct(r.retained_6m, 0))
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
                         kind=kind_text(segment_type),
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


def _months(value: float | None) -> str:
    """'12.4 months', or 'not yet'."""
    return _("%(months)s months", months=fmt_num(value, 1)) if value is not None else _("not yet")


def roi_figures(d: ReportData) -> list[Figure]:
    """The ROI's key figures as of the report's quarter (empty without an ROI row)."""
    row = d.roi.row
    if row is None:
        return []
    month = d.roi.month_of.get(row.m)
    as_of = (_("months 1–%(m)s (to %(month)s)", m=row.m, month=month_text(month)) if month
             else _("months 1–%(m)s", m=row.m))
    return [
        Figure(_("ROI"), fmt_pct_value(row.roi_pct), as_of),
        Figure(_("Benefit-cost ratio"), fmt_num(row.bcr, 2), _("benefits per € of cost")),
        Figure(_("Payback"), _months(row.payback_months),
               _("break-even month %(m)s", m=row.break_even_month) if row.break_even_month is not None
               else roi_status(d)),
        Figure(_("NPV"), fmt_eur(row.npv), _("discounted payback %(payback)s",
                                              payback=_months(row.discounted_payback_months))),
        Figure(_("Year-1 ROI"), fmt_pct_value(row.year1_roi_pct),
               _("months 1–12") if row.year1_roi_pct is not None else _("needs 12 months of data")),
        Figure(_("Cumulative costs"), fmt_eur(row.cum_costs), _("fully loaded")),
        Figure(_("Cumulative benefits"), fmt_eur(row.cum_benefits),
               _("gross %(gross)s × attribution × confidence", gross=fmt_eur(row.cum_gross_benefits))),
        Figure(_("Break-even attribution"), break_even_attribution_text(row.break_even_attribution, row.roi_pct),
               break_even_attribution_note(row)),
    ]


def break_even_attribution_text(value: float | None, roi_pct: float | None) -> str:
    """The attribution at which the ROI is 0: '0.42', 'none' (negative even at 1), or a dash."""
    if value is not None:
        return fmt_num(value, 2)
    return _("none") if roi_pct is not None else DASH


def break_even_attribution_note(row: Any) -> str:
    """What the break-even attribution means, in one line."""
    year1 = row.year1_break_even_attribution
    values = {"value": fmt_num(row.break_even_attribution, 2), "year1": fmt_num(year1, 2)}
    if row.break_even_attribution is not None:
        if year1 is not None:
            return _("ROI stays positive as long as attribution ≥ %(value)s; year 1: ≥ %(year1)s (confidence and "
                     "the rest as assumed)", **values)
        return _("ROI stays positive as long as attribution ≥ %(value)s (confidence and the rest as assumed)",
                 **values)
    if row.roi_pct is not None:
        if year1 is not None:
            return _("ROI stays negative even at attribution 1; year 1: ≥ %(year1)s (confidence and the rest as "
                     "assumed)", **values)
        return _("ROI stays negative even at attribution 1 (confidence and the rest as assumed)")
    return _("no ROI yet")


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


#: The default scenarios' names on the page (roi.scenarios; a scenario the config adds keeps its name).
SCENARIO_LABELS = {"conservative": N_("Conservative"), "base": N_("Base"), "optimistic": N_("Optimistic")}


def scenario_label(name: str) -> str:
    return _(SCENARIO_LABELS[name]) if name in SCENARIO_LABELS else name.capitalize()


def scenario_lines(d: ReportData) -> list[ScenarioLine]:
    values = d.roi.assumption_values

    def multiplier(name: str, part: str) -> str:
        a = values.get(f"roi.scenarios.{name}.{part}")
        return f"×{short_number(a.value)}" if a and a.value is not None else DASH

    return [ScenarioLine(scenario_label(s.case), multiplier(s.case, "attribution"), multiplier(s.case, "benefits"),
                         multiplier(s.case, "costs"), s.roi_pct, s.npv)
            for s in d.roi.sensitivity if s.assumption == "scenario"]


def configured_attribution(d: ReportData) -> float | None:
    """benefits.attribution as the ROI used it (marts.roi_assumptions)."""
    a = d.roi.assumption_values.get("benefits.attribution")
    return a.value if a is not None else None


#: The outcomes of marts.roi_attribution_estimate on the page.
ATTRIBUTION_OUTCOMES = {"minutes_per_case": N_("Minutes per case"), "error_rate": N_("Error rate")}


def attribution_outcome(outcome: str) -> str:
    return _(ATTRIBUTION_OUTCOMES[outcome]) if outcome in ATTRIBUTION_OUTCOMES else outcome


def attribution_note(note: str | None) -> str:
    """The note stored with an attribution estimate (English, kpi.attribution.NOTES) in the report's
    language."""
    from kpi.attribution import NOTES

    return stored_message(note, NOTES.values(), separator="; ") if note else ""


def measured_sentence(d: ReportData) -> str | None:
    """Configured against measured attribution, in one sentence (None without an estimate table)."""
    rows = d.roi.attribution
    if rows is None:
        return None
    configured = configured_attribution(d)
    main = next((r for r in rows if r.outcome == "minutes_per_case"), None)
    if main is None or main.estimate is None:
        # the reason is the mart's (kpi.attribution writes it, in English)
        why = attribution_note(main.note) if main is not None else _("no estimate")
        if configured is not None:
            return _("The ROI uses the configured attribution %(configured)s; the staggered rollout gives no measured "
                     "estimate (%(why)s).", configured=fmt_num(configured, 2), why=why)
        return _("The ROI uses the configured attribution; the staggered rollout gives no measured estimate "
                 "(%(why)s).", why=why)
    values = {"configured": fmt_num(configured, 2), "share": fmt_pct(main.estimate, 0),
              "low": fmt_pct(main.ci_low, 0), "high": fmt_pct(main.ci_high, 0)}
    if configured is not None:
        return _("The ROI uses the configured attribution %(configured)s; measured from the staggered rollout, the "
                 "training caused %(share)s of the improvement in minutes per case (95 %% interval %(low)s to "
                 "%(high)s). kpi roi --attribution measured recomputes the ROI with it.", **values)
    return _("The ROI uses the configured attribution; measured from the staggered rollout, the training caused "
             "%(share)s of the improvement in minutes per case (95 %% interval %(low)s to %(high)s). kpi roi "
             "--attribution measured recomputes the ROI with it.", **values)


def top_areas(d: ReportData, n: int = 3) -> list[Any]:
    """The n processes with the largest net benefit (marts.roi_by_segment's rank)."""
    return sorted((r for r in d.roi.segments or [] if r.rank), key=lambda r: r.rank)[:n]


def segment_roi_lines(d: ReportData, segment_type: str) -> list[SegmentLine]:
    """The rows of one segment type of marts.roi_by_segment as segment lines."""
    out = []
    for r in d.roi.segments or []:
        if r.segment_type != segment_type:
            continue
        label = r.segment
        if segment_type == "process":  # the costs of departments without a measured process: our row, not data
            label = _("Unassigned") if r.segment == UNASSIGNED else process_label(r.segment)
        out.append(SegmentLine(segment_type=segment_type, segment=r.segment, label=label, kind="",
                               suppressed=r.suppressed, reason=r.suppression_reason, row=r))
    return out


#: The cost categories (kpi.config.COST_CATEGORIES) on the page.
PLAN_LABELS = {"external_training": N_("External training"), "internal_time": N_("Internal time"),
               "licenses": N_("Licenses"), "materials": N_("Materials"), "other": N_("Other")}


def plan_label(category: str) -> str:
    """'external_training' -> 'External training'."""
    return _(PLAN_LABELS[category]) if category in PLAN_LABELS else category.replace("_", " ").capitalize()


def plan_totals(d: ReportData) -> dict[str, float]:
    return {c: sum(getattr(p, c) for p in d.roi.plan) for c in ("plan_eur", "actual_eur", "difference_eur")}


#: Families of assumptions printed as one row (config key prefix -> what it is).
#: (English; shown as ``_(explanation)``.)
ASSUMPTION_FAMILIES = {
    "rates.hourly_cost_eur": N_("Fully loaded hourly cost per target group when HR gives none; values time savings "
                                "and participants' training time."),
    "benefits.cost_per_error_eur": N_("Cost of one error per process (default: any other process); values the "
                                      "errors avoided."),
    "benefits.time_saved_minutes_per_interaction": N_("Estimated minutes saved per interaction and tool: only for "
                                                      "the estimate shown apart, never added to the benefits."),
    "program.budget_split": N_("Share of the plan budget per cost category."),
    "roi.scenarios": N_("Scenario multipliers on attribution · benefits · costs."),
}


def _count(unit: str, value: float) -> str | None:
    """A whole number with a unit of marts.roi_assumptions that counts something ('5 people'), else None."""
    if not float(value).is_integer():
        return None
    n, text = int(value), short_number(value, grouping=False)
    if unit == "people":
        return ngettext("%(value)s person", "%(value)s people", n, value=text)
    if unit == "employees":
        return ngettext("%(value)s employee", "%(value)s employees", n, value=text)
    if unit == "months":
        return ngettext("%(value)s month", "%(value)s months", n, value=text)
    if unit == "minutes":
        return ngettext("%(value)s minute", "%(value)s minutes", n, value=text)
    return None


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
        return AssumptionValue(percent) if short else AssumptionValue(short_number(value), percent)
    if unit == "minutes" and short:
        return AssumptionValue(_("%(minutes)s min", minutes=short_number(value)))
    if unit in ("EUR", "EUR/hour", "EUR/error"):
        amount = fmt_eur(value, 0 if float(value).is_integer() else 2)
        if unit == "EUR/hour":
            return AssumptionValue(_("%(amount)s/h", amount=amount) if short else
                                   _("%(amount)s per hour", amount=amount))
        if unit == "EUR/error" and not short:
            return AssumptionValue(_("%(amount)s per error", amount=amount))
        return AssumptionValue(amount)
    if unit == "multiplier":
        return AssumptionValue(f"×{short_number(value)}")
    if unit == "boolean":
        return AssumptionValue(_("yes") if value else _("no"))
    count = _count(unit, value)
    if count is not None:
        return AssumptionValue(count)
    if unit == "points":
        return AssumptionValue(_("%(value)s points", value=short_number(value, grouping=False)))
    if unit == "minutes":
        return AssumptionValue(_("%(value)s minutes", value=short_number(value, grouping=False)))
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


def explanation_text(a: Assumption) -> str:
    """An assumption's explanation in the report's language (the mart stores it in English)."""
    from kpi.roi_marts import explanation_message

    if not a.explanation:
        return ""
    message, values = explanation_message(a.name, a.explanation)
    return _(message, **values)


#: Members of an assumption family named by our vocabulary (kpi.config: target groups, cost
#: categories, the default, the scenarios), translated; other members (processes, tools) are data.
FAMILY_MEMBERS = (
    N_("executive"), N_("manager"), N_("champion"), N_("user"), N_("default"), N_("external training"),
    N_("internal time"), N_("licenses"), N_("materials"), N_("other"), N_("conservative"), N_("base"),
    N_("optimistic"),
)


def member_label(member: str) -> str:
    """A family member's name as the assumptions table shows it."""
    return _(member) if member in FAMILY_MEMBERS else member


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
        return ", ".join(_(k) if len(counts) == 1 else f"{_(k)} {n}" for k, n in counts.items())

    out = []
    for kind, item in order:
        if kind == "one":
            out.append(AssumptionLine(item.name, explanation_text(item), item.source or "", assumption_value(item)))
            continue
        members = families[item]
        if item == "roi.scenarios":
            by_name: dict[str, list[str]] = {}
            for a in members:
                name, _part = a.name[len(item) + 1:].rsplit(".", 1)
                by_name.setdefault(name, []).append(f"×{short_number(a.value)}" if a.value is not None
                                                    else str(a.value_text))
            entries = tuple((member_label(name), AssumptionValue(" · ".join(parts))) for name, parts in by_name.items())
        else:
            entries = tuple((member_label(a.name[len(item) + 1:].replace("_", " ")), assumption_value(a, short=True))
                            for a in members)
        out.append(AssumptionLine(f"{item}.*", _(ASSUMPTION_FAMILIES[item]), source(members), members=entries))
    return out


# --------------------------------------------------------------------------------------------
# Alerts, restatements, data quality
# --------------------------------------------------------------------------------------------


def alert_rule(s: Settings) -> str:
    return _("A segment alerts when its active-user rate fell by more than %(usage)s percentage points since the "
             "previous quarter; a culture construct when the company's favorability fell by more than %(culture)s "
             "points since the previous wave. Suppressed segments never alert.",
             usage=short_number(s.usage_drop_points), culture=short_number(s.culture_drop_points))


def alert_texts(d: ReportData) -> list[str]:
    """The quarter's alerts, one line each, in the report's language."""
    return [a.report_text() for a in d.alerts]


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
            if c.segment_type != "company":
                seg = _("%(segment)s (%(kind)s)", segment=seg,
                        kind=kind_text(c.segment_type) or c.segment_type.replace("_", " "))
        out.append(RestatedLine(table=c.table.replace("kpi_", ""), row=" · ".join(x for x in (seg, where) if x),
                                metric=c.metric.replace("_", " "), before=fmt_metric(c.metric, c.old),
                                now=fmt_metric(c.metric, c.new)))
    return out


#: The formats of the inputs (kpi.ingest.files) as the data-quality table names them; the folder
#: (usage/, hr/ ...) is shown as it is on disk.
INPUT_FORMATS = (
    N_("process metrics"), N_("use cases"), N_("costs"), N_("licenses"), N_("assessments"), N_("course feedback"),
    N_("employees"), N_("trainings"), N_("survey"), N_("canonical counts"), N_("canonical events"),
)


def input_kind(kind: str) -> str:
    """'usage · m365 copilot' -> 'usage/ · m365 copilot'; a format of ours in the report's language."""
    folder, _sep, name = kind.partition(" · ")
    return f"{folder}/ · {_(name) if name in INPUT_FORMATS else name}" if _sep else kind


QUALITY_TOTALS = ("files", "rows_read", "rows_loaded", "rows_quarantined", "cells_quarantined", "rows_unmatched")


def quality_totals(d: ReportData) -> list[int]:
    """Totals over every input of the columns QUALITY_TOTALS."""
    return [sum(getattr(r, key) or 0 for r in d.quality.manifest) for key in QUALITY_TOTALS]


# --------------------------------------------------------------------------------------------
# Chart captions
# --------------------------------------------------------------------------------------------


#: hidden_caption's first sentence by what was counted (the callers pass the English word).
_HIDDEN_WHAT = {
    "people": N_("Not shown, fewer than %(k)s people: %(groups)s."),
    "active users": N_("Not shown, fewer than %(k)s active users: %(groups)s."),
    "responses": N_("Not shown, fewer than %(k)s responses: %(groups)s."),
}


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
        if len(quarters) == 1:
            text = _("%(name)s in %(quarter)s", name=name, quarter=quarters[0])
        else:
            text = ngettext("%(name)s in %(num)d quarter, %(first)s to %(last)s",
                            "%(name)s in %(num)d quarters, %(first)s to %(last)s", len(quarters), name=name,
                            first=quarters[0], last=quarters[-1])
        (comp if reason == "complementary" else small).append(text)
    parts = []
    if small:
        groups_text = "; ".join(small)
        if what in _HIDDEN_WHAT:
            parts.append(_(_HIDDEN_WHAT[what], k=k, groups=groups_text))
        else:
            parts.append(_("Not shown, fewer than %(k)s %(what)s: %(groups)s.", k=k, what=what, groups=groups_text))
    if comp:
        parts.append(_("Withheld so that a group of fewer than %(k)s cannot be worked out from the total: "
                       "%(groups)s.", k=k, groups="; ".join(comp)))
    return " ".join(parts)
