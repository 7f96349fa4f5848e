"""Writing to the warehouse: schema, the ingest manifest and the quarantine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from kpi.privacy import pseudonymise

QUARANTINE_SCHEMA = {
    "file": pl.String,
    "row_number": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "stage": pl.String,
    "sha256": pl.String,
}

# Columns whose values identify a person: quarantined values are pseudonymised too.
IDENTITY_COLUMNS = {
    "user", "user_norm", "employee_id", "email", "github_login", "user_login", "user_id",
    "user principal name", "user name", "username", "display name", "name", "public_id",
    "account_id", "identity", "respondent", "e-mail", "email address",
}


def ensure_schema(con) -> None:
    """Upgrade an older warehouse, create the audit and staging tables when missing (idempotent)."""
    from kpi.catalog import load
    from kpi.migrations import prepare

    prepare(con, *(t.name for t in load().tables.values() if t.schema in ("audit", "staging")))
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")


KEY_CHECK_TEXT = "kpi-pseudonym-key-check"


def check_pseudonym_key(con, key: bytes, env_var: str) -> None:
    """Refuse to add to a warehouse built with another pseudonym key.

    Pseudonyms of different keys never match: usage staged under the old key would all become
    `unknown_user` against an HR list read with the new one, and every KPI would collapse without
    an error. The warehouse keeps a pseudonym of a fixed text (never the key); a warehouse from
    before this check adopts the current key."""
    from kpi.errors import UserError

    check = pseudonymise(KEY_CHECK_TEXT, key)
    from kpi.migrations import ensure_tables

    ensure_tables(con, "audit.pseudonym_key_check")
    stored = con.sql("SELECT key_check FROM audit.pseudonym_key_check").fetchall()
    if not stored:
        con.execute("INSERT INTO audit.pseudonym_key_check VALUES (?)", [check])
    elif stored[0][0] != check:
        raise UserError(
            f"this warehouse was built with another pseudonym key than the one in {env_var}: set {env_var} to "
            "the key used before, or write to a new warehouse file (pseudonyms of different keys never match)"
        )


@dataclass
class FileReport:
    """One line of audit.ingest_manifest."""

    file: str
    sha256: str
    format: str
    input_kind: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_replaced: int = 0
    cells_quarantined: int = 0
    chars_replaced: int = 0
    skipped: bool = False  # already ingested (same sha256): nothing read
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def check(self) -> None:
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise AssertionError(
                f"{self.file}: rows_read {self.rows_read} != loaded {self.rows_loaded} + "
                f"quarantined {self.rows_quarantined}"
            )


def protect_value(column: str | None, value: Any, key: bytes, personal_columns: set[str] = frozenset()) -> str | None:
    """The value as stored in the quarantine: identifiers pseudonymised, long text cut."""
    if value is None:
        return None
    text = str(value)
    personal = column is not None and (column.strip().casefold() in IDENTITY_COLUMNS or column in personal_columns)
    if personal and text.strip():
        return pseudonymise(text, key)
    if column in (None, "", "*"):
        # A whole malformed line: may hold e-mails and names, so only a fingerprint is kept.
        return f"<line withheld: {len(text)} characters, fingerprint {pseudonymise(text, key)[2:14]}>"
    return text if len(text) <= 200 else text[:200] + "…"


def quarantine_frame(rows: list[dict], file: str, sha256: str | None, stage: str, key: bytes,
                     personal_columns: set[str] = frozenset()) -> pl.DataFrame:
    """Quarantine dicts (row_number, column, value, reason) as a frame ready to insert; values of
    identifier columns (`IDENTITY_COLUMNS` or the file's own `personal_columns`) are pseudonymised."""
    records = [
        {
            "file": file,
            "row_number": r.get("row_number"),
            "column": r.get("column"),
            "value": protect_value(r.get("column"), r.get("value"), key, personal_columns),
            "reason": r["reason"],
            "stage": stage,
            "sha256": sha256,
        }
        for r in rows
    ]
    return pl.DataFrame(records, schema=QUARANTINE_SCHEMA)


def insert_frame(con, table: str, frame: pl.DataFrame) -> None:
    """Append a polars frame to a table, matching columns by name.

    The frame is scanned through a relation, not con.register(): inside a transaction a
    registered (then unregistered) view keeps its Arrow data alive until COMMIT, so the usage
    ingest held a copy of every file's rows (peak RSS 1.5 GiB instead of 0.6 GiB at 10,000
    employees x 24 months; docs/benchmarks.md)."""
    if frame.height == 0:
        return
    cols = ", ".join(f'"{c}"' for c in frame.columns)
    con.from_arrow(frame.to_arrow()).query(
        "_insert_frame", f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _insert_frame")


def write_quarantine(con, frame: pl.DataFrame) -> None:
    insert_frame(con, "audit.quarantine", frame)


def write_manifest(con, report: FileReport, now: datetime, *, state: bool) -> None:
    """Record a file in the manifest. A state file's earlier versions are marked superseded; the
    same (file, sha256) read again updates its line instead of adding one."""
    con.execute("DELETE FROM audit.ingest_manifest WHERE file = ? AND sha256 = ?", [report.file, report.sha256])
    if state:
        con.execute("UPDATE audit.ingest_manifest SET superseded = true WHERE file = ?", [report.file])
    row = asdict(report)
    con.execute(
        "INSERT INTO audit.ingest_manifest (file, sha256, format, input_kind, rows_read, rows_loaded, "
        "rows_quarantined, rows_replaced, cells_quarantined, chars_replaced, ingested_at, superseded) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false)",
        [row[k] for k in ("file", "sha256", "format", "input_kind", "rows_read", "rows_loaded",
                          "rows_quarantined", "rows_replaced", "cells_quarantined", "chars_replaced")]
        + [now],
    )


def already_ingested(con, sha256: str) -> bool:
    return bool(con.sql("SELECT 1 FROM audit.ingest_manifest WHERE sha256 = ? LIMIT 1", params=[sha256]).fetchall())


def reason_counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return dict(sorted(counts.items()))
