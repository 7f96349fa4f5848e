"""Usage inputs: accumulate canonical activity rows over every usage file ever ingested.

Parse-level decisions (bad dates, counts, malformed rows, duplicates) are taken here, once per
file version. Whether a row's user is a known employee employed that day is decided on every run
by the match stage (sql/intermediate/int_usage_matched.sql).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from kpi.ingest.files import InputFile
from kpi.ingest.store import (
    FileReport, already_ingested, insert_frame, quarantine_frame, reason_counts, write_manifest,
    write_quarantine,
)
from kpi.privacy import pseudonym_map

VALUE_COLUMNS = ["day", "event_time", "tool", "action", "interactions", "successes", "failures",
                 "period_start", "period_end", "cadence"]
STAGED_COLUMNS = ["file", "row_number", "format", "day", "event_time", "user_key", "user_concealed", "tool",
                  "action", "interactions", "successes", "failures", "natural_key", "cadence",
                  "period_start", "period_end"]


def pseudonymise_rows(rows: pl.DataFrame, fmt: str, rel: str, key: bytes) -> pl.DataFrame:
    """Replace identifiers by pseudonyms; natural keys are rebuilt on the pseudonym.

    (Event-level rows with a date only carry their occurrence number among identical rows in the
    key, so the n-th identical row of a re-export lines up with the n-th of the earlier file.)
    """
    from kpi.adapters.usage import is_concealed_identity
    from kpi.adapters.usage_common import KEY_SEP

    users = rows.get_column("user_norm").unique().to_list()
    mapping = pseudonym_map(users, key)
    concealed = {u for u in users if u is not None and is_concealed_identity(u)}
    rows = rows.with_columns(
        pl.col("user_norm").replace_strict(mapping, default=None).alias("user_key"),
        pl.col("user_norm").is_in(list(concealed)).alias("user_concealed"),
    )
    # The key's user field (a whole KEY_SEP-separated field) becomes the pseudonym.
    padded = pl.lit(KEY_SEP) + pl.col("natural_key") + pl.lit(KEY_SEP)
    field = pl.lit(KEY_SEP) + pl.col("user_norm") + pl.lit(KEY_SEP)
    position = padded.str.find(field, literal=True)
    rows = rows.with_columns(
        pl.when(position.is_not_null())
        .then(padded.str.slice(0, position) + pl.lit(KEY_SEP) + pl.col("user_key") + pl.lit(KEY_SEP)
              + padded.str.slice(position + field.str.len_chars()))
        .otherwise(padded)
        .str.strip_chars(KEY_SEP)
        .alias("natural_key")
    )
    return rows.with_columns(pl.lit(rel).alias("file"), pl.lit(fmt).alias("format"))


def ingest_usage_file(con, source: InputFile, cfg, key: bytes, now: datetime) -> FileReport:
    """Ingest one usage file unless this exact file (sha256) was ingested before."""
    from kpi.adapters.usage import read_usage_file

    sha = source.sha256
    if already_ingested(con, sha):
        return FileReport(file=source.rel, sha256=sha, format="", input_kind="accumulating", skipped=True)
    read = read_usage_file(source.path, source.rel, cfg.company.timezone, cfg.company.decimal_separator)
    quarantine = list(read.quarantine)
    rows = pseudonymise_rows(read.rows, read.format, source.rel, key)

    # Inside one file, a repeated natural key is a duplicate: the first row is kept.
    first = rows.get_column("natural_key").is_first_distinct()
    repeated = rows.filter(~first)
    rows = rows.filter(first)

    # Against what earlier files brought: equal values -> duplicate; different -> replaces.
    # (a relation, not con.register(): see kpi.ingest.store.insert_frame)
    compare = con.from_arrow(rows.select(STAGED_COLUMNS).to_arrow()).query(
        "_new_usage",
        """
        SELECT n.natural_key,
               bool_and(o.day IS NOT DISTINCT FROM n.day AND o.event_time IS NOT DISTINCT FROM n.event_time
                        AND o.tool = n.tool AND o.action IS NOT DISTINCT FROM n.action
                        AND o.interactions = n.interactions AND o.successes = n.successes
                        AND o.failures = n.failures) AS equal
        FROM _new_usage n JOIN staging.usage_activity o USING (natural_key)
        GROUP BY n.natural_key
        """,
    ).fetchall()
    equal_keys = [k for k, eq in compare if eq]
    replaced_keys = [k for k, eq in compare if not eq]
    if replaced_keys:
        con.execute(
            "DELETE FROM staging.usage_activity WHERE natural_key IN (SELECT unnest(?::VARCHAR[]))",
            [replaced_keys],
        )
    duplicate_rows = pl.concat([repeated, rows.filter(pl.col("natural_key").is_in(equal_keys))])
    loaded = rows.filter(~pl.col("natural_key").is_in(equal_keys))
    insert_frame(con, "staging.usage_activity", loaded.select(STAGED_COLUMNS))

    # Source-row accounting: a source row is quarantined when it failed to parse, or when every
    # activity row it produced was already loaded (a duplicate); otherwise it is loaded.
    parse_rejected = {q["row_number"] for q in quarantine}
    loaded_rows = set(loaded.get_column("row_number").to_list())
    all_duplicate = set(duplicate_rows.get_column("row_number").to_list()) - loaded_rows - parse_rejected
    for row_number in sorted(all_duplicate):
        quarantine.append({"row_number": row_number, "column": "(natural key)", "value": None, "reason": "duplicate"})
    replaced_rows = set(loaded.filter(pl.col("natural_key").is_in(replaced_keys)).get_column("row_number").to_list())

    write_quarantine(con, quarantine_frame(quarantine, source.rel, sha, "ingest", key))
    rows_quarantined = len(parse_rejected | all_duplicate)
    report = FileReport(
        file=source.rel, sha256=sha, format=read.format, input_kind="accumulating",
        rows_read=read.rows_read, rows_loaded=read.rows_read - rows_quarantined,
        rows_quarantined=rows_quarantined, rows_replaced=len(replaced_rows),
        chars_replaced=read.chars_replaced, quarantine_reasons=reason_counts(quarantine),
    )
    write_manifest(con, report, now, state=False)
    return report
