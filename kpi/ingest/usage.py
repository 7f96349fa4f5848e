"""Usage inputs: accumulate canonical activity rows over every usage file ever ingested.

Parse-level decisions (bad dates, counts, malformed rows, duplicates) are taken here, once per
file version. Whether a row's user is a known employee employed that day is decided on every run
by the match stage (sql/intermediate/int_usage_match.sql).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty, Queue

import polars as pl

from kpi.ingest.checks import InputChecks, concealed_warning, file_problem, format_note
from kpi.ingest.files import InputFile
from kpi.ingest.store import (
    FileReport,
    hr_identity_keys,
    insert_frame,
    quarantine_frame,
    reason_counts,
    reject_identifier_rows,
    write_manifests,
    write_quarantine,
    write_warnings_of,
)

VALUE_COLUMNS = ["day", "event_time", "tool", "action", "interactions", "successes", "failures",
                 "period_start", "period_end", "cadence"]
STAGED_COLUMNS = ["file", "row_number", "format", "day", "event_time", "user_key", "user_concealed", "tool",
                  "action", "interactions", "successes", "failures", "natural_key", "cadence",
                  "period_start", "period_end"]


def pseudonymise_rows(rows: pl.DataFrame, fmt: str, rel: str, key: bytes) -> pl.DataFrame:
    """Replace identifiers by pseudonyms; natural keys are rebuilt on the pseudonym.

    (Event-level rows with a date only carry their occurrence number among identical rows in the
    key, so the n-th identical row of a re-export lines up with the n-th of the earlier file.)
    """
    from kpi.adapters.usage_common import KEY_SEP

    rows = rows.join(_pseudonyms(rows.get_column("user_norm"), key), on="user_norm", how="left",
                     maintain_order="left")
    # The key's user field (a whole KEY_SEP-separated field) becomes the pseudonym.
    padded = pl.concat_str([pl.lit(KEY_SEP), pl.col("natural_key"), pl.lit(KEY_SEP)])
    position = padded.str.find(pl.concat_str([pl.lit(KEY_SEP), pl.col("user_norm"), pl.lit(KEY_SEP)]), literal=True)
    rows = rows.with_columns(
        pl.when(position.is_not_null())
        .then(pl.concat_str([padded.str.head(position), pl.lit(KEY_SEP), pl.col("user_key"), pl.lit(KEY_SEP),
                             padded.str.slice(position + pl.col("user_norm").str.len_chars() + 2)]))
        .otherwise(padded)
        .str.strip_chars(KEY_SEP)
        .alias("natural_key")
    )
    return rows.with_columns(pl.lit(rel).alias("file"), pl.lit(fmt).alias("format"))


_PSEUDONYMS: dict[bytes, pl.DataFrame] = {}  # the run's key -> every identifier met so far
_PSEUDONYMS_LOCK = threading.Lock()


def _pseudonyms(users: pl.Series, key: bytes) -> pl.DataFrame:
    """``user_norm`` -> ``user_key`` (``kpi.privacy.pseudonymise``; null for a blank identifier) and
    ``user_concealed`` (``is_concealed_identity``) for the distinct identifiers of ``users``. Each
    identifier is hashed once per process and key, not once per file: the files of a run name the
    same people again (10,000 distinct identifiers in each of 200 files at 10,000 employees), and
    the readers look them up as a join."""
    from kpi.adapters.usage import is_concealed_identity
    from kpi.privacy import pseudonymise

    distinct = users.drop_nulls().unique()
    with _PSEUDONYMS_LOCK:
        known = _PSEUDONYMS.get(key)
    if known is not None:
        distinct = distinct.filter(~distinct.is_in(known.get_column("user_norm")))
    if distinct.len() == 0 and known is not None:
        return known
    new = distinct.to_list()
    table = pl.DataFrame({"user_norm": new,
                          "user_key": [pseudonymise(u, key) if u.strip() else None for u in new],
                          "user_concealed": [is_concealed_identity(u) for u in new]},
                         schema={"user_norm": pl.String, "user_key": pl.String, "user_concealed": pl.Boolean})
    with _PSEUDONYMS_LOCK:  # one key per run: an earlier key's table is dropped
        known = _PSEUDONYMS.get(key)
        if known is not None:
            table = pl.concat([known, table.filter(~pl.col("user_norm").is_in(known.get_column("user_norm")))])
        _PSEUDONYMS.clear()
        _PSEUDONYMS[key] = table
    return table


TEXT_COLUMNS = ("tool", "action")  # text of the export staged as is (never an identifier)
BATCH_ROWS = 300_000  # activity rows compared and written together (more: faster, more memory)
COMPARED_COLUMNS = ["day", "event_time", "tool", "action", "interactions", "successes", "failures"]


@dataclass
class _PendingFile:
    order: int
    source: InputFile
    sha256: str
    read: object = None  # UsageRead; None when the file was ingested before (skipped)
    rows: pl.DataFrame | None = None  # its activity rows, pseudonymised, first of each natural key
    repeated_rows: list[int] = field(default_factory=list)  # source rows repeating a key inside the file
    concealed_rows: int = 0  # source rows whose user is concealed (active or not)
    same_as: str | None = None  # skipped: the file first read with this content


READERS = 2  # files read and pseudonymised at once (DuckDB and polars release the GIL)


def _prepare(sources: list[InputFile], ingested: dict[str, str], cfg, key: bytes,
             checks: InputChecks, known: set[str] | frozenset = frozenset()) -> Iterator[_PendingFile]:
    """Hash, read and pseudonymise each file not ingested before (pure: no warehouse access), in
    the order given; ``READERS`` files are read at a time, one more queued.
    ``ingested``: sha256 -> the file first read with that content (earlier runs, then this one).
    A source row whose tool or action holds an identifier (an e-mail, or one of ``known``, the HR
    list's: swapped columns) is quarantined as ``out_of_range``: staging stores no raw identifier."""
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    ahead: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="usage-reader") as pool:
        try:
            for order, source in enumerate(sources):
                sha = source.sha256
                if sha in ingested:  # decided in file order: the same content twice in one run reads once
                    skipped: Future = Future()
                    skipped.set_result(_PendingFile(order, source, sha, same_as=ingested[sha]
                                                    if ingested[sha] != source.rel else None))
                    ahead.append(skipped)
                else:
                    ingested[sha] = source.rel
                    ahead.append(pool.submit(_read_file, order, source, sha, cfg, key, checks, known))
                while len(ahead) > READERS + 1:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
        finally:
            for future in ahead:
                future.cancel()


