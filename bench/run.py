"""Benchmarks of the whole pipeline against a floor and a plain-pandas baseline (`make bench`).

    .venv/bin/python bench/run.py [--sizes 1000,10000,50000] [--detail-sizes 1000,10000] [--runs 3]
                                  [--scale-runs 1] [--out docs/benchmarks.md]

(`make bench`; `make bench-large` adds 99,999 employees, the generator's largest company.) The
detail sizes get every measure below; the other sizes of the scale curve only `kpi run --no-report`
and the floors (`--merge` keeps the sizes of out/bench/results.json this run does not measure). A scale table per size
(time, peak memory, ratio to the floor over every usage file, seconds per million usage rows) and a
chart of time and memory against size (docs/benchmarks-scale.svg, Altair) are written too.

For each company size (employees x 24 months, generated once and cached under out/bench/, keyed
by its parameters) every command below runs as a fresh subprocess, `--runs` times; the figures
are medians. Wall time is measured around the subprocess; peak RSS is the larger of the kernel's
maximum RSS of the process (os.wait4, which covers waited-for descendants) and the sum of RSS over
the whole process tree sampled every 0.1 s.

1. `kpi run --no-report` end to end (ingest with GX validation, KPI marts per quarter, snapshots,
   ROI), on a new warehouse each time; `kpi report` of the latest closed quarter separately, and
   once `kpi run` with the report; then `kpi run` again on that warehouse with nothing new;
2. the floors, bench/floor_duckdb.py: one DuckDB query over every usage file (--all-formats, the
   floor the targets use), and one over the canonical usage files
   (usage/gateway/*.csv, *.jsonl) and hr/employees.csv -> active users and interactions per
   quarter and department;
3. bench/plain_pandas.py: the same figures in plain pandas;
4. an incremental quarter: a warehouse built from the inputs without the last quarter's files
   (usage files dated in it, that quarter's survey wave), then `kpi run` on the whole inputs
   --no-report (and, second variant, with `--quarter` of that quarter); only the second run is
   measured;
5. `kpi roi` with what-if overrides (JSON) on the warehouse of (1);
6. `kpi status` (where we stand) on the same warehouse.

Checks (a mismatch is printed loudly and makes the exit status 1): the floor and pandas agree
row for row; both agree with marts.kpi_usage's department rows (active_users, interactions) of a
warehouse built from the canonical usage files only (the vendor exports removed), and their
per-quarter interactions equal the sum of the canonical tools' rows (chat-gateway, claude) of
marts.kpi_usage in the full warehouse.

Writes docs/benchmarks.md (machine, versions, a table per size, ratios, the targets met or
missed); a "## Profile and fixes" section already in the file is kept as it is. Raw samples go
to out/bench/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_OUT = REPO / "out" / "bench"
BIN = Path(sys.executable).parent
KPI = BIN / "kpi"
MONTHS, SEED, START = 24, 7, "2024-10-01"  # START + 24 months ends before today: nothing in the future
CANONICAL_TOOLS = ("chat-gateway", "claude")  # the tools of the canonical files the floor reads
VENDOR_USAGE_DIRS = ("m365", "github", "chatgpt")
ROI_FLAGS = ["--format", "json", "--attribution", "0.3", "--confidence", "0.9", "--hourly-cost-scale", "1.1",
             "--cost-scale", "0.95"]
GIB = 1024 ** 3
PROFILE_HEADING = "## Profile and fixes"


# ----------------------------------------------------------------------------------------------
# measuring one subprocess


@dataclass
class Sample:
    wall_s: float
    peak_rss_bytes: int


@dataclass
class Measure:
    label: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def rss(self) -> int:
        return int(statistics.median(s.peak_rss_bytes for s in self.samples))

    def as_json(self) -> dict:
        return {"label": self.label, "note": self.note, "median_wall_s": self.wall, "median_peak_rss_bytes": self.rss,
                "samples": [s.__dict__ for s in self.samples]}


def _tree_pids(pid: int) -> list[int]:
    """pid and all its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _tree_rss(pid: int) -> int:
    """Summed resident set size of a process tree, in bytes (0 once it is gone)."""
    total = 0
    for p in _tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            pass
    return total


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(KPI_ALLOW_DEVELOPMENT_KEY="1", GX_ANALYTICS_ENABLED="false", DAGSTER_DISABLE_TELEMETRY="1",
               PYTHONDONTWRITEBYTECODE="1")
    for name in ("KPI_INPUTS", "KPI_CONFIG", "KPI_WAREHOUSE"):
        env.pop(name, None)
    return env


