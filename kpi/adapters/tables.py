"""Generic reader for the complete-state inputs: hr/, finance/ and business/ CSV files.

``read_table`` maps the export's headers onto canonical column names (config ``columns.<table>``
first, then the canonical names themselves, both case-insensitively), refuses a file without a
required column (one-line ``InputError``), and types every cell. A row whose value is invalid --
required or optional -- is quarantined with the first offending column (an invalid optional
value is quarantined, not blanked: blanking an unreadable exit date would silently keep a leaver
employed). A repeated key (employee_id; (employee_id, course_id, started_on); (employee_id,
instrument, assessed_on)) is quarantined as ``duplicate``, the first row kept.

Reason codes: ``missing_required`` (empty required cell), ``invalid_date`` (not ISO 8601),
``out_of_range`` (not a number/whole number/boolean, outside the allowed range, a date outside
the plausible ``DateRange``, or a value not in the allowed set), ``duplicate``, ``malformed_row``.

Besides the rows, a read reports per column how many cells are unusable (``column_problems``,
every cell checked, not only a row's first problem) and the matching forms of the identifiers it
saw: the ingest's sanity gates and the quarantine's identifier protection use them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from kpi.adapters.textio import (
    CsvTable,
    DateRange,
    default_date_range,
    normalise_identifier_series,
    parse_bool,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    read_csv_records,
)
from kpi.adapters.usage_common import qrow
from kpi.adapters.vectorised import per_distinct, python_strip
from kpi.config import (
    COST_CATEGORIES,
    TARGET_GROUPS,
    TRAINING_FORMATS,
    TRAINING_STATUSES,
    USE_CASE_STATUSES,
)
from kpi.errors import ConfigError, InputError

TYPES = ("text", "date", "month", "number", "int", "bool", "enum")
_DTYPES = {
    "text": pl.String,
    "date": pl.Date,
    "month": pl.Date,
    "number": pl.Float64,
    "int": pl.Int64,
    "bool": pl.Boolean,
    "enum": pl.String,
}


@dataclass(frozen=True)
class Column:
    """One canonical column: type, whether it is required, constraints and default."""

    name: str
    type: str = "text"
    required: bool = False
    values: tuple[str, ...] = ()  # enum
    min: float | None = None
    min_inclusive: bool = True
    max: float | None = None
    max_inclusive: bool = True
    default: Any = None  # used when the cell (or the whole optional column) is empty
    identifier: bool = False  # a personal identifier: pseudonymise it (and its quarantined value)
    # a date that may lie far ahead: only the lower bound of the plausible range applies (an exit
    # date of a fixed-term contract, or 9999-12-31 for "none", is kept as given)
    open_end: bool = False

    def __post_init__(self) -> None:
        assert self.type in TYPES, self.type

    @property
    def dtype(self) -> pl.DataType:
        return _DTYPES[self.type]()


RowCheck = Callable[[dict[str, Any]], "str | None"]  # returns the offending column or None


@dataclass(frozen=True)
class TableSpec:
    """A canonical input table: its config key (``columns.<name>``), columns, key and row checks."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # (description, check) -> out_of_range. A check with a ``mask()`` (a polars expression over the
    # typed columns, `Compare`) is evaluated column-wise; any other callable row by row.
    checks: tuple[tuple[str, RowCheck], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def identifier_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.identifier]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return {"row_number": pl.Int64(), **{c.name: c.dtype for c in self.columns}}


@dataclass(frozen=True)
class Compare:
    """A row check: the row is ``out_of_range``, named by ``column``, when both values are given and
    ``column`` is ``op`` (``<`` or ``>``) than ``other``. Callable on one typed row (a dict), and
    `mask` is the same test as a polars expression over the typed columns."""

    column: str
    op: str
    other: str

    def __post_init__(self) -> None:
        assert self.op in ("<", ">"), self.op

    def __call__(self, row: dict[str, Any]) -> str | None:
        value, other = row.get(self.column), row.get(self.other)
        if value is None or other is None:
            return None
        return self.column if (value < other if self.op == "<" else value > other) else None

    def mask(self) -> pl.Expr:
        value, other = pl.col(self.column), pl.col(self.other)
        return (value < other if self.op == "<" else value > other).fill_null(False)


