"""Personal data: keyed pseudonyms for identifiers.

Employee ids, e-mails, GitHub logins and names never reach the warehouse: ingest replaces every
identifier by ``HMAC-SHA256(key, normalised identifier)``. The same person's e-mail on the HR side
and on the usage side gives the same pseudonym, so matching works on pseudonyms alone. The key
comes from the environment variable named by ``privacy.pseudonym_key_env``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import sys
from collections.abc import Iterable

from kpi.errors import UserError

# Used by `kpi demo` and the test suite only. Anyone who knows it can re-identify pseudonyms by
# hashing candidate e-mails, which is why real runs refuse to use it silently.
DEVELOPMENT_KEY = "kpi-DEVELOPMENT-KEY-demo-only-not-secret"
PSEUDONYM_PREFIX = "p_"
_warned_about_development_key = False  # say it once per process, not once per asset


# Unicode White_Space: what polars' strip_chars() and Rust's regex \s treat as blank (Python's
# str.strip() would also strip the control characters U+001C..U+001F). One definition for every
# place that compares identifiers: duplicate checks, matching and pseudonyms.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def normalise_identifier(value: str | None) -> str | None:
    """The matching form of an identifier: trimmed of Unicode blanks and casefolded (None stays None)."""
    if value is None:
        return None
    return value.strip(WHITESPACE).casefold()


def resolve_key(env_var: str, *, allow_development_key: bool = False) -> bytes:
    """The pseudonymisation key from the environment, or the development key when allowed."""
    value = os.environ.get(env_var, "")
    if value:
        if len(value) < 16:
            raise UserError(
                f"environment variable {env_var} is too short ({len(value)} characters): use at "
                "least 16, e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value.encode("utf-8")
    if allow_development_key:
        if _warned_about_development_key:
            return DEVELOPMENT_KEY.encode("utf-8")
        globals()["_warned_about_development_key"] = True
        print(
            f"WARNING: {env_var} is not set: using the PUBLIC DEVELOPMENT pseudonym key "
            "(fine for the demo, never for real employee data).",
            file=sys.stderr,
        )
        return DEVELOPMENT_KEY.encode("utf-8")
    raise UserError(
        f"environment variable {env_var} is not set: set it to a long random secret (e.g. "
        "python -c 'import secrets; print(secrets.token_hex(32))') and keep it the same across runs"
    )


def pseudonymise(value: str, key: bytes) -> str:
    """Keyed pseudonym of one identifier (stable across runs for the same key)."""
    return _keyed_pseudonym(normalise_identifier(value), key)


@functools.lru_cache(maxsize=1 << 16)
def _keyed_pseudonym(normalised: str, key: bytes) -> str:
    # Cached: every usage file names the same people again (one HMAC per distinct identifier
    # and file was about two million HMACs for a 10,000-employee company over 24 months).
    digest = hmac.new(key, normalised.encode("utf-8"), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:24]


def pseudonym_map(values: Iterable[str | None], key: bytes) -> dict[str, str]:
    """Pseudonyms for the distinct non-empty values (hash each distinct value once)."""
    return {v: pseudonymise(v, key) for v in set(values) if v is not None and v.strip()}


# --------------------------------------------------------------------------------------------
# Small-group suppression of KPI rows (docs/metrics.md, "Suppression (small groups)")
# --------------------------------------------------------------------------------------------

_SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"


def _sql_name(name: str) -> str:
    """Table and column names come from code, never from data; check them anyway."""
    import re

    if not re.match(_SQL_NAME, name):
        raise ValueError(f"not a plain SQL name: {name!r}")
    return name


def apply_suppression(
    con,
    table: str,
    quarter: str,
    metric_columns: Iterable[str],
    partition_columns: Iterable[str] = ("segment_type",),
    k: int = 5,
    complementary: bool = True,
) -> int:
    """Suppress one quarter's rows of a KPI table in place; returns the number of suppressed rows.

    The ONE suppression mechanism, shared by every KPI table with segments. The table has
    columns ``quarter``, ``segment``, ``group_size``, ``suppressed``, ``suppression_reason``:

    1. ``group_size < k`` -> ``suppressed = true``, reason ``small_group``;
    2. when ``complementary`` and exactly one row of a partition (``quarter`` plus
       ``partition_columns``: ``segment_type``, for culture ``construct, segment_type``) is
       suppressed, the unsuppressed row of that partition with the smallest group size (ties:
       segment name, alphabetically) is suppressed too, reason ``complementary``;
    3. every metric column of a suppressed row is set to NULL.
    """
    table = _sql_name(table)
    parts = [_sql_name(c) for c in partition_columns]
    metrics = [_sql_name(c) for c in metric_columns]
    params = {"quarter": quarter, "k": k}
    con.execute(
        f"""
        UPDATE {table}
        SET suppressed = group_size < $k,
            suppression_reason = CASE WHEN group_size < $k THEN 'small_group' END
        WHERE quarter = $quarter
        """,
        params,
    )
    if complementary:
        part_list = ", ".join(parts)
        keys = " AND ".join(f"t.{c} IS NOT DISTINCT FROM pick.{c}" for c in [*parts, "segment"])
        by = f"PARTITION BY {part_list}" if parts else ""
        con.execute(
            f"""
            UPDATE {table} AS t
            SET suppressed = true, suppression_reason = 'complementary'
            FROM (
                SELECT * FROM (
                    SELECT *, row_number() OVER ({by} ORDER BY group_size, lower(segment), segment) AS pick_rank
                    FROM (
                        SELECT *, count(*) FILTER (WHERE suppressed) OVER ({by}) AS suppressed_in_partition
                        FROM {table}
                        WHERE quarter = $quarter
                    )
                    WHERE suppressed_in_partition = 1 AND NOT suppressed
                )
                WHERE pick_rank = 1
            ) AS pick
            WHERE t.quarter = $quarter AND {keys}
            """,
            {"quarter": quarter},
        )
    if metrics:
        nulls = ", ".join(f"{c} = NULL" for c in metrics)
        con.execute(f"UPDATE {table} SET {nulls} WHERE quarter = $quarter AND suppressed", {"quarter": quarter})
    return con.sql(
        f"SELECT count(*) FROM {table} WHERE quarter = $quarter AND suppressed", params={"quarter": quarter}
    ).fetchall()[0][0]
