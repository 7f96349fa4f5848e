"""Which quarters need rebuilding: a fingerprint of everything a quarter's figures are made of.

A quarter's KPI figures are a function of (docs/metrics.md, sql/marts): the staged state tables (HR,
trainings, assessments, costs, process metrics, use cases), the matched usage and the survey
answers dated up to the quarter's last day (no mart reads anything later: every query is bounded
by ``$quarter_end``), the config, whether the quarter is closed, and the code that computes them.
``quarter_fingerprints`` hashes exactly that, per quarter:

- the code: every SQL model and catalogue declaration under ``sql/`` and every module of the
  ``kpi`` package that building, suppressing and snapshotting a quarter imports (followed from
  :data:`BUILD_MODULES` through their imports, so no list of modules is kept by hand);
- the config (``config_sha256``) and ``is_closed``;
- each state table's content (row count and a sum of row hashes, so order does not matter);
- matched usage and survey answers, bucketed by quarter and taken cumulatively up to the quarter.

After a quarter is built and snapshotted its fingerprint is stored (``audit.build_fingerprints``,
step ``kpis/<quarter>``; ``kpis/<quarter>/marts`` between the two steps). A
run that finds the same fingerprint leaves the quarter as it is: adding a new quarter's exports
rebuilds that quarter (and a quarter that closes with it), not the whole history, while a changed
HR file, config or code rebuilds everything. Over-inclusion only costs a rebuild; the test
``tests/e2e/test_incremental.py`` checks that an incremental warehouse equals a fresh one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from kpi.catalog import load
from kpi.codehash import files_sha256, module_closure
from kpi.paths import PACKAGE_DIR
from kpi.warehouse import table_exists

#: The staging tables of the state files (replaced on every read), from the catalogue.
STATE_TABLES: tuple[str, ...] = tuple(load().state_tables)
#: The modules whose code a quarter's figures come from; the modules they import are followed.
BUILD_MODULES = ("kpi.marts", "kpi.snapshots", "kpi.freshness")

# Rows bucketed by the quarter they are dated in (company-local days): source -> (tables it
# reads, query giving each row's date and hash).
_DATED_SOURCES = {
    "usage": (("intermediate.usage_activity",),
              "SELECT day AS dated_on, hash(u) AS row_hash FROM intermediate.usage_activity u"),
    "survey_responses": (("staging.survey_responses",),
                         "SELECT CAST(r.submitted_at AS DATE) AS dated_on, hash(r) AS row_hash "
                         "FROM staging.survey_responses r"),
    "survey_answers": (("staging.survey_answers", "staging.survey_responses"),
                       "SELECT CAST(r.submitted_at AS DATE) AS dated_on, hash(a) AS row_hash "
                       "FROM staging.survey_answers a JOIN staging.survey_responses r USING (file, response_id)"),
}


def ensure_fingerprints_table(con) -> None:
    from kpi.migrations import ensure_tables

    ensure_tables(con, "audit.build_fingerprints")


def stored_fingerprint(con, step: str) -> str | None:
    if not table_exists(con, "audit.build_fingerprints"):
        return None
    rows = con.sql("SELECT fingerprint FROM audit.build_fingerprints WHERE step = ?", params=[step]).fetchall()
    return rows[0][0] if rows else None


def store_fingerprint(con, step: str, fingerprint: str | None, now: datetime | None = None) -> None:
    """Record (or, with None, forget) the fingerprint a step's output was built from."""
    ensure_fingerprints_table(con)
    con.execute("DELETE FROM audit.build_fingerprints WHERE step = ?", [step])
    if fingerprint is not None:
        con.execute("INSERT INTO audit.build_fingerprints VALUES (?, ?, ?)",
                    [step, fingerprint, now or datetime.now().replace(microsecond=0)])


def table_content(con, table: str) -> str:
    """Row count and the sum of row hashes of a table ('absent' when it does not exist)."""
    if not table_exists(con, table):
        return f"{table}=absent"
    alias = table.split(".")[1]
    rows, total = con.sql(f"SELECT count(*), sum(hash({alias})::HUGEINT) FROM {table} {alias}").fetchall()[0]
    return f"{table}={rows}:{total}"


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """Every SQL model and declaration under sql/ and the modules the figures come from (read
    once per process: a run does not change its own code)."""
    catalog = load()
    return hashlib.sha256((files_sha256(catalog.files, catalog.root) + files_sha256(
        module_closure(*BUILD_MODULES), PACKAGE_DIR)).encode()).hexdigest()


