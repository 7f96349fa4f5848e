"""The yearly deep dive (issue 16): warehouse -> report-<year>.html, from the published marts only.

``build_yearly_report(warehouse, "2025", out_dir, notes=folder)`` opens the warehouse read-only,
reads what the page shows with the queries ``sql/report/year_*.sql`` and the quarterly report's
own queries (maturity, rollout and benchmarks through :func:`kpi.report.standing.collect_standing`,
the cohort curve, plan vs actual, restatements), renders ``templates/yearly.html.j2`` with the
sections in ``templates/yearly/`` and writes the charts as PNG/SVG for slides.

Only the suppression-aware marts (``kpi_*`` with their ``suppressed`` flags, ``roi_*``) are read,
never a person-level table. What "the year's figure" means is decided per figure in
:mod:`kpi.report.yearly_view` (a sum, a mean of the quarters, the year-end value, or per quarter
only for counts of people); docs/report.md, "The yearly deep dive".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi.errors import UserError
from kpi.report.collect import (
    Assumption,
    CultureCompanyRow,
    PlanRow,
    ProcessRow,
    RestatedFigure,
    RoiQuarter,
    SuppressedRow,
    _frame,
    _records,
    _restatements,
    _values,
    available_quarters,
    table_names,
)
from kpi.report.settings import Settings, resolve_settings

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

    from kpi.report.notes import Note
    from kpi.report.standing import Standing

YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class QuarterClose:
    """A quarter the marts hold: its latest snapshot version (None: open) and when it was written."""
    quarter: str
    version: int | None
    closed_on: dt.date | None

    @property
    def closed(self) -> bool:
        return self.version is not None


@dataclass(frozen=True)
class CompanyQuarter:
    """The company's published figures in one quarter (sql/report/year_company.sql)."""
    quarter: str
    headcount: int | None
    active_users: int | None
    active_user_rate: float | None
    regular_users: int | None
    regular_user_rate: float | None
    interactions: float | None
    skill_score_to_date: float | None
    proficient_rate_to_date: float | None
    trained_share: float | None
    assessment_coverage: float | None
    hours_saved: float | None
    time_savings_eur: float | None
    quality_savings_eur: float | None
    favorability: float | None


@dataclass(frozen=True)
class YearCosts:
    """Costs by ledger category and benefits over the year's months (marts.roi_monthly)."""
    months: int
    first_m: int | None
    last_m: int | None
    external_training: float
    internal_time: float
    licenses: float
    materials: float
    other: float
    participant_time: float
    costs: float
    gross_benefits: float
    benefits: float


@dataclass(frozen=True)
class RestatementRow:
    quarter: str
    version: int
    restated_on: dt.date


@dataclass(frozen=True)
class YearRestatement:
    """A restatement of a quarter of the year, or one written during the year."""
    quarter: str
    version: int
    restated_on: dt.date
    changes: list[RestatedFigure] | None  # None: an earlier version (kpi_snapshots holds its figures)


