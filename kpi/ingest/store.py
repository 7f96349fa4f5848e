"""Writing to the warehouse: schema, the ingest manifest, the quarantine, input warnings and the
warehouse's flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from kpi.ingest.checks import InputWarning
from kpi.privacy import DEVELOPMENT_KEY, pseudonymise

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
# Whatever the column, a value holding something shaped like an e-mail address is pseudonymised
# (swapped columns put e-mails where no identifier is expected).
EMAIL_LIKE = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"'.]+")


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
    before this check adopts the current key.

    A warehouse built with the public development key is marked (`audit.warehouse_flags`, flag
    `development_key`): anyone can reverse its pseudonyms, so it is for demonstrations only. Inputs
    are added to it only with the same explicit opt-in (the development key again); any other key
    gets the line saying so."""
    from kpi.errors import UserError

    check = pseudonymise(KEY_CHECK_TEXT, key)
    from kpi.migrations import ensure_tables

    ensure_tables(con, "audit.pseudonym_key_check", "audit.warehouse_flags")
    development = key == DEVELOPMENT_KEY.encode("utf-8")
    if not development and development_key_warehouse(con):
        raise UserError(
            "this warehouse was built with the public development key (demonstration only): anyone can reverse "
            "its pseudonyms, so no real inputs are added to it; write them to a new warehouse file (--warehouse), "
            f"with {env_var} set, or add demonstration inputs with KPI_ALLOW_DEVELOPMENT_KEY=1 and {env_var} unset"
        )
    stored = con.sql("SELECT key_check FROM audit.pseudonym_key_check").fetchall()
    if not stored:
        con.execute("INSERT INTO audit.pseudonym_key_check VALUES (?)", [check])
    elif stored[0][0] != check:
        raise UserError(
            f"this warehouse was built with another pseudonym key than the one in {env_var}: set {env_var} to "
            "the key used before, or write to a new warehouse file (pseudonyms of different keys never match)"
        )
    if development and not _has_flag(con, DEVELOPMENT_KEY_FLAG):
        con.execute("INSERT INTO audit.warehouse_flags VALUES (?, ?)",
                    [DEVELOPMENT_KEY_FLAG, datetime.now().replace(microsecond=0)])


DEVELOPMENT_KEY_FLAG = "development_key"


def _has_flag(con, flag: str) -> bool:
    from kpi.warehouse import table_exists

    return table_exists(con, "audit.warehouse_flags") and bool(
        con.sql("SELECT 1 FROM audit.warehouse_flags WHERE flag = ? LIMIT 1", params=[flag]).fetchall())


def development_key_warehouse(con) -> bool:
    """True when the warehouse was built with the public development key (demonstration only): it
    carries the flag, or (built before the flag existed) its key check is the development key's.
    Reads only, so a read-only connection will do (the report calls it)."""
    from kpi.warehouse import table_exists

    if _has_flag(con, DEVELOPMENT_KEY_FLAG):
        return True
    if not table_exists(con, "audit.pseudonym_key_check"):
        return False
    development = pseudonymise(KEY_CHECK_TEXT, DEVELOPMENT_KEY.encode("utf-8"))
    return bool(con.sql("SELECT 1 FROM audit.pseudonym_key_check WHERE key_check = ? LIMIT 1",
                        params=[development]).fetchall())


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
    same_as: str | None = None  # skipped: the other file whose content this is (counted once)
    warnings: list[InputWarning] = field(default_factory=list)  # whole-file warnings (audit.input_warnings)

    def check(self) -> None:
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise AssertionError(
                f"{self.file}: rows_read {self.rows_read} != loaded {self.rows_loaded} + "
                f"quarantined {self.rows_quarantined}"
            )


def holds_identifier(text: str | None, key: bytes, known_identities: set[str] | frozenset = frozenset()) -> bool:
    """True when a value holds a person's identifier: something shaped like an e-mail address, or the
    value equals (matching form, `kpi.privacy.normalise_identifier`) one of ``known_identities``
    (pseudonyms: the HR list's employee ids, e-mails and logins). The one rule for the quarantine
    (`protect_value`) and for the text columns of staging (`reject_identifier_rows`)."""
    if text is None or not text.strip():
        return False
    return EMAIL_LIKE.search(text) is not None or (
        bool(known_identities) and pseudonymise(text, key) in known_identities)


