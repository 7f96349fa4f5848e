"""`kpi export --aggregates`: the file to share holds the marts, snapshots, ROI tables and audit
counts, and nothing that identifies a person: no person-level table, no column holding
pseudonyms, no text value equal to any pseudonym of the warehouse or to any identifier of the
inputs (every text column of every table is scanned)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.catalog import load
from tests.conftest import raw_identifier_hits
from tests.e2e.test_privacy import demo_identifiers

KPI = str(Path(sys.executable).parent / "kpi")
#: The pseudonym columns of the staging tables (the person keys).
PERSON_KEYS = ("employee_key", "identity_key", "user_key", "respondent_key", "natural_key")


def kpi(*args):
    return subprocess.run([KPI, *map(str, args)], capture_output=True, text=True, timeout=120)


def export(warehouse: Path, out: Path) -> Path:
    result = kpi("export", "--aggregates", "--warehouse", warehouse, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def aggregates(demo_warehouse, tmp_path_factory):
    return export(demo_warehouse, tmp_path_factory.mktemp("export") / "aggregates.duckdb")


def tables(con) -> list[str]:
    return [r[0] for r in con.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                                  "WHERE database_name = current_database() ORDER BY 1").fetchall()]


def text_values(con):
    """(table, column, value) of every distinct value of every text column."""
    for schema, table, column in con.sql(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND data_type LIKE 'VARCHAR%'").fetchall():
        for (value,) in con.sql(f'SELECT DISTINCT "{column}" FROM {schema}.{table} WHERE "{column}" IS NOT NULL'
                                ).fetchall():
            yield f"{schema}.{table}", column, value


def pseudonyms(warehouse: Path) -> set[str]:
    """Every pseudonym of the full warehouse: the person keys of its staging tables and the
    quarantined values (pseudonymised when they identify a person)."""
    found: set[str] = set()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table, column in con.sql(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE table_schema IN ('staging', 'intermediate') AND list_contains($keys, column_name)",
                params={"keys": list(PERSON_KEYS)}).fetchall():
            found |= {r[0] for r in con.sql(f"SELECT DISTINCT {column} FROM {schema}.{table} "
                                            f"WHERE {column} IS NOT NULL").fetchall()}
        found |= {r[0] for r in con.sql('SELECT DISTINCT "value" FROM audit.quarantine WHERE "value" IS NOT NULL'
                                        ).fetchall()}
    return found


def test_holds_the_marts_snapshots_roi_and_audit_counts_and_no_person_level_table(aggregates):
    with duckdb.connect(str(aggregates), read_only=True) as con:
        names = tables(con)
        columns = {r[0] for r in con.sql("SELECT DISTINCT column_name FROM information_schema.columns").fetchall()}
        quarantine = [r[0] for r in con.sql("SELECT * FROM audit.quarantine_counts LIMIT 0").description]
    assert names == ["audit.export_info", "audit.frozen_quarters", "audit.ingest_manifest", "audit.quarantine_counts",
                     "marts.budget_plan_vs_actual", "marts.kpi_business", "marts.kpi_champions", "marts.kpi_cohorts",
                     "marts.kpi_competence", "marts.kpi_culture", "marts.kpi_learning", "marts.kpi_licences",
                     "marts.kpi_maturity", "marts.kpi_retention", "marts.kpi_snapshots", "marts.kpi_targets",
                     "marts.kpi_training", "marts.kpi_usage", "marts.roi_assumptions",
                     "marts.roi_attribution_estimate", "marts.roi_attribution_event_study", "marts.roi_benchmarks",
                     "marts.roi_by_segment", "marts.roi_monthly", "marts.roi_quarterly", "marts.roi_sensitivity",
                     "marts.roi_use_cases", "marts.rollout_milestones"]
    person_level = {t.name for t in load().tables.values() if t.person_level}
    assert person_level >= {"staging.employees", "staging.usage_activity", "intermediate.usage_activity"}
    assert not person_level & set(names)
    assert not columns & {*PERSON_KEYS, "key_check", "settings_sha256"}
    assert quarantine == ["file", "stage", "reason", "column", "rows"]  # counts, never the quarantined values
    assert not [c for c in columns if c.endswith("_key")]


def test_no_text_value_is_a_pseudonym_of_the_warehouse(demo_warehouse, aggregates):
    keys = pseudonyms(demo_warehouse)
    assert len(keys) > 10_000  # ~200 people's employee and identity keys, users and activity keys
    with duckdb.connect(str(aggregates), read_only=True) as con:
        values = list(text_values(con))
    assert len(values) > 500  # segments, files, metrics, assumptions ...
    assert [v for v in values if v[2] in keys] == []
    assert [v for v in values if re.fullmatch(r"p_[0-9a-f]{24}", v[2])] == []


def test_no_identifier_of_the_inputs(aggregates):
    with duckdb.connect(str(aggregates), read_only=True) as con:
        assert raw_identifier_hits(con, demo_identifiers()) == []
    data = aggregates.read_bytes().lower()
    assert [i for i in demo_identifiers() if "@" in i and i.lower().encode() in data] == []


def test_marts_are_copied_as_they_are_and_quarantine_as_counts(demo_warehouse, aggregates):
    with duckdb.connect(str(aggregates), read_only=True) as con:
        con.execute(f"ATTACH '{demo_warehouse}' AS source (READ_ONLY)")
        for table in [t for t in tables(con) if t.startswith("marts.")]:
            query = "SELECT * FROM {} ORDER BY ALL"
            assert con.sql(query.format(table)).fetchall() == con.sql(query.format("source." + table)).fetchall(), table
        assert con.sql("SELECT stage, reason, sum(rows) FROM audit.quarantine_counts GROUP BY ALL ORDER BY ALL"
                       ).fetchall() == con.sql("SELECT stage, reason, count(*) FROM source.audit.quarantine "
                                               "GROUP BY ALL ORDER BY ALL").fetchall()
        manifest = "SELECT file, rows_read, rows_loaded, rows_quarantined FROM {}audit.ingest_manifest ORDER BY ALL"
        assert con.sql(manifest.format("")).fetchall() == con.sql(manifest.format("source.")).fetchall()
        assert con.sql("SELECT count(*) FROM audit.export_info").fetchall() == [(1,)]


def test_kpi_roi_answers_from_the_aggregates_file(demo_warehouse, aggregates):
    full, shared = (kpi("roi", "--warehouse", w, "--format", "json") for w in (demo_warehouse, aggregates))
    assert full.returncode == 0 and shared.returncode == 0, full.stderr + shared.stderr
    a, b = json.loads(full.stdout), json.loads(shared.stdout)
    a.pop("warehouse"), b.pop("warehouse")
    assert a == b


def test_an_existing_file_is_replaced_whole_and_kept_when_the_export_fails(demo_warehouse, tmp_path):
    out = tmp_path / "aggregates.duckdb"
    out.write_bytes(b"an older export")
    export(demo_warehouse, out)
    with duckdb.connect(str(out), read_only=True) as con:
        assert "marts.kpi_usage" in tables(con)
    before = out.read_bytes()
    result = kpi("export", "--aggregates", "--warehouse", tmp_path / "missing.duckdb", "--out", out)
    assert result.returncode == 2 and "warehouse not found" in result.stderr and "Traceback" not in result.stderr
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aggregates.duckdb"]  # no temporary file left


def test_a_pseudonym_in_a_mart_stops_the_export(demo_warehouse, tmp_path):
    """The last check before the file is moved into place (a leak here would be a bug in a model)."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        key = con.sql("SELECT min(employee_key) FROM staging.employees").fetchall()[0][0]
        con.execute("UPDATE marts.kpi_usage SET segment = ? WHERE segment_type = 'department' AND segment = "
                    "(SELECT min(segment) FROM marts.kpi_usage WHERE segment_type = 'department')", [key])
    result = kpi("export", "--aggregates", "--warehouse", copy, "--out", tmp_path / "shared.duckdb")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "marts.kpi_usage.segment" in lines[0] and "equal pseudonyms" in lines[0]
    assert key not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]


def test_export_needs_the_aggregates_flag(demo_warehouse, tmp_path):
    result = kpi("export", "--warehouse", demo_warehouse, "--out", tmp_path / "x.duckdb")
    assert result.returncode == 2 and "--aggregates" in result.stderr
    assert not (tmp_path / "x.duckdb").exists()
    assert os.listdir(tmp_path) == []


def test_a_warehouse_in_use_is_one_line(demo_warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    with duckdb.connect(str(copy)):  # a writer holds it, as a running kpi run does
        result = kpi("export", "--aggregates", "--warehouse", copy, "--out", tmp_path / "shared.duckdb")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{copy} is in use by a running kpi run" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]