def measure_once(cmd: list[str], log: Path) -> Sample:
    """Run cmd as a fresh child; wall time and peak RSS of its process tree. Fails on a non-zero exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = [0]
    with open(log, "w") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=bench_env(), cwd=REPO)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
        raise SystemExit(f"FAILED ({proc.returncode}): {' '.join(map(str, cmd))}\n{tail}\nfull log: {log}")
    return Sample(wall_s=wall, peak_rss_bytes=max(usage.ru_maxrss * 1024, peak[0]))


def say(text: str) -> None:
    print(text, flush=True)


# ----------------------------------------------------------------------------------------------
# the companies


def company(employees: int) -> Path:
    """The generated inputs for this size, cached under out/bench/ by parameters."""
    path = BENCH_OUT / f"company-e{employees}-m{MONTHS}-s{SEED}-{START}"
    if not (path / ".complete").is_file():
        say(f"generating {employees} employees x {MONTHS} months into {path.relative_to(REPO)}")
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([str(KPI), "generate", "--employees", str(employees), "--months", str(MONTHS), "--seed",
                        str(SEED), "--start", START, "--out", str(path)], check=True, env=bench_env(),
                       stdout=subprocess.DEVNULL)
        (path / ".complete").write_text("")
    return path


def link_copy(src: Path, dst: Path, keep=lambda rel: True) -> None:
    """A copy of the inputs folder made of hard links (same bytes, no space), filtered by keep."""
    shutil.rmtree(dst, ignore_errors=True)
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir() or rel.name == ".complete" or not keep(rel):
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)


def canonical_only(inputs: Path) -> Path:
    """The inputs with the vendor usage exports removed: usage = the canonical files only."""
    dst = inputs.with_name(inputs.name + "-canonical")
    if not (dst / ".complete").is_file():
        link_copy(inputs, dst, keep=lambda rel: not (rel.parts[0] == "usage" and rel.parts[1] in VENDOR_USAGE_DIRS))
        (dst / ".complete").write_text("")
    return dst


_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
_WAVE_IN_NAME = re.compile(r"(\d{4})-Q([1-4])")


def file_quarter(rel: Path) -> str | None:
    """The quarter a usage file or survey wave is dated in (from its name), None for state files."""
    if rel.parts[0] == "surveys":
        m = _WAVE_IN_NAME.search(rel.name)
        return f"{m.group(1)}-Q{m.group(2)}" if m else None
    if rel.parts[0] == "usage":
        m = _DATE_IN_NAME.search(rel.name)
        return f"{m.group(1)}-Q{(int(m.group(2)) - 1) // 3 + 1}" if m else None
    return None


def last_quarter(inputs: Path) -> str:
    return max(q for p in inputs.rglob("*") if p.is_file() and (q := file_quarter(p.relative_to(inputs))))


def without_last_quarter(inputs: Path) -> tuple[Path, str, list[str]]:
    quarter = last_quarter(inputs)
    dst = inputs.with_name(inputs.name + f"-without-{quarter}")
    removed = sorted(str(p.relative_to(inputs)) for p in inputs.rglob("*")
                     if p.is_file() and file_quarter(p.relative_to(inputs)) == quarter)
    if not (dst / ".complete").is_file():
        link_copy(inputs, dst, keep=lambda rel: file_quarter(rel) != quarter)
        (dst / ".complete").write_text("")
    return dst, quarter, removed


def remove_warehouse(path: Path) -> None:
    """No warehouse (nor its WAL, nor the reports written beside it) at path."""
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.rmtree(path.parent / "reports", ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def copy_warehouse(src: Path, dst: Path) -> None:
    remove_warehouse(dst)
    for suffix in ("", ".wal"):
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)


# ----------------------------------------------------------------------------------------------
# the figures and their checks


def rows_of(path: Path) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r["quarter"], r["department"]): (r["active_users"], r["interactions"])
            for r in json.loads(path.read_text())}


def compare(name_a: str, a: dict, name_b: str, b: dict, mismatches: list[str]) -> int:
    """Compare two (quarter, department) -> (active_users, interactions) maps; missing = (0, 0)."""
    compared = 0
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, (0, 0)), b.get(key, (0, 0))
        compared += 1
        if va != vb:
            mismatches.append(f"{key[0]} {key[1]}: {name_a} {va} != {name_b} {vb}")
    return compared


def mart_department_rows(warehouse: Path) -> tuple[dict, set]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("SELECT quarter, segment, active_users, interactions, suppressed FROM marts.kpi_usage "
                       "WHERE segment_type = 'department'").fetchall()
    shown = {(q, s): (int(a), int(i)) for q, s, a, i, sup in rows if not sup}
    return shown, {(q, s) for q, s, _, _, sup in rows if sup}


def mart_canonical_tool_interactions(warehouse: Path) -> tuple[dict[str, int], int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("SELECT quarter, sum(interactions), count(*) FILTER (WHERE suppressed) FROM marts.kpi_usage "
                       "WHERE segment_type = 'tool' AND segment IN (SELECT unnest(?::VARCHAR[])) GROUP BY quarter",
                       params=[list(CANONICAL_TOOLS)]).fetchall()
    return {q: int(n or 0) for q, n, _ in rows}, sum(int(s) for _, _, s in rows)


def report_quarter(warehouse: Path) -> str:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("SELECT max(quarter) FROM marts.kpi_snapshots").fetchall()[0][0]


# ----------------------------------------------------------------------------------------------
# one company size


@dataclass
class SizeResult:
    employees: int
    inputs: dict = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    incremental: dict = field(default_factory=dict)


def input_stats(inputs: Path) -> dict:
    files = [p for p in inputs.rglob("*") if p.is_file() and p.name != ".complete"]
    usage = [p for p in files if p.relative_to(inputs).parts[0] == "usage"]
    canonical = [p for p in usage if p.relative_to(inputs).parts[1] not in VENDOR_USAGE_DIRS]
    lines = sum(_data_lines(p) for p in canonical)
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files), "usage_files": len(usage),
            "canonical_files": len(canonical), "canonical_bytes": sum(p.stat().st_size for p in canonical),
            "canonical_rows": lines, "usage_bytes": sum(p.stat().st_size for p in usage),
            "usage_rows": lines + sum(_data_lines(p) for p in usage if p not in canonical)}


def _data_lines(path: Path) -> int:
    """Data lines of a usage file (a CSV's header left out), counted in blocks."""
    count = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 24):
            count += block.count(b"\n")
    return count - (path.suffix == ".csv")


