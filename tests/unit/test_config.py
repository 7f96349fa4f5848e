"""kpi.config: loading, defaults, presets, hashing and the one-line error messages."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from kpi.config import (
    CANONICAL_COLUMNS,
    Config,
    config_sha256,
    default_config,
    dump_config,
    load_config,
    normalise_label,
    parse_config,
)
from kpi.errors import ConfigError, UserError

# The example config of the first release's contract, verbatim (comments included).
EXAMPLE = """\
company:
  name: Example Maschinenbau GmbH
  timezone: Europe/Berlin          # default UTC
  currency: EUR
  decimal_separator: "."           # for CSV inputs; "," for many German/Dutch exports

program:
  start: 2025-01-01                # required; month 1 of the ROI series is this month
  baseline_months: 3               # months before start used as baseline for process metrics
  budget_per_employee_eur: 1000    # plan rule of thumb for year 1
  budget_split: {external_training: 0.40, internal_time: 0.30, licenses: 0.20, materials: 0.10}

privacy:
  min_group_size: 5                # no figure is shown for a group with fewer people (or responses)
  complementary_suppression: true  # also hide the next-smallest segment when only one is hidden
  pseudonym_key_env: KPI_PSEUDONYM_KEY

usage:
  regular_min_active_weeks: 6      # "regular user" = active in at least this many weeks of the quarter

competence:
  proficient_score_pct: 70

rates:                             # fully loaded hourly cost when an employee row has none
  hourly_cost_eur: {executive: 120, manager: 85, champion: 65, user: 55}

benefits:
  attribution: 0.5                 # share of the measured improvement credited to the training (isolation)
  confidence: 0.8                  # adjustment for the error of that estimate (Phillips)
  include_training_time: true      # add participants' training hours x hourly cost as a cost line
  cost_per_error_eur: {default: 50}
  time_saved_minutes_per_interaction: {}   # optional per-tool estimate, reported apart from measured savings

roi:
  discount_rate_annual: 0.08
  horizon_months: 24
  scenarios:                       # multipliers on (attribution, benefits, costs)
    conservative: {attribution: 0.6, benefits: 0.8, costs: 1.1}
    base:         {attribution: 1.0, benefits: 1.0, costs: 1.0}
    optimistic:   {attribution: 1.2, benefits: 1.2, costs: 0.95}

alerts:
  usage_drop_points: 10            # active-user rate fell by more than this many points since last quarter
  culture_drop_points: 10          # favorability of a construct fell by more than this many points

survey:
  scale_max: 5
  favorable_min: 4
  items:                           # header text in the export -> construct
    "I am satisfied with how AI tools are introduced here": {construct: satisfaction}
    "I get the support I need to use AI tools": {construct: support}
    "I share AI tips with colleagues": {construct: collaboration}
    "I would like to develop new AI applications": {construct: innovation}
    "AI tools make my work harder": {construct: satisfaction, reverse: true}
  labels: {"Strongly disagree": 1, "Disagree": 2, "Neutral": 3, "Agree": 4, "Strongly agree": 5}
  # or a preset: labels: en | nl | de   (5-point agreement scales)
  files:                           # per-file settings for exports that lack a column
    # no timestamp column: the wave date; row numbers become response ids
    "longterm-2025-06.csv": {submitted_at: 2025-06-30}

columns:                           # optional header mapping per input:
  employees: {Personalnummer: employee_id, Abteilung: department}   # employees, trainings,
  surveys: {"E-mail": identity, "Afdeling": department}             # assessments, costs,
                                                                    # process_metrics, use_cases, surveys
