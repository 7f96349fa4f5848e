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
