"""The programme config: one YAML file, validated with every default of docs/configuration.md.

``load_config(path)`` reads and validates the file; ``parse_config(data)`` validates an already
parsed mapping. Every problem becomes a ONE-line :class:`kpi.errors.ConfigError` naming the file,
the dotted key, the value given and what is allowed, e.g.::

    config.yaml: benefits.attribution = 1.7 is not allowed: must be a number between 0 and 1

What each key allows is stated once, in its field's declaration below; ``kpi.config_errors``
reads the error text off it. ``kpi.config_yaml`` reads the YAML text.

Import-light on purpose (pydantic and pyyaml only): the CLI imports it at start-up.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import unicodedata
import warnings
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from kpi.config_errors import (
    DATE_PHRASE,
    Phrase,
    UpTo,
    fmt_number,
    kind_of,
    not_allowed,
    out_of_bounds,
    translate,
    upto_fields,
)
from kpi.config_yaml import dump_yaml, parse_yaml
from kpi.errors import ConfigError

__all__ = [
    "CANONICAL_COLUMNS",
    "CONSTRUCTS",
    "COST_CATEGORIES",
    "LANGUAGES",
    "LABEL_PRESETS",
    "LABEL_PRESET_VARIANTS",
    "ROLLOUT_KINDS",
    "ROLLOUT_PHASES",
    "TARGET_GROUPS",
    "TRAINING_FORMATS",
    "TRAINING_STATUSES",
    "USE_CASE_STATUSES",
    "Config",
    "config_sha256",
    "default_config",
    "dump_config",
    "load_config",
    "normalise_label",
    "parse_config",
]

# --------------------------------------------------------------------------------------------
# Vocabulary shared with the inputs contract
# --------------------------------------------------------------------------------------------

# The one definition of each vocabulary: the config's models, the input readers
# (kpi.adapters.tables), the quality suites and the synthetic company import them from here.

#: company.language: the report's languages (kpi/report/locale holds a catalogue for each but en).
Language = Literal["en", "nl", "de"]
LANGUAGES: tuple[str, ...] = get_args(Language)
#: employees.csv target_group; the keys of rates.hourly_cost_eur.
TARGET_GROUPS: tuple[str, ...] = ("executive", "manager", "champion", "user")
#: survey.items.*.construct.
CONSTRUCTS: tuple[str, ...] = ("satisfaction", "support", "collaboration", "innovation")
#: costs.csv category (the ledger); the keys of program.budget_split, in that order.
COST_CATEGORIES: tuple[str, ...] = (
    "external_training",
    "internal_time",
    "licenses",
    "materials",
    "other",
)
#: trainings.csv format.
TRAINING_FORMATS: tuple[str, ...] = (
    "basics_workshop",
    "usecase_workshop",
    "prompt_masterclass",
    "hackathon",
    "executive_briefing",
    "elearning",
    "coaching",
    "train_the_trainer",
    "other",
)
#: trainings.csv status.
TRAINING_STATUSES: tuple[str, ...] = ("enrolled", "completed", "dropped")
#: use_cases.csv status.
USE_CASE_STATUSES: tuple[str, ...] = ("idea", "pilot", "production", "retired")

#: Canonical column names of each input (docs/inputs.md); ``columns.<input>`` may only map onto these.
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "employees": (
        "employee_id",
        "email",
        "github_login",
        "department",
        "target_group",
        "hire_date",
        "exit_date",
        "fte",
        "hourly_cost_eur",
    ),
    "trainings": (
        "employee_id",
        "course_id",
        "format",
        "started_on",
        "completed_on",
        "status",
        "hours",
    ),
    "assessments": ("employee_id", "assessed_on", "instrument", "score", "max_score"),
    "course_feedback": ("employee_id", "course_id", "date", "rating", "would_recommend"),
    "costs": ("booked_on", "category", "amount_eur", "description", "department"),
    "licenses": ("tool", "month", "seats", "cost_eur"),
    "process_metrics": (
        "month",
        "process",
        "department",
        "cases",
        "handling_minutes",
        "errors",
        "csat",
    ),
    "use_cases": (
        "use_case_id",
        "title",
        "department",
        "submitted_on",
        "status",
        "self_developed",
        "est_hours_saved_per_month",
    ),
    "surveys": ("response_id", "submitted_at", "department", "target_group", "identity"),
}

#: The standard 5-point agreement scales a ``survey.labels`` preset expands to.
LABEL_PRESETS: dict[str, dict[str, int]] = {
    "en": {
        "Strongly disagree": 1,
        "Disagree": 2,
        "Neutral": 3,
        "Agree": 4,
        "Strongly agree": 5,
    },
    "nl": {
        "Helemaal mee oneens": 1,
        "Mee oneens": 2,
        "Neutraal": 3,
        "Mee eens": 4,
        "Helemaal mee eens": 5,
    },
    "de": {
        "Stimme überhaupt nicht zu": 1,
        "Stimme nicht zu": 2,
        "Teils teils": 3,
        "Stimme zu": 4,
        "Stimme voll zu": 5,
    },
}

#: Common wordings of the same scale points, accepted whenever a config's labels contain the
#: whole standard scale of that language (so a preset and its spelled-out mapping behave alike).
LABEL_PRESET_VARIANTS: dict[str, dict[str, int]] = {
    "en": {
        "Neither agree nor disagree": 3,
        "Neither agree or disagree": 3,
        "Neutral": 3,
    },
    "nl": {
        "Helemaal oneens": 1,
        "Oneens": 2,
        "Neutral": 3,
        "Niet eens, niet oneens": 3,
        "Noch eens, noch oneens": 3,
        "Eens": 4,
        "Helemaal eens": 5,
    },
    "de": {
        "Stimme gar nicht zu": 1,
        "Stimme überhaupt nicht zu": 1,
        "Stimme eher nicht zu": 2,
        "Teils/teils": 3,
        "Teils, teils": 3,
        "Teils-teils": 3,
        "Weder noch": 3,
        "Weder zustimmend noch ablehnend": 3,
        "Neutral": 3,
        "Stimme eher zu": 4,
        "Stimme voll und ganz zu": 5,
    },
}

_DEFAULT_ITEMS: dict[str, dict[str, Any]] = {
    "I am satisfied with how AI tools are introduced here": {"construct": "satisfaction"},
    "I get the support I need to use AI tools": {"construct": "support"},
    "I share AI tips with colleagues": {"construct": "collaboration"},
    "I would like to develop new AI applications": {"construct": "innovation"},
    "AI tools make my work harder": {"construct": "satisfaction", "reverse": True},
}

_DEFAULT_SCENARIOS: dict[str, dict[str, float]] = {
    "conservative": {"attribution": 0.6, "benefits": 0.8, "costs": 1.1},
    "base": {"attribution": 1.0, "benefits": 1.0, "costs": 1.0},
    "optimistic": {"attribution": 1.2, "benefits": 1.2, "costs": 0.95},
}

_DEFAULT_COST_PER_ERROR_EUR = 50.0

#: rates.hourly_cost_eur defaults; every target group needs one.
_DEFAULT_HOURLY_COST_EUR: dict[str, float] = {
    "executive": 120.0,
    "manager": 85.0,
    "champion": 65.0,
    "user": 55.0,
}

_DEFAULT_BUDGET_SPLIT: dict[str, float] = {
    "external_training": 0.40,
    "internal_time": 0.30,
    "licenses": 0.20,
    "materials": 0.10,
}


def normalise_label(text: str) -> str:
    """How survey answer labels are compared: NFC, casefolded, whitespace collapsed, trimmed,
    a trailing period removed (``" Strongly Agree. "`` -> ``"strongly agree"``)."""
    text = unicodedata.normalize("NFC", str(text))
    text = " ".join(text.split()).casefold()
    while text.endswith("."):
        text = text[:-1].rstrip()
    return text


# --------------------------------------------------------------------------------------------
# Field types. What a key allows is stated once, in its declaration: kpi.config_errors reads the
# error text off the constraints (bounds, Literal values, UpTo) and a Phrase where a type cannot
# say it (text with a pattern, mappings, units).
# --------------------------------------------------------------------------------------------


def _coerce_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date()
        raise not_allowed("must be a date without a time, such as 2025-01-01")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise not_allowed("must be " + DATE_PHRASE)


ConfigDate = Annotated[dt.date, BeforeValidator(_coerce_date)]


def _num(default: Any = ..., **constraints: Any) -> Any:
    return Field(default, strict=True, allow_inf_nan=False, **constraints)


Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1), Phrase(between=True)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Positive = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]
#: Points of a survey answer (up to survey.scale_max).
Points = Annotated[StrictInt, Field(ge=1), UpTo("scale_max"), Phrase(unit="of points")]


class _Section(BaseModel):
    """Base of every config section: unknown keys are errors, an empty section means defaults,
    and every :class:`UpTo` bound is enforced."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        # `benefits:` with nothing under it is an empty section: its defaults apply.
        if isinstance(data, dict):
            data = dict(data)
            for name, field in cls.model_fields.items():
                if name not in data or data[name] is not None:
                    continue
                if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                    data[name] = {}
                elif get_origin(field.annotation) in (dict, list) and not field.is_required():
                    del data[name]
        return data

    @model_validator(mode="after")
    def _within_upto_bounds(self) -> Any:
        # UpTo("scale_max"): at most the value of that key of this section
        for name, key, in_mapping in upto_fields(type(self)):
            limit, value = getattr(self, key), getattr(self, name)
            checked = {(name, k): v for k, v in value.items()} if in_mapping else {(name,): value}
            for path, number in checked.items():
                if number > limit:
                    raise out_of_bounds(path, number)
        return self


