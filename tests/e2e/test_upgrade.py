"""A warehouse built by the release before the catalogue (0.1.0) is upgraded by `kpi run` and then
equals a fresh build.

The old warehouse is recreated from its schema, frozen in tests/fixtures/warehouse/schema-0.1.0.sql
(extracted from a demo warehouse that release built), and filled with the rows of this release's
build of the same inputs, in the columns 0.1.0 had (on these inputs 0.1.0's figures are the same:
its suppression differed only where a breakdown leaves out contributors of a mean or two small
groups). What an upgrade changes is then simulated as it happens: the old fingerprints and reader
settings no longer match this release's code, so every state file is read again and every quarter
rebuilt, the new columns are added and filled, and the closed quarters' snapshots must come out
unchanged (no new version, no row rewritten). A quarter whose figures a new release does change
gets a new snapshot version, as any restatement (tests/e2e/test_snapshots.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.snapshots import ROW_KEYS
from tests.ingest.tiny import write_tiny_inputs

KPI = str(Path(sys.executable).parent / "kpi")
OLD_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "warehouse" / "schema-0.1.0.sql"
WHEN = {"ingested_at", "built_at", "validated_at", "applied_at"}  # when it was written, not what


def _run(inputs: Path, warehouse: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KPI_SQL_DIR", "KPI_ALLOW_DEVELOPMENT_KEY")}
    env["KPI_PSEUDONYM_KEY"] = "6b" * 32
    result = subprocess.run([KPI, "run", "--inputs", str(inputs), "--config", str(inputs / "config.yaml"),
                             "--warehouse", str(warehouse), "--no-report"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _tables(con) -> list[str]:
    return [f"{s}.{t}" for s, t in con.sql("SELECT schema_name, table_name FROM duckdb_tables() "
                                           "WHERE database_name = current_database() ORDER BY ALL").fetchall()]


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    root = tmp_path_factory.mktemp("upgrade")
    inputs = write_tiny_inputs(root / "inputs")
    fresh, old = root / "fresh.duckdb", root / "old.duckdb"
    _run(inputs, fresh)
    with duckdb.connect(str(old)) as con:
        con.execute(OLD_SCHEMA.read_text())
        con.execute(f"ATTACH '{fresh}' AS fresh (READ_ONLY)")
        snapshot_columns = [r[0] for r in con.sql("SELECT * FROM marts.kpi_snapshots LIMIT 0").description]
        # a 0.1.0 warehouse holds snapshots only of marts whose row key its kpi_snapshots can hold
        # (kpi_targets' metric_name and source are key columns this release adds)
        kept = [t for t, keys in ROW_KEYS.items() if set(keys) <= set(snapshot_columns)]
        for table in _tables(con):
            columns = [r[0] for r in con.sql(f"SELECT * FROM {table} LIMIT 0").description]
            quoted = ", ".join(f'"{c}"' for c in columns)
            where = " WHERE list_contains($kept, kpi_table)" if table == "marts.kpi_snapshots" else ""
            con.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM fresh.{table}{where}",
                        {"kept": kept} if where else None)
        con.execute("DETACH fresh")
        # 0.1.0's code hashes differ from this release's: nothing it built counts as up to date
        con.execute("DELETE FROM audit.build_fingerprints")
        con.execute("UPDATE audit.ingest_manifest SET settings_sha256 = 'read by 0.1.0' WHERE input_kind = 'state'")
        old_tables = _tables(con)
        quoted = ", ".join(f'"{c}"' for c in snapshot_columns)
        query = f"SELECT {quoted} FROM marts.kpi_snapshots WHERE list_contains($kept, kpi_table) ORDER BY ALL"
        snapshots = (query, kept, con.sql(query, params={"kept": kept}).fetchall())
    result = _run(inputs, old)
    return fresh, old, old_tables, snapshots, result


def test_the_old_schema_lacks_what_this_release_adds(upgrade):
    _, _, old_tables, snapshots, _ = upgrade
    assert "audit.schema_version" not in old_tables and "marts.kpi_usage" in old_tables
    assert snapshots[2], "the tiny inputs close at least one quarter"


def _expected_changes() -> list[str]:
    """What this release declares beyond the 0.1.0 schema: its columns and tables, by name."""
    from kpi.catalog import load

    with duckdb.connect() as con:
        con.execute(OLD_SCHEMA.read_text())
        old = {}
        for schema, table, column in con.sql("SELECT table_schema, table_name, column_name FROM "
                                             "information_schema.columns ORDER BY ordinal_position").fetchall():
            old.setdefault(f"{schema}.{table}", []).append(column)
    columns = [f"added column {t.name}.{c.name} ({c.base_type})" for t in load().tables.values() if t.name in old
               for c in t.columns if c.name not in old[t.name]]
    tables = [f"new table {name} (created when first written)" for name in load().tables
              if name not in old and name != "audit.schema_version"]
    return [*columns, *tables, "created audit.schema_version (the warehouse had no schema version)"]


def test_kpi_run_prints_what_it_migrated(upgrade):
    *_, result = upgrade
    lines = [line for line in result.stdout.splitlines() if "Upgraded the warehouse" in line]
    expected = _expected_changes()
    assert "added column marts.kpi_competence.withheld (VARCHAR)" in expected  # this release adds columns
    assert lines == ["Upgraded the warehouse to this release's schema: " + "; ".join(expected)], result.stdout


def test_upgraded_equals_fresh_table_by_table(upgrade):
    fresh, old, *_ = upgrade
    with duckdb.connect(str(old), read_only=True) as a, duckdb.connect(str(fresh), read_only=True) as b:
        assert _tables(a) == _tables(b)
        for table in _tables(b):
            if table == "audit.schema_version":
                continue
            columns = [r[0] for r in b.sql(f"SELECT * FROM {table} LIMIT 0").description if r[0] not in WHEN]
            if table == "marts.kpi_snapshots":
                columns.remove("computed_at")
            query = f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in columns)} FROM {table} ORDER BY ALL"
            assert a.sql(query).fetchall() == b.sql(query).fetchall(), table


def test_closed_quarters_snapshots_are_not_rewritten(upgrade):
    _, old, _, snapshots, _ = upgrade
    with duckdb.connect(str(old), read_only=True) as con:
        query, kept, rows = snapshots
        assert con.sql(query, params={"kept": kept}).fetchall() == rows


def test_the_warehouse_records_its_schema_version(upgrade):
    from kpi.catalog import load
    from kpi.migrations import release

    fresh, old, *_ = upgrade
    with duckdb.connect(str(old), read_only=True) as con:
        rows = con.sql("SELECT version, schema_sha256, release, changes FROM audit.schema_version").fetchall()
    assert rows == [(1, load().sha256(), release(), "\n".join(_expected_changes()))]
    with duckdb.connect(str(fresh), read_only=True) as con:
        assert con.sql("SELECT version, changes FROM audit.schema_version").fetchall() == [(1, "created")]


def test_a_change_that_cannot_be_applied_stops_with_one_line(tmp_path):
    from kpi.migrations import SchemaError, upgrade

    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.kpi_usage (quarter VARCHAR, active_users DOUBLE)")
        with pytest.raises(SchemaError) as err:
            upgrade(con)
        assert str(err.value) == (
            "marts.kpi_usage: column active_users is DOUBLE in this warehouse but BIGINT in this release, which "
            "cannot be changed automatically; build a new warehouse from your inputs with kpi run --warehouse "
            "NEW.duckdb (or keep using the release that built it)")
        con.execute("DROP TABLE marts.kpi_usage")
        con.execute("CREATE TABLE marts.kpi_usage (quarter VARCHAR, retired_figure DOUBLE)")
        with pytest.raises(SchemaError, match="column retired_figure is not known to this release"):
            upgrade(con)
        assert con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version'").fetchall() == [(0,)]


def test_a_report_of_a_warehouse_not_yet_upgraded_asks_for_one_run(tmp_path):
    """kpi report opens the warehouse read-only and cannot upgrade it: one line saying what to do."""
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute(OLD_SCHEMA.read_text())
    result = subprocess.run([KPI, "report", "--warehouse", str(old), "--quarter", "2025-Q1", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {old}: built by an earlier release (added column ")
    assert lines[0].endswith("more); run kpi run on it once to upgrade it, then kpi report")
