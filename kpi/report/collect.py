"""Reading the warehouse: everything the report shows, aggregated in SQL, into typed sections.

One read query per file in ``sql/report/`` (read with :func:`kpi.paths.read_sql`), parameters
bound (``$q`` the report's quarter, ``$p`` the previous one, ``$w`` the survey wave, ``$m`` a
programme month). Each row dataclass lists the columns of its query, in order; :func:`_records`
refuses a query whose columns differ, so the two cannot drift apart. Trends for the charts stay
small polars frames (a few dozen rows each).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kpi.errors import UserError
from kpi.paths import read_sql
from kpi.quarters import parse_quarter, previous_quarter
from kpi.report.i18n import N_, _
from kpi.report.settings import Settings, resolve_settings

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from kpi.alerts import Alert, TargetAlert
    from kpi.report.standing import Standing

ROI_TABLES = ("roi_monthly", "roi_quarterly", "roi_sensitivity", "budget_plan_vs_actual", "roi_assumptions")
T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    """A text the page shows, made while collecting: :func:`collect` runs before the report's
    language is set, so the message is translated when it is shown (``str(message)``, or a
    template writing it). ``values`` fill its placeholders; a value may be a Message itself."""
    message: str
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return _(self.message, **{k: str(v) if isinstance(v, Message) else v for k, v in self.values.items()})


# --------------------------------------------------------------------------------------------
# Rows (one dataclass per query; fields = the query's columns)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assumption:
    """One row of marts.roi_assumptions."""
    name: str
    value: float | None
    value_text: str
    unit: str
    source: str
    explanation: str


@dataclass(frozen=True)
class SuppressedRow:
    """A suppressed row of a KPI mart: its name, never a figure."""
    source: str  # kpi_usage | kpi_competence | kpi_culture
    quarter: str
    segment_type: str
    segment: str
    construct: str | None
    suppression_reason: str | None


@dataclass(frozen=True)
class UsageRow:
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    headcount: int | None
    active_users: int | None
    active_user_rate: float | None
    regular_user_rate: float | None
    interactions_per_employee_week: float | None
    prev_active_user_rate: float | None
    prev_regular_user_rate: float | None


@dataclass(frozen=True)
class ToolRow:
    segment: str
    suppressed: bool
    suppression_reason: str | None
    active_users: int | None
    active_user_rate: float | None
    interaction_share: float | None
    interactions_per_active_user_week: float | None
    prev_active_users: int | None


@dataclass(frozen=True)
class CompetenceRow:
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    headcount: int | None
    assessed_employees: int | None
    skill_score: float | None
    proficient_rate: float | None
    trained_share: float | None
    success_rate: float | None
    new_use_cases: int | None
    prev_skill_score: float | None
    prev_trained_share: float | None
    assessed_ever: int | None
    assessment_coverage: float | None
    skill_score_to_date: float | None
    proficient_rate_to_date: float | None
    prev_skill_score_to_date: float | None
    prompt_quality_score: float | None


@dataclass(frozen=True)
class LearningRow:
    """A row of marts.kpi_learning (docs/metrics.md §11)."""
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    people_with_pre_and_post: int | None
    pre_mean: float | None
    post_mean: float | None
    gain: float | None
    gain_ci_low: float | None
    gain_ci_high: float | None
    proficient_pre: float | None
    proficient_post: float | None
    reassessed_6m: int | None
    retained_6m: float | None


@dataclass(frozen=True)
class TrainingRow:
    """A company row of marts.kpi_training (docs/metrics.md §12)."""
    format: str
    suppressed: bool
    suppression_reason: str | None
    participants: int | None
    enrolments: int | None
    hours: float | None
    completion_rate: float | None
    dropout_rate: float | None
    transfer_people: int | None
    transfer_rate: float | None
    feedback_responses: int | None
    positive_feedback_share: float | None


@dataclass(frozen=True)
class LicenceRow:
    """A row of marts.kpi_licences (docs/metrics.md §14)."""
    tool: str
    seats: int | None
    active_users: int | None
    utilisation: float | None
    idle_seats: int | None
    cost_eur: float | None
    cost_per_active_user: float | None


@dataclass(frozen=True)
class BusinessTotals:
    """All processes together in one quarter."""
    quarter: str
    hours_saved: float | None
    time_savings_eur: float | None
    quality_savings_eur: float | None
    estimated_hours_saved: float | None
    estimated_savings_eur: float | None


@dataclass(frozen=True)
class ProcessRow:
    process: str
    department: str
    cases: int | None
    minutes_per_case: float | None
    baseline_minutes_per_case: float | None
    time_reduction: float | None
    hours_saved: float | None
    error_rate: float | None
    baseline_error_rate: float | None
    errors_avoided: float | None
    time_savings_eur: float | None
    quality_savings_eur: float | None
    cases_per_fte: float | None
    baseline_cases_per_fte: float | None
    cases_per_fte_growth: float | None
    csat: float | None
    baseline_csat: float | None
    csat_change: float | None


@dataclass(frozen=True)
class AttributionRow:
    """A row of marts.roi_attribution_estimate (docs/roi.md, "Measured attribution")."""
    outcome: str
    method: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    n_series: int
    pre_periods: int
    post_periods: int
    parallel_trends_p: float | None
    note: str


@dataclass(frozen=True)
class SegmentRoiRow:
    """A row of marts.roi_by_segment (docs/metrics.md §16)."""
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    costs: float | None
    costs_allocated: float | None
    benefits: float | None
    net_benefit: float | None
    roi_pct: float | None
    payback_months: float | None
    rank: int | None


@dataclass(frozen=True)
class UseCaseRow:
    """A row of marts.roi_use_cases (docs/metrics.md §17)."""
    use_case_id: str
    title: str | None
    department: str | None
    status: str
    est_hours_saved_per_month: float | None
    expected_annual_benefit_eur: float | None
    implementation_cost_eur: float | None
    simple_payback_months: float | None


@dataclass(frozen=True)
class RetentionRow:
    """A row of marts.kpi_retention (docs/metrics.md §15)."""
    segment_type: str
    segment: str
    suppressed: bool
    suppression_reason: str | None
    headcount: int | None
    trained_headcount: int | None
    trained_leaver_rate: float | None
    untrained_headcount: int | None
    untrained_leaver_rate: float | None


@dataclass(frozen=True)
class CultureCompanyRow:
    construct: str
    responses: int | None
    mean_score: float | None
    favorability: float | None
    favorability_change: float | None
    favorability_change_low: float | None
    favorability_change_high: float | None
    response_rate: float | None
    mean_score_change: float | None
    baseline_wave: str | None
    favorability_vs_baseline: float | None
    favorability_vs_baseline_low: float | None
    favorability_vs_baseline_high: float | None


@dataclass(frozen=True)
class CultureCell:
    segment_type: str
    segment: str
    construct: str
    suppressed: bool
    suppression_reason: str | None
    favorability: float | None
    favorability_change: float | None
    favorability_change_low: float | None
    favorability_change_high: float | None


@dataclass(frozen=True)
class RoiQuarter:
    """marts.roi_quarterly: the ROI as of a quarter's last month m."""
    quarter: str
    m: int
    cum_costs: float
    cum_benefits: float
    cum_gross_benefits: float
    roi_pct: float | None
    bcr: float | None
    break_even_month: int | None
    payback_months: float | None
    npv: float
    discounted_payback_months: float | None
    year1_roi_pct: float | None
    break_even_attribution: float | None
    year1_break_even_attribution: float | None


