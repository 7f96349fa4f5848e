"""Robust reading of text inputs: decoding, CSV records, and value parsers.

Shared by every input (usage, HR, finance, business, surveys). Rules (docs/inputs.md):

* A file is decoded as UTF-8 (a UTF-8 BOM is stripped; a UTF-16 file with a BOM is decoded
  as UTF-16). Undecodable bytes become U+FFFD and their number is reported as
  ``chars_replaced``; there is no silent cp1252 guess. NUL bytes (or text that is mostly
  undecodable) mean a binary file: ``InputError``. An empty file is an ``InputError``.
* CSV records: the delimiter (``,`` ``;`` or tab) is detected from the header line, the decimal
  separator from the data (``,`` when the delimiter is ``;`` and numbers use commas, ``.``
  when numbers use points, else the fallback). Row numbers are *physical line numbers counted
  from the line after the header* (the first data line is row 1): a record whose quoted field
  spans lines has the number of its first line, blank lines are skipped without being rows.
* A row with the wrong number of fields or broken quoting (a quote inside an unquoted field,
  text after a closing quote, an unclosed quote) is malformed. A stray opening quote never
  swallows the following lines: when a record that spans lines is not a valid row, only its
  first physical line is malformed and reading resumes on the next line.
* A row may carry extra trailing fields when they are all empty (``a,b,c,,``); they are
  dropped. Header names are trimmed; trailing empty header names are dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from kpi.errors import InputError
from kpi.privacy import WHITESPACE, normalise_identifier  # noqa: F401  (re-exported)

# ----------------------------------------------------------------------------------------------
# decoding


def _display(path: str | Path, rel_name: str | None) -> str:
    return rel_name if rel_name else Path(path).name


def decode_bytes(data: bytes, rel_name: str) -> tuple[str, int]:
    """Decode file content; return (text, number of replacement characters introduced)."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        # UTF-16 with BOM (Excel "Unicode text"): decode it rather than call it binary.
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        text = data[2:].decode(codec, errors="replace")
        legit = data[2:].decode(codec, errors="ignore").count("\ufffd")
        return text, text.count("\ufffd") - legit
    if b"\x00" in data:
        raise InputError(f"{rel_name}: not a text file (binary content); export it as CSV")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if replaced > 0.3 * max(len(text), 1) and replaced > 8:
        raise InputError(f"{rel_name}: not a text file (binary content); export it as CSV")
    return text, replaced


