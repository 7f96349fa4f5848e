"""Calendar quarters: the ONE place that maps dates to quarter labels (``2025-Q1``) and back.

Quarters are company-local calendar quarters; dates handed in are already company-local.
SQL never derives labels itself: it receives ``$quarter`` plus ``$quarter_start`` /
``$quarter_end`` computed here. Dagster time-window partitions are keyed by the quarter's first
day as ``strftime("%Y-%m-%d")``; :func:`partition_key_to_label` and :func:`label_to_partition_key`
convert between the two.
"""

from __future__ import annotations

import datetime as dt
import re

from kpi.errors import UserError

__all__ = [
    "days_in_quarter",
    "label_to_partition_key",
    "next_quarter",
    "parse_quarter",
    "partition_key_to_label",
    "previous_quarter",
    "quarter_bounds",
    "quarter_label",
    "quarters_between",
    "weeks_in_quarter",
]

_LABEL = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_quarter(label: str) -> tuple[int, int]:
    """``"2025-Q3"`` -> ``(2025, 3)``; anything else raises a one-line :class:`UserError`."""
    match = _LABEL.match(str(label).strip())
    if not match:
        raise UserError(
            f"quarter '{label}' is not a quarter label: write it as YYYY-Qn, e.g. 2025-Q1"
        )
    return int(match.group(1)), int(match.group(2))


def quarter_label(day: dt.date) -> str:
    """The label of the quarter holding ``day``: ``date(2025, 5, 3)`` -> ``"2025-Q2"``."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First and last day (both inclusive) of a quarter."""
    year, q = parse_quarter(label)
    first = dt.date(year, 3 * (q - 1) + 1, 1)
    following = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return first, following - dt.timedelta(days=1)


def days_in_quarter(label: str) -> int:
    """Number of calendar days of the quarter (90, 91 or 92)."""
    first, last = quarter_bounds(label)
    return (last - first).days + 1


def weeks_in_quarter(label: str) -> float:
    """``days(q) / 7`` (a 90-day quarter has 12.857 weeks, not 13)."""
    return days_in_quarter(label) / 7


def next_quarter(label: str) -> str:
    year, q = parse_quarter(label)
    return f"{year + 1}-Q1" if q == 4 else f"{year}-Q{q + 1}"


def previous_quarter(label: str) -> str:
    year, q = parse_quarter(label)
    return f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}"


def quarters_between(first: str | dt.date, last: str | dt.date) -> list[str]:
    """Every quarter label from ``first`` to ``last``, both included (labels or dates);
    empty when ``first`` is after ``last``."""
    a = first if isinstance(first, str) else quarter_label(first)
    b = last if isinstance(last, str) else quarter_label(last)
    if parse_quarter(a) > parse_quarter(b):
        return []
    labels = [a]
    while labels[-1] != b:
        labels.append(next_quarter(labels[-1]))
    return labels


def partition_key_to_label(key: str) -> str:
    """Dagster partition key (the quarter's first day, ``"2025-01-01"``) -> ``"2025-Q1"``."""
    try:
        day = dt.date.fromisoformat(str(key).strip()[:10])
    except ValueError:
        raise UserError(
            f"partition key '{key}' is not a date: expected the quarter's first day, e.g. 2025-01-01"
        ) from None
    return quarter_label(day)


def label_to_partition_key(label: str) -> str:
    """``"2025-Q1"`` -> ``"2025-01-01"`` (the Dagster time-window key of the quarter)."""
    return quarter_bounds(label)[0].strftime("%Y-%m-%d")