@dataclass(frozen=True)
class RoiHorizon:
    """The last month of the ROI series."""
    m: int
    month: dt.date
    roi_pct: float | None
    cum_costs: float
    cum_benefits: float


@dataclass(frozen=True)
class SensitivityRow:
    assumption: str  # an assumption of the tornado, or 'scenario'
    case: str  # low | high, or the scenario's name
    roi_pct: float | None
    npv: float
    swing: float | None


@dataclass(frozen=True)
class PlanRow:
    category: str
    plan_eur: float
    actual_eur: float
    difference_eur: float


@dataclass(frozen=True)
class RestatedFigure:
    table: str
    segment_type: str | None
    segment: str | None
    construct: str | None
    process: str | None
    department: str | None
    metric: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Restatement:
    quarter: str
    version: int
    changes: list[RestatedFigure]


@dataclass(frozen=True)
class ManifestRow:
    kind: str  # folder · format
    files: int
    rows_read: int | None
    rows_loaded: int | None
    rows_quarantined: int | None
    cells_quarantined: int | None
    rows_unmatched: int | None
    chars_replaced: int | None


@dataclass(frozen=True)
class QuarantineRow:
    stage: str
    reason: str
    n: int
    files: int


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


@dataclass
class UsageSection:
    trend: pl.DataFrame  # quarter, segment, metric, value: company and target groups shown
    heat: pl.DataFrame  # segment, quarter, active_user_rate, suppressed, reason: departments
    tools: pl.DataFrame  # quarter, tool, active_users: tools shown
    table: list[UsageRow]
    tool_table: list[ToolRow]
    hidden: list[SuppressedRow]  # departments, target groups and tools hidden up to the quarter
    licences: list[LicenceRow] | None = None  # None: the warehouse has no kpi_licences


