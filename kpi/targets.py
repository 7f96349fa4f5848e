"""``marts.kpi_targets``: the configured targets and the built-in benchmarks (docs/metrics.md §9).

The targets of the ``targets:`` config and the labelled published benchmarks below become the
parameters of ``sql/marts/kpi_targets.sql``, which reads each one's actual from the quarter's
published rows of ``kpi_usage``, ``kpi_competence`` and ``kpi_culture`` (a culture figure is
named ``<construct>_<column>``, e.g. ``innovation_favorability``).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

__all__ = ["BENCHMARKS", "Benchmark", "target_metrics", "targets_params"]

#: the marts whose figures a target may name, in lookup order
TARGET_MARTS: tuple[str, ...] = ("marts.kpi_usage", "marts.kpi_competence", "marts.kpi_culture")


class Benchmark(NamedTuple):
    metric: str
    value: float
    source: str


#: Published benchmarks the issue names that a quarter's KPI marts can be compared with, each with
#: its source label; a row of every quarter for the company (status as for a target).
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("regular_user_rate", 0.80, "Brixon AI (article): regular use six months after the start"),
    Benchmark("active_user_rate", 0.84, "Brixon AI (article): adoption in well-run programmes"),
    Benchmark("active_user_rate", 0.37, "Brixon AI (article): industry average adoption"),
)


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


def targets_params(cfg: Any, quarter: str) -> dict[str, Any]:
    """The parameters of ``sql/marts/kpi_targets.sql`` for one quarter (besides the built-in ones)."""
    rows = []
    for t in cfg.targets:
        segment_type, segment = t.segment.split("/", 1)
        rows.append((t.metric, segment_type, segment, float(t.value), t.by, t.owner, "target"))
    for b in BENCHMARKS:
        rows.append((b.metric, "company", "all", b.value, None, None, b.source))
    columns = list(zip(*rows))
    figures = _figures()
    return {
        "t_metric": list(columns[0]),
        "t_segment_type": list(columns[1]),
        "t_segment": list(columns[2]),
        "t_value": list(columns[3]),
        "t_by": list(columns[4]),
        "t_owner": list(columns[5]),
        "t_source": list(columns[6]),
        "usage_metrics": list(figures["marts.kpi_usage"]),
        "competence_metrics": list(figures["marts.kpi_competence"]),
        "culture_metrics": list(figures["marts.kpi_culture"]),
        "amber_band": float(cfg.alerts.target_amber_band),
    }
