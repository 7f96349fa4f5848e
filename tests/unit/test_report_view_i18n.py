"""What the view says goes through the catalogue as whole messages (issue 16): each narrative
sentence is one message with its bold parts between ``**``, the alerts have a translated text
beside the terminal's English one, and texts made while collecting are translated when shown."""

from __future__ import annotations

import pytest

from kpi.alerts import Alert, TargetAlert
from kpi.report import i18n
from kpi.report.collect import Message
from kpi.report.i18n import N_
from kpi.report.i18n_audit import CLOSE, OPEN, pseudo_translations
from kpi.report.view import Fragment, _strong, narrative, roi_status
from tests.unit.test_report_view import ROWS, report, roi, usage_row


@pytest.fixture
def pseudo(monkeypatch):
    """Every message bracketed, in a language other than English."""
    monkeypatch.setattr(i18n, "translations", lambda language: pseudo_translations())
    with i18n.use_language("nl"):
        yield


def test_bold_parts_are_the_translators_markers_only():
    assert _strong("In %(q)s, **%(rate)s** of %(n)s.", q="2026-Q3", rate="50 %", n="**180**") == [
        Fragment("In 2026-Q3, "), Fragment("50 %", True), Fragment(" of **180**.")]
    assert _strong("100 %% **%(x)s**", x="a") == [Fragment("100 % "), Fragment("a", True)]


def test_each_narrative_sentence_is_one_message(pseudo):
    d = report(ROWS + [usage_row("department", "R**D", 0.9, 0.2)])
    d.alerts = [Alert("2026-Q3", "usage_drop", "department", "Ops", "active_user_rate", 0.45, 0.30)]
    for sentence in narrative(d):
        text = "".join(p.text for p in sentence)
        assert text.startswith(OPEN) and text.endswith(CLOSE), text
    assert any(p.strong and p.text == "R**D" for s in narrative(d) for p in s)


def test_the_alerts_report_text_is_describe_in_english():
    alerts = [Alert("2026-Q3", "usage_drop", "department", "HR & Administration", "active_user_rate", 0.94, 0.82),
              Alert("2026-Q3", "usage_drop", "target_group", "executive", "active_user_rate", 0.5, 0.3),
              Alert("2026-Q3", "culture_drop", "company", "all", "favorability_collaboration", 0.6, 0.45),
              TargetAlert("2026-Q3", "active_user_rate", "department", "Sales", 0.8, 0.5, "2026-Q4", "Ann"),
              TargetAlert("2026-Q3", "hours_saved", "company", "all", 80, 50, None, None)]
    for a in alerts:
        assert a.report_text() == a.describe()
        assert a.report_text(with_quarter=False) == a.describe().split(": ", 1)[1]


def test_a_collected_note_is_translated_when_shown(pseudo):
    note = Message(N_("The ROI series starts in %(first)s: no ROI figures for %(quarter)s."),
                   {"first": "2025-Q1", "quarter": "2024-Q4"})
    r = roi(None)
    r.note = note
    assert roi_status(report(ROWS, r)) == f"{OPEN}The ROI series starts in 2025-Q1: no ROI figures for 2024-Q4.{CLOSE}"
    with i18n.use_language("en"):
        assert str(note) == f"{OPEN}The ROI series starts in 2025-Q1: no ROI figures for 2024-Q4.{CLOSE}"
