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


# --------------------------------------------------------------------------------------------
# The report package: templates, static files and its SQL travel with the code
# --------------------------------------------------------------------------------------------

REPORT_FILES = ["templates/report.html.j2", "templates/_macros.html.j2", "static/report.css",
                "static/error_collector.js", "static/render.js"]


def test_report_templates_and_static_files_are_package_resources():
    from importlib.resources import files

    from kpi.report.view import SECTIONS

    package = files("kpi.report")
    names = REPORT_FILES + [f"templates/sections/{s.id}.html.j2" for s in SECTIONS]
    assert len(names) == 5 + 10
    for name in names:
        assert package.joinpath(name).is_file(), name
        assert package.joinpath(name).read_text(encoding="utf-8").strip(), name
    # no template lies around that no section uses
    on_disk = {p.name for p in (REPO_ROOT / "kpi" / "report" / "templates" / "sections").iterdir()}
    assert on_disk == {f"{s.id}.html.j2" for s in SECTIONS}


def test_every_report_query_named_in_the_code_exists_and_is_used():
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "kpi" / "report").glob("*.py"))
    named = set(re.findall(r"_(?:records|frame|values)\(con, (?:\w+, )?\"([a-z_]+)\"", code))
    named |= {m.removeprefix("report/").removesuffix(".sql") for m in re.findall(r"\"(report/[a-z_]+\.sql)\"", code)}
    files = {p.stem for p in (sql_dir() / "report").glob("*.sql")}
    assert len(named) >= 25
    assert named == files
    for name in sorted(named):
        assert read_sql(f"report/{name}.sql").strip(), name


def test_the_wheel_keeps_the_report_files():
    """hatch puts every file inside the packages into the wheel unless the build config or
    .gitignore excludes it (checked by building a wheel: `python -m pip wheel . --no-deps`)."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "kpi" in wheel["packages"]
    assert not {"exclude", "only-include", "only-packages"} & set(wheel)
    assert not {"exclude", "only-include"} & set(pyproject["tool"]["hatch"]["build"])
    import subprocess

    paths = [f"kpi/report/{n}" for n in REPORT_FILES] + ["sql/report/quarters.sql"]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode == 128:  # not a git checkout
        return
    assert result.stdout == "", f"ignored by .gitignore, so left out of the wheel: {result.stdout}"