def run_size(employees: int, runs: int, incremental: bool, roi_runs: int, detail: bool = True) -> SizeResult:
    """Every measure for one size; ``detail=False`` (the larger sizes of the scale curve): only
    `kpi run --no-report` (`runs` runs) and the floors."""
    result = SizeResult(employees)
    inputs = company(employees)
    result.inputs = input_stats(inputs)
    work = BENCH_OUT / f"work-e{employees}"
    shutil.rmtree(work, ignore_errors=True)
    logs = work / "logs"
    config = inputs / "config.yaml"

    def repeat(key: str, label: str, make_cmd, n: int = runs, before=None, note: str = "") -> Measure:
        m = Measure(label, note=note)
        for i in range(n):
            if before:
                before(i)
            m.samples.append(measure_once(make_cmd(i), logs / f"{key}-{i}.log"))
            say(f"  {label} [{i + 1}/{n}]: {m.samples[-1].wall_s:.2f} s, "
                f"{m.samples[-1].peak_rss_bytes / 2**20:.0f} MiB")
        result.measures[key] = m
        return m

    say(f"== {employees} employees x {MONTHS} months ({result.inputs['files']} files, "
        f"{result.inputs['bytes'] / 1e6:.0f} MB)")
    # 1. kpi run end to end, a new warehouse each time
    warehouse = work / "full" / "warehouse.duckdb"

    run_cmd = [str(KPI), "run", "--inputs", str(inputs), "--config", str(config), "--warehouse", str(warehouse)]
    floor_all_json = work / "floor-all.json"
    if not detail:
        repeat("kpi_run", "kpi run --no-report (end to end)", lambda i: [*run_cmd, "--no-report"],
               before=lambda i: remove_warehouse(warehouse))
        repeat("floor_all", "floor: DuckDB over every usage file",
               lambda i: [sys.executable, str(REPO / "bench" / "floor_duckdb.py"), str(inputs), "--all-formats",
                          "--json", str(floor_all_json)], n=max(runs, 3))
        remove_warehouse(warehouse)  # a 99,999-employee warehouse is several GB
        return result
    repeat("kpi_run_with_report", "kpi run with the report", lambda i: run_cmd, n=1, note="1 run",
           before=lambda i: remove_warehouse(warehouse))
    repeat("kpi_run", "kpi run --no-report (end to end)", lambda i: [*run_cmd, "--no-report"],
           before=lambda i: remove_warehouse(warehouse))
    quarter = report_quarter(warehouse)
    repeat("kpi_report", f"kpi report {quarter} (alone)",
           lambda i: [str(KPI), "report", "--warehouse", str(warehouse), "--quarter", quarter, "--out",
                      str(work / "report")])
    repeat("kpi_rerun", "kpi run --no-report again, nothing new", lambda i: [*run_cmd, "--no-report"])
    # 2. and 3. floor and pandas
    floor_json, pandas_json = work / "floor.json", work / "pandas.json"
    repeat("floor_all", "floor: DuckDB over every usage file",
           lambda i: [sys.executable, str(REPO / "bench" / "floor_duckdb.py"), str(inputs), "--all-formats",
                      "--json", str(floor_all_json)])
    repeat("floor", "floor: DuckDB over the canonical files",
           lambda i: [sys.executable, str(REPO / "bench" / "floor_duckdb.py"), str(inputs), "--json", str(floor_json)])
    repeat("pandas", "plain pandas over the canonical files",
           lambda i: [sys.executable, str(REPO / "bench" / "plain_pandas.py"), str(inputs), "--json",
                      str(pandas_json)])
    floor_rows, pandas_rows = rows_of(floor_json), rows_of(pandas_json)
    n = compare("floor", floor_rows, "pandas", pandas_rows, result.mismatches)
    result.checks.append(f"floor and pandas: {n} (quarter, department) rows compared")
    # the pipeline on the canonical usage files only gives the floor's department figures
    canonical = canonical_only(inputs)
    can_warehouse = work / "canonical" / "warehouse.duckdb"
    can_warehouse.parent.mkdir(parents=True, exist_ok=True)
    repeat("kpi_run_canonical", "kpi run, canonical usage files only", n=1, note="1 run; used for the check",
           make_cmd=lambda i: [str(KPI), "run", "--inputs", str(canonical), "--config", str(config), "--warehouse",
                               str(can_warehouse), "--no-report"])
    marts, suppressed = mart_department_rows(can_warehouse)
    n = compare("floor", {k: v for k, v in floor_rows.items() if k not in suppressed},
                "marts.kpi_usage (canonical-only warehouse)", marts, result.mismatches)
    result.checks.append(f"floor and marts.kpi_usage department rows of the canonical-only warehouse: {n} rows "
                         f"compared ({len(suppressed)} suppressed rows skipped)")
    tools, tool_suppressed = mart_canonical_tool_interactions(warehouse)
    floor_totals: dict[str, int] = {}
    for (q, _), (_, i) in floor_rows.items():
        floor_totals[q] = floor_totals.get(q, 0) + i
    if tool_suppressed:
        result.checks.append(f"canonical tool rows: {tool_suppressed} suppressed, total check skipped")
    else:
        for q in sorted(set(tools) | set(floor_totals)):
            if tools.get(q, 0) != floor_totals.get(q, 0):
                result.mismatches.append(f"{q}: floor interactions {floor_totals.get(q, 0)} != marts.kpi_usage "
                                         f"tool rows {', '.join(CANONICAL_TOOLS)} {tools.get(q, 0)}")
        result.checks.append(f"floor per-quarter interactions and marts.kpi_usage tool rows "
                             f"({', '.join(CANONICAL_TOOLS)}) of the full warehouse: {len(tools)} quarters compared")
    # 4. the incremental quarter
    if incremental:
        base_inputs, new_quarter, removed = without_last_quarter(inputs)
        by_folder: dict[str, int] = {}
        for rel in removed:
            by_folder[rel.rsplit("/", 1)[0]] = by_folder.get(rel.rsplit("/", 1)[0], 0) + 1
        result.incremental = {"quarter": new_quarter, "removed_files": len(removed), "by_folder": by_folder}
        base = work / "base" / "warehouse.duckdb"
        base.parent.mkdir(parents=True, exist_ok=True)
        say(f"  building the base warehouse without {new_quarter} ({len(removed)} files held back)")
        measure_once([str(KPI), "run", "--inputs", str(base_inputs), "--config", str(config), "--warehouse",
                      str(base), "--no-report"], logs / "base.log")
        inc = work / "incremental" / "warehouse.duckdb"
        inc.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(KPI), "run", "--inputs", str(inputs), "--config", str(config), "--warehouse", str(inc),
               "--no-report"]
        repeat("incremental", f"incremental: kpi run --no-report after adding {new_quarter}", lambda i: cmd,
               before=lambda i: copy_warehouse(base, inc))
        repeat("incremental_quarter", f"incremental: kpi run --no-report --quarter {new_quarter}",
               lambda i: [*cmd, "--quarter", new_quarter], before=lambda i: copy_warehouse(base, inc))
    # 5. kpi roi
    repeat("kpi_roi", "kpi roi with overrides (JSON)",
           lambda i: [str(KPI), "roi", "--warehouse", str(warehouse), *ROI_FLAGS], n=roi_runs)
    # 6. kpi status (issue 13: in under a second)
    repeat("kpi_status", "kpi status (where we stand)",
           lambda i: [str(KPI), "status", "--warehouse", str(warehouse)], n=roi_runs)
    return result


