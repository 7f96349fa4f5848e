"""Great Expectations (GX 1.x) suites for the staged inputs.

One suite per staging table. Each suite's frame is read from the warehouse with SQL; the bulk
usage log is never loaded: its suite validates a per-file daily summary computed inside DuckDB.
Importable without Dagster; GX itself is imported lazily (it takes seconds) on first use.

    result = validate_table(con, "employees")
    result = validate_table(con, "survey_answers", scale_max=5)
    result = validate_table(con, "usage_activity", today=date(2025, 6, 30))

Unexpected examples show only the offending values and the row's pseudonymised key columns
(employee_key, file and day, ...): staging holds no raw personal data.

A pass is remembered (``audit.quality_passes``) with a hash of the frame validated, the suite
code and the GX version: the same frame validated again reuses it without importing GX (2-3 s).
The accumulating inputs (usage summary, survey answers) are remembered per file, so a run that
adds files validates the new files' rows only. Failures are never reused. The usage suite's upper
day bound is today + 1, which only grows, so a pass of the same frame under an earlier `today`
still holds.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from kpi.config import CONSTRUCTS, COST_CATEGORIES, TARGET_GROUPS
from kpi.warehouse import table_exists

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before great_expectations is ever imported

TRAINING_FORMATS: tuple[str, ...] = (
    "basics_workshop", "usecase_workshop", "prompt_masterclass", "hackathon", "executive_briefing",
    "elearning", "coaching", "train_the_trainer", "other",
)
TRAINING_STATUSES: tuple[str, ...] = ("enrolled", "completed", "dropped")
USE_CASE_STATUSES: tuple[str, ...] = ("idea", "pilot", "production", "retired")
EARLIEST_USAGE_DAY = date(2000, 1, 1)
EXAMPLES = 5  # unexpected examples kept per expectation


@dataclass(frozen=True)
class Outcome:
    expectation: str              # GX expectation type, e.g. expect_column_values_to_be_in_set
    column: str | None
    success: bool
    unexpected_count: int
    unexpected_examples: list = field(default_factory=list)
    rule: str = ""                # the business rule in words, e.g. "fte in (0, 1]"


@dataclass(frozen=True)
class QualityResult:
    suite: str
    success: bool
    blocking: bool                # failures would make downstream figures wrong
    rows_checked: int             # rows of the staging table covered (usage: log rows summarised)
    outcomes: list[Outcome] = field(default_factory=list)
    passed_before: datetime | None = None  # reused: this exact frame passed at that time

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]


@dataclass(frozen=True)
class _Suite:
    table: str                    # staging table, e.g. staging.employees
    blocking: bool
    query: str                    # SQL producing the frame GX validates
    key_columns: tuple[str, ...]  # shown beside each unexpected value
    expectations: Callable[[dict], list[tuple[str, Any]]]  # params -> [(rule, GX expectation)]


def _resolved(table: str) -> str:
    return (f"SELECT t.*, t.employee_key IN (SELECT employee_key FROM staging.employees) AS employee_resolved "
            f"FROM {table} t")


def _employees(p: dict) -> list:
    gxe = _gxe()
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["employee_key", "department", "target_group", "hire_date", "exit_date", "fte",
                        "hourly_cost_eur"], exact_match=False)),
        ("employee_key not null", gxe.ExpectColumnValuesToNotBeNull(column="employee_key")),
        ("employee_key unique", gxe.ExpectColumnValuesToBeUnique(column="employee_key")),
        ("target_group one of " + ", ".join(TARGET_GROUPS),
         gxe.ExpectColumnValuesToBeInSet(column="target_group", value_set=list(TARGET_GROUPS))),
        ("hire_date not null", gxe.ExpectColumnValuesToNotBeNull(column="hire_date")),
        ("fte in (0, 1]", gxe.ExpectColumnValuesToBeBetween(column="fte", min_value=0, max_value=1, strict_min=True)),
        ("hourly_cost_eur > 0", gxe.ExpectColumnValuesToBeBetween(column="hourly_cost_eur", min_value=0,
                                                                 strict_min=True)),
        ("exit_date >= hire_date when set", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exit_date", column_B="hire_date", or_equal=True, ignore_row_if="either_value_is_missing")),
    ]


def _trainings(p: dict) -> list:
    gxe = _gxe()
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["employee_key", "course_id", "format", "started_on", "completed_on", "status", "hours"],
            exact_match=False)),
        ("format one of the training formats",
         gxe.ExpectColumnValuesToBeInSet(column="format", value_set=list(TRAINING_FORMATS))),
        ("status one of " + ", ".join(TRAINING_STATUSES),
         gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(TRAINING_STATUSES))),
        ("hours >= 0", gxe.ExpectColumnValuesToBeBetween(column="hours", min_value=0)),
        ("employee_key is in staging.employees",
         gxe.ExpectColumnValuesToBeInSet(column="employee_resolved", value_set=[True])),
    ]


def _assessments(p: dict) -> list:
    gxe = _gxe()
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["employee_key", "assessed_on", "instrument", "score", "max_score"], exact_match=False)),
        ("instrument not null", gxe.ExpectColumnValuesToNotBeNull(column="instrument")),
        ("max_score > 0", gxe.ExpectColumnValuesToBeBetween(column="max_score", min_value=0, strict_min=True)),
        ("score >= 0", gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0)),
        ("score <= max_score", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="max_score", column_B="score", or_equal=True, ignore_row_if="either_value_is_missing")),
        ("employee_key is in staging.employees",
         gxe.ExpectColumnValuesToBeInSet(column="employee_resolved", value_set=[True])),
    ]


def _costs(p: dict) -> list:
    gxe = _gxe()
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["booked_on", "category", "amount_eur", "description", "department"], exact_match=False)),
        ("booked_on not null", gxe.ExpectColumnValuesToNotBeNull(column="booked_on")),
        ("category one of " + ", ".join(COST_CATEGORIES),
         gxe.ExpectColumnValuesToBeInSet(column="category", value_set=list(COST_CATEGORIES))),
        ("amount_eur not null", gxe.ExpectColumnValuesToNotBeNull(column="amount_eur")),
    ]


def _process_metrics(p: dict) -> list:
    gxe = _gxe()
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["month", "process", "department", "cases", "handling_minutes", "errors", "csat"],
            exact_match=False)),
        ("month not null", gxe.ExpectColumnValuesToNotBeNull(column="month")),
        ("cases >= 0", gxe.ExpectColumnValuesToBeBetween(column="cases", min_value=0)),
        ("handling_minutes >= 0", gxe.ExpectColumnValuesToBeBetween(column="handling_minutes", min_value=0)),
        ("errors >= 0 when set", gxe.ExpectColumnValuesToBeBetween(column="errors", min_value=0)),
        ("errors <= cases when set", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="cases", column_B="errors", or_equal=True, ignore_row_if="either_value_is_missing")),
        ("one row per month, process and department",
         gxe.ExpectCompoundColumnsToBeUnique(column_list=["month", "process", "department"])),
    ]


def _use_cases(p: dict) -> list:
    gxe = _gxe()
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["use_case_id", "submitted_on", "status", "self_developed"], exact_match=False)),
        ("use_case_id not null", gxe.ExpectColumnValuesToNotBeNull(column="use_case_id")),
        ("use_case_id unique", gxe.ExpectColumnValuesToBeUnique(column="use_case_id")),
        ("status one of " + ", ".join(USE_CASE_STATUSES),
         gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(USE_CASE_STATUSES))),
    ]


def _survey_answers(p: dict) -> list:
    gxe = _gxe()
    scale_max = int(p.get("scale_max", 5))
    return [
        ("columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["file", "response_id", "item", "construct", "answer_points", "points"], exact_match=False)),
        (f"points between 1 and {scale_max}",
         gxe.ExpectColumnValuesToBeBetween(column="points", min_value=1, max_value=scale_max)),
        (f"answer_points between 1 and {scale_max}",
         gxe.ExpectColumnValuesToBeBetween(column="answer_points", min_value=1, max_value=scale_max)),
        ("construct one of " + ", ".join(CONSTRUCTS),
         gxe.ExpectColumnValuesToBeInSet(column="construct", value_set=list(CONSTRUCTS))),
        ("one answer per response and item",
         gxe.ExpectCompoundColumnsToBeUnique(column_list=["file", "response_id", "item"])),
    ]


def _usage_summary(p: dict) -> list:
    gxe = _gxe()
    today = p.get("today") or date.today()
    latest = today + timedelta(days=1)  # the company-local day may be ahead of the server's
    return [
        ("summary columns present", gxe.ExpectTableColumnsToMatchSet(
            column_set=["file", "day", "rows", "users", "interactions", "successes", "failures"],
            exact_match=False)),
        ("day not null", gxe.ExpectColumnValuesToNotBeNull(column="day")),
        (f"day between {EARLIEST_USAGE_DAY} and {latest}", gxe.ExpectColumnValuesToBeBetween(
            column="day", min_value=datetime.combine(EARLIEST_USAGE_DAY, datetime.min.time()),
            max_value=datetime.combine(latest, datetime.min.time()))),
        ("users >= 1 per file and day", gxe.ExpectColumnValuesToBeBetween(column="users", min_value=1)),
        ("interactions >= 0 per file and day", gxe.ExpectColumnValuesToBeBetween(column="interactions", min_value=0)),
        ("successes >= 0 per file and day", gxe.ExpectColumnValuesToBeBetween(column="successes", min_value=0)),
        ("failures >= 0 per file and day", gxe.ExpectColumnValuesToBeBetween(column="failures", min_value=0)),
        ("no row with a negative count", gxe.ExpectColumnValuesToBeBetween(
            column="rows_with_negative_counts", min_value=0, max_value=0)),
        ("one summary row per file and day", gxe.ExpectCompoundColumnsToBeUnique(column_list=["file", "day"])),
    ]


USAGE_SUMMARY_SQL = """
SELECT file, day,
       count(*)::BIGINT                 AS rows,
       count(DISTINCT user_key)::BIGINT AS users,
       sum(interactions)::BIGINT        AS interactions,
       sum(successes)::BIGINT           AS successes,
       sum(failures)::BIGINT            AS failures,
       count(*) FILTER (WHERE interactions < 0 OR successes < 0 OR failures < 0)::BIGINT
                                        AS rows_with_negative_counts
