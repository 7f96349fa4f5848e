"""How the report writes a figure: plain text, no markup (the templates escape and lay it out).

Rates are stored as fractions (0.42) and shown as percents ("42.0 %"); changes of rates are
percentage points ("+1.3 pts"); negative figures get a real minus sign (U+2212) and a missing
figure is an en dash. :func:`metric_scale` is the one place that decides a stored column's scale
from its name (docs/metrics.md: scales).
"""

from __future__ import annotations

import math
from typing import Any, Literal

MINUS = "−"
DASH = "–"

#: fraction: 0.42 is 42 %; percent: 42.0 is 42 %; eur: an amount in euros; number: anything else.
Scale = Literal["fraction", "percent", "eur", "number"]


def missing(x: Any) -> bool:
    """None or NaN: shown as a dash."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """0.4213 -> '42.1 %'."""
    if missing(x):
        return DASH
    text = f"{abs(x) * 100:,.{digits}f} %"
    return (MINUS if x < 0 and round(abs(x) * 100, digits) else "") + text


def fmt_pct_value(x: float | None, digits: int = 1) -> str:
    """A figure that is already a percent (roi_pct): 258.63 -> '258.6 %'."""
    return DASH if missing(x) else fmt_pct(x / 100, digits)


def fmt_pts(delta: float | None, digits: int = 1) -> str:
    """A change of a fraction in percentage points: 0.013 -> '+1.3 pts'."""
    if missing(delta):
        return DASH
    value = round(delta * 100, digits)
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{abs(value):.{digits}f} pts"


def fmt_signed(delta: float | None, digits: int = 1, unit: str = "") -> str:
    """A change with its sign: 2.04 -> '+2.0'; (-3, 0, ' h') -> '−3 h'; 0 -> '±0.0'."""
    if missing(delta):
        return DASH
    value = round(delta, digits)
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{abs(value):,.{digits}f}{unit}"


def fmt_eur(x: float | None, digits: int = 0, signed: bool = False) -> str:
    """12345.6 -> '€12,346'; negative amounts get a real minus sign."""
    if missing(x):
        return DASH
    value = round(x, digits)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}€{abs(value):,.{digits}f}"


def fmt_num(x: float | None, digits: int = 0) -> str:
    """1234.56 -> '1,235'; (1234.56, 1) -> '1,234.6'."""
    if missing(x):
        return DASH
    value = round(x, digits)
    return (MINUS if value < 0 else "") + f"{abs(value):,.{digits}f}"


def metric_scale(metric: str) -> Scale:
    """The scale of a stored column, from its name (docs/metrics.md: scales).

    The single place that knows the naming rules (``*_rate``, ``*_share``, ``*_growth``,
    favorability and time reduction are fractions; ``*_pct`` percents; ``*_eur`` euros), so that
    it can be replaced by a lookup in a column catalogue."""
    if metric.endswith(("_rate", "_share", "_growth")) or metric in ("favorability", "time_reduction") \
            or metric.startswith("favorability_change"):
        return "fraction"
    if metric.endswith("_eur"):
        return "eur"
    if metric.endswith("_pct"):
        return "percent"
    return "number"


def fmt_metric(metric: str, value: float | None) -> str:
    """A stored figure formatted by its column's scale: ('active_user_rate', 0.5) -> '50.0 %'."""
    scale = metric_scale(metric)
    if scale == "fraction":
        return fmt_pct(value)
    if scale == "eur":
        return fmt_eur(value, 2)
    if scale == "percent":
        return fmt_pct_value(value)
    if value is not None and float(value).is_integer():
        return fmt_num(value)
    return fmt_num(value, 2)


def segment_label(segment_type: str, segment: str) -> str:
    """What a segment is called in the report: 'Company', 'Executive', 'Not stated', 'Sales'."""
    if segment_type == "company":
        return "Company"
    if segment == "unknown":
        return "Not stated"
    if segment_type == "target_group":
        return segment.capitalize()
    return segment


def process_label(process: str) -> str:
    """'invoice_processing' -> 'Invoice processing'."""
    return process.replace("_", " ").capitalize()


def direction(delta: float | None, good_when_up: bool = True) -> str:
    """The CSS class of a change: good, bad or flat."""
    if missing(delta) or abs(delta) < 1e-12:
        return "flat"
    return "good" if (delta > 0) == good_when_up else "bad"


def suppression_text(reason: str | None, k: int, short: bool = False) -> str:
    """What a suppressed cell says (never a figure)."""
    if reason == "complementary":
        return "withheld ‡" if short else f"withheld: protects a group of fewer than {k} ‡"
    return f"fewer than {k}"