# ----------------------------------------------------------------------------------------------
# the report


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_bytes": ram, "os": platform.platform(),
            "load_at_start": os.getloadavg()}


def versions() -> dict:
    out = {"Python": platform.python_version()}
    for dist, name in (("duckdb", "DuckDB"), ("polars", "polars"), ("pandas", "pandas"), ("dagster", "Dagster"),
                       ("great-expectations", "Great Expectations"), ("vl-convert-python", "vl-convert")):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def fmt_mem(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / 2**20:.0f} MiB"


def _size(results: list[SizeResult], employees: int) -> SizeResult | None:
    return next((r for r in results if r.employees == employees), None)


def seconds_per_million_rows(r: SizeResult) -> float:
    return r.measures["kpi_run"].wall / (r.inputs["usage_rows"] / 1e6)


def targets(results: list[SizeResult]) -> list[tuple[str, str, bool]]:
    """The targets of issue 18 (and the earlier ones still kept), each (what, measured, met)."""
    out: list[tuple[str, str, bool]] = []
    ten = _size(results, 10_000)
    if ten is not None and "floor_all" in ten.measures:
        m = ten.measures
        run, floor = m["kpi_run"], m["floor_all"]
        out.append(("10,000: `kpi run --no-report` within 4x the floor over every usage file",
                    f"{run.wall / floor.wall:.1f}x ({fmt_s(run.wall)} vs {fmt_s(floor.wall)})",
                    run.wall <= 4 * floor.wall))
        if "kpi_rerun" in m:
            rerun = m["kpi_rerun"]
            out.append(("10,000: a run with nothing new under 3 s", fmt_s(rerun.wall), rerun.wall < 3))
        for key in ("incremental", "incremental_quarter"):
            if key in m:
                inc = m[key]
                variant = inc.label.split(": ", 1)[1]
                out.append((f"10,000: incremental quarter under a quarter of a full run ({variant})",
                            f"{inc.wall / run.wall:.2f} of a full run ({fmt_s(inc.wall)} vs {fmt_s(run.wall)})",
                            inc.wall < run.wall / 4))
        if "kpi_roi" in m:
            out.append(("`kpi roi` under one second", fmt_s(m["kpi_roi"].wall), m["kpi_roi"].wall < 1.0))
        if "kpi_status" in m:
            out.append(("`kpi status` under one second", fmt_s(m["kpi_status"].wall), m["kpi_status"].wall < 1.0))
    fifty = _size(results, 50_000)
    if fifty is not None:
        run = fifty.measures["kpi_run"]
        out.append(("50,000: `kpi run --no-report` under 60 s", fmt_s(run.wall), run.wall < 60))
        out.append(("50,000: peak RSS under 2 GiB", fmt_mem(run.rss), run.rss < 2 * GIB))
    hundred = next((r for r in results if r.employees >= 99_999), None)  # the generator's largest: 99,999
    if hundred is not None:
        run = hundred.measures["kpi_run"]
        out.append((f"{hundred.employees:,}: completes under the default memory limit (warehouse.memory_limit 1.5 GiB)",
                    f"{fmt_s(run.wall)}, peak RSS {fmt_mem(run.rss)}", True))
    if ten is not None and len(results) > 1:
        largest = max(results, key=lambda r: r.employees)
        if largest.employees > 10_000:
            base, top = seconds_per_million_rows(ten), seconds_per_million_rows(largest)
            out.append((f"time grows at most linearly with rows ({largest.employees:,} against 10,000; 10 % slack)",
                        f"{top:.1f} s per million usage rows against {base:.1f} s", top <= 1.1 * base))
    return out