FROM staging.usage_activity
GROUP BY file, day
ORDER BY file, day
"""

#: The usage summary is computed for files of about this many staged rows at a time: its
#: count(DISTINCT user_key) per file and day over the whole table (9 M rows at 50,000 employees)
#: took 0.9 GiB above DuckDB's cached pages, the peak of the run (issue 18, docs/benchmarks.md).
SUMMARY_CHUNK_ROWS = 2_000_000


def _usage_summary_frame(con, files: list[str] | None = None):
    """``USAGE_SUMMARY_SQL``'s frame (of these files only, or all), computed for a few files at a
    time (whole files: the groups are per file and day), concatenated in the query's order."""
    import pandas as pd

    chunks: list[list[str]] = [[]]
    rows = 0
    counts = con.sql("SELECT file, count(*) FROM staging.usage_activity GROUP BY file ORDER BY file").fetchall()
    wanted = None if files is None else set(files)
    for file, count in counts if wanted is None else [(f, c) for f, c in counts if f in wanted]:
        if chunks[-1] and rows + count > SUMMARY_CHUNK_ROWS:
            chunks.append([])
            rows = 0
        chunks[-1].append(file)
        rows += count
    if len(chunks) == 1 and files is None:
        return con.sql(USAGE_SUMMARY_SQL).df()
    query = USAGE_SUMMARY_SQL.replace("GROUP BY file, day", "WHERE file IN (SELECT unnest($files::VARCHAR[]))\n"
                                      "GROUP BY file, day")
    return pd.concat([con.sql(query, params={"files": files}).df() for files in chunks], ignore_index=True)


