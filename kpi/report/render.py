"""The page: ReportData and charts -> one self-contained HTML file, rendered from templates/.

Templates (Jinja2, autoescaped, undefined names are errors):

- ``report.html.j2``: the page shell, written line for line; CSS and scripts from ``static/`` are
  inlined so the report opens offline;
- ``sections/<id>.html.j2``: one per section (view.SECTIONS gives their order and titles);
- ``_macros.html.j2``: tables, the segment table, cells, cards, charts.

Every template but the shell is *joined*: a line break and the indentation after it are dropped
before parsing (:func:`join_lines`), so markup can be laid out on several lines and still comes
out compact; inside a tag (``{{ }}``, ``{% %}``) a line break is a space.

Values are escaped as :func:`html.escape` does (quotes as ``&quot;`` and ``&#x27;``). Templates
format figures with the filters below (``{{ x|pct }}``, ``{{ x|num(1) }}``) and read everything
else from ``d`` (the :class:`~kpi.report.collect.ReportData`), ``view`` (the module
:mod:`kpi.report.view`), ``charts`` (by name) and ``k``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kpi.report import formatting, i18n, standing, view

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

    from kpi.report.charts import ChartOut
    from kpi.report.collect import ReportData

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
#: The template written line for line; every other template is joined.
SHELL = "report.html.j2"
#: The page shells (the quarterly report's and the yearly deep dive's): written line for line.
SHELLS = (SHELL, "yearly.html.j2")

_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.S)
_LAYOUT = re.compile(r"\n[ \t]*")
_TAG_BREAK = re.compile(r"\s*\n\s*")


def join_lines(source: str) -> str:
    """Drop each line break and the indentation after it; inside a tag, make it one space."""
    parts = _TAG.split(source)
    return "".join(_TAG_BREAK.sub(" ", part) if i % 2 else _LAYOUT.sub("", part) for i, part in enumerate(parts))


def _escape(value: Any) -> Any:
    """Escape a value as the report always has (html.escape); markup (macros, filters) passes."""
    from markupsafe import Markup

    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


def text(value: Any) -> Any:
    """Escaped for a text node only (& < >): the narrative's sentences keep their apostrophes."""
    from markupsafe import Markup

    return Markup(html.escape(str(value), quote=False))


#: Inside a <script> element the HTML parser still looks for "</script" and "<!--": any name in
#: the chart data could end the element early (a department called "<!--<script>" blanked the
#: page from its chart on). JSON allows every character as a \u escape, so none of these reaches
#: the parser as markup; JSON.parse gives the same text back.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   ord("\u2028"): "\\u2028", ord("\u2029"): "\\u2029"}


def json_script(value: Any) -> Any:
    """A value as JSON that is safe inside <script type="application/json">, whatever its text."""
    from markupsafe import Markup

    return Markup(json.dumps(value, ensure_ascii=False, allow_nan=False, default=str).translate(_SCRIPT_ESCAPES))


FILTERS = {
    "pct": formatting.fmt_pct,
    "pct_value": formatting.fmt_pct_value,
    "pts": formatting.fmt_pts,
    "signed": formatting.fmt_signed,
    "eur": formatting.fmt_eur,
    "num": formatting.fmt_num,
    "direction": formatting.direction,
    "suppression_text": formatting.suppression_text,
    "process_label": formatting.process_label,
    "json_script": json_script,
    "text": text,
}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    import jinja2
    from jinja2.ext import Extension

    class JoinLines(Extension):
        """Joins the lines of every template but the shell (see the module docstring)."""

        def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
            return source if name in SHELLS else join_lines(source)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, finalize=_escape,
        extensions=[JoinLines, "jinja2.ext.i18n"])
    # _("...") and ngettext(...) in a template: translated in the language of the moment
    # (kpi.report.i18n.use_language); placeholders are %(name)s, filled and escaped by Jinja.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: i18n.translations(i18n.current_language()).gettext(message),
        ngettext=lambda singular, plural, n: i18n.translations(i18n.current_language()).ngettext(singular, plural, n),
        newstyle=True)
    env.filters.update(FILTERS)
    env.globals["view"] = view
    env.globals["standing"] = standing
    return env


@dataclass(frozen=True)
class Static:
    """The inlined stylesheet and scripts (markup: inserted as they are)."""
    css: Any
    error_collector: Any
    render: Any
    javascript_bundle: Any


def static_text(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed from vl-convert, once for the page."""
    import vl_convert as vlc

    return vlc.javascript_bundle().replace("</script", "<\\/script")


def static_files() -> Static:
    from markupsafe import Markup

    language = i18n.current_language()
    render = static_text("render.js")
    for marker in ("__FORMAT_LOCALE__", "__TIME_FORMAT_LOCALE__"):
        if render.count(marker) != 1:
            raise RuntimeError(f"kpi/report/static/render.js: expected {marker} once")
    time_locale = None if language == "en" else i18n.time_format_locale(language)
    render = render.replace("__FORMAT_LOCALE__", json.dumps(i18n.format_locale(language))).replace(
        "__TIME_FORMAT_LOCALE__", json.dumps(time_locale))
    return Static(css=Markup(static_text("report.css")), error_collector=Markup(static_text("error_collector.js")),
                  render=Markup(render), javascript_bundle=Markup(_javascript_bundle()))


def render_html(d: ReportData, chart_list: list[ChartOut]) -> str:
    """The report's page."""
    template = environment().get_template(SHELL)
    return template.render(d=d, k=d.settings.k, charts={c.name: c for c in chart_list}, sections=view.SECTIONS,
                           static=static_files(), language=i18n.current_language())
