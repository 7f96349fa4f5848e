"""warehouse.memory_limit (issue 18): DuckDB's memory is capped by configuration and spills beside
the warehouse file."""

from __future__ import annotations

import duckdb

from kpi.warehouse import limit_memory, spill_directory


def _settings(con) -> tuple[str, str]:
    return con.sql("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]


def test_limit_and_spill_folder_beside_the_warehouse(tmp_path):
    path = tmp_path / "it's a warehouse.duckdb"  # a quote in the path: bound, never SQL text
    con = duckdb.connect(str(path))
    limit_memory(con.cursor(), 1.5)  # a cursor sets the database's settings
    assert _settings(con) == ("1.5 GiB", str(spill_directory(path)))
    assert spill_directory(path).name == "it's a warehouse.duckdb.tmp"
    # every step of a run sets it again: the same folder is not switched (DuckDB refuses to switch
    # a folder it has spilled to), a changed limit applies
    con.execute("SET memory_limit = '64MiB'")
    con.sql("SELECT count(*) FROM (SELECT DISTINCT i % 2000003 FROM range(3000000) t(i))").fetchall()
    limit_memory(con, 0.25)
    assert _settings(con) == ("256.0 MiB", str(spill_directory(path)))


def test_in_memory_database_spills_to_the_temporary_folder():
    con = duckdb.connect()
    limit_memory(con, 2)
    limit, folder = _settings(con)
    assert limit == "2.0 GiB" and folder.endswith("kpi-duckdb-spill")


def test_a_pending_usage_file_keeps_only_its_staged_rows(tmp_path):
    """A file read ahead waits with its staged rows only: the read's own frame (identifiers not
    yet pseudonymised) is emptied, its counts and quarantine stay for the file's accounting."""
    from types import SimpleNamespace

    from kpi.ingest.files import InputFile
    from kpi.ingest.usage import _read_file

    path = tmp_path / "gateway-2025-03.csv"
    path.write_text("event_time,user,tool,interactions\n2025-03-03T10:00:00Z,anna@x.example,chat,2\n"
                    "2025-03-03T10:00:00Z,anna@x.example,chat,2\nnot-a-time,ben@x.example,chat,1\n")
    cfg = SimpleNamespace(company=SimpleNamespace(timezone="UTC", decimal_separator="."))
    source = InputFile(path, "usage/gateway/gateway-2025-03.csv", "usage")
    pending = _read_file(0, source, source.sha256, cfg, b"k" * 32, SimpleNamespace(dates=None), frozenset())
    assert pending.read.rows.height == 0 and pending.read.rows_read == 3
    assert pending.rows.height == 1 and pending.repeated_rows == [2]
    assert [(q["row_number"], q["reason"]) for q in pending.read.quarantine] == [(3, "invalid_date")]


def test_the_validation_worker_empties_the_frame_it_validated(monkeypatch):
    """The worker's task wrapper frees the validated frame's columns (its pool keeps the argument
    until the next task) and hands the C heap back; the outcomes are returned as they are."""
    import pandas as pd

    from kpi import quality

    monkeypatch.setattr(quality, "_gx_outcomes", lambda name, frame, params: [("checked", len(frame))])
    frame = pd.DataFrame({"file": ["a.csv"] * 3, "day": [1, 2, 3]})
    assert quality._gx_outcomes_released("usage_activity", frame, {}) == [("checked", 3)]
    assert frame.shape[1] == 0
    quality.release_memory()  # harmless anywhere (a no-op without glibc)