_SUITES: dict[str, _Suite] = {
    "employees": _Suite("staging.employees", True, "SELECT * FROM staging.employees", ("employee_key",),
                        _employees),
    "trainings": _Suite("staging.trainings", True, _resolved("staging.trainings"),
                        ("employee_key", "course_id", "started_on"), _trainings),
    "assessments": _Suite("staging.assessments", False, _resolved("staging.assessments"),
                          ("employee_key", "instrument", "assessed_on"), _assessments),
    "costs": _Suite("staging.costs", True, "SELECT * FROM staging.costs", ("booked_on",), _costs),
    "process_metrics": _Suite("staging.process_metrics", True, "SELECT * FROM staging.process_metrics",
                              ("month", "process", "department"), _process_metrics),
    "use_cases": _Suite("staging.use_cases", False, "SELECT * FROM staging.use_cases", ("use_case_id",),
                        _use_cases),
    "usage_activity": _Suite("staging.usage_activity", True, USAGE_SUMMARY_SQL, ("file", "day"), _usage_summary),
    "survey_answers": _Suite("staging.survey_answers", False, "SELECT * FROM staging.survey_answers",
                             ("file", "response_id", "item"), _survey_answers),
}

#: Suites validated and remembered file by file: every expectation is on single rows or on a key
#: that includes `file` (tests/unit/test_quality.py checks it), so the table passes iff each file does.
PER_FILE_SUITES: tuple[str, ...] = ("usage_activity", "survey_answers")

