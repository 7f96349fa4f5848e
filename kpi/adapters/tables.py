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
    normalise_identifier,
    parse_bool,
    parse_date,
    parse_int,
    parse_month,
    parse_number,
    read_csv_records,
)
from kpi.adapters.usage_common import qrow
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
    checks: tuple[tuple[str, RowCheck], ...] = ()  # (description, check) -> out_of_range

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


def _score_within_max(row: dict[str, Any]) -> str | None:
    if row.get("score") is not None and row.get("max_score") is not None and row["score"] > row["max_score"]:
        return "score"
    return None


def _exit_after_hire(row: dict[str, Any]) -> str | None:
    if row.get("exit_date") is not None and row.get("hire_date") is not None and row["exit_date"] < row["hire_date"]:
        return "exit_date"
    return None


def _completed_after_start(row: dict[str, Any]) -> str | None:
    if row.get("completed_on") is not None and row.get("started_on") is not None \
            and row["completed_on"] < row["started_on"]:
        return "completed_on"
    return None


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
    dates = dates or default_date_range()
    found = resolve_columns(table.header, spec, column_map, table.name)
    quarantine = [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]
    data: dict[str, list[Any]] = {"row_number": [], **{c.name: [] for c in spec.columns}}
    seen: set[tuple] = set()
    order = [c for c in spec.columns]
    idx = [found.get(c.name) for c in order]
    cols = ["row_number", *sorted({f"c{i}" for i in idx if i is not None}, key=lambda s: int(s[1:]))]
    positions = {int(c[1:]): k for k, c in enumerate(cols) if c != "row_number"}
    problems: dict[str, dict[str, int]] = {}
    identifiers: set[str] = set()
    for rec in table.frame.select(cols).iter_rows():
        number = rec[0]
        row: dict[str, Any] = {}
        problem = None
        for column, i in zip(order, idx):
            text = rec[positions[i]] if i is not None else None
            if column.identifier and text and text.strip():
                identifiers.add(normalise_identifier(text))
            value, reason = parse_cell(column, text, table.decimal, dates)
            if reason:
                # every cell is checked (the sanity gates count unusable cells per column); the
                # row is quarantined with its first problem
                counts = problems.setdefault(column.name, {})
                counts[reason] = counts.get(reason, 0) + 1
                if problem is None:
                    problem = qrow(number, table.header[i] if i is not None else column.name, text, reason)
                continue
            row[column.name] = value
        if problem is None:
            for _, check in spec.checks:
                bad = check(row)
                if bad:
                    i = found.get(bad)
                    problem = qrow(number, table.header[i] if i is not None else bad,
                                   rec[positions[i]] if i is not None else None, "out_of_range")
                    break
        if problem is None and spec.key:
            key = tuple(_key_part(spec.column(k), row[k]) for k in spec.key)
            if key in seen:
                # named by one key column, the first that is not a personal identifier (its value
                # can be shown as is); the whole key is what repeats
                name = next((k for k in spec.key if not spec.column(k).identifier), spec.key[0])
                i = found[name]
                problem = qrow(number, table.header[i], rec[positions[i]], "duplicate")
            else:
                seen.add(key)
        if problem is not None:
            quarantine.append(problem)
            continue
        data["row_number"].append(number)
        for c in order:
            data[c.name].append(row[c.name])
    rows = pl.DataFrame(data, schema=spec.schema)
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
        rows_parsed=table.frame.height,
        identifier_values=identifiers,
    )


def _key_part(column: Column, value: Any) -> Any:
    if isinstance(value, str):
        return normalise_identifier(value) if column.identifier or column.type == "text" else value
    return value


