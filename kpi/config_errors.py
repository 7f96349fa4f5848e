"""What a config key allows, said once, and pydantic's errors turned into one line.

A key's limits are stated once, where its field is declared; the error text is read off them:

- numbers: the ``annotated_types`` bounds pydantic keeps in ``FieldInfo.metadata`` (``ge``,
  ``gt``, ``le``, ``lt``), plus :class:`UpTo` for a bound that is another key's value
  ("a whole number from 1 to survey.scale_max (5)");
- choices: the values of a ``Literal`` ("one of satisfaction, support, ...", ``"." or ","``),
  ``true or false`` for a bool;
- sections: their model's keys ("a mapping with the keys ...").

A :class:`Phrase` in a field's ``Annotated`` metadata adds what a type cannot say: a unit
("of months"), a note ("(0.08 = 8 %)"), or for text and mappings the whole phrase. So a changed
bound changes its message with it. :func:`translate` picks the error to report and writes::

    config.yaml: benefits.attribution = 1.7 is not allowed: must be a number between 0 and 1

Import-light (pydantic only): :mod:`kpi.config` uses it at CLI start-up.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

__all__ = [
    "DATE_PHRASE",
    "Phrase",
    "UpTo",
    "allowed_phrase",
    "fmt_number",
    "kind_of",
    "not_allowed",
    "out_of_bounds",
    "translate",
    "upto_fields",
]

DATE_PHRASE = "a date such as 2025-01-01"


@dataclass(frozen=True)
class Phrase:
    """How the error text names what a field allows, where its type cannot say it all.

    ``text`` is the whole phrase (text with a pattern, a time zone, a mapping); otherwise the
    phrase is derived from the type, with ``unit`` after the noun ("a whole number of months"),
    ``note`` at the end, and ``between`` for "between 0 and 1" instead of "from 0 to 1".
    """

    text: str = ""
    unit: str = ""
    note: str = ""
    between: bool = False


@dataclass(frozen=True)
class UpTo:
    """Constraint: at most the value of the sibling key ``key`` of the same section (on a
    mapping's value type: every value of the mapping). Enforced by ``kpi.config._Section``."""

    key: str


def not_allowed(allowed: str, path: tuple = (), value: Any = ..., kind: str = "not_allowed"):
    """A validation error whose text we write ourselves (``allowed`` is a full clause, e.g.
    "must be ..."); ``path`` continues the location pydantic gives."""
    ctx: dict[str, Any] = {"allowed": allowed, "path": tuple(path)}
    if value is not ...:
        ctx["value"] = value
    return PydanticCustomError(f"kpi_{kind}", "{allowed}", ctx)


def out_of_bounds(path: tuple, value: Any):
    """A value outside its field's bounds, found by a validator: :func:`translate` writes
    "must be <the field's phrase>"."""
    return not_allowed("", path, value, kind="bound")


# --------------------------------------------------------------------------------------------
# Reading the model: what sits at a location
# --------------------------------------------------------------------------------------------


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _strip(annotation: Any, metadata: Any = ()) -> tuple[Any, list]:
    """(bare type, metadata): ``Annotated`` layers unwrapped, the constraints of a ``Field``
    inside them flattened into the list (as pydantic does for a field's own annotation)."""
    meta = list(metadata)
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        for item in extra:
            meta.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, meta


@dataclass(frozen=True)
class _Leaf:
    type: Any  # bare type: int, float, bool, str, a Literal, a model class, dict[...]
    metadata: list  # constraints and markers (Ge, Le, Strict, Phrase, UpTo, ...)
    owner: tuple  # location of the section that declares the field


def _leaf_at(root: type[BaseModel], loc: tuple) -> _Leaf | None:
    """What the config model ``root`` has at a location (a key of a mapping: its value type)."""
    annotation: Any = root
    meta: list = []
    owner: tuple = ()
    for i, part in enumerate(loc):
        if _is_model(annotation):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            owner = tuple(loc[:i])
            annotation, meta = _strip(field.annotation, field.metadata)
        elif get_origin(annotation) is dict:
            annotation, meta = _strip(get_args(annotation)[1])
        elif get_origin(annotation) is list and isinstance(part, int):  # rollout[0]
            annotation, meta = _strip(get_args(annotation)[0])
        else:
            return None
    return _Leaf(annotation, meta, owner)


@functools.cache
def upto_fields(model: type[BaseModel]) -> tuple[tuple[str, str, bool], ...]:
    """(field, sibling key, on every mapping value?) for each :class:`UpTo` of a section."""
    found = []
    for name, field in model.model_fields.items():
        annotation, meta = _strip(field.annotation, field.metadata)
        in_mapping = False
        if get_origin(annotation) is dict:
            annotation, meta = _strip(get_args(annotation)[1])
            in_mapping = True
        found += [(name, m.key, in_mapping) for m in meta if isinstance(m, UpTo)]
    return tuple(found)


# --------------------------------------------------------------------------------------------
# Phrases
# --------------------------------------------------------------------------------------------


def allowed_phrase(root: type[BaseModel], loc: tuple, data: Any = None) -> str | None:
    """What may stand at ``loc`` as a noun phrase ("a number between 0 and 1"), read off the
    field's declaration; ``data`` (the parsed input) gives the value of an :class:`UpTo` key."""
    leaf = _leaf_at(root, loc)
    if leaf is None:
        return None
    says = next((m for m in leaf.metadata if isinstance(m, Phrase)), Phrase())
    kind = leaf.type
    if says.text:
        return says.text
    if _is_model(kind):
        return "a mapping with the keys " + ", ".join(kind.model_fields)
    if get_origin(kind) is dict:
        return "a mapping"
    if get_origin(kind) is Literal:
        return _choice(get_args(kind))
    if kind is bool:
        return _choice((True, False))
    if kind in (int, float):
        return _number(kind is int, leaf, says, root, data)
    if kind is dt.date:
        return DATE_PHRASE
    if kind is str:
        pattern = next((m.pattern for m in leaf.metadata if getattr(m, "pattern", None)), None)
        return f"text matching {pattern}" if pattern else "text"
    return None


def _choice(values: tuple) -> str:
    """``true or false``, ``"." or ","``, ``one of a, b, c``."""
    shown = [_key_show(v) if isinstance(v, str) else _show(v) for v in values]
    if len(shown) == 1:
        return shown[0]
    if len(shown) == 2:
        return f"{shown[0]} or {shown[1]}"
    return "one of " + ", ".join(shown)


def _number(whole: bool, leaf: _Leaf, says: Phrase, root: type[BaseModel], data: Any) -> str:
    """"a whole number of months from 1 to 36", "a number >= 0", "a number greater than 0" ..."""
    low = high = None  # (bound as text, inclusive?)
    for m in leaf.metadata:
        if isinstance(m, annotated_types.Ge):
            low = (_bound(m.ge), True)
        elif isinstance(m, annotated_types.Gt):
            low = (_bound(m.gt), False)
        elif isinstance(m, annotated_types.Le):
            high = (_bound(m.le), True)
        elif isinstance(m, annotated_types.Lt):
            high = (_bound(m.lt), False)
        elif isinstance(m, UpTo):
            limit = _sibling_value(root, data, leaf.owner, m.key)
            shown = "" if limit is None else f" ({_show(limit)})"
            high = (_path((*leaf.owner, m.key)) + shown, True)
    if low and high:
        (a, a_in), (b, b_in) = low, high
        if a_in and b_in:
            span = f"between {a} and {b}" if says.between else f"from {a} to {b}"
        elif a_in:
            span = f"from {a} up to but not including {b}"
        elif b_in:
            span = f"greater than {a} and at most {b}"
        else:
            span = f"greater than {a} and less than {b}"
    elif low:
        span = f">= {low[0]}" if low[1] else f"greater than {low[0]}"
    elif high:
        span = f"<= {high[0]}" if high[1] else f"less than {high[0]}"
    else:
        span = ""
    noun = "a whole number" if whole else "a number"
    return " ".join(part for part in (noun, says.unit, span, says.note) if part)


def _bound(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x)


def _sibling_value(root: type[BaseModel], data: Any, owner: tuple, key: str) -> Any:
    """The value of ``owner.key`` in the parsed input, else that key's default."""
    node = data
    for part in owner:
        node = node.get(part) if isinstance(node, dict) else None
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    section = _leaf_at(root, owner)
    field = section.type.model_fields.get(key) if section and _is_model(section.type) else None
    if field is None or field.is_required():
        return None
    return field.get_default(call_default_factory=True)


def _required_leaf(root: type[BaseModel], loc: tuple) -> tuple:
    """For a missing section, the first required key inside it (program -> program.start)."""
    leaf = _leaf_at(root, loc)
    while leaf is not None and _is_model(leaf.type):
        required = [n for n, f in leaf.type.model_fields.items() if f.is_required()]
        if not required:
            break
        loc = (*loc, required[0])
        leaf = _leaf_at(root, loc)
    return loc


# --------------------------------------------------------------------------------------------
# Showing keys and values as the user wrote them
# --------------------------------------------------------------------------------------------


def _path(loc: tuple) -> str:
    """Dotted key path; keys with dots, spaces etc. are quoted, very long ones shortened."""
    parts: list[str] = []
    for raw in loc:
        if isinstance(raw, int) and parts:  # a list item: rollout[0]
            parts[-1] += f"[{raw}]"
            continue
        part = str(raw)
        if len(part) > 60:
            part = part[:57] + "..."
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part)
        parts.append(part if bare else json.dumps(part, ensure_ascii=False))
    return ".".join(parts)