@dataclass
class YearData:
    year: str
    quarters: list[QuarterClose]  # the year's quarters in the warehouse, in order
    every_quarter: list[QuarterClose]  # every quarter in the warehouse
    settings: Settings
    warehouse: Path
    generated_at: dt.datetime
    program_start: dt.date | None
    company: dict[str, CompanyQuarter]  # by quarter, every quarter
    departments: pl.DataFrame  # segment, quarter, active_user_rate, suppressed, reason (up to the year's end)
    business: pl.DataFrame  # the company's hours and savings per quarter up to the year's end
    processes: list[ProcessRow]  # as of the year's last quarter, against the baseline
    culture_wave: str | None  # the year's latest survey wave
    culture: list[CultureCompanyRow]  # its constructs, with the change against the baseline wave
    roi: list[RoiQuarter]  # marts.roi_quarterly, every quarter
    costs: YearCosts | None  # None: no ROI month in the year (or no ROI tables)
    plan: list[PlanRow]
    standing: Standing
    cohorts: pl.DataFrame | None  # the cohort curve as of the year's last quarter
    restatements: list[YearRestatement]
    notes: list[Note] = field(default_factory=list)
    notes_folder: str | None = None  # the folder's name, when one was given
    development_key: bool = False

    @property
    def first(self) -> str:
        return self.quarters[0].quarter

    @property
    def last(self) -> str:
        return self.quarters[-1].quarter

    @property
    def labels(self) -> list[str]:
        return [q.quarter for q in self.quarters]

    @property
    def complete(self) -> bool:
        """All four quarters are in the warehouse and closed."""
        return len(self.quarters) == 4 and all(q.closed for q in self.quarters)

    @property
    def open_quarters(self) -> list[str]:
        return [q.quarter for q in self.quarters if not q.closed]

    @property
    def previous_year(self) -> str:
        return str(int(self.year) - 1)

    def quarters_of(self, year: str) -> list[str]:
        return [q.quarter for q in self.every_quarter if q.quarter.startswith(f"{year}-")]

    @property
    def baseline_quarters(self) -> list[str]:
        """The quarters that end before the programme starts (none without program.start)."""
        if self.program_start is None:
            return []
        from kpi.quarters import quarter_bounds

        return [q.quarter for q in self.every_quarter if quarter_bounds(q.quarter)[1] < self.program_start]


def check_year(year: str) -> str:
    """'2025', or a one-line error."""
    text = (year or "").strip()
    if not YEAR.fullmatch(text):
        raise UserError(f"--year {year}: not a year; use the form 2025")
    return text


def available_years(con) -> list[str]:
    return sorted({q[:4] for q in available_quarters(con)})


def quarter_closes(con, tables: set[str]) -> list[QuarterClose]:
    """Every quarter of the marts and whether it is closed (no snapshot table: all open)."""
    if "marts.kpi_snapshots" not in tables:
        return [QuarterClose(q, None, None) for q in available_quarters(con)]
    return _records(con, QuarterClose, "year_quarters")


def closed_years(con) -> dict[str, str]:
    """The years whose fourth quarter is closed, each with the snapshot versions of its quarters
    ("v1.1.1.2": changes when one is restated). The Dagster schedule writes their reports."""
    tables = table_names(con)
    if "marts.kpi_usage" not in tables:
        return {}
    closes = quarter_closes(con, tables)
    years = [q.quarter[:4] for q in closes if q.quarter.endswith("-Q4") and q.closed]
    return {y: "v" + ".".join(str(q.version) for q in closes if q.quarter.startswith(f"{y}-")) for y in years}


def _program_start(assumptions: dict[str, Assumption]) -> dt.date | None:
    row = assumptions.get("program.start")
    try:
        return dt.date.fromisoformat(row.value_text) if row is not None else None
    except ValueError:
        return None


