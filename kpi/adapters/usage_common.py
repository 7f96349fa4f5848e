"""The canonical activity-row schema, what a usage format declares, and the result of reading one
usage file.

A usage format is one module (``canonical.py``, ``m365.py``, ``github.py``, ``chatgpt.py``) that
ends with a ``UsageFormat``: how a file is recognised and how it is read. ``kpi.adapters.registry``
lists them; ``kpi.adapters.usage`` loops over that list and never names a format.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from kpi.adapters.textio import PYTHON_WHITESPACE, CsvTable, DateRange, default_date_range, parse_csv_text
from kpi.errors import InputError

USAGE_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "day": pl.Date(),
    "event_time": pl.Datetime("us"),
    "user": pl.String(),
    "user_norm": pl.String(),
    "tool": pl.String(),
    "action": pl.String(),
    "interactions": pl.Int64(),
    "successes": pl.Int64(),
    "failures": pl.Int64(),
    "natural_key": pl.String(),
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "cadence": pl.String(),
}
USAGE_COLUMNS = list(USAGE_SCHEMA)

# Separator between the parts of a natural key (never appears in exported values).
KEY_SEP = "\x1f"

TOOL_M365 = "m365-copilot"
TOOL_GITHUB = "github-copilot"
TOOL_CHATGPT = "chatgpt-enterprise"

MAX_VALUE_CHARS = 2000

_CONCEALED = re.compile(r"[0-9A-Fa-f]{32}")


def is_concealed_identity(user: str | None) -> bool:
    """True for an identifier concealed by Microsoft's report privacy setting (32 hex chars)."""
    return bool(user) and _CONCEALED.fullmatch(user.strip()) is not None


def qrow(row_number: int, column: str | None, value: Any, reason: str) -> dict[str, Any]:
    """One quarantine entry (the lead's ingest adds file and stage)."""
    if value is None:
        text = None
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    if text is not None and len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + "…"
    return {"row_number": int(row_number), "column": column, "value": text, "reason": reason}


def empty_usage_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=USAGE_SCHEMA)


