"""The catalogue: every warehouse table declared once, in YAML beside its SQL.

Each ``sql/**/*.yml`` file declares one table (``table:``) or several (``tables:``): its grain,
its columns (DuckDB type, role, scale, a one-line description), which columns are figures and
how they are suppressed, the model's parameters and, for the KPI marts, what they read. Everything
else is derived from it (docs/architecture.md, "The catalogue"):

- the DDL (:meth:`TableSpec.ddl`) and the additive upgrades of an older warehouse
  (:mod:`kpi.migrations`);
- the KPI marts that :func:`kpi.marts.build_quarter` builds, their suppression partitions and
  metric columns, and the row keys and figures of the snapshots (:mod:`kpi.snapshots`);
- the state tables and the code files the rebuild fingerprint hashes (:mod:`kpi.freshness`);
- the Dagster asset specs, descriptions and column schemas (``pipelines/``);
- a test checks that docs/metrics.md names the same columns.

Column roles: ``key`` (the grain; the default for grain columns), ``size`` (the real group size
the suppression rule is applied to), ``flag`` (``suppressed`` / ``suppression_reason``),
``figure`` (a published figure: withheld with its row when the row is suppressed, kept in the
snapshots) and ``attribute`` (anything else; the default).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("key", "size", "flag", "figure", "attribute")
SCALES = ("fraction", "percent", "points", "score_0_100", "answer_points", "count", "eur", "hours", "minutes",
          "months", "fte", "ratio", "per_100", "number")
#: Parameters every per-quarter model gets without declaring them.
BUILTIN_PARAMS = ("quarter", "quarter_start", "quarter_end")

_TYPE_END = re.compile(r"\s+(NOT\s+NULL|NULL|DEFAULT|PRIMARY|UNIQUE|CHECK)\b", re.IGNORECASE)


class CatalogError(ValueError):
    """A declaration is inconsistent (a programming error in sql/**/*.yml, not a user error)."""


def quote(name: str) -> str:
    """A column name quoted for DDL (``case``, ``column``, ``value`` ... are keywords)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str  # the DDL fragment: "VARCHAR NOT NULL", "BOOLEAN NOT NULL DEFAULT false", "DOUBLE"
    role: str = "attribute"
    scale: str | None = None
    description: str = ""
    #: The people a figure describes when not the row's group: a count column of the same row
    #: (``skill_score`` -> ``assessed_employees``), or ``marts.<table>.<segment_type>`` for a
    #: figure about the people of another table's segment (``kpi_business.fte`` -> the department).
    population: str | None = None
    #: A text attribute derived from the row's figures (``status``, ``level_name``): set to NULL
    #: with the figures when the row is suppressed.
    withheld_with_row: bool = False
    #: A figure that reads person-level rows dated before its quarter (skill to date, the change
    #: against the baseline wave): once a purge deletes those, a closed quarter keeps its value.
    history: bool = False

    @property
    def base_type(self) -> str:
        """The type alone (``BIGINT NOT NULL`` -> ``BIGINT``)."""
        return _TYPE_END.split(self.type, maxsplit=1)[0].strip().upper()

    @property
    def default(self) -> str | None:
        match = re.search(r"\bDEFAULT\s+(\S+)", self.type, re.IGNORECASE)
        return match.group(1) if match else None

    @property
    def is_figure(self) -> bool:
        return self.role == "figure"


