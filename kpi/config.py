"""The programme config: one YAML file, validated with every default of CONFIG.md.

``load_config(path)`` reads and validates the file; ``parse_config(data)`` validates an already
parsed mapping. Every problem becomes a ONE-line :class:`kpi.errors.ConfigError` naming the file,
the dotted key, the value given and what is allowed, e.g.::

    config.yaml: benefits.attribution = 1.7 is not allowed: must be a number between 0 and 1

Import-light on purpose (pydantic and pyyaml only): the CLI imports it at start-up.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
import unicodedata
import warnings
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kpi.config_yaml import dump_yaml, parse_yaml
from kpi.errors import ConfigError

__all__ = [
    "CANONICAL_COLUMNS",
    "CONSTRUCTS",
    "COST_CATEGORIES",
    "LABEL_PRESETS",
    "LABEL_PRESET_VARIANTS",
    "TARGET_GROUPS",
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

TARGET_GROUPS: tuple[str, ...] = ("executive", "manager", "champion", "user")
CONSTRUCTS: tuple[str, ...] = ("satisfaction", "support", "collaboration", "innovation")
COST_CATEGORIES: tuple[str, ...] = (
    "external_training",
    "internal_time",
    "licenses",
    "materials",
    "other",
)

#: Canonical column names of each input (INPUTS.md); ``columns.<input>`` may only map onto these.
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
    "costs": ("booked_on", "category", "amount_eur", "description", "department"),
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


def normalise_label(text: str) -> str:
    """How survey answer labels are compared: NFC, casefolded, whitespace collapsed, trimmed,
    a trailing period removed (``" Strongly Agree. "`` -> ``"strongly agree"``)."""
    text = unicodedata.normalize("NFC", str(text))
    text = " ".join(text.split()).casefold()
    while text.endswith("."):
        text = text[:-1].rstrip()
    return text


# --------------------------------------------------------------------------------------------
# Error texts: what is allowed at each key (also the source of docs/configuration.md)
# --------------------------------------------------------------------------------------------

_UNIT = "a number between 0 and 1"
_ALLOWED: list[tuple[str, str]] = [
    ("company.name", "text"),
    ("company.timezone", "an IANA time zone name such as Europe/Berlin or UTC"),
    ("company.currency", "a three-letter currency code such as EUR"),
    ("company.decimal_separator", '"." or ","'),
    ("program.start", "a date such as 2025-01-01"),
    ("program.baseline_months", "a whole number of months from 1 to 36"),
    ("program.budget_per_employee_eur", "a number >= 0"),
    ("program.budget_split.*", _UNIT),
    ("privacy.min_group_size", "a whole number >= 1"),
    ("privacy.complementary_suppression", "true or false"),
    (
        "privacy.pseudonym_key_env",
        "the name of an environment variable (letters, digits and _, not starting with a digit)",
    ),
    ("usage.regular_min_active_weeks", "a whole number from 1 to 14"),
    ("competence.proficient_score_pct", "a number from 0 to 100"),
    ("rates.hourly_cost_eur.*", "a number greater than 0"),
    ("benefits.attribution", _UNIT),
    ("benefits.confidence", _UNIT),
    ("benefits.include_training_time", "true or false"),
    (
        "benefits.cost_per_error_eur",
        "a mapping of process name -> euros per error (with an optional 'default')",
    ),
    ("benefits.cost_per_error_eur.*", "a number >= 0"),
    ("benefits.time_saved_minutes_per_interaction", "a mapping of tool name -> minutes"),
    ("benefits.time_saved_minutes_per_interaction.*", "a number >= 0"),
    ("roi.discount_rate_annual", "a number from 0 up to but not including 1 (0.08 = 8 %)"),
    ("roi.horizon_months", "a whole number from 1 to 120"),
    (
        "roi.scenarios",
        "a mapping of scenario name -> {attribution: x, benefits: x, costs: x}",
    ),
    ("roi.scenarios.*.*", "a number greater than 0"),
    ("alerts.usage_drop_points", "a number of percentage points from 0 to 100"),
    ("alerts.culture_drop_points", "a number of percentage points from 0 to 100"),
    ("survey.scale_max", "a whole number >= 2"),
    ("survey.favorable_min", "a whole number from 1 to survey.scale_max"),
    ("survey.items", "a mapping of the export's header text -> {construct: ..., reverse: ...}"),
    ("survey.items.*.construct", "one of " + ", ".join(CONSTRUCTS)),
    ("survey.items.*.reverse", "true or false"),
    ("survey.labels", "a preset (en, nl, de) or a mapping of answer label -> points"),
    ("survey.labels.*", "a whole number of points from 1 to survey.scale_max"),
    ("survey.files", "a mapping of file name -> {submitted_at: date}"),
    ("survey.files.*.submitted_at", "a date such as 2025-06-30"),
    *[
        (f"columns.{name}", "a mapping of export header -> canonical column name")
        for name in CANONICAL_COLUMNS
    ],
    *[(f"columns.{name}.*", "one of " + ", ".join(cols)) for name, cols in CANONICAL_COLUMNS.items()],
]


def _not_allowed(allowed: str, path: tuple = (), value: Any = ..., kind: str = "not_allowed"):
    """A validation error whose text we write ourselves (``allowed`` is a full clause)."""
    ctx: dict[str, Any] = {"allowed": allowed, "path": tuple(path)}
    if value is not ...:
        ctx["value"] = value
    return PydanticCustomError(f"kpi_{kind}", "{allowed}", ctx)


# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------


def _coerce_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date()
        raise _not_allowed("must be a date without a time, such as 2025-01-01")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _not_allowed("must be a date such as 2025-01-01")


ConfigDate = Annotated[dt.date, BeforeValidator(_coerce_date)]


def _num(default: Any = ..., **constraints: Any) -> Any:
    return Field(default, strict=True, allow_inf_nan=False, **constraints)


Fraction = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=1)]
NonNegative = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Positive = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]


class _Section(BaseModel):
    """Base of every config section: unknown keys are errors, an empty section means defaults."""

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
                inner = _unwrap(field.annotation)
                if isinstance(inner, type):
                    data[name] = {}
                elif inner is not None and not field.is_required():
                    del data[name]
        return data


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


class CompanyConfig(_Section):
    name: StrictStr = "Company"
    timezone: StrictStr = "UTC"
    currency: StrictStr = Field("EUR", pattern=r"^[A-Z]{3}$")
    decimal_separator: Literal[".", ","] = "."

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            allowed = "must be an IANA time zone name such as Europe/Berlin or UTC"
            close = difflib.get_close_matches(value, sorted(zoneinfo.available_timezones()), n=1)
            if not close:
                lowered = {z.casefold(): z for z in zoneinfo.available_timezones()}
                close = [lowered[value.casefold()]] if value.casefold() in lowered else []
            if close:
                allowed += f" (did you mean {close[0]}?)"
            raise _not_allowed(allowed) from None
        return value


class BudgetSplit(_MappingSection):
    """Share of the plan budget per cost category; the shares add up to 1.

    A split given in the config replaces the default one: categories it leaves out get 0.
    """

    external_training: Fraction = 0.0
    internal_time: Fraction = 0.0
    licenses: Fraction = 0.0
    materials: Fraction = 0.0
    other: Fraction = 0.0

    @model_validator(mode="after")
    def _sums_to_one(self) -> BudgetSplit:
        total = sum(self.values())
        if abs(total - 1.0) > 0.001:
            raise _not_allowed(f"the shares must add up to 1 (they add up to {_fmt_number(total)})")
        return self


class ProgramConfig(_Section):
    start: ConfigDate
    baseline_months: StrictInt = Field(3, ge=1, le=36)
    budget_per_employee_eur: float = _num(1000.0, ge=0)
    budget_split: BudgetSplit = Field(
        default_factory=lambda: BudgetSplit(
            external_training=0.40, internal_time=0.30, licenses=0.20, materials=0.10
        )
    )


class PrivacyConfig(_Section):
    min_group_size: StrictInt = Field(5, ge=1)
    complementary_suppression: StrictBool = True
    pseudonym_key_env: StrictStr = Field("KPI_PSEUDONYM_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class UsageConfig(_Section):
    regular_min_active_weeks: StrictInt = Field(6, ge=1, le=14)


class CompetenceConfig(_Section):
    proficient_score_pct: float = _num(70.0, ge=0, le=100)


class HourlyCost(_MappingSection):
    """Fully loaded hourly cost per target group (EUR); a partial mapping overrides only those."""

    executive: Positive = 120.0
    manager: Positive = 85.0
    champion: Positive = 65.0
    user: Positive = 55.0


class RatesConfig(_Section):
    hourly_cost_eur: HourlyCost = Field(default_factory=HourlyCost)


class BenefitsConfig(_Section):
    attribution: Fraction = 0.5
    confidence: Fraction = 0.8
    include_training_time: StrictBool = True
    cost_per_error_eur: dict[StrictStr, NonNegative] = Field(
        default_factory=lambda: {"default": _DEFAULT_COST_PER_ERROR_EUR}
    )
    time_saved_minutes_per_interaction: dict[StrictStr, NonNegative] = Field(default_factory=dict)

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


class RoiConfig(_Section):
    discount_rate_annual: float = _num(0.08, ge=0, lt=1)
    horizon_months: StrictInt = Field(24, ge=1, le=120)
    scenarios: dict[StrictStr, ScenarioMultipliers] = Field(
        default_factory=lambda: {k: ScenarioMultipliers(**v) for k, v in _DEFAULT_SCENARIOS.items()}
    )

    @field_validator("scenarios", mode="before")
    @classmethod
    def _merge_scenarios(cls, value: Any) -> Any:
        # Scenarios merge by name: giving only `conservative` keeps `base` and `optimistic`.
        if isinstance(value, dict):
            return {**{k: dict(v) for k, v in _DEFAULT_SCENARIOS.items()}, **value}
        return value


class AlertsConfig(_Section):
    usage_drop_points: float = _num(10.0, ge=0, le=100)
    culture_drop_points: float = _num(10.0, ge=0, le=100)


with warnings.catch_warnings():
    # The YAML key is `construct`, which shadows pydantic's deprecated BaseModel.construct().
    warnings.filterwarnings("ignore", message=".*shadows an attribute.*", category=UserWarning)

    class SurveyItem(_Section):
        construct: Literal["satisfaction", "support", "collaboration", "innovation"]
        reverse: StrictBool = False


class SurveyFile(_Section):
    submitted_at: ConfigDate


class SurveyConfig(_Section):
    scale_max: StrictInt = Field(5, ge=2)
    favorable_min: StrictInt = Field(4, ge=1)
    items: dict[StrictStr, SurveyItem] = Field(
        default_factory=lambda: {k: SurveyItem(**v) for k, v in _DEFAULT_ITEMS.items()}
    )
    labels: dict[StrictStr, StrictInt] = Field(default_factory=lambda: dict(LABEL_PRESETS["en"]))
    files: dict[StrictStr, SurveyFile] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _expand_preset(cls, value: Any) -> Any:
        if isinstance(value, str):
            preset = value.strip().casefold()
            if preset not in LABEL_PRESETS:
                raise _not_allowed(
                    "must be a preset (en, nl, de) or a mapping of answer label -> points"
                )
            return dict(LABEL_PRESETS[preset])
        return value

    @model_validator(mode="after")
    def _check_scale(self) -> SurveyConfig:
        if self.favorable_min > self.scale_max:
            raise _not_allowed(
                f"must be a whole number from 1 to survey.scale_max ({self.scale_max})",
                ("favorable_min",),
                self.favorable_min,
            )
        if not self.labels:
            raise _not_allowed(
                "must name at least one answer label (or use a preset: en, nl, de)",
                ("labels",),
                self.labels,
            )
        seen: dict[str, tuple[str, int]] = {}
        for label, points in self.labels.items():
            if not 1 <= points <= self.scale_max:
                raise _not_allowed(
                    f"must be a whole number of points from 1 to survey.scale_max ({self.scale_max})",
                    ("labels", label),
                    points,
                )
            key = normalise_label(label)
            if not key:
                raise _not_allowed("labels must not be empty", ("labels",), label)
            if key in seen and seen[key][1] != points:
                raise _not_allowed(
                    f"'{seen[key][0]}' and '{label}' are the same label once case, spacing "
                    f"and a trailing period are ignored but map to different points ({seen[key][1]} and {points})",
                    ("labels",),
                    self.labels,
                )
            seen[key] = (label, points)
        return self


def _header_map(input_name: str) -> Any:
    """Type of ``columns.<input>``: export header -> one of that input's canonical names."""
    return dict[StrictStr, Literal[CANONICAL_COLUMNS[input_name]]]  # type: ignore[valid-type]