@dataclass
class CompetenceSection:
    trend: pl.DataFrame  # quarter, skill_score, proficient_rate, trained_share: the company
    table: list[CompetenceRow]
    hidden: list[SuppressedRow]


@dataclass
class LearningSection:
    have: dict[str, bool]  # which of kpi_learning, kpi_cohorts, kpi_training the warehouse holds
    gain: list[LearningRow] = field(default_factory=list)
    cohorts: pl.DataFrame | None = None  # months_since_training, people, active_user_rate, skill_score
    training: list[TrainingRow] = field(default_factory=list)


@dataclass
class BusinessSection:
    company: pl.DataFrame  # BusinessTotals per quarter up to the report's quarter
    processes: list[ProcessRow]
    now: BusinessTotals | None  # the report's quarter
    before: BusinessTotals | None  # the previous quarter
    retention: list[RetentionRow] | None = None  # None: the warehouse has no kpi_retention


@dataclass
class CultureSection:
    waves: list[str]  # survey waves up to the report's quarter
    wave: str | None = None  # the latest of them (None: no survey yet)
    previous_wave: str | None = None
    trend: pl.DataFrame | None = None  # quarter, construct, favorability: the company
    change: pl.DataFrame | None = None  # construct, change, low, high: the latest wave
    company: list[CultureCompanyRow] = field(default_factory=list)
    cells: list[CultureCell] = field(default_factory=list)
    hidden: list[SuppressedRow] = field(default_factory=list)


@dataclass
class RoiSection:
    have: dict[str, bool]  # which ROI tables the warehouse holds
    quarterly: list[RoiQuarter] = field(default_factory=list)
    row: RoiQuarter | None = None  # as of the report's quarter (or the series' last month)
    note: str | Message = ""  # why row is not the report's quarter's
    prev_row: RoiQuarter | None = None
    monthly: pl.DataFrame | None = None  # month, m, cum_costs, cum_benefits up to row.m
    month_of: dict[int, dt.date] = field(default_factory=dict)
    estimated: tuple[float | None, int] | None = None  # (sum, months with a value) up to row.m
    horizon: RoiHorizon | None = None
    sensitivity: list[SensitivityRow] = field(default_factory=list)
    plan: list[PlanRow] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)
    assumption_values: dict[str, Assumption] = field(default_factory=dict)
    segments: list[SegmentRoiRow] | None = None  # None: the warehouse has no roi_by_segment
    attribution: list[AttributionRow] | None = None  # None: no roi_attribution_estimate
    event_study: pl.DataFrame | None = None  # outcome, relative_month, effect, ci_low, ci_high, n_series
    use_cases: list[UseCaseRow] | None = None  # None: the warehouse has no roi_use_cases


@dataclass
class QualitySection:
    manifest: list[ManifestRow] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)