def collect_year(con, year: str, cfg: Any = None, warehouse: Path | None = None,
                 notes: Path | None = None) -> YearData:
    """Everything the yearly report shows, from an open (read-only) connection."""
    from kpi.ingest.store import development_key_warehouse
    from kpi.quarters import quarter_bounds
    from kpi.report.notes import read_notes
    from kpi.report.standing import collect_standing

    year = check_year(year)
    tables = table_names(con)
    if "marts.kpi_usage" not in tables:
        raise UserError(f"{warehouse or 'warehouse'}: has no KPI marts yet; run kpi run first")
    every = quarter_closes(con, tables)
    mine = [q for q in every if q.quarter.startswith(f"{year}-")]
    if not mine:
        years = sorted({q.quarter[:4] for q in every})
        where = f"the warehouse {warehouse}" if warehouse else "the warehouse"
        raise UserError(f"--year {year}: no quarter of it in {where}; years available: "
                        f"{', '.join(years) or 'none (run kpi run first)'}")
    last = mine[-1].quarter
    assumptions = ({a.name: a for a in _records(con, Assumption, "roi_assumptions")}
                   if "marts.roi_assumptions" in tables else {})
    settings = resolve_settings(con, cfg, assumptions)
    program_start = _program_start(assumptions) or (cfg.program.start if cfg is not None else None)
    have_roi = {"marts.roi_quarterly", "marts.roi_monthly"} <= tables
    costs = None
    if have_roi:
        first_day, last_day = quarter_bounds(f"{year}-Q1")[0], quarter_bounds(f"{year}-Q4")[1]
        row = _records(con, YearCosts, "year_costs", first=first_day, last=last_day)[0]
        costs = row if row.months else None
    wave = next((w for (w,) in reversed(_values(con, "culture_waves", q=last)) if w.startswith(f"{year}-")), None)
    cohorts = _frame(con, "learning_cohorts", q=last) if "marts.kpi_cohorts" in tables else None
    return YearData(
        year=year, quarters=mine, every_quarter=every, settings=settings,
        warehouse=Path(warehouse) if warehouse else Path("warehouse.duckdb"),
        generated_at=dt.datetime.now().replace(microsecond=0), program_start=program_start,
        company={r.quarter: r for r in _records(con, CompanyQuarter, "year_company")},
        departments=_frame(con, "usage_departments", q=last),
        business=_frame(con, "business_company", q=last),
        processes=_records(con, ProcessRow, "business_processes", q=last),
        culture_wave=wave,
        culture=_records(con, CultureCompanyRow, "culture_company", w=wave) if wave else [],
        roi=_records(con, RoiQuarter, "roi_quarterly") if have_roi else [],
        costs=costs,
        plan=_records(con, PlanRow, "budget_plan_vs_actual") if "marts.budget_plan_vs_actual" in tables else [],
        standing=collect_standing(con, last, settings.k, tables),
        cohorts=cohorts if cohorts is not None and cohorts.height else None,
        restatements=_year_restatements(con, year, last, tables),
        notes=read_notes(notes), notes_folder=Path(notes).name if notes is not None else None,
        development_key=development_key_warehouse(con),
    )


def _year_restatements(con, year: str, last: str, tables: set[str]) -> list[YearRestatement]:
    """The year's restatements with their dates; the changes of each quarter's latest version come
    from the quarterly report's reading (no group size, no change of a row suppressed now)."""
    if "marts.kpi_snapshots" not in tables:
        return []
    rows = _records(con, RestatementRow, "year_restatements", year=year)
    if not rows:
        return []
    suppressed = _records(con, SuppressedRow, "suppressed")
    latest_quarter = max(r.quarter for r in rows)
    latest = {(r.quarter, r.version): r.changes for r in _restatements(con, max(latest_quarter, last), tables,
                                                                         suppressed)}
    return [YearRestatement(r.quarter, r.version, r.restated_on, latest.get((r.quarter, r.version))) for r in rows]


def build_yearly_report(warehouse: Path, year: str, out_dir: Path, *, cfg: Any = None, images: bool = True,
                        language: str | None = None, notes: Path | None = None) -> Path:
    """Write ``out_dir/report-<year>.html`` (and its charts as PNG/SVG under ``out_dir/charts``).

    ``notes``: a folder of Markdown files with the qualitative findings (none by default). A year
    with no quarter in the warehouse is a one-line :class:`UserError` listing the years available;
    a year whose quarters are not all closed is written and marked incomplete."""
    from kpi.report.build import write_page
    from kpi.report.i18n import check_language, use_language
    from kpi.report.yearly_view import build_year_charts, render_year
    from kpi.warehouse import open_warehouse

    warehouse, out_dir = Path(warehouse), Path(out_dir)
    year = check_year(year)
    if language is not None:
        language = check_language(language)
    con = open_warehouse(warehouse, read_only=True)  # every problem is one line naming the file
    try:
        data = collect_year(con, year, cfg, warehouse, notes)
    finally:
        con.close()
    with use_language(language or data.settings.language):
        chart_list = build_year_charts(data)
        return write_page(out_dir, year, render_year(data, chart_list), chart_list, images)
