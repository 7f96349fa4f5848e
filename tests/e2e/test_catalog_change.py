"""Adding a mart column is the SQL, one declaration line and the doc line: in a copy of sql/
(KPI_SQL_DIR), one column is added to the usage model and one line to its declaration; a
warehouse built before the change is upgraded by `kpi run` (one line says so), the column is
filled, the closed quarters' snapshots gain its figures without a new version, a fresh build
with the change equals the upgraded one, and the Dagster asset shows the column."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.paths import sql_dir
from tests.ingest.tiny import write_tiny_inputs

KPI = str(Path(sys.executable).parent / "kpi")
KEY = "5a" * 32
LINE = "    regular_users / headcount                             AS regular_user_rate,\n"
DECLARATION = "  - {name: regular_user_rate, "


def _env(sql: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KPI_SQL_DIR", "KPI_ALLOW_DEVELOPMENT_KEY")}
    env["KPI_PSEUDONYM_KEY"] = KEY
    if sql is not None:
        env["KPI_SQL_DIR"] = str(sql)
    return env


def _run(inputs: Path, warehouse: Path, sql: Path | None) -> subprocess.CompletedProcess:
    result = subprocess.run([KPI, "run", "--inputs", str(inputs), "--config", str(inputs / "config.yaml"),
                             "--warehouse", str(warehouse), "--no-report"],
                            capture_output=True, text=True, env=_env(sql), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog_change")
    sql = root / "sql"
    shutil.copytree(sql_dir(), sql)
    model = sql / "marts" / "kpi_usage.sql"
    text = model.read_text()
    assert LINE in text
    # 1. the SQL: one more column
    model.write_text(text.replace(LINE, LINE + "    regular_users * 100.0 / headcount AS regular_user_pct,\n"))
    # 2. one declaration line
    declaration = sql / "marts" / "kpi_usage.yml"
    lines = declaration.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(DECLARATION)) + 1
    lines.insert(at, '  - {name: regular_user_pct, type: DOUBLE, role: figure, scale: percent, '
                     'description: "regular_user_rate in percent"}\n')
    declaration.write_text("".join(lines))
    # (3. the doc line: docs/metrics.md, checked by tests/unit/test_catalog.py for the real sql/)
    inputs = write_tiny_inputs(root / "inputs")
    upgraded, fresh = root / "upgraded.duckdb", root / "fresh.duckdb"
    before = _run(inputs, upgraded, None)  # the warehouse as this release builds it
    after = _run(inputs, upgraded, sql)  # the next release, with the column, on the same warehouse
    _run(inputs, fresh, sql)
    return sql, upgraded, fresh, before, after


def test_kpi_run_says_what_it_upgraded(changed):
    _, _, _, before, after = changed
    assert "Upgraded the warehouse" not in before.stdout
    assert "Upgraded the warehouse to this release's schema: added column marts.kpi_usage.regular_user_pct " \
           "(DOUBLE)" in after.stdout


def test_the_column_is_created_migrated_and_filled(changed):
    _, upgraded, fresh, _, _ = changed
    for path in (upgraded, fresh):
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.sql("SELECT quarter, regular_user_rate, regular_user_pct FROM marts.kpi_usage "
                           "WHERE segment_type = 'company' ORDER BY quarter").fetchall()
            assert len(rows) == 3
            for _, rate, pct in rows:
                assert pct == pytest.approx(rate * 100)
            version = con.sql("SELECT max(version) FROM audit.schema_version").fetchall()[0][0]
            assert version == (2 if path == upgraded else 1)


def test_closed_quarters_gain_the_figure_without_a_restatement(changed):
    _, upgraded, fresh, _, _ = changed
    query = ("SELECT quarter, version, segment_type, segment, value FROM marts.kpi_snapshots "
             "WHERE metric = 'regular_user_pct' ORDER BY ALL")
    with duckdb.connect(str(upgraded), read_only=True) as con:
        added = con.sql(query).fetchall()
        assert added, "the closed quarters' snapshots lack the new figure"
        assert con.sql("SELECT max(version) FROM marts.kpi_snapshots").fetchall()[0][0] == 1
        # every earlier figure is as it was: one computed_at for the old figures of each quarter
        assert con.sql("SELECT count(DISTINCT computed_at) FROM marts.kpi_snapshots "
                       "WHERE metric <> 'regular_user_pct' GROUP BY quarter").fetchall() == [(1,)] * len(
            {r[0] for r in added})
    with duckdb.connect(str(fresh), read_only=True) as con:
        assert con.sql(query).fetchall() == added


def test_upgraded_equals_fresh(changed):
    _, upgraded, fresh, _, _ = changed
    with duckdb.connect(str(upgraded), read_only=True) as a, duckdb.connect(str(fresh), read_only=True) as b:
        for table in ("marts.kpi_usage", "marts.kpi_competence", "marts.kpi_business", "marts.kpi_culture"):
            columns = [r[0] for r in b.sql(f"SELECT * FROM {table} LIMIT 0").description]
            query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
            assert a.sql(query).fetchall() == b.sql(query).fetchall(), table


def test_dagster_shows_the_column(changed):
    sql = changed[0]
    code = ("import json; from pipelines.definitions import defs; import dagster as dg\n"
            "spec = defs.resolve_asset_graph().get(dg.AssetKey(['marts', 'kpi_usage']))\n"
            "schema = spec.metadata['dagster/column_schema']\n"
            "print(json.dumps([[c.name, c.type, c.description] for c in schema.columns]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(sql),
                            timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    columns = json.loads(result.stdout.strip().splitlines()[-1])
    assert ["regular_user_pct", "DOUBLE", "regular_user_rate in percent (scale: percent, figure)"] in columns
    names = [c[0] for c in columns]
    assert names.index("regular_user_pct") == names.index("regular_user_rate") + 1