class ColumnsConfig(_Section):
    employees: _header_map("employees") = Field(default_factory=dict)  # type: ignore[valid-type]
    trainings: _header_map("trainings") = Field(default_factory=dict)  # type: ignore[valid-type]
    assessments: _header_map("assessments") = Field(default_factory=dict)  # type: ignore[valid-type]
    costs: _header_map("costs") = Field(default_factory=dict)  # type: ignore[valid-type]
    process_metrics: _header_map("process_metrics") = Field(default_factory=dict)  # type: ignore[valid-type]
    use_cases: _header_map("use_cases") = Field(default_factory=dict)  # type: ignore[valid-type]
    surveys: _header_map("surveys") = Field(default_factory=dict)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_header_per_column(self) -> ColumnsConfig:
        for name in CANONICAL_COLUMNS:
            mapping: dict[str, str] = getattr(self, name)
            by_target: dict[str, list[str]] = {}
            for header, target in mapping.items():
                by_target.setdefault(target, []).append(header)
            for target, headers in by_target.items():
                if len(headers) > 1:
                    raise _not_allowed(
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


class Config(_Section):
    """The validated programme config (CONFIG.md)."""

    company: CompanyConfig = Field(default_factory=CompanyConfig)
    program: ProgramConfig
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    usage: UsageConfig = Field(default_factory=UsageConfig)
    competence: CompetenceConfig = Field(default_factory=CompetenceConfig)
    rates: RatesConfig = Field(default_factory=RatesConfig)
    benefits: BenefitsConfig = Field(default_factory=BenefitsConfig)
    roi: RoiConfig = Field(default_factory=RoiConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    survey: SurveyConfig = Field(default_factory=SurveyConfig)
    columns: ColumnsConfig = Field(default_factory=ColumnsConfig)

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
            f"({', '.join(Config.model_fields)}), not {_kind(data)}"
        )
    data = _stringify_keys(data)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_translate(exc, source)) from None


