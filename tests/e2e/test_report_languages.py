"""The demo report in Dutch and German: no English sentence left, figures in the language's format.

The English strings are the catalogue (every message the code and templates mark, extracted as
`make i18n` does). A text the reader sees in the nl or de report "holds English" when it contains a
word of that catalogue (three letters or more) that the translation itself never uses; names from
the data (departments, tools, processes, constructs, the company) and the exceptions below do not
count, nor do the yearly report's notes (the analyst's own text). Config keys, file names and doc
paths are cut out of a text before it is checked: the assumptions table names its keys as the
config spells them.
"""

from __future__ import annotations

import re

import pytest

from kpi.config import load_config
from kpi.paths import DEMO_DIR
from kpi.report import build_report, i18n
from kpi.report.i18n_audit import catalogue_messages, data_names, english_left, page_texts
from kpi.warehouse import open_warehouse

#: Words that stay as they are in every language: proper nouns and product names, units and
#: abbreviations used as such in Dutch and German business writing (docs/report.md, Languages).
EXCEPTIONS = (
    "AI", "ROI", "NPV", "BCR", "KPI", "CSAT", "HR", "Copilot", "ChatGPT", "Microsoft", "GitHub", "M365",
    "BCG", "Deloitte", "Bain", "Brixon", "Phillips", "Gardner", "diff-diff", "Vega", "Chromium", "PDF", "HTML",
    "DuckDB", "kpi", "run", "report", "roi", "status", "purge", "min", "max", "n", "k", "e-learning", "workshop",
    "masterclass", "coaching", "champion", "champions", "tool", "tools", "team", "teams", "management",
    "demo", "pilot", "training", "trainings", "online", "feedback", "manager", "managers", "benchmark",
    "benchmarks", "score", "scores",
    # the quarantine's stages as audit.quarantine names them (docs/inputs.md)
    "ingest", "match",
)

#: Config keys (benefits.attribution), file names (finance/licenses.csv), doc paths, folders
#: (usage/), command flags, identifiers (headcount_at_start, the quarantine's reason codes).
_TECHNICAL = re.compile(r"[\w-]+(?:[./][\w*-]+)+|\b\w+/|--[\w-]+|\bkpi \w+|\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def _translated_words(language: str) -> list[str]:
    from babel.messages.pofile import read_po

    with i18n.po_path(language).open("rb") as f:
        catalog = read_po(f)
    out = []
    for m in catalog:
        if m.id and m.string:
            out += list(m.string) if isinstance(m.string, tuple) else [m.string]
    return out


@pytest.fixture(scope="module")
def names(demo_warehouse):
    con = open_warehouse(demo_warehouse, read_only=True)
    try:
        return data_names(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def render(demo_warehouse, tmp_path_factory):
    """render(period, language): the quarter's report, or the year's deep dive (with the demo's
    notes) for a year label; each page written once for the module."""
    from kpi.report.yearly import build_yearly_report

    cfg = load_config(DEMO_DIR / "config.yaml")
    pages: dict[tuple[str, str], str] = {}

    def page(period: str, language: str) -> str:
        if (period, language) not in pages:
            out = tmp_path_factory.mktemp(f"{period}-{language}")
            path = (build_yearly_report(demo_warehouse, period, out, cfg=cfg, images=False, language=language,
                                        notes=DEMO_DIR / "notes") if "-Q" not in period else
                    build_report(demo_warehouse, period, out, cfg=cfg, images=False, language=language))
            pages[period, language] = path.read_text(encoding="utf-8")
        return pages[period, language]

    return page


@pytest.mark.parametrize("language, quarter", [("nl", "2026-Q3"), ("de", "2026-Q3"), ("nl", "2025-Q1"),
                                               ("de", "2025")])
def test_no_english_sentence_is_left(render, names, language, quarter):
    page = render(quarter, language)
    assert f'<html lang="{language}">' in page
    # the analyst's notes are shown as written, in whatever language they are
    page, notes = re.subn(r'<article class="finding".*?</article>', "", page, flags=re.S)
    assert notes == (2 if "-Q" not in quarter else 0)
    texts = [_TECHNICAL.sub(" ", t) for t in page_texts(page)]
    left = english_left(texts, catalogue_messages(), _translated_words(language), allowed=[*names, *EXCEPTIONS])
    assert left == [], f"{len(left)} texts still in English, e.g. {left[:15]}"


@pytest.mark.parametrize("language, expected", [
    # The demo's headline (README): ROI 46.5 %, break-even in month 14 (February 2026), payback 13.1
    # months, NPV €141,974; 2026-Q3 active-user rate as in the golden English report.
    ("nl", ["46,5\u00a0%", "februari 2026", "13,1", "€\u00a0141.974"]),
    ("de", ["46,5\u00a0%", "Februar 2026", "13,1", "141.974\u00a0€"]),
])
def test_figures_are_written_in_the_language_s_format(render, language, expected):
    page = render("2026-Q3", language)
    roi = page[page.index('<section id="roi"'):]
    for text in expected:
        assert text in roi, (language, text)
    assert "€141,974" not in page and "46.5 %" not in roi  # the English figures (golden report)


def test_every_message_is_translated_with_the_same_placeholders():
    """Every marked message has a reviewed translation (not empty, not fuzzy) that fills the same
    named placeholders (a missing one would lose a figure; an extra one fails at render time)."""
    from babel.messages.pofile import read_po

    messages = set(catalogue_messages())
    assert len(messages) > 300  # the report's strings are marked, not a handful
    placeholders = re.compile(r"%\((\w+)\)")
    for language in ("nl", "de"):
        with i18n.po_path(language).open("rb") as f:
            catalog = [m for m in read_po(f) if m.id]
        in_po = {x for m in catalog for x in (m.id if isinstance(m.id, tuple) else (m.id,))}
        missing = sorted(messages - in_po)
        assert missing == [], f"{language}: not in report.po (run make i18n): {missing[:10]}"
        for m in catalog:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            assert all(strings) and not m.fuzzy, f"{language}: untranslated or fuzzy: {ids[0]!r}"
            wanted = {x for i in ids for x in placeholders.findall(i)}
            for text in strings:
                assert set(placeholders.findall(text)) | {"num"} >= wanted - {"num"}, (language, ids[0], text)
                assert set(placeholders.findall(text)) <= wanted | {"num"}, (language, ids[0], text)


def test_an_unknown_language_is_one_line():
    from kpi.cli import _language_option
    from kpi.errors import UserError

    with pytest.raises(UserError, match=r"^--language fr: not available; use one of en, nl, de$"):
        _language_option("fr")
    assert _language_option(" NL ") == "nl"
