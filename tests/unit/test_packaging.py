"""The SQL models are found from a checkout and are packaged into the wheel."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from kpi.paths import REPO_ROOT, read_sql, sql_dir


def test_every_sql_model_named_in_the_code_exists():
    names = set()
    for path in list((REPO_ROOT / "kpi").rglob("*.py")) + list((REPO_ROOT / "pipelines").rglob("*.py")):
        if path.name == "paths.py":  # its docstring shows an example name
            continue
        names |= set(re.findall(r"\"((?:staging|intermediate|marts|audit)/[a-z_]+\.sql)\"", path.read_text()))
    assert len(names) >= 8
    for name in sorted(names):
        assert read_sql(name).strip(), name


def test_sql_folder_is_force_included_in_the_wheel_as_kpi_sql():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"] == {"sql": "kpi/_sql"}
    # kpi.paths looks for kpi/_sql first (installed wheel), then the checkout's sql/
    assert sql_dir() == REPO_ROOT / "sql" or sql_dir() == Path(REPO_ROOT / "kpi" / "_sql")
