"""Alerts: a segment whose active-user rate fell, a culture construct whose favorability fell, a
configured target that is red in a quarter, a rollout milestone that was missed.

Thresholds are percentage points (`alerts.usage_drop_points`, `alerts.culture_drop_points`): a
drop of 10 points is a drop of 0.10 in the stored fraction. Suppressed rows never alert (their
figures are NULL), so an alert can not leak a small group's figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kpi.quarters import previous_quarter
from kpi.report.i18n import _


def _who(segment_type: str, segment: str) -> str:
    """The segment an alert is about, in the report's language."""
    if segment_type == "company":
        return _("the company")
    if segment_type == "department":
        return _("department %(name)s", name=segment)
    if segment_type == "target_group":
        return _("target_group %(name)s", name=segment)
    if segment_type == "tool":
        return _("tool %(name)s", name=segment)
    return f"{segment_type} {segment}"


def _whole_percent(x: float) -> str:
    """0.42 -> '42' (the percent sign is the message's), with the language's separators."""
    from kpi.report.formatting import number_text

    return number_text(x * 100, 0)


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

    def report_text(self, with_quarter: bool = True) -> str:
        """:meth:`describe` in the report's language (the terminal keeps :meth:`describe`)."""
        from kpi.report.formatting import fmt_num

        values = {"what": _who(self.segment_type, self.segment), "drop": fmt_num(self.drop_points, 1),
                  "previous": _whole_percent(self.previous), "current": _whole_percent(self.current)}
        if self.metric.startswith("favorability_"):
            text = _("favorability %(construct)s of %(what)s fell %(drop)s points (%(previous)s%% -> %(current)s%%)",
                     construct=self.metric[len("favorability_"):].replace("_", " "), **values)
        elif self.metric == "active_user_rate":
            text = _("active user rate of %(what)s fell %(drop)s points (%(previous)s%% -> %(current)s%%)", **values)
        else:
            from kpi.report.standing import label

            text = _("%(metric)s of %(what)s fell %(drop)s points (%(previous)s%% -> %(current)s%%)",
                     metric=label(self.metric), **values)
        return _("%(quarter)s: %(alert)s", quarter=self.quarter, alert=text) if with_quarter else text


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


@dataclass(frozen=True)
class TargetAlert:
    """A target of the ``targets:`` config whose status is red in the quarter (docs/metrics.md §9)."""
    quarter: str
    metric: str
    segment_type: str
    segment: str
    target: float
    actual: float
    due_quarter: str | None
    owner: str | None

    def describe(self) -> str:
        from kpi.report.formatting import fmt_metric
        from kpi.report.standing import label

        what = f"{self.segment_type} {self.segment}" if self.segment_type != "company" else "the company"
        extra = ", ".join(x for x in (f"by {self.due_quarter}" if self.due_quarter else "",
                                      f"owner {self.owner}" if self.owner else "") if x)
        return (f"{self.quarter}: target {label(self.metric)} of {what} is red: "
                f"{fmt_metric(self.metric, self.actual)} against {fmt_metric(self.metric, self.target)}"
                + (f" ({extra})" if extra else ""))

    def report_text(self, with_quarter: bool = True) -> str:
        """:meth:`describe` in the report's language (the terminal keeps :meth:`describe`)."""
        from kpi.report.formatting import fmt_metric
        from kpi.report.standing import label

        values = {"metric": label(self.metric), "what": _who(self.segment_type, self.segment),
                  "actual": fmt_metric(self.metric, self.actual), "target": fmt_metric(self.metric, self.target),
                  "due": self.due_quarter, "owner": self.owner}
        if self.due_quarter and self.owner:
            text = _("target %(metric)s of %(what)s is red: %(actual)s against %(target)s (by %(due)s, owner "
                     "%(owner)s)", **values)
        elif self.due_quarter:
            text = _("target %(metric)s of %(what)s is red: %(actual)s against %(target)s (by %(due)s)", **values)
        elif self.owner:
            text = _("target %(metric)s of %(what)s is red: %(actual)s against %(target)s (owner %(owner)s)",
                     **values)
        else:
            text = _("target %(metric)s of %(what)s is red: %(actual)s against %(target)s", **values)
        return _("%(quarter)s: %(alert)s", quarter=self.quarter, alert=text) if with_quarter else text


def target_alerts(con, quarter: str) -> list[TargetAlert]:
    """The configured targets that are red in ``quarter`` (benchmarks never alert: they are
    comparisons, not commitments); none when the warehouse has no kpi_targets table."""
    from kpi.warehouse import table_exists

    if not table_exists(con, "marts.kpi_targets"):
        return []
    rows = con.sql(
        """
        SELECT metric_name, segment_type, segment, target, actual, due_quarter, owner
        FROM marts.kpi_targets
        WHERE quarter = $quarter AND source = 'target' AND status = 'red'
        ORDER BY segment_type <> 'company', segment, metric_name
        """,
        params={"quarter": quarter},
    ).fetchall()
    return [TargetAlert(quarter, *row) for row in rows]


@dataclass(frozen=True)
class MilestoneAlert:
    """A milestone of the 90-day rollout that was missed (docs/metrics.md §8)."""
    milestone: str
    phase: str
    due_date: dt.date
    reached_on: dt.date | None
    days_late: int | None

    def describe(self) -> str:
        late = (f"reached {self.reached_on.isoformat()}, {self.days_late} days late" if self.reached_on
                else f"not reached, {self.days_late} days overdue")
        return f"rollout: {self.milestone} ({self.phase}, due {self.due_date.isoformat()}) missed: {late}"


def milestone_alerts(con) -> list[MilestoneAlert]:
    """The missed milestones of ``marts.rollout_milestones`` (none without the table)."""
    from kpi.warehouse import table_exists

    if not table_exists(con, "marts.rollout_milestones"):
        return []
    rows = con.sql("SELECT milestone, phase, due_date, reached_on, days_late FROM marts.rollout_milestones "
                   "WHERE status = 'missed' ORDER BY sort_order").fetchall()
    return [MilestoneAlert(*row) for row in rows]


def quarter_alerts(con, cfg, quarter: str) -> list[Alert | TargetAlert]:
    """Every alert of one quarter: usage and culture drops, red targets."""
    return [*usage_alerts(con, quarter, cfg.alerts.usage_drop_points),
            *culture_alerts(con, quarter, cfg.alerts.culture_drop_points),
            *target_alerts(con, quarter)]
