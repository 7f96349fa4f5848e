"""Retention and erasure on copies of the demo warehouse (programme data 2024-Q4 .. 2026-Q3, every
quarter closed and snapshotted).

`kpi purge` with a 12-month retention as of 2026-10-15 purges 2024-Q4 .. 2025-Q3: their person-level
rows are gone, and after a new `kpi run` their marts, every snapshot, the ROI series and the
report of a purged quarter are exactly what they were. `kpi forget` removes one person's rows from
every table, records only the day, and a new `kpi run` changes no closed quarter."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from kpi.catalog import load
from kpi.paths import DEMO_DIR
from kpi.privacy import DEVELOPMENT_KEY, pseudonymise
from kpi.run_status import QuarterState

KPI = str(Path(sys.executable).parent / "kpi")
PURGED = ["2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]
KEPT = ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
FIRST_KEPT_DAY = dt.date(2025, 10, 1)
KPI_MARTS = [t.name for t in load().kpi_marts]


def kpi(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("KPI_PSEUDONYM_KEY", "KPI_SQL_DIR")}
    env["KPI_ALLOW_DEVELOPMENT_KEY"] = "1"  # the demo warehouse is built with the development key
    return subprocess.run([KPI, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def run_again(warehouse: Path):
    from pipelines.run import run_pipeline

    return run_pipeline(DEMO_DIR, DEMO_DIR / "config.yaml", warehouse, allow_development_key=True, report=False)


def rows(warehouse: Path, query: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(query, params=params).fetchall()


def marts(warehouse: Path, quarters: list[str]) -> dict[str, list[tuple]]:
    return {t: rows(warehouse, f"SELECT * FROM {t} WHERE list_contains($q, quarter) ORDER BY ALL", {"q": quarters})
            for t in KPI_MARTS}


def report(warehouse: Path, quarter: str, out: Path) -> str:
    from kpi.report import build_report

    page = build_report(warehouse, quarter, out, images=False).read_text(encoding="utf-8")
    page, n = re.subn(r"generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} ", "generated <GENERATED> ", page)
    assert n == 1
    return page


# --------------------------------------------------------------------------------------------
# kpi purge
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def purged(demo_warehouse, tmp_path_factory):
    """A copy of the demo warehouse before and after `kpi purge` and a new `kpi run`."""
    root = tmp_path_factory.mktemp("purge")
    warehouse = root / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    before = {
        "marts": marts(warehouse, PURGED + KEPT),
        "snapshots": rows(warehouse, "SELECT * FROM marts.kpi_snapshots ORDER BY ALL"),
        "roi": rows(warehouse, "SELECT m, estimated_benefits, cum_estimated_benefits, cum_benefits, cum_costs "
                               "FROM marts.roi_monthly ORDER BY m"),
        "report": report(warehouse, "2025-Q2", root / "before"),
        "rollout": rows(warehouse, "SELECT * FROM marts.rollout_milestones ORDER BY sort_order"),
        "quarantine": rows(warehouse, "SELECT stage, reason, count(*) FROM audit.quarantine GROUP BY ALL ORDER BY ALL"),
        # match-stage quarantine rows whose usage rows are all in purged quarters lose their value
        "blanked": rows(warehouse, """
            SELECT count(*) FROM audit.quarantine q WHERE stage = 'match'
              AND NOT EXISTS (SELECT 1 FROM staging.usage_activity u WHERE u.file = q.file
                              AND u.row_number = q.row_number AND u.day >= $d)""", {"d": FIRST_KEPT_DAY})[0][0],
    }
    result = kpi("purge", "--warehouse", warehouse, "--retention-months", "12", "--as-of", "2026-10-15")
    assert result.returncode == 0, result.stderr
    after_purge = {
        "marts": marts(warehouse, PURGED + KEPT),
        "snapshots": rows(warehouse, "SELECT * FROM marts.kpi_snapshots ORDER BY ALL"),
    }
    summary = run_again(warehouse)
    return warehouse, root, before, after_purge, result.stdout, summary


def test_milestones_due_in_purged_quarters_keep_their_rows(purged):
    """The pilot milestone counts people by their first usage day: rebuilt from what the purge
    left, it would read 0 people and "missed"; due in a frozen quarter, it keeps its row."""
    warehouse, _, before, *_ = purged
    assert rows(warehouse, "SELECT * FROM marts.rollout_milestones ORDER BY sort_order") == before["rollout"]
    pilot = [r for r in before["rollout"] if r[1] == "pilot group active"]
    assert pilot and pilot[0][-2] == "reached"


def test_purge_says_what_it_purged_and_kept(purged):
    *_, stdout, _ = purged
    assert "quarters that ended before 2025-10-15 are purged" in stdout
    assert "Purged and frozen: 2024-Q4, 2025-Q1, 2025-Q2, 2025-Q3" in stdout
    assert "Kept 2025-Q3: its survey answers stay while 2025-Q4's culture changes compare against them" in stdout


def test_person_level_rows_of_purged_quarters_are_gone(purged, demo_warehouse):
    warehouse, _, before, *_ = purged
    assert rows(demo_warehouse, "SELECT count(*) FROM staging.usage_activity WHERE day < $d",
                {"d": FIRST_KEPT_DAY})[0][0] > 10_000  # there was something to purge
    assert rows(warehouse, "SELECT count(*) FROM staging.usage_activity WHERE day < $d",
                {"d": FIRST_KEPT_DAY}) == [(0,)]
    assert rows(warehouse, "SELECT min(day) FROM intermediate.usage_activity") == [(FIRST_KEPT_DAY,)]
    assert rows(warehouse, "SELECT count(*) FROM staging.assessments WHERE assessed_on < $d",
                {"d": FIRST_KEPT_DAY}) == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM staging.assessments")[0][0] > 0
    # the 2025-Q3 wave stays while 2025-Q4 (not purged) compares against it; earlier waves are gone
    waves = rows(warehouse, "SELECT DISTINCT CAST(date_trunc('quarter', submitted_at) AS DATE) "
                            "FROM staging.survey_responses ORDER BY 1")
    assert waves[0] == (dt.date(2025, 7, 1),) and len(waves) == 5
    assert rows(warehouse, "SELECT count(*) FROM staging.survey_answers a WHERE NOT EXISTS (SELECT 1 FROM "
                           "staging.survey_responses r WHERE r.file = a.file "
                           "AND r.response_id = a.response_id)") == [(0,)]
    # quarantine rows keep their count; those of purged usage rows lose their pseudonym
    assert rows(warehouse, "SELECT stage, reason, count(*) FROM audit.quarantine GROUP BY ALL ORDER BY ALL") \
        == before["quarantine"]
    assert before["blanked"] > 0
    assert rows(warehouse, 'SELECT count(*) FROM audit.quarantine WHERE "value" IS NULL') == [(before["blanked"],)]
    assert rows(warehouse, "SELECT quarter, reason FROM audit.frozen_quarters ORDER BY 1") \
        == [(q, "retention") for q in PURGED]


def test_purge_itself_changes_no_figure(purged):
    _, _, before, after_purge, *_ = purged
    assert after_purge == {"marts": before["marts"], "snapshots": before["snapshots"]}


def same_rows(a: list[tuple], b: list[tuple]) -> bool:
    """Equal rows, floats up to the order of a parallel sum (a rebuilt quarter's fte sums)."""
    return len(a) == len(b) and all(
        len(x) == len(y) and all(u == pytest.approx(v, rel=1e-12) if isinstance(u, float) else u == v
                                 for u, v in zip(x, y)) for x, y in zip(a, b))


def test_a_new_run_rebuilds_no_purged_quarter_and_restates_nothing(purged):
    warehouse, _, before, _, _, summary = purged
    assert {q: summary.snapshots[q].state for q in PURGED} == {q: QuarterState.CLOSED_NOT_REBUILT for q in PURGED}
    assert marts(warehouse, PURGED) == marts_of(before, PURGED)  # not rebuilt: the very rows
    # the later quarters are rebuilt (the usage they are dated after changed) with the same figures
    assert {q: summary.snapshots[q].state for q in KEPT} == {q: QuarterState.CLOSED_FIGURES_UNCHANGED for q in KEPT}
    after = marts(warehouse, KEPT)
    assert all(same_rows(after[t], marts_of(before, KEPT)[t]) for t in KPI_MARTS)
    assert rows(warehouse, "SELECT * FROM marts.kpi_snapshots ORDER BY ALL") == before["snapshots"]


def marts_of(before: dict, quarters: list[str]) -> dict[str, list[tuple]]:
    return {t: [r for r in rows_ if r[0] in quarters] for t, rows_ in before["marts"].items()}


def test_the_roi_keeps_the_estimated_benefits_of_purged_months(purged):
    warehouse, _, before, *_ = purged
    after = rows(warehouse, "SELECT m, estimated_benefits, cum_estimated_benefits, cum_benefits, cum_costs "
                            "FROM marts.roi_monthly ORDER BY m")
    assert len(after) == len(before["roi"]) == 21
    for old, new in zip(before["roi"], after):
        assert new[0] == old[0] and new[1:] == pytest.approx(old[1:], rel=1e-12, abs=1e-9)
    assert rows(warehouse, "SELECT count(*), min(month), max(month) FROM intermediate.purged_usage_monthly") \
        [0][1:] == (dt.date(2024, 10, 1), dt.date(2025, 9, 1))


def test_the_report_of_a_purged_quarter_renders_identically(purged):
    warehouse, root, before, *_ = purged
    assert report(warehouse, "2025-Q2", root / "after") == before["report"]


def test_frozen_quarters_stay_frozen_whatever_changes(purged):
    """A config change would rebuild every quarter; a frozen one never is."""
    from kpi.config import load_config
    from kpi.freshness import up_to_date

    warehouse, *_ = purged
    cfg = load_config(DEMO_DIR / "config.yaml")
    changed = cfg.model_copy(update={"privacy": cfg.privacy.model_copy(update={"min_group_size": 7})})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert up_to_date(con, cfg, PURGED + KEPT) == set(PURGED + KEPT)
        assert up_to_date(con, changed, PURGED + KEPT) == set(PURGED)


def test_a_later_purge_takes_the_kept_wave_and_late_rows(purged, tmp_path):
    warehouse, *_ = purged
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    result = kpi("purge", "--warehouse", copy, "--retention-months", "12", "--as-of", "2027-01-20")
    assert result.returncode == 0, result.stderr
    assert "Purged and frozen: 2025-Q4\n" in result.stdout
    assert "Purged before: 2024-Q4, 2025-Q1, 2025-Q2, 2025-Q3" in result.stdout
    waves = rows(copy, "SELECT DISTINCT CAST(date_trunc('quarter', submitted_at) AS DATE) FROM "
                       "staging.survey_responses ORDER BY 1")
    assert waves[0] == (dt.date(2025, 10, 1),)  # 2025-Q3 went with 2025-Q4, whose wave 2026-Q1 compares against


def test_purge_keeps_a_quarter_without_snapshot_and_reads_the_config(demo_warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM marts.kpi_snapshots WHERE quarter = '2025-Q1'")
        usage = con.sql("SELECT count(*) FROM staging.usage_activity").fetchall()[0][0]
    config = tmp_path / "config.yaml"
    config.write_text((DEMO_DIR / "config.yaml").read_text())
    result = kpi("purge", "--warehouse", copy, "--config", config, "--as-of", "2025-10-15")
    assert result.returncode == 0, result.stderr
    assert "privacy.retention_months is not set: everything is kept, nothing purged" in result.stdout
    assert rows(copy, "SELECT count(*) FROM staging.usage_activity") == [(usage,)]
    config.write_text(
        config.read_text().replace("  min_group_size: 5\n", "  min_group_size: 5\n  retention_months: 6\n")
    )
    result = kpi("purge", "--warehouse", copy, "--config", config, "--as-of", "2025-10-15")
    assert result.returncode == 0, result.stderr
    assert "quarters that ended before 2025-04-15 are purged" in result.stdout
    assert "Purged and frozen: 2024-Q4\n" in result.stdout
    assert "Kept 2025-Q1: no snapshot yet (run kpi run first)" in result.stdout
    assert rows(copy, "SELECT min(day) FROM staging.usage_activity") == [(dt.date(2025, 1, 1),)]


def test_purge_errors_are_one_line(demo_warehouse, tmp_path):
    for args, fragment in [((), "--retention-months"), (("--retention-months", "0"), "--retention-months"),
                           (("--retention-months", "12", "--as-of", "15.10.2026"), "--as-of 15.10.2026: not a date")]:
        result = kpi("purge", "--warehouse", demo_warehouse, *args)
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr, result.stderr
    result = kpi("purge", "--warehouse", tmp_path / "none.duckdb", "--retention-months", "12")
    assert result.returncode == 2 and "warehouse not found" in result.stderr
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    with duckdb.connect(str(copy)):  # a writer holds it, as a running kpi run does
        for args in (("purge", "--retention-months", "12"), ("forget", "--employee", "E00001")):
            result = kpi(args[0], "--warehouse", copy, *args[1:])
            lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert result.returncode == 2 and len(lines) == 1 and "is in use by a running kpi run" in lines[0], \
                result.stderr


# --------------------------------------------------------------------------------------------
# kpi forget
# --------------------------------------------------------------------------------------------

def person(employee_id: str) -> tuple[dict, set[str]]:
    """The person's HR row and every pseudonym of theirs (employee id, e-mail, GitHub login)."""
    hr = pl.read_csv(DEMO_DIR / "hr" / "employees.csv", infer_schema=False)
    row = hr.filter(pl.col("employee_id") == employee_id).row(0, named=True)
    key = DEVELOPMENT_KEY.encode()
    return row, {pseudonymise(row[c], key) for c in ("employee_id", "email", "github_login") if row[c]}


def occurrences(warehouse: Path, values: set[str]) -> dict[str, int]:
    """Rows holding one of the values in any text column of any table."""
    found: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table, column in con.sql(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE data_type LIKE 'VARCHAR%'").fetchall():
            n = con.sql(f'SELECT count(*) FROM {schema}.{table} WHERE list_contains($v, "{column}")',
                        params={"v": sorted(values)}).fetchall()[0][0]
            if n:
                found[f"{schema}.{table}.{column}"] = n
    return found


def person_rows(warehouse: Path, keys: set[str]) -> int:
    """Rows of the person-level tables with one of the keys in any text column."""
    total = 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for spec in load().tables.values():
            text = [c.name for c in spec.columns if c.base_type == "VARCHAR"]
            if spec.person_level and text:
                where = " OR ".join(f'list_contains($v, "{c}")' for c in text)
                total += con.sql(f"SELECT count(*) FROM {spec.name} WHERE {where}",
                                 params={"v": sorted(keys)}).fetchall()[0][0]
    return total


@pytest.fixture(scope="module")
def forgotten(demo_warehouse, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("forget") / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:  # an employee with usage and a GitHub login
        employee_key = con.sql("SELECT e.employee_key FROM staging.employees e JOIN staging.employee_identities i "
                               "USING (employee_key) WHERE i.kind = 'github_login' AND EXISTS (SELECT 1 FROM "
                               "intermediate.usage_activity u WHERE u.employee_key = e.employee_key) AND EXISTS "
                               "(SELECT 1 FROM staging.assessments a WHERE a.employee_key = e.employee_key) "
                               "ORDER BY 1 LIMIT 1").fetchall()[0][0]
    hr = pl.read_csv(DEMO_DIR / "hr" / "employees.csv", infer_schema=False)
    employee_id = next(i for i in hr["employee_id"] if pseudonymise(i, DEVELOPMENT_KEY.encode()) == employee_key)
    row, keys = person(employee_id)
    before = {"marts": marts(warehouse, PURGED + KEPT),
              "snapshots": rows(warehouse, "SELECT * FROM marts.kpi_snapshots ORDER BY ALL"),
              "found": occurrences(warehouse, keys), "rows": person_rows(warehouse, keys)}
    result = kpi("forget", "--warehouse", warehouse, "--employee", f" {employee_id.lower()} ")
    assert result.returncode == 0, result.stderr
    after = {"marts": marts(warehouse, PURGED + KEPT),
             "snapshots": rows(warehouse, "SELECT * FROM marts.kpi_snapshots ORDER BY ALL"),
             "found": occurrences(warehouse, keys)}
    summary = run_again(warehouse)
    return warehouse, row, keys, before, after, result.stdout, summary


def test_forget_removes_the_person_from_every_table(forgotten):
    warehouse, row, keys, before, after, stdout, _ = forgotten
    assert len(keys) == 3
    assert {"staging.employees.employee_key", "staging.employee_identities.identity_key",
            "staging.trainings.employee_key", "staging.assessments.employee_key",
            "staging.usage_activity.user_key", "intermediate.usage_activity.employee_key"} <= set(before["found"])
    assert after["found"] == {}
    assert stdout.startswith(f"Erased {before['rows']:,} rows (")
    assert row["email"] not in stdout and row["employee_id"] not in stdout


def test_forget_records_the_day_only(forgotten):
    warehouse, *_ = forgotten
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relation = con.sql("SELECT * FROM audit.erasures")
        assert relation.columns == ["erased_on"] and relation.types == ["DATE"]
        assert len(relation.fetchall()) == 1


def test_forget_changes_no_closed_quarter_now_or_after_a_new_run(forgotten):
    warehouse, _, keys, before, after, stdout, summary = forgotten
    assert after["marts"] == before["marts"] and after["snapshots"] == before["snapshots"]
    assert rows(warehouse, "SELECT quarter, reason FROM audit.frozen_quarters ORDER BY 1") \
        == [(q, "erasure") for q in PURGED + KEPT]
    assert f"Closed quarters keep their published figures (frozen): {', '.join(PURGED + KEPT)}" in stdout
    assert {s.state for s in summary.snapshots.values()} == {QuarterState.CLOSED_NOT_REBUILT}
    assert marts(warehouse, PURGED + KEPT) == before["marts"]
    assert rows(warehouse, "SELECT * FROM marts.kpi_snapshots ORDER BY ALL") == before["snapshots"]
    assert occurrences(warehouse, keys) == {}  # the unchanged HR file is not read again


def test_forget_an_unknown_person_is_one_line_and_changes_nothing(demo_warehouse, tmp_path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    result = kpi("forget", "--warehouse", copy, "--employee", "NOBODY-42")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING: KPI_PSEUDONYM_KEY")]
    assert len(lines) == 1 and "no rows of 'NOBODY-42' in this warehouse" in lines[0]
    assert rows(copy, "SELECT count(*) FROM audit.erasures") == [(0,)]
    assert rows(copy, "SELECT count(*) FROM audit.frozen_quarters") == [(0,)]
