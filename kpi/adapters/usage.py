"""Usage files: recognise the format and read it into canonical activity rows.

``read_usage_file`` never loses a source row: each one ends up with activity rows, as an inactive
(loaded, zero rows) row, or in the quarantine list; ``UsageRead.check_accounting()`` asserts it.
Matching users to employees, pseudonymising, duplicates across files and the weekly-vs-monthly
ChatGPT overlap are decided later by the ingest layer.
"""

from __future__ import annotations

import re
from pathlib import Path

from kpi.adapters import canonical, chatgpt, github, m365
from kpi.adapters.textio import (
    _detect_delimiter,
    decode_bytes,
    looks_binary,
    parse_csv_text,
    read_text,
    split_record,
)
from kpi.adapters.usage_common import (
    FORMATS,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    UsageRead,
    is_concealed_identity,
    json_records,
)
from kpi.errors import InputError

__all__ = [
    "FORMATS",
    "USAGE_COLUMNS",
    "USAGE_SCHEMA",
    "UsageRead",
    "detect_format",
    "is_concealed_identity",
    "read_usage_file",
    "unrecognised",
]

TEXT_EXTENSIONS = {".csv", ".txt", ".tsv", ".json", ".jsonl", ".ndjson"}
JSON_EXTENSIONS = {".json", ".jsonl", ".ndjson"}
HEAD_BYTES = 65536

UNDERSTOOD = (
    "canonical event log (.csv/.jsonl/.parquet with event_time,user,tool), "
    "Microsoft 365 Copilot user detail (CSV), GitHub Copilot users-1-day (NDJSON/JSON), "
    "ChatGPT Enterprise user engagement (CSV)"
)


def unrecognised(name: str) -> InputError:
    return InputError(f"{name}: unrecognised usage format; understood: {UNDERSTOOD}")


_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.){1,80})"\s*:')


def _is_json_text(head: str) -> bool:
    return head.lstrip().startswith(("{", "["))


def _is_parquet(path: Path, head: bytes | None) -> bool:
    if path.suffix.lower() == ".parquet":
        return True
    return head is not None and head.startswith(b"PAR1")


def detect_format(path: str | Path, head: str | bytes | None = None, rel_name: str | None = None) -> str:
    """One of ``FORMATS`` from the extension and the first part of the file (or InputError).

    ``head`` is the file's text (or its first bytes); when None the first 64 KiB are read.
    """
    path = Path(path)
    name = rel_name or path.name
    raw_head: bytes | None = None
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
            kind = canonical.canonical_kind(canonical.parquet_columns(path, name))
            if kind is None:
                raise unrecognised(name)
            return kind
        if not raw_head.strip():
            raise InputError(f"{name}: the file is empty; export it again with a header row and data")
        if looks_binary(raw_head):
            if path.suffix.lower() in TEXT_EXTENSIONS:
                raise InputError(f"{name}: not a text file (binary content); export it as CSV")
            raise unrecognised(name)
        text = decode_bytes(raw_head, name)[0]
    else:
        if _is_parquet(path, None):
            kind = canonical.canonical_kind(canonical.parquet_columns(path, name))
            if kind is None:
                raise unrecognised(name)
            return kind
        text = head
    text = text[:HEAD_BYTES].lstrip("\ufeff")
    if _is_json_text(text) or path.suffix.lower() in JSON_EXTENSIONS:
        keys = {m.group(1) for m in _JSON_KEY.finditer(text[:HEAD_BYTES])}
        kind = canonical.canonical_kind(keys)
        if kind is not None:
            return kind
        if github.is_github_keys(keys):
            return "github_copilot"
        raise unrecognised(name)
    header = _header_of(text)
    if header is None:
        raise unrecognised(name)
    kind = canonical.canonical_kind(header)
    if kind is not None:
        return kind
    if m365.is_m365_header(header):
        return "m365_copilot"
    if chatgpt.is_chatgpt_header(header):
        return "chatgpt_enterprise"
    raise unrecognised(name)


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
    path: str | Path, rel_name: str, tz: str = "UTC", decimal_fallback: str = "."
) -> UsageRead:
    """Read one usage file into canonical rows + quarantine (see ``UsageRead``)."""
    path = Path(path)
    if _is_parquet(path, _peek(path)):
        fmt = detect_format(path, None, rel_name)
        rows, quarantine, rows_read = canonical.read_canonical_parquet(path, rel_name, fmt, tz)
        return UsageRead(
            file=rel_name, format=fmt, rows=rows, quarantine=quarantine, rows_read=rows_read,
            personal_columns={"user"},
        )
    if path.suffix.lower() not in TEXT_EXTENSIONS:
        detect_format(path, None, rel_name)  # binary/unknown files: the "unrecognised" message
    text, replaced = read_text(path, rel_name)
    fmt = detect_format(path, text, rel_name)
    inactive: list[int] = []
    warnings: list[str] = []
    if _is_json_text(text) or path.suffix.lower() in JSON_EXTENSIONS:
        if fmt == "github_copilot":
            records = json_records(text, rel_name, github.RECORD_KEYS)
            rows, quarantine, inactive, warnings, personal = github.read_github(records)
        else:
            records = json_records(text, rel_name, canonical.REQUIRED)
            rows, quarantine = canonical.read_canonical_json(records, fmt, tz)
            personal = {"user"}
        rows_read = len(records)
    else:
        table = parse_csv_text(text, rel_name, decimal_fallback=decimal_fallback, chars_replaced=replaced)
        if fmt == "m365_copilot":
            rows, quarantine, inactive, warnings, personal = m365.read_m365(table)
        elif fmt == "chatgpt_enterprise":
            rows, quarantine, inactive, warnings, personal = chatgpt.read_chatgpt(table)
        else:
            rows, quarantine = canonical.read_canonical_csv(table, fmt, tz)
            user_i = table.column_index("user")
            personal = {table.header[user_i]} if user_i is not None else set()
        rows_read = table.rows_read
    quarantine.sort(key=lambda q: q["row_number"])
    return UsageRead(
        file=rel_name, format=fmt, rows=rows, quarantine=quarantine, rows_read=rows_read,
        chars_replaced=replaced, inactive_row_numbers=sorted(inactive),
        personal_columns=personal, warnings=warnings,
    )


def _peek(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(4)
    except OSError:
        return None