def _identifier_values(frame: pl.DataFrame, column: str, key: bytes, known_identities) -> list[str]:
    """The distinct values of a text column that hold an identifier (each distinct value checked once)."""
    values = frame.get_column(column).drop_nulls().unique().to_list()
    return [v for v in values if holds_identifier(v, key, known_identities)]


def reject_identifier_rows(frame: pl.DataFrame, columns, key: bytes, known_identities, quarantine: list[dict],
                           names: dict[str, str] | None = None) -> pl.DataFrame:
    """Quarantine (`out_of_range`, named by its first such column) every source row (``row_number``)
    of which a value of one of the text ``columns`` holds an identifier (`holds_identifier`): a
    tool, action, department, ... that is a person's e-mail or id means the columns are swapped, and
    staging never stores a raw identifier. Returns the other rows; ``names``: column -> the file's
    header, as the quarantine names it. (The quarantine pseudonymises the value, `protect_value`.)"""
    names = names or {}
    flagged: dict[int, tuple[str, str]] = {}
    for column in columns:
        if column not in frame.columns:
            continue
        values = _identifier_values(frame, column, key, known_identities)
        if not values:
            continue
        hits = frame.filter(pl.col(column).is_in(values)).select("row_number", column)
        for row_number, value in hits.iter_rows():
            flagged.setdefault(row_number, (names.get(column, column), value))
    for row_number in sorted(flagged):
        column, value = flagged[row_number]
        quarantine.append({"row_number": row_number, "column": column, "value": value, "reason": "out_of_range"})
    return frame.filter(~pl.col("row_number").is_in(list(flagged))) if flagged else frame


def pseudonymise_identifiers_in_text(frame: pl.DataFrame, columns, key: bytes, known_identities) -> pl.DataFrame:
    """Free-text columns that may name a person (costs.description, use_cases.title) keep their row:
    each e-mail address in the text is replaced by its pseudonym, and a value equal to an identifier
    of ``known_identities`` becomes its pseudonym."""
    for column in columns:
        if column not in frame.columns:
            continue
        values = _identifier_values(frame, column, key, known_identities)
        if not values:
            continue
        replaced = {v: pseudonymise(v, key) if known_identities and pseudonymise(v, key) in known_identities
                    else EMAIL_LIKE.sub(lambda m: pseudonymise(m.group(0), key), v) for v in values}
        frame = frame.with_columns(pl.col(column).replace(replaced))
    return frame


def protect_value(column: str | None, value: Any, key: bytes, personal_columns: set[str] = frozenset(),
                  known_identities: set[str] | frozenset = frozenset()) -> str | None:
    """The value as stored in the quarantine: identifiers pseudonymised, long text cut.

    An identifier is pseudonymised whatever its column: the value of an identifier column, a value
    shaped like an e-mail address, or one whose pseudonym is among ``known_identities`` (the
    pseudonyms of the HR list's employee ids, e-mails and logins: the value equals one of them in
    matching form)."""
    if value is None:
        return None
    text = str(value)
    personal = column is not None and (column.strip().casefold() in IDENTITY_COLUMNS or column in personal_columns)
    if text.strip() and column not in (None, "", "*") and (personal or holds_identifier(text, key, known_identities)):
        return pseudonymise(text, key)
    if column in (None, "", "*"):
        # A whole malformed line: may hold e-mails and names, so only a fingerprint is kept.
        return f"<line withheld: {len(text)} characters, fingerprint {pseudonymise(text, key)[2:14]}>"
    return text if len(text) <= 200 else text[:200] + "…"