#: Suite names, one per staged input; `usage_activity` validates the per-file daily summary.
SUITE_NAMES: tuple[str, ...] = tuple(_SUITES)
BLOCKING_SUITES: tuple[str, ...] = tuple(name for name, s in _SUITES.items() if s.blocking)


def is_blocking(name: str) -> bool:
    return _suite(name).blocking


def _suite(name: str) -> _Suite:
    try:
        return _SUITES[name]
    except KeyError:
        raise ValueError(f"unknown quality suite {name!r}; known: {', '.join(SUITE_NAMES)}") from None


# --------------------------------------------------------------------------------------------
# GX plumbing: one ephemeral context per process, one pandas dataframe asset per suite
# --------------------------------------------------------------------------------------------

_GX: dict[str, Any] = {}
_GX_LOCK = threading.Lock()  # one import and one context, whichever thread asks first


def _gxe():
    _context()
    import great_expectations.expectations as gxe

    return gxe


def _context():
    with _GX_LOCK:
        return _new_context() if "context" not in _GX else _GX["context"]


def _new_context():
    import great_expectations as gx
    import great_expectations.expectations  # noqa: F401 - the suites need it; imported with the rest
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    _GX["source"] = context.data_sources.add_pandas(name="kpi_staging")
    _GX["batches"] = {}
    _GX["context"] = context  # last: the context's presence says the rest is there
    return context


_WORKER: dict[str, Any] = {}


@contextmanager
def validation_worker():
    """Validate in a worker process whose Great Expectations import starts now.

    The import costs 2-3 s of CPU under the GIL; in this process it competed with the ingest
    (mostly Python while reading exports), in a process of its own it runs on the second core.
    Frames go to the worker pickled, outcomes come back as `Outcome`s; without this context (or if
    the worker cannot start) validation runs in-process as before. The worker is stopped on exit.

    The worker is started with "spawn" (forking a process that runs Dagster and polars threads is
    unsafe), which imports the caller's main module again: use it only from a main module guarded
    by `if __name__ == "__main__"` (the `kpi` console script is). The worker ends with this process
    even when it cannot stop it (killed with kill -9): it watches its parent (`_worker_start`)."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_start, initargs=(os.getpid(),))
    pool.submit(int, 0)  # start the process (and its import) now
    _WORKER["pool"] = pool
    _WORKER["validated"] = set()
    try:
        yield pool
    finally:
        _WORKER.pop("pool", None)
        _WORKER.pop("validated", None)
        _STARTED.clear()
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(parent: int) -> None:
    """In the validation worker: watch the parent, and import Great Expectations in a background
    thread. The worker is ready at once: a task waits for the import where it needs GX
    (`_context`), and a run that validates nothing (nothing new) stops the worker without waiting
    for an import it never used (up to 3 s of CPU; the daemon thread ends with the process)."""
    import threading

    _exit_with_parent(parent)
    threading.Thread(target=_context, name="kpi-gx-import", daemon=True).start()


def _exit_with_parent(parent: int, interval: float = 0.2) -> None:
    """End this process as soon as `parent` is no longer its parent (it died, and the process was
    handed to init or a subreaper). A thread polls getppid: portable, and unlike Linux's
    PR_SET_PDEATHSIG it does not fire when merely the thread that started the worker ends."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="kpi-exit-with-parent", daemon=True).start()


