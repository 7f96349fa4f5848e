"""When an input or the machine goes wrong, `kpi` ends with one line and exit status 2, never a
traceback (docs/architecture.md, "Failures and locks"). Every hostile file is generated here, at
test time, into a copy of the tiny inputs."""

from __future__ import annotations

import gzip
import os
import subprocess
from contextlib import contextmanager, nullcontext

import pytest

from tests.e2e.test_cli import kpi
from tests.ingest.tiny import EMPLOYEES, SURVEY, USAGE, write_tiny_inputs

KEY = {"KPI_PSEUDONYM_KEY": "x" * 32}


def _gzipped(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


#: name -> (relative path, content: bytes, or a str = target of a symlink)
HOSTILE: dict[str, tuple[str, bytes | str]] = {
    "empty": ("usage/empty.csv", b""),
    "whitespace only": ("usage/blank.csv", b"  \n\t\n   \n"),
    "gzip-compressed csv": ("usage/export.csv", _gzipped(USAGE)),
    "gzip-compressed json lines": ("usage/export.ndjson", _gzipped('{"user": "E001"}\n')),
    "binary": ("usage/tool.csv", bytes(range(256)) * 8),
    "NUL bytes": ("usage/nul.csv", USAGE.replace("chat-gateway", "chat\x00gateway").encode()),
    "UTF-16 without BOM": ("usage/utf16.csv", USAGE.encode("utf-16-le")),
    "UTF-32": ("usage/utf32.csv", USAGE.encode("utf-32")),
    "JSON lines that are not JSON": ("usage/events.ndjson", b"this is not json\nneither is this\n"),
    "duplicated column": ("hr/employees.csv", "".join(  # the e-mail column twice, in the header and every row
        ",".join(fields[:2] + fields[1:]) + "\n" for fields in (line.split(",") for line in EMPLOYEES.splitlines())
    ).encode()),
    "survey headers match no item": (
        "surveys/pulse-2025-Q2.csv",
        b"response_id,submitted_at,department,target_group,How are you,Anything else\n"
        b"r1,2025-05-20T10:00:00,Sales,user,Agree,no\n"),
    "symlink to a system file": ("usage/passwd.csv", "/etc/passwd"),
}


def _place(root, rel: str, content: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.symlink_to(content)
    else:
        path.write_bytes(content)


def assert_one_line(result, *fragments: str) -> str:
    """Exit 2, exactly one `error:` line, no traceback anywhere; returns the line."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "Stack Trace" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_ends_in_one_line(case, tmp_path):
    inputs = write_tiny_inputs(tmp_path / "inputs")
    rel, content = HOSTILE[case]
    _place(inputs, rel, content)
    warehouse = tmp_path / "out" / "w.duckdb"
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--no-report", env=KEY)
    line = assert_one_line(result)
    assert "root:" not in result.stdout + result.stderr  # nothing of /etc/passwd is shown
    if case == "symlink to a system file":  # refused before the run starts (kpi/ingest/files.py)
        return
    assert rel in line, line
    # the full trace is kept beside the warehouse, and the user is told where
    log = tmp_path / "out" / "kpi-errors.log"
    assert log.is_file(), result.stderr
    text = log.read_text()
    assert line in text and "Traceback" in text and rel in text
    assert f"(the full error is in {log})" in result.stderr.splitlines()


def test_survey_and_gateway_alone_are_fine(tmp_path):
    """The hostile cases above are hostile because of the file added, not the copy of the inputs."""
    inputs = write_tiny_inputs(tmp_path / "inputs")
    assert SURVEY and (inputs / "surveys" / "pulse-2025-Q1.csv").is_file()
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse",
                 tmp_path / "w.duckdb", "--no-report", env=KEY)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "kpi-errors.log").exists()



# --------------------------------------------------------------------------------------------
# The warehouse and the disk
# --------------------------------------------------------------------------------------------

COMPARED = ("marts.kpi_usage", "marts.kpi_competence", "marts.kpi_business", "marts.kpi_culture",
            "marts.roi_monthly", "marts.roi_quarterly", "marts.roi_sensitivity", "marts.budget_plan_vs_actual")
LATEST_SNAPSHOT = ("SELECT quarter, kpi_table, segment_type, segment, construct, process, department, metric, value "
                   "FROM marts.kpi_snapshots s WHERE version = (SELECT max(version) FROM marts.kpi_snapshots "
                   "WHERE quarter = s.quarter) ORDER BY ALL")


def _same_digits(value):
    """Floats to 10 significant digits: DuckDB sums in parallel, so the last bits of a sum vary."""
    return float(f"{value:.10g}") if isinstance(value, float) else value


def warehouse_content(warehouse) -> dict[str, list[tuple]]:
    """The marts, the ROI tables and the latest snapshot figures: what a run's result is."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in COMPARED}
        tables["latest snapshots"] = con.sql(LATEST_SNAPSHOT).fetchall()
    return {t: [tuple(map(_same_digits, row)) for row in rows] for t, rows in tables.items()}


@pytest.fixture()
def inputs(tmp_path):
    return write_tiny_inputs(tmp_path / "inputs")


def _run(inputs, warehouse, *extra):
    return kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse, *extra,
               env=KEY)


def _readers(warehouse, tmp_path):
    return [kpi("report", "--warehouse", warehouse, "--quarter", "2025-Q1", "--out", tmp_path / "reports"),
            kpi("roi", "--warehouse", warehouse)]


def test_a_warehouse_that_is_a_text_file(inputs, tmp_path):
    warehouse = tmp_path / "notes.txt"
    warehouse.write_text("my notes\n")
    for result in [_run(inputs, warehouse, "--no-report"), *_readers(warehouse, tmp_path)]:
        assert_one_line(result, f"{warehouse}: not a DuckDB warehouse", "pass the .duckdb file written by kpi run")
    assert warehouse.read_text() == "my notes\n"  # left as it was


def test_a_warehouse_that_is_a_folder(inputs, tmp_path):
    warehouse = tmp_path / "folder.duckdb"
    warehouse.mkdir()
    for result in [_run(inputs, warehouse, "--no-report"), *_readers(warehouse, tmp_path)]:
        assert_one_line(result, f"{warehouse}: is a folder")
    assert list(warehouse.iterdir()) == []


@contextmanager
def _tmpfs(folder, options: str):
    """A small tmpfs mounted on `folder` for the test (root only; skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_folder(inputs, tmp_path):
    folder = tmp_path / "readonly"
    if os.geteuid() == 0:  # root writes through file permissions: a read-only file system then
        context = _tmpfs(folder, "ro,size=1m")
    else:
        folder.mkdir()
        folder.chmod(0o555)
        context = nullcontext(folder)
    with context:
        warehouse = folder / "w.duckdb"
        line = assert_one_line(_run(inputs, warehouse, "--no-report"), str(warehouse),
                               "choose a folder you can write to")
        assert "Read-only file system" in line or "Permission denied" in line
        assert not warehouse.exists()


def test_a_full_disk_then_a_run_with_space_equals_a_clean_run(inputs, tmp_path):
    clean = tmp_path / "clean" / "w.duckdb"
    assert _run(inputs, clean, "--no-report").returncode == 0  # the warehouses are compared, not reports
    with _tmpfs(tmp_path / "small", "size=2m") as folder:
        warehouse = folder / "w.duckdb"
        assert_one_line(_run(inputs, warehouse), str(warehouse), "No space left on device", "free some space")
        subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True)  # space freed
        again = _run(inputs, warehouse, "--no-report")
        assert again.returncode == 0, again.stderr
        assert warehouse_content(warehouse) == warehouse_content(clean)


def _fill(folder) -> None:
    """Write a filler file until the file system is full."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == 28
    finally:
        os.close(fd)


def test_an_export_on_a_full_disk_leaves_the_previous_file(inputs, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert _run(inputs, warehouse, "--no-report").returncode == 0
    with _tmpfs(tmp_path / "small", "size=256k") as folder:
        for name in ("roi.xlsx", "roi.csv"):
            (folder / name).write_bytes(b"the export of last quarter")
        _fill(folder)
        for name in ("roi.xlsx", "roi.csv"):
            result = kpi("roi", "--warehouse", warehouse, "--export", folder / name)
            assert_one_line(result, f"--export {folder / name}: cannot write (No space left on device)")
            assert (folder / name).read_bytes() == b"the export of last quarter"
        assert sorted(p.name for p in folder.iterdir()) == ["filler", "roi.csv", "roi.xlsx"]
        (folder / "filler").unlink()
        assert kpi("roi", "--warehouse", warehouse, "--export", folder / "roi.csv").returncode == 0
        assert (folder / "roi.csv").read_text().startswith("month,")


def test_a_programming_error_shows_its_traceback_marked_as_a_bug(tmp_path, monkeypatch, capsys):
    import sys

    import duckdb

    import kpi.roi_marts
    from kpi.cli import main

    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()

    def broken(con):
        return 1 / 0

    monkeypatch.setattr(kpi.roi_marts, "missing_roi_tables", broken)
    monkeypatch.setattr(sys, "argv", ["kpi", "roi", "--warehouse", str(warehouse)])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 1
    err = capsys.readouterr().err
    log = tmp_path / "kpi-errors.log"
    assert "Traceback" in err and "ZeroDivisionError" in err
    assert err.splitlines()[-1] == f"error: this is a bug in kpi: please report it with {log}"
    assert "ZeroDivisionError: division by zero" in log.read_text()


def test_demo_into_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    assert_one_line(kpi("demo", "--out", blocker), str(blocker))


def test_a_report_on_a_full_disk_leaves_the_previous_file(inputs, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert _run(inputs, warehouse, "--no-report").returncode == 0
    with _tmpfs(tmp_path / "small", "size=8m") as folder:  # room for the page and its charts
        page = folder / "report-2025-Q1.html"
        page.write_bytes(b"the report as mailed last quarter")
        _fill(folder)
        result = kpi("report", "--warehouse", warehouse, "--quarter", "2025-Q1", "--out", folder)
        assert_one_line(result, "No space left on device")
        assert page.read_bytes() == b"the report as mailed last quarter"  # never truncated
        assert sorted(p.name for p in folder.iterdir() if p.name != "charts") == ["filler", "report-2025-Q1.html"]
        (folder / "filler").unlink()
        assert kpi("report", "--warehouse", warehouse, "--quarter", "2025-Q1", "--out", folder).returncode == 0
        assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
