"""Finding English left in a translated report (the translators' and the test suite's check).

- :func:`catalogue_messages` extracts the report's English strings from the code and templates as
  ``make i18n`` does (Babel, ``babel.cfg``), in-process;
- :func:`pseudo_translations` makes a catalogue that writes every message as ``⟦message⟧``: a
  report rendered with it shows at once which texts never went through the catalogue;
- :func:`page_texts` lists what a reader sees on a page: text nodes, attribute texts a browser
  shows (``title``, ``aria-label``, ``alt``) and the charts' titles, axis and legend titles and
  labels;
- :func:`english_left` keeps the texts that still hold an English word: a word of the English
  catalogue that is not also a word of the translation, outside names from the data.

``python -m kpi.report.i18n_audit WAREHOUSE QUARTER`` renders the quarter with the pseudo
catalogue and prints every text that is not bracketed: the strings still to be marked.
"""

from __future__ import annotations

import gettext
import html
import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from kpi.paths import REPO_ROOT

OPEN, CLOSE = "⟦", "⟧"
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


@lru_cache(maxsize=1)
def catalogue_messages() -> tuple[str, ...]:
    """Every msgid (and plural msgid) the code and templates mark, as ``make i18n`` extracts them."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (REPO_ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    out: dict[str, None] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(REPO_ROOT), method_map, options_map):
        for m in (message if isinstance(message, tuple) else (message,)):
            if m:
                out[m] = None
    return tuple(out)


class PseudoTranslations(gettext.NullTranslations):
    """⟦message⟧ for every message (placeholders kept, so the filled text is bracketed too)."""

    def gettext(self, message: str) -> str:
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"{OPEN}{singular if n == 1 else plural}{CLOSE}"


def pseudo_translations() -> PseudoTranslations:
    return PseudoTranslations()


_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.S | re.I)
_SPEC = re.compile(r'<script type="application/json" id="spec-[^"]*">(.*?)</script>', re.S)
_TAG = re.compile(r"<[^>]+>")
_SHOWN_ATTRIBUTES = re.compile(r'\s(?:title|aria-label|alt|placeholder)="([^"]*)"')
#: Keys of a Vega-Lite spec whose string values a reader sees.
_SPEC_TEXT_KEYS = {"title", "text", "subtitle", "description", "labelExpr"}


def _spec_texts(node: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("data", "datasets", "$schema", "usermeta"):
                continue
            yield from _spec_texts(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _spec_texts(v, key)
    elif isinstance(node, str) and key in _SPEC_TEXT_KEYS and key != "labelExpr":
        yield node


def _chart_data_labels(spec: dict[str, Any]) -> Iterator[str]:
    """Label columns of the charts' inline data (series and category names the legend shows)."""
    datasets = spec.get("datasets") or {}
    for rows in datasets.values():
        for row in rows if isinstance(rows, list) else []:
            for k, v in row.items():
                if isinstance(v, str) and k in ("series", "label", "kind", "category", "what", "measure",
                                                "level_name", "status", "legend"):
                    yield v


def page_texts(page: str) -> list[str]:
    """What a reader sees: text nodes, shown attributes, chart titles and legend labels."""
    texts: list[str] = []
    for spec_text in _SPEC.findall(page):
        spec = json.loads(html.unescape(spec_text) if "&quot;" in spec_text else spec_text)
        texts += list(_spec_texts(spec)) + list(_chart_data_labels(spec))
    body = _HIDDEN.sub(" ", page)
    texts += [html.unescape(v) for v in _SHOWN_ATTRIBUTES.findall(body)]
    texts += [html.unescape(t) for t in _TAG.sub("\n", body).split("\n")]
    return [t.strip() for t in texts if t.strip()]


def unbracketed(text: str) -> str:
    """The parts of a text outside ⟦ ⟧ (nested brackets count)."""
    out, depth = [], 0
    for ch in text:
        if ch == OPEN:
            depth += 1
        elif ch == CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def english_left(texts: Iterable[str], english: Iterable[str], translated: Iterable[str],
                 allowed: Iterable[str] = ()) -> list[str]:
    """Texts holding an English word (of at least 3 letters) that the translation does not also use.

    ``english``: the catalogue's msgids; ``translated``: its msgstrs (words both languages share,
    such as "Name" or "Manager", are not evidence); ``allowed``: names from the data and the
    documented exceptions (their words never count)."""
    english_words = {w for m in english for w in words(_placeholder_free(m)) if len(w) >= 3}
    shared = {w for m in translated for w in words(_placeholder_free(m))}
    allowed_words = {w for a in allowed for w in words(a)}
    suspicious = english_words - shared - allowed_words
    return [t for t in texts if words(t) & suspicious]


def _placeholder_free(message: str) -> str:
    return re.sub(r"%\([a-z_]+\)[sdfg]|%\([a-z_]+\)\.\d+f", " ", message)


def data_names(con) -> set[str]:
    """Names that come from the data: departments, tools, processes, constructs, the company."""
    names: set[str] = set()
    queries = (
        "select distinct segment from marts.kpi_usage",
        "select distinct construct from marts.kpi_culture",
        "select distinct process from marts.kpi_business",
        "select distinct value_text from marts.roi_assumptions where name = 'company.name'",
        "select distinct title from marts.roi_use_cases",
    )
    for query in queries:
        try:
            names |= {str(r[0]) for r in con.sql(query).fetchall() if r[0] is not None}
        except Exception:  # noqa: BLE001 (a table an older warehouse lacks: no names from it)
            continue
    return names


def main(argv: list[str] | None = None) -> int:
    import sys
    import tempfile

    from kpi.report import build_report, i18n
    from kpi.warehouse import open_warehouse

    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m kpi.report.i18n_audit WAREHOUSE QUARTER", file=sys.stderr)
        return 2
    warehouse, quarter = Path(args[0]), args[1]
    original = i18n.translations
    i18n.translations = lambda language: pseudo_translations()  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            page = build_report(warehouse, quarter, Path(tmp), images=False, language="nl").read_text("utf-8")
    finally:
        i18n.translations = original  # type: ignore[assignment]
    con = open_warehouse(warehouse, read_only=True)
    try:
        names = data_names(con)
    finally:
        con.close()
    seen = set()
    for text in page_texts(page):
        rest = unbracketed(text)
        if any(len(w) >= 3 for w in words(rest) - {w for n in names for w in words(n)}) and rest not in seen:
            seen.add(rest)
            print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
