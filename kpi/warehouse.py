"""Small questions about the DuckDB warehouse that several modules ask, and opening it with every
problem as one line naming the file."""

from __future__ import annotations

from pathlib import Path

from kpi.errors import UserError


def table_exists(con, qualified_name: str) -> bool:
    """Whether a (non-temporary) table `schema.table` exists in the warehouse."""
    schema, table = qualified_name.split(".")
    return con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND NOT temporary",
        params=[schema, table],
    ).fetchall()[0][0] > 0


# --------------------------------------------------------------------------------------------
# Opening the warehouse: every problem is one line naming the file (docs/architecture.md,
# "Failures and locks")
# --------------------------------------------------------------------------------------------

#: How long `kpi run` waits for readers (kpi report, kpi roi, a notebook) to close the warehouse
#: before it gives up with one line; a writer (another kpi run) is not waited for.
READER_WAIT_SECONDS = 60.0

#: Words of an operating-system error that the user fixes on the machine, not in the inputs
#: (errno texts as the OS and DuckDB spell them) -> what to do.
_STORAGE_PROBLEMS = {
    "No space left on device": "the disk is full: free some space and run again",
    "Disk quota exceeded": "the disk quota is used up: free some space and run again",
    "Read-only file system": "the folder is on a read-only file system: choose a folder you can write to",
    "Permission denied": "no permission to write there: choose a folder you can write to",
    "Operation not permitted": "no permission to write there: choose a folder you can write to",
}


class WarehouseBusy(UserError):
    """Another process holds the warehouse. `readers`: only readers hold it (they end soon, so a
    writer may wait); otherwise a writer (another `kpi run`) does."""

    def __init__(self, message: str, readers: bool):
        super().__init__(message)
        self.readers = readers


def storage_problem(text: str) -> tuple[str, str] | None:
    """(the OS's words, what to do) for an operating-system problem named in an error text (disk
    full, read-only folder, no permission), or None when the text names none."""
    for words, fix in _STORAGE_PROBLEMS.items():
        if words in text:
            return words, fix
    return None


def busy_message(path, holder_pid: int | None = None) -> str:
    process = f" (process {holder_pid})" if holder_pid else ""
    return f"{path} is in use by a running kpi run{process}; try again when it ends"


def open_warehouse(path, *, read_only: bool):
    """Open the warehouse, every problem as a one-line UserError naming the file: missing (read
    only), a folder, not a DuckDB file, in use by a writer (`WarehouseBusy`, readers=False), held by
    readers while we want to write (`WarehouseBusy`, readers=True), a folder we cannot write to,
    a full disk. A writer creates the folders it needs."""
    import duckdb

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a warehouse; pass the .duckdb file written by kpi run"
                        if read_only else f"{path}: is a folder, not a warehouse file; pass a file name such as "
                        f"{path / 'warehouse.duckdb'}")
    if read_only and not path.exists():
        raise UserError(f"{path}: warehouse not found; run kpi run (or kpi demo) first, or check --warehouse")
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{path}: cannot create the folder {path.parent} ({_os_reason(exc)})") from None
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise _open_error(path, exc, read_only) from None


def _open_error(path, exc, read_only: bool) -> UserError:
    import re

    import duckdb

    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "Could not set lock" in text or "Conflicting lock" in text:
        pid = re.search(r"\(PID (\d+)\)", text)
        if not read_only:  # readers only (a shared lock) or a writer? Readers let us read.
            try:
                duckdb.connect(str(path), read_only=True).close()
            except duckdb.Error:
                pass
            else:
                return WarehouseBusy(
                    f"{path} is open in another program (kpi report, kpi roi or a notebook"
                    f"{f', process {pid.group(1)}' if pid else ''}); close it and run again", readers=True)
        return WarehouseBusy(busy_message(path, int(pid.group(1)) if pid else None), readers=False)
    if "not a valid DuckDB database file" in text:
        return UserError(f"{path}: not a DuckDB warehouse (the file holds something else); pass the .duckdb "
                         "file written by kpi run, or a new file name for a new warehouse")
    if "Is a directory" in text:
        return UserError(f"{path}: is a folder, not a warehouse file; pass a file name such as "
                         f"{path}/warehouse.duckdb")
    problem = storage_problem(text)
    if problem:
        return UserError(f"{path}: cannot {'open' if read_only else 'write'} the warehouse ({problem[0]}); "
                         f"{problem[1]}")
    return UserError(f"{path}: cannot be opened as a DuckDB warehouse ({first}); pass the file written by "
                     "kpi run")