def read_text(path: str | Path, rel_name: str | None = None) -> tuple[str, int]:
    """Read a text file: ``(text, chars_replaced)``; binary or empty files raise InputError."""
    name = _display(path, rel_name)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc}); check the file") from exc
    if not data:
        raise InputError(f"{name}: the file is empty; export it again with a header row and data")
    text, replaced = decode_bytes(data, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text or text.isspace():
        raise InputError(f"{name}: the file is empty; export it again with a header row and data")
    return text, replaced


def looks_binary(head: bytes) -> bool:
    """True when the first bytes of a file are not text."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    text = head.decode("utf-8", errors="replace")
    # the head may cut a multi-byte character at its end
    bad = text[:-2].count("\ufffd") if len(text) > 2 else 0
    return bad > 0.3 * max(len(text), 1) and bad > 8


# ----------------------------------------------------------------------------------------------
# identifiers

def strip(text: str) -> str:
    """``text`` without leading/trailing Unicode white space (same as polars ``strip_chars``)."""
    return text.strip(WHITESPACE)


def normalise_identifier_series(series: pl.Series) -> pl.Series:
    """Vectorised ``normalise_identifier`` (identical results; ASCII via polars, rest casefold)."""
    stripped = series.cast(pl.String).str.strip_chars()
    lowered = stripped.str.to_lowercase()
    non_ascii = stripped.str.contains(r"[^\x00-\x7f]").fill_null(False)
    if not non_ascii.any():
        return lowered.alias(series.name)
    uniques = stripped.filter(non_ascii).unique().to_list()
    mapping = {u: u.casefold() for u in uniques}
    folded = stripped.replace_strict(mapping, default=lowered, return_dtype=pl.String)
    return folded.alias(series.name)


# ----------------------------------------------------------------------------------------------
# value parsers (scalar). Each returns (value, ok); a missing value is (None, True).

MISSING_TOKENS = frozenset({"", "null", "none"})
#: what Python's str.strip() removes: WHITESPACE and the separators U+001C..U+001F
PYTHON_WHITESPACE = WHITESPACE + "\x1c\x1d\x1e\x1f"


def is_missing(text: Any) -> bool:
    if text is None:
        return True
    if isinstance(text, float) and math.isnan(text):
        return True
    return isinstance(text, str) and strip(text).casefold() in MISSING_TOKENS


TIMESTAMP_PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ]((?:[01][0-9]|2[0-3]):[0-5][0-9])(?::([0-5][0-9]))?(?:[.,]([0-9]{1,9}))?"
    r" ?(Z|z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def parse_date(text: Any) -> tuple[dt.date | None, bool]:
    """ISO date ``YYYY-MM-DD``; a valid time part (``T10:00:00Z``) may follow and is ignored."""
    if isinstance(text, dt.datetime):
        return text.date(), True
    if isinstance(text, dt.date):
        return text, True
    if is_missing(text):
        return None, True
    if not isinstance(text, str):
        return None, False
    m = _TIMESTAMP.fullmatch(strip(text))
    if not m:
        return None, False
    try:
        return dt.date.fromisoformat(m.group(1)), True
    except ValueError:
        return None, False


def parse_month(text: Any) -> tuple[dt.date | None, bool]:
    """``YYYY-MM`` (or an ISO date) as the first day of that month."""
    if is_missing(text):
        return None, True
    if not isinstance(text, str):
        return parse_date(text)
    s = strip(text)
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", s)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), 1), True
        except ValueError:
            return None, False
    value, ok = parse_date(s)
    return (value.replace(day=1) if value else None), ok


@dataclass(frozen=True)
class DateRange:
    """The plausible dates of an input (docs/quality.md, "Dates outside a plausible range"): from
    ``first`` to ``last``, both included. A parsed date outside is ``out_of_range``, so that no
    absurd date (``0001-01-01``, ``9999-12-31``) reaches quarter logic."""

    first: dt.date = dt.date(1950, 1, 1)
    last: dt.date = dt.date.max

    @classmethod
    def around(cls, today: dt.date, earliest: dt.date = dt.date(1950, 1, 1), days_ahead: int = 366) -> DateRange:
        """From ``earliest`` to ``days_ahead`` days after ``today``."""
        return cls(earliest, today + dt.timedelta(days=days_ahead))

    def __contains__(self, day: Any) -> bool:
        if isinstance(day, dt.datetime):
            day = day.date()
        return self.first <= day <= self.last

    def outside(self, col: pl.Expr) -> pl.Expr:
        """True where a Date (or Datetime) column holds a date outside the range (null: False)."""
        return ((col.cast(pl.Date) < self.first) | (col.cast(pl.Date) > self.last)).fill_null(False)

    def describe(self) -> str:
        return f"from {self.first.isoformat()} to {self.last.isoformat()}"


def default_date_range() -> DateRange:
    """The default plausible range as of today (readers called without one use it)."""
    return DateRange.around(dt.date.today())


_ZONES: dict[str, Any] = {}


def _zone(tz: str):
    from zoneinfo import ZoneInfo

    if tz not in _ZONES:
        _ZONES[tz] = ZoneInfo(tz)
    return _ZONES[tz]


def _offset_minutes(token: str) -> int | None:
    if token in ("Z", "z", "UTC"):
        return 0
    sign = -1 if token[0] == "-" else 1
    digits = token[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        return None
    return sign * (hours * 60 + minutes)


def parse_timestamp(text: Any, tz: str) -> tuple[dt.datetime | dt.date | None, bool]:
    """A timestamp in the company time zone ``tz``.

    With an offset (``Z``, ``+01:00``) it is converted to ``tz`` and returned naive local; without
    one it is already local and returned as is; a date alone is returned as a ``date``.
    """
    if isinstance(text, dt.datetime):
        if text.tzinfo is not None:
            try:
                return text.astimezone(_zone(tz)).replace(tzinfo=None), True
            except OverflowError:  # year 1 or 9999: far outside any DateRange, rejected there
                return text.replace(tzinfo=None), True
        return text, True
    if isinstance(text, dt.date):
        return text, True
    if is_missing(text):
        return None, True
    if not isinstance(text, str):
        return None, False
    m = _TIMESTAMP.fullmatch(strip(text))
    if not m:
        return None, False
    date_s, hhmm, ss, frac, off = m.groups()
    try:
        day = dt.date.fromisoformat(date_s)
    except ValueError:
        return None, False
    if hhmm is None:
        return day, True
    micro = int((frac or "0")[:6].ljust(6, "0"))
    local = dt.datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[3:5]),
                        int(ss or 0), micro)
    if off is None:
        return local, True
    minutes = _offset_minutes(off)
    if minutes is None:
        return None, False
    aware = local.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    try:
        return aware.astimezone(_zone(tz)).replace(tzinfo=None), True
    except OverflowError:  # year 1 or 9999: far outside any DateRange, rejected there
        return local, True


_CURRENCY = re.compile(r"^(?:€|\$|£|EUR|USD|GBP)\s*|\s*(?:€|\$|£|EUR|USD|GBP)$", re.IGNORECASE)


def _number_regex(decimal: str) -> re.Pattern[str]:
    group = "." if decimal == "," else ","
    g, d = re.escape(group), re.escape(decimal)
    return re.compile(
        rf"[+-]?(?:[0-9]{{1,3}}(?:{g}[0-9]{{3}})+|[0-9]{{1,3}}(?:[ \u00a0\u202f'][0-9]{{3}})+|[0-9]+)?"
        rf"(?:{d}[0-9]+)?(?:[eE][+-]?[0-9]+)?"
    )


_NUMBER_RE = {".": _number_regex("."), ",": _number_regex(",")}


def parse_number(text: Any, decimal: str = ".") -> tuple[float | None, bool]:
    """A decimal number with ``decimal`` as separator (thousands groups and a currency sign allowed).

    In a ``,``-decimal file an unambiguous point decimal (``1.5``) is accepted too.
    """
    if isinstance(text, bool):
        return None, False
    if isinstance(text, (int, float)):
        return (None, False) if isinstance(text, float) and not math.isfinite(text) else (float(text), True)
    if is_missing(text):
        return None, True
    if not isinstance(text, str):
        return None, False
    s = strip(_CURRENCY.sub("", strip(text)))
    if not s or not any(c.isdigit() for c in s):
        return None, False
    pattern = _NUMBER_RE.get(decimal, _NUMBER_RE["."])
    if pattern.fullmatch(s):
        group = "." if decimal == "," else ","
        clean = re.sub(r"[ \u00a0\u202f']", "", s).replace(group, "").replace(decimal, ".")
    elif decimal == "," and re.fullmatch(r"[+-]?[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?", s):
        clean = s
    else:
        return None, False
    try:
        value = float(clean)
    except ValueError:
        return None, False
    return (value, True) if math.isfinite(value) else (None, False)


_INT64_MAX = 2**63 - 1


def parse_int(text: Any, decimal: str = ".") -> tuple[int | None, bool]:
    """A whole number (``3``, ``3.0``/``3,0`` with the file's decimal separator)."""
    if isinstance(text, bool):
        return None, False
    if isinstance(text, int):
        return (text, True) if abs(text) <= _INT64_MAX else (None, False)
    if isinstance(text, float):
        if math.isfinite(text) and text == int(text) and abs(text) <= _INT64_MAX:
            return int(text), True
        return None, False
    if is_missing(text):
        return None, True
    if not isinstance(text, str):
        return None, False
    m = re.fullmatch(rf"([+-]?[0-9]+)(?:{re.escape(decimal)}0+)?", strip(text))
    if not m or len(m.group(1).lstrip("+-0")) > 19:  # beyond int64 (and Python's 4,300-digit int limit)
        return None, False
    value = int(m.group(1))
    return (value, True) if abs(value) <= _INT64_MAX else (None, False)


_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def parse_bool(text: Any) -> tuple[bool | None, bool]:
    """``true/false``, ``1/0``, ``yes/no`` in any case."""
    if isinstance(text, bool):
        return text, True
    if isinstance(text, int) and text in (0, 1):
        return bool(text), True
    if is_missing(text):
        return None, True
    if not isinstance(text, str):
        return None, False
    s = strip(text).casefold()
    if s in _TRUE:
        return True, True
    if s in _FALSE:
        return False, True
    return None, False


# ----------------------------------------------------------------------------------------------
# value parsers (vectorised, same semantics as the scalar ones above)


def missing_expr(col: pl.Expr) -> pl.Expr:
    """True where a string cell is missing (null, empty, ``null``/``none``)."""
    return col.is_null() | col.str.contains(r"^\s*(?i:null|none)?\s*$")


def with_parsed_timestamp(df: pl.DataFrame, column: str, tz: str, prefix: str = "_ts") -> pl.DataFrame:
    """Vectorised ``parse_timestamp`` of a string column.

    Adds ``{prefix}_day`` (Date), ``{prefix}_time`` (naive local Datetime, null for a date alone),
    ``{prefix}_ok`` and ``{prefix}_missing`` (Boolean). Computed in stages so that polars
    evaluates every step once.
    """
    p = prefix
    fast = _fast_timestamps(df, column, p)
    if fast is not None:
        return fast
    df = df.with_columns(
        pl.col(column).str.strip_chars().str.extract_groups(TIMESTAMP_PATTERN).alias(f"{p}_parts"),
        missing_expr(pl.col(column)).alias(f"{p}_missing"),
    ).with_columns(
        pl.col(f"{p}_parts").struct.field("1").alias(f"{p}_date"),
        pl.col(f"{p}_parts").struct.field("2").alias(f"{p}_hhmm"),
        pl.col(f"{p}_parts").struct.field("5").alias(f"{p}_off"),
        pl.col(f"{p}_parts").struct.field("3").fill_null("00").alias(f"{p}_ss"),
        pl.col(f"{p}_parts").struct.field("4").fill_null("0").str.slice(0, 6).str.pad_end(6, "0").alias(f"{p}_frac"),
    )
    off = pl.col(f"{p}_off")
    off_digits = off.str.replace_all(":", "").str.slice(1)
    df = df.with_columns(
        pl.concat_str([pl.col(f"{p}_date"), pl.lit("T"), pl.col(f"{p}_hhmm"), pl.lit(":"), pl.col(f"{p}_ss"),
                       pl.lit("."), pl.col(f"{p}_frac")])
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").alias(f"{p}_local"),
        off.is_in(["Z", "z", "UTC"]).fill_null(False).alias(f"{p}_utc"),
        off_digits.str.slice(0, 2).cast(pl.Int64, strict=False).alias(f"{p}_oh"),
        pl.when(off_digits.str.len_chars() >= 4).then(off_digits.str.slice(2, 2).cast(pl.Int64, strict=False))
        .otherwise(0).alias(f"{p}_om"),
    )
    has_offset = off.is_not_null()
    df = df.with_columns(
        pl.when(pl.col(f"{p}_utc")).then(0)
        .when(has_offset)
        .then(pl.when(off.str.starts_with("-")).then(-1).otherwise(1) * (pl.col(f"{p}_oh") * 60 + pl.col(f"{p}_om")))
        .otherwise(0).alias(f"{p}_offmin"),
        (~has_offset | pl.col(f"{p}_utc") | ((pl.col(f"{p}_oh") <= 23) & (pl.col(f"{p}_om") <= 59)))
        .fill_null(False).alias(f"{p}_offok"),
    )
    if df.select(has_offset.any()).item():
        converted = (
            (pl.col(f"{p}_local") - pl.duration(minutes=pl.col(f"{p}_offmin")))
            .dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.replace_time_zone(None)
        )
    else:
        converted = pl.col(f"{p}_local")
    df = df.with_columns(
        pl.when(pl.col(f"{p}_hhmm").is_null() | pl.col(f"{p}_missing")).then(None)
        .when(~has_offset).then(pl.col(f"{p}_local"))
        .when(pl.col(f"{p}_offok")).then(converted)
        .otherwise(None).cast(pl.Datetime("us")).alias(f"{p}_time"),
    ).with_columns(
        pl.when(pl.col(f"{p}_missing")).then(None)
        .when(pl.col(f"{p}_hhmm").is_null()).then(pl.col(f"{p}_date").str.to_date("%Y-%m-%d", strict=False))
        .otherwise(pl.col(f"{p}_time").dt.date()).alias(f"{p}_day"),
    ).with_columns(
        (pl.col(f"{p}_missing") | pl.col(f"{p}_day").is_not_null()).alias(f"{p}_ok"),
    )
    temporary = ("parts", "date", "hhmm", "off", "ss", "frac", "local", "utc", "oh", "om", "offmin", "offok")
    drop = [f"{p}_{x}" for x in temporary]
    return df.drop(drop)


_SIMPLE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_SIMPLE_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _fast_timestamps(df: pl.DataFrame, column: str, p: str) -> pl.DataFrame | None:
    """The common case: every value is missing, ``YYYY-MM-DD`` or ``YYYY-MM-DD[T ]HH:MM:SS``."""
    s = pl.col(column).str.strip_chars()
    df = df.with_columns(
        missing_expr(pl.col(column)).alias(f"{p}_missing"),
        s.str.contains(_SIMPLE_TIME).alias(f"{p}_is_time"),
        s.str.contains(_SIMPLE_DATE).alias(f"{p}_is_date"),
    )
    if not df.select((pl.col(f"{p}_missing") | pl.col(f"{p}_is_time") | pl.col(f"{p}_is_date")).all()).item():
        return None
    df = df.with_columns(
        pl.when(pl.col(f"{p}_is_time") & ~pl.col(f"{p}_missing"))
        .then(s.str.replace(" ", "T", literal=True).str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"))
        .otherwise(None).cast(pl.Datetime("us")).alias(f"{p}_time"),
    ).with_columns(
        pl.when(pl.col(f"{p}_missing")).then(None)
        .when(pl.col(f"{p}_is_date")).then(s.str.to_date("%Y-%m-%d", strict=False))
        .otherwise(pl.col(f"{p}_time").dt.date()).alias(f"{p}_day"),
    ).with_columns(
        (pl.col(f"{p}_missing") | pl.col(f"{p}_day").is_not_null()).alias(f"{p}_ok"),
    )
    return df.drop(f"{p}_is_time", f"{p}_is_date")


def with_parsed_int(df: pl.DataFrame, column: str, decimal: str = ".", prefix: str | None = None) -> pl.DataFrame:
    """Vectorised ``parse_int``: adds ``{prefix}_value`` (Int64), ``{prefix}_ok``, ``{prefix}_missing``."""
    p = prefix or f"_{column}"
    fast = df.with_columns(
        missing_expr(pl.col(column)).alias(f"{p}_missing"),
        pl.col(column).str.strip_chars().cast(pl.Int64, strict=False).alias(f"{p}_value"),
    )
    if fast.select((pl.col(f"{p}_missing") | pl.col(f"{p}_value").is_not_null()).all()).item():
        return fast.with_columns(
            pl.when(pl.col(f"{p}_missing")).then(None).otherwise(pl.col(f"{p}_value")).alias(f"{p}_value"),
            pl.lit(True).alias(f"{p}_ok"),
        )
    pattern = rf"^([+-]?[0-9]{{1,18}})(?:{re.escape(decimal)}0+)?$"
    df = df.with_columns(
        missing_expr(pl.col(column)).alias(f"{p}_missing"),
        pl.col(column).str.strip_chars().str.extract(pattern, 1).str.strip_prefix("+")
        .cast(pl.Int64, strict=False).alias(f"{p}_value"),
    )
    return df.with_columns(
        pl.when(pl.col(f"{p}_missing")).then(None).otherwise(pl.col(f"{p}_value")).alias(f"{p}_value"),
        (pl.col(f"{p}_missing") | pl.col(f"{p}_value").is_not_null()).alias(f"{p}_ok"),
    )


# ----------------------------------------------------------------------------------------------
# CSV records


def _rx(delim: str) -> str:
    """The delimiter as a regex atom valid for both Python's re and Rust's regex."""
    return r"\t" if delim == "\t" else re.escape(delim)


def _field_pattern(delim: str) -> str:
    d = _rx(delim)
    return rf'(?:"(?:[^"]|"")*"|[^"{d}\n]*)'


def _line_pattern(delim: str) -> str:
    f = _field_pattern(delim)
    return rf"^{f}(?:{_rx(delim)}{f})*$"


_QUOTED = re.compile(r'"(?:[^"]|"")*"')
# A quoted field may span at most this many physical lines; a longer "record" is a stray quote.
MAX_RECORD_LINES = 1000


def split_record(record: str, delim: str) -> list[str] | None:
    """Fields of one CSV record, or None when its quoting is broken."""
    if not re.fullmatch(_line_pattern(delim), record, flags=re.DOTALL):
        return None
    fields: list[str] = []
    pos, n = 0, len(record)
    while True:
        if pos < n and record[pos] == '"':
            m = _QUOTED.match(record, pos)
            assert m is not None
            fields.append(m.group(0)[1:-1].replace('""', '"'))
            pos = m.end()
        else:
            nxt = record.find(delim, pos)
            end = n if nxt < 0 else nxt
            fields.append(record[pos:end])
            pos = end
        if pos >= n:
            return fields
        pos += len(delim)  # record[pos] is the delimiter (guaranteed by the pattern)
        if pos == n:
            fields.append("")
            return fields


def _detect_delimiter(header_line: str) -> str:
    outside = _QUOTED.sub("", header_line)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


@dataclass
class CsvTable:
    """A CSV file split into records. ``frame`` holds the good rows as strings."""

    name: str
    header: list[str]
    frame: pl.DataFrame  # row_number (Int64) + c0..c{n-1} (String, trimmed, never null)
    malformed: list[tuple[int, str]]
    delimiter: str
    decimal: str
    chars_replaced: int
    header_lines: int = 1
    spans: dict[int, int] = field(default_factory=dict)  # row_number -> physical lines (> 1 only)
    _lines: pl.Series | None = None

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.malformed)

    def raw_text(self, row_number: int) -> str:
        if self._lines is None:
            return ""
        span = self.spans.get(row_number, 1)
        return "\n".join(self._lines.slice(row_number - 1, span).to_list())

    @property
    def rows(self) -> list[tuple[int, list[str] | None, str]]:
        """All source rows in order: (row_number, fields or None when malformed, raw text)."""
        out: list[tuple[int, list[str] | None, str]] = []
        cols = [f"c{i}" for i in range(len(self.header))]
        for rec in self.frame.select(["row_number", *cols]).iter_rows():
            out.append((rec[0], list(rec[1:]), self.raw_text(rec[0])))
        out.extend((n, None, raw) for n, raw in self.malformed)
        out.sort(key=lambda r: r[0])
        return out

    def column_index(self, name: str) -> int | None:
        """Index of the first header equal to ``name`` (trimmed, case-insensitive)."""
        want = name.strip().casefold()
        for i, h in enumerate(self.header):
            if h.casefold() == want:
                return i
        return None

    def column(self, name: str) -> pl.Series | None:
        i = self.column_index(name)
        return None if i is None else self.frame[f"c{i}"]

    def named_frame(self, names: dict[str, int]) -> pl.DataFrame:
        """row_number plus the given {output name: column index} columns."""
        return self.frame.select(
            pl.col("row_number"), *[pl.col(f"c{i}").alias(n) for n, i in names.items()]
        )


def _empty_table_frame(ncols: int) -> pl.DataFrame:
    return pl.DataFrame(
        schema={"row_number": pl.Int64, **{f"c{i}": pl.String for i in range(ncols)}}
    )


def _fields_frame(rows: list[tuple[int, list[str]]], ncols: int) -> pl.DataFrame:
    if not rows:
        return _empty_table_frame(ncols)
    numbers = [r[0] for r in rows]
    cols = list(zip(*[r[1] for r in rows])) if ncols else []
    data: dict[str, Any] = {"row_number": pl.Series(numbers, dtype=pl.Int64)}
    for i in range(ncols):
        data[f"c{i}"] = pl.Series(list(cols[i]), dtype=pl.String)
    return pl.DataFrame(data)


def _detect_decimal(frame: pl.DataFrame, delimiter: str, fallback: str) -> str:
    sample = frame.head(2000)
    comma = dot = 0
    if sample.height and sample.width > 1:
        # every cell of the sample at once (one pass per pattern, not one per column)
        cells = pl.concat([sample.get_column(name) for name in sample.columns[1:]])
        number = cells.filter(cells.str.contains(r"^[+-]?\d+[,.]\d+$"))
        if number.len():
            comma = int(number.str.contains(r"^[+-]?\d+,\d+$").sum() or 0)
            dot = int(number.str.contains(r"^[+-]?\d+\.\d+$").sum() or 0)
    if delimiter == ";" and comma > dot:
        return ","
    if dot > comma:
        return "."
    return fallback


def parse_csv_text(
    text: str, name: str, *, decimal_fallback: str = ".", chars_replaced: int = 0
) -> CsvTable:
    """Split CSV text into a header and records (see the module docstring for the rules)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\n" not in text:
            text = text.replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # header: skip leading blank lines and an Excel "sep=;" hint
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    forced: str | None = None
    if i < len(lines) and re.fullmatch(r"sep=(.)\s*", lines[i]):
        forced = lines[i].strip()[4]
        i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
    if i >= len(lines):
        raise InputError(f"{name}: the file is empty; export it again with a header row and data")
    j, quotes = i, lines[i].count('"')
    while quotes % 2 == 1 and j + 1 < len(lines) and j - i < 50:
        j += 1
        quotes += lines[j].count('"')
    if quotes % 2 == 1:
        j = i
    header_raw = "\n".join(lines[i : j + 1])
    delimiter = forced or _detect_delimiter(lines[i])
    header_fields = split_record(header_raw, delimiter)
    if header_fields is None:
        header_fields = next(csv.reader(io.StringIO(header_raw), delimiter=delimiter))
    header = [h.strip().lstrip("\ufeff").strip() for h in header_fields]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise InputError(f"{name}: the header row is empty; export the file again with its header row")
    ncols = len(header)
    data_lines = lines[j + 1 :]
    del lines
    header_lines = j + 1
    table = _split_records(data_lines, delimiter, ncols)
    frame, malformed, spans, series = table
    decimal = _detect_decimal(frame, delimiter, decimal_fallback)
    return CsvTable(
        name=name,
        header=header,
        frame=frame,
        malformed=malformed,
        delimiter=delimiter,
        decimal=decimal,
        chars_replaced=chars_replaced,
        header_lines=header_lines,
        spans=spans,
        _lines=series,
    )


def _split_records(
    lines: list[str], delim: str, ncols: int
) -> tuple[pl.DataFrame, list[tuple[int, str]], dict[int, int], pl.Series]:
    n = len(lines)
    series = pl.Series("line", lines, dtype=pl.String)
    if n == 0:
        return _empty_table_frame(ncols), [], {}, series
    quoted_text = bool(series.str.contains('"', literal=True).any())
    if not quoted_text:
        fast = _plain_records(series, delim, ncols)
        if fast is not None:
            return fast, [], {}, series
    lf = pl.DataFrame({"line": series}).with_columns(
        idx=pl.int_range(pl.len(), dtype=pl.Int64),
        quotes=(pl.col("line").str.count_matches('"', literal=True) if quoted_text
                else pl.lit(0, dtype=pl.UInt32)),
        blank=~pl.col("line").str.contains(r"\S"),
    )
    odd_idx = lf.filter(pl.col("quotes") % 2 == 1)["idx"].to_list()
    consumed: set[int] = set()
    bad_start: set[int] = set()
    multi_rows: list[tuple[int, list[str]]] = []
    spans: dict[int, int] = {}
    k = 0
    while k < len(odd_idx):
        start = odd_idx[k]
        if k + 1 < len(odd_idx) and odd_idx[k + 1] - start < MAX_RECORD_LINES:
            end = odd_idx[k + 1]
            record = "\n".join(lines[start : end + 1])
            fields = split_record(record, delim)
            fields = _fit(fields, ncols)
            if fields is not None:
                multi_rows.append((start + 1, fields))
                spans[start + 1] = end - start + 1
                consumed.update(range(start, end + 1))
                k += 2
                continue
        bad_start.add(start)
        k += 1
    if consumed or bad_start:
        lf = lf.with_columns(
            skip=pl.col("idx").is_in(list(consumed | bad_start))
        )
    else:
        lf = lf.with_columns(skip=pl.lit(False))
    single = lf.filter(~pl.col("blank") & ~pl.col("skip"))
    d = _rx(delim)
    if single.select((pl.col("quotes") > 0).any()).item():
        quoted = single.filter(pl.col("quotes") > 0).with_columns(
            plain=pl.lit(False),
            valid=pl.col("line").str.contains(_line_pattern(delim)),
            nf=pl.col("line").str.replace_all(r'"(?:[^"]|"")*"', "").str.count_matches(d) + 1,
        )
        plain = single.filter(pl.col("quotes") == 0)
    else:
        quoted, plain = None, single
    plain = plain.with_columns(
        plain=pl.lit(True), valid=pl.lit(True),
        nf=pl.col("line").str.count_matches(delim, literal=True) + 1,
    )
    single = plain if quoted is None else pl.concat([plain, quoted], how="vertical")
    good_plain = single.filter(pl.col("plain") & (pl.col("nf") == ncols))
    good_quoted = single.filter(~pl.col("plain") & pl.col("valid") & (pl.col("nf") == ncols))
    extra = single.filter(pl.col("valid") & (pl.col("nf") > ncols))
    bad = single.filter(~pl.col("valid") | (pl.col("nf") < ncols))

    frames: list[pl.DataFrame] = []
    if good_plain.height:
        parts = good_plain["line"].str.splitn(delim, ncols).struct.unnest()
        parts.columns = [f"c{i}" for i in range(ncols)]
        frames.append(pl.concat([good_plain.select(row_number=pl.col("idx") + 1), parts], how="horizontal"))
    if good_quoted.height:
        frames.append(_parse_quoted(good_quoted, delim, ncols))
    malformed: list[tuple[int, str]] = [(i + 1, lines[i]) for i in bad_start]
    extra_rows: list[tuple[int, list[str]]] = []
    for idx, line in extra.select("idx", "line").iter_rows():
        fields = _fit(split_record(line, delim), ncols)
        if fields is None:
            malformed.append((idx + 1, line))
        else:
            extra_rows.append((idx + 1, fields))
    for idx, line in bad.select("idx", "line").iter_rows():
        malformed.append((idx + 1, line))
    if extra_rows:
        frames.append(_fields_frame(extra_rows, ncols))
    if multi_rows:
        frames.append(_fields_frame(multi_rows, ncols))
    if frames:
        frame = pl.concat([f.with_columns(pl.col("row_number").cast(pl.Int64)) for f in frames], how="vertical")
        if len(frames) > 1:
            frame = frame.sort("row_number")
    else:
        frame = _empty_table_frame(ncols)
    frame = frame.with_columns([pl.col(f"c{i}").fill_null("").str.strip_chars() for i in range(ncols)])
    malformed.sort()
    return frame, malformed, spans, series


def _plain_records(series: pl.Series, delim: str, ncols: int) -> pl.DataFrame | None:
    """The common case at a few operations per file: no quote anywhere, no blank line and every
    line with exactly ``ncols`` fields; the frame ``_split_records`` gives, or None otherwise."""
    if not bool((series.str.count_matches(delim, literal=True) == ncols - 1).all()):
        return None
    if not bool(series.str.contains(r"\S").all()):
        return None
    parts = series.str.splitn(delim, ncols).struct.unnest() if ncols > 1 else series.to_frame()
    parts.columns = [f"c{i}" for i in range(ncols)]
    return parts.select(pl.int_range(1, series.len() + 1, dtype=pl.Int64).alias("row_number"),
                        *[pl.col(f"c{i}").fill_null("").str.strip_chars() for i in range(ncols)])


def _fit(fields: list[str] | None, ncols: int) -> list[str] | None:
    """Accept a record with exactly ``ncols`` fields, or more when the extra ones are empty."""
    if fields is None or len(fields) < ncols:
        return None
    if len(fields) > ncols and any(f.strip() for f in fields[ncols:]):
        return None
    return fields[:ncols]


def _parse_quoted(good: pl.DataFrame, delim: str, ncols: int) -> pl.DataFrame:
    names = [f"c{i}" for i in range(ncols)]
    lines = good["line"]
    try:
        parsed = pl.read_csv(
            io.BytesIO("\n".join(lines.to_list()).encode("utf-8") + b"\n"),
            has_header=False,
            separator=delim,
            quote_char='"',
            infer_schema=False,
            new_columns=names,
            empty_string_is_null=False,
        ) if ncols else None
    except Exception:  # noqa: BLE001 - fall back to the exact Python splitter
        parsed = None
    if parsed is None or parsed.height != good.height or parsed.width != ncols:
        rows = [
            (idx + 1, split_record(line, delim) or [""] * ncols)
            for idx, line in good.select("idx", "line").iter_rows()
        ]
        return _fields_frame(rows, ncols)
    return pl.concat([good.select(row_number=pl.col("idx") + 1), parsed], how="horizontal")


def read_csv_records(
    path: str | Path, *, decimal_fallback: str = ".", rel_name: str | None = None
) -> CsvTable:
    """Read a CSV file into a ``CsvTable`` (never loses a row: good rows + malformed rows)."""
    name = _display(path, rel_name)
    text, replaced = read_text(path, name)
    return parse_csv_text(text, name, decimal_fallback=decimal_fallback, chars_replaced=replaced)


# ----------------------------------------------------------------------------------------------
# Qualtrics (three header rows)


def detect_qualtrics(header: Sequence[str], first_rows: Sequence[Sequence[str] | None]) -> bool:
    """True for a Qualtrics export: its 3rd header line holds ``{"ImportId": ...}`` cells.

    ``first_rows`` are the first data rows as read (row 1 = the question-text line, row 2 = the
    ImportId line).
    """
    if len(first_rows) < 2 or first_rows[1] is None:
        return False
    cells = [c.strip() for c in first_rows[1] if c]
    hits = sum(1 for c in cells if c.startswith("{") and '"importid"' in c.casefold())
    return hits >= max(1, len(cells) // 2)


def skip_extra_header_rows(table: CsvTable, count: int = 2) -> tuple[CsvTable, list[list[str] | None]]:
    """Drop ``count`` extra header rows (Qualtrics: question texts and ImportIds).

    Returns the table renumbered so that the first real data row is row 1, and the dropped rows
    (the first one of a Qualtrics export holds the question texts).
    """
    rows = table.rows
    dropped = rows[:count]
    if not dropped:
        return table, []
    last_no = dropped[-1][0]
    offset = last_no + table.spans.get(last_no, 1) - 1
    frame = table.frame.filter(pl.col("row_number") > offset).with_columns(
        pl.col("row_number") - offset
    )
    malformed = [(n - offset, raw) for n, raw in table.malformed if n > offset]
    spans = {n - offset: s for n, s in table.spans.items() if n > offset}
    lines = table._lines.slice(offset) if table._lines is not None else None
    new = CsvTable(
        name=table.name,
        header=table.header,
        frame=frame,
        malformed=malformed,
        delimiter=table.delimiter,
        decimal=table.decimal,
        chars_replaced=table.chars_replaced,
        header_lines=table.header_lines + offset,
        spans=spans,
        _lines=lines,
    )
    return new, [r[1] for r in dropped]
