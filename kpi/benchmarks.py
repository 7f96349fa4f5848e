"""The framework's published benchmarks, each with its source (docs/metrics.md §9 and §10).

Every figure below is quoted in the article the product follows (``../shared/framework``, Brixon
AI, "Effectieve AI-training voor leidinggevenden en medewerkers", 2025), most of them citing a
study; the label names the study as the article cites it. They are comparisons, never targets:
a company sets its own targets under ``targets:``.

- :data:`QUARTER_BENCHMARKS` compare a quarter's KPI figure and become rows of
  ``marts.kpi_targets`` (kpi/targets.py), kept apart from targets by their ``source``.
- :data:`PROGRAMME_BENCHMARKS` compare the programme's ROI and its processes and become
  ``marts.roi_benchmarks``, built by the ``roi`` asset after the ROI marts (:func:`build_benchmarks`).
- The champion band (one champion per 15-20 employees) is ``champions.band_low/high`` and
  ``marts.kpi_champions.status``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "BENCHMARK_COLUMNS",
    "BENCHMARK_TABLE",
    "PROGRAMME_BENCHMARKS",
    "QUARTER_BENCHMARKS",
    "ProgrammeBenchmark",
    "QuarterBenchmark",
    "benchmark_rows",
    "build_benchmarks",
    "position",
]

ARTICLE = "Brixon AI article"


class QuarterBenchmark(NamedTuple):
    """A published value a quarter's company figure is compared with (higher is better)."""

    metric: str
    value: float
    source: str
    #: listed from the quarter holding this programme month on (None: every quarter)
    from_month: int | None = None


QUARTER_BENCHMARKS: tuple[QuarterBenchmark, ...] = (
    QuarterBenchmark("regular_user_rate", 0.80,
                     f"{ARTICLE}, case of a 180-employee manufacturer: 83 % regular users six months after "
                     "the start", from_month=6),
    QuarterBenchmark("active_user_rate", 0.84,
                     f"{ARTICLE}, case of a mid-sized B2B service provider: 84 % adoption across departments"),
    QuarterBenchmark("active_user_rate", 0.37, f"Bain & Company (2024) in the {ARTICLE}: industry average adoption"),
)


class ProgrammeBenchmark(NamedTuple):
    """A published range (``low`` = ``high`` for a single value) for a programme or process figure."""

    benchmark: str
    low: float
    high: float
    better: str  # higher | lower
    source: str
    basis: str


PROGRAMME_BENCHMARKS: tuple[ProgrammeBenchmark, ...] = (
    ProgrammeBenchmark("bcr_year1", 3.40, 3.40, "higher",
                       f"Boston Consulting Group (2024) in the {ARTICLE}: €3.40 back per € within 12 months",
                       "benefits / costs over programme months 1-12 (attribution and confidence applied)"),
    ProgrammeBenchmark("break_even_month", 4, 5, "lower",
                       f"Deloitte (2024) in the {ARTICLE}: break-even typically after 4-5 months",
                       "the first programme month whose cumulative benefits reach the cumulative costs"),
    ProgrammeBenchmark("payback_months", 6, 12, "lower",
                       f"{ARTICLE}: about €1,000 per employee in year one, typically recovered within 6-12 months",
                       "months until the cumulative benefits cover the cumulative costs (interpolated)"),
    ProgrammeBenchmark("time_reduction", 0.26, 0.41, "higher",
                       f"Boston Consulting Group (2024) in the {ARTICLE}: 26-41 % time saved on routine tasks",
                       "kpi_business.time_reduction of each process in the last quarter with process data"),
    ProgrammeBenchmark("error_reduction", 0.22, 0.22, "higher",
                       f"Boston Consulting Group (2024) in the {ARTICLE}: 22 % fewer errors in quote and contract "
                       "drafting",
                       "1 - error_rate / baseline_error_rate of each process in the last quarter with process data"),
)

BENCHMARK_TABLE = "marts.roi_benchmarks"
BENCHMARK_COLUMNS: tuple[str, ...] = (
    "benchmark", "process", "department", "quarter", "low", "high", "better", "actual", "status", "source", "basis",
)


def position(actual: float | None, low: float, high: float, better: str) -> str | None:
    """``better`` than the whole range, ``within`` it (edges included) or ``worse``; None without an actual."""
    if actual is None:
        return None
    slack = 1e-9 * max(1.0, abs(low), abs(high))  # 1 - 0.039 / 0.05 is 0.22000000000000003: at the edge
    if low - slack <= actual <= high + slack:
        return "within"
    above = actual > high
    return "better" if above == (better == "higher") else "worse"


def _process_rows(con: Any) -> tuple[str | None, list[tuple]]:
    """The published process rows of the last quarter with a time reduction:
    (quarter, [(process, department, time_reduction, error_reduction)])."""
    (quarter,) = con.execute(
        "SELECT max(quarter) FROM marts.kpi_business WHERE process <> 'all' AND time_reduction IS NOT NULL"
    ).fetchone()
    if quarter is None:
        return None, []
    rows = con.execute("""
        SELECT process, department, time_reduction,
               CASE WHEN baseline_error_rate > 0 THEN 1 - error_rate / baseline_error_rate END
        FROM marts.kpi_business
        WHERE quarter = $quarter AND process <> 'all'
        ORDER BY process, department""", {"quarter": quarter}).fetchall()
    return quarter, rows


def benchmark_rows(con: Any, summary: Any) -> list[dict[str, Any]]:
    """The rows of ``marts.roi_benchmarks``: the programme benchmarks from the ROI ``summary``
    (:class:`kpi.roi.RoiSummary` at the horizon), the process ones from the published rows of
    ``marts.kpi_business``."""
    year1_bcr = None if summary.year1_roi_pct is None else 1 + summary.year1_roi_pct / 100
    programme = {"bcr_year1": year1_bcr, "break_even_month": summary.break_even_month,
                 "payback_months": summary.payback_months}
    quarter, processes = _process_rows(con)
    out: list[dict[str, Any]] = []
    for b in PROGRAMME_BENCHMARKS:
        common = {"benchmark": b.benchmark, "low": float(b.low), "high": float(b.high), "better": b.better,
                  "source": b.source, "basis": b.basis}
        if b.benchmark in programme:
            actual = programme[b.benchmark]
            actual = None if actual is None else float(actual)
            out.append({**common, "process": "all", "department": "all", "quarter": None, "actual": actual,
                        "status": position(actual, b.low, b.high, b.better)})
            continue
        column = 2 if b.benchmark == "time_reduction" else 3
        for row in processes:
            actual = None if row[column] is None else float(row[column])
            out.append({**common, "process": row[0], "department": row[1], "quarter": quarter, "actual": actual,
                        "status": position(actual, b.low, b.high, b.better)})
    return out


def build_benchmarks(con: Any, summary: Any) -> int:
    """Replace every row of ``marts.roi_benchmarks``; the number of rows written (the caller
    owns the transaction; the KPI and ROI marts are built before)."""
    from kpi.marts import ensure_mart_tables
    from kpi.migrations import prepare
    from kpi.roi_marts import _replace

    ensure_mart_tables(con)
    prepare(con, BENCHMARK_TABLE)
    return _replace(con, BENCHMARK_TABLE, BENCHMARK_COLUMNS, benchmark_rows(con, summary), sort_order=True)
