"""Mapping usage records to canonical rows in DuckDB SQL (issue 18: the ingest at DuckDB's speed).

The vendor readers used to walk a file's rows in Python. Here a file's records (the CSV
tokeniser's frame, or the lines of an NDJSON file) are mapped to canonical rows, quarantine and
inactive rows by one SQL query per file. Python keeps what SQL does not do well, once per
*distinct* value instead of once per row: the date cells of a report (a few dozen distinct
texts), its report window, and each distinct user text (trimmed, checked for missing, normalised
with ``kpi.privacy.normalise_identifier``: one function for every route).

Each thread gets its own in-memory DuckDB connection (the usage files are read in background
threads while the main thread writes the warehouse). A query scans one frame of the file (an
Arrow view of this thread's connection) and takes its small lookups (the parsed dates, the
report windows) as bound list parameters, unnested in SQL: registering a frame costs about a
millisecond, a list parameter a tenth of that. Every value from a file reaches SQL as data (a
scanned column or a bound parameter), never as SQL text; the SQL text holds only the column
names the reader gives the frame (``c0``, ``c1``, ...).
"""

from __future__ import annotations

import re
import threading
import warnings

import polars as pl

_LOCAL = threading.local()
_COPY_WARNING = "Arrow output on a DB-API result makes an extra copy"
_QUIET = ("ignore", re.compile(_COPY_WARNING, re.I), UserWarning, re.compile(__name__), 0)


def connection():
    """This thread's in-memory DuckDB connection for mapping (opened on first use)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute("SET threads = 1")  # one file at a time; the other core writes the warehouse
        _LOCAL.con = con
    return con


def query(sql: str, params: list | dict | None = None, **frames: pl.DataFrame) -> pl.DataFrame:
    """Run ``sql`` with bound ``params`` over the polars ``frames`` (each visible under its
    keyword name) and return the result as polars. The frames are registered as Arrow views of
    this thread's private connection (never in a transaction, so unregistering frees them)."""
    con = connection()
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        # run at once (a relation, con.sql, binds the statement once more to describe it: about
        # a millisecond per file); its result is small, so the copy DuckDB warns about is cheap
        con.execute(sql, params)
        if _QUIET not in warnings.filters:  # (test runners reset the filters)
            warnings.filterwarnings("ignore", _COPY_WARNING, UserWarning, __name__)
        return pl.from_arrow(con.to_arrow_table())  # type: ignore[return-value]
    finally:
        for name in frames:
            con.unregister(name)


def parsed_dates(texts: list[str], dates) -> dict[str, list]:
    """The distinct date texts of a file that are not missing, each parsed once by ``parse_date``,
    as list parameters for SQL (``unnest``): ``date_text``, ``date_day`` (null when invalid) and
    ``date_reason`` (``invalid_date``; ``out_of_range`` outside the plausible ``DateRange``;
    null when the date is usable). A missing text (empty, null, none) is left out: it neither
    proves a day nor fails."""
    from kpi.adapters.textio import parse_date

    out: dict[str, list] = {"date_text": [], "date_day": [], "date_reason": []}
    for text in texts:
        day, ok = parse_date(text)
        if ok and day is None:
            continue
        out["date_text"].append(text)
        out["date_day"].append(day if ok else None)
        out["date_reason"].append("invalid_date" if not ok else
                                  "out_of_range" if dates is not None and day not in dates else None)
    return out


#: the lookup of ``parsed_dates`` as a relation (text, day, reason)
DATES_SQL = ("SELECT unnest($date_text::VARCHAR[]) AS text, unnest($date_day::DATE[]) AS day, "
             "unnest($date_reason::VARCHAR[]) AS reason")


def date_lookup(texts: list[str], dates) -> pl.DataFrame:
    """Each distinct date text of a file, parsed once by ``parse_date``: ``day`` (null when
    missing or invalid), ``missing`` (empty, null, none), ``ok`` (parses or is missing) and
    ``outside`` (a day outside the plausible ``DateRange``; False without one)."""
    from kpi.adapters.textio import is_missing, parse_date

    parsed = [parse_date(text) for text in texts]
    return pl.DataFrame(
        {"text": texts, "day": [day if ok else None for day, ok in parsed],
         "missing": [is_missing(text) for text in texts], "ok": [ok for _, ok in parsed],
         "outside": [day is not None and ok and dates is not None and day not in dates for day, ok in parsed]},
        schema={"text": pl.String, "day": pl.Date, "missing": pl.Boolean, "ok": pl.Boolean, "outside": pl.Boolean})