def _batch_definition(name: str):
    _context()
    batches = _GX["batches"]
    if name not in batches:
        asset = _GX["source"].add_dataframe_asset(name=name)
        batches[name] = asset.add_batch_definition_whole_dataframe("whole_frame")
    return batches[name]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def validate_table(con, name: str, **params) -> QualityResult:
    """Validate one staged input with its GX suite.

    params: `scale_max` (survey_answers, default 5), `today` (usage_activity, default today).
    An empty table (an optional input absent) passes with rows_checked 0.
    """
    from kpi.warehouse import release_cached_pages

    release_cached_pages(con)  # the frame below is Python's memory: DuckDB's cached pages make room
    try:
        return _validate_table(con, name, **params)
    finally:  # the frame (a whole staged table for some suites) is gone: hand its memory back
        release_memory()
        _worker_done_with(name)


def _worker_done_with(name: str) -> None:
    """Stop the validation worker once every suite has been validated: a run validates each staged
    input once, and the worker (Great Expectations, 0.3 GiB or more) would otherwise live on through
    matching and the quarters (issue 18: the peak of the process tree at 50,000 employees). A
    validation after that runs in this process, as without a worker."""
    if "pool" not in _WORKER:
        return
    done = _WORKER.setdefault("validated", set())
    done.add(name)
    if done >= set(SUITE_NAMES):
        _WORKER.pop("pool").shutdown(wait=False)


def _validate_table(con, name: str, **params) -> QualityResult:
    suite = _suite(name)
    if not table_exists(con, suite.table):
        return QualityResult(name, False, suite.blocking, 0, [
            Outcome("table_exists", None, False, 1, [suite.table], f"{suite.table} exists")])
    rows = con.sql(f"SELECT count(*) FROM {suite.table}").fetchall()[0][0]
    if rows == 0:
        return QualityResult(name, True, suite.blocking, 0, [])

    # Each part (the whole table, or one file's rows) that passed before is not validated again.
    # Parts are told apart by a digest DuckDB computes (`_part_digests`), so a run with nothing new
    # reads no table into pandas; only the parts still to validate are fetched (issue 18).
    hashes, counts = _part_digests(con, name, params)
    earlier = _earlier_passes(con, name, set(hashes.values()), params)
    todo = [file for file, digest in hashes.items() if digest not in earlier]
    if not todo:
        outcomes, validated_at = max(earlier.values(), key=lambda passed: passed[1])
        return QualityResult(name, True, suite.blocking, int(rows), outcomes, passed_before=validated_at)
    started = _STARTED.pop(name, None)
    if started is not None and started[0] == _start_key(hashes, params):
        outcomes = _collect(name, started[1], lambda: _frame(con, name, todo if name in PER_FILE_SUITES else None),
                            params)
    elif name not in PER_FILE_SUITES:
        outcomes = _in_worker(name, _frame(con, name, None), params)
    else:  # whole files, about VALIDATE_CHUNK_ROWS rows at a time (one frame of the survey answers
        # was the largest object of a 50,000-employee run, held in this process and the worker)
        chunks = _file_chunks([(file, counts[file]) for file in todo],
                              VALIDATE_CHUNK_ROWS if name == "survey_answers" else None)
        outcomes = merge_outcomes([_in_worker(name, _frame(con, name, files), params) for files in chunks])
    success = all(o.success for o in outcomes)
    if success:
        _remember_passes(con, name, [hashes[file] for file in todo], set(hashes.values()), params, outcomes)
    return QualityResult(name, success, suite.blocking, int(rows), outcomes)


