"""``marts.rollout_milestones``: the 90-day rollout (docs/metrics.md §8).

One table for the whole programme, written by the ``roi`` Dagster asset beside the ROI marts
(``build_rollout(con, cfg)``; the caller owns the transaction). Each milestone of the
``rollout:`` config is measured from the staging tables; ``reached_on`` is the first day its
target was met, computed from completion dates, usage days and submission dates.

Day 1 is ``program.start``; a milestone is due on day ``due_day`` (``due_date`` = start +
due_day - 1). The data's last day is the latest date in the usage, trainings, use cases and
costs. A milestone is ``reached`` when its target was met on or before its due date, ``missed``
when the due date passed without it (``reached_on`` still records a later day it was met, and
``days_late`` how late it was or is), else ``pending``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["ROLLOUT_COLUMNS", "ROLLOUT_TABLE", "build_rollout", "data_last_day", "milestone_rows"]

ROLLOUT_TABLE = "marts.rollout_milestones"
ROLLOUT_COLUMNS: tuple[str, ...] = (
    "phase", "milestone", "kind", "due_day", "due_date", "target", "actual", "group_size",
    "reached_on", "days_late", "status",
)


def data_last_day(con: Any) -> dt.date | None:
    """The latest day of the data: usage days, training start and completion days, use-case
    submissions and cost bookings (None when every table is empty)."""
    (day,) = con.execute("""
        SELECT max(d) FROM (
            SELECT max(day) AS d FROM intermediate.usage_activity
            UNION ALL SELECT max(greatest(started_on, coalesce(completed_on, started_on))) FROM staging.trainings
            UNION ALL SELECT max(submitted_on) FROM staging.use_cases
            UNION ALL SELECT max(booked_on) FROM staging.costs
        )""").fetchone()
    return day


def _group_size(con: Any, groups: Sequence[str] | None, day: dt.date) -> int:
    """Employees employed on ``day`` (of the target groups, when given)."""
    sql = ("SELECT count(*) FROM staging.employees WHERE hire_date <= $day "
           "AND (exit_date IS NULL OR exit_date >= $day)")
    params: dict[str, Any] = {"day": day}
    if groups is not None:
        sql += " AND list_contains($groups, target_group)"
        params["groups"] = list(groups)
    return int(con.execute(sql, params).fetchone()[0])


def _first_completions(con: Any, groups: Sequence[str], formats: Sequence[str], day: dt.date) -> list[dt.date]:
    """Per member of the groups employed on ``day``: the first completion of a training of the
    formats, sorted (members without one are left out)."""
    rows = con.execute("""
        SELECT min(t.completed_on) AS first_done
        FROM staging.employees AS e
        JOIN staging.trainings AS t USING (employee_key)
        WHERE e.hire_date <= $day AND (e.exit_date IS NULL OR e.exit_date >= $day)
          AND list_contains($groups, e.target_group)
          AND t.status = 'completed' AND t.completed_on IS NOT NULL
          AND list_contains($formats, t.format)
        GROUP BY e.employee_key
        ORDER BY first_done""", {"day": day, "groups": list(groups), "formats": list(formats)}).fetchall()
    return [r[0] for r in rows]


def _first_usage_days(con: Any, start: dt.date) -> list[dt.date]:
    """Per user: the first usage day on or after program.start, sorted."""
    rows = con.execute("""
        SELECT min(day) AS first_day FROM intermediate.usage_activity
        WHERE day >= $start GROUP BY employee_key ORDER BY first_day""", {"start": start}).fetchall()
    return [r[0] for r in rows]


def _production_days(con: Any) -> list[dt.date]:
    """Submission days of the self-developed use cases in production, sorted."""
    rows = con.execute("""
        SELECT submitted_on FROM staging.use_cases
        WHERE status = 'production' AND self_developed ORDER BY submitted_on""").fetchall()
    return [r[0] for r in rows]


def _month_end(start: dt.date, m: int) -> dt.date:
    """The last day of programme month m (month 1 = the calendar month of program.start)."""
    year, month = divmod(start.month - 1 + m, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


def _nth(days: Sequence[dt.date], needed: int, start: dt.date) -> dt.date | None:
    """The day the ``needed``-th event happened (not before program.start); None if too few."""
    if needed <= 0:
        return start
    if len(days) < needed:
        return None
    return max(days[needed - 1], start)


def milestone_rows(con: Any, cfg: Any) -> list[dict[str, Any]]:
    """The rows of ``marts.rollout_milestones`` in config order."""
    start: dt.date = cfg.program.start
    k = int(cfg.privacy.min_group_size)
    last = data_last_day(con)
    out = []
    for ms in cfg.rollout:
        due = start + dt.timedelta(days=ms.due_day - 1)
        as_of = due if last is None else min(due, last)  # what was achieved by the due date
        target = float(ms.target)
        actual: float | None
        reached: dt.date | None
        withheld = False
        if ms.kind == "share_trained":
            size = _group_size(con, ms.groups, as_of)
            done = _first_completions(con, ms.groups, ms.formats, as_of)
            withheld = size < k
            actual = sum(1 for d in done if d <= as_of) / size if size else None
            # the smallest number of people whose share reaches the target (guarding float noise)
            needed = math.ceil(round(target * size, 9))
            reached = _nth(done, needed, start) if size else None
        elif ms.kind == "active_users":
            size = _group_size(con, None, as_of)
            firsts = _first_usage_days(con, start)
            withheld = size < k
            actual = float(sum(1 for d in firsts if d <= as_of))
            reached = _nth(firsts, math.ceil(target), start)
        elif ms.kind == "production_use_cases":
            size = None
            days = _production_days(con)
            actual = float(sum(1 for d in days if d <= as_of))
            reached = _nth(days, math.ceil(target), start)
        else:  # roi_months: complete programme months in the data, up to the horizon
            size = None
            months = 0
            while months < cfg.roi.horizon_months and _month_end(start, months + 1) <= as_of:
                months += 1
            actual = float(months)
            reached = start if target <= 0 else _month_end(start, math.ceil(target))
        if reached is not None and (last is None or reached > last):
            reached = None  # not in the data yet
        days_late: int | None = None
        if withheld:
            actual, reached, status = None, None, "withheld"
        elif reached is not None and reached <= due:
            status = "reached"
        elif reached is not None:  # reached, but after its due date
            status, days_late = "missed", (reached - due).days
        elif last is not None and last > due:
            status, days_late = "missed", (last - due).days
        else:
            status = "pending"
        out.append({
            "phase": ms.phase, "milestone": ms.name, "kind": ms.kind, "due_day": ms.due_day,
            "due_date": due, "target": target, "actual": actual, "group_size": size,
            "reached_on": reached, "days_late": days_late, "status": status,
        })
    return out


def _kept_rows(con: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each milestone due in a frozen quarter (kpi/retention.py: purged, or closed
    when a person was erased) replaced by its stored row, when the milestone is unchanged (same
    kind, due day and target): its person-level inputs may be gone, its result is final."""
    from kpi.freshness import frozen_quarters
    from kpi.quarters import quarter_label

    frozen = frozen_quarters(con)
    if not frozen:
        return rows
    stored = {r[0]: dict(zip(("milestone", *ROLLOUT_COLUMNS), r)) for r in con.execute(
        f"SELECT milestone, {', '.join(ROLLOUT_COLUMNS)} FROM {ROLLOUT_TABLE}").fetchall()}
    out = []
    for row in rows:
        old = stored.get(row["milestone"])
        same = old is not None and all(old[c] == row[c] for c in ("kind", "due_day", "target"))
        out.append({c: old[c] for c in ROLLOUT_COLUMNS} if same and quarter_label(row["due_date"]) in frozen
                   else row)
    return out


def build_rollout(con: Any, cfg: Any) -> int:
    """Replace every row of ``marts.rollout_milestones``; the number of rows written."""
    from kpi.migrations import prepare
    from kpi.roi_marts import _ensure_inputs, _replace

    _ensure_inputs(con)
    prepare(con, ROLLOUT_TABLE)
    rows = _kept_rows(con, milestone_rows(con, cfg))
    return _replace(con, ROLLOUT_TABLE, ROLLOUT_COLUMNS, rows, sort_order=True)