def default_config(start: dt.date, **sections: Any) -> Config:
    """The config with every default and ``program.start = start``.

    ``sections`` override whole sections, e.g. ``default_config(d, privacy={"min_group_size": 3})``.
    """
    program = dict(sections.pop("program", {}) or {})
    program.setdefault("start", start)
    return parse_config({"program": program, **sections}, source="default config")


def config_sha256(cfg: Config) -> str:
    """SHA-256 of the canonical JSON of the validated config (key order does not matter)."""
    canonical = json.dumps(
        cfg.model_dump(mode="json"),
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


# --------------------------------------------------------------------------------------------
# Turning pydantic's errors into one line
# --------------------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The section model class, or ("dict", inner), behind a field annotation; else None."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    origin = get_origin(annotation)
    if origin is Union:
        for arg in get_args(annotation):
            found = _unwrap(arg)
            if found is not None:
                return found
        return None
    if origin is dict:
        return ("dict", _unwrap(get_args(annotation)[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _node_at(loc: tuple) -> Any:
    """What sits at a location: a model class, ("dict", inner), or None (a scalar/unknown)."""
    node: Any = Config
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                return None
            node = _unwrap(field.annotation)
        elif isinstance(node, tuple):
            node = node[1]
        else:
            return None
    return node


def _allowed_phrase(loc: tuple) -> str | None:
    """What may stand at ``loc`` as a noun phrase ("a number between 0 and 1")."""
    parts = [str(p) for p in loc]
    for pattern, phrase in _ALLOWED:
        pat = pattern.split(".")
        if len(pat) == len(parts) and all(a == "*" or a == b for a, b in zip(pat, parts)):
            return phrase
    node = _node_at(loc)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return "a mapping with the keys " + ", ".join(node.model_fields)
    if isinstance(node, tuple):
        return "a mapping"
    return None


def _required_leaf(loc: tuple) -> tuple:
    """For a missing section, the first required key inside it (program -> program.start)."""
    node = _node_at(loc)
    while isinstance(node, type) and issubclass(node, BaseModel):
        required = [n for n, f in node.model_fields.items() if f.is_required()]
        if not required:
            break
        loc = (*loc, required[0])
        node = _node_at(loc)
    return loc


def _path(loc: tuple) -> str:
    """Dotted key path; keys with dots, spaces etc. are quoted, very long ones shortened."""
    parts = []
    for part in map(str, loc):
        if len(part) > 60:
            part = part[:57] + "..."
        bare = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part)
        parts.append(part if bare else json.dumps(part, ensure_ascii=False))
    return ".".join(parts)


def _fmt_number(x: float) -> str:
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


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _translate(exc: ValidationError, source: str) -> str:
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
        node = _node_at(parent)
        allowed = list(node.model_fields) if isinstance(node, type) else []
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
        loc = _required_leaf(loc)
        phrase = _allowed_phrase(loc)
        hint = f" ({phrase})" if phrase else ""
        return f"{source}: {_path(loc)} is required{hint}"

    if kind.startswith("kpi_"):
        loc = (*loc, *ctx.get("path", ()))
        value = ctx.get("value", err.get("input"))
        return f"{source}: {_path(loc)} = {_show(value)} is not allowed: {ctx['allowed']}"

    value = err.get("input")
    if kind == "model_type" or (kind == "dict_type" and _node_at(loc) is not None):
        phrase = _allowed_phrase(loc) or "a mapping"
        return f"{source}: {_path(loc)} = {_show(value)} is not allowed: must be {phrase}"
    phrase = _allowed_phrase(loc)
    if phrase is None:
        phrase = str(err.get("msg", "")).splitlines()[0].lower() or "a valid value"
    return f"{source}: {_path(loc)} = {_show(value)} is not allowed: must be {phrase}"