@dataclass(frozen=True)
class TableSpec:
    name: str  # schema.table
    description: str
    columns: tuple[ColumnSpec, ...]
    grain: tuple[str, ...] = ()
    primary_key: tuple[str, ...] = ()
    snapshot: bool = False  # a KPI mart: built per quarter, snapshotted when the quarter closes
    dimension: int | None = None  # the framework's dimension (1 usage .. 4 culture) of a KPI mart
    deps: tuple[str, ...] = ()  # tables the model reads
    suppression_partition: tuple[str, ...] | None = None  # None: not suppressed
    size_column: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # name -> where its value comes from
    person_level: bool = False  # one row per person (or per person's activity): never in an aggregates file
    history: bool = False  # every figure reads person-level rows dated before the quarter (see ColumnSpec)
    accumulating: bool = False  # staging: accumulates over every file ever ingested (not a state table)
    source: str = ""  # the YAML file, relative to sql/
    model: str | None = None  # the model's SQL file, relative to sql/, when there is one

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".")[1]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def figures(self) -> list[str]:
        """The published figures: withheld with a suppressed row."""
        return [c.name for c in self.columns if c.role == "figure"]

    @property
    def subset_families(self) -> dict[str, list[str]]:
        """population column -> the figures computed over that subset of the row's group
        (``assessed_employees`` -> skill_score, proficient_rate)."""
        out: dict[str, list[str]] = {}
        for column in self.columns:
            if column.role == "figure" and column.population in self.column_names:
                out.setdefault(column.population, []).append(column.name)
        return out

    @property
    def history_figures(self) -> list[str]:
        """The figures (and attributes naming what they compare) that read person-level history:
        every figure of a ``history`` table, else the columns marked ``history``."""
        return [c.name for c in self.columns
                if (c.role == "figure" and self.history) or (c.history and c.role in ("figure", "attribute"))]

    @property
    def row_key(self) -> tuple[str, ...]:
        """The grain without the quarter: what identifies a row within a quarter."""
        return tuple(c for c in self.grain if c != "quarter")

    @property
    def snapshot_metrics(self) -> list[str]:
        """What a snapshot keeps of each row: the group size and every figure."""
        return [c.name for c in self.columns if c.role in ("size", "figure")]

    def ddl(self) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for this declaration."""
        body = [f"{quote(c.name)} {c.type}" for c in self.columns]
        if self.primary_key:
            body.append(f"PRIMARY KEY ({', '.join(quote(c) for c in self.primary_key)})")
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    " + ",\n    ".join(body) + "\n)"


@dataclass(frozen=True)
class Catalog:
    root: Path
    tables: dict[str, TableSpec]

    def __getitem__(self, name: str) -> TableSpec:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"{name} is not declared in the catalogue (sql/**/*.yml)") from None

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    @property
    def kpi_marts(self) -> list[TableSpec]:
        """The KPI marts, in the order of the framework's dimensions."""
        return sorted((t for t in self.tables.values() if t.snapshot), key=lambda t: (t.dimension or 99, t.name))

    def in_schema(self, schema: str) -> list[TableSpec]:
        return [t for t in self.tables.values() if t.schema == schema]

    @property
    def state_tables(self) -> list[str]:
        """The staging tables that hold the current state of a state file (replaced on every read)."""
        return [t.name for t in self.in_schema("staging") if not t.accumulating]

    @property
    def files(self) -> list[Path]:
        """Every declaration and SQL file under sql/ (what the rebuild fingerprint hashes)."""
        return sorted(p for p in self.root.rglob("*") if p.suffix in (".sql", ".yml") and p.is_file())

    def sha256(self) -> str:
        """A hash of the declared schema: names and types of every table's columns."""
        text = "\n".join(f"{t.name}:" + ",".join(f"{c.name} {c.type}" for c in t.columns) +
                         f"|pk={','.join(t.primary_key)}" for t in sorted(self.tables.values(), key=lambda t: t.name))
        return hashlib.sha256(text.encode()).hexdigest()


def _column(raw: dict[str, Any], grain: tuple[str, ...], where: str) -> ColumnSpec:
    unknown = set(raw) - {"name", "type", "role", "scale", "description", "population", "withheld_with_row",
                          "history"}
    if unknown or "name" not in raw or "type" not in raw:
        raise CatalogError(f"{where}: a column needs name and type (and may have role, scale, description); "
                           f"got {sorted(raw)}")
    name = str(raw["name"])
    role = raw.get("role", "key" if name in grain else "attribute")
    if role not in ROLES:
        raise CatalogError(f"{where}: column {name}: role {role!r} is not one of {', '.join(ROLES)}")
    scale = raw.get("scale")
    if scale is not None and scale not in SCALES:
        raise CatalogError(f"{where}: column {name}: scale {scale!r} is not one of {', '.join(SCALES)}")
    return ColumnSpec(name=name, type=str(raw["type"]), role=role, scale=scale,
                      description=str(raw.get("description", "")), population=raw.get("population"),
                      withheld_with_row=bool(raw.get("withheld_with_row", False)),
                      history=bool(raw.get("history", False)))


_TABLE_KEYS = {"table", "description", "grain", "primary_key", "snapshot", "dimension", "deps", "suppression",
               "params", "person_level", "accumulating", "history", "columns", "model"}


