"""What leaves the warehouse: the aggregates-only file, and cells that are safe to open.

``export_aggregates`` writes a DuckDB file to hand to analysts, notebook users and a works
council (docs/privacy.md, "Who gets which file"): the marts (KPI marts, snapshots, ROI tables),
the ingest manifest's counts per file, the quarantine's counts per file and reason, and which
quarters are frozen; never a table declared ``person_level`` in the catalogue, never a column
holding pseudonyms, never a quarantined value. Before the file is moved into place every text
value in it is compared with every pseudonym of the warehouse; one match and nothing is written.

``safe_cell`` is the one rule for cells written to CSV or XLSX files (OWASP "CSV injection"):
text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single
quote, so a spreadsheet shows it as text instead of running it as a formula; numbers stay
numbers (a negative number is a number, not text).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kpi.errors import UserError

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text that a spreadsheet would read as a
    formula gets a leading ``'``; anything else (numbers, booleans, dates, None) is returned as
    it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# --------------------------------------------------------------------------------------------
# The aggregates-only file
# --------------------------------------------------------------------------------------------

#: Audit tables copied besides the marts (their columns holding pseudonyms left out).
AUDIT_TABLES = ("audit.ingest_manifest", "audit.frozen_quarters")
#: Columns left out besides those holding pseudonyms: when a quarter was frozen says when an
#: erasure happened, which can point at the person who asked for it.
LEFT_OUT_COLUMNS = {"audit.frozen_quarters": ("frozen_on",)}
#: Tables only the aggregates file has (derived while exporting).
QUARANTINE_COUNTS = "audit.quarantine_counts"
EXPORT_INFO = "audit.export_info"
_QUARANTINE_COUNTS_DDL = f"""CREATE TABLE {QUARANTINE_COUNTS} (
    file VARCHAR NOT NULL,   -- path relative to the inputs folder
    stage VARCHAR NOT NULL,  -- ingest or match
    reason VARCHAR NOT NULL, -- the reason code (docs/quality.md)
    "column" VARCHAR,        -- the offending column
    "rows" BIGINT NOT NULL   -- rows (or cells) quarantined; their values are not in this file
)"""
_EXPORT_INFO_DDL = f"""CREATE TABLE {EXPORT_INFO} (
    exported_at TIMESTAMP NOT NULL,  -- when this file was written
    release VARCHAR NOT NULL,        -- the release that wrote it
    schema_version INTEGER,          -- the warehouse's schema version (audit.schema_version)
    note VARCHAR NOT NULL
)"""
_NOTE = ("Aggregates only (kpi export --aggregates): KPI marts, snapshots, ROI tables and audit counts; "
         "no person-level row, no pseudonym, no quarantined value (docs/privacy.md).")


def holds_pseudonyms(column) -> bool:
    """Whether a declared column holds pseudonyms (or anything derived from the pseudonym key):
    the catalogue says so in its description."""
    return "pseudonym" in column.description.lower()


def exported_tables(catalog=None) -> list[tuple[Any, list[Any]]]:
    """(table, the columns copied) of every declared table the aggregates file holds: every
    table of the ``marts`` schema and :data:`AUDIT_TABLES`, never one declared ``person_level``,
    never a column holding pseudonyms."""
    from kpi.catalog import load

    catalog = catalog or load()
    out = []
    for spec in sorted(catalog.tables.values(), key=lambda t: t.name):
        if spec.person_level or not (spec.schema == "marts" or spec.name in AUDIT_TABLES):
            continue
        left_out = LEFT_OUT_COLUMNS.get(spec.name, ())
        columns = [c for c in spec.columns if not holds_pseudonyms(c) and c.name not in left_out]
        if columns:
            out.append((spec, columns))
    return out


def pseudonym_sources(catalog=None) -> list[tuple[str, str]]:
    """(table, column) of every declared column holding pseudonyms: what the leak check and
    ``kpi forget`` look at."""
    from kpi.catalog import load

    catalog = catalog or load()
    return [(spec.name, c.name) for spec in sorted(catalog.tables.values(), key=lambda t: t.name)
            for c in spec.columns if holds_pseudonyms(c)]


@dataclass
class ExportSummary:
    out: Path
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows written
    left_out: list[str] = field(default_factory=list)  # declared tables the warehouse has that stay out


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _source_columns(con, name: str) -> list[str]:
    schema, table = name.split(".")
    return [r[0] for r in con.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'src' AND table_schema = ? "
        "AND table_name = ? ORDER BY ordinal_position", params=[schema, table]).fetchall()]


def _check_paths(warehouse: Path, out: Path) -> None:
    if not warehouse.exists():
        raise UserError(f"{warehouse}: warehouse not found; pass the .duckdb file written by kpi run")
    if warehouse.is_dir():
        raise UserError(f"{warehouse}: is a folder, not a warehouse; pass the .duckdb file written by kpi run")
    if not out.parent.exists():
        raise UserError(f"--out {out}: folder {out.parent} does not exist; create it or pick another path")
    if out.is_dir():
        raise UserError(f"--out {out}: is a folder; give a file name such as {out / 'aggregates.duckdb'}")
    if out.exists() and out.resolve() == warehouse.resolve():
        raise UserError(f"--out {out}: is the warehouse itself; give another file name such as aggregates.duckdb")


def export_aggregates(warehouse: Path | str, out: Path | str, now: datetime | None = None) -> ExportSummary:
    """Write the aggregates-only file ``out`` from ``warehouse`` (opened read-only). The file is
    written beside ``out`` under a temporary name and moved into place once complete, so a
    reader never sees half a file and an existing ``out`` stays as it was when anything fails."""
    import duckdb

    from kpi.catalog import load, quote
    from kpi.migrations import release

    warehouse, out = Path(warehouse), Path(out)
    _check_paths(warehouse, out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    for stale in (tmp, Path(f"{tmp}.wal")):
        stale.unlink(missing_ok=True)
    summary = ExportSummary(out=out)
    catalog = load()
    try:
        con = duckdb.connect(str(tmp))
        try:
            try:
                con.execute(f"ATTACH {_sql_text(str(warehouse))} AS src (READ_ONLY)")
            except duckdb.Error as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                if "lock" in reason.lower():
                    import re

                    from kpi.warehouse import busy_message

                    pid = re.search(r"\(PID (\d+)\)", str(exc))
                    raise UserError(busy_message(warehouse, int(pid.group(1)) if pid else None)) from None
                raise UserError(f"{warehouse}: cannot be opened as a DuckDB warehouse ({reason}); pass the file "
                                "written by kpi run") from None
            present = {f"{s}.{t}" for s, t in con.sql(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()}
            copied = set()
            for spec, columns in exported_tables(catalog):
                if spec.name not in present:
                    continue
                have = set(_source_columns(con, spec.name))
                columns = [c for c in columns if c.name in have]
                keep = {c.name for c in columns}
                table = dataclasses.replace(spec, columns=tuple(columns),
                                            primary_key=spec.primary_key if set(spec.primary_key) <= keep else ())
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
                con.execute(table.ddl())
                names = ", ".join(quote(c.name) for c in columns)
                con.execute(f"INSERT INTO {spec.name} ({names}) SELECT {names} FROM src.{spec.name}")
                copied.add(spec.name)
            con.execute("CREATE SCHEMA IF NOT EXISTS audit")
            con.execute(_QUARANTINE_COUNTS_DDL)
            if "audit.quarantine" in present:
                con.execute(f'INSERT INTO {QUARANTINE_COUNTS} SELECT file, stage, reason, "column", count(*) '
                            'FROM src.audit.quarantine GROUP BY ALL ORDER BY ALL')
            version = None
            if "audit.schema_version" in present:
                version = con.sql("SELECT max(version) FROM src.audit.schema_version").fetchall()[0][0]
            con.execute(_EXPORT_INFO_DDL)
            con.execute(f"INSERT INTO {EXPORT_INFO} VALUES (?, ?, ?, ?)",
                        [now or datetime.now().replace(microsecond=0), release(), version, _NOTE])
            _refuse_pseudonyms(con, present, catalog)
            summary.left_out = sorted(present - copied)
            for (name,) in con.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                                   "WHERE database_name = current_database() ORDER BY 1").fetchall():
                summary.tables[name] = con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            con.execute("DETACH src")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        Path(f"{out}.wal").unlink(missing_ok=True)  # a journal of an earlier file would be replayed into this one
        os.replace(tmp, out)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write ({exc.strerror or exc}); pick a writable path") from None
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return summary


def _refuse_pseudonyms(con, present: set[str], catalog) -> None:
    """The last check before the file is moved into place: no text value of any table equals a
    pseudonym of the warehouse (any column the catalogue says holds pseudonyms)."""
    from kpi.catalog import quote

    parts = [f"SELECT CAST({quote(column)} AS VARCHAR) AS v FROM src.{table} WHERE {quote(column)} IS NOT NULL"
             for table, column in pseudonym_sources(catalog) if table in present]
    if not parts:
        return
    # only values shaped like a pseudonym: a column that may hold one (a quarantined value) also
    # holds raw values such as "3", which a count elsewhere may equal by chance
    from kpi.privacy import PSEUDONYM_PREFIX

    con.execute("CREATE OR REPLACE TEMP TABLE warehouse_pseudonyms AS SELECT DISTINCT v FROM ("
                + " UNION ALL ".join(parts) + ") WHERE starts_with(v, $prefix) AND length(v) > length($prefix) + 8",
                {"prefix": PSEUDONYM_PREFIX})
    columns = con.sql(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND data_type LIKE 'VARCHAR%'").fetchall()
    for schema, table, column in columns:
        hits = con.sql(f"SELECT count(*) FROM {schema}.{table} WHERE {quote(column)} IN "
                       "(SELECT v FROM temp.warehouse_pseudonyms)").fetchall()[0][0]
        if hits:
            raise UserError(f"{schema}.{table}.{column}: {hits} values equal pseudonyms of the warehouse; nothing was "
                            "written (this is a bug: please report it)")
    con.execute("DROP TABLE temp.warehouse_pseudonyms")