@dataclass
class ReportData:
    quarter: str
    previous: str | None  # the previous quarter, when the warehouse holds it
    quarters: list[str]  # every quarter up to the report's
    settings: Settings
    warehouse: Path
    generated_at: dt.datetime
    status: str | Message  # '<state>: <what that means>' (view.status_state, view.status_text)
    usage: UsageSection
    competence: CompetenceSection
    business: BusinessSection
    culture: CultureSection
    roi: RoiSection
    alerts: list[Alert | TargetAlert]
    restatements: list[Restatement]
    quality: QualitySection
    standing: Standing
    learning: LearningSection
    development_key: bool = False  # built with the public development key: demonstration only


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------


def _relation(con, name: str, params: dict[str, Any]):
    query = read_sql(f"report/{name}.sql")
    return con.sql(query, params=params) if params else con.sql(query)


def _records(con, cls: type[T], name: str, **params: Any) -> list[T]:
    """The rows of ``sql/report/<name>.sql`` as ``cls`` (its fields are the query's columns)."""
    rel = _relation(con, name, params)
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if list(rel.columns) != fields:
        raise RuntimeError(f"sql/report/{name}.sql returns {rel.columns}; {cls.__name__} expects {fields}")
    return [cls(*row) for row in rel.fetchall()]


def _frame(con, name: str, **params: Any) -> pl.DataFrame:
    return _relation(con, name, params).pl()


def _values(con, name: str, **params: Any) -> list[tuple]:
    return _relation(con, name, params).fetchall()


def table_names(con) -> set[str]:
    """'schema.table' of every table in the warehouse."""
    return {f"{s}.{t}" for s, t in _values(con, "tables")}


def available_quarters(con) -> list[str]:
    return [r[0] for r in _values(con, "quarters")]


def collect(con, quarter: str, cfg: Any = None, warehouse: Path | None = None) -> ReportData:
    """Everything the report shows, aggregated in SQL, from an open (read-only) connection."""
    from kpi.ingest.store import development_key_warehouse
    from kpi.migrations import plan
    from kpi.report.standing import collect_standing

    parse_quarter(quarter)
    tables = table_names(con)
    if "marts.kpi_usage" not in tables:
        raise UserError(f"{warehouse or 'warehouse'}: has no KPI marts yet; run kpi run first")
    missing = [c for c in plan(con) if c.column is not None]  # tables of an older release lack columns
    if missing:
        raise UserError(f"{warehouse or 'warehouse'}: built by an earlier release ({missing[0]}, and "
                        f"{len(missing) - 1} more); run kpi run on it once to upgrade it, then kpi report")
    quarters = available_quarters(con)
    if quarter not in quarters:
        where = f"the warehouse {warehouse}" if warehouse else "the warehouse"
        raise UserError(f"--quarter {quarter}: not in {where}; quarters available: "
                        f"{', '.join(quarters) or 'none (run kpi run first)'}")
    assumptions: dict[str, Assumption] = {}
    if "marts.roi_assumptions" in tables:
        assumptions = {a.name: a for a in _records(con, Assumption, "roi_assumptions")}
    settings = resolve_settings(con, cfg, assumptions)
    prev = previous_quarter(quarter)
    previous = prev if prev in quarters else None
    p = previous or ""
    suppressed = _records(con, SuppressedRow, "suppressed")
    return ReportData(
        quarter=quarter, previous=previous, quarters=[q for q in quarters if q <= quarter], settings=settings,
        warehouse=Path(warehouse) if warehouse else Path("warehouse.duckdb"),
        generated_at=dt.datetime.now().replace(microsecond=0),
        status=_quarter_status(con, tables, quarter),
        usage=_usage(con, quarter, p, suppressed, tables),
        competence=_competence(con, quarter, p, suppressed),
        business=_business(con, quarter, p, tables),
        culture=_culture(con, quarter, suppressed),
        roi=_roi(con, quarter, tables, assumptions),
        alerts=_alerts(con, quarter, settings),
        restatements=_restatements(con, quarter, tables, suppressed),
        development_key=development_key_warehouse(con),
        quality=_quality(con, tables),
        standing=collect_standing(con, quarter, settings.k, tables),
        learning=_learning(con, quarter, tables),
    )


