"""The report's languages: gettext catalogues, the current language, locale data for the charts.

Every string the report shows is English in the code and translated at render time through the
gettext catalogues in ``kpi/report/locale/<language>/LC_MESSAGES/report.po`` (Babel's format). A
translator edits only those files; ``make i18n`` extracts new strings from the code and templates
into ``kpi/report/locale/report.pot`` and merges them into each ``.po`` (Babel ``extract`` and
``update``). The ``.po`` files are compiled in memory when a language is first used (Babel's
``write_mo``), so the repository holds no compiled file and nothing must be built before a run.

The language is a context (:func:`use_language`): the templates, :mod:`kpi.report.view`,
:mod:`kpi.report.standing`, :mod:`kpi.report.formatting` and the chart builders read it when they
run, so one Jinja2 environment serves every language.

Marking strings:

- ``_("text")`` translates now; ``_("In %(quarter)s", quarter=q)`` fills named placeholders after
  translating (the translator sees and may move ``%(quarter)s``). The message is always
  %-formatted, in Python as in the templates (Jinja's "newstyle" gettext): a literal percent sign
  is written ``%%`` (``_("95 %% interval")``);
- ``ngettext("%(num)d alert", "%(num)d alerts", n)`` for plurals (``num`` is filled with n);
- ``N_("text")`` marks a string for the catalogue without translating it (a constant translated
  later with ``_(constant)``).
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from kpi.config import LANGUAGES  # the vocabulary is defined once, in kpi.config

#: The Babel locale of each language: the Netherlands' and Germany's conventions (Flanders reads nl).
LOCALES = {"en": "en", "nl": "nl_NL", "de": "de_DE"}
DOMAIN = "report"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: ContextVar[str] = ContextVar("kpi_report_language", default="en")


def check_language(language: str) -> str:
    """The language, or a one-line error naming the ones available."""
    from kpi.errors import UserError

    value = (language or "").strip().lower()
    if value not in LANGUAGES:
        raise UserError(f"language {language!r}: not available; use one of {', '.join(LANGUAGES)}")
    return value


@contextlib.contextmanager
def use_language(language: str) -> Iterator[str]:
    """Render in this language inside the block."""
    token = _current.set(check_language(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current_language() -> str:
    return _current.get()


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The language's catalogue, compiled in memory from its .po file (English: none needed)."""
    if language == "en":
        return _gettext.NullTranslations()
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(language).open("rb") as f:
        catalog = read_po(f, locale=LOCALES[language], domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)  # a fuzzy entry is a guess: English until reviewed
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def _(message: str, /, **values: Any) -> str:
    """The message in the current language, its ``%(name)s`` placeholders filled from ``values``."""
    return translations(_current.get()).gettext(message) % values


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The singular or plural form for n in the current language; ``%(num)d`` is n."""
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a string for the catalogue; translate it where it is shown, with ``_(message)``."""
    return message


def stored_message(text: str, templates: Iterable[str], separator: str | None = None) -> str:
    """An English text the warehouse stores, made from one of ``templates`` (``%(name)s``
    placeholders), in the current language: the template it matches, translated and filled with
    the values it held. With ``separator``, each part is matched on its own. A text no template
    matches is returned as it is (a name from the config, a text of an earlier release)."""
    import re

    if separator is not None:
        return separator.join(stored_message(part, templates) for part in text.split(separator))
    for template in templates:
        names = re.findall(r"%\((\w+)\)s", template)
        pattern = re.escape(template)
        for name in names:
            pattern = pattern.replace(re.escape(f"%({name})s"), f"(?P<{name}>.+?)", 1)
        match = re.fullmatch(pattern.replace("%%", "%"), text, re.S)
        if match:
            return _(template, **match.groupdict())
    return text


def babel_locale(language: str | None = None):
    """The Babel Locale of the language (default: the current one)."""
    from babel import Locale

    return Locale.parse(LOCALES[language or _current.get()])


@cache
def format_locale(language: str) -> dict[str, Any]:
    """The d3-format locale of the charts (Vega's ``formatLocale``): separators and € placement."""
    if language == "en":
        return {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["€", ""]}
    from kpi.report.formatting import NBSP, number_symbols

    decimal, group, currency = number_symbols(language)
    return {"decimal": decimal, "thousands": group, "grouping": [3], "currency": list(currency), "minus": "\u2212",
            "percent": NBSP + "%"}


@cache
def time_format_locale(language: str) -> dict[str, Any]:
    """The d3-time-format locale of the charts (Vega's ``timeFormatLocale``): month and day names."""
    locale = babel_locale(language)

    def names(kind: str, context: str, width: str) -> list[str]:
        table = getattr(locale, kind)[context][width]
        if kind == "days":  # Babel: 0 = Monday; d3: Sunday first
            return [table[(i + 6) % 7] for i in range(7)]
        return [table[i] for i in range(1, 13)]

    return {"dateTime": "%x, %X", "date": "%-d-%-m-%Y" if language == "nl" else
            "%-d.%-m.%Y" if language == "de" else "%-m/%-d/%Y", "time": "%H:%M:%S", "periods": ["AM", "PM"],
            "days": names("days", "format", "wide"), "shortDays": names("days", "format", "abbreviated"),
            "months": names("months", "stand-alone", "wide"),
            "shortMonths": names("months", "stand-alone", "abbreviated")}
