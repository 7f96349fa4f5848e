"""How the report writes figures (kpi/report/formatting.py): values worked out by hand.

Negative figures carry a real minus sign (U+2212), a missing figure is an en dash (U+2013);
rounding is Python's round() on the shown digits.
"""

from __future__ import annotations

import pytest

from kpi.report.formatting import (
    DASH,
    MINUS,
    direction,
    fmt_eur,
    fmt_metric,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
    fmt_pts,
    fmt_signed,
    metric_scale,
    process_label,
    segment_label,
    suppression_text,
)


def test_signs_are_typographic():
    assert MINUS == "\u2212" and DASH == "\u2013"


@pytest.mark.parametrize("value, digits, text", [
    (0.4234, 1, "42.3 %"),
    (0.4213, 1, "42.1 %"),
    (1, 1, "100.0 %"),
    (12.345, 1, "1,234.5 %"),      # thousands separator
    (0.4234, 0, "42 %"),
    (-0.05, 1, "−5.0 %"),
    (-0.0004, 1, "0.0 %"),          # rounds to zero: no minus sign
    (None, 1, "–"),
    (float("nan"), 1, "–"),
])
def test_fmt_pct(value, digits, text):
    assert fmt_pct(value, digits) == text


def test_fmt_pct_value_takes_a_percent():
    assert fmt_pct_value(258.63) == "258.6 %"
    assert fmt_pct_value(-12.0) == "−12.0 %"
    assert fmt_pct_value(None) == "–"


@pytest.mark.parametrize("delta, digits, text", [
    (0.013, 1, "+1.3 pts"),
    (-0.0251, 1, "−2.5 pts"),
    (0.0, 1, "±0.0 pts"),
    (0.00049, 1, "±0.0 pts"),       # 0.049 points round to 0.0
    (0.05, 0, "+5 pts"),
    (None, 1, "–"),
])
def test_fmt_pts(delta, digits, text):
    assert fmt_pts(delta, digits) == text


def test_fmt_signed():
    assert fmt_signed(2.04) == "+2.0"
    assert fmt_signed(-3, 0, " h") == "−3 h"
    assert fmt_signed(1234.56, 1, " points") == "+1,234.6 points"
    assert fmt_signed(0) == "±0.0"
    assert fmt_signed(None, 0, " h") == "–"


def test_fmt_eur():
    assert fmt_eur(12345.6) == "€12,346"
    assert fmt_eur(-1500.4) == "−€1,500"
    assert fmt_eur(99.999, 2) == "€100.00"
    assert fmt_eur(250, signed=True) == "+€250"
    assert fmt_eur(0, signed=True) == "€0"
    assert fmt_eur(-0.4) == "€0"  # rounds to (negative) zero: no minus sign
    assert fmt_eur(None) == "–"


def test_fmt_num():
    assert fmt_num(1234.56) == "1,235"
    assert fmt_num(1234.56, 1) == "1,234.6"
    assert fmt_num(-2.5, 1) == "−2.5"
    assert fmt_num(-0.4) == "0"
    assert fmt_num(180) == "180"
    assert fmt_num(None) == "–"


@pytest.mark.parametrize("metric, scale", [
    ("active_user_rate", "fraction"), ("trained_share", "fraction"), ("headcount_growth", "fraction"),
    ("favorability", "fraction"), ("favorability_change_low", "fraction"), ("time_reduction", "fraction"),
    ("time_savings_eur", "eur"), ("roi_pct", "percent"), ("hours_saved", "number"), ("regular_users", "number"),
])
def test_metric_scale_comes_from_the_column_name(metric, scale):
    assert metric_scale(metric) == scale


def test_fmt_metric_formats_by_scale():
    assert fmt_metric("regular_user_rate", 0.2) == "20.0 %"
    assert fmt_metric("favorability_change", -0.031) == "−3.1 %"
    assert fmt_metric("time_savings_eur", 1234.5) == "€1,234.50"
    assert fmt_metric("roi_pct", 258.63) == "258.6 %"
    assert fmt_metric("regular_users", 8.0) == "8"        # a whole number: no decimals
    assert fmt_metric("hours_saved", 12.5) == "12.50"     # else two
    assert fmt_metric("mean_score", None) == "–"


def test_labels():
    assert segment_label("company", "all") == "Company"
    assert segment_label("target_group", "executive") == "Executive"
    assert segment_label("department", "unknown") == "Not stated"
    assert segment_label("department", "Sales & Marketing") == "Sales & Marketing"
    assert process_label("quote_preparation") == "Quote preparation"


def test_direction_of_a_change():
    assert direction(0.01) == "good"
    assert direction(-0.01) == "bad"
    assert direction(0.01, good_when_up=False) == "bad"  # e.g. spending over plan
    assert direction(0.0) == "flat" and direction(None) == "flat"


def test_suppression_text_never_holds_a_figure_but_k():
    assert suppression_text(None, 5) == "fewer than 5"
    assert suppression_text("small_group", 5) == "fewer than 5"
    assert suppression_text("complementary", 5) == "withheld: protects a group of fewer than 5 ‡"
    assert suppression_text("complementary", 5, short=True) == "withheld ‡"