def _quarter_status(con, tables: set[str], quarter: str) -> Message:
    """'<state>: <what that means>'; the state (``values["state"]``) is what the page's head shows."""
    open_ = Message(N_("open"))
    if "marts.kpi_snapshots" not in tables:
        return Message(N_("%(state)s: no snapshot table yet"), {"state": open_})
    version, computed_at = _values(con, "quarter_status", q=quarter)[0]
    if version is None:
        return Message(N_("%(state)s: the usage data does not reach the quarter's last day yet, figures may still "
                          "change"), {"state": open_})
    state = Message(N_("closed, restated (version %(version)s)"), {"version": version}) if version > 1 else \
        Message(N_("closed"))
    return Message(N_("%(state)s: figures frozen as snapshot version %(version)s on %(date)s"),
                   {"state": state, "version": version, "date": f"{computed_at:%Y-%m-%d}"})


def _hidden(suppressed: list[SuppressedRow], source: str, quarter: str, types: tuple[str, ...]) -> list[SuppressedRow]:
    """The suppressed rows of one mart up to the quarter, of the given segment types."""
    return [s for s in suppressed if s.source == source and s.quarter <= quarter and s.segment_type in types]


def _usage(con, q: str, p: str, suppressed: list[SuppressedRow], tables: set[str]) -> UsageSection:
    return UsageSection(
        trend=_frame(con, "usage_trend", q=q), heat=_frame(con, "usage_departments", q=q),
        tools=_frame(con, "usage_tools", q=q), table=_records(con, UsageRow, "usage_segments", q=q, p=p),
        tool_table=_records(con, ToolRow, "usage_tool_segments", q=q, p=p),
        hidden=_hidden(suppressed, "kpi_usage", q, ("department", "target_group", "tool")),
        licences=(_records(con, LicenceRow, "usage_licences", q=q) if "marts.kpi_licences" in tables else None))


def _competence(con, q: str, p: str, suppressed: list[SuppressedRow]) -> CompetenceSection:
    return CompetenceSection(
        trend=_frame(con, "competence_trend", q=q),
        table=_records(con, CompetenceRow, "competence_segments", q=q, p=p),
        hidden=_hidden(suppressed, "kpi_competence", q, ("department", "target_group")))


def _learning(con, q: str, tables: set[str]) -> LearningSection:
    have = {name: f"marts.{name}" in tables for name in ("kpi_learning", "kpi_cohorts", "kpi_training")}
    out = LearningSection(have=have)
    if have["kpi_learning"]:
        out.gain = _records(con, LearningRow, "learning_segments", q=q)
    if have["kpi_cohorts"]:
        out.cohorts = _frame(con, "learning_cohorts", q=q)
    if have["kpi_training"]:
        out.training = _records(con, TrainingRow, "learning_training", q=q)
    return out


def _business(con, q: str, p: str, tables: set[str]) -> BusinessSection:
    company = _frame(con, "business_company", q=q)
    totals = [BusinessTotals(**r) for r in company.iter_rows(named=True)]
    retention = (_records(con, RetentionRow, "business_retention", q=q) if "marts.kpi_retention" in tables
                 else None)
    return BusinessSection(company=company, processes=_records(con, ProcessRow, "business_processes", q=q),
                           now=next((r for r in totals if r.quarter == q), None),
                           before=next((r for r in totals if r.quarter == p), None), retention=retention)


def _culture(con, q: str, suppressed: list[SuppressedRow]) -> CultureSection:
    waves = [r[0] for r in _values(con, "culture_waves", q=q)]
    if not waves:
        return CultureSection(waves=[])
    wave = waves[-1]
    return CultureSection(
        waves=waves, wave=wave, previous_wave=waves[-2] if len(waves) > 1 else None,
        trend=_frame(con, "culture_trend", q=q), change=_frame(con, "culture_change", w=wave),
        company=_records(con, CultureCompanyRow, "culture_company", w=wave),
        cells=_records(con, CultureCell, "culture_segments", w=wave),
        hidden=_hidden(suppressed, "kpi_culture", q, ("department", "target_group")))


