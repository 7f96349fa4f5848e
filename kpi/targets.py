"""``marts.kpi_targets``: the configured targets and the built-in benchmarks (docs/metrics.md §9).

The targets of the ``targets:`` config and the labelled published benchmarks
(:data:`kpi.benchmarks.QUARTER_BENCHMARKS`) become the
parameters of ``sql/marts/kpi_targets.sql``, which reads each one's actual from the quarter's
published rows of ``kpi_usage``, ``kpi_competence`` and ``kpi_culture`` (a culture figure is
named ``<construct>_<column>``, e.g. ``innovation_favorability``).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from kpi.benchmarks import QUARTER_BENCHMARKS

__all__ = ["target_metrics", "targets_params"]

#: the marts whose figures a target may name, in lookup order
TARGET_MARTS: tuple[str, ...] = ("marts.kpi_usage", "marts.kpi_competence", "marts.kpi_culture")


@functools.cache
def _figures() -> dict[str, tuple[str, ...]]:
    from kpi.catalog import load

    return {name: tuple(load()[name].figures) for name in TARGET_MARTS}


def target_metrics() -> list[str]:
    """Every metric name a target may use."""
    from kpi.config import CONSTRUCTS

    figures = _figures()
    culture = [f"{c}_{f}" for c in CONSTRUCTS for f in figures["marts.kpi_culture"]]
    return [*figures["marts.kpi_usage"], *figures["marts.kpi_competence"], *culture]


def _month_start(start: dt.date, m: int) -> dt.date:
    """The first day of programme month m (month 1 = the calendar month of program.start)."""
    year, month = divmod(start.month - 1 + m - 1, 12)
    return dt.date(start.year + year, month + 1, 1)


def targets_params(cfg: Any, quarter: str) -> dict[str, Any]:
    """The parameters of ``sql/marts/kpi_targets.sql`` for one quarter (besides the built-in ones)."""
    from kpi.quarters import quarter_label

    rows = []
    for t in cfg.targets:
        segment_type, segment = t.segment.split("/", 1)
        rows.append((t.metric, segment_type, segment, float(t.value), t.by, None, t.owner, "target"))
    for b in QUARTER_BENCHMARKS:
        since = None if b.from_month is None else quarter_label(_month_start(cfg.program.start, b.from_month))
        rows.append((b.metric, "company", "all", b.value, None, since, None, b.source))
    columns = list(zip(*rows))
    figures = _figures()
    return {
        "t_metric": list(columns[0]),
        "t_segment_type": list(columns[1]),
        "t_segment": list(columns[2]),
        "t_value": list(columns[3]),
        "t_by": list(columns[4]),
        "t_from": list(columns[5]),
        "t_owner": list(columns[6]),
        "t_source": list(columns[7]),
        "usage_metrics": list(figures["marts.kpi_usage"]),
        "competence_metrics": list(figures["marts.kpi_competence"]),
        "culture_metrics": list(figures["marts.kpi_culture"]),
        "amber_band": float(cfg.alerts.target_amber_band),
    }