def _read_file(order: int, source: InputFile, sha: str, cfg, key: bytes, checks: InputChecks,
               known: set[str] | frozenset) -> _PendingFile:
    """One usage file read, checked for identifiers in text columns and pseudonymised."""
    from kpi.adapters.usage import read_usage_file

    read = read_usage_file(source.path, source.rel, cfg.company.timezone, cfg.company.decimal_separator,
                           dates=checks.dates)
    read.rows = reject_identifier_rows(read.rows, TEXT_COLUMNS, key, known, read.quarantine)
    rows = pseudonymise_rows(read.rows, read.format, source.rel, key)
    concealed = read.concealed_rows or rows.filter("user_concealed").get_column("row_number").n_unique()
    first = rows.get_column("natural_key").is_first_distinct()
    staged = rows.filter(first).select(STAGED_COLUMNS).with_columns(pl.lit(order, pl.Int32).alias("_order"))
    repeated = rows.filter(~first).get_column("row_number").to_list()
    # The pending file keeps only its staged rows: the read's own frame (identifiers not yet
    # pseudonymised) is not used after this, and a file waiting in the queue would hold both
    # (issue 18: at 50,000 employees several files of up to 400,000 rows wait at once).
    read.rows = read.rows.clear()
    del rows
    return _PendingFile(order, source, sha, read, staged, repeated, concealed_rows=concealed)