_score_within_max = Compare("score", ">", "max_score")
_exit_after_hire = Compare("exit_date", "<", "hire_date")
_completed_after_start = Compare("completed_on", "<", "started_on")


EMPLOYEES = TableSpec(
    name="employees",
    columns=(
        Column("employee_id", "text", required=True, identifier=True),
        Column("email", "text", identifier=True),
        Column("github_login", "text", identifier=True),
        Column("department", "text", required=True),
        Column("target_group", "enum", required=True, values=TARGET_GROUPS),
        Column("hire_date", "date", required=True),
        Column("exit_date", "date", open_end=True),
        Column("fte", "number", min=0, min_inclusive=False, max=1, default=1.0),
        Column("hourly_cost_eur", "number", min=0, min_inclusive=False),
    ),
    key=("employee_id",),
    checks=(("exit_date before hire_date", _exit_after_hire),),
)

TRAININGS = TableSpec(
    name="trainings",
    columns=(
        Column("employee_id", "text", required=True, identifier=True),
        Column("course_id", "text", required=True),
        Column("format", "enum", required=True, values=TRAINING_FORMATS),
        Column("started_on", "date", required=True),
        Column("completed_on", "date"),
        Column("status", "enum", required=True, values=TRAINING_STATUSES),
        Column("hours", "number", required=True, min=0),
    ),
    key=("employee_id", "course_id", "started_on"),
    checks=(("completed_on before started_on", _completed_after_start),),
)

ASSESSMENTS = TableSpec(
    name="assessments",
    columns=(
        Column("employee_id", "text", required=True, identifier=True),
        Column("assessed_on", "date", required=True),
        Column("instrument", "text", required=True),
        Column("score", "number", required=True, min=0),
        Column("max_score", "number", required=True, min=0, min_inclusive=False),
    ),
    key=("employee_id", "instrument", "assessed_on"),
    checks=(("score above max_score", _score_within_max),),
)

COSTS = TableSpec(
    name="costs",
    columns=(
        Column("booked_on", "date", required=True),
        Column("category", "enum", required=True, values=COST_CATEGORIES),
        Column("amount_eur", "number", required=True),
        Column("description", "text"),
        Column("department", "text"),
    ),
)

PROCESS_METRICS = TableSpec(
    name="process_metrics",
    columns=(
        Column("month", "month", required=True),
        Column("process", "text", required=True),
        Column("department", "text", required=True),
        Column("cases", "int", required=True, min=0),
        Column("handling_minutes", "number", required=True, min=0),
        Column("errors", "int", min=0),
        Column("csat", "number"),
    ),
)

USE_CASES = TableSpec(
    name="use_cases",
    columns=(
        Column("use_case_id", "text", required=True),
        Column("title", "text"),
        Column("department", "text", required=True),
        Column("submitted_on", "date", required=True),
        Column("status", "enum", required=True, values=USE_CASE_STATUSES),
        Column("self_developed", "bool", required=True),
        Column("est_hours_saved_per_month", "number", min=0),
    ),
    key=("use_case_id",),
)

# Kirkpatrick level 1. The rating's upper bound (feedback.scale_max) and the checks against the
# HR list and the enrolments are the ingest's (kpi.ingest.state.stage_course_feedback). Any other
# column (a free-text comment) is never read.
COURSE_FEEDBACK = TableSpec(
    name="course_feedback",
    columns=(
        Column("employee_id", "text", required=True, identifier=True),
        Column("course_id", "text", required=True),
        Column("date", "date", required=True),
        Column("rating", "number", required=True, min=1),
        Column("would_recommend", "bool"),
    ),
    key=("employee_id", "course_id", "date"),
)

# One row per (tool, month): the key is checked on the normalised tool id by the ingest
# (kpi.ingest.state.stage_licenses), so that `GitHub Copilot` and `github-copilot` repeat.
LICENSES = TableSpec(
    name="licenses",
    columns=(
        Column("tool", "text", required=True),
        Column("month", "month", required=True),
        Column("seats", "int", required=True, min=0),
        Column("cost_eur", "number", min=0),
    ),
)

SPECS: dict[str, TableSpec] = {
    s.name: s for s in (EMPLOYEES, TRAININGS, ASSESSMENTS, COURSE_FEEDBACK, COSTS, LICENSES, PROCESS_METRICS,
                        USE_CASES)
}


