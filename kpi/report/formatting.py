"""How the report writes a figure: plain text, no markup (the templates escape and lay it out).

Rates are stored as fractions (0.42) and shown as percents ("42.0 %"); changes of rates are
percentage points ("+1.3 pts"); negative figures get a real minus sign (U+2212) and a missing
figure is an en dash. :func:`metric_scale` is the one place that decides a stored column's scale
from its name (docs/metrics.md: scales).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any, Literal

from kpi.report.i18n import N_, _, current_language

MINUS = "−"
DASH = "–"
NBSP = "\u00a0"

#: fraction: 0.42 is 42 %; percent: 42.0 is 42 %; eur: an amount in euros; number: anything else.
Scale = Literal["fraction", "percent", "eur", "number"]


def number_text(x: float, digits: int = 0, grouping: bool = True) -> str:
    """A non-negative number written with the current language's separators (Babel's locale
    data): 1234.5 -> '1,234.5' (en), '1.234,5' (nl, de). Rounded as Python rounds, so every language
    shows the same digits."""
    text = f"{x:,.{digits}f}" if grouping else f"{x:.{digits}f}"
    decimal, group, _currency = number_symbols(current_language())
    return text if (decimal, group) == (".", ",") else text.replace(",", "\0").replace(".", decimal).replace(
        "\0", group)


@cache
def number_symbols(language: str) -> tuple[str, str, tuple[str, str]]:
    """(decimal sign, group sign, (text before, text after) an amount in euros) of the language,
    from Babel's locale data: en '.', ',', ('€', ''); nl ',', '.', ('€ ', ''); de ',', '.', ('', ' €')
    (no-break spaces)."""
    from kpi.report.i18n import babel_locale

    locale = babel_locale(language)
    symbols = locale.number_symbols["latn"]
    pattern = locale.currency_formats["standard"].pattern.split(";")[0]
    if pattern.startswith("¤"):
        currency = ("€" + (NBSP if pattern[1:2] in (" ", NBSP) else ""), "")
    else:
        currency = ("", (NBSP if pattern[-2:-1] in (" ", NBSP) else "") + "€")
    return symbols["decimal"], symbols["group"], currency


def percent_sign() -> str:
    """' %' (en, as the first release wrote it); a no-break space before % in nl and de."""
    return " %" if current_language() == "en" else NBSP + "%"


def month_text(month: Any) -> str:
    """A calendar month: 'January 2026', 'januari 2026', 'Januar 2026'."""
    from babel.dates import format_date

    from kpi.report.i18n import LOCALES

    return format_date(month, "LLLL yyyy", locale=LOCALES[current_language()])


def missing(x: Any) -> bool:
    """None or NaN: shown as a dash."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_pct(x: float | None, digits: int = 1) -> str:
    """0.4213 -> '42.1 %'."""
    if missing(x):
        return DASH
    text = number_text(abs(x) * 100, digits) + percent_sign()
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
    return f"{sign}{number_text(abs(value), digits, grouping=False)} {_('pts')}"


def fmt_signed(delta: float | None, digits: int = 1, unit: str = "") -> str:
    """A change with its sign: 2.04 -> '+2.0'; (-3, 0, ' h') -> '−3 h'; 0 -> '±0.0'."""
    if missing(delta):
        return DASH
    value = round(delta, digits)
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{number_text(abs(value), digits)}{unit}"


def fmt_eur(x: float | None, digits: int = 0, signed: bool = False) -> str:
    """12345.6 -> '€12,346'; negative amounts get a real minus sign."""
    if missing(x):
        return DASH
    value = round(x, digits)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    before, after = number_symbols(current_language())[2]
    return f"{sign}{before}{number_text(abs(value), digits)}{after}"


def fmt_num(x: float | None, digits: int = 0) -> str:
    """1234.56 -> '1,235'; (1234.56, 1) -> '1,234.6'."""
    if missing(x):
        return DASH
    value = round(x, digits)
    return (MINUS if value < 0 else "") + number_text(abs(value), digits)


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


#: The target groups of kpi.config.TARGET_GROUPS as segment labels.
TARGET_GROUP_LABELS = (N_("Executive"), N_("Manager"), N_("Champion"), N_("User"))


def segment_label(segment_type: str, segment: str) -> str:
    """What a segment is called in the report: 'Company', 'Executive', 'Not stated', 'Sales'."""
    if segment_type == "company":
        return _("Company")
    if segment == "unknown":
        return _("Not stated")
    if segment_type == "target_group":
        return _(segment.capitalize()) if segment.capitalize() in TARGET_GROUP_LABELS else segment.capitalize()
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
        return _("withheld ‡") if short else _("withheld: protects a group of fewer than %(k)s ‡", k=k)
    return _("fewer than %(k)s", k=k)
