"""Where the project's files live, both in a checkout and in an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def sql_dir() -> Path:
    """The top-level ``sql/`` folder (``kpi/_sql`` inside an installed wheel). ``KPI_SQL_DIR``
    points elsewhere: for developing and testing a change to the models and the catalogue in a
    copy (tests/e2e/test_catalog_change.py), never for production."""
    override = os.environ.get("KPI_SQL_DIR")
    if override:
        return Path(override)
    for candidate in (PACKAGE_DIR / "_sql", REPO_ROOT / "sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the sql/ folder was not found next to the kpi package")


def sql_file(relative: str) -> Path:
    """Path of one SQL model, e.g. ``sql_file("staging/stg_employees.sql")``."""
    path = sql_dir() / relative
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {relative} not found in {sql_dir()}")
    return path


def read_sql(relative: str) -> str:
    return sql_file(relative).read_text(encoding="utf-8")


DEMO_DIR = REPO_ROOT / "fixtures" / "demo"
