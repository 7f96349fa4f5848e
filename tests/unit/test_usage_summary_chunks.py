"""Issue 18, memory: the Great Expectations usage summary computed a few files at a time is the
frame of the whole-table query (same rows, order and dtypes), for every file or some."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from kpi import quality
from kpi.ingest.store import ensure_schema


def test_chunked_summary_is_the_whole_summary(monkeypatch):
    con = duckdb.connect(":memory:")
    ensure_schema(con)
    rows = [(f"usage/f{f % 7}.csv", i, "canonical_counts", dt.date(2025, 1, 1) + dt.timedelta(days=i % 5), None,
             f"p_{i % 11:024d}", False, "chat", None, i % 4 - (i == 40), 1, 0, f"k{i}", None, None, None)
            for f in range(7) for i in range(f * 13, f * 13 + 3 + f * 5)]
    con.executemany("INSERT INTO staging.usage_activity VALUES (" + ", ".join("?" * 16) + ")", rows)
    whole = con.sql(quality.USAGE_SUMMARY_SQL).df()
    for chunk in (1, 9, 25, 10**9):
        monkeypatch.setattr(quality, "SUMMARY_CHUNK_ROWS", chunk)
        chunked = quality._usage_summary_frame(con)
        pd.testing.assert_frame_equal(chunked, whole)
        some = ["usage/f2.csv", "usage/f5.csv"]
        pd.testing.assert_frame_equal(quality._usage_summary_frame(con, some),
                                      whole[whole["file"].isin(some)].reset_index(drop=True))