def _in_worker(name: str, frame, params: dict) -> list[Outcome]:
    from concurrent.futures.process import BrokenProcessPool

    pool = _WORKER.get("pool")
    if pool is not None:
        try:
            return pool.submit(_gx_outcomes_released, name, frame, params).result()
        except BrokenProcessPool:  # the worker died (e.g. out of memory): validate here instead
            _WORKER.pop("pool", None)
    return _gx_outcomes(name, frame, params)


#: suite -> (what it was started for, the future of its outcomes): validations started in the
#: worker right after an ingest step committed (`start_validation`), collected by the check.
_STARTED: dict[str, tuple[tuple, Any]] = {}


def _start_key(hashes: dict, params: dict) -> tuple:
    return tuple(sorted((str(f), d) for f, d in hashes.items())), json.dumps(params, sort_keys=True, default=str)


def start_validation(con, name: str, **params) -> bool:
    """Start validating a suite in the validation worker now, right after the ingest step that
    staged its table committed, so that Great Expectations works on the other core while this
    process reads the next inputs (issue 18); the suite's check collects the outcome
    (`validate_table`), provided the table and the parameters are still what was started. Nothing
    is started without a worker (validation in-process), when the parts all passed before, or
    when the frame would be larger than one chunk (``VALIDATE_CHUNK_ROWS``: it would wait in
    this process until validated); the check then validates as before."""
    pool = _WORKER.get("pool")
    suite = _suite(name)
    if pool is None or not table_exists(con, suite.table):
        return False
    hashes, counts = _part_digests(con, name, params)
    earlier = _earlier_passes(con, name, set(hashes.values()), params)
    todo = [file for file, digest in hashes.items() if digest not in earlier]
    rows = sum(counts[file] for file in todo)
    if not rows or rows > VALIDATE_CHUNK_ROWS:
        return False
    frame = _frame(con, name, todo if name in PER_FILE_SUITES else None)
    _STARTED[name] = (_start_key(hashes, params), pool.submit(_gx_outcomes_released, name, frame, params))
    return True


def _collect(name: str, future, frame, params: dict) -> list[Outcome]:
    """The outcomes of a validation started in the worker; if the worker died meanwhile, the
    suite is validated here (``frame``: the frame, fetched again)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        _WORKER.pop("pool", None)
        return _gx_outcomes(name, frame(), params)


def release_memory() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``; nothing elsewhere).

    pandas and pickle allocate a validated frame on the C heap; once freed, glibc keeps the pages,
    so the validation worker kept the largest frame it ever validated (the whole survey answers
    table, 1.45 M rows at 50,000 employees) for the rest of the run (issue 18, docs/benchmarks.md)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


def _gx_outcomes_released(name: str, frame, params: dict) -> list[Outcome]:
    """In the validation worker: `_gx_outcomes`, then the frame's memory handed back."""
    try:
        return _gx_outcomes(name, frame, params)
    finally:
        # The pool's call item keeps the argument until the next task arrives: empty the frame
        # itself (this process's unpickled copy) so that its columns are freed now.
        frame.drop(columns=list(frame.columns), inplace=True)
        import gc

        gc.collect()
        release_memory()


def _gx_outcomes(name: str, frame, params: dict) -> list[Outcome]:
    """Run the suite on a frame with GX (in this process or in the validation worker)."""
    suite = _suite(name)
    _context()
    import great_expectations as gx

    rules = suite.expectations(params)
    for i, (rule, expectation) in enumerate(rules):
        expectation.meta = {"rule": rule, "order": i}
    gx_suite = gx.ExpectationSuite(name=f"staging_{name}", expectations=[e for _, e in rules])
    batch = _batch_definition(name).get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format={
        "result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES,
        "unexpected_index_column_names": list(suite.key_columns)})
    by_rule = {r.expectation_config.meta.get("rule"): r for r in result.results}
    return [_outcome(rule, by_rule.get(rule)) for rule, _ in rules]


