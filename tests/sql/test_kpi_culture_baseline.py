"""marts.kpi_culture: the interval of segment changes and the comparison with the baseline wave
(docs/metrics.md §4).

k = 3, program.start 2025-01-01. One satisfaction item; each response answers it with 5
(favorable) or 2, so favorability = favorable responses / responses. Departments as reported:

    wave      A          B          C          D          company     note
    2024-Q3   4 (1 fav)                                   4 (1)       an earlier wave before the start
    2024-Q4   5 (2)      4 (3)      3 (1)      1 (0)      13 (6)      the baseline wave: the last before the start;
                                                                      D small, C (smallest shown) complementary
    2025-Q1   6 (4)      4 (2)      1 (1)                 11 (7)      C small, B complementary
    2025-Q2   5 (5)      5 (4)      3 (3)      3 (2)      16 (14)     every department shown
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from kpi.config import default_config
from kpi.marts import baseline_wave, build_quarter
from kpi.privacy_audit import audit
from tests.sql.test_kpi_champions_maturity import empty_warehouse, make_config

D = dt.date
ITEM = "I am satisfied with how AI tools are introduced here"
QUARTERS = ("2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2")
WAVES = {
    # day: {department: (responses, favorable)}
    D(2024, 8, 15): {"A": (4, 1)},
    D(2024, 11, 15): {"A": (5, 2), "B": (4, 3), "C": (3, 1), "D": (1, 0)},
    D(2025, 2, 15): {"A": (6, 4), "B": (4, 2), "C": (1, 1)},
    D(2025, 5, 15): {"A": (5, 5), "B": (5, 4), "C": (3, 3), "D": (3, 2)},
}
Z = 1.959963984540054  # the normal 97.5 % quantile


def wilson(p: float, n: int) -> tuple[float, float]:
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def newcombe(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 - p2 (1998, method 10), written out."""
    (l1, u1), (l2, u2) = wilson(p1, n1), wilson(p2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def add_waves(con) -> None:
    for day, departments in WAVES.items():
        file = f"pulse-{day:%Y-%m}.csv"
        for department, (responses, favorable) in departments.items():
            for i in range(responses):
                rid = f"{department}{i}"
                points = 5 if i < favorable else 2
                con.execute("INSERT INTO staging.survey_responses VALUES (?, ?, ?, ?, 'user', NULL)",
                            [file, rid, dt.datetime.combine(day, dt.time(9)), department])
                con.execute("INSERT INTO staging.survey_answers VALUES (?, ?, ?, 'satisfaction', false, ?, ?)",
                            [file, rid, ITEM, points, points])


@pytest.fixture(scope="module")
def built():
    con = empty_warehouse()
    add_waves(con)
    cfg = make_config()
    for quarter in QUARTERS:
        build_quarter(con, cfg, quarter)
    relation = con.sql("SELECT * FROM marts.kpi_culture WHERE segment_type <> 'target_group'")
    out = {(r[0], r[3]): dict(zip(relation.columns, r)) for r in relation.fetchall()}
    yield con, out
    con.close()


def test_the_baseline_wave_is_the_last_before_the_start_else_the_first():
    con = empty_warehouse()
    add_waves(con)
    assert baseline_wave(con, make_config()) == "2024-Q4"  # start 2025-01-01
    assert baseline_wave(con, default_config(D(2024, 11, 10))) == "2024-Q3"  # before the Nov 15 wave
    assert baseline_wave(con, default_config(D(2024, 11, 16))) == "2024-Q4"  # the day after it
    assert baseline_wave(con, default_config(D(2024, 1, 1))) == "2024-Q3"  # nothing before: the first
    assert baseline_wave(empty_warehouse(), make_config()) is None


def test_the_baseline_wave_and_earlier_ones_are_compared_with_nothing(built):
    _, rows = built
    for quarter in ("2024-Q3", "2024-Q4"):
        row = rows[(quarter, "A")]
        assert row["baseline_wave"] is None
        assert (row["favorability_vs_baseline"], row["favorability_vs_baseline_low"],
                row["favorability_vs_baseline_high"]) == (None, None, None)


def test_segment_interval_checked_by_hand_against_newcombe(built):
    """A, 2025-Q1 against 2024-Q4 (the previous wave and the baseline wave at once): 4/6 - 2/5.
    Wilson 95 %: 4 of 6 -> (0.29999, 0.90323); 2 of 5 -> (0.11762, 0.76928).
    low = 4/15 - sqrt((0.66667 - 0.29999)^2 + (0.76928 - 0.4)^2) = -0.25373
    high = 4/15 + sqrt((0.90323 - 0.66667)^2 + (0.4 - 0.11762)^2) = 0.63504"""
    _, rows = built
    a = rows[("2025-Q1", "A")]
    assert a["favorability_change"] == pytest.approx(4 / 6 - 2 / 5)
    assert (a["favorability_change_low"], a["favorability_change_high"]) == (
        pytest.approx(-0.2537311649584, abs=1e-12), pytest.approx(0.6350408924113, abs=1e-12))
    assert (a["favorability_change_low"], a["favorability_change_high"]) == tuple(
        pytest.approx(x, abs=1e-12) for x in newcombe(4 / 6, 6, 2 / 5, 5))
    assert a["baseline_wave"] == "2024-Q4"
    assert (a["favorability_vs_baseline"], a["favorability_vs_baseline_low"], a["favorability_vs_baseline_high"]) == (
        a["favorability_change"], a["favorability_change_low"], a["favorability_change_high"])
    company = rows[("2025-Q1", "all")]
    assert company["favorability_vs_baseline"] == pytest.approx(7 / 11 - 6 / 13)
    low, high = newcombe(7 / 11, 11, 6 / 13, 13)
    assert (company["favorability_vs_baseline_low"], company["favorability_vs_baseline_high"]) == (
        pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_every_shown_segment_gets_both_intervals(built):
    """2025-Q2 against the previous wave (2025-Q1) and against the baseline (2024-Q4), which differ."""
    _, rows = built
    a = rows[("2025-Q2", "A")]
    assert a["favorability_change"] == pytest.approx(1 - 4 / 6)
    assert (a["favorability_change_low"], a["favorability_change_high"]) == tuple(
        pytest.approx(x, abs=1e-12) for x in newcombe(1.0, 5, 4 / 6, 6))
    assert a["favorability_vs_baseline"] == pytest.approx(1 - 2 / 5)
    assert (a["favorability_vs_baseline_low"], a["favorability_vs_baseline_high"]) == tuple(
        pytest.approx(x, abs=1e-12) for x in newcombe(1.0, 5, 2 / 5, 5))
    assert a["baseline_wave"] == "2024-Q4"
    b = rows[("2025-Q2", "B")]
    # B was withheld (complementary) in 2025-Q1: no change against it; shown in the baseline: 4/5 - 3/4
    assert (b["favorability_change"], b["favorability_change_low"], b["mean_score_change"]) == (None, None, None)
    assert b["favorability_vs_baseline"] == pytest.approx(4 / 5 - 3 / 4)
    low, high = confint_proportions_2indep(4, 5, 3, 4, method="newcomb", compare="diff")
    assert (b["favorability_vs_baseline_low"], b["favorability_vs_baseline_high"]) == (
        pytest.approx(float(low)), pytest.approx(float(high)))
    company = rows[("2025-Q2", "all")]
    assert company["favorability_vs_baseline"] == pytest.approx(14 / 16 - 6 / 13)
    assert company["favorability_change"] == pytest.approx(14 / 16 - 7 / 11)


def test_no_comparison_with_a_segment_withheld_in_either_wave(built):
    con, rows = built
    # C and D were withheld in the baseline wave (D small, C complementary)
    assert rows[("2024-Q4", "C")]["suppression_reason"] == "complementary"
    for department in ("C", "D"):
        row = rows[("2025-Q2", department)]
        assert not row["suppressed"] and row["favorability"] is not None
        assert row["baseline_wave"] == "2024-Q4"
        assert (row["favorability_vs_baseline"], row["favorability_vs_baseline_low"],
                row["favorability_vs_baseline_high"]) == (None, None, None)
    # B withheld in 2025-Q1 itself: nothing of it is published there
    b = rows[("2025-Q1", "B")]
    assert b["suppression_reason"] == "complementary"
    assert (b["favorability"], b["favorability_vs_baseline"], b["favorability_vs_baseline_low"]) == (None, None, None)
    assert audit(con, 3, list(QUARTERS)) == []
