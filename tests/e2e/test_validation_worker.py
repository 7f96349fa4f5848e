"""The validation worker `kpi run` spawns (kpi.quality.validation_worker) ends with its parent, even
when the parent is killed with kill -9 and cannot stop it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.test_cli import KPI
from tests.ingest.tiny import write_tiny_inputs

BOUND = 10.0  # seconds to wait for the worker to go: a bounded wait, not a timing assertion


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; whoever adopted it reaps it when it likes


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_the_worker_ends_when_kpi_run_is_killed(tmp_path):
    inputs = write_tiny_inputs(tmp_path / "inputs")
    env = {k: v for k, v in os.environ.items() if k not in ("KPI_PSEUDONYM_KEY", "KPI_ALLOW_DEVELOPMENT_KEY")}
    env["KPI_PSEUDONYM_KEY"] = "x" * 32
    run = subprocess.Popen([KPI, "run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse",
                            tmp_path / "w.duckdb"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        workers: list[int] = []
        while not workers and run.poll() is None:  # the worker starts at once and lives as long as the run
            workers = [pid for pid in _children(run.pid) if "spawn_main" in _cmdline(pid)]
            time.sleep(0.02)
        assert workers, "kpi run ended before its validation worker was seen"
        helpers = _children(run.pid)  # the worker and multiprocessing's resource tracker
        os.kill(run.pid, signal.SIGKILL)
        assert run.wait(timeout=60) == -signal.SIGKILL
        deadline = time.monotonic() + BOUND
        while any(map(_alive, helpers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [f"{pid}: {_cmdline(pid)}" for pid in helpers if _alive(pid)]
        assert not left, f"still running after kpi run was killed: {left}"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for pid in _children(run.pid):
            os.kill(pid, signal.SIGKILL)
