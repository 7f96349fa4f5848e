"""Adapters: read every input file into canonical rows without losing a row.

* ``kpi.adapters.textio`` -- decoding, CSV records, value parsers (shared by every input);
* ``kpi.adapters.usage`` -- usage files -> canonical activity rows (``read_usage_file``), by
  looping over the formats listed in ``kpi.adapters.registry`` (one module per format);
* ``kpi.adapters.tables`` -- hr/finance/business CSVs -> typed rows (``read_table``).

Nothing here writes to DuckDB or pseudonymises: the ingest layer does both.
"""

from __future__ import annotations

from kpi.adapters.tables import SPECS, Column, TableRead, TableSpec, read_table
from kpi.adapters.textio import (
    CsvTable,
    detect_qualtrics,
    normalise_identifier,
    normalise_identifier_series,
    parse_bool,
    parse_date,
    parse_int,
    parse_number,
    parse_timestamp,
    read_csv_records,
    read_text,
    skip_extra_header_rows,
)
from kpi.adapters.usage import (
    FORMATS,
    USAGE_SCHEMA,
    UsageFormat,
    UsageRead,
    detect_format,
    is_concealed_identity,
    read_usage_file,
)

__all__ = [
    "FORMATS",
    "SPECS",
    "USAGE_SCHEMA",
    "Column",
    "CsvTable",
    "TableRead",
    "TableSpec",
    "UsageFormat",
    "UsageRead",
    "detect_format",
    "detect_qualtrics",
    "is_concealed_identity",
    "normalise_identifier",
    "normalise_identifier_series",
    "parse_bool",
    "parse_date",
    "parse_int",
    "parse_number",
    "parse_timestamp",
    "read_csv_records",
    "read_table",
    "read_text",
    "read_usage_file",
    "skip_extra_header_rows",
]