def quarantine_frame(rows: list[dict], file: str, sha256: str | None, stage: str, key: bytes,
                     personal_columns: set[str] = frozenset(),
                     known_identities: set[str] | frozenset = frozenset()) -> pl.DataFrame:
    """Quarantine dicts (row_number, column, value, reason) as a frame ready to insert; identifiers
    are pseudonymised (`protect_value`: identifier columns, `IDENTITY_COLUMNS` or the file's own
    `personal_columns`, and wherever a value looks like an e-mail or is one of `known_identities`)."""
    records = [
        {
            "file": file,
            "row_number": r.get("row_number"),
            "column": r.get("column"),
            "value": protect_value(r.get("column"), r.get("value"), key, personal_columns, known_identities),
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


def hr_identity_keys(con) -> set[str]:
    """The pseudonyms of every identifier (employee id, e-mail, GitHub login) of the staged HR list."""
    from kpi.warehouse import table_exists

    if not table_exists(con, "staging.employee_identities"):
        return set()
    return {r[0] for r in con.sql("SELECT identity_key FROM staging.employee_identities").fetchall()}


def write_warnings(con, report: FileReport, now: datetime) -> None:
    """Record a file version's warnings in audit.input_warnings (replacing those of an earlier read
    of the same version)."""
    write_warnings_of(con, [report], now)


def write_manifest(con, report: FileReport, now: datetime, *, state: bool) -> None:
    """Record a file in the manifest. A state file's earlier versions are marked superseded; the
    same (file, sha256) read again updates its line instead of adding one."""
    if state:
        con.execute("DELETE FROM audit.ingest_manifest WHERE file = ? AND sha256 = ?", [report.file, report.sha256])
        con.execute("UPDATE audit.ingest_manifest SET superseded = true WHERE file = ?", [report.file])
    write_manifests(con, [report], now)


def write_warnings_of(con, reports: list[FileReport], now: datetime) -> None:
    """The warnings of several file versions at once (one DELETE, one INSERT)."""
    from kpi.migrations import ensure_tables

    ensure_tables(con, "audit.input_warnings")
    versions = pl.DataFrame({"file": [r.file for r in reports], "sha256": [r.sha256 for r in reports]},
                            schema={"file": pl.String, "sha256": pl.String})
    if versions.height:
        con.from_arrow(versions.to_arrow()).query(
            "_versions", "DELETE FROM audit.input_warnings AS w USING _versions AS v "
                         "WHERE w.file = v.file AND w.sha256 = v.sha256")
    warnings = pl.DataFrame(
        [{"file": r.file, "sha256": r.sha256, "warning": w.warning, "detail": w.detail, "noted_at": now}
         for r in reports for w in r.warnings],
        schema={"file": pl.String, "sha256": pl.String, "warning": pl.String, "detail": pl.String,
                "noted_at": pl.Datetime("us")})
    insert_frame(con, "audit.input_warnings", warnings)


MANIFEST_COLUMNS = ("file", "sha256", "format", "input_kind", "rows_read", "rows_loaded", "rows_quarantined",
                    "rows_replaced", "cells_quarantined", "chars_replaced")


def write_manifests(con, reports: list[FileReport], now: datetime) -> None:
    """Several file versions in the manifest at once (one DELETE, one INSERT; nothing is
    superseded: ``write_manifest`` does that for a state file first)."""
    if not reports:
        return
    rows = pl.DataFrame([{c: getattr(r, c) for c in MANIFEST_COLUMNS} for r in reports],
                        schema={c: pl.String if c in ("file", "sha256", "format", "input_kind") else pl.Int64
                                for c in MANIFEST_COLUMNS})
    con.from_arrow(rows.select("file", "sha256").to_arrow()).query(
        "_versions", "DELETE FROM audit.ingest_manifest AS m USING _versions AS v "
                     "WHERE m.file = v.file AND m.sha256 = v.sha256")
    insert_frame(con, "audit.ingest_manifest", rows.with_columns(
        pl.lit(now, pl.Datetime("us")).alias("ingested_at"), pl.lit(False).alias("superseded")))


def already_ingested(con, sha256: str) -> bool:
    return bool(con.sql("SELECT 1 FROM audit.ingest_manifest WHERE sha256 = ? LIMIT 1", params=[sha256]).fetchall())


def reason_counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["reason"]] = counts.get(r["reason"], 0) + 1
    return dict(sorted(counts.items()))
