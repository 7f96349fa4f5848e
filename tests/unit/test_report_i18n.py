"""The report's translation machinery: stored English texts back to their messages, formats."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.report import i18n
from kpi.report.formatting import fmt_eur, fmt_num, fmt_pct, fmt_pts, month_text
from kpi.report.i18n_audit import pseudo_translations


@pytest.fixture
def pseudo(monkeypatch):
    """Every message comes out as ⟦message⟧ (in the 'nl' slot): what went through the catalogue."""
    monkeypatch.setattr(i18n, "translations", lambda language: pseudo_translations())
    with i18n.use_language("nl"):
        yield


def test_a_stored_attribution_note_is_translated_part_by_part_with_its_values(pseudo):
    from kpi.attribution import NOTES

    stored = "; ".join([NOTES["estimated"], NOTES["pre_trend"] % {"p": "0.012"}, NOTES["beyond"]])
    shown = i18n.stored_message(stored, NOTES.values(), separator="; ")
    assert shown == ("⟦estimated⟧; ⟦the months before training already differ (parallel_trends_p 0.012): do not "
                     "trust it⟧; ⟦the interval reaches beyond 0..1⟧")
    failed = NOTES["failed"] % {"error": "LinAlgError: Singular matrix; or worse"}  # a '; ' inside a value
    assert i18n.stored_message(failed, NOTES.values()) == f"⟦{failed}⟧"
    # a text no template makes (an earlier release's note) is shown as it is
    assert i18n.stored_message("something else", NOTES.values(), separator="; ") == "something else"


@pytest.mark.parametrize("language, pct, eur, negative, num, pts, month", [
    ("en", "42.3 %", "€131,702", "−€1,234", "1,234.6", "+1.3 pts", "January 2026"),
    ("nl", "42,3\u00a0%", "€\u00a0131.702", "−€\u00a01.234", "1.234,6", "+1,3 pp", "januari 2026"),
    ("de", "42,3\u00a0%", "131.702\u00a0€", "−1.234\u00a0€", "1.234,6", "+1,3 PP", "Januar 2026"),
])
def test_figures_follow_the_language(language, pct, eur, negative, num, pts, month):
    with i18n.use_language(language):
        assert fmt_pct(0.4234) == pct
        assert fmt_eur(131702.4) == eur
        assert fmt_eur(-1234.4) == negative
        assert fmt_num(1234.56, 1) == num
        assert fmt_pts(0.013) == pts
        assert month_text(dt.date(2026, 1, 1)) == month


def test_the_chart_locales_follow_the_language():
    assert i18n.format_locale("nl")["decimal"] == "," and i18n.format_locale("nl")["thousands"] == "."
    assert i18n.format_locale("nl")["currency"] == ["€\u00a0", ""]
    assert i18n.format_locale("de")["currency"] == ["", "\u00a0€"]
    assert i18n.time_format_locale("de")["months"][0] == "Januar"
    assert i18n.time_format_locale("nl")["shortDays"][0].lower().startswith("zo")  # d3: Sunday first


def test_an_unknown_language_is_refused_in_one_line():
    from kpi.errors import UserError

    with pytest.raises(UserError, match=r"^language 'fr': not available; use one of en, nl, de$"):
        i18n.check_language("fr")
