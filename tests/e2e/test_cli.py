"""The `kpi` command line as a user runs it: exit codes and one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest.tiny import write_tiny_inputs

KPI = str(Path(sys.executable).parent / "kpi")


def kpi(*args, env=None, cwd=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("KPI_PSEUDONYM_KEY", "KPI_ALLOW_DEVELOPMENT_KEY")}
    environment.update(env or {})
    return subprocess.run([KPI, *map(str, args)], capture_output=True, text=True, env=environment, cwd=cwd,
                          timeout=300)


@pytest.fixture()
def inputs(tmp_path):
    return write_tiny_inputs(tmp_path / "inputs")


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # progress lines may precede it; the error itself is one line
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_validate_prints_per_file_counts_and_writes_nothing(inputs, tmp_path):
    result = kpi("validate", "--inputs", inputs, "--config", inputs / "config.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "hr/employees.csv" in out and "usage/gateway.csv" in out
    assert "quarantined by reason: after_exit 1, before_hire 1, duplicate 4, invalid_date 3, " \
           "out_of_range 4, unknown_user 2, unmapped_label 1" in " ".join(out.split())
    assert not list(tmp_path.rglob("*.duckdb"))


def test_run_without_pseudonym_key_says_which_variable_to_set(inputs, tmp_path):
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", tmp_path / "w.duckdb")
    assert_one_line_error(result, "KPI_PSEUDONYM_KEY is not set")
    assert not (tmp_path / "w.duckdb").exists()


def test_run_with_missing_required_file(inputs, tmp_path):
    (inputs / "finance" / "costs.csv").unlink()
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse",
                 tmp_path / "w.duckdb", env={"KPI_PSEUDONYM_KEY": "x" * 32})
    assert_one_line_error(result, "finance/costs.csv: required file is missing", "save it as finance/costs.csv")


def test_run_with_a_bad_config_value(inputs, tmp_path):
    config = inputs / "config.yaml"
    config.write_text(config.read_text() + "benefits:\n  attribution: 1.7\n")
    result = kpi("run", "--inputs", inputs, "--config", config, "--warehouse", tmp_path / "w.duckdb",
                 env={"KPI_PSEUDONYM_KEY": "x" * 32})
    assert_one_line_error(result, "benefits.attribution = 1.7 is not allowed")


def test_run_with_a_bad_column_inside_the_dagster_run(inputs, tmp_path):
    # The error is raised inside a Dagster asset and must still reach the user as one line.
    (inputs / "hr" / "trainings.csv").write_text("employee_id,course_id\nE001,X\n")
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse",
                 tmp_path / "w.duckdb", env={"KPI_PSEUDONYM_KEY": "x" * 32})
    assert_one_line_error(result, "hr/trainings.csv: required column", "columns.trainings")


def test_run_one_quarter_and_an_unknown_quarter(inputs, tmp_path):
    env = {"KPI_PSEUDONYM_KEY": "x" * 32}
    warehouse = tmp_path / "w.duckdb"
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--quarter", "2025-Q1", "--no-report", env=env)
    assert result.returncode == 0, result.stderr
    assert "Quarters built: 2025-Q1" in result.stdout
    assert "Quarters closed: 2025-Q1" in result.stdout  # usage reaches 2025-04-01
    assert "Report:" not in result.stdout and not (tmp_path / "reports").exists()
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--quarter", "2025-Q1", "--language", "de", env=env)  # not rebuilt; the report is written, in German
    assert result.returncode == 0, result.stderr
    assert "Quarters built: none" in result.stdout
    assert "Quarters unchanged since the last run (not rebuilt): 2025-Q1" in result.stdout
    assert "Report: " in result.stdout and (tmp_path / "reports" / "report-2025-Q1.html").is_file()
    page = (tmp_path / "reports" / "report-2025-Q1.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in page and ">Wo wir stehen</a>" in page
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--language", "fr", env=env)
    assert_one_line_error(result, "--language fr: not available; use one of en, nl, de")
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--quarter", "2023-Q1", env=env)
    assert_one_line_error(result, "--quarter 2023-Q1: no data for this quarter", "2025-Q1")
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--quarter", "2025Q1", env=env)
    assert_one_line_error(result, "--quarter 2025Q1: not a quarter label")


def test_generate_writes_every_input(tmp_path):
    result = kpi("generate", "--employees", 40, "--months", 3, "--seed", 5, "--out", tmp_path / "company")
    assert result.returncode == 0, result.stderr
    for rel in ("config.yaml", "hr/employees.csv", "hr/trainings.csv", "finance/costs.csv", "ground_truth.json"):
        assert (tmp_path / "company" / rel).is_file()
    assert list((tmp_path / "company" / "usage").rglob("*.ndjson"))


def test_concealed_m365_names_are_explained(inputs, tmp_path):
    header = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
              "Copilot Chat Last Activity Date,Microsoft Teams Copilot Last Activity Date,"
              "Word Copilot Last Activity Date,Excel Copilot Last Activity Date,"
              "PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,"
              "OneNote Copilot Last Activity Date,Loop Copilot Last Activity Date,Report Period")
    row = "2025-03-09,5F3A9C0B1D2E4F60718293A4B5C6D7E8,3C1B,2025-03-05,2025-03-05,,,,,,,,7"
    (inputs / "usage" / "m365.csv").write_text(header + "\n" + row + "\n")
    result = kpi("validate", "--inputs", inputs, "--config", inputs / "config.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "concealed_identity 1" in text
    assert "Display concealed user, group, and site names in all reports" in text


def test_run_with_another_pseudonym_key_on_an_existing_warehouse(inputs, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    args = ("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse, "--no-report")
    assert kpi(*args, env={"KPI_PSEUDONYM_KEY": "a" * 32}).returncode == 0
    result = kpi(*args, env={"KPI_PSEUDONYM_KEY": "b" * 32})
    assert_one_line_error(result, "another pseudonym key than the one in KPI_PSEUDONYM_KEY",
                          "write to a new warehouse file")