def _table(raw: dict[str, Any], source: str, root: Path) -> TableSpec:
    where = f"sql/{source}"
    unknown = set(raw) - _TABLE_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_TABLE_KEYS)}")
    name = raw.get("table")
    if not isinstance(name, str) or name.count(".") != 1:
        raise CatalogError(f"{where}: every entry needs `table: schema.name`")
    grain = tuple(raw.get("grain") or ())
    columns = tuple(_column(c, grain, f"{where} {name}") for c in raw.get("columns") or ())
    names = [c.name for c in columns]
    if not columns or len(set(names)) != len(names):
        raise CatalogError(f"{where} {name}: columns must be given, each name once")
    for listed in (grain, tuple(raw.get("primary_key") or ())):
        missing = [c for c in listed if c not in names]
        if missing:
            raise CatalogError(f"{where} {name}: grain/primary key names undeclared columns {missing}")
    suppression = raw.get("suppression")
    model = raw.get("model")
    if model is None and raw.get("snapshot"):
        model = str(Path(source).with_suffix(".sql"))
    if model is not None and not (root / model).is_file():
        raise CatalogError(f"{where} {name}: its model sql/{model} does not exist")
    spec = TableSpec(
        name=name, description=str(raw.get("description", "")), columns=columns, grain=grain,
        primary_key=tuple(raw.get("primary_key") or ()), snapshot=bool(raw.get("snapshot", False)),
        dimension=raw.get("dimension"), deps=tuple(raw.get("deps") or ()),
        suppression_partition=tuple(suppression["partition"]) if suppression else None,
        size_column=suppression.get("size") if suppression else None,
        params={str(k): str(v) for k, v in (raw.get("params") or {}).items()},
        person_level=bool(raw.get("person_level", False)), accumulating=bool(raw.get("accumulating", False)),
        history=bool(raw.get("history", False)), source=source, model=model,
    )
    for column in columns:
        population = column.population
        if population is not None and population not in names and not re.fullmatch(r"marts\.\w+\.\w+", population):
            raise CatalogError(f"{where} {name}: column {column.name}: population {population!r} is neither a column "
                               "of the table nor marts.<table>.<segment_type>")
    if spec.snapshot and "quarter" not in spec.grain:
        raise CatalogError(f"{where} {name}: a snapshotted mart needs quarter in its grain")
    if suppression and (spec.size_column not in names or any(c not in names for c in spec.suppression_partition)):
        raise CatalogError(f"{where} {name}: suppression names undeclared columns")
    return spec


def _with_snapshot_keys(tables: dict[str, TableSpec]) -> dict[str, TableSpec]:
    """marts.kpi_snapshots gets a VARCHAR key column for every grain column of a snapshotted mart
    that it does not declare (so a new mart with a new grain column needs no edit there)."""
    snapshots = tables.get("marts.kpi_snapshots")
    if snapshots is None:
        return tables
    have = set(snapshots.column_names)
    extra = []
    for mart in sorted((t for t in tables.values() if t.snapshot), key=lambda t: (t.dimension or 99, t.name)):
        for key in mart.row_key:
            if key not in have:
                have.add(key)
                extra.append(ColumnSpec(key, "VARCHAR", "attribute", None, f"{mart.short_name} only"))
    if not extra:
        return tables
    columns = list(snapshots.columns)
    at = columns.index(snapshots.column("metric"))
    columns[at:at] = extra
    tables = dict(tables)
    tables[snapshots.name] = dataclasses.replace(snapshots, columns=tuple(columns))
    return tables


@functools.lru_cache(maxsize=4)
def _load(root: Path) -> Catalog:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    tables: dict[str, TableSpec] = {}
    for path in sorted(root.rglob("*.yml")):
        source = path.relative_to(root).as_posix()
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
        entries = data.get("tables", [data] if "table" in data else [])
        for raw in entries:
            spec = _table(raw, source, root)
            if spec.name in tables:
                raise CatalogError(
                    f"sql/{source}: {spec.name} is declared twice (also in sql/{tables[spec.name].source})"
                )
            tables[spec.name] = spec
    for spec in tables.values():
        unknown = [d for d in spec.deps if d not in tables]
        if unknown:
            raise CatalogError(f"sql/{spec.source} {spec.name}: deps names undeclared tables {unknown}")
    return Catalog(root=root, tables=_with_snapshot_keys(tables))


def load(root: Path | None = None) -> Catalog:
    """The catalogue of the ``sql/`` folder (read once per process and folder)."""
    from kpi.paths import sql_dir

    return _load(Path(root) if root is not None else sql_dir())


def table(name: str) -> TableSpec:
    return load()[name]


def sql_params(query: str) -> set[str]:
    """The ``$name`` parameters a model's SQL binds (comments left out)."""
    text = re.sub(r"--[^\n]*", "", query)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    return set(re.findall(r"\$([a-z_][a-z0-9_]*)", text))
