"""The inputs' vocabularies are defined once, in kpi.config, and used from there."""

from __future__ import annotations

from typing import get_args

from kpi import config
from kpi.adapters import tables
from kpi.synthetic import _common


def test_table_specs_use_the_config_vocabularies():
    assert tables.EMPLOYEES.column("target_group").values is config.TARGET_GROUPS
    assert tables.TRAININGS.column("format").values is config.TRAINING_FORMATS
    assert tables.TRAININGS.column("status").values is config.TRAINING_STATUSES
    assert tables.COSTS.column("category").values is config.COST_CATEGORIES
    assert tables.USE_CASES.column("status").values is config.USE_CASE_STATUSES


def test_table_specs_have_the_config_column_names():
    # columns.<input> in the config may map a header onto exactly these names
    assert set(tables.SPECS) <= set(config.CANONICAL_COLUMNS)
    for name, spec in tables.SPECS.items():
        assert tuple(spec.names) == config.CANONICAL_COLUMNS[name], name


def test_config_sections_are_built_from_the_vocabularies():
    assert tuple(config.HourlyCost.model_fields) == config.TARGET_GROUPS
    assert tuple(config.BudgetSplit.model_fields) == config.COST_CATEGORIES
    assert get_args(config.SurveyItem.model_fields["construct"].annotation) == config.CONSTRUCTS
    assert tuple(config.ColumnsConfig.model_fields) == tuple(config.CANONICAL_COLUMNS)
    for name, columns in config.CANONICAL_COLUMNS.items():
        value_type = get_args(config.ColumnsConfig.model_fields[name].annotation)[1]
        assert get_args(value_type) == columns, name


def test_synthetic_company_uses_the_config_target_groups():
    assert _common.TARGET_GROUPS is config.TARGET_GROUPS
    groups = (_common.EXECUTIVE, _common.MANAGER, _common.CHAMPION, _common.USER)
    assert [config.TARGET_GROUPS[g] for g in groups] == ["executive", "manager", "champion", "user"]
