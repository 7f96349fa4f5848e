"""Measured attribution (kpi/attribution.py, docs/roi.md "Measured attribution").

Fast: the generated companies are staged by hand (only staging.employees, staging.trainings and
staging.process_metrics, read from the generator's CSV files; the estimate does not care that the
keys are not pseudonyms) and only the estimate is built, not the whole pipeline.

- the committed demo and another generated company: the 95 % interval of each outcome covers the
  causal share the generator recorded (ground_truth.json causal_share, computed from both
  potential outcomes over the series-months the estimator compares);
- a company without any training effect (only the secular trend): the interval covers zero;
- hand-made staging tables the data cannot support: NULL figures and a note saying why.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from kpi.attribution import ESTIMATE_COLUMNS, build_attribution
from kpi.config import default_config, load_config
from kpi.migrations import ensure_tables
from kpi.paths import DEMO_DIR
from kpi.synthetic import generate_company

INPUTS = ("staging.employees", "staging.trainings", "staging.process_metrics")


def _stage(con, folder: Path) -> None:
    ensure_tables(con, *INPUTS)
    con.execute(f"""INSERT INTO staging.employees SELECT employee_id, department, target_group,
                    hire_date::DATE, exit_date::DATE, fte::DOUBLE, 55.0, true
                    FROM read_csv('{folder}/hr/employees.csv', all_varchar=true)""")
    con.execute(f"""INSERT INTO staging.trainings SELECT employee_id, course_id, format, started_on::DATE,
                    completed_on::DATE, status, hours::DOUBLE
                    FROM read_csv('{folder}/hr/trainings.csv', all_varchar=true)""")
    con.execute(f"""INSERT INTO staging.process_metrics SELECT (month || '-01')::DATE, process, department,
                    cases::BIGINT, handling_minutes::DOUBLE, nullif(errors, '')::BIGINT, nullif(csat, '')::DOUBLE
                    FROM read_csv('{folder}/business/process_metrics.csv', all_varchar=true)""")


def _estimates(folder: Path) -> dict[str, dict]:
    with duckdb.connect() as con:
        _stage(con, folder)
        build_attribution(con, load_config(folder / "config.yaml"))
        rows = con.execute(f"SELECT {', '.join(ESTIMATE_COLUMNS)} FROM marts.roi_attribution_estimate").fetchall()
    return {r[1]: dict(zip(ESTIMATE_COLUMNS, r)) for r in rows}


def _truth(folder: Path) -> dict:
    return json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("outcome", ["minutes_per_case", "error_rate"])
def test_the_demo_interval_covers_the_generators_causal_share(outcome):
    """The committed demo: departments trained 2025-02 to 2025-09 (ground truth
    attribution_design.treatment_months). Minutes per case: 0.93 (0.79 to 1.07) against 0.92;
    error rate: 0.82 (-0.26 to 1.90) against 0.91 — the error counts of the small departments are
    few, so its interval is wide."""
    truth = _truth(DEMO_DIR)
    row = _estimates(DEMO_DIR)[outcome]
    assert row["note"].startswith("estimated")
    assert row["ci_low"] <= truth["causal_share"][outcome] <= row["ci_high"], row
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    design = truth["attribution_design"]
    assert row["n_series"] == len(design["series"]) == 6
    months = sorted({m for m in design["treatment_months"].values()})
    assert row["pre_periods"] == 4  # 2024-10 .. 2025-01, before the first training in 2025-02
    assert row["post_periods"] == 7  # 2025-02 .. 2025-08, the last month with two series not yet trained
    assert months[0] == "2025-02" and design["compared_months"] == ["2024-10", "2025-08"]
    assert row["parallel_trends_p"] > 0.05  # parallel trends hold by construction


def test_the_minutes_interval_is_informative_on_the_demo():
    """Not only covering: the minutes-per-case interval is narrower than ±0.2 and excludes 0."""
    row = _estimates(DEMO_DIR)["minutes_per_case"]
    assert row["ci_high"] - row["ci_low"] < 0.4 and row["ci_low"] > 0.5


def test_another_generated_company_is_recovered_too(tmp_path):
    generate_company(tmp_path / "co", employees=150, months=18, seed=11)
    truth = _truth(tmp_path / "co")
    rows = _estimates(tmp_path / "co")
    for outcome in ("minutes_per_case", "error_rate"):
        assert rows[outcome]["ci_low"] <= truth["causal_share"][outcome] <= rows[outcome]["ci_high"], rows[outcome]


def test_without_a_training_effect_the_interval_covers_zero(tmp_path):
    """training_effect=0: the process figures move only with the secular trend, the generator's
    causal share is 0 and the minutes-per-case interval (the one kpi roi --attribution measured
    uses) must cover it: -0.47 (-1.78 to 0.84); the measured improvement is the trend's few
    percent, so the share's interval is wide.

    Known limitation, not asserted: the error-rate interval of this company is 0.18 to 8.9 and
    misses 0. Its series have a handful of errors a month, and in simulations of the demo's design
    its 95 % interval covers the truth only about 85 % of the time (docs/roi.md "When not to
    trust the estimate")."""
    generate_company(tmp_path / "co", training_effect=0.0)
    truth = _truth(tmp_path / "co")
    # 0 up to the handling minutes' rounding to 0.1 in the CSV
    assert truth["causal_share"] == pytest.approx({"minutes_per_case": 0.0, "error_rate": 0.0}, abs=1e-4)
    row = _estimates(tmp_path / "co")["minutes_per_case"]
    assert row["estimate"] is not None, row
    assert row["ci_low"] <= 0.0 <= row["ci_high"], row


# ------------------------------------------------------------------ hand-made: cannot estimate

def _hand_made(con, trained: dict[str, dt.date | None], first_month: dt.date = dt.date(2024, 10, 1),
               months: int = 12) -> None:
    """Four people per department, all trained on the given day (None: never); one process per
    department with a steady 100 cases and 1,000 minutes a month, falling 2 % a month."""
    ensure_tables(con, *INPUTS)
    for d, (department, day) in enumerate(trained.items()):
        for i in range(4):
            key = f"{department}-{i}"
            con.execute("INSERT INTO staging.employees VALUES (?, ?, 'user', DATE '2020-01-01', NULL, 1.0, 55.0, true)",
                        [key, department])
            if day is not None:
                con.execute("INSERT INTO staging.trainings VALUES (?, 'c', 'basics_workshop', ?, ?, 'completed', 4.0)",
                            [key, day, day])
        for k in range(months):
            index = first_month.month - 1 + k
            month = dt.date(first_month.year + index // 12, index % 12 + 1, 1)
            con.execute("INSERT INTO staging.process_metrics VALUES (?, ?, ?, 100, ?, ?, NULL)",
                        [month, f"process {d}", department, 1000.0 * 0.98 ** k + d, 10 - k % 3])


def _build(con, start: dt.date = dt.date(2025, 1, 1)) -> dict[str, dict]:
    build_attribution(con, default_config(start))
    rows = con.execute(f"SELECT {', '.join(ESTIMATE_COLUMNS)} FROM marts.roi_attribution_estimate").fetchall()
    return {r[1]: dict(zip(ESTIMATE_COLUMNS, r)) for r in rows}


def _assert_null(rows: dict[str, dict], *words: str) -> None:
    assert set(rows) == {"minutes_per_case", "error_rate"}
    for row in rows.values():
        assert (row["estimate"], row["ci_low"], row["ci_high"]) == (None, None, None), row
        for word in words:
            assert word in row["note"], row["note"]
        assert "attribution" in row["note"] or "deliver" in row["note"]


def test_all_departments_trained_in_the_same_month_gives_no_estimate():
    with duckdb.connect() as con:
        _hand_made(con, {"A": dt.date(2025, 2, 10), "B": dt.date(2025, 2, 12), "C": dt.date(2025, 2, 20)})
        _assert_null(_build(con), "same month (2025-02)")


def test_no_month_before_training_gives_no_estimate():
    """Trained before the process data begins: the first month of the data is already trained."""
    with duckdb.connect() as con:
        _hand_made(con, {"A": dt.date(2024, 9, 10), "B": dt.date(2024, 9, 12), "C": None})
        _assert_null(_build(con), "no month before training")


def test_too_few_series_not_yet_trained_gives_no_estimate():
    """Two departments: when the first is trained, one series is left to compare with."""
    with duckdb.connect() as con:
        _hand_made(con, {"A": dt.date(2025, 2, 10), "B": dt.date(2025, 5, 12)})
        _assert_null(_build(con), "too few series")


def test_nothing_trained_or_no_process_data_gives_no_estimate():
    with duckdb.connect() as con:
        _hand_made(con, {"A": None, "B": None, "C": None})
        _assert_null(_build(con), "reached 0.5")
    with duckdb.connect() as con:
        ensure_tables(con, *INPUTS)
        _assert_null(_build(con), "no process series")


def test_a_staggered_hand_made_rollout_is_estimated_and_replaced_on_each_run():
    with duckdb.connect() as con:
        _hand_made(con, {"A": dt.date(2025, 2, 10), "B": dt.date(2025, 4, 12), "C": dt.date(2025, 6, 3),
                         "D": None})
        first = _build(con)["minutes_per_case"]
        assert first["note"].startswith("estimated") and first["n_series"] == 4
        again = _build(con)
        assert again["minutes_per_case"] == first
        assert con.execute("SELECT count(*) FROM marts.roi_attribution_estimate").fetchone() == (2,)
        steps = con.execute("SELECT relative_month FROM marts.roi_attribution_event_study "
                            "WHERE outcome = 'minutes_per_case' ORDER BY 1").fetchall()
        assert (-1,) in steps and (0,) in steps
