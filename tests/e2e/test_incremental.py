"""An incremental run (the next quarter's exports added to an existing warehouse) leaves the same
warehouse as building everything afresh from all the inputs, while it skips the work nothing
changed: state files unchanged are not read again, quarters whose inputs are unchanged are not
rebuilt (kpi/freshness.py), matching and validation are not redone without new data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from kpi.run_status import QuarterState, QuarterStatus
from pipelines.run import run_pipeline

NEW_QUARTER = "2025-Q2"
_DATED = re.compile(r"(\d{4})-(?:Q([1-4])|(\d{2}))")
COMPARED = {  # table -> columns left out (when it was written, not what)
    "marts.kpi_usage": (), "marts.kpi_competence": (), "marts.kpi_business": (), "marts.kpi_culture": (),
    "marts.roi_monthly": (), "marts.roi_quarterly": (), "marts.roi_sensitivity": (),
    "marts.budget_plan_vs_actual": (), "intermediate.usage_activity": (),
    "staging.usage_activity": (), "staging.employees": (), "staging.survey_answers": (),
    "audit.quarantine": (),
}


def _quarter_of(rel: Path) -> str | None:
    """The quarter a usage file or survey wave is dated in, by its name (None for state files)."""
    if rel.parts[0] not in ("usage", "surveys"):
        return None
    m = _DATED.search(rel.name)
    if not m:
        return None
    return f"{m.group(1)}-Q{m.group(2)}" if m.group(2) else f"{m.group(1)}-Q{(int(m.group(3)) - 1) // 3 + 1}"


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    from kpi.synthetic import generate_company

    root = tmp_path_factory.mktemp("incremental")
    inputs = root / "inputs"
    generate_company(inputs, employees=40, months=6, seed=5)
    held_back = sorted(p.relative_to(inputs) for p in inputs.rglob("*")
                       if p.is_file() and _quarter_of(p.relative_to(inputs)) == NEW_QUARTER)
    assert any(p.parts[0] == "usage" for p in held_back) and any(p.parts[0] == "surveys" for p in held_back)
    earlier = root / "earlier"
    shutil.copytree(inputs, earlier, ignore=lambda d, names: [
        n for n in names if (Path(d) / n).is_file() and (Path(d) / n).relative_to(inputs) in held_back])

    incremental = root / "incremental.duckdb"
    first = run_pipeline(earlier, earlier / "config.yaml", incremental, allow_development_key=True)
    second = run_pipeline(inputs, inputs / "config.yaml", incremental, allow_development_key=True)
    third = run_pipeline(inputs, inputs / "config.yaml", incremental, allow_development_key=True)
    fresh = root / "fresh.duckdb"
    full = run_pipeline(inputs, inputs / "config.yaml", fresh, allow_development_key=True)
    return {"incremental": incremental, "fresh": fresh, "first": first, "second": second, "third": third,
            "full": full, "inputs": inputs}


def _same_digits(value):
    """Floats to 10 significant digits: DuckDB sums in parallel, so the last bits of a sum vary."""
    return float(f"{value:.10g}") if isinstance(value, float) else value


def _rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [tuple(map(_same_digits, row)) for row in con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall()]


@pytest.mark.parametrize("table", sorted(COMPARED))
def test_incremental_warehouse_equals_a_fresh_one(warehouses, table):
    incremental, fresh = _rows(warehouses["incremental"], table), _rows(warehouses["fresh"], table)
    assert len(incremental) > 0
    assert incremental == fresh


def test_latest_snapshot_figures_equal_a_fresh_build(warehouses):
    query = ("SELECT quarter, kpi_table, segment_type, segment, construct, process, department, metric, value "
             "FROM marts.kpi_snapshots s WHERE version = (SELECT max(version) FROM marts.kpi_snapshots "
             "WHERE quarter = s.quarter) ORDER BY ALL")
    with duckdb.connect(str(warehouses["incremental"]), read_only=True) as a, \
            duckdb.connect(str(warehouses["fresh"]), read_only=True) as b:
        assert [tuple(map(_same_digits, r)) for r in a.sql(query).fetchall()] == [
            tuple(map(_same_digits, r)) for r in b.sql(query).fetchall()]


def test_only_quarters_the_new_files_touch_are_rebuilt(warehouses):
    first, second, full = warehouses["first"], warehouses["second"], warehouses["full"]
    assert first.quarters == full.quarters == ["2024-Q4", "2025-Q1", NEW_QUARTER]
    # the HR-side data reaches it, usage does not
    assert first.snapshots[NEW_QUARTER] == QuarterStatus(QuarterState.OPEN)
    # the first quarter is before anything the new files hold: left as it was
    assert second.snapshots["2024-Q4"] == QuarterStatus(QuarterState.CLOSED_NOT_REBUILT)
    assert second.snapshots[NEW_QUARTER] == QuarterStatus(QuarterState.CLOSED_WRITTEN, version=1)
    assert second.alerts == full.alerts
    assert second.roi_pct == pytest.approx(full.roi_pct)


def test_a_run_with_nothing_new_rebuilds_nothing(warehouses):
    third = warehouses["third"]
    assert set(third.snapshots.values()) == {QuarterStatus(QuarterState.CLOSED_NOT_REBUILT)}
    assert third.files_ingested == warehouses["full"].files_ingested
    assert third.alerts == warehouses["full"].alerts


def test_a_quarter_counts_as_built_only_once_its_snapshot_is_written():
    from kpi.freshness import forget_build, record_build, record_marts_built, stored_fingerprint

    con = duckdb.connect()
    record_marts_built(con, "2025-Q1", "abc")
    assert stored_fingerprint(con, "kpis/2025-Q1") is None  # stopped here: the next run builds it again
    record_build(con, "2025-Q1")
    assert (stored_fingerprint(con, "kpis/2025-Q1"), stored_fingerprint(con, "kpis/2025-Q1/marts")) == ("abc", None)
    record_build(con, "2025-Q1")  # a snapshot of a quarter not rebuilt changes nothing
    assert stored_fingerprint(con, "kpis/2025-Q1") == "abc"
    forget_build(con, "2025-Q1")
    assert stored_fingerprint(con, "kpis/2025-Q1") is None


def test_the_fingerprints_a_run_pins_are_the_quarters_own(warehouses):
    """`kpi run` computes every quarter's fingerprint once and pins it for the quarter steps
    (kpi.freshness.pinned_fingerprints): what each warehouse recorded equals the fingerprint
    computed afresh, quarter by quarter, outside any run."""
    from kpi.config import load_config
    from kpi.freshness import pinned_fingerprints, quarter_fingerprints

    for name in ("incremental", "fresh"):
        with duckdb.connect(str(warehouses[name]), read_only=True) as con:
            stored = dict(con.sql("SELECT step, fingerprint FROM audit.build_fingerprints "
                                  "WHERE step LIKE 'kpis/%' AND step NOT LIKE '%/marts'").fetchall())
            quarters = sorted(step.removeprefix("kpis/") for step in stored)
            cfg = load_config(Path(warehouses["inputs"]) / "config.yaml")
            fresh = quarter_fingerprints(con, cfg, quarters)
            assert len(quarters) >= 2 and {f"kpis/{q}": f for q, f in fresh.items()} == stored
            with pinned_fingerprints({q: "pinned" for q in quarters}):
                assert set(quarter_fingerprints(con, cfg, quarters[:1]).values()) == {"pinned"}
                assert quarter_fingerprints(con, cfg, ["1999-Q1"]) != {"1999-Q1": "pinned"}
            assert quarter_fingerprints(con, cfg, quarters) == fresh