@dataclass
class TableRead:
    """A typed table: ``rows`` (row_number + the spec's columns, in spec order), ``quarantine``
    (one dict per rejected row: row_number, column, value, reason), counts, and
    ``mapped_columns`` (canonical name -> the file's header)."""

    file: str
    spec: TableSpec
    rows: pl.DataFrame
    quarantine: list[dict[str, Any]]
    rows_read: int
    chars_replaced: int = 0
    mapped_columns: dict[str, str] = field(default_factory=dict)
    delimiter: str = ","
    decimal: str = "."
    # canonical column -> reason -> cells of the well-formed rows that are unusable for it
    column_problems: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_parsed: int = 0  # well-formed rows (rows_read minus malformed ones)
    identifier_values: set[str] = field(default_factory=set)  # matching forms of identifier cells

    @property
    def rows_loaded(self) -> int:
        return self.rows.height

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def personal_columns(self) -> set[str]:
        """The file's column names whose quarantined values are personal identifiers."""
        return {self.mapped_columns[c] for c in self.spec.identifier_columns if c in self.mapped_columns}

    def check_accounting(self) -> None:
        numbers = self.rows["row_number"].to_list()
        quarantined = [q["row_number"] for q in self.quarantine]
        assert len(set(numbers)) == len(numbers), "a row is loaded twice"
        assert len(set(quarantined)) == len(quarantined), "a row is quarantined twice"
        assert not set(numbers) & set(quarantined), "a row is both loaded and quarantined"
        assert self.rows_loaded + self.rows_quarantined == self.rows_read
        assert dict(self.rows.schema) == self.spec.schema


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold())


def resolve_columns(
    header: list[str], spec: TableSpec, column_map: dict[str, str] | None, name: str
) -> dict[str, int]:
    """canonical column -> header index, applying the config mapping first."""
    column_map = column_map or {}
    allowed = set(spec.names)
    mapping: dict[str, str] = {}
    for export, canon in column_map.items():
        if canon not in allowed:
            raise ConfigError(
                f"columns.{spec.name}: '{export}' maps to '{canon}', which is not a column of "
                f"{spec.name} (allowed: {', '.join(spec.names)})"
            )
        mapping[_norm_header(str(export))] = canon
    by_name = {_norm_header(c): c for c in spec.names}
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        key = _norm_header(h)
        canon = mapping.get(key)
        if canon is None and key in by_name and key not in mapping:
            canon = by_name[key]
        if canon is None:
            continue
        if canon in found:
            raise InputError(
                f"{name}: columns '{header[found[canon]]}' and '{h}' both give '{canon}'; "
                f"remove one or fix columns.{spec.name} in the config"
            )
        found[canon] = i
    for col in spec.required:
        if col not in found:
            shown = ", ".join(header[:25]) + (", ..." if len(header) > 25 else "")
            raise InputError(
                f"{name}: required column '{col}' is missing (found: {shown}); add it or map "
                f"your header under columns.{spec.name} in the config"
            )
    return found


def _enum_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def parse_cell(column: Column, text: str | None, decimal: str,
               dates: DateRange | None = None) -> tuple[Any, str | None]:
    """(typed value, reason or None) for one cell; an empty cell gives the default; a date outside
    ``dates`` is ``out_of_range``."""
    raw = "" if text is None else text.strip()
    if raw == "":
        if column.required:
            return None, "missing_required"
        return column.default, None
    t = column.type
    if t == "text":
        return raw, None
    if t == "enum":
        key = _enum_key(raw)
        return (key, None) if key in column.values else (None, "out_of_range")
    if t == "date":
        value, ok = parse_date(raw)
    elif t == "month":
        value, ok = parse_month(raw)
    elif t == "bool":
        value, ok = parse_bool(raw)
        return (value, None) if ok and value is not None else (None, "out_of_range")
    elif t == "int":
        value, ok = parse_int(raw, decimal)
    else:
        value, ok = parse_number(raw, decimal)
    if t in ("date", "month"):
        if not ok:
            return None, "invalid_date"
        if value is None:  # "null"/"none"
            return (None, "missing_required") if column.required else (column.default, None)
        if dates is not None and (value < dates.first or (value > dates.last and not column.open_end)):
            return None, "out_of_range"
        return value, None
    if not ok:
        return None, "out_of_range"
    if value is None:
        return (None, "missing_required") if column.required else (column.default, None)
    if column.min is not None and (value < column.min or (value == column.min and not column.min_inclusive)):
        return None, "out_of_range"
    if column.max is not None and (value > column.max or (value == column.max and not column.max_inclusive)):
        return None, "out_of_range"
    return value, None