_PINNED: dict[str, str] = {}  # quarter -> fingerprint, while `pinned_fingerprints` holds


@contextmanager
def pinned_fingerprints(fingerprints: dict[str, str]) -> Iterator[None]:
    """`kpi run` builds the quarters after the ingest, and building a quarter writes marts only:
    nothing a fingerprint is made of changes between the quarters. So the run computes every
    quarter's fingerprint once, before the quarters, and each quarter step takes its own from here
    instead of hashing the state tables and the usage again (~70 ms a quarter at 10,000 employees).
    Outside this context (a quarter materialised on its own, in the Dagster UI) nothing is pinned."""
    _PINNED.clear()
    _PINNED.update(fingerprints)
    try:
        yield
    finally:
        _PINNED.clear()


def quarter_fingerprints(con, cfg, quarters: list[str]) -> dict[str, str]:
    """quarter -> fingerprint of everything its figures depend on (see the module docstring)."""
    if quarters and all(quarter in _PINNED for quarter in quarters):
        return {quarter: _PINNED[quarter] for quarter in quarters}
    from kpi.config import config_sha256
    from kpi.quarters import quarter_label
    from kpi.snapshots import closed_quarters

    common = [code_sha256(), config_sha256(cfg), *(table_content(con, table) for table in STATE_TABLES)]
    buckets: dict[str, list[str]] = {}
    for source, (needed, query) in _DATED_SOURCES.items():
        if not all(table_exists(con, t) for t in needed):
            continue
        for dated_on, rows, total in con.sql(
                f"SELECT date_trunc('quarter', dated_on)::DATE, count(*), sum(row_hash::HUGEINT) FROM ({query}) "
                "GROUP BY ALL ORDER BY 1").fetchall():
            buckets.setdefault(quarter_label(dated_on), []).append(f"{source}:{rows}:{total}")
    closed = closed_quarters(con, quarters) if table_exists(con, "staging.usage_activity") else set()
    out: dict[str, str] = {}
    for quarter in quarters:
        dated = [f"{q}|{'|'.join(parts)}" for q, parts in sorted(buckets.items()) if q <= quarter]
        text = "\n".join([quarter, f"closed={quarter in closed}", *common, *dated])
        out[quarter] = hashlib.sha256(text.encode()).hexdigest()
    return out


def frozen_quarters(con) -> set[str]:
    """Quarters whose figures are final: purged under privacy.retention_months, or closed when a
    person was erased (kpi/retention.py). They are never rebuilt, whatever changed."""
    if not table_exists(con, "audit.frozen_quarters"):
        return set()
    return {r[0] for r in con.sql("SELECT DISTINCT quarter FROM audit.frozen_quarters").fetchall()}


def up_to_date(con, cfg, quarters: list[str], fingerprints: dict[str, str] | None = None) -> set[str]:
    """The quarters whose stored fingerprint equals the current one, or that are frozen, and whose
    rows are in the marts."""
    if not table_exists(con, "audit.build_fingerprints") or not table_exists(con, "marts.kpi_usage"):
        return set()
    built = dict(con.sql("SELECT step, fingerprint FROM audit.build_fingerprints").fetchall())
    if not any(f"kpis/{q}" in built for q in quarters):
        return set()
    frozen = frozen_quarters(con) & set(quarters)
    current = fingerprints or quarter_fingerprints(con, cfg, [q for q in quarters if q not in frozen])
    have_rows = {r[0] for r in con.sql("SELECT DISTINCT quarter FROM marts.kpi_usage").fetchall()}
    return {q for q in quarters if (q in frozen or built.get(f"kpis/{q}") == current[q]) and q in have_rows}


def record_marts_built(con, quarter: str, fingerprint: str) -> None:
    """The quarter's marts were built from inputs with this fingerprint (snapshot still to come)."""
    store_fingerprint(con, f"kpis/{quarter}/marts", fingerprint)


def record_build(con, quarter: str) -> None:
    """The quarter's snapshot is written too: its marts' fingerprint becomes the quarter's. Until
    then a run finds the old one and builds the quarter again, so a run stopped between the two
    steps cannot leave a closed quarter without its snapshot."""
    marts = stored_fingerprint(con, f"kpis/{quarter}/marts")
    if marts is not None:
        store_fingerprint(con, f"kpis/{quarter}", marts)
        store_fingerprint(con, f"kpis/{quarter}/marts", None)


def forget_build(con, quarter: str) -> None:
    store_fingerprint(con, f"kpis/{quarter}", None)
    store_fingerprint(con, f"kpis/{quarter}/marts", None)
