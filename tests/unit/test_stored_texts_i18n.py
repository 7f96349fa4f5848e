"""English texts the warehouse stores (level names, phases, milestones, benchmark sources, use-case
statuses, assumption explanations) are in the report's catalogue exactly as they are stored, so the
report can show them translated (kpi.report.standing.stored_text) while the marts keep English."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from kpi.paths import REPO_ROOT
from kpi.report import standing
from kpi.report.i18n import _, use_language
from kpi.report.i18n_audit import catalogue_messages


def test_level_names_are_the_ones_the_sql_writes():
    sql = (REPO_ROOT / "sql" / "marts" / "kpi_maturity.sql").read_text(encoding="utf-8")
    array = re.search(r"\[('AI [^\]]+)\]\[t\.level\]", sql)
    assert array, "kpi_maturity.sql: the level names' array was not found"
    in_sql = tuple(re.findall(r"'([^']+)'", array.group(1)))
    assert in_sql == standing.LEVEL_NAMES


def test_phases_and_default_milestones_are_the_configs():
    from kpi.config import ROLLOUT_PHASES, default_config

    assert tuple(ROLLOUT_PHASES) == standing.ROLLOUT_PHASE_NAMES
    names = tuple(m.name for m in default_config(dt.date(2025, 1, 1)).rollout)
    assert names == standing.DEFAULT_MILESTONE_NAMES


def test_benchmark_sources_are_the_published_ones():
    from kpi.benchmarks import PROGRAMME_BENCHMARKS, QUARTER_BENCHMARKS

    stored = {b.source for b in QUARTER_BENCHMARKS} | {b.source for b in PROGRAMME_BENCHMARKS}
    assert stored == {m.replace("%%", "%") for m in standing.BENCHMARK_SOURCES}
    for source in stored:  # English: as stored
        assert standing.source_text(source) == source


def test_use_case_statuses_are_the_configs():
    from kpi.config import USE_CASE_STATUSES

    assert tuple(standing.USE_CASE_STATUS) == USE_CASE_STATUSES


def test_stored_texts_are_in_the_catalogue():
    messages = set(catalogue_messages())
    wanted = (standing.LEVEL_NAMES + standing.ROLLOUT_PHASE_NAMES + standing.DEFAULT_MILESTONE_NAMES
              + standing.BENCHMARK_SOURCES + tuple(standing.USE_CASE_STATUS.values()))
    assert not [m for m in wanted if m not in messages]


def test_assumption_explanations_are_in_the_catalogue_and_unchanged():
    from kpi.config import default_config
    from kpi.roi_marts import assumption_rows, explanation_message

    messages = set(catalogue_messages())
    rows = assumption_rows(default_config(dt.date(2025, 1, 1)), 120)
    for row in map(dataclasses.asdict, rows):
        message, values = explanation_message(row["name"], row["explanation"])
        assert message in messages, row["name"]
        assert _(message, **values) == row["explanation"]
        assert row["source"] in messages


def test_criteria_text_keeps_english_and_localises_figures():
    gaps = ("regular_user_rate 47.6 % < 50 %; champions 0 < 1; roi_to_date -9.9 % < 0 %; "
            "proficient_rate not published < 70 %")
    english = standing.criteria_text(gaps)
    assert english == ("regular-user rate 47.6 % < 50 %; champions 0 < 1; ROI to date -9.9 % < 0 %; "
                       "proficient rate not published < 70 %")
    with use_language("de"):
        german = standing.criteria_text(gaps)
    assert "47,6\u00a0% < 50\u00a0%" in german and "−9,9\u00a0%" in german
