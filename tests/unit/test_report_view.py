"""What the report says (kpi/report/view.py) and how a page is laid out, from hand-made sections:
no warehouse needed. Figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from kpi.report import render_html
from kpi.report.collect import (
    Assumption,
    BusinessSection,
    CompetenceSection,
    CultureSection,
    LearningSection,
    QualitySection,
    ReportData,
    RoiQuarter,
    RoiSection,
    SuppressedRow,
    UsageRow,
    UsageSection,
)
from kpi.report.render import join_lines
from kpi.report.settings import Settings
from kpi.report.standing import STANDING_TABLES, Standing
from kpi.report.view import (
    AssumptionValue,
    Fragment,
    assumption_lines,
    assumption_value,
    headline_cards,
    hidden_caption,
    narrative,
    roi_status,
    usage_lines,
)


def usage_row(segment_type, segment, rate, prev, *, headcount=40, suppressed=False, reason=None):
    if suppressed:
        return UsageRow(segment_type, segment, True, reason, None, None, None, None, None, None, None)
    return UsageRow(segment_type, segment, False, None, headcount, round(rate * headcount), rate, rate / 2, 3.25,
                    prev, prev / 2)


def report(usage_rows, roi=None) -> ReportData:
    empty = pl.DataFrame()
    return ReportData(
        quarter="2026-Q3", previous="2026-Q2", quarters=["2026-Q2", "2026-Q3"],
        settings=Settings(company="Beispiel AG", k=5, usage_drop_points=10.0, culture_drop_points=7.5,
                          k_source="config"),
        warehouse=Path("/somewhere/warehouse.duckdb"), generated_at=dt.datetime(2026, 10, 5, 6, 0),
        status="closed: figures frozen as snapshot version 1 on 2026-10-05",
        usage=UsageSection(trend=empty, heat=empty, tools=empty, table=usage_rows, tool_table=[], hidden=[]),
        competence=CompetenceSection(trend=empty, table=[], hidden=[]),
        business=BusinessSection(company=empty, processes=[], now=None, before=None),
        culture=CultureSection(waves=[]),
        roi=roi or RoiSection(have={t: False for t in ("roi_monthly", "roi_quarterly", "roi_sensitivity",
                                                        "budget_plan_vs_actual", "roi_assumptions")}),
        alerts=[], restatements=[], quality=QualitySection(),
        standing=Standing(quarter="2026-Q3", quarters=[], k=5, have={t: False for t in STANDING_TABLES}),
        learning=LearningSection(have={t: False for t in ("kpi_learning", "kpi_cohorts", "kpi_training")}))


ROWS = [usage_row("company", "all", 0.5, 0.45, headcount=180),
        usage_row("department", "Sales", 0.6, 0.5),
        usage_row("department", "Ops", 0.4, 0.45),
        usage_row("target_group", "executive", 0, 0, suppressed=True, reason="small_group")]


def sentence(parts: list[Fragment]) -> str:
    return "".join(f"**{p.text}**" if p.strong else p.text for p in parts)


def test_narrative_from_the_figures():
    assert [sentence(s) for s in narrative(report(ROWS))] == [
        "In 2026-Q3, **50.0 %** of the 180 employees used an AI tool at least once (+5.0 pts on 2026-Q2), "
        "and 25.0 % were regular users.",
        "Since 2026-Q2, the active-user rate rose most in **Sales** (+10.0 pts to 60.0 %) and fell most in **Ops** "
        "(−5.0 pts to 40.0 %).",
        "No alerts: no segment's active-user rate fell by more than 10 points and no culture construct's "
        "favorability by more than 7.5 points.",
        "ROI tables not built yet: run kpi run.",
    ]


def test_headline_cards():
    cards = {c.label: c for c in headline_cards(report(ROWS))}
    active = cards["Active-user rate"]
    assert (active.value, active.delta, active.direction, active.note) == ("50.0 %", "+5.0 pts", "good", "vs 2026-Q2")
    assert (cards["Regular-user rate"].value, cards["Regular-user rate"].delta) == ("25.0 %", "+2.5 pts")
    skill = cards["Skill score"]  # no competence rows: nothing to compare
    assert (skill.value, skill.delta, skill.direction) == ("–", None, "flat")
    assert cards["Favorability"].note == "no survey wave yet"
    assert cards["ROI to date"].note == cards["Payback"].note == "ROI tables not built yet: run kpi run"


def test_usage_lines_carry_changes_and_hide_nothing_but_figures():
    lines = usage_lines(report(ROWS))
    sales = lines[1]
    assert (sales.label, sales.kind, sales.suppressed) == ("Sales", "department", False)
    assert round(sales.changes["active_user_rate"], 10) == 0.1
    executive = lines[3]
    assert (executive.label, executive.kind, executive.suppressed, executive.reason) == (
        "Executive", "target group", True, "small_group")
    assert executive.changes == {"active_user_rate": None, "regular_user_rate": None}


def roi(row: RoiQuarter) -> RoiSection:
    return RoiSection(have={t: True for t in ("roi_monthly", "roi_quarterly", "roi_sensitivity",
                                               "budget_plan_vs_actual", "roi_assumptions")},
                      row=row, month_of={7: dt.date(2025, 7, 1), 13: dt.date(2026, 1, 1)})


def test_roi_status():
    broke_even = RoiQuarter("2026-Q1", 15, 1000.0, 1300.0, 2600.0, 30.0, 1.3, 13, 12.4, 150.0, 14.0, 10.0, 0.46, 0.6)
    assert roi_status(report(ROWS, roi(broke_even))) == "Broke even in month 13 (January 2026); payback 12.4 months"
    not_yet = RoiQuarter("2025-Q3", 7, 1000.0, 780.0, 1560.0, -22.0, 0.78, None, None, -250.0, None, None, None, None)
    assert roi_status(report(ROWS, roi(not_yet))) == (
        "Not yet broken even: cumulative benefits cover 78 % of costs (as of month 7)")
    assert roi_status(report(ROWS, roi(not_yet)), with_month=False) == (
        "Not yet broken even: cumulative benefits cover 78 % of costs")


def test_assumption_values():
    def a(name, value, unit):
        return Assumption(name, value, "" if value is None else str(value), unit, "config", "why")

    assert assumption_value(a("benefits.attribution", 0.3, "fraction")) == AssumptionValue("0.3", "30 %")
    assert assumption_value(a("x", 0.125, "fraction"), short=True) == AssumptionValue("12.5 %")
    assert assumption_value(a("x", 65, "EUR/hour")) == AssumptionValue("€65 per hour")
    assert assumption_value(a("x", 65.5, "EUR/hour"), short=True) == AssumptionValue("€65.50/h")
    assert assumption_value(a("x", 1.2, "multiplier")) == AssumptionValue("×1.2")
    assert assumption_value(a("x", 1.0, "boolean")) == AssumptionValue("yes")
    lines = assumption_lines([a("benefits.attribution", 0.3, "fraction"),
                              a("rates.hourly_cost_eur.manager", 90, "EUR/hour"),
                              a("rates.hourly_cost_eur.user", 65, "EUR/hour")])
    assert [(x.name, x.family) for x in lines] == [("benefits.attribution", False), ("rates.hourly_cost_eur.*", True)]
    assert lines[1].members == (("manager", AssumptionValue("€90/h")), ("user", AssumptionValue("€65/h")))


def test_hidden_caption_names_groups_without_figures():
    hidden = [SuppressedRow("kpi_usage", "2025-Q1", "target_group", "executive", None, "small_group"),
              SuppressedRow("kpi_usage", "2025-Q2", "target_group", "executive", None, "small_group"),
              SuppressedRow("kpi_usage", "2025-Q1", "target_group", "champion", None, "complementary")]
    assert hidden_caption(hidden, 5, "people") == (
        "Not shown, fewer than 5 people: Executive in 2 quarters, 2025-Q1 to 2025-Q2. Withheld so that a group of "
        "fewer than 5 cannot be worked out from the total: Champion in 2025-Q1.")
    assert hidden_caption([], 5, "people") == ""


def test_join_lines_drops_layout_breaks_only():
    assert join_lines("<p>\n  a {{ x\n     }}\n</p>\n") == "<p>a {{ x }}</p>"
    assert join_lines('<td class="num" >{{ " " }}\n  x</td>') == '<td class="num" >{{ " " }}x</td>'


def test_a_page_from_hand_made_sections():
    """The templates lay out what the view says: escaped text, the suppressed row without a
    figure, no chart when there is none, and the missing ROI said in words."""
    d = report(ROWS + [usage_row("department", "R&D <Lab>", 0.3, 0.3)])
    page = render_html(d, [])
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</html>\n")
    assert "<title>Beispiel AG — AI-training programme, quarterly review 2026-Q3</title>" in page
    assert "generated 2026-10-05 06:00 from warehouse.duckdb" in page and "/somewhere" not in page
    assert "<p>In 2026-Q3, <strong>50.0 %</strong> of the 180 employees" in page
    assert ('<tr data-segment-type="target_group" data-segment="executive" data-suppressed="true">'
            '<th scope="row" class="seg">Executive<span class="kind">target group</span></th>'
            '<td class="suppressed" colspan="7" >fewer than 5</td></tr>') in page
    assert ('<th scope="row" class="seg">R&amp;D &lt;Lab&gt;<span class="kind">department</span></th>'
            '<td class="num" >40</td><td class="num" >12</td><td class="num" >30.0 %</td>'
            '<td class="num" ><span class="delta flat">±0.0 pts</span></td>') in page
    assert '<div class="vega"' not in page
    assert '<p class="note missing">ROI tables not built yet: run kpi run (marts.roi_monthly' in page
    assert "<p>No survey wave yet.</p>" in page and "<p>Nothing was quarantined.</p>" in page