def scale_section(results: list[SizeResult], chart: str | None) -> list[str]:
    """The scale curve: time, peak memory and the ratio to the floor per size (and the chart)."""
    lines = ["## Scale", "",
             "`kpi run --no-report` from an empty warehouse against the floor over every usage file "
             "(`bench/floor_duckdb.py --all-formats`), per company size (24 months).", "",
             "| employees | usage files | usage rows | kpi run --no-report | peak RSS | floor (every usage file) "
             "| run / floor | s per million rows |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(results, key=lambda r: r.employees):
        m = r.measures
        run, floor = m["kpi_run"], m.get("floor_all")
        lines.append(f"| {r.employees:,} | {r.inputs['usage_files']} ({r.inputs['usage_bytes'] / 1e6:,.0f} MB) | "
                     f"{r.inputs['usage_rows']:,} | {fmt_s(run.wall)} | {fmt_mem(run.rss)} | "
                     f"{fmt_s(floor.wall) if floor else '-'} | {f'{run.wall / floor.wall:.1f}x' if floor else '-'} | "
                     f"{seconds_per_million_rows(r):.1f} |")
    lines.append("")
    if chart:
        lines += [f"![kpi run time and peak memory against company size]({chart})", ""]
    return lines


def write_chart(results: list[SizeResult], path: Path) -> None:
    """Time and peak memory of `kpi run --no-report` (and the floor's time) against size, as SVG
    (Altair, rendered by vl-convert)."""
    import altair as alt
    import pandas as pd

    rows = []
    for r in results:
        m = r.measures
        rows.append({"employees": r.employees, "what": "kpi run --no-report", "seconds": m["kpi_run"].wall,
                     "peak_gib": m["kpi_run"].rss / GIB})
        if "floor_all" in m:
            rows.append({"employees": r.employees, "what": "floor (every usage file)", "seconds": m["floor_all"].wall,
                         "peak_gib": m["floor_all"].rss / GIB})
    data = pd.DataFrame(rows)
    x = alt.X("employees:Q", title="employees (24 months)", scale=alt.Scale(type="log"))
    base = alt.Chart(data).encode(x=x, color=alt.Color("what:N", title=None)).properties(width=320, height=220)
    time_chart = base.mark_line(point=True).encode(y=alt.Y("seconds:Q", title="wall time (s)"))
    memory_chart = base.mark_line(point=True).encode(y=alt.Y("peak_gib:Q", title="peak RSS (GiB)"))
    chart = alt.hconcat(time_chart.properties(title="time"), memory_chart.properties(title="peak memory"))
    path.parent.mkdir(parents=True, exist_ok=True)
    chart.save(str(path), format="svg")


def render(results: list[SizeResult], mach: dict, vers: dict, started: dt.datetime, elapsed: float,
           runs: int, chart: str | None = None) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run.py`); do not edit above the \"Profile and fixes\" section, the next",
        "run rewrites it. Synthetic companies from `kpi generate --months 24 --seed 7 --start 2024-10-01`",
        "(baseline Jul-Sep 2024, programme Oct 2024 - Sep 2026: nothing dated after today).",
        "",
        "## Machine",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} (bench took {elapsed / 60:.1f} min)",
        f"- CPU: {mach['cpu']}, {mach['cores']} cores; RAM {mach['ram_bytes'] / GIB:.1f} GiB; {mach['os']}",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in mach['load_at_start'])}, at the end: "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (other work may share the machine)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        "",
        "## Method",
        "",
        f"Every figure is the median of {runs} runs of a fresh subprocess (`kpi roi`: more runs, see the row),",
        "wall time around the subprocess, peak RSS of its process tree (the larger of the kernel's maxrss and",
        "the summed RSS of the tree sampled every 0.1 s). `kpi run` starts from an empty warehouse each time and",
        "is measured without the report (`--no-report`; the issue measures the report separately): the row",
        "\"kpi report (alone)\" is the report, \"kpi run with the report\" both in one process (one run).",
        "",
        "- **floor over every usage file** (`bench/floor_duckdb.py --all-formats`, issue 18): one DuckDB query",
        "  over every usage file the pipeline reads (the canonical files below and the Microsoft 365 Copilot,",
        "  GitHub Copilot and ChatGPT Enterprise exports, each mapped as the pipeline maps it, known headers",
        "  passed as columns) plus the HR list: active users and interactions per quarter and department, no",
        "  validation, quarantine, pseudonyms or de-duplication beyond the formats' own mapping. The ratio",
        "  targets use this floor.",
        "- **floor** (`bench/floor_duckdb.py`): one DuckDB query over the canonical usage files",
        "  `usage/gateway/gateway-YYYY-MM.csv` (pre-aggregated) and `usage/gateway/gateway-events-YYYY-MM.jsonl`",
        "  (event level, one interaction per line, day in Europe/Berlin) plus `hr/employees.csv`: active users and",
        "  interactions per quarter and department, users matched by employee id / e-mail / GitHub login,",
        "  only days inside the employment. No validation, quarantine, pseudonyms or de-duplication.",
        "- **plain pandas** (`bench/plain_pandas.py`): the same, `read_csv`/`read_json` per file, `concat`,",
        "  `merge` with the HR list, `groupby`.",
        "- **`kpi run`** reads far more than the floor: every usage format (Microsoft 365 Copilot, GitHub",
        "  Copilot, ChatGPT Enterprise besides the canonical files), HR, trainings, assessments, surveys, costs",
        "  and process metrics; it validates (Great Expectations), quarantines, pseudonymises, builds the four",
        "  KPI marts for every quarter, snapshots and ROI. The row \"kpi run, canonical usage files",
        "  only\" runs it on the same usage files as the floor (vendor exports removed; one run).",
        "- **incremental**: a warehouse is built from the inputs without the last quarter's files (usage files",
        "  dated in it, that quarter's survey wave; state files whole), then `kpi run` on the whole inputs is",
        "  measured (a copy of that warehouse each run), once plain and once with `--quarter`. \"Again, nothing",
        "  new\" is `kpi run` on the full warehouse with the same inputs (what a scheduled run costs on a",
        "  quiet day).",
        "- checks: floor = pandas row for row; floor = `marts.kpi_usage` department rows (active_users,",
        "  interactions) of the canonical-only warehouse; floor per-quarter interactions = the canonical tools'",
        "  rows (chat-gateway, claude) of `marts.kpi_usage` in the full warehouse.",
        "- **scale**: the sizes beyond 10,000 employees (`--sizes`) measure `kpi run --no-report` and the floor only",
        "  (fewer runs, see the table); `make bench-large` adds 99,999 employees (the generator's largest).",
        "",
        *scale_section(results, chart),
    ]
    for r in results:
        m = r.measures
        st = r.inputs
        if "floor" not in m:  # a size of the scale curve only
            continue
        lines += [
            f"## {r.employees:,} employees x {MONTHS} months",
            "",
            f"Inputs: {st['files']} files, {st['bytes'] / 1e6:.0f} MB; canonical usage files (floor): "
            f"{st['canonical_files']} files, {st['canonical_bytes'] / 1e6:.0f} MB, {st['canonical_rows']:,} rows.",
            "",
            "| what | median wall | min - max | peak RSS (median) | runs |",
            "|---|---:|---:|---:|---:|",
        ]
        for _key, meas in m.items():
            walls = [s.wall_s for s in meas.samples]
            label = meas.label + (f" ({meas.note})" if meas.note else "")
            lines.append(f"| {label} | {fmt_s(meas.wall)} | {fmt_s(min(walls))} - {fmt_s(max(walls))} | "
                         f"{fmt_mem(meas.rss)} | {len(meas.samples)} |")
        run, floor, pandas = m["kpi_run"], m["floor"], m["pandas"]
        lines += [
            "",
            f"- pipeline / floor over every usage file: **{run.wall / m['floor_all'].wall:.1f}x**",
            f"- pipeline / floor over the canonical files: **{run.wall / floor.wall:.1f}x** "
            "(canonical-only pipeline / floor: "
            f"{m['kpi_run_canonical'].wall / floor.wall:.1f}x)",
            f"- pandas / pipeline: **{pandas.wall / run.wall:.2f}** (pandas / floor: {pandas.wall / floor.wall:.1f}x)",
            f"- the report alone (`kpi report`) takes {fmt_s(m['kpi_report'].wall)}, interpreter start included; "
            f"`kpi run` with the report {fmt_s(m['kpi_run_with_report'].wall)}",
            f"- a run with nothing new: {fmt_s(m['kpi_rerun'].wall)} ({m['kpi_rerun'].wall / run.wall:.2f} of a "
            "full run)",
        ]
        if r.incremental:
            inc = r.incremental
            lines.append(f"- incremental: {inc['removed_files']} files dated in {inc['quarter']} held back from the "
                         "base warehouse (" + ", ".join(f"{d}/: {n}" for d, n in inc["by_folder"].items()) + ")")
        lines.append("- checks: " + "; ".join(r.checks)
                     + (f"; **{len(r.mismatches)} MISMATCHES**" if r.mismatches else "; all equal"))
        lines.append("")
    lines += ["## Targets", ""]
    found = targets(results)
    if not found:
        lines += ["Not measured in this run (`--sizes` without 10000 or 50000).", ""]
    else:
        lines += ["| target | measured | |", "|---|---|---|"]
        lines += [f"| {name} | {value} | {'met' if ok else '**missed**'} |" for name, value, ok in found]
        lines.append("")
    mismatches = [f"{r.employees}: {x}" for r in results for x in r.mismatches]
    if mismatches:
        lines += ["## MISMATCHES", "", *[f"- {x}" for x in mismatches[:50]], ""]
    return "\n".join(lines)


def _size_from_json(size: dict) -> SizeResult:
    """A size as an earlier run wrote it to results.json (`--merge`)."""
    measures = {key: Measure(m["label"], [Sample(**sample) for sample in m["samples"]], m["note"])
                for key, m in size["measures"].items()}
    return SizeResult(size["employees"], size["inputs"], measures, size["checks"], size["mismatches"],
                      size["incremental"])


def profile(employees: int) -> None:
    """One `kpi run` under pyinstrument (sampling profiler; Python-heavy code looks slower than it is)."""
    import importlib.util

    if importlib.util.find_spec("pyinstrument") is None:
        sys.exit("pyinstrument is not installed: .venv/bin/pip install -e '.[bench]'")
    inputs = company(employees)
    warehouse = BENCH_OUT / f"work-e{employees}" / "profile" / "warehouse.duckdb"
    remove_warehouse(warehouse)
    stem = BENCH_OUT / f"profile-kpi-run-e{employees}"
    say(f"profiling kpi run ({employees} employees) -> {stem}.html, .txt")
    session = Path(f"{stem}.pyisession")
    with open(f"{stem}.log", "w") as log:
        subprocess.run([sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session), str(KPI), "run",
                        "--inputs", str(inputs), "--config", str(inputs / "config.yaml"), "--warehouse",
                        str(warehouse)], check=True, env=bench_env(), stdout=log, stderr=subprocess.STDOUT)
    for renderer in ("html", "text"):
        subprocess.run([sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", renderer, "-o",
                        f"{stem}.{'txt' if renderer == 'text' else renderer}"], check=True)
    session.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="employee counts, comma-separated")
    parser.add_argument("--detail-sizes", default="1000,10000",
                        help="the sizes measured in full; the others only for the scale curve (kpi run and floor)")
    parser.add_argument("--scale-runs", type=int, default=1, help="runs of kpi run per size of the scale curve")
    parser.add_argument("--merge", action="store_true",
                        help="keep the sizes of out/bench/results.json that this run does not measure")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--roi-runs", type=int, default=5)
    parser.add_argument("--no-incremental", action="store_true", help="skip the incremental-quarter runs")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument("--profile", action="store_true",
                        help="only profile one `kpi run` of the largest size with pyinstrument "
                             "(pip install -e '.[bench]'); writes out/bench/profile-*.html and .txt")
    args = parser.parse_args()
    if not KPI.exists():
        sys.exit(f"{KPI} not found: run `make install` first")
    if args.profile:
        profile(max(int(s) for s in args.sizes.split(",")))
        return
    started, t0 = dt.datetime.now(), time.perf_counter()
    mach, vers = machine(), versions()
    detail = {int(s) for s in args.detail_sizes.split(",") if s}
    results = [run_size(int(s), args.runs if int(s) in detail else args.scale_runs, not args.no_incremental,
                        args.roi_runs, detail=int(s) in detail) for s in args.sizes.split(",")]
    elapsed = time.perf_counter() - t0
    merged_from = None
    if args.merge and (BENCH_OUT / "results.json").is_file():
        earlier = json.loads((BENCH_OUT / "results.json").read_text())
        measured = {r.employees for r in results}
        kept = [_size_from_json(size) for size in earlier["sizes"] if size["employees"] not in measured]
        if kept:
            merged_from = earlier["date"]
            results = sorted([*results, *kept], key=lambda r: r.employees)
    chart = args.out.parent / "benchmarks-scale.svg"
    write_chart(results, chart)
    text = render(results, mach, vers, started, elapsed, args.runs, chart=chart.name)
    if merged_from:
        text = text.replace("\n\n## Method\n", f"\n- sizes not measured in this run are kept from the run of "
                            f"{merged_from[:16].replace('T', ' ')} (`--merge`)\n\n## Method\n", 1)
    old = args.out.read_text() if args.out.is_file() else ""
    if PROFILE_HEADING in old:
        text += "\n" + old[old.index(PROFILE_HEADING):]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text.rstrip() + "\n")
    BENCH_OUT.mkdir(parents=True, exist_ok=True)
    (BENCH_OUT / "results.json").write_text(json.dumps({
        "date": started.isoformat(), "machine": mach, "versions": vers, "elapsed_s": elapsed,
        "sizes": [{"employees": r.employees, "inputs": r.inputs, "checks": r.checks, "mismatches": r.mismatches,
                   "incremental": r.incremental, "measures": {k: m.as_json() for k, m in r.measures.items()}}
                  for r in results]}, indent=1))
    say(f"\nwrote {args.out} and {BENCH_OUT / 'results.json'} ({elapsed / 60:.1f} min)")
    for name, value, ok in targets(results):
        say(f"  {'met   ' if ok else 'MISSED'} {name}: {value}")
    mismatches = [f"{r.employees} employees: {x}" for r in results for x in r.mismatches]
    if mismatches:
        bar = "!" * 78
        print(f"\n{bar}\nMISMATCH: the floor, pandas and the pipeline disagree ({len(mismatches)}):", file=sys.stderr)
        for x in mismatches[:30]:
            print(f"  {x}", file=sys.stderr)
        print(bar, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
