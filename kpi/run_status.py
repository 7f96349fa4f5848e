"""What a run did with each quarter: a type, not prose (Dagster-free).

The ``kpi_snapshots`` asset records a quarter's ``QuarterState`` and version as metadata,
``kpi run`` (pipelines/run.py) turns them into ``QuarterStatus`` objects in its summary, and the
CLI decides from ``.state``; ``describe()`` gives the line shown to people (Dagster UI, summary).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class QuarterState(StrEnum):
    """One quarter after a run."""

    OPEN = "open"  # built; usage data does not reach its last day yet: no snapshot
    OPEN_NOT_REBUILT = "open_not_rebuilt"  # open, and nothing it is made of changed: not rebuilt
    CLOSED_WRITTEN = "closed_written"  # built and closed: its first snapshot (version 1) written
    CLOSED_FIGURES_UNCHANGED = "closed_figures_unchanged"  # rebuilt, same figures: nothing written
    CLOSED_NOT_REBUILT = "closed_not_rebuilt"  # closed, and nothing it is made of changed: not rebuilt
    RESTATED = "restated"  # rebuilt with other figures: snapshot version 2 or later written

    @property
    def closed(self) -> bool:
        return self not in (QuarterState.OPEN, QuarterState.OPEN_NOT_REBUILT)

    @property
    def rebuilt(self) -> bool:
        return self not in (QuarterState.OPEN_NOT_REBUILT, QuarterState.CLOSED_NOT_REBUILT)


_OPEN = "open (usage data does not reach the quarter's last day yet)"


@dataclass(frozen=True)
class QuarterStatus:
    """A quarter's state, the snapshot version written (None: none written) and how many figures
    changed against the previous version (restatements only)."""

    state: QuarterState
    version: int | None = None
    changed_figures: int = 0

    def __post_init__(self) -> None:
        if self.state is QuarterState.CLOSED_WRITTEN:
            ok = self.version == 1 and self.changed_figures == 0
        elif self.state is QuarterState.RESTATED:
            ok = self.version is not None and self.version >= 2 and self.changed_figures >= 0
        else:
            ok = self.version is None and self.changed_figures == 0
        if not ok:
            raise ValueError(f"quarter state {self.state.value} with version {self.version} and "
                             f"{self.changed_figures} changed figures: version 1 is closed_written, "
                             "2 or later restated, none for the other states")

    @classmethod
    def of_snapshot(cls, closed: bool, version: int | None, changed_figures: int) -> QuarterStatus:
        """The status of a quarter just built, from its snapshot outcome (``kpi.snapshots``)."""
        if not closed:
            return cls(QuarterState.OPEN)
        if version is None:
            return cls(QuarterState.CLOSED_FIGURES_UNCHANGED)
        if version == 1:
            return cls(QuarterState.CLOSED_WRITTEN, 1)
        return cls(QuarterState.RESTATED, version, changed_figures)

    @classmethod
    def not_rebuilt(cls, closed: bool) -> QuarterStatus:
        """The status of a quarter left as it was (nothing its figures are made of changed)."""
        return cls(QuarterState.CLOSED_NOT_REBUILT if closed else QuarterState.OPEN_NOT_REBUILT)

    def metadata(self) -> dict[str, Any]:
        """What the kpi_snapshots asset records (``version`` 0 = none written; ``status`` for people)."""
        return {"status": self.describe(), "state": self.state.value, "version": self.version or 0,
                "changed_figures": self.changed_figures}

    @classmethod
    def from_metadata(cls, values: Mapping[str, Any]) -> QuarterStatus:
        """The status recorded by ``metadata()`` (plain values, not Dagster metadata objects)."""
        return cls(QuarterState(values["state"]), int(values["version"]) or None, int(values["changed_figures"]))

    def describe(self) -> str:
        """The line shown in the run summary and the Dagster UI."""
        match self.state:
            case QuarterState.OPEN:
                return f"{_OPEN}: not snapshotted"
            case QuarterState.OPEN_NOT_REBUILT:
                return f"{_OPEN}, unchanged since the last run"
            case QuarterState.CLOSED_WRITTEN:
                return "closed: version 1 written"
            case QuarterState.CLOSED_FIGURES_UNCHANGED:
                return "closed, figures unchanged: nothing written"
            case QuarterState.CLOSED_NOT_REBUILT:
                return "closed, unchanged since the last run: not rebuilt"
            case QuarterState.RESTATED:
                return f"RESTATED: version {self.version} written, {self.changed_figures} figures changed"
        raise AssertionError(self.state)


# ----------------------------------------------------------------------------------------------
# decisions over a run's quarters (quarter label -> status)


def closed_quarters(statuses: Mapping[str, QuarterStatus]) -> list[str]:
    """The closed quarters, in the mapping's order."""
    return [q for q, s in statuses.items() if s.state.closed]


def not_rebuilt_quarters(statuses: Mapping[str, QuarterStatus]) -> list[str]:
    """The quarters left as they were (unchanged since the last run), in the mapping's order."""
    return [q for q, s in statuses.items() if not s.state.rebuilt]


def restated_quarters(statuses: Mapping[str, QuarterStatus]) -> list[str]:
    """The quarters whose snapshot was restated by this run, in the mapping's order."""
    return [q for q, s in statuses.items() if s.state is QuarterState.RESTATED]


def report_quarter(statuses: Mapping[str, QuarterStatus], quarters: list[str]) -> str | None:
    """The latest closed quarter (the latest quarter of the run when none is closed yet)."""
    closed = closed_quarters(statuses)
    return max(closed) if closed else (max(quarters) if quarters else None)