def usage_frame(records: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Canonical rows from Python dicts (missing keys are null)."""
    records = list(records)
    if not records:
        return empty_usage_frame()
    data = {c: [r.get(c) for r in records] for c in USAGE_COLUMNS}
    return pl.DataFrame(data, schema=USAGE_SCHEMA)


def make_key(*parts: Any) -> str:
    out = []
    for p in parts:
        if p is None:
            out.append("")
        elif isinstance(p, dt.datetime):
            out.append(p.isoformat())
        elif isinstance(p, dt.date):
            out.append(p.isoformat())
        else:
            out.append(str(p))
    return KEY_SEP.join(out)


@dataclass
class UsageRead:
    """What one usage file yields.

    * ``rows`` -- canonical activity rows (``USAGE_SCHEMA``); one source row may give several
      (M365: one per app, ChatGPT: first and last day), all with its ``row_number``.
    * ``quarantine`` -- one dict per rejected source row: row_number, column (the file's column
      name, None for a whole-row problem), value, reason.
    * ``inactive_row_numbers`` -- source rows read without problem that prove no activity (an
      M365 user with no date inside the report period, a ChatGPT user with no message or no
      active day in the period). They count as *loaded* with zero activity rows.
    * ``rows_read`` -- distinct source data rows = loaded (with rows or inactive) + quarantined.
    * ``personal_columns`` -- the file's column names whose quarantined values are personal
      identifiers (pseudonymise them); a ``malformed_row`` value is raw row text and may hold
      identifiers too.
    * ``concealed_rows`` -- source rows (active or not) whose user is concealed by the vendor's
      report privacy setting (``is_concealed_identity``); ingest warns about such a file.
    """

    file: str
    format: str
    rows: pl.DataFrame
    quarantine: list[dict[str, Any]]
    rows_read: int
    chars_replaced: int = 0
    inactive_row_numbers: list[int] = field(default_factory=list)
    personal_columns: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    concealed_rows: int = 0

    @property
    def rows_loaded(self) -> int:
        """Source rows loaded: those with activity rows plus the inactive ones."""
        return self.rows["row_number"].n_unique() + len(self.inactive_row_numbers)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    def check_accounting(self) -> None:
        """Assert every source row is loaded xor quarantined and the counts add up."""
        assert list(self.rows.schema.items()) == list(USAGE_SCHEMA.items()), self.rows.schema
        loaded = set(self.rows["row_number"].unique().to_list())
        inactive = set(self.inactive_row_numbers)
        quarantined = [q["row_number"] for q in self.quarantine]
        qset = set(quarantined)
        assert len(qset) == len(quarantined), "a source row is quarantined twice"
        assert len(inactive) == len(self.inactive_row_numbers), "an inactive row is listed twice"
        assert not (loaded & inactive), "a row is both loaded and inactive"
        assert not (loaded & qset), f"rows both loaded and quarantined: {sorted(loaded & qset)[:5]}"
        assert not (inactive & qset), "a row is both inactive and quarantined"
        total = len(loaded) + len(inactive) + len(qset)
        assert total == self.rows_read, f"accounted {total} rows, read {self.rows_read}"
        assert self.rows_loaded + self.rows_quarantined == self.rows_read
        for col in ("row_number", "day", "user", "user_norm", "tool", "interactions",
                    "successes", "failures", "natural_key"):
            assert self.rows[col].null_count() == 0, f"null {col}"


# ----------------------------------------------------------------------------------------------
# what a usage format declares

CONTAINERS = ("csv", "json", "parquet")


@dataclass(frozen=True)
class UsageSource:
    """One usage file as a format's reader gets it: already recognised, its container known.

    ``container`` is ``csv``, ``json`` (a document, NDJSON included) or ``parquet``; ``text`` is
    the decoded file for csv/json (None for parquet). A reader takes what it needs:
    ``table()`` for CSV, ``records()`` for JSON, ``path`` for Parquet. ``dates`` is the plausible
    range: a reader quarantines a date it parses outside it as ``out_of_range`` (naming its
    column); ``read_usage_file`` also rejects any activity row whose day falls outside.
    """

    path: Path
    name: str  # the path shown to the user (``usage/x.csv``)
    container: str
    tz: str = "UTC"
    decimal_fallback: str = "."
    text: str | None = None
    chars_replaced: int = 0
    dates: DateRange = field(default_factory=default_date_range)

    def table(self) -> CsvTable:
        """The CSV records (row numbers, malformed rows, delimiter and decimal detected)."""
        return parse_csv_text(self.text or "", self.name, decimal_fallback=self.decimal_fallback,
                              chars_replaced=self.chars_replaced)

    def records(self, record_keys: tuple[str, ...] = ()) -> list[tuple[int, Any, str]]:
        """The JSON records: (row_number, parsed value or None, raw text); see ``json_records``."""
        return json_records(self.text or "", self.name, record_keys)


@dataclass
class FormatRead:
    """What a format's reader returns (``read_usage_file`` adds file, format and chars_replaced;
    the fields mean what they mean in ``UsageRead``)."""

    rows: pl.DataFrame
    quarantine: list[dict[str, Any]]
    rows_read: int
    inactive_row_numbers: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    personal_columns: set[str] = field(default_factory=set)
    concealed_rows: int = 0


@dataclass(frozen=True)
class UsageFormat:
    """One vendor format: how a file is recognised and how it is read.

    * ``name`` -- stored in ``staging.usage_activity.format`` and the ingest manifest;
    * ``tool`` -- the tool of every row, None when the file names it per row (canonical logs);
    * ``description`` -- shown in the "unrecognised usage format; understood: ..." message
      (formats sharing one description are listed once);
    * ``containers`` -- the containers it comes in (``csv``, ``json``, ``parquet``);
    * ``recognises(names)`` -- True for the CSV header, the JSON keys (of the first 64 KiB) or
      the Parquet columns of a file in this format;
    * ``read(source)`` -- the file's rows, quarantine and accounting (``FormatRead``);
    * ``priority`` -- when several formats recognise a file the highest wins (then the first in
      the registry).
    """

    name: str
    tool: str | None
    description: str
    containers: tuple[str, ...]
    recognises: Callable[[Sequence[str]], bool]
    read: Callable[[UsageSource], FormatRead]
    priority: int = 0

    def __post_init__(self) -> None:
        unknown = [c for c in self.containers if c not in CONTAINERS]
        if unknown or not self.containers:
            raise ValueError(f"usage format {self.name}: containers must be among {CONTAINERS}, got {self.containers}")


def parquet_columns(path: str | Path, name: str) -> list[str]:
    """The column names of a Parquet file (InputError when it cannot be read as Parquet)."""
    try:
        return list(pl.read_parquet_schema(path))
    except Exception as exc:  # noqa: BLE001 - any reader failure means an unusable file
        raise InputError(f"{name}: not a valid Parquet file ({type(exc).__name__}); export it again") from exc


# ----------------------------------------------------------------------------------------------
# JSON documents: NDJSON, a JSON array, or an object wrapping the array

_WRAPPER_KEYS = ("users", "data", "records", "items", "results", "user_metrics", "metrics", "rows")
_STRUCTURAL = {"[", "]", "],", "{", "}", "},", "]}", "]},"}


def json_records(text: str, name: str, record_keys: tuple[str, ...] = ()) -> list[tuple[int, Any, str]]:
    """Records of a JSON/NDJSON document: (row_number, parsed value or None, raw text).

    A whole document (array or wrapper object) numbers its records 1..n; NDJSON uses physical
    line numbers. A line that is not valid JSON has value None (a malformed row).
    """
    stripped = text.strip()
    try:
        doc = json.loads(stripped)
    except ValueError as exc:
        doc = exc
    if not isinstance(doc, ValueError):
        items = _items_of(doc, name, record_keys)
        return [(i + 1, item, _raw(item)) for i, item in enumerate(items)]
    error = doc
    out: list[tuple[int, Any, str]] = []
    good = 0
    lines = _lines(text)
    first_number = next((i for i, line in enumerate(lines, start=1) if line.strip()), 0)
    for number, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s in _STRUCTURAL:
            continue
        if s.startswith("[") and number == first_number:
            s = s[1:].strip()
            if not s:
                continue
        if re.fullmatch(r'\{\s*"[^"]*"\s*:\s*\[', s):  # a wrapper's opening line
            continue
        s = s.rstrip(",").strip()
        if s.endswith("]") and not s.endswith("[]") and s.count("[") < s.count("]"):
            s = s[:-1].rstrip().rstrip(",")
        try:
            value = json.loads(s)
        except ValueError:
            out.append((number, None, line))
            continue
        good += isinstance(value, dict)
        out.append((number, value, line))
    first = lines[first_number - 1].strip() if first_number else ""
    opener = first in ("[", "{", "[{", "{[") or re.fullmatch(r'\[?\{\s*"[^"]*"\s*:\s*[\[{]\s*\{?', first)
    if good == 0 and opener:
        # a pretty-printed document that does not parse: its lines are not records
        raise InputError(
            f"{name}: not valid JSON ({error.msg} at line {getattr(error, 'lineno', '?')}); "
            "fix the file or export it as NDJSON (one JSON object per line)"
        )
    return out


def _lines(text: str) -> list[str]:
    # not str.splitlines(): JSON strings may hold U+2028 and other line separators
    return text.replace("\r\n", "\n").split("\n")


def _raw(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, default=str)


def _items_of(doc: Any, name: str, record_keys: tuple[str, ...]) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(doc.get(key), list):
                return doc[key]
        if any(k in doc for k in record_keys):
            return [doc]
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
        if not lists:
            return [doc]
    raise InputError(
        f"{name}: the JSON document holds no list of records; export it as NDJSON "
        "(one JSON object per line) or as a JSON array"
    )


def plain_ndjson_lines(text: str) -> pl.DataFrame | None:
    """The records of plain NDJSON as (row_number = physical line, raw line, line stripped), or
    None when the text is another JSON document (it parses as one: an array, a wrapper object, a
    single record) or has a line that is not one object on its own (pretty-printed, an array's
    lines): ``json_records`` decides those."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        json.loads(stripped)
    except ValueError:
        pass
    else:
        return None
    raw = pl.Series("raw", text.replace("\r\n", "\n").split("\n"), dtype=pl.String)
    frame = pl.DataFrame([pl.int_range(1, raw.len() + 1, eager=True, dtype=pl.Int64).alias("row_number"), raw])
    frame = frame.with_columns(pl.col("raw").str.strip_chars(PYTHON_WHITESPACE).alias("line")).filter(
        pl.col("line") != "")
    plain = frame.select((pl.col("line").str.starts_with("{") & pl.col("line").str.ends_with("}")
                          & (pl.col("line").str.len_chars() >= 2)).all()).item()
    return frame if plain else None


def json_fallback_records(parsed: pl.DataFrame, lines: pl.DataFrame) -> list[tuple[int, Any, str]]:
    """The NDJSON lines DuckDB's JSON functions left to the per-record rules (``simple`` false in
    ``parsed``), as (row number, the record as Python's ``json`` reads it or None, raw line): what
    ``json_records`` would give for them. ``lines``: row_number, raw and line of every line."""
    others = parsed.filter(~pl.col("simple")).join(lines, on="row_number").select("row_number", "raw", "line")
    records = []
    for number, raw, line in others.iter_rows():
        try:
            records.append((number, json.loads(line), raw))
        except ValueError:
            records.append((number, None, raw))
    return records
