"""Where we stand (issue 13): maturity, champions, the 90-day rollout, targets and benchmarks.

One model, read with the queries ``sql/report/standing_*.sql`` from the published marts, shown
twice: as the first section of the quarterly report (``templates/sections/standing.html.j2``)
and in the terminal by ``kpi status`` (:func:`status_text`). Figures are never recomputed here;
a suppressed row carries its reason and no figure, and the texts below only name what the marts
publish. This module imports no heavy library: ``kpi status`` must answer in well under a second.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kpi.report.formatting import (
    DASH,
    MINUS,
    fmt_eur,
    fmt_num,
    fmt_pct,
    number_text,
    percent_sign,
    process_label,
    segment_label,
    suppression_text,
)
from kpi.report.i18n import N_, _, current_language, ngettext

STANDING_TABLES = ("marts.kpi_maturity", "marts.kpi_champions", "marts.rollout_milestones", "marts.kpi_targets",
                   "marts.roi_benchmarks")
MISSING = "not built yet: run kpi run"  # the terminal's (kpi status); the report has its own sentences

# --------------------------------------------------------------------------------------------
# English texts stored in the warehouse, for the catalogue (the marts keep them in English; the
# report shows them with stored_text). A test checks each list against where the texts are defined.
# --------------------------------------------------------------------------------------------

#: marts.kpi_maturity.level_name (sql/marts/kpi_maturity.sql), levels 1 to 4.
LEVEL_NAMES = (N_("AI novice"), N_("AI experimenter"), N_("AI user"), N_("AI champion"))
#: marts.rollout_milestones.phase (kpi.config.ROLLOUT_PHASES) and the default milestones' names
#: (kpi.config's default rollout:; a milestone configured under another name is shown as it is).
ROLLOUT_PHASE_NAMES = (N_("Foundation"), N_("Activation"), N_("Scaling"))
DEFAULT_MILESTONE_NAMES = (
    N_("executives and managers briefed"),
    N_("champions through train-the-trainer"),
    N_("pilot group active"),
    N_("users through the basics training"),
    N_("first self-developed use case in production"),
    N_("advanced training for key users"),
    N_("first ROI analysis"),
)
#: The benchmarks' sources (kpi.benchmarks: marts.kpi_targets.source, marts.roi_benchmarks.source),
#: as msgids: a literal percent sign is %% here and % in the stored text.
BENCHMARK_SOURCES = (
    N_("Brixon AI article, case of a 180-employee manufacturer: 83 %% regular users six months after the start"),
    N_("Brixon AI article, case of a mid-sized B2B service provider: 84 %% adoption across departments"),
    N_("Bain & Company (2024) in the Brixon AI article: industry average adoption"),
    N_("Boston Consulting Group (2024) in the Brixon AI article: €3.40 back per € within 12 months"),
    N_("Deloitte (2024) in the Brixon AI article: break-even typically after 4-5 months"),
    N_("Brixon AI article: about €1,000 per employee in year one, typically recovered within 6-12 months"),
    N_("Boston Consulting Group (2024) in the Brixon AI article: 26-41 %% time saved on routine tasks"),
    N_("Boston Consulting Group (2024) in the Brixon AI article: 22 %% fewer errors in quote and contract drafting"),
)


def as_text(message: Any) -> str:
    """A message translated in a template (Jinja's ``_()`` gives markup) used as a value, such as a
    table's caption: plain text again, escaped where it is shown like every other value."""
    return str(message)


#: staging.use_cases.status (kpi.config.USE_CASE_STATUSES) in words (English; use_case_status translates).
USE_CASE_STATUS = {"idea": N_("idea"), "pilot": N_("pilot"), "production": N_("production"), "retired": N_("retired")}


def use_case_status(status: str | None) -> str:
    return _(USE_CASE_STATUS[status]) if status in USE_CASE_STATUS else (status or DASH)


def code(text: str) -> Any:
    """A command or config key as markup (``<code>…</code>``), to fill a message's placeholder."""
    from markupsafe import Markup, escape

    return Markup("<code>%s</code>") % escape(text)


def stored_text(text: str | None) -> str | None:
    """An English text stored in the warehouse (a level name, a phase, a milestone, a source) in
    the report's language; a text the catalogue does not hold (a name from the config) as it is."""
    if not text:
        return text
    return _(text.replace("%", "%%"))


@dataclass(frozen=True)
class MaturityRow:
    quarter: str
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    level: int | None
    level_name: str | None
    criteria_met: str | None
    next_level_gaps: str | None


@dataclass(frozen=True)
class ChampionRow:
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    headcount: int | None
    champions: int | None
    employees_per_champion: float | None
    band_low: float
    band_high: float
    status: str | None
    people_with_champion: int | None
    regular_user_rate_with_champion: float | None
    people_without_champion: int | None
    regular_user_rate_without_champion: float | None


@dataclass(frozen=True)
class MilestoneRow:
    phase: str
    milestone: str
    kind: str
    due_day: int
    due_date: dt.date
    target: float
    actual: float | None
    group_size: int | None
    reached_on: dt.date | None
    days_late: int | None
    status: str


@dataclass(frozen=True)
class TargetRow:
    metric_name: str
    segment_type: str
    segment: str
    source: str
    target: float
    actual: float | None
    status: str | None
    due_quarter: str | None
    owner: str | None


@dataclass(frozen=True)
class BenchmarkRow:
    benchmark: str
    process: str
    department: str
    quarter: str | None
    low: float
    high: float
    better: str
    actual: float | None
    status: str | None
    source: str
    basis: str


@dataclass
class Standing:
    """Everything the section and ``kpi status`` show, for the quarter ``quarter``."""
    quarter: str
    quarters: list[str]  # the quarters of the maturity table (the last eight up to the quarter)
    k: int
    have: dict[str, bool]  # which of STANDING_TABLES the warehouse holds
    maturity: list[MaturityRow] = field(default_factory=list)
    champions: list[ChampionRow] = field(default_factory=list)
    milestones: list[MilestoneRow] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    benchmarks: list[BenchmarkRow] = field(default_factory=list)


def collect_standing(con: Any, quarter: str, k: int, tables: set[str] | None = None,
                     quarters_shown: int = 8) -> Standing:
    """Read the section's rows from an open connection (a table the warehouse lacks stays empty)."""
    from kpi.report.collect import _records, table_names

    tables = table_names(con) if tables is None else tables
    have = {t: t in tables for t in STANDING_TABLES}
    s = Standing(quarter=quarter, quarters=[], k=k, have=have)
    if have["marts.kpi_maturity"]:
        s.maturity = _records(con, MaturityRow, "standing_maturity", q=quarter)
        s.quarters = sorted({r.quarter for r in s.maturity})[-quarters_shown:]
    if have["marts.kpi_champions"]:
        s.champions = _records(con, ChampionRow, "standing_champions", q=quarter)
    if have["marts.rollout_milestones"]:
        s.milestones = _records(con, MilestoneRow, "standing_milestones")
    if have["marts.kpi_targets"]:
        s.targets = _records(con, TargetRow, "standing_targets", q=quarter)
    if have["marts.roi_benchmarks"]:
        s.benchmarks = _records(con, BenchmarkRow, "standing_benchmarks")
    return s


# --------------------------------------------------------------------------------------------
# Presentation (plain data and strings; the template and the terminal lay them out)
# --------------------------------------------------------------------------------------------

#: What a criterion, a target's figure or a benchmark is called on the page (English; label()
#: translates).
LABELS = {
    "trained_share": N_("trained share"),
    "active_user_rate": N_("active-user rate"),
    "regular_user_rate": N_("regular-user rate"),
    "champions": N_("champions"),
    "production_use_cases": N_("self-developed use cases in production"),
    "proficient_rate": N_("proficient rate"),
    "innovation_favorability": N_("innovation favorability"),
    "roi_to_date": N_("ROI to date"),
    "bcr_year1": N_("benefit per € in year 1"),
    "break_even_month": N_("break-even month"),
    "payback_months": N_("payback (months)"),
    "time_reduction": N_("time saved per case"),
    "error_reduction": N_("fewer errors"),
}
#: marts.kpi_champions.status in words (English; status_word translates).
STATUS_TEXT = {"under_served": N_("under-served"), "within": N_("within the band"), "over_served": N_("over-served")}
#: marts.kpi_targets.status of a configured target, and marts.roi_benchmarks.status (kpi.benchmarks.position).
TARGET_STATUS = {"green": N_("green"), "amber": N_("amber"), "red": N_("red")}
BENCHMARK_POSITION = {"better": N_("better"), "within": N_("within"), "worse": N_("worse")}


def label(name: str) -> str:
    """A figure's name on the page: a known label, else the name with spaces."""
    return _(LABELS[name]) if name in LABELS else name.replace("_", " ")


def status_word(status: str | None) -> str:
    """A department's champion density against the band, in words; a dash without a status."""
    return _(STATUS_TEXT[status]) if status in STATUS_TEXT else DASH


def target_status(status: str | None) -> str:
    """A configured target's status (green, amber, red) in words, or 'not published'."""
    return _(TARGET_STATUS[status]) if status in TARGET_STATUS else (status or _("not published"))


def benchmark_position(status: str | None) -> str:
    """Where a programme or process figure is against a published range, or 'not yet measured'."""
    return _(BENCHMARK_POSITION[status]) if status in BENCHMARK_POSITION else (status or _("not yet measured"))


def level_name(name: str | None) -> str | None:
    """A maturity level's name (marts.kpi_maturity.level_name) in the report's language."""
    return stored_text(name)


def level_names() -> list[str]:
    """The four levels' names in the report's language, level 1 first."""
    return [_(name) for name in LEVEL_NAMES]


#: One criterion of marts.kpi_maturity.next_level_gaps / criteria_met, as the SQL writes it:
#: 'name value < threshold', 'name not published < threshold' (≥ for a criterion met).
_CRITERION = re.compile(r"(?P<name>[a-z0-9_]+) (?P<value>.+) (?P<op>[<≥]) (?P<threshold>\S+(?: %)?)")
_FIGURE = re.compile(r"(-?)(\d+)(?:\.(\d+))?( %)?")


def _figure(text: str) -> str:
    """A figure the SQL wrote ('47.6 %', '-9.9 %', '5') with the language's separators (as it
    is in English)."""
    m = _FIGURE.fullmatch(text)
    if current_language() == "en" or m is None:
        return text
    number = number_text(float(f"{m[2]}.{m[3] or 0}"), len(m[3] or ""), grouping=False)
    return (MINUS if m[1] else "") + number + (percent_sign() if m[4] else "")


def criteria_text(text: str | None) -> str:
    """'regular_user_rate 47.6 % < 50 %; ...' with each criterion's name as its label, in the
    report's language: the criterion's label and 'not published' translated, the figures written
    with the language's separators."""
    if not text:
        return DASH
    parts = []
    for part in text.split("; "):
        m = _CRITERION.fullmatch(part)
        if m is None:  # not as the mart writes it: its label and the rest as it is
            name, _sep, rest = part.partition(" ")
            parts.append(f"{label(name)} {rest}")
        elif m["value"] == "not published":
            parts.append(_("%(criterion)s not published %(op)s %(threshold)s", criterion=label(m["name"]),
                           op=m["op"], threshold=_figure(m["threshold"])))
        else:
            parts.append(f"{label(m['name'])} {_figure(m['value'])} {m['op']} {_figure(m['threshold'])}")
    return "; ".join(parts)


@dataclass(frozen=True)
class LevelCell:
    level: int | None
    name: str | None
    text: str  # the level, "fewer than k", "withheld ‡", or "–" (not built for the quarter)
    suppressed: bool


@dataclass(frozen=True)
class MaturityLine:
    segment_type: str
    segment: str
    label: str
    cells: list[LevelCell]  # one per Standing.quarters
    now: MaturityRow | None  # the report's quarter
    since: str | None  # the first quarter of the current run at this level
    kind: str = ""  # shown under the label (the report's segment tables)


def maturity_lines(s: Standing) -> list[MaturityLine]:
    """One line per segment (company first): its level in each quarter shown, and the current row."""
    by_segment: dict[tuple[str, str], dict[str, MaturityRow]] = {}
    for r in s.maturity:
        by_segment.setdefault((r.segment_type, r.segment), {})[r.quarter] = r
    lines = []
    for (segment_type, segment), rows in by_segment.items():
        cells = []
        for q in s.quarters:
            r = rows.get(q)
            if r is None:
                cells.append(LevelCell(None, None, DASH, False))
            elif r.suppressed:
                cells.append(LevelCell(None, None, suppression_text(r.suppression_reason, s.k, short=True), True))
            else:
                cells.append(LevelCell(r.level, level_name(r.level_name), str(r.level), False))
        now = rows.get(s.quarter)
        since = None
        if now is not None and now.level is not None:
            since = now.quarter
            for q in sorted(rows, reverse=True):
                if q > s.quarter:
                    continue
                if rows[q].level != now.level:
                    break
                since = q
        lines.append(MaturityLine(segment_type, segment, segment_label(segment_type, segment), cells, now, since))
    return lines


def quarter_headers(s: Standing) -> list[tuple[str, str]]:
    """The maturity table's quarter columns as (text, class) header pairs."""
    return [(q, "num") for q in s.quarters]


@dataclass(frozen=True)
class ChampionLine:
    """A row of the champion table in the shape of the report's segment tables."""
    segment_type: str
    segment: str
    label: str
    kind: str
    suppressed: bool
    reason: str | None
    row: ChampionRow


def champion_lines(s: Standing) -> list[ChampionLine]:
    return [ChampionLine(r.segment_type, r.segment, r.segment, "", r.suppressed, r.suppression_reason, r)
            for r in department_champions(s)]


def segment_name(row: TargetRow) -> str:
    return segment_label(row.segment_type, row.segment)


def company_maturity(s: Standing) -> MaturityLine | None:
    return next((line for line in maturity_lines(s) if line.segment_type == "company"), None)


def company_champions(s: Standing) -> ChampionRow | None:
    return next((r for r in s.champions if r.segment_type == "company"), None)


def department_champions(s: Standing) -> list[ChampionRow]:
    return [r for r in s.champions if r.segment_type == "department"]


def without_champion(s: Standing) -> list[str]:
    """The shown departments without a champion, by name (a count of zero reveals nobody)."""
    return [r.segment for r in department_champions(s) if not r.suppressed and r.champions == 0]


def champions_sentence(s: Standing) -> str:
    """The company's density against the band, in one sentence."""
    c = company_champions(s)
    if c is None or c.suppressed or c.headcount is None:
        return _("No champion figures for this quarter.")
    per = fmt_num(c.employees_per_champion, 1) if c.employees_per_champion is not None else DASH
    band = f"{fmt_num(c.band_low)}–{fmt_num(c.band_high)}"
    # English says "champions" for one too (as the first release wrote it); the catalogue has both forms
    return ngettext("%(champions)s champions for %(headcount)s people: %(per)s employees per champion "
                    "(band %(band)s): %(status)s.",
                    "%(champions)s champions for %(headcount)s people: %(per)s employees per champion "
                    "(band %(band)s): %(status)s.", int(c.champions or 0),
                    champions=fmt_num(c.champions), headcount=fmt_num(c.headcount), per=per, band=band,
                    status=status_word(c.status))


def reach_sentence(s: Standing) -> str | None:
    """Regular use in departments with and without a champion, or None when one side is empty."""
    c = company_champions(s)
    if c is None or c.people_with_champion is None or c.people_without_champion is None:
        return None
    return _("Regular-user rate %(with_rate)s in the departments with a champion (%(with_people)s people) against "
             "%(without_rate)s in those without (%(without_people)s people); a comparison, not a measured effect.",
             with_rate=fmt_pct(c.regular_user_rate_with_champion), with_people=fmt_num(c.people_with_champion),
             without_rate=fmt_pct(c.regular_user_rate_without_champion),
             without_people=fmt_num(c.people_without_champion))


def milestone_value(m: MilestoneRow, value: float | None, unit: bool = True) -> str:
    """A milestone's target or actual in its unit: a share of its group, else a count."""
    if value is None:
        return DASH
    if m.kind == "share_trained":
        return fmt_pct(value, 0)
    number = fmt_num(value)
    if not unit or m.kind not in ("active_users", "production_use_cases", "roi_months"):
        return number
    n = int(round(value))
    # English keeps the plural for one (as the first release wrote it); the catalogue has both forms
    if m.kind == "active_users":
        return ngettext("%(value)s people", "%(value)s people", n, value=number)
    if m.kind == "production_use_cases":
        return ngettext("%(value)s use cases", "%(value)s use cases", n, value=number)
    return ngettext("%(value)s months", "%(value)s months", n, value=number)


def milestone_progress(m: MilestoneRow) -> str:
    """'74 % (target 80 %)', '60 people (target 10)'."""
    return _("%(actual)s (target %(target)s)", actual=milestone_value(m, m.actual),
             target=milestone_value(m, m.target, unit=False))


def milestone_status(m: MilestoneRow, k: int) -> str:
    """'reached 2025-01-28', 'missed: reached 2025-08-04, 156 days late', 'missed: 40 days overdue',
    'pending', or the privacy note."""
    if m.status == "reached":
        return _("reached %(date)s", date=m.reached_on.isoformat()) if m.reached_on else _("reached")
    if m.status == "missed":
        if m.reached_on is not None:
            return ngettext("missed: reached %(date)s, %(num)d day late", "missed: reached %(date)s, %(num)d days late",
                            m.days_late, date=m.reached_on.isoformat())
        return ngettext("missed: %(num)d day overdue", "missed: %(num)d days overdue",
                        m.days_late) if m.days_late is not None else _("missed")
    if m.status == "withheld":
        return _("not published: a group of fewer than %(k)s", k=k)
    return _("pending")


def milestone_counts(s: Standing) -> dict[str, int]:
    out = {"reached": 0, "missed": 0, "pending": 0, "withheld": 0}
    for m in s.milestones:
        out[m.status] = out.get(m.status, 0) + 1
    return out


def target_value(metric: str, value: float | None) -> str:
    from kpi.report.formatting import fmt_metric

    return fmt_metric(metric, value)


def configured_targets(s: Standing) -> list[TargetRow]:
    return [t for t in s.targets if t.source == "target"]


def quarter_benchmarks(s: Standing) -> list[TargetRow]:
    return [t for t in s.targets if t.source != "target"]


def benchmark_range(b: BenchmarkRow) -> str:
    """'€3.40', 'months 4–5', '6–12 months', '26–41 %', '22 %'."""
    if b.benchmark in ("time_reduction", "error_reduction"):
        low, high = (fmt_num(x * 100) for x in (b.low, b.high))
        return low + percent_sign() if b.low == b.high else f"{low}–{high}{percent_sign()}"
    if b.benchmark == "bcr_year1":
        return fmt_eur(b.low, 2) if b.low == b.high else _("€%(low)s–%(high)s", low=fmt_num(b.low, 2),
                                                          high=fmt_num(b.high, 2))
    if b.benchmark == "break_even_month":
        if b.low == b.high:
            return _("month %(month)s", month=fmt_num(b.low))
        return _("months %(low)s–%(high)s", low=fmt_num(b.low), high=fmt_num(b.high))
    if b.low == b.high:
        return ngettext("%(value)s months", "%(value)s months", int(round(b.low)), value=fmt_num(b.low))
    return _("%(low)s–%(high)s months", low=fmt_num(b.low), high=fmt_num(b.high))


def benchmark_actual(b: BenchmarkRow) -> str:
    """The programme's or process's figure in the benchmark's unit."""
    if b.actual is None:
        return DASH
    if b.benchmark in ("time_reduction", "error_reduction"):
        return fmt_pct(b.actual)
    if b.benchmark == "bcr_year1":
        return fmt_eur(b.actual, 2)
    if b.benchmark == "break_even_month":
        return _("month %(month)s", month=fmt_num(b.actual))
    return ngettext("%(value)s months", "%(value)s months", int(round(b.actual)), value=fmt_num(b.actual, 1))


#: A quarter benchmark's status (kpi_targets' green/amber/red) in words (English; translated where shown).
BENCHMARK_TARGET_STATUS = {"green": N_("at or above"), "amber": N_("just below"), "red": N_("below")}


def benchmark_target_status(status: str | None) -> str:
    """A quarter benchmark's status in words, or 'not published'."""
    return _(BENCHMARK_TARGET_STATUS[status]) if status in BENCHMARK_TARGET_STATUS else _("not published")


def source_text(source: str) -> str:
    """A benchmark's source in the report's language (BENCHMARK_SOURCES)."""
    return stored_text(source) or source


def benchmark_sources(s: Standing) -> list[str]:
    """Every source cited by the benchmarks shown, once, in order (the notes [1], [2], ...)."""
    out: list[str] = []
    for source in [t.source for t in quarter_benchmarks(s)] + [b.source for b in s.benchmarks]:
        if source not in out:
            out.append(source)
    return out


def benchmark_subject(b: BenchmarkRow) -> str:
    """What the benchmark is compared with: the programme, or a process of a department."""
    if b.process == "all":
        return _("the programme")
    return f"{process_label(b.process)} ({b.department}, {b.quarter})"


# --------------------------------------------------------------------------------------------
# The terminal (kpi status)
# --------------------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def status_text(s: Standing, status_line: str = "") -> str:
    """``kpi status``: the section as plain text (the same figures and words as the report)."""
    out = [f"Where we stand: {s.quarter}" + (f" ({status_line})" if status_line else "")]
    out.append("")
    out.append("Maturity level")
    if not s.have["marts.kpi_maturity"]:
        out.append(f"  {MISSING}")
    else:
        lines = maturity_lines(s)
        company = next((line for line in lines if line.segment_type == "company"), None)
        if company and company.now and company.now.level is not None:
            out.append(f"  Company: level {company.now.level} {company.now.level_name} (since {company.since})")
        header = ["", *(q.replace("20", "", 1) for q in s.quarters), f"gaps to the next level in {s.quarter}"]
        rows = [header]
        for line in lines:
            gaps = DASH
            if line.now is not None and not line.now.suppressed:
                gaps = criteria_text(line.now.next_level_gaps) if line.now.next_level_gaps else "none: level 4"
            elif line.now is not None:
                gaps = suppression_text(line.now.suppression_reason, s.k)
            rows.append([line.label, *(c.text for c in line.cells), gaps])
        out += _table(rows)
    out.append("")
    out.append("Champion network")
    if not s.have["marts.kpi_champions"]:
        out.append(f"  {MISSING}")
    else:
        out.append(f"  {champions_sentence(s)}")
        rows = [["", "headcount", "champions", "per champion", "status"]]
        for r in department_champions(s):
            if r.suppressed:
                rows.append([r.segment, suppression_text(r.suppression_reason, s.k, short=True), "", "", ""])
            else:
                rows.append([r.segment, fmt_num(r.headcount), fmt_num(r.champions),
                             fmt_num(r.employees_per_champion, 1), STATUS_TEXT.get(r.status or "", DASH)])
        out += _table(rows)
        missing = without_champion(s)
        if missing:
            out.append(f"  Without a champion: {', '.join(missing)}")
        reach = reach_sentence(s)
        if reach:
            out.append(f"  {reach}")
    out.append("")
    out.append("90-day rollout (as of the data's last day)")
    if not s.have["marts.rollout_milestones"]:
        out.append(f"  {MISSING}")
    else:
        counts = milestone_counts(s)
        out.append("  " + ", ".join(f"{n} {status}" for status, n in counts.items() if n))
        rows = [[m.phase, f"day {m.due_day}", m.due_date.isoformat(), m.milestone, milestone_progress(m),
                 milestone_status(m, s.k)] for m in s.milestones]
        if rows:
            out += _table(rows)
    out.append("")
    out.append(f"Targets in {s.quarter}")
    targets = configured_targets(s)
    if not s.have["marts.kpi_targets"]:
        out.append(f"  {MISSING}")
    elif not targets:
        out.append("  none configured (targets: in the config, docs/configuration.md)")
    else:
        rows = [[label(t.metric_name), segment_label(t.segment_type, t.segment),
                 f"{target_value(t.metric_name, t.actual)} of {target_value(t.metric_name, t.target)}",
                 t.status or "not published", f"by {t.due_quarter}" if t.due_quarter else "",
                 t.owner or ""] for t in targets]
        out += _table(rows)
    out.append("")
    out.append("Published benchmarks (comparisons, not targets)")
    sources = benchmark_sources(s)
    rows = [[label(t.metric_name), target_value(t.metric_name, t.actual), f"vs {target_value(t.metric_name, t.target)}",
             BENCHMARK_TARGET_STATUS.get(t.status or "", "not published"), f"[{sources.index(t.source) + 1}]"]
            for t in quarter_benchmarks(s)]
    rows += [[label(b.benchmark) + ("" if b.process == "all" else f": {benchmark_subject(b)}"), benchmark_actual(b),
              f"vs {benchmark_range(b)}", b.status or "not yet measured", f"[{sources.index(b.source) + 1}]"]
             for b in s.benchmarks]
    if rows:
        out += _table(rows)
        out += [f"  [{i}] {source}" for i, source in enumerate(sources, start=1)]
    if not s.have["marts.roi_benchmarks"]:
        out.append(f"  ROI benchmarks {MISSING}")
    return "\n".join(out) + "\n"
