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
from collections.abc import Iterable, Mapping, Sequence

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


#: The breakdowns whose groups partition the company's people (tools overlap: one person uses several).
ADDITIVE_BREAKDOWNS = ("department", "target_group")


def _pick(rows: list[dict], size: str, prefer: Sequence[str]) -> dict:
    """The group to withhold next: the first of ``prefer`` present, else the smallest (ties: name)."""
    for name in prefer:
        for row in rows:
            if row["segment"] == name:
                return row
    return min(rows, key=lambda r: (r[size], str(r["segment"]).lower(), str(r["segment"])))


def _residual(rows: list[dict], total: dict | None, segment_type: str, size: str, shown) -> int:
    """How many people the groups left out of one breakdown describe: the total's people minus
    the shown groups' (breakdowns that partition the company), else the left-out groups' sizes."""
    if segment_type in ADDITIVE_BREAKDOWNS and total is not None:
        return (total[size] or 0) - sum(r[size] or 0 for r in rows if shown(r))
    return sum(r[size] or 0 for r in rows if not shown(r))


def _withhold_until_safe(group: list[dict], total: dict | None, segment_type: str, size: str, k: int,
                         prefer: Mapping[str, Sequence[str]], shown, withhold) -> None:
    """Withhold one more shown group of a breakdown while the groups left out describe 1..k-1
    people (counted in ``size``): the first of ``prefer[segment_type]``, else the smallest."""
    while 0 < _residual(group, total, segment_type, size, shown) < k:
        candidates = [r for r in group if shown(r)]
        if not candidates:
            return
        withhold(_pick(candidates, size, prefer.get(segment_type, ())))


def apply_suppression(
    con,
    table: str,
    quarter: str,
    metric_columns: Iterable[str],
    partition_columns: Iterable[str] = ("segment_type",),
    k: int = 5,
    complementary: bool = True,
    families: Mapping[str, Sequence[str]] | None = None,
    prefer: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Suppress one quarter's rows of a KPI table in place; returns the number of suppressed rows.

    The ONE suppression mechanism, shared by every KPI table with segments. The table has
    columns ``quarter``, ``segment_type``, ``segment``, ``group_size``, ``suppressed``,
    ``suppression_reason`` and ``withheld`` (docs/metrics.md, "Suppression"):

    1. ``group_size < k`` -> the row is suppressed, reason ``small_group``;
    2. complementary (``complementary``): within each breakdown (``quarter`` plus
       ``partition_columns``), while the groups left out describe 1..k-1 people -- the company's
       people minus those of the shown groups, for departments and target groups; the left-out
       groups' sizes for tools -- one more group is suppressed, reason ``complementary``: the
       first of ``prefer[segment_type]`` still shown, else the smallest (ties: name);
    3. figures over a subset of the group (``families``: population column -> its figures, e.g.
       ``assessed_employees`` -> skill_score, proficient_rate) follow the same two rules with
       the subset's people: withheld where 1..k-1 people contribute, and withheld in one more
       group while the groups left out describe 1..k-1 contributors; their names are listed in
       ``withheld`` of a row that is otherwise shown;
    4. every metric column of a suppressed row is set to NULL.
    """
    table = _sql_name(table)
    parts = [_sql_name(c) for c in partition_columns if c != "segment_type"]
    metrics = [_sql_name(c) for c in metric_columns]
    families = {_sql_name(p): [_sql_name(f) for f in fs] for p, fs in (families or {}).items()}
    prefer = prefer or {}
    columns = list(dict.fromkeys(["segment_type", "segment", "group_size", *parts, *families]))
    rows = [dict(zip(columns, r)) for r in con.sql(
        f"SELECT {', '.join(columns)} FROM {table} WHERE quarter = $quarter", params={"quarter": quarter}).fetchall()]
    for row in rows:
        row["hidden"] = "small_group" if row["group_size"] < k else None
        row["withheld"] = set()
    by_partition: dict[tuple, list[dict]] = {}
    for row in rows:
        by_partition.setdefault(tuple(row[c] for c in parts), []).append(row)
    for members in by_partition.values():
        total = next((r for r in members if r["segment_type"] == "company"), None)
        for segment_type in sorted({r["segment_type"] for r in members} - {"company"}):
            group = [r for r in members if r["segment_type"] == segment_type]
            if not complementary:
                continue
            _withhold_until_safe(group, total, segment_type, "group_size", k, prefer,
                                 shown=lambda r: r["hidden"] is None,
                                 withhold=lambda r: r.update(hidden="complementary"))
            for population in families:
                if total is not None and (total[population] or 0) < k:
                    continue  # the company's figure itself is withheld: nothing to subtract from
                _withhold_until_safe(
                    group, total, segment_type, population, k, prefer,
                    shown=lambda r, p=population: r["hidden"] is None and (r[p] or 0) >= k and p not in r["withheld"],
                    withhold=lambda r, p=population: r["withheld"].add(p))
    hidden = [r for r in rows if r["hidden"]]
    withheld = [(r, [f for p in sorted(r["withheld"]) for f in families[p]]) for r in rows
                if r["withheld"] and not r["hidden"]]
    con.execute(f"UPDATE {table} SET suppressed = false, suppression_reason = NULL, withheld = NULL "
                "WHERE quarter = $quarter", {"quarter": quarter})
    key = " AND ".join(["quarter = $quarter", "segment_type = $segment_type", "segment = $segment",
                        *(f"{c} = ${c}" for c in parts)])
    for row in hidden:
        nulls = "".join(f", {c} = NULL" for c in metrics)
        con.execute(f"UPDATE {table} SET suppressed = true, suppression_reason = $reason{nulls} WHERE {key}",
                    {"quarter": quarter, "reason": row["hidden"], "segment_type": row["segment_type"],
                     "segment": row["segment"], **{c: row[c] for c in parts}})
    for row, figures in withheld:
        nulls = "".join(f", {c} = NULL" for c in figures)
        con.execute(f"UPDATE {table} SET withheld = $withheld{nulls} WHERE {key}",
                    {"quarter": quarter, "withheld": ", ".join(figures), "segment_type": row["segment_type"],
                     "segment": row["segment"], **{c: row[c] for c in parts}})
    return len(hidden)