class _MappingSection(_Section):
    """A section with a fixed set of keys that can also be read like a dict."""

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        return list(type(self).model_fields)

    def values(self) -> list[Any]:
        return [getattr(self, k) for k in type(self).model_fields]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in type(self).model_fields]

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in type(self).model_fields else default

    def as_dict(self) -> dict[str, Any]:
        return dict(self.items())


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------

_TIMEZONE = Phrase("an IANA time zone name such as Europe/Berlin or UTC")


class CompanyConfig(_Section):
    name: StrictStr = "Company"
    timezone: Annotated[StrictStr, _TIMEZONE] = "UTC"
    currency: Annotated[StrictStr, Phrase("a three-letter currency code such as EUR")] = Field(
        "EUR", pattern=r"^[A-Z]{3}$"
    )
    decimal_separator: Literal[".", ","] = "."
    #: the report's language (LANGUAGES; kpi run / kpi report --language overrides it)
    language: Language = "en"

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            allowed = "must be " + _TIMEZONE.text
            close = difflib.get_close_matches(value, sorted(zoneinfo.available_timezones()), n=1)
            if not close:
                lowered = {z.casefold(): z for z in zoneinfo.available_timezones()}
                close = [lowered[value.casefold()]] if value.casefold() in lowered else []
            if close:
                allowed += f" (did you mean {close[0]}?)"
            raise not_allowed(allowed) from None
        return value


