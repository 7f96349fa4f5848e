"""Break-even attribution (kpi.roi.break_even_attribution, docs/roi.md): solved by hand on small
series, then checked by computing the ROI at that attribution (benefits − costs within a cent), at
the horizon and for year 1; the cases without a solution in [0, 1] say which side they are on;
the cap at 1 and the scenarios' attribution multiplier."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.roi import (
    BREAK_EVEN_NEGATIVE,
    BREAK_EVEN_SOLVED,
    BREAK_EVEN_UNDEFINED,
    Assumptions,
    Month,
    break_even_attribution,
    break_even_attribution_status,
    quarterly_table,
    sensitivity,
    summary,
)

CENT = 0.01


def month_date(m: int, start: dt.date = dt.date(2025, 1, 1)) -> dt.date:
    idx = start.year * 12 + start.month - 1 + m - 1
    return dt.date(idx // 12, idx % 12 + 1, 1)


def series(costs, time_savings, participant=None, quality=None) -> list[Month]:
    participant = participant or [0.0] * len(costs)
    quality = quality or [0.0] * len(costs)
    return [Month(m=i, month=month_date(i), cost_other=c, cost_participant_time=p, time_savings_eur=t,
                  quality_savings_eur=q)
            for i, (c, t, p, q) in enumerate(zip(costs, time_savings, participant, quality), start=1)]


def gap(s: list[Month], a: Assumptions, year1: bool = False) -> float:
    """Cumulative benefits − costs at the horizon (year 1: over months 1–12)."""
    out = summary(s, a, as_of_month=12 if year1 else None)
    return out.cum_benefits - out.cum_costs


A = Assumptions(attribution=0.6, confidence=0.8)

# €10,000 in month 1, then €500 a month; gross savings €1,500 a month from month 2 (24 months).
COSTS = [10_000.0] + [500.0] * 23
GROSS = [0.0] + [1_500.0] * 23
S = series(COSTS, GROSS)


def test_horizon_by_hand():
    # CC = 10,000 + 23 x 500 = 21,500; Σ G = 23 x 1,500 = 34,500; x = 21,500 / (34,500 x 0.8)
    x = break_even_attribution(S, A)
    assert x == pytest.approx(21_500 / (34_500 * 0.8))  # 0.7790
    assert abs(gap(S, A.replace(attribution=x))) < CENT
    assert summary(S, A.replace(attribution=x)).roi_pct == pytest.approx(0.0, abs=1e-9)
    # ROI >= 0 exactly above it
    below, above = (summary(S, A.replace(attribution=x + d)).roi_pct for d in (-0.001, 0.001))
    assert below < 0 < above
    # it does not depend on the attribution it replaces
    assert break_even_attribution(S, A.replace(attribution=0.1)) == x
    assert break_even_attribution_status(S, A) == (x, BREAK_EVEN_SOLVED)


def test_year1_by_hand():
    # months 1-12: CC = 10,000 + 11 x 500 = 15,500; Σ G = 11 x 1,500 = 16,500; x = 15,500 / (16,500 x 0.8) > 1
    assert break_even_attribution(S, A, year1=True) is None
    assert break_even_attribution_status(S, A, year1=True) == (None, BREAK_EVEN_NEGATIVE)
    assert gap(S, A.replace(attribution=1.0), year1=True) < 0  # negative even at attribution 1
    # confidence 1: x = 15,500 / 16,500 = 0.9394
    a = A.replace(confidence=1.0)
    x = break_even_attribution(S, a, year1=True)
    assert x == pytest.approx(15_500 / 16_500)
    assert abs(gap(S, a.replace(attribution=x), year1=True)) < CENT
    assert summary(S, a.replace(attribution=x)).year1_roi_pct == pytest.approx(0.0, abs=1e-9)


def test_every_part_and_what_if_scale_counts():
    """Participant time moves with the hourly cost, quality savings with the cost per error, every
    cost with the cost scale, both savings with the benefits scale; credit notes reduce costs."""
    s = series(costs=[8_000.0, -500.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0],
               time_savings=[0.0, 900.0, 1_100.0, 1_300.0, -200.0, 1_400.0, 1_500.0, 1_500.0, 1_600.0, 1_600.0,
                             1_700.0, 1_700.0, 1_800.0],
               participant=[2_000.0, 1_000.0] + [0.0] * 11,
               quality=[0.0, 100.0, 150.0, 150.0, 200.0, 200.0, 200.0, 250.0, 250.0, 250.0, 250.0, 250.0, 250.0])
    a = Assumptions(attribution=0.5, confidence=0.9, hourly_cost_scale=1.15, cost_per_error_scale=0.7,
                    cost_scale=1.05, benefits_scale=0.95)
    for year1 in (False, True):
        x = break_even_attribution(s, a, year1=year1)
        assert x is not None and 0 < x < 1
        assert abs(gap(s, a.replace(attribution=x), year1=year1)) < CENT
    # by hand at the horizon: C = (ledger + participant x 1.15) x 1.05, G = (T x 1.15 + Q x 0.7) x 0.95
    c = (sum(mo.ledger_costs for mo in s) + 3_000.0 * 1.15) * 1.05
    g = (sum(mo.time_savings_eur for mo in s) * 1.15 + sum(mo.quality_savings_eur for mo in s) * 0.7) * 0.95
    assert break_even_attribution(s, a) == pytest.approx(c / (g * 0.9))


def test_confidence_above_one_counts_as_one():
    assert break_even_attribution(S, A.replace(confidence=1.3)) == break_even_attribution(S, A.replace(confidence=1.0))


def test_none_when_even_full_attribution_does_not_pay():
    s = series([10_000.0, 100.0, 100.0], [0.0, 2_000.0, 2_000.0])
    assert break_even_attribution_status(s, A) == (None, BREAK_EVEN_NEGATIVE)
    assert summary(s, A.replace(attribution=1.0)).roi_pct < 0
    assert summary(s, A).break_even_attribution is None


def test_none_when_processes_got_slower_or_confidence_is_zero():
    slower = series([1_000.0, 100.0], [0.0, -300.0])  # slower than the baseline: ROI <= -100 % at any attribution
    assert break_even_attribution_status(slower, A) == (None, BREAK_EVEN_NEGATIVE)
    assert break_even_attribution_status(S, A.replace(confidence=0.0)) == (None, BREAK_EVEN_NEGATIVE)


def test_undefined_without_costs_or_before_month_12():
    free = series([0.0, 0.0], [0.0, 500.0])  # nothing spent: no ROI at all
    assert summary(free, A).roi_pct is None
    assert break_even_attribution_status(free, A) == (None, BREAK_EVEN_UNDEFINED)
    short = series([1_000.0] * 11, [2_000.0] * 11)
    assert break_even_attribution(short, A) == pytest.approx(11_000 / (22_000 * 0.8))
    assert break_even_attribution_status(short, A, year1=True) == (None, BREAK_EVEN_UNDEFINED)
    assert summary(short, A).year1_break_even_attribution is None
    # a horizon shorter than 12 months is the same
    assert break_even_attribution_status(S, A.replace(horizon_months=11), year1=True) == (None, BREAK_EVEN_UNDEFINED)


def test_exactly_one_when_full_attribution_just_breaks_even():
    s = series([800.0, 0.0], [0.0, 1_000.0])  # G x 0.8 = 800 = C
    assert break_even_attribution(s, A) == pytest.approx(1.0)
    assert abs(gap(s, A.replace(attribution=1.0))) < CENT


def test_summary_and_quarterly_rows_carry_it_as_of_their_month():
    s = summary(S, A)
    assert s.break_even_attribution == break_even_attribution(S, A)
    assert s.year1_break_even_attribution is None  # see test_year1_by_hand
    assert s.as_dict()["break_even_attribution"] == s.break_even_attribution
    rows = quarterly_table(S, A)
    for row in rows:
        # as of the quarter's last month n: the ROI as of n is 0 at that attribution
        x = row["break_even_attribution"]
        as_of = summary(S, A, as_of_month=row["m"])
        if x is None:
            assert summary(S, A.replace(attribution=1.0), as_of_month=row["m"]).roi_pct < 0
        else:
            at = summary(S, A.replace(attribution=x), as_of_month=row["m"])
            assert abs(at.cum_benefits - at.cum_costs) < CENT
        assert x == as_of.break_even_attribution
    assert rows[-1]["break_even_attribution"] == s.break_even_attribution
    assert [r["year1_break_even_attribution"] for r in rows] == [None] * len(rows)


@pytest.mark.parametrize("name, mult", [("conservative", {"attribution": 0.6, "benefits": 0.8, "costs": 1.1}),
                                        ("optimistic", {"attribution": 1.2, "benefits": 1.2, "costs": 0.95})])
def test_a_scenario_divides_by_its_attribution_multiplier(name, mult):
    """A scenario credits min(1, attribution x multiplier): its break-even configured attribution is
    the credited one over the multiplier; the scenario's ROI is 0 there."""
    s = series([5_000.0] + [200.0] * 11, [0.0] + [2_000.0] * 11)
    scaled = A.replace(benefits_scale=mult["benefits"], cost_scale=mult["costs"])
    x = break_even_attribution(s, scaled, attribution_multiplier=mult["attribution"])
    credited = break_even_attribution(s, scaled)
    assert x == pytest.approx(credited / mult["attribution"])
    row = next(r for r in sensitivity(s, A.replace(attribution=x), {name: mult}) if r["case"] == name)
    assert row["roi_pct"] == pytest.approx(0.0, abs=1e-9)