def _os_reason(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    problem = storage_problem(text)
    return f"{problem[0]}; {problem[1]}" if problem else text


def open_for_run(path, *, wait: float = READER_WAIT_SECONDS, say=None):
    """The read-write connection `kpi run` holds for the whole run. Readers holding the file (a
    `kpi report`, `kpi roi` or notebook that opened it a moment before) are waited for, up to
    `wait` seconds, with one line saying so; a writer is not (one line naming the file)."""
    import time

    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            return open_warehouse(path, read_only=False)
        except WarehouseBusy as busy:
            if not busy.readers or time.monotonic() >= deadline:
                if busy.readers:
                    raise UserError(f"{busy} (waited {wait:g} s)") from None
                raise
            if not told and say is not None:
                say(f"waiting for {path}: open read-only in another program (kpi report, kpi roi or a "
                    f"notebook); up to {wait:g} s")
                told = True
            time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# Memory: bounded by configuration, not by the company's size
# --------------------------------------------------------------------------------------------


def spill_directory(path) -> Path:
    """Where DuckDB spills what does not fit under the memory limit: `<warehouse>.tmp/` beside
    the warehouse file (DuckDB's own default for a file database, made explicit)."""
    return Path(str(path) + ".tmp")


def limit_memory(con, memory_limit_gib: float) -> None:
    """Cap the memory DuckDB holds for this database (`warehouse.memory_limit`); beyond it, sorts,
    joins, aggregates and windows spill to `spill_directory` of the database file (for an
    in-memory database, `kpi validate`: a folder in the system's temporary directory). The
    settings are the database's, so every cursor of `con` shares them. Values are bound."""
    import tempfile

    path = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    folder = (spill_directory(path[0][0]) if path and path[0][0]
              else Path(tempfile.gettempdir()) / "kpi-duckdb-spill")
    limit = f"{max(1, round(memory_limit_gib * 1024))}MiB"
    con.execute("SET memory_limit = $1", [limit])
    _LIMITS[_database_path(con)] = limit
    # DuckDB refuses to switch the folder once it has spilled there: set it only when it differs
    current = con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]
    if current != str(folder):
        con.execute("SET temp_directory = $1", [str(folder)])


#: database path -> the memory limit ``limit_memory`` set (DuckDB shows it rounded: 1.2 GiB)
_LIMITS: dict[str, str] = {}


def _database_path(con) -> str:
    path = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return str(path[0][0] or "") if path else ""


def release_cached_pages(con, keep_mib: int = 128) -> None:
    """Let DuckDB drop the table pages it keeps cached (up to the memory limit) before the process
    needs memory of its own: the memory limit is lowered to ``keep_mib`` for a moment (DuckDB
    evicts what it can, and hands the memory back), then set back to what ``limit_memory`` set.
    A Great Expectations check holds a whole staged table as a pandas frame beside them (issue 18,
    docs/benchmarks.md: 0.4 GiB of cached pages at 50,000 employees). When DuckDB cannot come
    down that far (memory in use), the limit stays as it was; a database ``limit_memory`` did not
    limit is left alone."""
    import duckdb

    limit = _LIMITS.get(_database_path(con))
    if limit is None:  # no limit_memory on this database: leave its settings alone
        return
    try:
        con.execute("SET memory_limit = $1", [f"{keep_mib}MiB"])
    except duckdb.Error:
        pass
    finally:
        con.execute("SET memory_limit = $1", [limit])