def read_table(
    path: str | Path,
    rel_name: str,
    spec: TableSpec,
    column_map: dict[str, str] | None = None,
    decimal_fallback: str = ".",
    dates: DateRange | None = None,
) -> TableRead:
    """Read one hr/finance/business CSV into typed canonical rows + quarantine. Dates outside
    ``dates`` (default: ``default_date_range()``) are ``out_of_range``."""
    table = read_csv_records(path, decimal_fallback=decimal_fallback, rel_name=rel_name)
    return table_from_records(table, spec, column_map, dates)


def table_from_records(table: CsvTable, spec: TableSpec, column_map: dict[str, str] | None = None,
                       dates: DateRange | None = None) -> TableRead:
    """Type ``table``'s rows by ``spec`` (the rules are the module's), column by column (issue 18):
    a text cell is trimmed by polars, a cell of any other type is typed by `parse_cell` once per
    distinct text of its column; a row's first problem, the row checks and the repeated keys are
    polars expressions. The same rows, quarantine and counts as typing cell by cell."""
    dates = dates or default_date_range()
    found = resolve_columns(table.header, spec, column_map, table.name)
    frame = table.frame
    height = frame.height
    # the typed value of every cell (column `name`), its reason (`_r<k>`) and its text (`_t<k>`)
    typed: dict[str, pl.Series] = {"row_number": frame.get_column("row_number")}
    mapped: list[int] = []  # positions (in spec order) of the columns the file has
    for k, column in enumerate(spec.columns):
        i = found.get(column.name)
        if i is None:  # an optional column the file does not have: its default (never a reason)
            value, _ = parse_cell(column, None, table.decimal, dates)
            typed[column.name] = pl.repeat(value, height, dtype=column.dtype, eager=True)
            continue
        mapped.append(k)
        texts = frame.get_column(f"c{i}")
        typed[column.name], typed[f"_r{k}"] = _type_column(column, texts, table.decimal, dates)
        typed[f"_t{k}"] = texts
    work = pl.DataFrame(typed).with_row_index("_i")
    reasons = [pl.col(f"_r{k}") for k in mapped]
    work = work.with_columns(
        pl.coalesce([pl.when(r.is_not_null()).then(pl.lit(k, pl.Int32)) for k, r in zip(mapped, reasons)]
                    or [pl.lit(None, pl.Int32)]).alias("_first"))
    header = table.header
    quarantine = [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]

    # every cell is checked (the sanity gates count unusable cells per column); a row is
    # quarantined with its first problem
    problems = _column_problems(work, spec, mapped)
    for k in mapped:
        column = spec.columns[k]
        bad = work.filter(pl.col("_first") == k).select("row_number", f"_t{k}", f"_r{k}")
        quarantine += [qrow(n, header[found[column.name]], text, reason) for n, text, reason in bad.iter_rows()]
    work = work.filter(pl.col("_first").is_null())

    for _, check in spec.checks:  # in order: a row is named by its first failing check
        work = work.with_columns(_check_flags(work, spec, check))
        for row in work.filter(pl.col("_bad").is_not_null()).iter_rows(named=True):
            name = row["_bad"]
            i = found.get(name)
            text = row[f"_t{spec.names.index(name)}"] if i is not None else None
            quarantine.append(qrow(row["row_number"], header[i] if i is not None else name, text, "out_of_range"))
        work = work.filter(pl.col("_bad").is_null())

    if spec.key and work.height:
        parts = [_key_part(spec.column(k), work.get_column(k)) for k in spec.key]
        repeated = ~pl.DataFrame(parts).select(pl.struct(pl.all()).is_first_distinct()).to_series()
        # named by one key column, the first that is not a personal identifier (its value can be
        # shown as is); the whole key is what repeats
        name = next((k for k in spec.key if not spec.column(k).identifier), spec.key[0])
        i = found[name]
        text_column = f"_t{spec.names.index(name)}"
        for n, text in work.filter(repeated).select("row_number", text_column).iter_rows():
            quarantine.append(qrow(n, header[i], text, "duplicate"))
        work = work.filter(~repeated)

    rows = work.select("row_number", *spec.names).cast(spec.schema)
    quarantine.sort(key=lambda q: q["row_number"])
    return TableRead(
        file=table.name,
        spec=spec,
        rows=rows,
        quarantine=quarantine,
        rows_read=table.rows_read,
        chars_replaced=table.chars_replaced,
        mapped_columns={c: table.header[i] for c, i in found.items()},
        delimiter=table.delimiter,
        decimal=table.decimal,
        column_problems=problems,
        rows_parsed=height,
        identifier_values=_identifier_values(frame, spec, found),
    )


