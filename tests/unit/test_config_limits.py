"""Each config limit is stated once: the error text is read off the field's constraints.

The walk below reads every constrained field of Config (bounds, choices, booleans) on its own,
breaks each limit in a config, and checks the one-line message names exactly that limit; the
derivation tests change a bound (or a vocabulary) in a model of their own and check the message
follows.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
import pytest
from pydantic import BaseModel, Field, StrictInt, ValidationError
from pydantic.fields import FieldInfo

from kpi.config import (
    CONSTRUCTS,
    CompetenceConfig,
    Config,
    SurveyConfig,
    SurveyItem,
    UsageConfig,
    default_config,
    parse_config,
)
from kpi.config_errors import UpTo, translate
from kpi.errors import ConfigError

DEFAULTS = default_config(dt.date(2025, 1, 1)).model_dump(mode="json")


# --------------------------------------------------------------------------------------------
# The walk: every constrained field of Config
# --------------------------------------------------------------------------------------------


def _leaves(model: type[BaseModel], loc: tuple, key: str, data: Any):
    """(location, key pattern, owner section location, bare type, constraints) of every scalar
    field; a mapping is entered through one of its default keys (or "x" when it has none),
    written * in the pattern."""
    for name, field in model.model_fields.items():
        value = data.get(name) if isinstance(data, dict) else None
        yield from _leaves_of(
            field.annotation, list(field.metadata), (*loc, name), f"{key}.{name}".lstrip("."), loc, value
        )


def _leaves_of(annotation: Any, meta: list, loc: tuple, key: str, owner: tuple, value: Any):
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        for item in extra:
            meta += item.metadata if isinstance(item, FieldInfo) else [item]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _leaves(annotation, loc, key, value)
    elif get_origin(annotation) is dict:
        first = next(iter(value)) if value else "x"
        inner = value.get(first) if value else None
        yield from _leaves_of(get_args(annotation)[1], [], (*loc, first), key + ".*", owner, inner)
    else:
        yield loc, key, owner, annotation, meta


def _dotted(loc: tuple) -> str:
    return ".".join(
        p if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", p) else json.dumps(p) for p in map(str, loc)
    )


def _with(loc: tuple, value: Any) -> dict:
    data = copy.deepcopy(DEFAULTS)
    node = data
    for part in loc[:-1]:
        node = node.setdefault(part, {})
    node[loc[-1]] = value
    return data


def _message(data: dict) -> str | None:
    try:
        parse_config(data, "config.yaml")
    except ConfigError as exc:
        return str(exc)
    return None


def _at(meta: list, kind: type) -> Any:
    found = [m for m in meta if isinstance(m, kind)]
    return found[0] if found else None


def _number_cases(loc, owner, annotation, meta):
    """(value breaking one limit, the words that must name the limits) and (value on an
    inclusive limit, which must not be refused for this key)."""
    ge, gt = _at(meta, annotated_types.Ge), _at(meta, annotated_types.Gt)
    le, lt = _at(meta, annotated_types.Le), _at(meta, annotated_types.Lt)
    upto = _at(meta, UpTo)
    low = ge.ge if ge else gt.gt if gt else None
    if upto:
        sibling = DEFAULTS
        for part in (*owner, upto.key):
            sibling = sibling[part]
        high: Any = f"{_dotted((*owner, upto.key))} ({sibling})"
    else:
        high = le.le if le else lt.lt if lt else None
    if ge and (le or upto):
        spans = [f"from {low} to {high}", f"between {low} and {high}"]
    elif ge and lt:
        spans = [f"from {low} up to but not including {high}"]
    elif ge:
        spans = [f">= {low}"]
    elif gt:
        spans = [f"greater than {low}"]
    else:
        raise AssertionError(f"{loc}: a bound the test does not know: {meta}")
    broken = []
    if ge:
        broken.append(ge.ge - 1)
    if gt:
        broken.append(gt.gt)
    if le:
        broken.append(le.le + 1)
    if lt:
        broken.append(lt.lt)
    if upto:
        broken.append(sibling + 1)
    inclusive = [b for b in (ge.ge if ge else None, le.le if le else None, sibling if upto else None)
                 if b is not None]
    noun = "a whole number" if annotation is int else "a number"
    return broken, noun, spans, inclusive


def test_every_constrained_field_names_its_constraint():
    checked = []
    for loc, key, owner, annotation, meta in _leaves(Config, (), "", DEFAULTS):
        path = _dotted(loc)
        bounded = any(isinstance(m, (annotated_types.Ge, annotated_types.Gt, annotated_types.Le,
                                     annotated_types.Lt, UpTo)) for m in meta)
        if annotation in (int, float) and bounded:
            broken, noun, spans, inclusive = _number_cases(loc, owner, annotation, meta)
            for value in broken:
                message = _message(_with(loc, value))
                prefix = f"config.yaml: {path} = {value} is not allowed: must be {noun} "
                assert message is not None and message.startswith(prefix), (path, value, message)
                assert any(span in message[len(prefix) - 1:] for span in spans), (message, spans)
            for value in inclusive:
                message = _message(_with(loc, value))
                assert message is None or not message.startswith(f"config.yaml: {path} ="), message
        elif get_origin(annotation) is Literal or annotation is bool:
            choices = get_args(annotation) if annotation is not bool else (True, False)
            message = _message(_with(loc, "not-a-choice"))
            prefix = f"config.yaml: {path} = 'not-a-choice' is not allowed: must be "
            assert message is not None and message.startswith(prefix), message
            phrase = message[len(prefix):]
            listed = re.split(r", | or ", phrase.removeprefix("one of "))
            shown = {json.loads(x) if x.startswith('"') else x for x in listed}
            expected = {("true" if c else "false") if isinstance(c, bool) else c for c in choices}
            assert shown == expected, (path, phrase)
        else:
            continue
        checked.append(key)
    # the walk reached every limit of the config (mapping keys written as *)
    assert sorted(checked) == sorted(
        [
            "company.decimal_separator",
            "company.language",
            "program.baseline_months",
            "program.budget_per_employee_eur",
            *[f"program.budget_split.{c}" for c in DEFAULTS["program"]["budget_split"]],
            "privacy.min_group_size",
            "privacy.complementary_suppression",
            "usage.regular_min_active_weeks",
            "competence.proficient_score_pct",
            "competence.transfer_min_active_weeks",
            "champions.band_low",
            "champions.band_high",
            *[f"maturity.{key}" for key in DEFAULTS["maturity"]],
            *[f"rates.hourly_cost_eur.{g}" for g in ("executive", "manager", "champion", "user")],
            "benefits.attribution",
            "benefits.attribution_treatment_share",
            "benefits.confidence",
            "benefits.include_training_time",
            "benefits.cost_per_error_eur.*",
            "benefits.time_saved_minutes_per_interaction.*",
            "roi.cost_allocation",
            "roi.discount_rate_annual",
            "roi.horizon_months",
            "roi.scenarios.*.attribution",
            "roi.scenarios.*.benefits",
            "roi.scenarios.*.costs",
            "roi.use_case_implementation_hours",
            "alerts.usage_drop_points",
            "alerts.culture_drop_points",
            "alerts.target_amber_band",
            "survey.scale_max",
            "survey.favorable_min",
            "survey.items.*.construct",
            "survey.items.*.reverse",
            "survey.labels.*",
            "feedback.scale_max",
            "feedback.positive_min",
            "quality.max_quarantined_share",
            "quality.max_days_ahead",
            "warehouse.memory_limit",
            *[f"columns.{name}.*" for name in DEFAULTS["columns"]],
        ]
    )


def test_docs_tables_name_every_bound():
    """docs/configuration.md restates the limits for readers: each bound of a key appears in the
    "allowed" cell of its row (so a changed bound fails here until the docs follow)."""
    from kpi.paths import REPO_ROOT

    doc = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    checked = 0
    for loc, _key, _owner, annotation, meta in _leaves(Config, (), "", DEFAULTS):
        bounds = [getattr(m, name) for m in meta for name in ("ge", "gt", "le", "lt") if hasattr(m, name)]
        if annotation not in (int, float) or not bounds:
            continue
        section = doc.split(f"\n## {loc[0]}\n", 1)[1].split("\n## ", 1)[0]
        row = next(line for line in section.splitlines() if line.startswith(f"| `{loc[1]}` |"))
        allowed = row.split("|")[3]
        # a negative bound is written with the minus sign U+2212 ("−100"); ranges use an en dash
        numbers = {float(n.replace("\u2212", "-")) for n in re.findall(r"\u2212?\d+(?:\.\d+)?", allowed)}
        assert {float(b) for b in bounds} <= numbers, (loc, allowed)
        checked += 1
    assert checked == 50  # the numeric keys of the walk above


# --------------------------------------------------------------------------------------------
# Derivation: a changed limit changes the message
# --------------------------------------------------------------------------------------------


def _error(model: type[BaseModel], data: dict) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return translate(info.value, "config.yaml", model, data)


START = {"program": {"start": "2025-01-01"}}


def test_a_changed_bound_changes_the_message():
    class NarrowUsage(UsageConfig):
        regular_min_active_weeks: StrictInt = Field(6, ge=2, le=10)

    class NarrowConfig(Config):
        usage: NarrowUsage = Field(default_factory=NarrowUsage)

    data = {**START, "usage": {"regular_min_active_weeks": 11}}
    assert _error(NarrowConfig, data) == (
        "config.yaml: usage.regular_min_active_weeks = 11 is not allowed: "
        "must be a whole number from 2 to 10"
    )
    data = {**START, "usage": {"regular_min_active_weeks": 1}}
    assert _error(NarrowConfig, data) == (
        "config.yaml: usage.regular_min_active_weeks = 1 is not allowed: "
        "must be a whole number from 2 to 10"
    )
    # the real config, same input: its own bounds
    with pytest.raises(ConfigError, match=r"must be a whole number from 1 to 14$"):
        parse_config({**START, "usage": {"regular_min_active_weeks": 15}}, "config.yaml")


def test_exclusive_bounds_are_named_as_such():
    class OpenCompetence(CompetenceConfig):
        proficient_score_pct: float = Field(70.0, strict=True, gt=50, lt=100)

    class OpenConfig(Config):
        competence: OpenCompetence = Field(default_factory=OpenCompetence)

    assert _error(OpenConfig, {**START, "competence": {"proficient_score_pct": 100}}) == (
        "config.yaml: competence.proficient_score_pct = 100 is not allowed: "
        "must be a number greater than 50 and less than 100"
    )


@pytest.mark.filterwarnings("ignore:Field name \"construct\".*shadows an attribute")
def test_a_changed_vocabulary_changes_the_message():
    class TwoConstructs(SurveyItem):
        construct: Literal["satisfaction", "trust"]

    class TwoConstructSurvey(SurveyConfig):
        items: dict[str, TwoConstructs] = Field(default_factory=dict)

    class TwoConstructConfig(Config):
        survey: TwoConstructSurvey = Field(default_factory=TwoConstructSurvey)

    data = {**START, "survey": {"items": {"Q1": {"construct": "support"}}}}
    assert _error(TwoConstructConfig, data) == (
        "config.yaml: survey.items.Q1.construct = 'support' is not allowed: "
        "must be satisfaction or trust"
    )
    # the real vocabulary is CONSTRUCTS
    with pytest.raises(ConfigError) as info:
        parse_config({**START, "survey": {"items": {"Q1": {"construct": "trust"}}}}, "config.yaml")
    assert str(info.value).endswith("must be one of " + ", ".join(CONSTRUCTS))


def test_a_bound_that_is_another_key_names_its_value():
    # survey.labels.* and survey.favorable_min go up to survey.scale_max: the value given
    # (here 7), else its default 5
    data = {**START, "survey": {"scale_max": 7, "favorable_min": 4, "labels": {"Yes": 8}}}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "config.yaml")
    assert str(info.value) == (
        "config.yaml: survey.labels.Yes = 8 is not allowed: must be a whole number of points "
        "from 1 to survey.scale_max (7)"
    )
    with pytest.raises(ConfigError) as info:
        parse_config({**START, "survey": {"favorable_min": 0}}, "config.yaml")
    assert str(info.value) == (
        "config.yaml: survey.favorable_min = 0 is not allowed: must be a whole number from 1 to "
        "survey.scale_max (5)"
    )