def _roi(con, quarter: str, tables: set[str], assumptions: dict[str, Assumption]) -> RoiSection:
    out = RoiSection(have={t: f"marts.{t}" in tables for t in ROI_TABLES}, assumption_values=dict(assumptions))
    if out.have["roi_quarterly"] and out.have["roi_monthly"]:
        rows = _records(con, RoiQuarter, "roi_quarterly")
        out.quarterly = rows
        row = next((r for r in rows if r.quarter == quarter), None)
        if row is None and rows:
            if quarter > rows[-1].quarter:
                row = rows[-1]
                out.note = Message(N_("The ROI series ends in month %(m)s (%(quarter)s: the horizon or the last "
                                      "month with cost or process data); figures are as of that month."),
                                   {"m": row.m, "quarter": row.quarter})
            else:
                out.note = Message(N_("The ROI series starts in %(first)s: no ROI figures for %(quarter)s."),
                                   {"first": rows[0].quarter, "quarter": quarter})
        out.row = row
        if row is not None:
            earlier = [r for r in rows if r.m < row.m]
            out.prev_row = earlier[-1] if earlier else None
            out.monthly = _frame(con, "roi_cumulative", m=row.m)
            out.month_of = dict(_values(con, "roi_months"))
            out.estimated = _values(con, "roi_estimate", m=row.m)[0]
        horizon = _records(con, RoiHorizon, "roi_horizon")
        out.horizon = horizon[0] if horizon else None
    if out.have["roi_sensitivity"]:
        out.sensitivity = _records(con, SensitivityRow, "roi_sensitivity")
    if out.have["budget_plan_vs_actual"]:
        out.plan = _records(con, PlanRow, "budget_plan_vs_actual")
    if out.have["roi_assumptions"]:
        out.assumptions = list(assumptions.values())
    if "marts.roi_by_segment" in tables:
        out.segments = _records(con, SegmentRoiRow, "roi_segments")
    if "marts.roi_use_cases" in tables:
        out.use_cases = _records(con, UseCaseRow, "roi_use_cases")
    if "marts.roi_attribution_estimate" in tables:
        out.attribution = _records(con, AttributionRow, "roi_attribution")
    if "marts.roi_attribution_event_study" in tables:
        out.event_study = _frame(con, "roi_event_study")
    return out


def _alerts(con, quarter: str, s: Settings) -> list[Alert | TargetAlert]:
    from kpi.alerts import culture_alerts, target_alerts, usage_alerts

    return [*usage_alerts(con, quarter, s.usage_drop_points), *culture_alerts(con, quarter, s.culture_drop_points),
            *target_alerts(con, quarter)]


def _restatements(con, quarter: str, tables: set[str], suppressed: list[SuppressedRow]) -> list[Restatement]:
    """Restated quarters up to the report's quarter, with what changed. A group size is never
    listed (it is the real count even of a suppressed group), and neither is any change of a
    row that is suppressed now."""
    if "marts.kpi_snapshots" not in tables:
        return []
    from kpi.snapshots import SNAPSHOT_KEY_COLUMNS, restatements

    names = ("kpi_table", *SNAPSHOT_KEY_COLUMNS, "metric")  # a snapshot key, as the catalogue declares it
    hidden = {(s.source, s.quarter, s.segment_type, s.segment, s.construct) for s in suppressed}
    out = []
    for item in restatements(con):
        if item["quarter"] > quarter:
            continue
        changes = []
        for key, old, new in item["changes"]:
            k = dict(zip(names, key))
            table, metric = k["kpi_table"], k["metric"]
            segment_type, segment, construct = k.get("segment_type"), k.get("segment"), k.get("construct")
            if metric == "group_size" or (table, item["quarter"], segment_type, segment, construct) in hidden:
                continue
            changes.append(RestatedFigure(table, segment_type, segment, construct, k.get("process"),
                                          k.get("department"), metric, old, new))
        out.append(Restatement(quarter=item["quarter"], version=item["version"], changes=changes))
    return out


def _quality(con, tables: set[str]) -> QualitySection:
    out = QualitySection()
    # audit.ingest_manifest and audit.quarantine are created together (sql/audit)
    if "audit.ingest_manifest" in tables and "audit.quarantine" in tables:
        out.manifest = _records(con, ManifestRow, "quality_files")
    if "audit.quarantine" in tables:
        out.quarantine = _records(con, QuarantineRow, "quality_quarantine")
    return out
