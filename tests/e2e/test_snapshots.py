"""Snapshots of closed quarters with the real pipeline (docs/metrics.md, "Snapshots and restatements").

A small generated company (40 employees, 6 programme months: quarters 2024-Q4, 2025-Q1 and
2025-Q2, usage up to 2025-06-30, so all three are closed) is run once per module; each test
copies its inputs and warehouse and runs again after one change:

(a) nothing changed                    -> no quarter rebuilt, no snapshot row written;
(b) a corrected export of a 2025-Q1 file -> version 2 of 2025-Q1 only, version 1 kept as it was;
    new activity in the last quarter   -> version 2 of 2025-Q2 only, earlier quarters untouched;
(c) a config change                    -> a new version of each quarter whose figures changed,
                                          with the new config hash.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from kpi.run_status import QuarterState, QuarterStatus
from kpi.snapshots import restatements
from pipelines.run import run_pipeline

QUARTERS = ["2024-Q4", "2025-Q1", "2025-Q2"]
SNAPSHOT_COLUMNS = ("snapshot_id, quarter, kpi_table, segment_type, segment, construct, process, department, "
                    "metric, value, computed_at, inputs_sha256, config_sha256, version")


def company_usage_key(metric: str) -> tuple:
    """The snapshot key of a figure of kpi_usage's company row: (kpi_table, *key columns, metric)."""
    from kpi.snapshots import SNAPSHOT_KEY_COLUMNS

    values = {"segment_type": "company", "segment": "all"}
    return ("kpi_usage", *(values.get(c) for c in SNAPSHOT_KEY_COLUMNS), metric)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, Path]:
    from kpi.synthetic import generate_company

    root = tmp_path_factory.mktemp("snapshots")
    inputs, warehouse = root / "inputs", root / "warehouse.duckdb"
    generate_company(inputs, employees=40, months=6, seed=3)
    summary = run_pipeline(inputs, inputs / "config.yaml", warehouse, allow_development_key=True)
    assert summary.quarters == QUARTERS
    assert summary.snapshots == {q: QuarterStatus(QuarterState.CLOSED_WRITTEN, 1) for q in QUARTERS}
    assert {q: s.describe() for q, s in summary.snapshots.items()} == {q: "closed: version 1 written" for q in QUARTERS}
    return inputs, warehouse


@pytest.fixture
def company(base, tmp_path) -> tuple[Path, Path]:
    """A private copy of the base company's inputs and warehouse."""
    inputs, warehouse = tmp_path / "inputs", tmp_path / "warehouse.duckdb"
    shutil.copytree(base[0], inputs)
    shutil.copy2(base[1], warehouse)
    return inputs, warehouse


def _run(inputs: Path, warehouse: Path, config: Path | None = None):
    return run_pipeline(inputs, config or inputs / "config.yaml", warehouse, allow_development_key=True)


def _snapshot_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sorted(con.sql(f"SELECT {SNAPSHOT_COLUMNS} FROM marts.kpi_snapshots").fetchall(), key=repr)


def _versions(warehouse: Path) -> dict[str, list[int]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.sql("SELECT quarter, list(DISTINCT version ORDER BY version) FROM marts.kpi_snapshots "
                            "GROUP BY quarter ORDER BY quarter").fetchall())


