"""`kpi roi --attribution measured` on a copy of the demo warehouse: the stored estimate of
marts.roi_attribution_estimate (minutes per case) as the attribution, its interval as the
measured_low / measured_high scenarios, one line when there is no estimate, and still no heavy
import (docs/roi.md "Measured attribution")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.roi import summary
from tests.e2e.test_roi_cli import assert_matches_summary, assert_one_line_error, kpi, roi_json, stored


@pytest.fixture(scope="module")
def warehouse(demo_warehouse, tmp_path_factory):
    copy = tmp_path_factory.mktemp("roi_attribution_cli") / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    return copy


def estimate(warehouse) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute("SELECT * FROM marts.roi_attribution_estimate WHERE outcome = 'minutes_per_case'")
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def test_measured_uses_the_stored_estimate_and_its_interval_as_scenarios(warehouse):
    row = estimate(warehouse)
    assert row["estimate"] is not None and row["note"].startswith("estimated")
    used = min(1.0, max(0.0, row["estimate"]))
    out = roi_json(warehouse, "--attribution", "measured")
    assert out["overrides"] == {"attribution": pytest.approx(used)}
    assert out["measured_attribution"]["estimate"] == pytest.approx(row["estimate"])
    series, a = stored(warehouse)
    assert_matches_summary(out, summary(series, a.replace(attribution=used)).as_dict())
    scenarios = {r["case"]: r for r in out["scenarios"]}
    for case, bound in (("measured_low", max(0.0, row["ci_low"])), ("measured_high", min(1.0, row["ci_high"]))):
        expected = summary(series, a.replace(attribution=bound))
        assert scenarios[case]["roi_pct"] == pytest.approx(expected.roi_pct), case
    assert scenarios["measured_low"]["roi_pct"] <= out["roi_pct"] <= scenarios["measured_high"]["roi_pct"]
    configured = roi_json(warehouse)  # the configured attribution stays the default
    assert configured["overrides"] == {} and "measured_attribution" not in configured


def test_measured_table_says_where_the_attribution_comes_from(warehouse):
    result = kpi("roi", "--warehouse", warehouse, "--attribution", "measured")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Attribution measured from the rollout (minutes per case")
    assert "95 % interval" in first and "measured_low / measured_high" in first


def test_no_estimate_is_one_line_with_the_note(warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    note = "all departments were trained in the same month (2025-02): no department serves as the comparison"
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE marts.roi_attribution_estimate SET estimate = NULL, ci_low = NULL, ci_high = NULL, "
                    "note = ?", [note])
    assert_one_line_error(kpi("roi", "--warehouse", copy, "--attribution", "measured"),
                          "--attribution measured", "no estimate", note)
    with duckdb.connect(str(copy)) as con:  # a warehouse of an earlier release: no table
        con.execute("DROP TABLE marts.roi_attribution_estimate")
    assert_one_line_error(kpi("roi", "--warehouse", copy, "--attribution", "measured"),
                          "no measured attribution", "run kpi run")


def test_attribution_text_that_is_no_number_is_one_line(warehouse):
    assert_one_line_error(kpi("roi", "--warehouse", warehouse, "--attribution", "guess"),
                          "--attribution guess", "between 0 and 1", "measured")


def test_measured_imports_nothing_heavy(warehouse):
    code = (
        "import contextlib, io, sys\n"
        "from kpi.cli import main\n"
        f"sys.argv = ['kpi', 'roi', '--warehouse', {str(warehouse)!r}, '--format', 'json', '--attribution',"
        " 'measured']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "assert out.getvalue().lstrip().startswith('{')\n"
        "heavy = ('dagster', 'great_expectations', 'pandas', 'altair', 'diff_diff', 'scipy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