def test_the_cap_at_one_stops_a_scenario():
    s = series([5_000.0] + [200.0] * 11, [0.0] + [900.0] * 11)  # C 7,200; G 9,900 x 0.8 = 7,920
    credited = break_even_attribution(s, A)
    assert credited == pytest.approx(7_200 / 7_920)  # 0.909
    # conservative (x0.6): would need configured attribution 1.52 > 1
    assert break_even_attribution_status(s, A, attribution_multiplier=0.6) == (None, BREAK_EVEN_NEGATIVE)
    # optimistic (x1.2): 0.909 / 1.2 = 0.758 is below 1 and credits 0.909
    assert break_even_attribution(s, A, attribution_multiplier=1.2) == pytest.approx(credited / 1.2)
    # when even the credited attribution needs more than 1, no multiplier helps: min(1, x x 1.2) <= 1
    poor = series([9_000.0] + [200.0] * 11, [0.0] + [900.0] * 11)
    assert break_even_attribution_status(poor, A, attribution_multiplier=1.2) == (None, BREAK_EVEN_NEGATIVE)
    assert summary(poor, A.replace(attribution=1.0)).roi_pct < 0
    with pytest.raises(ValueError):
        break_even_attribution(s, A, attribution_multiplier=0.0)


money = st.floats(min_value=-2_000, max_value=20_000, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(costs=st.lists(money, min_size=1, max_size=30), data=st.data(),
       confidence=st.floats(min_value=0.0, max_value=1.0), year1=st.booleans())
def test_solution_breaks_even_within_a_cent_or_none_says_why(costs, data, confidence, year1):
    n = len(costs)
    gross = data.draw(st.lists(money, min_size=n, max_size=n))
    s = series(costs, gross)
    a = Assumptions(attribution=0.5, confidence=confidence)
    x, why = break_even_attribution_status(s, a, year1=year1)
    at_one = summary(s, a.replace(attribution=1.0), as_of_month=12 if year1 else None)
    roi_at_one = at_one.year1_roi_pct if year1 else at_one.roi_pct
    if why == BREAK_EVEN_SOLVED:
        assert 0.0 <= x <= 1.0
        assert abs(gap(s, a.replace(attribution=x), year1=year1)) < CENT
    elif why == BREAK_EVEN_NEGATIVE:
        assert x is None and roi_at_one is not None and roi_at_one < 1e-6
    else:
        assert x is None and roi_at_one is None
        assert (year1 and n < 12) or math.fsum(costs[:12] if year1 else costs) <= 1e-9
