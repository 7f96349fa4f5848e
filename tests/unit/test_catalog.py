"""The catalogue (sql/**/*.yml, kpi/catalog.py): each table declared once, and everything that
repeats a fact of it -- the model's parameters, docs/metrics.md, the DDL snapshot -- agrees."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import duckdb
import pytest

from kpi import catalog
from kpi.catalog import BUILTIN_PARAMS, CatalogError, load, sql_params
from kpi.config import default_config
from kpi.paths import REPO_ROOT, read_sql

DOCS = REPO_ROOT / "docs" / "metrics.md"
SCHEMA_SNAPSHOT = REPO_ROOT / "tests" / "fixtures" / "warehouse" / "schema-current.sql"


def test_every_kpi_mart_binds_exactly_its_declared_parameters():
    from kpi.marts import mart_params

    cfg = default_config(dt.date(2025, 1, 15))
    for spec in load().kpi_marts:
        bound = sql_params(read_sql(spec.model))
        declared = set(BUILTIN_PARAMS) | set(spec.params)
        # every declared parameter is bound; a built-in one may go unused (kpi_maturity: no $quarter_start)
        assert set(spec.params) <= bound <= declared, (spec.name, sorted(bound ^ declared))
        assert set(mart_params(cfg, spec.name, "2025-Q1")) == declared, spec.name


def test_sql_params_ignores_comments_and_strings():
    assert sql_params("-- uses $not_this\nSELECT $a, '$b' AS x, $c_2 FROM t") == {"a", "c_2"}


def test_kpi_marts_in_dimension_order_with_their_suppression():
    marts = load().kpi_marts
    assert [t.name for t in marts] == ["marts.kpi_usage", "marts.kpi_competence", "marts.kpi_business",
                                       "marts.kpi_culture", "marts.kpi_champions", "marts.kpi_maturity",
                                       "marts.kpi_targets", "marts.kpi_learning", "marts.kpi_training",
                                       "marts.kpi_cohorts", "marts.kpi_licences", "marts.kpi_retention"]
    assert [t.suppression_partition for t in marts] == [
        ("segment_type",), ("segment_type",), None, ("construct", "segment_type"), ("segment_type",),
        ("segment_type",), None, ("segment_type",), ("format", "segment_type"),
        ("months_since_training", "segment_type"), None, ("segment_type",)]
    # a mart that reads the published rows of other marts is built after them
    for i, spec in enumerate(marts):
        built_before = {t.name for t in marts[:i]}
        assert {d for d in spec.deps if d.startswith("marts.")} <= built_before, spec.name
    usage = load()["marts.kpi_usage"]
    assert usage.row_key == ("segment_type", "segment")
    assert usage.figures[:3] == ["headcount", "fte", "active_users"]
    assert usage.snapshot_metrics[0] == "group_size"  # the size is kept in the snapshot, never a figure
    assert "group_size" not in usage.figures and "suppressed" not in usage.figures


def test_kpi_marts_declare_every_table_their_sql_reads():
    """`deps` is what Dagster draws: it must cover the staging and intermediate tables the model
    reads, directly or through the intermediate table macros."""
    macros = {}
    for path in (REPO_ROOT / "sql" / "intermediate").glob("int_*_in.sql"):
        text = path.read_text()
        name = re.search(r"MACRO\s+intermediate\.(\w+)", text, re.IGNORECASE)
        if name:
            macros[name.group(1)] = set(re.findall(r"\b((?:staging|intermediate)\.\w+)\b(?!\s*\()", text))
    for spec in load().kpi_marts:
        text = read_sql(spec.model)
        read = set(re.findall(r"\b((?:staging|intermediate|marts)\.\w+)\b(?!\s*\()", text))
        for macro in re.findall(r"intermediate\.(\w+)\s*\(", text):
            read |= macros.get(macro, set())
        read = {t for t in read if t in load() and t != spec.name}  # its own name is in its header comment
        assert read <= set(spec.deps), (spec.name, sorted(read - set(spec.deps)))


def _doc_sections() -> dict[str, str]:
    """'## ...' section text of docs/metrics.md -> the tables it names in its heading."""
    text = DOCS.read_text()
    out = {}
    for heading, body in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL):
        names = re.findall(r"`((?:marts\.)?\w+)`", heading)
        for name in names:
            out["marts." + name.removeprefix("marts.")] = body
    return out


def test_docs_metrics_defines_every_figure_of_every_mart():
    sections = _doc_sections()
    kpi_and_roi = [t for t in load().in_schema("marts") if t.figures]
    # the twelve KPI marts, the four ROI tables with figures, rollout_milestones, roi_benchmarks, roi_by_segment,
    # roi_use_cases, roi_attribution_estimate and roi_attribution_event_study
    assert len(kpi_and_roi) == 22
    for spec in kpi_and_roi:
        assert spec.name in sections, f"docs/metrics.md has no section naming {spec.name}"
        body = sections[spec.name]
        missing = [c for c in spec.figures if f"`{c}`" not in body]
        assert not missing, f"docs/metrics.md, section of {spec.name}, does not define {missing}"


def test_docs_metrics_names_no_column_the_catalogue_lacks():
    """The first cell of every metric table in a mart's section names a column of that section's
    tables (so a renamed or dropped column cannot stay documented)."""
    sections = _doc_sections()
    by_body: dict[str, set[str]] = {}
    for name, body in sections.items():
        if name in load():
            by_body.setdefault(body, set()).update(load()[name].column_names)
    for body, columns in by_body.items():
        for row in re.findall(r"^\| (`[^|]+) \|", body, re.MULTILINE):
            for name in re.findall(r"`(\w+)`", row):
                assert name in columns, f"docs/metrics.md documents `{name}`, which no table of its section has"


def test_schema_snapshot():
    """The DDL of every declared table, committed: a change of the catalogue shows here as a diff.
    Regenerate with UPDATE_GOLDEN=1 after checking the diff is the change you meant."""
    current = "\n\n".join(t.ddl() + ";" for t in sorted(load().tables.values(), key=lambda t: t.name)) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        SCHEMA_SNAPSHOT.write_text(current)
    assert current == SCHEMA_SNAPSHOT.read_text()


def test_declarations_create_the_tables_they_describe():
    con = duckdb.connect()
    from kpi.migrations import ensure_tables

    ensure_tables(con, *load().tables)
    for spec in load().tables.values():
        rows = con.sql("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                       "AND table_name = ? ORDER BY ordinal_position", params=[spec.schema, spec.short_name]).fetchall()
        assert rows == [(c.name, c.base_type) for c in spec.columns], spec.name


@pytest.mark.parametrize("bad, message", [
    ("table: marts.x\ncolumns:\n  - {name: a, type: DOUBLE, role: metric}\n", "role 'metric' is not one of"),
    ("table: marts.x\ncolumns:\n  - {name: a, type: DOUBLE, scale: percentage}\n", "scale 'percentage' is not one"),
    ("table: marts.x\ngrain: [b]\ncolumns:\n  - {name: a, type: DOUBLE}\n", "undeclared columns ['b']"),
    ("table: marts.x\ncolumns:\n  - {name: a, type: DOUBLE}\n  - {name: a, type: BIGINT}\n", "each name once"),
    ("table: marts.x\ndeps: [staging.nothing]\ncolumns:\n  - {name: a, type: DOUBLE}\n", "undeclared tables"),
    ("table: x\ncolumns:\n  - {name: a, type: DOUBLE}\n", "table: schema.name"),
    ("table: marts.x\ngrian: [a]\ncolumns:\n  - {name: a, type: DOUBLE}\n", "unknown keys ['grian']"),
])
def test_a_wrong_declaration_names_its_file(tmp_path: Path, bad: str, message: str):
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "x.yml").write_text(bad)
    with pytest.raises(CatalogError, match=re.escape(message)) as err:
        catalog.load(tmp_path)
    assert "sql/marts/x.yml" in str(err.value)


def test_snapshots_table_gains_the_row_key_of_a_new_mart(tmp_path: Path):
    (tmp_path / "marts").mkdir()
    for name in ("kpi_snapshots.yml",):
        (tmp_path / "marts" / name).write_text((REPO_ROOT / "sql" / "marts" / name).read_text())
    (tmp_path / "marts" / "kpi_training.sql").write_text("SELECT 1")
    (tmp_path / "marts" / "kpi_training.yml").write_text(
        "table: marts.kpi_training\nsnapshot: true\ngrain: [quarter, format]\ncolumns:\n"
        "  - {name: quarter, type: VARCHAR NOT NULL}\n  - {name: format, type: VARCHAR NOT NULL}\n"
        "  - {name: participants, type: BIGINT, role: figure, scale: count}\n")
    snapshots = catalog.load(tmp_path)["marts.kpi_snapshots"]
    assert snapshots.column_names[snapshots.column_names.index("metric") - 1] == "format"
    assert snapshots.column("format").base_type == "VARCHAR"


def test_declared_params_are_read_from_the_config_by_name(tmp_path: Path, monkeypatch):
    import shutil

    from kpi.marts import mart_params
    from kpi.paths import sql_dir

    shutil.copytree(sql_dir(), tmp_path / "sql")
    (tmp_path / "sql" / "marts" / "kpi_x.sql").write_text("SELECT $quarter AS quarter, $weeks AS w")
    (tmp_path / "sql" / "marts" / "kpi_x.yml").write_text(
        "table: marts.kpi_x\nsnapshot: true\ngrain: [quarter]\n"
        "params: {weeks: usage.regular_min_active_weeks, k: privacy.min_group_size}\ncolumns:\n"
        "  - {name: quarter, type: VARCHAR NOT NULL}\n  - {name: w, type: BIGINT, role: figure, scale: count}\n")
    monkeypatch.setenv("KPI_SQL_DIR", str(tmp_path / "sql"))
    cfg = default_config(dt.date(2025, 1, 15), usage={"regular_min_active_weeks": 4})
    assert mart_params(cfg, "marts.kpi_x", "2025-Q2") == {
        "quarter": "2025-Q2", "quarter_start": dt.date(2025, 4, 1), "quarter_end": dt.date(2025, 6, 30),
        "weeks": 4, "k": 5}
    (tmp_path / "sql" / "marts" / "kpi_y.sql").write_text("SELECT 1")
    (tmp_path / "sql" / "marts" / "kpi_y.yml").write_text(
        "table: marts.kpi_y\nsnapshot: true\ngrain: [quarter]\nparams: {weeks: usage.weeks}\ncolumns:\n"
        "  - {name: quarter, type: VARCHAR NOT NULL}\n")
    catalog._load.cache_clear()
    with pytest.raises(CatalogError, match="parameter weeks names usage.weeks, which is not a config key"):
        mart_params(cfg, "marts.kpi_y", "2025-Q2")
    catalog._load.cache_clear()