# --------------------------------------------------------------------------------------------
# Passes remembered per frame
# --------------------------------------------------------------------------------------------


def _suite_code_sha256() -> str:
    if "code" not in _GX:
        from importlib import metadata
        from pathlib import Path

        digest = hashlib.sha256(Path(__file__).read_bytes())
        digest.update(metadata.version("great_expectations").encode())
        _GX["code"] = digest.hexdigest()
    return _GX["code"]


def _frame(con, name: str, files: list[str] | None):
    """The pandas frame a suite validates: the whole query, or only these files' rows."""
    suite = _suite(name)
    if suite.query is USAGE_SUMMARY_SQL:
        return _usage_summary_frame(con, files)
    if files is None:
        return con.sql(suite.query).df()
    return con.sql(f"SELECT * FROM ({suite.query}) WHERE file IN (SELECT unnest($files::VARCHAR[])) ORDER BY ALL",
                   params={"files": files}).df()


def _part_digests(con, name: str, params: dict) -> tuple[dict[str | None, str], dict[str | None, int]]:
    """(file -> digest, file -> rows; file None: the whole table). The digest is of what the suite
    would validate: the suite's name, code and parameters, the columns and types, the row count and
    DuckDB's sum of row hashes
    (order does not matter). The usage summary is a function of each file's staged rows, so its
    digest is taken over those rows, without computing the summary. A DuckDB release that hashes
    differently only validates everything once more."""
    suite = _suite(name)
    source = "SELECT * FROM staging.usage_activity" if suite.query is USAGE_SUMMARY_SQL else suite.query
    relation = con.sql(source)
    head = hashlib.sha256(f"{name}\n{_suite_code_sha256()}\n".encode())
    head.update(json.dumps({k: v for k, v in params.items() if k != "today"}, sort_keys=True, default=str).encode())
    head.update(json.dumps([[c, str(t)] for c, t in zip(relation.columns, relation.types, strict=True)]).encode())
    if name in PER_FILE_SUITES:
        rows = con.sql(f"SELECT file, count(*), sum(hash(q)::HUGEINT) FROM ({source}) q GROUP BY file "
                       "ORDER BY file").fetchall()
    else:
        rows = [(None, *con.sql(f"SELECT count(*), sum(hash(q)::HUGEINT) FROM ({source}) q").fetchall()[0])]
    digests, counts = {}, {}
    for file, count, total in rows:
        digest = head.copy()
        digest.update(f"\n{file}\n{count}\n{total}".encode())
        digests[file], counts[file] = digest.hexdigest(), count
    return digests, counts


#: Rows of a per-file suite's frame validated at once (whole files): the survey answers of a
#: 50,000-employee company (1.45 M rows) go in three frames instead of one (issue 18, memory).
VALIDATE_CHUNK_ROWS = 500_000


def _file_chunks(files: list[tuple[str, int]], limit: int | None) -> list[list[str]]:
    """Consecutive groups of whole files of at most ``limit`` rows (a larger file alone);
    ``limit`` None: one group."""
    chunks: list[list[str]] = [[]]
    rows = 0
    for file, count in files:
        if limit is not None and chunks[-1] and rows + count > limit:
            chunks.append([])
            rows = 0
        chunks[-1].append(file)
        rows += count
    return chunks


def merge_outcomes(parts: list[list[Outcome]]) -> list[Outcome]:
    """The outcomes of one suite over disjoint groups of whole files, as one validation of all of
    them: every rule of a per-file suite is on single rows or on a key that includes `file`
    (tests/unit/test_quality.py checks it), so a rule fails iff it fails in a group, with the
    groups' unexpected rows summed and their first examples. The column-set rule is the same in
    every group: it is taken once."""
    merged = []
    for same_rule in zip(*parts, strict=True):
        first = same_rule[0]
        if first.expectation == "expect_table_columns_to_match_set":
            count = max(o.unexpected_count for o in same_rule)
            examples = next((o.unexpected_examples for o in same_rule if o.unexpected_examples), [])
        else:
            count = sum(o.unexpected_count for o in same_rule)
            examples = [e for o in same_rule for e in o.unexpected_examples][:EXAMPLES]
        merged.append(Outcome(first.expectation, first.column, all(o.success for o in same_rule), count,
                              examples, first.rule))
    return merged


