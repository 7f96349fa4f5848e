"""The usage formats understood, in the order they are listed to the user.

Each format is one module ending with a ``UsageFormat`` (``kpi.adapters.usage_common``);
``kpi.adapters.usage`` recognises and reads a file by looping over ``FORMATS``. Adding a format
is a new module, one line here and its golden test (docs/architecture.md, "Adding a vendor
format").
"""

from __future__ import annotations

from kpi.adapters import canonical, chatgpt, github, m365
from kpi.adapters.usage_common import UsageFormat

FORMATS: tuple[UsageFormat, ...] = (
    canonical.EVENTS,
    canonical.COUNTS,
    m365.FORMAT,
    github.FORMAT,
    chatgpt.FORMAT,
)


def names(formats: tuple[UsageFormat, ...] | None = None) -> tuple[str, ...]:
    """The format names (``staging.usage_activity.format`` values), in registry order."""
    return tuple(f.name for f in (FORMATS if formats is None else formats))


def understood(formats: tuple[UsageFormat, ...] | None = None) -> str:
    """The formats' descriptions for the "unrecognised usage format" message, each once."""
    return ", ".join(dict.fromkeys(f.description for f in (FORMATS if formats is None else formats)))
