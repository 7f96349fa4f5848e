"""Frozen copy of ``kpi.adapters.tables.table_from_records`` and ``parse_cell`` as they were
before issue 18 (every cell parsed in Python, row by row): the reference for the equivalence
tests (tests/ingest/test_state_survey_equivalence.py), issue 18. Not used by the pipeline; do not
change it to follow the production reader. The row checks of the specs are frozen here too, as the
functions they were (``CHECKS``, by table name)."""

from __future__ import annotations

from typing import Any

import polars as pl

from kpi.adapters.tables import Column, TableRead, TableSpec, _enum_key, resolve_columns
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
)
from kpi.adapters.usage_common import qrow


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


CHECKS = {
    "employees": (("exit_date before hire_date", _exit_after_hire),),
    "trainings": (("completed_on before started_on", _completed_after_start),),
    "assessments": (("score above max_score", _score_within_max),),
}


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
            for _, check in CHECKS.get(spec.name, spec.checks):
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


