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


def test_newcombe_interval_is_statsmodels_to_the_last_bit():
    """Culture's favorability-change intervals are computed without statsmodels (whose import
    takes scipy and pandas along): the same doubles as confint_proportions_2indep(newcomb), on
    the edge cases and on random waves (favorability = favourable / responses, or any share)."""
    import random

    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    from kpi.marts import _Z975, _Z975_SQUARED, newcombe_interval

    crit = stats.norm.isf(0.025)
    assert (_Z975, _Z975_SQUARED) == (float(crit), float(crit**2))
    rng = random.Random(18)
    cases = [(f1, n1, f2, n2) for n1 in (1, 2, 5, 10) for n2 in (1, 3, 10) for f1 in (0.0, 0.5, 1.0)
             for f2 in (0.0, 1 / 3, 1.0)]
    for _ in range(3000):
        n1, n2 = (rng.choice([rng.randint(1, 60), rng.randint(1, 10_000)]) for _ in range(2))
        f1, f2 = ((rng.randint(0, n) / n if rng.random() < 0.7 else rng.random()) for n in (n1, n2))
        cases.append((f1, n1, f2, n2))
    for f1, n1, f2, n2 in cases:
        low, high = confint_proportions_2indep(f1 * n1, n1, f2 * n2, n2, method="newcomb", compare="diff")
        assert newcombe_interval(f1 * n1, n1, f2 * n2, n2) == (float(low), float(high)), (f1, n1, f2, n2)


def _attribution_tables(con) -> list:
    from kpi.attribution import ESTIMATE_TABLE, EVENT_STUDY_TABLE

    return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in (ESTIMATE_TABLE, EVENT_STUDY_TABLE)]


def test_attribution_is_estimated_again_only_when_its_inputs_or_tables_changed(monkeypatch):
    """build_attribution leaves the tables as they are when the panel, the threshold, the code
    and the libraries are those of the stored estimate and the tables hold what was written;
    anything else (a changed process figure or config, a table changed since) estimates again,
    giving what a first build on those inputs gives."""
    import duckdb

    import kpi.attribution as attribution
    from kpi.config import load_config
    from kpi.paths import DEMO_DIR
    from tests.unit.test_attribution import _stage

    cfg = load_config(DEMO_DIR / "config.yaml")
    fits = []
    real = attribution.estimate_outcome
    monkeypatch.setattr(attribution, "estimate_outcome", lambda *a, **k: fits.append(a[0]) or real(*a, **k))
    with duckdb.connect() as con:
        _stage(con, DEMO_DIR)
        first = attribution.build_attribution(con, cfg)
        built = _attribution_tables(con)
        assert len(fits) == 2 and first["marts.roi_attribution_estimate"] == 2
        assert attribution.build_attribution(con, cfg) == first  # nothing changed: not estimated
        assert len(fits) == 2 and _attribution_tables(con) == built
        con.execute("UPDATE marts.roi_attribution_estimate SET estimate = 0.5")  # the table changed
        attribution.build_attribution(con, cfg)
        assert len(fits) == 4 and _attribution_tables(con) == built
        con.execute("UPDATE staging.process_metrics SET handling_minutes = handling_minutes * 1.01 "
                    "WHERE month = (SELECT min(month) FROM staging.process_metrics)")  # an input changed
        attribution.build_attribution(con, cfg)
        assert len(fits) == 6
        changed = _attribution_tables(con)
        assert changed != built
        other = cfg.model_copy(update={"benefits": cfg.benefits.model_copy(
            update={"attribution_treatment_share": cfg.benefits.attribution_treatment_share / 2})})
        attribution.build_attribution(con, other)  # the config changed
        assert len(fits) == 8
    with duckdb.connect() as con:  # the estimate kept is the one a first build gives
        _stage(con, DEMO_DIR)
        con.execute("UPDATE staging.process_metrics SET handling_minutes = handling_minutes * 1.01 "
                    "WHERE month = (SELECT min(month) FROM staging.process_metrics)")
        attribution.build_attribution(con, cfg)
        assert _attribution_tables(con) == changed


def test_segments_read_the_parts_the_series_loaded():
    """The roi asset builds the segments from the parts build_roi_tables' series just loaded on
    the same connection (parts_loaded=True): the rows of loading them again."""
    from kpi.roi_segments import segment_rows
    from tests.unit.test_roi_segments import config
    from tests.unit.test_roi_segments import warehouse as segments_warehouse

    for cfg in (config(), config(cost_allocation="participant_time")):
        con = segments_warehouse()
        a = Assumptions.from_config(cfg)
        loaded = segment_rows(con, cfg, a)
        build_monthly_series(con, cfg)
        assert segment_rows(con, cfg, a, parts_loaded=True) == loaded
        con.close()


def test_series_without_the_estimate_is_computed_once_for_the_same_inputs(warehouse, monkeypatch):  # noqa: F811
    """Every quarter's maturity reads the ROI to date from the series without the estimate,
    computed once per digest of its inputs: asked again it is not computed again, and any change
    to a table it reads or to the config gives the series of the changed inputs. The usage is
    left out of the digest: the series without the estimate does not read it."""
    import kpi.roi as roi

    calls = []
    real = roi.build_monthly_series
    monkeypatch.setattr(roi, "build_monthly_series", lambda *a, **k: calls.append(1) or real(*a, **k))
    cfg = sql_config()
    first = roi.series_without_estimate(warehouse, cfg)
    assert first == real(warehouse, cfg, estimated=False) and len(calls) == 1
    assert roi.series_without_estimate(warehouse, cfg) == first and len(calls) == 1
    warehouse.execute("DELETE FROM intermediate.usage_activity")
    assert roi.series_without_estimate(warehouse, cfg) == first and len(calls) == 1
    assert real(warehouse, cfg, estimated=False) == first
    for change in ("UPDATE staging.costs SET amount_eur = amount_eur + 1 WHERE category = 'licenses'",
                   "UPDATE staging.employees SET hourly_cost_eur = 70 WHERE employee_key = 'e1'",
                   "UPDATE staging.trainings SET hours = 5 WHERE employee_key = 'e1'",
                   "UPDATE staging.process_metrics SET cases = 101 WHERE month = DATE '2025-01-01'"):
        warehouse.execute(change)
        before = len(calls)
        assert roi.series_without_estimate(warehouse, cfg) == real(warehouse, cfg, estimated=False)
        assert len(calls) == before + 1
    other, before = sql_config(k=5), len(calls)
    assert roi.series_without_estimate(warehouse, other) == real(warehouse, other, estimated=False)
    assert len(calls) == before + 1


def test_build_quarter_counts_the_rows_it_inserted():
    """build_quarter's counts are the rows each INSERT wrote (suppression only updates rows):
    the rows of the quarter in each mart after the build."""
    from kpi.marts import MART_TABLES, build_quarter, data_quarters
    from tests.sql.test_kpi_marts import make_config, make_warehouse

    con, cfg = make_warehouse(), make_config()
    for quarter in data_quarters(con, cfg):
        counts = build_quarter(con, cfg, quarter)
        assert counts == {t: con.sql(f"SELECT count(*) FROM {t} WHERE quarter = ?", params=[quarter]).fetchall()[0][0]
                          for t in MART_TABLES}
        assert any(counts.values())
