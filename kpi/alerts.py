"""Alerts: a segment whose active-user rate fell, a culture construct whose favorability fell.

Thresholds are percentage points (`alerts.usage_drop_points`, `alerts.culture_drop_points`): a
drop of 10 points is a drop of 0.10 in the stored fraction. Suppressed rows never alert (their
figures are NULL), so an alert can not leak a small group's figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi.quarters import previous_quarter


@dataclass(frozen=True)
class Alert:
    quarter: str
    kind: str  # usage_drop | culture_drop
    segment_type: str
    segment: str
    metric: str
    previous: float
    current: float

    @property
    def drop_points(self) -> float:
        return round((self.previous - self.current) * 100, 1)

    def describe(self) -> str:
        what = f"{self.segment_type} {self.segment}" if self.segment_type != "company" else "the company"
        return (f"{self.quarter}: {self.metric.replace('_', ' ')} of {what} fell {self.drop_points:.1f} points "
                f"({self.previous:.0%} -> {self.current:.0%})")


def usage_alerts(con, quarter: str, drop_points: float) -> list[Alert]:
    """Segments (any segment type) whose active_user_rate fell by more than `drop_points`."""
    rows = con.sql(
        """
        SELECT c.segment_type, c.segment, p.active_user_rate, c.active_user_rate
        FROM marts.kpi_usage c JOIN marts.kpi_usage p
          ON p.quarter = $previous AND p.segment_type = c.segment_type AND p.segment = c.segment
        WHERE c.quarter = $quarter AND c.active_user_rate IS NOT NULL AND p.active_user_rate IS NOT NULL
          AND p.active_user_rate - c.active_user_rate > $drop
        ORDER BY p.active_user_rate - c.active_user_rate DESC, c.segment_type, c.segment
        """,
        params={"quarter": quarter, "previous": previous_quarter(quarter), "drop": drop_points / 100},
    ).fetchall()
    return [Alert(quarter, "usage_drop", st, seg, "active_user_rate", prev, cur) for st, seg, prev, cur in rows]


def culture_alerts(con, quarter: str, drop_points: float) -> list[Alert]:
    """Constructs whose company-wide favorability fell by more than `drop_points` since the previous wave.

    Segment-level culture figures rest on few responses and swing from wave to wave, so only the
    company row of each construct alerts (the report still shows every segment's change)."""
    rows = con.sql(
        """
        SELECT segment_type, segment, construct, favorability - favorability_change, favorability
        FROM marts.kpi_culture
        WHERE quarter = $quarter AND segment_type = 'company'
          AND favorability_change IS NOT NULL AND -favorability_change > $drop
        ORDER BY favorability_change, construct, segment_type, segment
        """,
        params={"quarter": quarter, "drop": drop_points / 100},
    ).fetchall()
    return [Alert(quarter, "culture_drop", st, seg, f"favorability_{construct}", prev, cur)
            for st, seg, construct, prev, cur in rows]


def quarter_alerts(con, cfg, quarter: str) -> list[Alert]:
    return usage_alerts(con, quarter, cfg.alerts.usage_drop_points) + culture_alerts(
        con, quarter, cfg.alerts.culture_drop_points)
