"""Creating and upgrading the warehouse's tables from the catalogue (kpi/catalog.py).

Tables are created when first needed (:func:`ensure_tables`), from their declarations. An
existing warehouse is brought to the declared schema by :func:`upgrade`, which every writing run
calls before it writes (ingest, marts, snapshots, ROI):

- a table the release declares and the warehouse lacks is created when it is first written;
- a column the release declares and the table lacks is added (``ALTER TABLE ... ADD COLUMN``,
  with its default, NULL otherwise): existing rows, snapshots of closed quarters included, are
  never rewritten;
- anything else (a column whose type differs, a column this release does not know) cannot be
  applied automatically: :class:`SchemaError`, one line naming the table and what to do.

Each applied upgrade adds a row to ``audit.schema_version`` (version 1, 2, ...; the declared
schema's hash, the release and the changes), so a warehouse says which schema it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kpi.catalog import Catalog, TableSpec, load, quote
from kpi.errors import UserError

VERSION_TABLE = "audit.schema_version"
_ALIASES = {"INT": "INTEGER", "INT4": "INTEGER", "INT8": "BIGINT", "LONG": "BIGINT", "FLOAT8": "DOUBLE",
            "TEXT": "VARCHAR", "STRING": "VARCHAR", "BOOL": "BOOLEAN", "DATETIME": "TIMESTAMP"}


class SchemaError(UserError):
    """The warehouse's schema differs from this release's in a way no upgrade applies by itself."""


@dataclass(frozen=True)
class Change:
    table: str
    column: str | None  # None: the whole table
    text: str

    def __str__(self) -> str:
        return self.text


def release() -> str:
    from importlib import metadata

    try:
        return metadata.version("ai-training-kpi")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "source"


def ensure_tables(con, *names: str) -> None:
    """Create these declared tables (and their schemas) when missing."""
    catalog = load()
    for schema in dict.fromkeys(catalog[name].schema for name in names):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for name in names:
        con.execute(catalog[name].ddl())


def ensure_schema_tables(con, schema: str) -> None:
    """Create every declared table of one schema when missing."""
    ensure_tables(con, *(t.name for t in load().in_schema(schema)))


def prepare(con, *names: str) -> list[Change]:
    """What a writer calls before it writes: upgrade the warehouse (a no-op once it is at this
    release's schema), then create these tables when missing."""
    changes = upgrade(con)
    ensure_tables(con, *names)
    return changes


def _normalise(kind: str) -> str:
    kind = kind.strip().upper()
    return _ALIASES.get(kind, kind)


def _existing(con, catalog: Catalog) -> dict[str, dict[str, str]]:
    """schema.table -> column -> type, for the declared tables this warehouse has."""
    rows = con.sql(
        "SELECT table_schema || '.' || table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() ORDER BY table_schema, table_name, ordinal_position").fetchall()
    out: dict[str, dict[str, str]] = {}
    for name, column, kind in rows:
        if name in catalog:
            out.setdefault(name, {})[column] = kind
    return out


def plan(con, catalog: Catalog | None = None) -> list[Change]:
    """The additive changes that bring this warehouse's tables to the declarations (SchemaError
    when a difference cannot be applied automatically)."""
    catalog = catalog or load()
    changes: list[Change] = []
    for name, have in _existing(con, catalog).items():
        spec: TableSpec = catalog[name]
        declared = {c.name: c for c in spec.columns}
        for column, kind in have.items():
            if column not in declared:
                raise SchemaError(
                    f"{name}: column {column} is not known to this release (written by a newer release, or "
                    "changed by hand); use the release that wrote it, or build a new warehouse from your inputs "
                    "with kpi run --warehouse NEW.duckdb")
            if _normalise(kind) != _normalise(declared[column].base_type):
                raise SchemaError(
                    f"{name}: column {column} is {kind} in this warehouse but {declared[column].base_type} in this "
                    "release, which cannot be changed automatically; build a new warehouse from your inputs with "
                    "kpi run --warehouse NEW.duckdb (or keep using the release that built it)")
        for column in spec.columns:
            if column.name not in have:
                changes.append(Change(name, column.name, f"added column {name}.{column.name} ({column.base_type})"))
    return changes


def current_version(con) -> tuple[int, str] | None:
    """(version, schema hash) of the latest upgrade recorded in this warehouse, if any."""
    from kpi.warehouse import table_exists

    if not table_exists(con, VERSION_TABLE):
        return None
    rows = con.sql(f"SELECT version, schema_sha256 FROM {VERSION_TABLE} ORDER BY version DESC LIMIT 1").fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def upgrade(con, now: datetime | None = None) -> list[Change]:
    """Apply the additive changes and record the schema version; returns what was changed in an
    existing warehouse (empty for a new one, or one already at this schema)."""
    catalog = load()
    digest = catalog.sha256()
    recorded = current_version(con)
    if recorded is not None and recorded[1] == digest:
        return []
    existing = _existing(con, catalog)
    changes = plan(con, catalog)
    for change in changes:
        column = catalog[change.table].column(change.column)
        default = f" DEFAULT {column.default}" if column.default else ""
        con.execute(f"ALTER TABLE {change.table} ADD COLUMN {quote(column.name)} {column.base_type}{default}")
    if existing:
        changes += [Change(name, None, f"new table {name} (created when first written)")
                    for name in catalog.tables if name not in existing and name != VERSION_TABLE]
        if recorded is None:
            changes.append(
                Change(VERSION_TABLE, None, f"created {VERSION_TABLE} (the warehouse had no schema version)")
            )
    ensure_tables(con, VERSION_TABLE)
    version = (recorded[0] if recorded else 0) + 1
    text = "\n".join(str(c) for c in changes) or ("created" if not existing else "declarations changed; no column")
    con.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?, ?, ?, ?, ?)",
                [version, digest, release(), text, now or datetime.now().replace(microsecond=0)])
    return changes
