"""`kpi run` holds the warehouse from its first write to its last: readers (`kpi report`, `kpi roi`)
started meanwhile get one line naming the file and never break the run; a second `kpi run` gets one
line naming the file; a run that finds a reader holding the file waits for it, saying so.

The run is paused with SIGSTOP at a known step (read off its progress lines) so that the overlap is
certain, not a matter of timing."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import duckdb
import pytest

from tests.e2e.test_cli import KPI, kpi
from tests.e2e.test_failures import assert_one_line
from tests.e2e.test_failures import warehouse_content as _content
from tests.ingest.tiny import write_tiny_inputs

KEY = {"KPI_PSEUDONYM_KEY": "x" * 32}
BOUND = 300  # seconds: a bounded wait for a line or an exit, never an assertion on time


class Run:
    """`kpi run` as a subprocess whose progress lines (stderr) are read as they come."""

    def __init__(self, inputs: Path, warehouse: Path, *extra):
        env = {k: v for k, v in os.environ.items() if k not in ("KPI_PSEUDONYM_KEY", "KPI_ALLOW_DEVELOPMENT_KEY")}
        env.update(KEY)
        self.process = subprocess.Popen(
            [KPI, "run", "--inputs", str(inputs), "--config", str(inputs / "config.yaml"), "--warehouse",
             str(warehouse), *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, fragment: str) -> None:
        """Block until a progress line holds `fragment` (fails if the run ends first)."""
        while True:
            line = self.lines.get(timeout=BOUND)
            assert line is not None, f"the run ended before {fragment!r}: {''.join(self.stderr)}"
            if fragment in line:
                return

    def finish(self) -> tuple[int, str, str]:
        out = self.process.stdout.read()
        code = self.process.wait(timeout=BOUND)
        while self.lines.get(timeout=BOUND) is not None:
            pass
        return code, out, "".join(self.stderr)


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """The tiny inputs, the same without the survey (an earlier state of the warehouse), and a
    warehouse built cleanly from all inputs to compare with."""
    root = tmp_path_factory.mktemp("lock")
    inputs = write_tiny_inputs(root / "inputs")
    earlier = root / "earlier"
    shutil.copytree(inputs, earlier)
    shutil.rmtree(earlier / "surveys")
    clean = root / "clean" / "w.duckdb"
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", clean, env=KEY)
    assert result.returncode == 0, result.stderr
    content = _content(clean)
    assert content["marts.kpi_culture"] and content["latest snapshots"]
    return {"inputs": inputs, "earlier": earlier, "clean": content}


def _earlier_warehouse(company, folder: Path) -> Path:
    warehouse = folder / "w.duckdb"
    result = kpi("run", "--inputs", company["earlier"], "--config", company["earlier"] / "config.yaml",
                 "--warehouse", warehouse, "--no-report", env=KEY)
    assert result.returncode == 0, result.stderr
    assert _content(warehouse) != company["clean"]  # the run below has something to rebuild
    return warehouse


def _assert_reader_ok_or_busy(result, warehouse: Path) -> bool:
    """A reader beside a run: its answer, or one line naming the file. True when it was turned away."""
    if result.returncode == 0:
        return False
    line = assert_one_line(result, str(warehouse))
    assert "in use" in line or "running pipeline" in line, line
    return True


def test_readers_beside_a_run_never_break_it(company, tmp_path):
    warehouse = _earlier_warehouse(company, tmp_path)
    reader_args = [("report", "--warehouse", warehouse, "--quarter", "2025-Q1", "--out", tmp_path / "reports"),
                   ("roi", "--warehouse", warehouse, "--format", "json")]
    run = Run(company["inputs"], warehouse)
    run.wait_for("2025-Q1: KPI marts")  # between two steps that write: where readers used to break in
    os.kill(run.process.pid, signal.SIGSTOP)
    try:
        for args in reader_args:
            result = kpi(*args)
            assert _assert_reader_ok_or_busy(result, warehouse), result.stdout  # held: turned away
            assert f"{warehouse} is in use by a running kpi run (process {run.process.pid})" in result.stderr
    finally:
        os.kill(run.process.pid, signal.SIGCONT)
    # readers in a loop until the run ends
    results = []
    while run.process.poll() is None:
        results.append(kpi(*reader_args[len(results) % 2]))
    code, out, err = run.finish()
    assert code == 0, out + err
    assert "Traceback" not in out + err
    for result in results:
        _assert_reader_ok_or_busy(result, warehouse)
    assert _content(warehouse) == company["clean"]
    # and after the run, readers read
    assert kpi(*reader_args[1]).returncode == 0


def test_a_second_run_gets_one_line_naming_the_file(company, tmp_path):
    warehouse = _earlier_warehouse(company, tmp_path)
    run = Run(company["inputs"], warehouse, "--no-report")
    run.wait_for("ingest:")
    os.kill(run.process.pid, signal.SIGSTOP)
    try:
        second = kpi("run", "--inputs", company["inputs"], "--config", company["inputs"] / "config.yaml",
                     "--warehouse", warehouse, env=KEY)
        assert_one_line(second, f"{warehouse} is in use by a running kpi run (process {run.process.pid})",
                        "try again when it ends")
    finally:
        os.kill(run.process.pid, signal.SIGCONT)
    code, out, err = run.finish()
    assert code == 0, out + err
    assert _content(warehouse) == company["clean"]


def test_a_run_waits_for_a_reader_holding_the_file(company, tmp_path):
    warehouse = _earlier_warehouse(company, tmp_path)
    reader = duckdb.connect(str(warehouse), read_only=True)  # a notebook left open
    try:
        run = Run(company["inputs"], warehouse, "--no-report")
        run.wait_for(f"waiting for {warehouse}: open read-only in another program")
    finally:
        reader.close()
    code, out, err = run.finish()
    assert code == 0, out + err
    assert "Traceback" not in out + err
    assert _content(warehouse) == company["clean"]


def test_readers_get_one_line_while_a_run_writes(company, tmp_path):
    """kpi roi / kpi report name the file and the running kpi run; the notebooks' helper does too."""
    from kpi.errors import UserError
    from kpi.warehouse import open_warehouse

    warehouse = _earlier_warehouse(company, tmp_path)
    run = Run(company["inputs"], warehouse, "--no-report")
    run.wait_for("ingest:")
    os.kill(run.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(UserError) as caught:
            open_warehouse(warehouse, read_only=True)
        assert str(caught.value) == (f"{warehouse} is in use by a running kpi run (process {run.process.pid}); "
                                     "try again when it ends")
    finally:
        os.kill(run.process.pid, signal.SIGCONT)
    code, out, err = run.finish()
    assert code == 0, out + err