def _restatements(warehouse: Path) -> list[dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return restatements(con)


def _hashes(warehouse: Path, quarter: str) -> dict[int, tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {v: (i, c) for v, i, c in con.sql(
            "SELECT DISTINCT version, inputs_sha256, config_sha256 FROM marts.kpi_snapshots WHERE quarter = ?",
            params=[quarter]).fetchall()}


def _of_version(rows: list[tuple], quarter: str, version: int) -> list[tuple]:
    return [r for r in rows if r[1] == quarter and r[13] == version]


# ---------------------------------------------------------------------------------- (a)

def test_a_rerun_with_the_same_inputs_and_config_writes_nothing(company):
    inputs, warehouse = company
    before = _snapshot_rows(warehouse)
    summary = _run(inputs, warehouse)
    assert summary.snapshots == {q: QuarterStatus(QuarterState.CLOSED_NOT_REBUILT) for q in QUARTERS}
    after = _snapshot_rows(warehouse)
    assert len(after) == len(before) > 0
    assert max(r[13] for r in after) == 1
    assert after == before  # not rewritten either: same values, timestamps and hashes
    assert _restatements(warehouse) == []


# ---------------------------------------------------------------------------------- (b)

INTERACTION_METRICS = {"interactions", "interactions_per_employee_week", "interactions_per_active_user_week",
                       "interaction_share", "success_rate", "estimated_hours_saved", "estimated_savings_eur"}


def test_b_a_corrected_export_restates_its_quarter_only(company):
    """gateway-2025-02.csv re-exported with one more (successful) interaction on its first row:
    the pre-aggregated row's natural key is loaded with other values, so it is replaced."""
    inputs, warehouse = company
    before = _snapshot_rows(warehouse)
    path = inputs / "usage" / "gateway" / "gateway-2025-02.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[:7] == ["event_time", "user", "tool", "action", "interactions", "successes", "failures"]
    rows[1][4] = str(int(rows[1][4]) + 1)
    rows[1][5] = str(int(rows[1][5]) + 1)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)

    summary = _run(inputs, warehouse)
    # the quarter before is not even rebuilt; the one after is (it may depend on earlier data), unchanged
    assert [(s.state, s.version) for s in summary.snapshots.values()] == [
        (QuarterState.CLOSED_NOT_REBUILT, None),
        (QuarterState.RESTATED, 2),
        (QuarterState.CLOSED_FIGURES_UNCHANGED, None),
    ]
    assert _versions(warehouse) == {"2024-Q4": [1], "2025-Q1": [1, 2], "2025-Q2": [1]}

    after = _snapshot_rows(warehouse)
    for quarter in QUARTERS:  # every version 1 row is still there, unchanged
        assert _of_version(after, quarter, 1) == _of_version(before, quarter, 1)
    assert len(after) == len(before) + len(_of_version(after, "2025-Q1", 2))
    assert {r[0] for r in _of_version(after, "2025-Q1", 2)} == {"2025-Q1/v2"}

    [restated] = _restatements(warehouse)
    assert (restated["quarter"], restated["version"]) == ("2025-Q1", 2)
    changes = {key: (old, new) for key, old, new in restated["changes"]}
    assert summary.snapshots["2025-Q1"].changed_figures == len(changes) > 0
    assert summary.snapshots["2025-Q1"].describe() == f"RESTATED: version 2 written, {len(changes)} figures changed"
    old, new = changes[company_usage_key("interactions")]
    assert new == old + 1
    assert {key[-1] for key in changes} <= INTERACTION_METRICS
    assert {key[0] for key in changes} <= {"kpi_usage", "kpi_competence", "kpi_business"}

    hashes = _hashes(warehouse, "2025-Q1")
    assert hashes[2][0] != hashes[1][0]  # another inputs hash
    assert hashes[2][1] == hashes[1][1]  # the same config


def test_b_new_activity_in_the_last_quarter_does_not_restate_earlier_ones(company):
    """A late export adds one employee's activity on 2025-05-14: only 2025-Q2 changes."""
    import polars as pl

    inputs, warehouse = company
    before = _snapshot_rows(warehouse)
    staff = pl.read_csv(inputs / "hr" / "employees.csv", infer_schema_length=0)
    employee = staff.filter(pl.col("exit_date").is_null() & (pl.col("hire_date") < "2024-01-01"))["employee_id"][0]
    (inputs / "usage" / "gateway" / "late-export-2025-05.csv").write_text(
        "event_time,user,tool,action,interactions,successes,failures\n"
        f"2025-05-14,{employee},chat-gateway,late-export,3,3,0\n", encoding="utf-8")

    summary = _run(inputs, warehouse)
    assert [(s.state, s.version) for s in summary.snapshots.values()] == [
        (QuarterState.CLOSED_NOT_REBUILT, None), (QuarterState.CLOSED_NOT_REBUILT, None), (QuarterState.RESTATED, 2)]
    assert _versions(warehouse) == {"2024-Q4": [1], "2025-Q1": [1], "2025-Q2": [1, 2]}
    after = _snapshot_rows(warehouse)
    for quarter in ("2024-Q4", "2025-Q1"):
        assert [r for r in after if r[1] == quarter] == [r for r in before if r[1] == quarter]
    assert _of_version(after, "2025-Q2", 1) == _of_version(before, "2025-Q2", 1)
    [restated] = _restatements(warehouse)
    assert restated["quarter"] == "2025-Q2"
    changes = {key: (old, new) for key, old, new in restated["changes"]}
    old, new = changes[company_usage_key("interactions")]
    assert new == old + 3


# ---------------------------------------------------------------------------------- (c)

def _regular_users(warehouse: Path) -> dict[tuple, int | None]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {(q, t, s): n for q, t, s, n in con.sql(
            "SELECT quarter, segment_type, segment, regular_users FROM marts.kpi_usage").fetchall()}


def test_c_a_config_change_restates_every_quarter_whose_figures_changed(company, tmp_path):
    """usage.regular_min_active_weeks 6 -> 5: regular users can only grow; each quarter where
    some regular_users figure moved gets version 2 (with the new config hash), the others not."""
    inputs, warehouse = company
    before_rows = _snapshot_rows(warehouse)
    before = _regular_users(warehouse)
    config = yaml.safe_load((inputs / "config.yaml").read_text(encoding="utf-8"))
    assert config["usage"]["regular_min_active_weeks"] == 6
    config["usage"]["regular_min_active_weeks"] = 5
    changed_config = tmp_path / "config.yaml"
    changed_config.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")

    _run(inputs, warehouse, changed_config)
    after = _regular_users(warehouse)
    assert after.keys() == before.keys()
    moved = sorted({key[0] for key in before if before[key] != after[key]})
    assert all(after[k] >= before[k] for k in before if before[k] is not None and after[k] is not None)
    assert moved, "a lower threshold must add regular users somewhere"

    assert _versions(warehouse) == {q: [1, 2] if q in moved else [1] for q in QUARTERS}
    restated = _restatements(warehouse)
    assert [r["quarter"] for r in restated] == moved
    for r in restated:
        assert r["version"] == 2
        # the regular-user figures, and what is read from them: a benchmark's actual, a level, champions' reach
        assert {(key[0], key[-1]) for key, _, _ in r["changes"]} <= {
            ("kpi_usage", "regular_users"), ("kpi_usage", "regular_user_rate"), ("kpi_targets", "actual"),
            ("kpi_maturity", "level"), ("kpi_champions", "regular_user_rate_with_champion"),
            ("kpi_champions", "regular_user_rate_without_champion")}
        assert {key[-1] for key, _, _ in r["changes"] if key[0] == "kpi_usage"} <= {"regular_users",
                                                                                   "regular_user_rate"}
        hashes = _hashes(warehouse, r["quarter"])
        assert hashes[2][1] != hashes[1][1]  # the new config's hash
        assert hashes[2][0] == hashes[1][0]  # the same inputs
    after_rows = _snapshot_rows(warehouse)
    for quarter in QUARTERS:
        assert _of_version(after_rows, quarter, 1) == _of_version(before_rows, quarter, 1)
