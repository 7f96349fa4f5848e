"""Benchmark: how fast `kpi roi` answers a what-if question.

    .venv/bin/python bench/roi_cli.py [WAREHOUSE] [--runs N]

WAREHOUSE defaults to out/demo/warehouse.duckdb (`make demo` writes it). Prints:

- subprocess: wall time of `kpi roi --format json --attribution 0.3 --confidence 0.9
  --hourly-cost-scale 1.1 --cost-scale 0.95`, as a user would run it (interpreter start, imports,
  read-only open of the warehouse, recomputation, JSON), median and min of N runs (default 5);
- in-process: the same command called through the CLI entry point inside one Python process
  (imports already done), median of N calls: the cost of reading and recomputing alone.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--format", "json", "--attribution", "0.3", "--confidence", "0.9", "--hourly-cost-scale", "1.1",
         "--cost-scale", "0.95"]


def subprocess_times(kpi: Path, warehouse: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([str(kpi), "roi", "--warehouse", str(warehouse), *FLAGS], capture_output=True,
                                text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"kpi roi failed: {result.stderr.strip()}")
    return times


def in_process_times(warehouse: Path, runs: int) -> tuple[float, list[float], list[str]]:
    start = time.perf_counter()
    from kpi.cli import main

    import_time = time.perf_counter() - start
    times = []
    argv = sys.argv
    for _ in range(runs + 1):  # the first call also imports duckdb and kpi.roi: not counted
        sys.argv = ["kpi", "roi", "--warehouse", str(warehouse), *FLAGS]
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            try:
                main()
            except SystemExit as exc:
                if exc.code:
                    sys.exit(f"kpi roi failed with status {exc.code}")
        times.append(time.perf_counter() - start)
    sys.argv = argv
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"dagster", "great_expectations", "pandas", "altair"})
    return import_time, times[1:], heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", nargs="?", default=str(REPO / "out" / "demo" / "warehouse.duckdb"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warehouse = Path(args.warehouse)
    if not warehouse.is_file():
        sys.exit(f"{warehouse}: warehouse not found; run `make demo` (or kpi run) first")
    kpi = Path(sys.executable).parent / "kpi"
    sub = subprocess_times(kpi, warehouse, args.runs)
    import_time, calls, heavy = in_process_times(warehouse, args.runs)
    print(f"kpi roi {' '.join(FLAGS)}")
    print(f"warehouse: {warehouse}")
    print(f"subprocess (what a user waits for), {args.runs} runs: median {statistics.median(sub) * 1000:.0f} ms, "
          f"min {min(sub) * 1000:.0f} ms")
    print(f"in-process call (imports done), {args.runs} calls: median {statistics.median(calls) * 1000:.1f} ms, "
          f"min {min(calls) * 1000:.1f} ms")
    print(f"import of kpi.cli: {import_time * 1000:.0f} ms")
    print(f"heavy modules imported: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