def _earlier_passes(con, name: str, fingerprints: set[str], params: dict) -> dict[str, tuple]:
    """fingerprint -> (outcomes, validated_at) of the parts among `fingerprints` that passed before."""
    if not table_exists(con, "audit.quality_passes"):
        return {}
    today = params.get("today") or date.today()
    rows = con.sql("SELECT frame_sha256, outcomes, validated_at FROM audit.quality_passes WHERE suite = ? "
                   "AND frame_sha256 IN (SELECT unnest(?::VARCHAR[])) AND (today IS NULL OR today <= ?)",
                   params=[name, sorted(fingerprints), today]).fetchall()
    return {digest: ([Outcome(**o) for o in json.loads(outcomes)], at) for digest, outcomes, at in rows}


def _remember_passes(con, name: str, passed: list[str], current: set[str], params: dict,
                     outcomes: list[Outcome]) -> None:
    """Remember the parts that just passed; forget passes of parts no longer in the table."""
    import duckdb

    today = (params.get("today") or date.today()) if name == "usage_activity" else None
    try:
        from kpi.migrations import ensure_tables

        ensure_tables(con, "audit.quality_passes")
        con.execute("DELETE FROM audit.quality_passes WHERE suite = ? AND (frame_sha256 NOT IN "
                    "(SELECT unnest(?::VARCHAR[])) OR frame_sha256 IN (SELECT unnest(?::VARCHAR[])))",
                    [name, sorted(current), passed])
        con.execute("INSERT INTO audit.quality_passes SELECT ?, unnest(?::VARCHAR[]), ?, ?, ?",
                    [name, passed, today, json.dumps([asdict(o) for o in outcomes], default=str),
                     datetime.now().replace(microsecond=0)])
    except duckdb.Error:  # a read-only connection: nothing remembered, nothing else changes
        pass


def _outcome(rule: str, r) -> Outcome:
    if r is None:  # GX dropped it: count as failed rather than pass silently
        return Outcome("unknown", None, False, 0, [], rule)
    config = r.expectation_config
    column = config.kwargs.get("column")
    if column is None and "column_list" in config.kwargs:
        column = ", ".join(config.kwargs["column_list"])
    elif column is None and "column_A" in config.kwargs:
        column = f"{config.kwargs['column_A']}, {config.kwargs['column_B']}"
    info = r.exception_info or {}
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "GX raised an exception").splitlines()[0]
        return Outcome(config.type, column, False, 0, [message], rule)
    res = r.result or {}
    if config.type == "expect_table_columns_to_match_set":
        missing = ((res.get("details") or {}).get("mismatched") or {}).get("missing") or []
        return Outcome(config.type, None, bool(r.success), len(missing), sorted(missing), rule)
    examples = res.get("partial_unexpected_index_list") or res.get("partial_unexpected_list") or []
    return Outcome(config.type, column, bool(r.success), int(res.get("unexpected_count") or 0),
                   [_plain(e) for e in examples[:EXAMPLES]], rule)


def _plain(value):
    """A JSON-friendly copy of a GX example value (numpy scalars, pandas timestamps, tuples)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def failures_markdown(result: QualityResult) -> str:
    """The failed expectations as a markdown table (for Dagster metadata and the CLI)."""
    if not result.failed:
        return "All expectations met." if result.rows_checked else "Table empty: nothing to check."
    lines = ["| rule | expectation | column | unexpected | examples |", "|---|---|---|---|---|"]
    for o in result.failed:
        examples = "; ".join(str(e) for e in o.unexpected_examples).replace("|", "\\|")
        lines.append(f"| {o.rule} | {o.expectation} | {o.column or ''} | {o.unexpected_count} | {examples} |")
    return "\n".join(lines)
