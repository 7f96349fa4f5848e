"""Qualitative findings for the yearly deep dive: Markdown files an analyst drops in a folder.

Each ``*.md`` file of the folder (not its subfolders; names starting with a dot are skipped) is
one note, listed by its file name, in name order. It is rendered with markdown-it-py's CommonMark
parser with raw HTML switched OFF, so ``<script>``, ``<img onerror=...>`` or any other tag in a
note comes out as text. Links keep only ``http:``, ``https:`` and ``mailto:`` targets (a
``javascript:`` or ``data:`` link stays as its text), and images are written as their alt text:
the report opens offline and fetches nothing. A file that is not UTF-8 text, or larger than
:data:`MAX_BYTES`, becomes a one-line problem in the report instead of stopping it.

The rendered HTML is markup made by the parser (every text node escaped by it); the template
inserts it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpi.report.i18n import _

MAX_BYTES = 1_000_000
#: Link targets a note may keep (lower-cased scheme, without the colon).
SAFE_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True)
class Note:
    """One file of the notes folder: its name and either its rendered HTML or why it is not shown."""
    file: str
    html: Any = None  # markupsafe.Markup: the parser's output
    problem: str | None = None


def safe_link(url: str) -> bool:
    """A link target the report may carry: http(s) or mailto, nothing else (no javascript:, data:,
    file:, relative paths or protocol-relative //host links)."""
    text = url.strip()
    scheme, colon, rest = text.partition(":")
    return bool(colon) and scheme.lower() in SAFE_SCHEMES and bool(rest) and all(c.isprintable() for c in text)


def _parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False})
    md.validateLink = safe_link

    def image(renderer, tokens, idx, options, env):  # an image is its alt text: nothing is fetched
        from html import escape

        return escape(tokens[idx].content or "", quote=False)

    md.add_render_rule("image", image)
    return md


def render_markdown(text: str) -> Any:
    """A note's Markdown as markup: raw HTML is escaped, unsafe links are dropped to their text."""
    from markupsafe import Markup

    md = _parser()
    tokens = md.parse(text)
    for token in tokens:  # a note's headings sit below the section's: # becomes <h4>, ## <h5>, the rest <h6>
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 3)}"
    return Markup(md.renderer.render(tokens, md.options, {}))


def read_notes(folder: Path | None) -> list[Note]:
    """Every ``*.md`` file of ``folder`` in name order; none when the folder is None or missing."""
    if folder is None or not Path(folder).is_dir():
        return []
    out = []
    for path in sorted(Path(folder).glob("*.md"), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            out.append(Note(path.name, problem=_("could not be read (%(reason)s): not shown",
                                                 reason=exc.strerror or type(exc).__name__)))
            continue
        if len(data) > MAX_BYTES:
            out.append(Note(path.name, problem=_("larger than %(size)s MB: not shown", size=MAX_BYTES // 1_000_000)))
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            out.append(Note(path.name, problem=_("not UTF-8 text: not shown; save it as UTF-8")))
            continue
        out.append(Note(path.name, html=render_markdown(text)))
    return out
