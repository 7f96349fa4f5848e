"""Usage files: recognise the format and read it into canonical activity rows.

The formats are the ``UsageFormat`` objects listed in ``kpi.adapters.registry``; this module
knows containers (CSV, JSON, Parquet), never a format by name.

``read_usage_file`` never loses a source row: each one ends up with activity rows, as an inactive
(loaded, zero rows) row, or in the quarantine list; ``UsageRead.check_accounting()`` asserts it.
Matching users to employees, pseudonymising, duplicates across files and the weekly-vs-monthly
ChatGPT overlap are decided later by the ingest layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kpi.adapters import registry
from kpi.adapters.textio import (
    DateRange,
    _detect_delimiter,
    decode_bytes,
    default_date_range,
    looks_binary,
    read_text,
    split_record,
)
from kpi.adapters.usage_common import (
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    UsageFormat,
    UsageRead,
    UsageSource,
    is_concealed_identity,
    parquet_columns,
    qrow,
)
from kpi.errors import InputError

__all__ = [
    "FORMATS",
    "USAGE_COLUMNS",
    "USAGE_SCHEMA",
    "FormatRead",
    "UsageFormat",
    "UsageRead",
    "UsageSource",
    "detect_format",
    "is_concealed_identity",
    "read_usage_file",
    "recognise",
    "unrecognised",
]

FORMATS = registry.FORMATS  # the formats as registered at import time (the loops read the registry)

TEXT_EXTENSIONS = {".csv", ".txt", ".tsv", ".json", ".jsonl", ".ndjson"}
JSON_EXTENSIONS = {".json", ".jsonl", ".ndjson"}
HEAD_BYTES = 65536


def unrecognised(name: str) -> InputError:
    return InputError(f"{name}: unrecognised usage format; understood: {registry.understood()}")


_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.){1,80})"\s*:')


def _is_json_text(head: str) -> bool:
    return head.lstrip().startswith(("{", "["))


def _is_parquet(path: Path, head: bytes | None) -> bool:
    if path.suffix.lower() == ".parquet":
        return True
    return head is not None and head.startswith(b"PAR1")


@dataclass(frozen=True)
class Sniffed:
    """What recognition looks at: the container and its names (CSV header, JSON keys of the first
    64 KiB in order of appearance, or Parquet columns)."""

    container: str
    names: tuple[str, ...]


def sniff(path: str | Path, head: str | bytes | None = None, rel_name: str | None = None) -> Sniffed:
    """The container and names of a usage file from its extension and first part (or InputError).

    ``head`` is the file's text (or its first bytes); when None the first 64 KiB are read.
    """
    path = Path(path)
    name = rel_name or path.name
    if head is None or isinstance(head, bytes):
        if head is None:
            try:
                with open(path, "rb") as fh:
                    raw_head = fh.read(HEAD_BYTES)
            except OSError as exc:
                raise InputError(f"{name}: cannot be read ({exc.strerror or exc}); check the file") from exc
        else:
            raw_head = head
        if _is_parquet(path, raw_head):
            return Sniffed("parquet", tuple(parquet_columns(path, name)))
        if not raw_head.strip():
            raise InputError(f"{name}: the file is empty; export it again with a header row and data")
        if looks_binary(raw_head):
            if path.suffix.lower() in TEXT_EXTENSIONS:
                raise InputError(f"{name}: not a text file (binary content); export it as CSV")
            raise unrecognised(name)
        text = decode_bytes(raw_head, name)[0]
    else:
        if _is_parquet(path, None):
            return Sniffed("parquet", tuple(parquet_columns(path, name)))
        text = head
    text = text[:HEAD_BYTES].lstrip("\ufeff")
    if _is_json_text(text) or path.suffix.lower() in JSON_EXTENSIONS:
        keys = dict.fromkeys(m.group(1) for m in _JSON_KEY.finditer(text[:HEAD_BYTES]))
        return Sniffed("json", tuple(keys))
    header = _header_of(text)
    if header is None:
        raise unrecognised(name)
    return Sniffed("csv", tuple(header))


def recognise(sniffed: Sniffed, name: str) -> UsageFormat:
    """The registered format that recognises the file: the highest priority, then the first
    registered (or the "unrecognised usage format" InputError)."""
    candidates = [f for f in registry.FORMATS if sniffed.container in f.containers]
    for fmt in sorted(candidates, key=lambda f: -f.priority):
        if fmt.recognises(sniffed.names):
            return fmt
    raise unrecognised(name)


def detect_format(path: str | Path, head: str | bytes | None = None, rel_name: str | None = None) -> str:
    """The name of the file's format (one of ``registry.names()``), or InputError.

    ``head`` is the file's text (or its first bytes); when None the first 64 KiB are read.
    """
    path = Path(path)
    return recognise(sniff(path, head, rel_name), rel_name or path.name).name


def _header_of(text: str) -> list[str] | None:
    for line in text[:HEAD_BYTES].replace("\r\n", "\n").split("\n")[:50]:
        if not line.strip() or re.fullmatch(r"sep=.\s*", line):
            continue
        delim = _detect_delimiter(line)
        fields = split_record(line, delim)
        if fields is None:
            fields = line.split(delim)
        return [f.strip().strip('"').strip() for f in fields]
    return None


def read_usage_file(
    path: str | Path, rel_name: str, tz: str = "UTC", decimal_fallback: str = ".",
    dates: DateRange | None = None,
) -> UsageRead:
    """Read one usage file into canonical rows + quarantine (see ``UsageRead``). Dates outside
    ``dates`` (default: ``default_date_range()``) are quarantined as ``out_of_range``."""
    dates = dates or default_date_range()
    path = Path(path)
    text: str | None = None
    replaced = 0
    if _is_parquet(path, _peek(path)):
        sniffed = sniff(path, None, rel_name)
    else:
        if path.suffix.lower() not in TEXT_EXTENSIONS:
            detect_format(path, None, rel_name)  # binary/unknown files: the "unrecognised" message
        text, replaced = read_text(path, rel_name)
        sniffed = sniff(path, text, rel_name)
    fmt = recognise(sniffed, rel_name)
    result: FormatRead = fmt.read(UsageSource(
        path=path, name=rel_name, container=sniffed.container, tz=tz, decimal_fallback=decimal_fallback,
        text=text, chars_replaced=replaced, dates=dates,
    ))
    rows, quarantine = _outside_dates(result.rows, list(result.quarantine), dates)
    return UsageRead(
        file=rel_name, format=fmt.name, rows=rows,
        quarantine=sorted(quarantine, key=lambda q: q["row_number"]), rows_read=result.rows_read,
        chars_replaced=replaced, inactive_row_numbers=sorted(result.inactive_row_numbers),
        personal_columns=result.personal_columns, warnings=result.warnings,
        concealed_rows=result.concealed_rows,
    )


def _outside_dates(rows, quarantine: list[dict], dates: DateRange):
    """Whatever the format: a source row with an activity day (or period) outside ``dates`` is
    quarantined as ``out_of_range`` with all its activity rows (the formats check the dates they
    parse themselves, naming the column; this is the backstop for any format)."""
    import polars as pl

    bad = dates.outside(pl.col("day")) | dates.outside(pl.col("period_start")) | dates.outside(pl.col("period_end"))
    rejected = rows.filter(bad)
    if rejected.height == 0:
        return rows, quarantine
    first = rejected.group_by("row_number", maintain_order=True).first()
    for number, day in first.select("row_number", pl.col("day").cast(pl.String)).iter_rows():
        quarantine.append(qrow(number, "day", day, "out_of_range"))
    return rows.filter(~pl.col("row_number").is_in(first["row_number"].to_list())), quarantine


def _peek(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(4)
    except OSError:
        return None
