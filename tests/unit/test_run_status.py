"""What a run did with each quarter (kpi/run_status.py), and what `kpi run` prints from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi.run_status import (
    QuarterState,
    QuarterStatus,
    closed_quarters,
    not_rebuilt_quarters,
    report_quarter,
    restated_quarters,
)

S = QuarterState
OPEN = "open (usage data does not reach the quarter's last day yet)"


def test_describe_gives_the_summary_lines():
    assert QuarterStatus(S.OPEN).describe() == f"{OPEN}: not snapshotted"
    assert QuarterStatus(S.OPEN_NOT_REBUILT).describe() == f"{OPEN}, unchanged since the last run"
    assert QuarterStatus(S.CLOSED_WRITTEN, 1).describe() == "closed: version 1 written"
    assert QuarterStatus(S.CLOSED_FIGURES_UNCHANGED).describe() == "closed, figures unchanged: nothing written"
    assert QuarterStatus(S.CLOSED_NOT_REBUILT).describe() == "closed, unchanged since the last run: not rebuilt"
    assert QuarterStatus(S.RESTATED, 3, 21).describe() == "RESTATED: version 3 written, 21 figures changed"


def test_a_snapshot_outcome_gives_the_state():
    # (closed, version written, figures changed) as kpi.snapshots.snapshot_quarter reports them
    assert QuarterStatus.of_snapshot(False, None, 0) == QuarterStatus(S.OPEN)
    assert QuarterStatus.of_snapshot(True, None, 0) == QuarterStatus(S.CLOSED_FIGURES_UNCHANGED)
    assert QuarterStatus.of_snapshot(True, 1, 0) == QuarterStatus(S.CLOSED_WRITTEN, 1)
    assert QuarterStatus.of_snapshot(True, 2, 21) == QuarterStatus(S.RESTATED, 2, 21)
    assert QuarterStatus.not_rebuilt(closed=True) == QuarterStatus(S.CLOSED_NOT_REBUILT)
    assert QuarterStatus.not_rebuilt(closed=False) == QuarterStatus(S.OPEN_NOT_REBUILT)


def test_metadata_round_trip():
    restated = QuarterStatus(S.RESTATED, 2, 21)
    assert restated.metadata() == {"status": "RESTATED: version 2 written, 21 figures changed", "state": "restated",
                                   "version": 2, "changed_figures": 21}
    assert QuarterStatus(S.CLOSED_FIGURES_UNCHANGED).metadata() == {
        "status": "closed, figures unchanged: nothing written", "state": "closed_figures_unchanged", "version": 0,
        "changed_figures": 0}
    for status in (QuarterStatus(S.OPEN), QuarterStatus(S.CLOSED_WRITTEN, 1), QuarterStatus(S.CLOSED_FIGURES_UNCHANGED),
                   restated):
        assert QuarterStatus.from_metadata(status.metadata()) == status


def test_impossible_combinations_are_refused():
    for state, version, changed in ((S.CLOSED_WRITTEN, 2, 0), (S.CLOSED_WRITTEN, None, 0), (S.RESTATED, 1, 3),
                                    (S.RESTATED, None, 0), (S.OPEN, 1, 0), (S.CLOSED_NOT_REBUILT, None, 4)):
        with pytest.raises(ValueError, match=f"quarter state {state.value} with version {version}"):
            QuarterStatus(state, version, changed)


# The run over the tiny inputs (tests/ingest/tiny.py): usage reaches 2025-04-01, so 2025-Q2 is open.
TINY_FIRST = {"2024-Q4": QuarterStatus(S.CLOSED_WRITTEN, 1), "2025-Q1": QuarterStatus(S.CLOSED_WRITTEN, 1),
              "2025-Q2": QuarterStatus(S.OPEN)}
TINY_AGAIN = {"2024-Q4": QuarterStatus(S.CLOSED_NOT_REBUILT), "2025-Q1": QuarterStatus(S.CLOSED_NOT_REBUILT),
              "2025-Q2": QuarterStatus(S.OPEN_NOT_REBUILT)}
# A corrected 2025-Q1 export (tests/e2e/test_snapshots.py, case b)
CORRECTED = {"2024-Q4": QuarterStatus(S.CLOSED_NOT_REBUILT), "2025-Q1": QuarterStatus(S.RESTATED, 2, 21),
             "2025-Q2": QuarterStatus(S.CLOSED_FIGURES_UNCHANGED)}
QUARTERS = ["2024-Q4", "2025-Q1", "2025-Q2"]


def test_decisions_over_a_runs_quarters():
    assert closed_quarters(TINY_FIRST) == ["2024-Q4", "2025-Q1"]
    assert not_rebuilt_quarters(TINY_FIRST) == []
    assert restated_quarters(TINY_FIRST) == []
    assert report_quarter(TINY_FIRST, QUARTERS) == "2025-Q1"  # the latest closed one, not the open 2025-Q2

    assert closed_quarters(TINY_AGAIN) == ["2024-Q4", "2025-Q1"]
    assert not_rebuilt_quarters(TINY_AGAIN) == QUARTERS
    assert report_quarter(TINY_AGAIN, QUARTERS) == "2025-Q1"

    assert closed_quarters(CORRECTED) == QUARTERS
    assert not_rebuilt_quarters(CORRECTED) == ["2024-Q4"]
    assert restated_quarters(CORRECTED) == ["2025-Q1"]
    assert report_quarter(CORRECTED, QUARTERS) == "2025-Q2"

    only_open = {"2025-Q2": QuarterStatus(S.OPEN), "2025-Q3": QuarterStatus(S.OPEN_NOT_REBUILT)}
    assert report_quarter(only_open, ["2025-Q2", "2025-Q3"]) == "2025-Q3"  # none closed: the latest built
    assert report_quarter({}, []) is None


def test_report_quarter_of_a_run_summary():
    from pipelines.run import RunSummary, _report_quarter

    assert _report_quarter(RunSummary(quarters=QUARTERS, snapshots=TINY_FIRST)) == "2025-Q1"
    assert _report_quarter(RunSummary(quarters=["2025-Q2"], snapshots={"2025-Q2": QuarterStatus(S.OPEN)})) == "2025-Q2"


def _printed(summary, monkeypatch, capsys) -> list[str]:
    import kpi.cli
    import pipelines.run

    monkeypatch.setattr(pipelines.run, "run_pipeline", lambda *args, **kwargs: summary)
    kpi.cli._run(Path("in"), Path("in/config.yaml"), Path("w.duckdb"), None, allow_development_key=True,
                 report=False)
    return capsys.readouterr().out.splitlines()


def test_kpi_run_prints_the_quarters_from_their_state(monkeypatch, capsys):
    from pipelines.run import RunSummary

    base = dict(quarters=QUARTERS, files_ingested=64, rows_read=2661, quarantined={"duplicate": 136})
    lines = _printed(RunSummary(snapshots=CORRECTED, **base), monkeypatch, capsys)
    assert lines == [
        "Warehouse w.duckdb",
        "Inputs: 64 files, 2,661 rows read",
        "Quarters built: 2025-Q1, 2025-Q2",
        "Quarters unchanged since the last run (not rebuilt): 2024-Q4",
        "Quarters closed: 2024-Q4, 2025-Q1, 2025-Q2",
        "  2025-Q1: RESTATED: version 2 written, 21 figures changed",
        "Quarantined rows by reason: duplicate 136 (details: audit.quarantine)",
        "Alerts: none",
    ]
    lines = _printed(RunSummary(snapshots=TINY_AGAIN, **base), monkeypatch, capsys)
    assert lines[2:5] == [
        "Quarters built: none",
        "Quarters unchanged since the last run (not rebuilt): 2024-Q4, 2025-Q1, 2025-Q2",
        "Quarters closed: 2024-Q4, 2025-Q1",
    ]
    lines = _printed(RunSummary(snapshots=TINY_FIRST, **base), monkeypatch, capsys)
    assert lines[2:4] == ["Quarters built: 2024-Q4, 2025-Q1, 2025-Q2", "Quarters closed: 2024-Q4, 2025-Q1"]
    assert lines[4].startswith("Quarantined rows by reason:")