def _type_column(column: Column, texts: pl.Series, decimal: str,
                 dates: DateRange) -> tuple[pl.Series, pl.Series]:
    """(typed values, reasons) of one column's cells: `parse_cell` once per distinct text; a text
    column by polars (the trimmed text, or what `parse_cell` gives an empty cell)."""
    if column.type == "text":
        empty_value, empty_reason = parse_cell(column, "", decimal, dates)
        if empty_value is None or isinstance(empty_value, str):
            stripped = python_strip(pl.col("t"))
            empty = stripped == ""
            typed = pl.DataFrame({"t": texts}).select(
                pl.when(empty).then(pl.lit(empty_value, pl.String)).otherwise(stripped).alias("v"),
                pl.when(empty).then(pl.lit(empty_reason, pl.String)).alias("r"))
            return typed.get_column("v"), typed.get_column("r")
    values, reasons = per_distinct(texts, lambda text: parse_cell(column, text, decimal, dates),
                                   (column.dtype, pl.String()))
    return values, reasons


def _column_problems(work: pl.DataFrame, spec: TableSpec, mapped: list[int]) -> dict[str, dict[str, int]]:
    """column -> reason -> unusable cells, in the order a row by row walk meets them (columns by
    their first problem cell, row-major; reasons by their first cell)."""
    parts = [work.filter(pl.col(f"_r{k}").is_not_null()).select("_i", pl.lit(k, pl.Int32).alias("k"),
                                                               pl.col(f"_r{k}").alias("reason")) for k in mapped]
    parts = [p for p in parts if p.height]
    if not parts:
        return {}
    counts = (pl.concat(parts).group_by("k", "reason").agg(pl.len().alias("n"), pl.col("_i").min().alias("first"))
              .with_columns(pl.col("first").min().over("k").alias("column_first"))
              .sort("column_first", "k", "first"))
    problems: dict[str, dict[str, int]] = {}
    for k, reason, n, _, _ in counts.iter_rows():
        problems.setdefault(spec.columns[k].name, {})[reason] = n
    return problems


def _check_flags(work: pl.DataFrame, spec: TableSpec, check: RowCheck) -> pl.Series:
    """The column a row check names per row (null: the row passes)."""
    mask = getattr(check, "mask", None)
    if mask is not None:
        return work.select(pl.when(mask()).then(pl.lit(check.column, pl.String)).alias("_bad")).to_series()
    rows = work.select(spec.names).iter_rows(named=True)  # a plain callable: row by row
    return pl.Series("_bad", [check(row) for row in rows], dtype=pl.String)


def _key_part(column: Column, values: pl.Series) -> pl.Series:
    """A key column as keys compare: text (and identifiers) in their matching form."""
    if values.dtype == pl.String and (column.identifier or column.type == "text"):
        return normalise_identifier_series(values).alias(column.name)
    return values


def _identifier_values(frame: pl.DataFrame, spec: TableSpec, found: dict[str, int]) -> set[str]:
    """The matching forms of the non-blank cells of the identifier columns."""
    identifiers: set[str] = set()
    for name in spec.identifier_columns:
        if name in found:
            texts = frame.select(pl.col(f"c{found[name]}").unique().alias("t")).filter(python_strip(pl.col("t")) != "")
            identifiers.update(normalise_identifier_series(texts.get_column("t")).to_list())
    return identifiers