# Paths are not config: the command line takes --inputs/--warehouse, Dagster reads
# KPI_INPUTS, KPI_CONFIG and KPI_WAREHOUSE.
"""

START = "program:\n  start: 2025-01-01\n"


@pytest.fixture
def write(tmp_path, monkeypatch):
    """Write a config.yaml into a temp folder and return its relative name (messages say
    ``config.yaml: ...`` exactly as the user passed it)."""
    monkeypatch.chdir(tmp_path)

    def _write(text: str, name: str = "config.yaml") -> str:
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return name

    return _write


def error_of(path: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, UserError) and info.value.exit_code == 2
    return message


# --------------------------------------------------------------------------------------------
# Broken configs: each message names the key, the value and what is allowed
# --------------------------------------------------------------------------------------------

BROKEN = {
    "unknown top-level key with suggestion": (
        START + "benefit:\n  attribution: 0.5\n",
        "config.yaml: unknown key 'benefit' (allowed under the top level: company, program, "
        "privacy, usage, competence, champions, maturity, rollout, targets, rates, benefits, roi, alerts, survey, "
        "feedback, quality, columns, fetch, warehouse); "
        "did you mean 'benefits'?",
    ),
    "unknown nested key": (
        START + "benefits:\n  atribution: 0.5\n",
        "config.yaml: unknown key 'benefits.atribution' (allowed under benefits: attribution, "
        "confidence, attribution_treatment_share, include_training_time, cost_per_error_eur, "
        "time_saved_minutes_per_interaction); did you mean 'benefits.attribution'?",
    ),
    "unknown target group in rates": (
        START + "rates:\n  hourly_cost_eur: {manger: 90}\n",
        "config.yaml: unknown key 'rates.hourly_cost_eur.manger' (allowed under "
        "rates.hourly_cost_eur: executive, manager, champion, user); "
        "did you mean 'rates.hourly_cost_eur.manager'?",
    ),
    "wrong type": (
        START + "privacy:\n  min_group_size: five\n",
        "config.yaml: privacy.min_group_size = 'five' is not allowed: must be a whole number >= 1",
    ),
    "min group size zero": (
        START + "privacy:\n  min_group_size: 0\n",
        "config.yaml: privacy.min_group_size = 0 is not allowed: must be a whole number >= 1",
    ),
    "attribution 1.7": (
        START + "benefits:\n  attribution: 1.7\n",
        "config.yaml: benefits.attribution = 1.7 is not allowed: must be a number between 0 and 1",
    ),
    "negative rate": (
        START + "rates:\n  hourly_cost_eur: {manager: -85}\n",
        "config.yaml: rates.hourly_cost_eur.manager = -85 is not allowed: "
        "must be a number greater than 0",
    ),
    "bad timezone": (
        "company:\n  timezone: Europe/Berln\n" + START,
        "config.yaml: company.timezone = 'Europe/Berln' is not allowed: must be an IANA time "
        "zone name such as Europe/Berlin or UTC (did you mean Europe/Berlin?)",
    ),
    "budget split not summing to 1": (
        "program:\n  start: 2025-01-01\n  budget_split: {external_training: 0.5, "
        "internal_time: 0.3, licenses: 0.2, materials: 0.1}\n",
        "config.yaml: program.budget_split = {external_training: 0.5, internal_time: 0.3, "
        "licenses: 0.2, materials: 0.1} is not allowed: the shares must add up to 1 "
        "(they add up to 1.1)",
    ),
    "bad label preset": (
        START + "survey:\n  labels: fr\n",
        "config.yaml: survey.labels = 'fr' is not allowed: must be a preset (en, nl, de) or a "
        "mapping of answer label -> points",
    ),
    "label points above the scale": (
        START + "survey:\n  labels: {Agree: 4, Totally: 7}\n",
        "config.yaml: survey.labels.Totally = 7 is not allowed: must be a whole number of points "
        "from 1 to survey.scale_max (5)",
    ),
    "favorable_min above scale_max": (
        START + "survey:\n  scale_max: 3\n  favorable_min: 4\n  labels: {No: 1, Maybe: 2, Yes: 3}\n",
        "config.yaml: survey.favorable_min = 4 is not allowed: must be a whole number from 1 to "
        "survey.scale_max (3)",
    ),
    "unknown construct": (
        START + 'survey:\n  items:\n    "I like AI": {construct: happiness}\n',
        "config.yaml: survey.items.\"I like AI\".construct = 'happiness' is not allowed: must be "
        "one of satisfaction, support, collaboration, innovation",
    ),
    "missing program.start": (
        "program:\n  baseline_months: 3\n",
        "config.yaml: program.start is required (a date such as 2025-01-01)",
    ),
    "missing program section": (
        "company:\n  name: ACME\n",
        "config.yaml: program.start is required (a date such as 2025-01-01)",
    ),
    "impossible date": (
        "program:\n  start: 2025-13-01\n",
        "config.yaml: program.start = '2025-13-01' is not allowed: must be a date such as 2025-01-01",
    ),
    "yes is not a boolean": (
        START + "benefits:\n  include_training_time: yes\n",
        "config.yaml: benefits.include_training_time = 'yes' is not allowed: must be true or false",
    ),
    "discount rate of 1": (
        START + "roi:\n  discount_rate_annual: 1\n",
        "config.yaml: roi.discount_rate_annual = 1 is not allowed: must be a number from 0 up to "
        "but not including 1 (0.08 = 8 %)",
    ),
    "horizon too long": (
        START + "roi:\n  horizon_months: 121\n",
        "config.yaml: roi.horizon_months = 121 is not allowed: must be a whole number from 1 to 120",
    ),
    "scenario without costs": (
        START + "roi:\n  scenarios:\n    pessimistic: {attribution: 0.5, benefits: 0.5}\n",
        "config.yaml: roi.scenarios.pessimistic.costs is required (a number greater than 0)",
    ),
    "scenario with an extra multiplier": (
        START + "roi:\n  scenarios:\n    base: {attribution: 1, benefits: 1, costs: 1, confidence: 1}\n",
        "config.yaml: unknown key 'roi.scenarios.base.confidence' (allowed under "
        "roi.scenarios.base: attribution, benefits, costs)",
    ),
    "column mapped onto an unknown name": (
        START + "columns:\n  employees: {Personalnummer: personal_id}\n",
        "config.yaml: columns.employees.Personalnummer = 'personal_id' is not allowed: must be "
        "one of employee_id, email, github_login, department, target_group, hire_date, "
        "exit_date, fte, hourly_cost_eur",
    ),
    "survey column onto an item name": (
        START + 'columns:\n  surveys: {"E-mail": email}\n',
        "config.yaml: columns.surveys.E-mail = 'email' is not allowed: must be one of "
        "response_id, submitted_at, department, target_group, identity",
    ),
    "decimal separator": (
        "company:\n  decimal_separator: ';'\n" + START,
        "config.yaml: company.decimal_separator = ';' is not allowed: must be \".\" or \",\"",
    ),
    "section that is not a mapping": (
        START + "benefits: 0.5\n",
        "config.yaml: benefits = 0.5 is not allowed: must be a mapping with the keys "
        "attribution, confidence, attribution_treatment_share, include_training_time, cost_per_error_eur, "
        "time_saved_minutes_per_interaction",
    ),
    "negative cost per error": (
        START + "benefits:\n  cost_per_error_eur: {quote_preparation: -1}\n",
        "config.yaml: benefits.cost_per_error_eur.quote_preparation = -1 is not allowed: "
        "must be a number >= 0",
    ),
    "survey file without its date": (
        START + 'survey:\n  files:\n    "wave-1.csv": {}\n',
        'config.yaml: survey.files."wave-1.csv".submitted_at is required (a date such as 2025-06-30)',
    ),
    "invalid YAML": (
        START + "benefits:\n  attribution: 0.5\n   confidence: 0.8\n",
        "config.yaml: not valid YAML at line 5, column 14: mapping values are not allowed here; "
        "check the indentation and quoting there",
    ),
    "duplicate key": (
        START + "benefits:\n  attribution: 0.5\n  attribution: 0.6\n",
        "config.yaml: key 'attribution' appears twice in the same mapping (lines 4 and 5); keep one",
    ),
    "top level not a mapping": (
        "- program\n- start\n",
        "config.yaml: the top level must be a mapping of sections (company, program, privacy, "
        "usage, competence, champions, maturity, rollout, targets, rates, benefits, roi, alerts, survey, feedback, "
        "quality, columns, fetch, warehouse), not a list",
    ),
}


@pytest.mark.parametrize("text, expected", list(BROKEN.values()), ids=list(BROKEN))
def test_broken_config_message(write, text, expected):
    assert error_of(write(text)) == expected


# Nine nested levels of nine: expanded, `i` alone would hold 9**9 (387 million) values.
ALIAS_BOMB = START + "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi")
)


def test_alias_bomb_is_refused_before_it_expands(write):
    # The first alias, *a, is on line 4 (lines 1-2: program.start, line 3: the anchor &a).
    assert ALIAS_BOMB.splitlines()[3].startswith("b: &b [*a, *a,")
    assert error_of(write(ALIAS_BOMB)) == (
        "config.yaml: line 4: YAML aliases (*a) are not allowed in the config; write the value out"
    )


def test_merge_keys_are_aliases_too(write):
    text = START + "roi:\n  scenarios:\n    base: &base {attribution: 1, benefits: 1, costs: 1}\n" \
        "    cautious:\n      <<: *base\n      costs: 1.2\n"
    # lines: 1 program, 2 start, 3 roi, 4 scenarios, 5 base, 6 cautious, 7 `<<: *base`
    assert error_of(write(text)) == (
        "config.yaml: line 7: YAML aliases (*base) are not allowed in the config; write the value out"
    )


def test_config_without_aliases_loads_as_before(write):
    # An anchor that nothing refers to is harmless; the value written out loads as usual.
    cfg = load_config(write(START + "roi:\n  scenarios:\n    base: &base {attribution: 1, "
                            "benefits: 1, costs: 1}\n    cautious: {attribution: 1, benefits: 1, costs: 1.2}\n"))
    assert cfg.roi.scenarios["cautious"].as_dict() == {"attribution": 1, "benefits": 1, "costs": 1.2}
    assert cfg.roi.scenarios["base"].as_dict() == {"attribution": 1, "benefits": 1, "costs": 1}


def test_dumped_yaml_never_uses_aliases():
    from kpi.config_yaml import dump_yaml, parse_yaml

    shared = {"attribution": 1.0, "benefits": 1.0, "costs": 1.0}
    text = dump_yaml({"roi": {"scenarios": {"base": shared, "copy": shared}}}, sort_keys=False)
    assert "&" not in text and "*" not in text
    assert parse_yaml(text, "dumped.yaml") == {"roi": {"scenarios": {"base": shared, "copy": shared}}}


def test_unknown_key_is_reported_before_the_errors_it_causes(write):
    # `program` misspelled: the missing program.start is a consequence, the typo is the cause.
    message = error_of(write("programme:\n  start: 2025-01-01\n"))
    assert message.startswith("config.yaml: unknown key 'programme'")
    assert message.endswith("did you mean 'program'?")


def test_file_not_found_and_folder(write, tmp_path):
    assert error_of("missing.yaml") == (
        "missing.yaml: config file not found; pass the path of an existing YAML file "
        "(see docs/configuration.md)"
    )
    (tmp_path / "conf").mkdir()
    assert error_of("conf") == "conf: is a folder, not a config file; pass the YAML file itself"


def test_empty_file_only_lacks_the_start(write):
    assert error_of(write("")) == "config.yaml: program.start is required (a date such as 2025-01-01)"


def test_parse_config_names_its_source():
    with pytest.raises(ConfigError, match=r"^demo: benefits\.confidence = -0\.1 is not allowed"):
        parse_config({"program": {"start": "2025-01-01"}, "benefits": {"confidence": -0.1}}, "demo")


# --------------------------------------------------------------------------------------------
# The contract example and the defaults
# --------------------------------------------------------------------------------------------


def test_example_loads_with_its_values(write):
    cfg = load_config(write(EXAMPLE))
    assert cfg.company.name == "Example Maschinenbau GmbH"
    assert cfg.company.timezone == "Europe/Berlin"
    assert cfg.program.start == dt.date(2025, 1, 1)
    assert cfg.survey.files["longterm-2025-06.csv"].submitted_at == dt.date(2025, 6, 30)
    assert cfg.columns.employees == {"Personalnummer": "employee_id", "Abteilung": "department"}
    assert cfg.columns.surveys == {"E-mail": "identity", "Afdeling": "department"}
    assert cfg.columns.trainings == {}
    assert cfg.survey.items["AI tools make my work harder"].reverse is True
    assert cfg.survey.items["I share AI tips with colleagues"].construct == "collaboration"
    assert cfg.survey.items["I share AI tips with colleagues"].reverse is False


def test_every_default_equals_the_example(write):
    """Every key the example shows is its default, except the company-specific ones."""
    example = load_config(write(EXAMPLE)).model_dump()
    defaults = default_config(dt.date(2025, 1, 1)).model_dump()
    for key in ("name", "timezone"):
        example["company"].pop(key)
        defaults["company"].pop(key)
    example["survey"].pop("files")
    assert defaults["survey"].pop("files") == {}
    example.pop("columns")
    assert defaults.pop("columns") == {name: {} for name in CANONICAL_COLUMNS}
    assert defaults == example


def test_default_values_one_by_one():
    cfg = default_config(dt.date(2025, 3, 15))
    assert cfg.company.timezone == "UTC"
    assert cfg.company.currency == "EUR"
    assert cfg.company.decimal_separator == "."
    assert cfg.program.start == dt.date(2025, 3, 15)
    assert cfg.program.baseline_months == 3
    assert cfg.program.budget_per_employee_eur == 1000
    assert cfg.program.budget_split.as_dict() == {
        "external_training": 0.40,
        "internal_time": 0.30,
        "licenses": 0.20,
        "materials": 0.10,
        "other": 0.0,
    }
    assert cfg.privacy.min_group_size == 5
    assert cfg.privacy.complementary_suppression is True
    assert cfg.privacy.pseudonym_key_env == "KPI_PSEUDONYM_KEY"
    assert cfg.usage.regular_min_active_weeks == 6
    assert cfg.competence.proficient_score_pct == 70
    assert cfg.rates.hourly_cost_eur.as_dict() == {
        "executive": 120,
        "manager": 85,
        "champion": 65,
        "user": 55,
    }
    assert cfg.benefits.attribution == 0.5
    assert cfg.benefits.confidence == 0.8
    assert cfg.benefits.include_training_time is True
    assert cfg.benefits.cost_per_error_eur == {"default": 50}
    assert cfg.benefits.time_saved_minutes_per_interaction == {}
    assert cfg.roi.discount_rate_annual == 0.08
    assert cfg.roi.horizon_months == 24
    assert {k: v.as_dict() for k, v in cfg.roi.scenarios.items()} == {
        "conservative": {"attribution": 0.6, "benefits": 0.8, "costs": 1.1},
        "base": {"attribution": 1.0, "benefits": 1.0, "costs": 1.0},
        "optimistic": {"attribution": 1.2, "benefits": 1.2, "costs": 0.95},
    }
    assert cfg.alerts.usage_drop_points == 10
    assert cfg.alerts.culture_drop_points == 10
    assert cfg.survey.scale_max == 5
    assert cfg.survey.favorable_min == 4
    assert len(cfg.survey.items) == 5
    assert cfg.survey.labels == {
        "Strongly disagree": 1,
        "Disagree": 2,
        "Neutral": 3,
        "Agree": 4,
        "Strongly agree": 5,
    }
    assert cfg.survey.files == {}


def test_empty_sections_mean_defaults(write):
    cfg = load_config(write(START + "benefits:\nroi:\ncolumns:\n  employees:\n"))
    assert cfg.benefits.attribution == 0.5
    assert cfg.roi.horizon_months == 24
    assert cfg.columns.employees == {}


# --------------------------------------------------------------------------------------------
# Presets, merges and helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset, labels",
    [
        ("en", ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]),
        ("nl", ["Helemaal mee oneens", "Mee oneens", "Neutraal", "Mee eens", "Helemaal mee eens"]),
        (
            "de",
            [
                "Stimme überhaupt nicht zu",
                "Stimme nicht zu",
                "Teils teils",
                "Stimme zu",
                "Stimme voll zu",
            ],
        ),
    ],
)
def test_label_presets_expand(write, preset, labels):
    cfg = load_config(write(START + f"survey:\n  labels: {preset}\n"))
    assert cfg.survey.labels == {label: points for points, label in enumerate(labels, start=1)}
    points = cfg.survey_label_points()
    for number, label in enumerate(labels, start=1):
        assert points[normalise_label(label)] == number


def test_label_variants_and_normalisation():
    de = parse_config({"program": {"start": "2025-01-01"}, "survey": {"labels": "de"}})
    points = de.survey_label_points()
    assert points["stimme eher nicht zu"] == 2
    assert points["stimme eher zu"] == 4
    assert points["weder noch"] == 3
    assert points[normalise_label("  STIMME VOLL ZU. ")] == 5
    nl = parse_config({"program": {"start": "2025-01-01"}, "survey": {"labels": "NL"}})
    assert nl.survey_label_points()["neutral"] == 3
    assert nl.survey_label_points()["neutraal"] == 3
    en = default_config(dt.date(2025, 1, 1)).survey_label_points()
    assert en["neither agree nor disagree"] == 3
    assert "weder noch" not in en
    assert normalise_label("  Strongly   Agree.  ") == "strongly agree"


def test_custom_labels_get_no_variants():
    cfg = parse_config(
        {
            "program": {"start": "2025-01-01"},
            "survey": {"scale_max": 3, "favorable_min": 3, "labels": {"No": 1, "Partly": 2, "Yes": 3}},
        }
    )
    assert cfg.survey_label_points() == {"no": 1, "partly": 2, "yes": 3}


def test_preset_needs_a_five_point_scale_compatible_range():
    with pytest.raises(ConfigError) as info:
        parse_config(
            {"program": {"start": "2025-01-01"}, "survey": {"scale_max": 4, "labels": "en"}},
            "config.yaml",
        )
    assert str(info.value) == (
        "config.yaml: survey.labels.\"Strongly agree\" = 5 is not allowed: must be a whole "
        "number of points from 1 to survey.scale_max (4)"
    )


def test_partial_rates_merge_with_defaults(write):
    cfg = load_config(write(START + "rates:\n  hourly_cost_eur: {manager: 90.5}\n"))
    assert cfg.rates.hourly_cost_eur.as_dict() == {
        "executive": 120,
        "manager": 90.5,
        "champion": 65,
        "user": 55,
    }
    assert cfg.hourly_cost("manager") == 90.5
    assert cfg.rates.hourly_cost_eur["user"] == 55


def test_cost_per_error_keeps_its_default_and_scenarios_merge_by_name():
    cfg = parse_config(
        {
            "program": {"start": "2025-01-01"},
            "benefits": {"cost_per_error_eur": {"quote_preparation": 80}},
            "roi": {"scenarios": {"conservative": {"attribution": 0.5, "benefits": 0.7, "costs": 1.2}}},
        }
    )
    assert cfg.benefits.cost_per_error_eur == {"default": 50, "quote_preparation": 80}
    assert cfg.cost_per_error("quote_preparation") == 80
    assert cfg.cost_per_error("maintenance_docs") == 50
    assert cfg.roi.scenarios["conservative"].as_dict() == {
        "attribution": 0.5,
        "benefits": 0.7,
        "costs": 1.2,
    }
    assert cfg.roi.scenarios["optimistic"].costs == 0.95


def test_partial_budget_split_gives_zero_to_the_rest():
    cfg = parse_config(
        {"program": {"start": "2025-01-01", "budget_split": {"external_training": 0.6, "licenses": 0.4}}}
    )
    assert cfg.program.budget_split.as_dict() == {
        "external_training": 0.6,
        "internal_time": 0.0,
        "licenses": 0.4,
        "materials": 0.0,
        "other": 0.0,
    }


def test_survey_file_lookup_by_name_or_relative_path():
    cfg = parse_config(
        {
            "program": {"start": "2025-01-01"},
            "survey": {"files": {"longterm-2025-06.csv": {"submitted_at": "2025-06-30"}}},
        }
    )
    assert cfg.survey_file("longterm-2025-06.csv").submitted_at == dt.date(2025, 6, 30)
    assert cfg.survey_file("surveys/longterm-2025-06.csv").submitted_at == dt.date(2025, 6, 30)
    assert cfg.survey_file("other.csv") is None


def test_yaml_numbers_as_keys_become_text(write):
    cfg = load_config(write(START + "survey:\n  items:\n    2024: {construct: support}\n"))
    assert list(cfg.survey.items) == ["2024"]


# --------------------------------------------------------------------------------------------
# Hash and round trip
# --------------------------------------------------------------------------------------------


def test_config_sha256_tracks_values_not_key_order(write):
    a = load_config(write(START + "benefits:\n  attribution: 0.5\n  confidence: 0.8\n", "a.yaml"))
    b = load_config(write("benefits:\n  confidence: 0.8\n  attribution: 0.5\n" + START, "b.yaml"))
    c = load_config(write(START + "benefits:\n  attribution: 0.6\n  confidence: 0.8\n", "c.yaml"))
    d = default_config(dt.date(2025, 1, 1))
    assert len(config_sha256(a)) == 64
    assert config_sha256(a) == config_sha256(b) == config_sha256(d)
    assert config_sha256(c) != config_sha256(a)
    # an int and the same float are the same value
    e = load_config(
        write(START + "benefits:\n  attribution: 0.50\nrates:\n  hourly_cost_eur: {user: 55.0}\n", "e.yaml")
    )
    assert config_sha256(e) == config_sha256(a)


def test_dump_round_trips(write):
    cfg = load_config(write(EXAMPLE))
    again = load_config(write(dump_config(cfg), "dumped.yaml"))
    assert again == cfg
    assert config_sha256(again) == config_sha256(cfg)
    assert cfg.model_dump_yaml() == dump_config(cfg)


def test_config_module_is_import_light():
    import subprocess
    import sys

    code = (
        "import sys, kpi.config; "
        "print(sorted(m for m in ('pandas', 'polars', 'dagster', 'duckdb', 'great_expectations') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_is_a_config():
    assert isinstance(default_config(dt.date(2025, 1, 1)), Config)


def test_docs_complete_example_is_the_contract_example(write):
    """docs/configuration.md's complete example (with `labels: en`) is the contract example."""
    from kpi.paths import REPO_ROOT

    doc = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = doc.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    from_docs = load_config(write(block, "docs.yaml"))
    assert from_docs.survey.labels == load_config(write(EXAMPLE)).survey.labels
    assert config_sha256(from_docs) == config_sha256(load_config("config.yaml"))
