"""Mapping usage records to canonical rows in DuckDB SQL (issue 18: the ingest at DuckDB's speed).

The vendor readers used to walk a file's rows in Python. Here a file's records (the CSV
tokeniser's frame, or DuckDB's own JSON reader) are mapped to canonical rows, quarantine and
inactive rows by one SQL query per file. Python keeps what SQL does not do well, once per
*distinct* value instead of once per row: the date cells of a report (a few dozen distinct
texts), its report window, and each distinct user text (trimmed, checked for missing, normalised
with ``kpi.privacy.normalise_identifier``: one function for every route).

Each thread gets its own in-memory DuckDB connection (the usage files are read in a background
thread while the main thread writes the warehouse); frames are scanned through Arrow relations,
and every value from a file reaches SQL as data (a scanned column or a bound parameter), never
as SQL text.
"""

from __future__ import annotations

import threading

import polars as pl

_LOCAL = threading.local()


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
        return con.sql(sql, params=params).pl()
    finally:
        for name in frames:
            con.unregister(name)


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