def _in_background(items: Iterator, depth: int = 3) -> Iterator:
    """Run a generator in a thread, `depth` items ahead: files are read and pseudonymised (mostly
    Python and polars) while the caller writes the previous batch (DuckDB, which releases the
    GIL), so both cores work. An exception in the generator is raised in the caller."""
    done = object()
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put((item, None))
        except BaseException as error:  # noqa: BLE001 - handed over to the caller
            queue.put((None, error))
            return
        queue.put((done, None))

    thread = threading.Thread(target=produce, name="usage-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue, then let it end
            try:
                queue.get_nowait()
            except Empty:
                thread.join(0.05)


def ingest_usage_files(con, sources: list[InputFile], cfg, key: bytes, now: datetime,
                       batch_rows: int | None = None, checks: InputChecks | None = None) -> list[FileReport]:
    """Ingest the usage files not ingested before (by sha256), in the order given.

    The result is the same as ingesting the files one by one, in order:

    - inside one file, a repeated natural key is a duplicate (the first row is kept);
    - a row whose natural key is already staged is a duplicate when its values are equal to the
      staged row's, else it replaces it (`rows_replaced`).

    Files are read in a background thread and compared and written in batches of about
    `batch_rows` activity rows: one comparison with the staged table per batch instead of one per
    file. Within a batch the rule above becomes a window over each natural key's versions in file
    order: a version is a duplicate when it equals the version before it (the staged row, or an
    earlier file's), and the last version that is not a duplicate is the one staged.

    Each file read is judged as a whole (`kpi.ingest.checks`): usage files get warnings, never
    stop the run. A skipped file whose content another file brought names it (`same_as`).
    """
    batch_rows = batch_rows or BATCH_ROWS
    checks = checks or InputChecks.from_config(cfg, now)
    known = hr_identity_keys(con)
    ingested = dict(con.sql("SELECT sha256, arg_min(file, ingested_at) FROM audit.ingest_manifest "
                            "GROUP BY sha256").fetchall())
    reports: dict[int, FileReport] = {}
    pending: list[_PendingFile] = []
    held = 0
    for file in _in_background(_prepare(sources, ingested, cfg, key, checks, known)):
        if file.read is None:
            reports[file.order] = FileReport(file=file.source.rel, sha256=file.sha256, format="",
                                             input_kind="accumulating", skipped=True, same_as=file.same_as)
            continue
        pending.append(file)
        held += file.rows.height
        if held >= batch_rows:
            _write_batch(con, pending, reports, key, now, checks, known)
            pending, held = [], 0
    if pending:
        _write_batch(con, pending, reports, key, now, checks, known)
    _forget_pseudonyms()
    return [reports[order] for order in sorted(reports)]


def _forget_pseudonyms() -> None:
    """Drop the run's pseudonym table and hand the readers' freed memory back (glibc)."""
    from kpi.quality import release_memory

    with _PSEUDONYMS_LOCK:
        _PSEUDONYMS.clear()
    release_memory()


def _write_batch(con, pending: list[_PendingFile], reports: dict[int, FileReport], key: bytes,
                 now: datetime, checks: InputChecks, known: set[str]) -> None:
    """Compare a batch of files' rows with the staged rows, stage them, write quarantine and manifest.

    The batch is scanned from Arrow through relations, never held in temporary tables: inside the
    ingest transaction DuckDB keeps dropped tables until COMMIT, which held every batch at once
    (1.7 GiB at 10,000 employees)."""
    batch = pl.concat([file.rows for file in pending], how="vertical_relaxed").with_row_index("_row")
    for file in pending:
        file.rows = None
    values = ", ".join(COMPARED_COLUMNS)
    equal = " AND ".join(f"{c} IS NOT DISTINCT FROM lag({c}) OVER versions" for c in COMPARED_COLUMNS)
    # Every version of each key the batch touches: the staged row (order -1), then the batch's in
    # file order. A version equal to the one before it is a duplicate; of the others, the last is staged.
    # Equal natural keys have days at most one apart: every key holds the row's day, its event time
    # as exported (whose company-local day a change of company.timezone can move by a day), or the
    # ChatGPT period the day is derived from. So only staged rows within a day of the batch's days
    # can share a key, and DuckDB skips the row groups of older data (zone maps on `day`).
    status = con.from_arrow(batch.select("_row", "natural_key", "_order", *COMPARED_COLUMNS).to_arrow()).query(
        "_usage_batch", f"""
        WITH staged AS (
            SELECT natural_key, {values}
            FROM staging.usage_activity
            WHERE day BETWEEN (SELECT min(day) - 1 FROM _usage_batch) AND (SELECT max(day) + 1 FROM _usage_batch)
              AND natural_key IN (SELECT natural_key FROM _usage_batch)
        ),
        -- keys with more than one version (staged or in several files): usually few
        repeated AS (
            SELECT natural_key FROM (SELECT natural_key FROM _usage_batch UNION ALL SELECT natural_key FROM staged)
            GROUP BY natural_key HAVING count(*) > 1
        ),
        versions AS (
            SELECT NULL::UINT32 AS _row, natural_key, -1 AS _order, {values} FROM staged
            UNION ALL
            SELECT _row, natural_key, _order, {values} FROM _usage_batch
            WHERE natural_key IN (SELECT natural_key FROM repeated)
        ),
        flagged AS (
            SELECT _row, natural_key, _order,
                   (lag(_order) OVER versions IS NOT NULL AND {equal}) AS duplicate,
                   lag(_order) OVER versions IS NOT NULL AS had_version,
                   bool_or(_order = -1) OVER (PARTITION BY natural_key) AS was_staged
            FROM versions
            WINDOW versions AS (PARTITION BY natural_key ORDER BY _order)
        )
        -- only the versions of repeated keys: a key seen once, in one file of this batch, is new,
        -- loaded and staged (most rows of a first run), so its row is not sent back
        SELECT _row, duplicate, had_version AND NOT duplicate AS replaced,
               NOT duplicate AND _order = max(_order) FILTER (WHERE NOT duplicate)
                                          OVER (PARTITION BY natural_key) AS staged,
               CASE WHEN was_staged AND NOT duplicate THEN natural_key END AS replaces
        FROM flagged
        QUALIFY _order >= 0
        """).pl()
    gone = status.select(pl.col("replaces").drop_nulls().unique().alias("natural_key"))
    if gone.height:  # staged rows that a batch row replaces
        con.from_arrow(gone.to_arrow()).query(
            "_replaced_keys",
            "DELETE FROM staging.usage_activity WHERE natural_key IN (SELECT natural_key FROM _replaced_keys)",
        )
    staged = batch.join(status.filter(~pl.col("staged")).select("_row"), on="_row", how="anti")
    insert_frame(con, "staging.usage_activity", staged.select(STAGED_COLUMNS))
    del staged
    status = status.join(batch.select("_row", "_order", "row_number"), on="_row")
    duplicates = _duplicate_rows(batch.select("_row", "_order", "row_number"), status, pending)
    del batch
    replaced = dict(status.filter("replaced").group_by("_order").agg(pl.col("row_number").n_unique()).iter_rows())
    quarantines = []
    for file in pending:
        report, frame = _account(file, duplicates.get(file.order, []), replaced.get(file.order, 0), key, checks, known)
        reports[file.order] = report
        quarantines.append(frame)
    write_quarantine(con, pl.concat(quarantines))
    done = [reports[file.order] for file in pending]
    write_warnings_of(con, done, now)
    write_manifests(con, done, now)


def _duplicate_rows(batch: pl.DataFrame, status: pl.DataFrame, pending: list[_PendingFile]) -> dict[int, list[int]]:
    """file order -> its source rows every activity row of which is a duplicate: of an earlier
    version (the staged row or an earlier file's) or of an earlier row of the same file."""
    repeated = pl.DataFrame({"_order": [f.order for f in pending for _ in f.repeated_rows],
                             "row_number": [n for f in pending for n in f.repeated_rows]},
                            schema={"_order": pl.Int32, "row_number": pl.Int64})
    duplicate = status.filter("duplicate")
    candidates = pl.concat([duplicate.select("_order", "row_number"), repeated]).unique()
    if candidates.height == 0:
        return {}
    # a candidate with one activity row that is not a duplicate is loaded
    loaded = batch.join(candidates, on=["_order", "row_number"], how="semi").join(
        duplicate.select("_row"), on="_row", how="anti").select("_order", "row_number")
    rows = candidates.join(loaded, on=["_order", "row_number"], how="anti").sort("_order", "row_number")
    return {order: part.get_column("row_number").to_list()
            for (order,), part in rows.partition_by("_order", as_dict=True).items()}


def _account(file: _PendingFile, duplicate_rows: list[int], rows_replaced: int, key: bytes,
             checks: InputChecks, known: set[str]) -> tuple[FileReport, pl.DataFrame]:
    """Source-row accounting of one file, and its quarantine as written: a source row is
    quarantined when it failed to parse, or when every activity row it produced was a duplicate;
    otherwise it is loaded."""
    read = file.read
    quarantine = list(read.quarantine)
    parse_rejected = {q["row_number"] for q in quarantine}
    all_duplicate = [n for n in duplicate_rows if n not in parse_rejected]
    for row_number in all_duplicate:
        quarantine.append({"row_number": row_number, "column": "(natural key)", "value": None, "reason": "duplicate"})
    well_formed, by_column = _unusable_columns(read)
    # a column none of whose values is usable (swapped columns) is treated as holding identifiers
    swapped = {column for column, reasons in by_column.items() if well_formed and sum(reasons.values()) >= well_formed}
    frame = quarantine_frame(quarantine, file.source.rel, file.sha256, "ingest", key,
                             personal_columns=read.personal_columns | swapped, known_identities=known)
    rows_quarantined = len(parse_rejected) + len(all_duplicate)
    report = FileReport(
        file=file.source.rel, sha256=file.sha256, format=read.format, input_kind="accumulating",
        rows_read=read.rows_read, rows_loaded=read.rows_read - rows_quarantined,
        rows_quarantined=rows_quarantined, rows_replaced=rows_replaced,
        chars_replaced=read.chars_replaced, quarantine_reasons=reason_counts(quarantine),
    )
    for warning in _warnings(report, file, well_formed, by_column, checks.max_quarantined_share):
        report.warnings.append(checks.warn(warning))
    return report, frame


def _unusable_columns(read) -> tuple[int, dict[str, dict[str, int]]]:
    """(well-formed source rows, column -> reason -> rows rejected at parsing for that column)."""
    well_formed = read.rows_read - sum(1 for q in read.quarantine if q["reason"] == "malformed_row")
    by_column: dict[str, dict[str, int]] = {}
    for q in read.quarantine:
        if q["reason"] != "malformed_row" and q.get("column"):
            counts = by_column.setdefault(q["column"], {})
            counts[q["reason"]] = counts.get(q["reason"], 0) + 1
    return well_formed, by_column


def _warnings(report: FileReport, file: _PendingFile, well_formed: int, by_column: dict[str, dict[str, int]],
              max_share: float):
    """A usage file's warnings: concealed user names (whatever their activity), the format's notes,
    and the sanity gates (a column without one usable value, no row loaded, too many rejected)."""
    from kpi.ingest.checks import InputWarning

    if file.concealed_rows:
        yield concealed_warning(report.file, file.concealed_rows, report.rows_read)
    for note in file.read.warnings:
        yield format_note(report.file, note)
    invalid = [(column, reasons, well_formed, "is it the right export? see docs/inputs.md, Usage formats")
               for column, reasons in by_column.items()]
    problem = file_problem(report.file, report.rows_read, report.rows_loaded, report.quarantine_reasons, max_share,
                           invalid_columns=invalid, fix="export it again with its rows, or remove it",
                           accumulating=True)
    if problem is not None:
        yield InputWarning(report.file, *problem)