def fmt_number(x: float) -> str:
    return f"{round(x, 6):g}"


def _show(value: Any, limit: int = 80) -> str:
    """A value as the user typed it in YAML."""
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return "'" + text.replace("'", "''") + "'"
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{_key_show(k)}: {_show(v, 30)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_show(v, 30) for v in value) + "]"
    else:
        text = str(value)
    if len(text) > limit:
        text = text[: limit - 4] + "..." + text[-1]
    return text


def _key_show(key: Any) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) else json.dumps(key, ensure_ascii=False)


def kind_of(value: Any) -> str:
    """"a list", "text", "a number" ...: what the user gave instead of a mapping."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


# --------------------------------------------------------------------------------------------
# Turning pydantic's errors into one line
# --------------------------------------------------------------------------------------------


def translate(exc: ValidationError, source: str, root: type[BaseModel], data: Any = None) -> str:
    """One line for a failed validation of ``data`` against the config model ``root``."""
    errors = exc.errors(include_url=False)
    # An unknown key explains the other errors it causes (a typo leaves a default in place), so
    # report it first; otherwise the first error in the order of the file's sections.
    errors.sort(key=lambda e: 0 if e["type"] == "extra_forbidden" else 1)
    err = errors[0]
    loc = tuple(p for p in err["loc"] if p != "[key]")
    kind = err["type"]
    ctx = err.get("ctx") or {}

    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        node = _leaf_at(root, parent)
        allowed = list(node.type.model_fields) if node and _is_model(node.type) else []
        where = "the top level" if not parent else _path(parent)
        message = (
            f"{source}: unknown key '{_path(loc)}' (allowed under {where}: {', '.join(allowed)})"
        )
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if not close:
            lowered = {a.casefold(): a for a in allowed}
            close = [lowered[key.casefold()]] if key.casefold() in lowered else []
        if close:
            message += f"; did you mean '{_path((*parent, close[0]))}'?"
        return message

    if kind == "missing":
        loc = _required_leaf(root, loc)
        phrase = allowed_phrase(root, loc, data)
        hint = f" ({phrase})" if phrase else ""
        return f"{source}: {_path(loc)} is required{hint}"

    if kind.startswith("kpi_"):
        loc = (*loc, *ctx.get("path", ()))
        value = ctx.get("value", err.get("input"))
        allowed = ctx["allowed"] or "must be " + (allowed_phrase(root, loc, data) or "a valid value")
        return f"{source}: {_path(loc)} = {_show(value)} is not allowed: {allowed}"

    value = err.get("input")
    leaf = _leaf_at(root, loc)
    mapping = leaf is not None and (_is_model(leaf.type) or get_origin(leaf.type) is dict)
    if kind == "model_type" or (kind == "dict_type" and mapping):
        phrase = allowed_phrase(root, loc, data) or "a mapping"
        return f"{source}: {_path(loc)} = {_show(value)} is not allowed: must be {phrase}"
    phrase = allowed_phrase(root, loc, data)
    if phrase is None:
        phrase = str(err.get("msg", "")).splitlines()[0].lower() or "a valid value"
    return f"{source}: {_path(loc)} = {_show(value)} is not allowed: must be {phrase}"
