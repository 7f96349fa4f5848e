"""Issue 19 through the `kpi` console script: an unusable required input stops `kpi run` (exit 2, one
line, nothing built) and `kpi validate` reports it the same way; other problems are warning lines;
links out of the inputs folder are refused; a development-key warehouse refuses another key."""

from __future__ import annotations

import duckdb
import pytest

from kpi.ingest.checks import CONCEALED_IDENTITY_HINT
from tests.e2e.test_cli import assert_one_line_error, kpi
from tests.ingest.test_input_safety import COSTS_LINE, EMPLOYEES_LINE, M365_HEADER, append, swap_header
from tests.ingest.tiny import write_tiny_inputs

KEY = {"KPI_PSEUDONYM_KEY": "x" * 32}


@pytest.fixture()
def inputs(tmp_path):
    return write_tiny_inputs(tmp_path / "inputs")


def built_rows(warehouse) -> dict[str, int]:
    """Rows of every table the KPI, snapshot and ROI steps write (schema marts)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.sql("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'marts'").fetchall()]
        return {t: con.sql(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0] for t in tables}


@pytest.mark.parametrize("rel, a, b, line", [
    ("finance/costs.csv", "booked_on", "amount_eur", COSTS_LINE),
    ("hr/employees.csv", "email", "hire_date", EMPLOYEES_LINE),
])
def test_swapped_columns_in_a_required_file_stop_run_and_validate(inputs, tmp_path, rel, a, b, line):
    swap_header(inputs / rel, a, b)
    warehouse = tmp_path / "w.duckdb"
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse, env=KEY)
    assert_one_line_error(result, line)
    assert f"error: {line}" in result.stderr.splitlines()
    assert "Stack Trace" not in result.stderr
    assert not any(built_rows(warehouse).values())  # no mart, no snapshot

    result = kpi("validate", "--inputs", inputs, "--config", inputs / "config.yaml", cwd=tmp_path)
    assert_one_line_error(result, line)
    assert f"error: {line}" in result.stderr.splitlines()
    assert rel in result.stdout  # the per-file table is printed before


def test_warnings_in_run_and_validate_and_a_development_key_warehouse(inputs, tmp_path):
    # concealed Microsoft 365 names, every user inactive; a swapped optional file; absurd dates
    report = "usage/m365/copilot-2025-03-09.csv"
    append(inputs / report, M365_HEADER, "2025-03-09,5F3A9C0B1D2E4F60718293A4B5C6D7E8,5F3A,,,,,7",
           "2025-03-09,0123456789abcdef0123456789ABCDEF,0123,,,,,7")
    swap_header(inputs / "business" / "process_metrics.csv", "month", "process")
    append(inputs / "hr" / "assessments.csv", "E002,0001-01-01,ai_literacy,50,100")
    append(inputs / "hr" / "trainings.csv", "E003,X-1,elearning,0001-01-01,,enrolled,1")
    concealed = (f"warning: {report}: the user names of this report are concealed (2 of 2 rows): "
                 f"{CONCEALED_IDENTITY_HINT}")
    swapped = ("warning: business/process_metrics.csv: every month is invalid (3 of 3 rows quarantined as "
               "invalid_date): are the columns swapped? see columns.process_metrics in the config")

    result = kpi("validate", "--inputs", inputs, "--config", inputs / "config.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert concealed in lines and swapped in lines
    assert "Display concealed user, group, and site names in all reports" in concealed

    warehouse = tmp_path / "demo.duckdb"
    args = ("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse, "--no-report")
    result = kpi(*args, env={"KPI_ALLOW_DEVELOPMENT_KEY": "1"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert concealed in lines and swapped in lines
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT file, warning FROM audit.input_warnings ORDER BY file").fetchall() == [
            ("business/process_metrics.csv", "column_invalid"),
            ("hr/assessments.csv", "quarantined_share"),  # 2 of 3 rows: the 0001-01-01 and a score above max
            (report, "concealed_identity")]
        assert con.sql("SELECT flag FROM audit.warehouse_flags").fetchall() == [("development_key",)]
        assert con.sql("SELECT count(*) FROM audit.quarantine WHERE value = '0001-01-01' "
                       "AND reason = 'out_of_range'").fetchall() == [(2,)]
        quarters = [q for (q,) in con.sql("SELECT DISTINCT quarter FROM marts.kpi_snapshots ORDER BY 1").fetchall()]
        assert quarters == ["2025-Q1"]  # no year-1 quarter; 2024-Q4 had only the process data now quarantined

    result = kpi(*args, env=KEY)  # real inputs must not go into it
    assert_one_line_error(result, "this warehouse was built with the public development key (demonstration only)")


def test_a_link_to_a_system_file_is_refused_without_showing_it(inputs, tmp_path):
    (inputs / "usage" / "x.csv").symlink_to("/etc/passwd")
    line = ("usage/x.csv: is a link that points outside the inputs folder; copy the file into the inputs folder "
            "instead of linking to it (inputs are only read inside the folder)")
    for result in (kpi("validate", "--inputs", inputs, "--config", inputs / "config.yaml", cwd=tmp_path),
                   kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse",
                       tmp_path / "w.duckdb", env=KEY)):
        assert_one_line_error(result, line)
        assert "/etc" not in result.stdout + result.stderr
        assert "root:" not in result.stdout + result.stderr


def test_validate_says_why_a_copy_reads_no_row(inputs, tmp_path):
    (inputs / "usage" / "gateway").mkdir()
    (inputs / "usage" / "gateway" / "gateway-2024-10.csv").write_bytes((inputs / "usage" / "gateway.csv").read_bytes())
    (inputs / "usage" / "gateway.csv").rename(inputs / "usage" / "resent.csv")
    result = kpi("validate", "--inputs", inputs, "--config", inputs / "config.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = " ".join(result.stdout.replace("│", " ").split())  # a wrapped cell continues on the next line
    assert "usage/resent.csv 0 0 0 same content as usage/gateway/gateway-2024-10.csv: counted once" in table