class _BudgetShares(_MappingSection):
    @model_validator(mode="after")
    def _sums_to_one(self) -> Any:
        total = sum(self.values())
        if abs(total - 1.0) > 0.001:
            raise not_allowed(f"the shares must add up to 1 (they add up to {fmt_number(total)})")
        return self


BudgetSplit = create_model(  # one share per cost category
    "BudgetSplit",
    __base__=_BudgetShares,
    __doc__="""Share of the plan budget per cost category; the shares add up to 1.

    A split given in the config replaces the default one: categories it leaves out get 0.
    """,
    **{category: (Fraction, 0.0) for category in COST_CATEGORIES},
)


class ProgramConfig(_Section):
    start: ConfigDate
    baseline_months: Annotated[StrictInt, Phrase(unit="of months")] = Field(3, ge=1, le=36)
    budget_per_employee_eur: float = _num(1000.0, ge=0)
    budget_split: BudgetSplit = Field(  # type: ignore[valid-type]
        default_factory=lambda: BudgetSplit(**_DEFAULT_BUDGET_SPLIT)
    )


class PrivacyConfig(_Section):
    min_group_size: StrictInt = Field(5, ge=1)
    complementary_suppression: StrictBool = True
    # Which group a breakdown withholds first when one more must be withheld (docs/metrics.md,
    # "Suppression"); the default keeps the champions visible beside a small executive group.
    suppress_first: Annotated[
        dict[StrictStr, list[StrictStr]],
        Phrase("a mapping of department, target_group or tool to a list of group names"),
    ] = Field(default_factory=lambda: {"target_group": ["manager"]})

    @field_validator("suppress_first")
    @classmethod
    def _check_breakdowns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - {"department", "target_group", "tool"})
        if unknown:
            raise not_allowed(f"must name department, target_group or tool, not {', '.join(unknown)}") from None
        return value
    pseudonym_key_env: Annotated[
        StrictStr,
        Phrase("the name of an environment variable (letters, digits and _, not starting with a digit)"),
    ] = Field("KPI_PSEUDONYM_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # kpi purge deletes person-level rows of closed, snapshotted quarters that ended more than this
    # many months ago (docs/privacy.md, "Retention and erasure"); None keeps everything.
    retention_months: Annotated[
        StrictInt | None,
        Phrase("a whole number of months >= 1 (leave it out to keep everything)"),
    ] = Field(None, ge=1)


class UsageConfig(_Section):
    regular_min_active_weeks: StrictInt = Field(6, ge=1, le=14)


class CompetenceConfig(_Section):
    proficient_score_pct: float = _num(70.0, ge=0, le=100)
    # transfer (docs/metrics.md §12): active in at least this many of weeks 5-12 after a training
    transfer_min_active_weeks: Annotated[StrictInt, Phrase(unit="of weeks")] = Field(4, ge=1, le=8)


class ChampionsConfig(_Section):
    """The champion ("multiplier") density band: one champion per band_low..band_high employees."""

    band_low: Annotated[float, UpTo("band_high"), Phrase(unit="of employees per champion")] = _num(15.0, gt=0)
    band_high: Annotated[float, Phrase(unit="of employees per champion")] = _num(20.0, gt=0, le=1000)


UseCaseCount = Annotated[StrictInt, Phrase(unit="of use cases")]


class MaturityConfig(_Section):
    """Thresholds of the maturity levels (docs/metrics.md §7): a level is reached when every
    criterion of it holds (value >= threshold) and the level below is reached."""

    level2_trained_share: Fraction = 0.10
    level2_active_user_rate: Fraction = 0.20
    level3_regular_user_rate: Fraction = 0.50
    level3_trained_share: Fraction = 0.60
    level3_champions: Annotated[StrictInt, Phrase(unit="of champions")] = Field(1, ge=0, le=1000)
    level3_production_use_cases: UseCaseCount = Field(1, ge=0, le=1000)
    level4_regular_user_rate: Fraction = 0.80
    level4_proficient_rate: Fraction = 0.70
    level4_innovation_favorability: Fraction = 0.60
    level4_production_use_cases: UseCaseCount = Field(5, ge=0, le=1000)
    # the programme's ROI to date in percent (marts.roi_quarterly.roi_pct): 0 = break-even reached
    level4_roi_pct: float = _num(0.0, ge=-100, le=10000)


#: The three phases of the 90-day rollout (docs/metrics.md §8): (first day, last day) from program.start = day 1.
ROLLOUT_PHASES: dict[str, tuple[int, int]] = {"Foundation": (1, 30), "Activation": (31, 60), "Scaling": (61, 90)}
#: rollout[].kind: how a milestone is measured.
ROLLOUT_KINDS: tuple[str, ...] = ("share_trained", "active_users", "production_use_cases", "roi_months")


class RolloutMilestone(_Section):
    """One milestone of the 90-day rollout (docs/metrics.md §8)."""

    name: StrictStr
    phase: Literal[tuple(ROLLOUT_PHASES)]  # type: ignore[valid-type]
    due_day: Annotated[StrictInt, Phrase(unit="of days")] = Field(ge=1, le=90)
    kind: Literal[ROLLOUT_KINDS]  # type: ignore[valid-type]
    target: float = _num(..., ge=0, le=1000)
    # share_trained: the target groups counted and the training formats that count
    groups: list[Literal[TARGET_GROUPS]] = Field(default_factory=list)  # type: ignore[valid-type]
    formats: list[Literal[TRAINING_FORMATS]] = Field(default_factory=list)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _consistent(self) -> Any:
        first, last = ROLLOUT_PHASES[self.phase]
        if not first <= self.due_day <= last:
            raise not_allowed(f"phase {self.phase} runs from day {first} to day {last}", ("due_day",), self.due_day)
        if self.kind == "share_trained":
            if not self.groups or not self.formats:
                raise not_allowed("a share_trained milestone names its groups and formats", ("kind",), self.kind)
            if self.target > 1:
                raise not_allowed("the target of a share_trained milestone is a share from 0 to 1",
                                  ("target",), self.target)
        return self


def _milestone(name: str, phase: str, due_day: int, kind: str, target: float, **more: Any) -> RolloutMilestone:
    return RolloutMilestone(name=name, phase=phase, due_day=due_day, kind=kind, target=target, **more)


def _default_rollout() -> list[RolloutMilestone]:
    return [
        _milestone("executives and managers briefed", "Foundation", 30, "share_trained", 1.0,
                   groups=["executive", "manager"], formats=["executive_briefing"]),
        _milestone("champions through train-the-trainer", "Foundation", 30, "share_trained", 1.0,
                   groups=["champion"], formats=["train_the_trainer"]),
        _milestone("pilot group active", "Foundation", 30, "active_users", 10),
        _milestone("users through the basics training", "Activation", 60, "share_trained", 0.8,
                   groups=["user"], formats=["basics_workshop"]),
        _milestone("first self-developed use case in production", "Activation", 60, "production_use_cases", 1),
        _milestone("advanced training for key users", "Scaling", 90, "share_trained", 0.8,
                   groups=["champion"], formats=["prompt_masterclass", "usecase_workshop"]),
        _milestone("first ROI analysis", "Scaling", 90, "roi_months", 3),
    ]


HourlyCost = create_model(  # one rate per target group
    "HourlyCost",
    __base__=_MappingSection,
    __doc__="Fully loaded hourly cost per target group (EUR); a partial mapping overrides only those.",
    **{group: (Positive, _DEFAULT_HOURLY_COST_EUR[group]) for group in TARGET_GROUPS},
)


class RatesConfig(_Section):
    hourly_cost_eur: HourlyCost = Field(default_factory=HourlyCost)  # type: ignore[valid-type]


class BenefitsConfig(_Section):
    attribution: Fraction = 0.5
    confidence: Fraction = 0.8
    # measured attribution (kpi/attribution.py): a department counts as trained from the first month
    # whose trained share reaches this
    attribution_treatment_share: Fraction = 0.5
    include_training_time: StrictBool = True
    cost_per_error_eur: Annotated[
        dict[StrictStr, NonNegative],
        Phrase("a mapping of process name -> euros per error (with an optional 'default')"),
    ] = Field(default_factory=lambda: {"default": _DEFAULT_COST_PER_ERROR_EUR})
    time_saved_minutes_per_interaction: Annotated[
        dict[StrictStr, NonNegative], Phrase("a mapping of tool name -> minutes")
    ] = Field(default_factory=dict)

    @field_validator("cost_per_error_eur", mode="before")
    @classmethod
    def _keep_default(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {"default": _DEFAULT_COST_PER_ERROR_EUR, **value}
        return value


class ScenarioMultipliers(_MappingSection):
    """Multipliers on (attribution, benefits, costs) for one ROI scenario; all three required."""

    attribution: Positive
    benefits: Positive
    costs: Positive


def _mapping_of(key: str, model: type[BaseModel], value: str) -> Phrase:
    """"a mapping of <key> -> {<field>: <value>, ...}" with the fields of ``model``."""
    return Phrase(f"a mapping of {key} -> {{" + ", ".join(f"{f}: {value}" for f in model.model_fields) + "}")


class RoiConfig(_Section):
    discount_rate_annual: Annotated[float, Phrase(note="(0.08 = 8 %)")] = _num(0.08, ge=0, lt=1)
    horizon_months: StrictInt = Field(24, ge=1, le=120)
    # how ledger lines without a department are shared among departments (marts.roi_by_segment)
    cost_allocation: Literal["headcount", "participant_time"] = "headcount"
    # the effort put into a use case before it saves anything (marts.roi_use_cases' simple payback)
    use_case_implementation_hours: float = _num(40.0, ge=0, le=10000)
    scenarios: Annotated[
        dict[StrictStr, ScenarioMultipliers], _mapping_of("scenario name", ScenarioMultipliers, "x")
    ] = Field(
        default_factory=lambda: {k: ScenarioMultipliers(**v) for k, v in _DEFAULT_SCENARIOS.items()}
    )

    @field_validator("scenarios", mode="before")
    @classmethod
    def _merge_scenarios(cls, value: Any) -> Any:
        # Scenarios merge by name: giving only `conservative` keeps `base` and `optimistic`.
        if isinstance(value, dict):
            return {**{k: dict(v) for k, v in _DEFAULT_SCENARIOS.items()}, **value}
        return value


_PERCENTAGE_POINTS = Phrase(unit="of percentage points")


class AlertsConfig(_Section):
    usage_drop_points: Annotated[float, _PERCENTAGE_POINTS] = _num(10.0, ge=0, le=100)
    culture_drop_points: Annotated[float, _PERCENTAGE_POINTS] = _num(10.0, ge=0, le=100)
    # marts.kpi_targets: amber when the actual falls short of the target by at most this share of it
    target_amber_band: Fraction = 0.10


class TargetConfig(_Section):
    """One target of ``marts.kpi_targets`` (docs/metrics.md §9)."""

    metric: StrictStr
    segment: Annotated[StrictStr, Phrase("company/all, department/<name>, target_group/<name> or tool/<name>")] = (
        Field("company/all", pattern=r"^(company/all|(department|target_group|tool)/.+)$"))
    value: float = _num(..., ge=0, le=1000000)
    by: Annotated[StrictStr, Phrase("a quarter such as 2025-Q4")] = Field(pattern=r"^[0-9]{4}-Q[1-4]$")
    owner: StrictStr | None = None

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        from kpi.targets import target_metrics

        known = target_metrics()
        if value not in known:
            close = difflib.get_close_matches(value, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise not_allowed(f"must be a figure of kpi_usage, kpi_competence or kpi_culture{hint}") from None
        return value


class QualityConfig(_Section):
    """Whole-file sanity gates and plausible dates of the inputs (docs/quality.md, "Sanity gates")."""

    # more than this share of a file's rows quarantined (duplicates aside) stops the run for
    # hr/employees.csv and finance/costs.csv, and is a warning for any other input
    max_quarantined_share: Annotated[float, Phrase(note="(0.2 = 20 %)")] = _num(0.2, ge=0, le=1)
    # a date before this, or more than max_days_ahead days after the run's day, is out_of_range
    earliest_date: ConfigDate = dt.date(1950, 1, 1)
    max_days_ahead: Annotated[StrictInt, Phrase(unit="of days")] = Field(366, ge=0, le=3660)


class WarehouseConfig(_Section):
    """How the warehouse's DuckDB uses memory (docs/configuration.md, "warehouse"); no figure
    depends on it (left out of config_sha256)."""

    # GiB DuckDB may hold; beyond it, sorts, joins and aggregates spill to <warehouse>.tmp/
    memory_limit: Annotated[float, Phrase(unit="of GiB")] = _num(1.5, ge=0.25, le=1024)


# --- fetch: where `kpi fetch` downloads the usage reports from (docs/inputs.md, "Fetching") -----

_ENV_NAME = Phrase("the name of an environment variable (letters, digits and _, not starting with a digit)")
EnvName = Annotated[StrictStr, _ENV_NAME, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def _check_base_url(value: str) -> str:
    """An https:// address (http:// only on this machine, for tests), without a trailing slash."""
    value = value.rstrip("/")
    host = value.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    name = host.split("]", 1)[0] + "]" if host.startswith("[") else host.split(":", 1)[0]
    if value.startswith("http://") and name.casefold() not in _LOOPBACK:
        raise not_allowed("must be an https:// address (plain http:// only for localhost): credentials are "
                          "sent to it") from None
    return value


BaseUrl = Annotated[
    StrictStr,
    Phrase("an https:// address such as https://api.github.com (http:// only for localhost)"),
    Field(pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$"),
    AfterValidator(_check_base_url),
]
GitHubSlug = Annotated[
    StrictStr | None, Phrase("a GitHub organisation or enterprise name (letters, digits and -)"),
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
]
OptionalEnvName = Annotated[StrictStr | None, _ENV_NAME, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class GitHubFetchConfig(_Section):
    """GitHub Copilot per-user daily reports of one organisation or one enterprise."""

    org: GitHubSlug = None
    enterprise: GitHubSlug = None
    token_env: EnvName = "GITHUB_TOKEN"
    base_url: BaseUrl = "https://api.github.com"

    @model_validator(mode="after")
    def _one_scope(self) -> Any:
        if self.org is not None and self.enterprise is not None:
            raise not_allowed("give fetch.github.org or fetch.github.enterprise, not both", path=("enterprise",),
                              value=self.enterprise)
        return self

    @property
    def configured(self) -> bool:
        return self.org is not None or self.enterprise is not None


class M365FetchConfig(_Section):
    """Microsoft 365 Copilot usage user detail from Microsoft Graph, with an app-only token."""

    tenant_id_env: OptionalEnvName = None
    client_id_env: OptionalEnvName = None
    client_secret_env: OptionalEnvName = None
    graph_base_url: BaseUrl = "https://graph.microsoft.com"
    login_base_url: BaseUrl = "https://login.microsoftonline.com"

    @model_validator(mode="after")
    def _all_three(self) -> Any:
        names = {"tenant_id_env": self.tenant_id_env, "client_id_env": self.client_id_env,
                 "client_secret_env": self.client_secret_env}
        missing = [k for k, v in names.items() if v is None]
        if 0 < len(missing) < 3:
            raise not_allowed("name the environment variables of tenant_id_env, client_id_env and client_secret_env "
                              f"together (missing: {', '.join(missing)})", path=(missing[0],), value=None)
        return self

    @property
    def configured(self) -> bool:
        return self.tenant_id_env is not None


class FetchConfig(_Section):
    """`kpi fetch` and the daily fetch schedule: a source is fetched when its section names it
    (GitHub: an org or an enterprise; Microsoft 365: the three environment variables)."""

    github: GitHubFetchConfig = Field(default_factory=GitHubFetchConfig)
    m365: M365FetchConfig = Field(default_factory=M365FetchConfig)

    def sources(self) -> list[str]:
        """The configured sources, in fetch order."""
        return [name for name, section in (("github", self.github), ("m365", self.m365)) if section.configured]


with warnings.catch_warnings():
    # The YAML key is `construct`, which shadows pydantic's deprecated BaseModel.construct().
    warnings.filterwarnings("ignore", message=".*shadows an attribute.*", category=UserWarning)

    class SurveyItem(_Section):
        construct: Literal[CONSTRUCTS]  # type: ignore[valid-type]
        reverse: StrictBool = False


class SurveyFile(_Section):
    submitted_at: Annotated[ConfigDate, Phrase("a date such as 2025-06-30")]


_PRESETS = ", ".join(LABEL_PRESETS)
_LABELS = Phrase(f"a preset ({_PRESETS}) or a mapping of answer label -> points")


class SurveyConfig(_Section):
    scale_max: StrictInt = Field(5, ge=2)
    favorable_min: Annotated[StrictInt, UpTo("scale_max")] = Field(4, ge=1)
    items: Annotated[
        dict[StrictStr, SurveyItem], _mapping_of("the export's header text", SurveyItem, "...")
    ] = Field(default_factory=lambda: {k: SurveyItem(**v) for k, v in _DEFAULT_ITEMS.items()})
    labels: Annotated[dict[StrictStr, Points], _LABELS] = Field(
        default_factory=lambda: dict(LABEL_PRESETS["en"])
    )
    files: Annotated[
        dict[StrictStr, SurveyFile], _mapping_of("file name", SurveyFile, "date")
    ] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _expand_preset(cls, value: Any) -> Any:
        if isinstance(value, str):
            preset = value.strip().casefold()
            if preset not in LABEL_PRESETS:
                raise not_allowed("must be " + _LABELS.text)
            return dict(LABEL_PRESETS[preset])
        return value

    @model_validator(mode="after")
    def _check_labels(self) -> SurveyConfig:
        if not self.labels:
            raise not_allowed(
                f"must name at least one answer label (or use a preset: {_PRESETS})",
                ("labels",),
                self.labels,
            )
        seen: dict[str, tuple[str, int]] = {}
        for label, points in self.labels.items():
            key = normalise_label(label)
            if not key:
                raise not_allowed("labels must not be empty", ("labels",), label)
            if key in seen and seen[key][1] != points:
                raise not_allowed(
                    f"'{seen[key][0]}' and '{label}' are the same label once case, spacing "
                    f"and a trailing period are ignored but map to different points ({seen[key][1]} and {points})",
                    ("labels",),
                    self.labels,
                )
            seen[key] = (label, points)
        return self


class FeedbackConfig(_Section):
    """Course feedback (hr/course_feedback.csv, Kirkpatrick level 1): ratings 1..scale_max."""

    scale_max: Annotated[StrictInt, Phrase(unit="of points")] = Field(5, ge=2, le=100)
    # a rating at or above this is positive (the positive share of docs/metrics.md)
    positive_min: Annotated[StrictInt, UpTo("scale_max"), Phrase(unit="of points")] = Field(4, ge=1)


def _header_map(input_name: str) -> Any:
    """Type of ``columns.<input>``: export header -> one of that input's canonical names."""
    return Annotated[
        dict[StrictStr, Literal[CANONICAL_COLUMNS[input_name]]],  # type: ignore[valid-type]
        Phrase("a mapping of export header -> canonical column name"),
    ]


class _HeaderMaps(_Section):
    @model_validator(mode="after")
    def _one_header_per_column(self) -> Any:
        for name in CANONICAL_COLUMNS:
            mapping: dict[str, str] = getattr(self, name)
            by_target: dict[str, list[str]] = {}
            for header, target in mapping.items():
                by_target.setdefault(target, []).append(header)
            for target, headers in by_target.items():
                if len(headers) > 1:
                    raise not_allowed(
                        f"{len(headers)} headers ({', '.join(headers)}) map onto {target}; "
                        "map exactly one",
                        (name,),
                        mapping,
                    )
        return self

    def for_input(self, name: str) -> dict[str, str]:
        """Header mapping (export header -> canonical name) for one input, e.g. ``"employees"``."""
        if name not in CANONICAL_COLUMNS:
            raise KeyError(name)
        return dict(getattr(self, name))


ColumnsConfig = create_model(  # one header mapping per input
    "ColumnsConfig",
    __base__=_HeaderMaps,
    __doc__="Export header -> canonical column name, per input (default: headers already canonical).",
    **{name: (_header_map(name), Field(default_factory=dict)) for name in CANONICAL_COLUMNS},
)


class Config(_Section):
    """The validated programme config (docs/configuration.md)."""

    company: CompanyConfig = Field(default_factory=CompanyConfig)
    program: ProgramConfig
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    usage: UsageConfig = Field(default_factory=UsageConfig)
    competence: CompetenceConfig = Field(default_factory=CompetenceConfig)
    champions: ChampionsConfig = Field(default_factory=ChampionsConfig)
    maturity: MaturityConfig = Field(default_factory=MaturityConfig)
    rollout: list[RolloutMilestone] = Field(default_factory=_default_rollout)
    targets: list[TargetConfig] = Field(default_factory=list)
    rates: RatesConfig = Field(default_factory=RatesConfig)
    benefits: BenefitsConfig = Field(default_factory=BenefitsConfig)
    roi: RoiConfig = Field(default_factory=RoiConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    survey: SurveyConfig = Field(default_factory=SurveyConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    columns: ColumnsConfig = Field(default_factory=ColumnsConfig)  # type: ignore[valid-type]
    # where kpi fetch downloads the usage reports from; no figure depends on it (not in config_sha256)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    # how much memory the warehouse may use; no figure depends on it (not in config_sha256)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)

    @field_validator("targets")
    @classmethod
    def _one_target_per_figure(cls, value: list[TargetConfig]) -> list[TargetConfig]:
        seen: set[tuple[str, str]] = set()
        for target in value:
            key = (target.metric, target.segment)
            if key in seen:
                raise not_allowed(f"two targets name {target.metric} of {target.segment}; keep one") from None
            seen.add(key)
        return value

    # ---- helpers used by the pipeline ------------------------------------------------------

    def survey_label_points(self) -> dict[str, int]:
        """Answer label -> points, keys normalised with :func:`normalise_label`.

        Besides the configured labels, the common variants of a language (``Stimme eher zu``,
        ``Weder noch``, ``Neither agree nor disagree`` ...) are accepted when the config's labels
        contain that language's whole standard 5-point scale (a preset or its spelled-out form)
        and the variant does not clash with a configured label.
        """
        points = {normalise_label(k): v for k, v in self.survey.labels.items()}
        for lang, standard in LABEL_PRESETS.items():
            if all(points.get(normalise_label(k)) == v for k, v in standard.items()):
                for label, value in LABEL_PRESET_VARIANTS[lang].items():
                    points.setdefault(normalise_label(label), value)
        return points

    def hourly_cost(self, target_group: str) -> float:
        """Config hourly cost (EUR) of a target group."""
        return float(self.rates.hourly_cost_eur[target_group])

    def cost_per_error(self, process: str) -> float:
        """``benefits.cost_per_error_eur[process]``, else its ``default``."""
        table = self.benefits.cost_per_error_eur
        return float(table.get(process, table["default"]))

    def survey_file(self, name: str) -> SurveyFile | None:
        """Per-file survey settings for a file, by its path relative to ``surveys/`` or its name."""
        files = self.survey.files
        if name in files:
            return files[name]
        base = Path(name).name
        for key, value in files.items():
            if Path(key).name == base:
                return value
        return None

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.company.timezone)

    def model_dump_yaml(self) -> str:
        return dump_config(self)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    """Read and validate a config YAML file; raises :class:`ConfigError` with one line."""
    source = str(path)
    p = Path(path)
    if not p.exists():
        raise ConfigError(
            f"{source}: config file not found; pass the path of an existing YAML file "
            "(see docs/configuration.md)"
        )
    if p.is_dir():
        raise ConfigError(f"{source}: is a folder, not a config file; pass the YAML file itself")
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source}: is not UTF-8 text (byte {exc.start}); save the config as UTF-8"
        ) from None
    data = parse_yaml(text, source)
    return parse_config(data, source=source)


def parse_config(data: Any, source: str = "config") -> Config:
    """Validate an already parsed mapping (as from YAML); raises :class:`ConfigError`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: the top level must be a mapping of sections "
            f"({', '.join(Config.model_fields)}), not {kind_of(data)}"
        )
    data = _stringify_keys(data)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(translate(exc, source, Config, data)) from None


def default_config(start: dt.date, **sections: Any) -> Config:
    """The config with every default and ``program.start = start``.

    ``sections`` override whole sections, e.g. ``default_config(d, privacy={"min_group_size": 3})``.
    """
    program = dict(sections.pop("program", {}) or {})
    program.setdefault("start", start)
    return parse_config({"program": program, **sections}, source="default config")


def config_sha256(cfg: Config) -> str:
    """SHA-256 of the canonical JSON of the validated config (key order does not matter). The
    ``fetch`` and ``warehouse`` sections and ``company.language`` are left out: where the reports
    are downloaded from, how much memory the warehouse uses and the report's language change no
    figure."""
    canonical = json.dumps(
        cfg.model_dump(mode="json", exclude={"fetch": True, "warehouse": True, "company": {"language"}}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_config(cfg: Config) -> str:
    """The validated config (defaults filled in) as YAML text; loading it gives the same config."""
    return dump_yaml(
        cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def _stringify_keys(value: Any) -> Any:
    """Mapping keys are names and header texts: a key YAML read as a number/date becomes text."""
    if isinstance(value, dict):
        return {_key_text(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (dt.date, dt.datetime)):
        return key.isoformat()
    if key is None:
        return ""
    return str(key)
