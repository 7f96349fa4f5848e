"""Settings the report needs but the warehouse may not hold: k, alert thresholds, company name.

Each comes from ``marts.roi_assumptions`` when it holds it, else from the ``cfg`` given by the
pipeline, else from the defaults of :func:`kpi.config.default_config`. Without a config at hand,
k is moved (when needed) into the range the marts allow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kpi.paths import read_sql

if TYPE_CHECKING:  # pragma: no cover
    from kpi.report.collect import Assumption


@dataclass(frozen=True)
class Settings:
    company: str | None
    k: int
    usage_drop_points: float
    culture_drop_points: float
    #: where k came from: assumptions, config, default, or data (inferred from the marts)
    k_source: str
    #: the report's language unless kpi report --language says otherwise (company.language)
    language: str = "en"


def resolve_settings(con, cfg: Any, assumptions: Mapping[str, Assumption]) -> Settings:
    """The report's settings from the stored assumptions, the config or the defaults."""
    from kpi.config import default_config

    defaults = default_config(dt.date(2000, 1, 1))

    def pick(name: str, from_cfg: Callable[[Any], Any], default: Any) -> tuple[Any, str]:
        row = assumptions.get(name)
        if row is not None and (row.value is not None or row.value_text):
            return (row.value if row.value is not None else row.value_text), "assumptions"
        if cfg is not None:
            return from_cfg(cfg), "config"
        return default, "default"

    company, _ = pick("company.name", lambda c: c.company.name, None)
    k, k_source = pick("privacy.min_group_size", lambda c: c.privacy.min_group_size, defaults.privacy.min_group_size)
    k = int(k)
    if k_source == "default":
        # No config at hand: k is more than any group hidden as small, and at most the size of any
        # group not hidden as small. Keep the default when the data allow it, else move into range.
        low, high = k_bounds(con)
        inferred = k
        if low is not None:
            inferred = max(inferred, low)
        if high is not None and (low is None or high >= low):
            inferred = min(inferred, high)
        if inferred != k:
            k, k_source = int(inferred), "data"
    usage, _ = pick("alerts.usage_drop_points", lambda c: c.alerts.usage_drop_points, defaults.alerts.usage_drop_points)
    culture, _ = pick("alerts.culture_drop_points", lambda c: c.alerts.culture_drop_points,
                      defaults.alerts.culture_drop_points)
    if company is None and cfg is not None:
        company = cfg.company.name
    language, _ = pick("company.language", lambda c: c.company.language, defaults.company.language)
    return Settings(company=str(company) if company else None, k=k, usage_drop_points=float(usage),
                    culture_drop_points=float(culture), k_source=k_source, language=str(language))


def k_bounds(con) -> tuple[int | None, int | None]:
    """(lowest, highest) k consistent with the marts: one more than the largest group hidden as
    small; the smallest group that is not (shown, or hidden only as complementary)."""
    rows = con.sql(read_sql("report/k_bounds.sql")).fetchall()
    small = [r[0] for r in rows if r[0] is not None]
    big = [r[1] for r in rows if r[1] is not None]
    return (max(small) + 1 if small else None), (min(big) if big else None)
