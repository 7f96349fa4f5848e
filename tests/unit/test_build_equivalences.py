"""The cheaper paths of a quarter's build and of the ROI step give exactly the figures of the
paths they stand in for (issue 18): each test compares the two on the same inputs."""

from __future__ import annotations

import dataclasses

from kpi.roi import Assumptions, build_monthly_series, summary
from tests.unit.test_roi import sql_config, warehouse  # noqa: F401  (the fixture)


def test_series_without_the_estimate_is_the_series_less_its_estimate(warehouse):  # noqa: F811
    """kpi.marts.roi_to_date_pct reads the series without the estimated benefits (no usage
    read): every other field of every month, and every ROI figure, is the same."""
    for cfg in (sql_config(), sql_config(k=5), sql_config(time_saved_minutes_per_interaction={})):
        full = build_monthly_series(warehouse, cfg)
        light = build_monthly_series(warehouse, cfg, estimated=False)
        assert light == [dataclasses.replace(mo, estimated_benefits=None) for mo in full]
        a = Assumptions.from_config(cfg)
        for n in range(1, len(full) + 1):
            expected = dataclasses.replace(summary(full, a, as_of_month=n), cum_estimated_benefits=None)
            assert summary(light, a, as_of_month=n) == expected


def test_t_quantile_table_is_scipys():
    """kpi_learning's 95 % intervals read t(0.975, df) from a table, not from scipy at run time:
    every entry is scipy's double exactly, for every df the mart can ask (1..T_QUANTILE_DF)."""
    from scipy.stats import t

    from kpi.marts import T_QUANTILE_DF, t975

    table = t975()
    assert len(table) == T_QUANTILE_DF
    assert table == [float(t.ppf(0.975, df)) for df in range(1, T_QUANTILE_DF + 1)]
