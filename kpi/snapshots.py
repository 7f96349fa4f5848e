"""Snapshots of closed quarters: versioned, never overwritten (docs/metrics.md, "Snapshots and restatements").

A quarter is closed once the latest activity date in the usage inputs is on or after its last
day. Closing writes the quarter's figures as version 1. A later run whose figures for that quarter
are unchanged writes nothing; when any figure changed (late data, a corrected export, a config
change, an HR transfer) it writes the next version beside the earlier ones, with the hashes of
the inputs and the config that produced it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from kpi.catalog import load
from kpi.quarters import quarter_bounds

# From the catalogue (sql/marts/*.yml): the columns that identify a row of each KPI mart within a
# quarter, the figures a snapshot keeps of it (its group size and every figure), and the key
# columns of marts.kpi_snapshots (the union of the marts' row keys).
ROW_KEYS: dict[str, tuple[str, ...]] = {t.short_name: t.row_key for t in load().kpi_marts}
SNAPSHOT_METRICS: dict[str, list[str]] = {t.short_name: t.snapshot_metrics for t in load().kpi_marts}
SNAPSHOT_KEY_COLUMNS: tuple[str, ...] = tuple(
    c for c in load()["marts.kpi_snapshots"].column_names if any(c in keys for keys in ROW_KEYS.values()))


@dataclass
class SnapshotOutcome:
    quarter: str
    closed: bool
    version: int | None = None  # the version written, None when nothing was written
    changed_metrics: list[tuple] = field(default_factory=list)  # (kpi_table, row key, metric, old, new)
    added_figures: int = 0  # figures of columns new since the latest version, added to it

    @property
    def restated(self) -> bool:
        return bool(self.version and self.version > 1)


def ensure_snapshot_table(con) -> None:
    from kpi.migrations import prepare

    prepare(con, "marts.kpi_snapshots")


def inputs_sha256(con) -> str:
    """One hash over every current input file's sha256 (superseded state files excluded)."""
    rows = con.sql(
        "SELECT file, sha256 FROM audit.ingest_manifest WHERE NOT superseded ORDER BY file, sha256"
    ).fetchall()
    return hashlib.sha256("\n".join(f"{f}\t{s}" for f, s in rows).encode()).hexdigest()


def latest_activity_date(con) -> date | None:
    rows = con.sql("SELECT max(day) FROM staging.usage_activity").fetchall()
    return rows[0][0] if rows else None


def closed_quarters(con, quarters: list[str]) -> set[str]:
    """The quarters among these that are closed: the usage data reaches their last day."""
    latest = latest_activity_date(con)
    return {q for q in quarters if latest is not None and latest >= quarter_bounds(q)[1]}


def is_closed(con, quarter: str) -> bool:
    return quarter in closed_quarters(con, [quarter])


def _figures_query() -> str:
    """One query giving every figure of the quarter ``$quarter`` of every KPI mart, one row per
    figure: kpi_table, the SNAPSHOT_KEY_COLUMNS (as VARCHAR; NULL where the mart has no such
    key), metric and value (as DOUBLE), in the order of the marts, their rows and their metrics."""
    parts = []
    for table, keys in ROW_KEYS.items():
        columns = SNAPSHOT_METRICS[table]
        key_sql = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if c in keys else f'NULL::VARCHAR AS "{c}"'
                            for c in SNAPSHOT_KEY_COLUMNS)
        names = ", ".join(f"'{c}'" for c in columns)
        values = ", ".join(f'CAST("{c}" AS DOUBLE)' for c in columns)
        parts.append(f"SELECT '{table}' AS kpi_table, {key_sql}, unnest([{names}]) AS metric, "
                     f"unnest([{values}]::DOUBLE[]) AS value FROM marts.{table} WHERE quarter = $quarter")
    return "\nUNION ALL ".join(parts)


_FIGURES_QUERY = _figures_query()


def current_figures(con, quarter: str) -> dict[tuple, float | None]:
    """(kpi_table, *SNAPSHOT_KEY_COLUMNS, metric) -> value (every figure of the quarter, one
    query)."""
    rows = con.sql(_FIGURES_QUERY, params={"quarter": quarter}).fetchall()
    return {tuple(row[:-1]): row[-1] for row in rows}


_KEY_SQL = ", ".join(f'"{c}"' for c in ("kpi_table", *SNAPSHOT_KEY_COLUMNS, "metric"))


def snapshot_figures(con, quarter: str, version: int) -> dict[tuple, float | None]:
    """(kpi_table, *SNAPSHOT_KEY_COLUMNS, metric) -> value of one version of a quarter."""
    rows = con.sql(f"SELECT {_KEY_SQL}, value FROM marts.kpi_snapshots WHERE quarter = ? AND version = ?",
                   params=[quarter, version]).fetchall()
    return {tuple(r[:-1]): r[-1] for r in rows}


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def snapshot_quarter(con, quarter: str, config_sha256: str, now: datetime | None = None) -> SnapshotOutcome:
    """Write the next snapshot version of a closed quarter when its figures changed.

    A figure of a column (or mart) the quarter's snapshot has never had -- one an upgrade added
    to the catalogue after the quarter was closed -- is not a restatement: it is added to the
    latest version with its own ``computed_at``, and no figure already there changes."""
    ensure_snapshot_table(con)
    if not is_closed(con, quarter):
        return SnapshotOutcome(quarter, closed=False)
    latest = con.sql(
        "SELECT max(version) FROM marts.kpi_snapshots WHERE quarter = ?", params=[quarter]
    ).fetchall()[0][0]
    now = now or datetime.now().replace(microsecond=0)
    changed: list[tuple] = []
    if latest is not None:
        figures = current_figures(con, quarter)
        previous = snapshot_figures(con, quarter, latest)
        known = {(key[0], key[-1]) for key in previous}
        added = {key: value for key, value in figures.items() if (key[0], key[-1]) not in known}
        for key in sorted(set(previous) | (set(figures) - set(added)),
                          key=lambda k: tuple("" if x is None else str(x) for x in k)):
            old, new = previous.get(key), figures.get(key)
            if key not in previous or key not in figures or not _same(old, new):
                changed.append((key[0], key[1:-1], key[-1], old, new))
        if not changed:
            if added:
                _insert_snapshot(con, quarter, latest, added, now, inputs_sha256(con), config_sha256)
            return SnapshotOutcome(quarter, closed=True, added_figures=len(added))
    version = (latest or 0) + 1
    _insert_figures(con, quarter, version, now, inputs_sha256(con), config_sha256)
    return SnapshotOutcome(quarter, closed=True, version=version, changed_metrics=changed)


def _insert_figures(con, quarter: str, version: int, now: datetime, inputs_hash: str, config_hash: str) -> None:
    """Append one version holding every current figure of the quarter (those of
    :func:`current_figures`), straight from the marts: the figures do not travel through Python
    and back (~15 ms a quarter)."""
    con.execute(
        f"""
        INSERT INTO marts.kpi_snapshots (snapshot_id, quarter, {_KEY_SQL}, value, computed_at, inputs_sha256,
                                         config_sha256, version)
        SELECT $snapshot_id, $quarter, {_KEY_SQL}, value, $computed_at::TIMESTAMP, $inputs_sha256,
               $config_sha256, $version::INTEGER
        FROM ({_FIGURES_QUERY})
        """,
        {"snapshot_id": f"{quarter}/v{version}", "quarter": quarter, "computed_at": now,
         "inputs_sha256": inputs_hash, "config_sha256": config_hash, "version": version},
    )


def _insert_snapshot(con, quarter: str, version: int, figures: dict[tuple, float | None], now: datetime,
                     inputs_hash: str, config_hash: str) -> None:
    """Append one version's figures in one statement (a quarter has hundreds of figures: one
    INSERT per row, and the inputs hash queried per row, cost about a second per quarter)."""
    keys = list(figures)
    names = ("kpi_table", *SNAPSHOT_KEY_COLUMNS, "metric")
    columns = {f"k{i}": [key[i] for key in keys] for i in range(len(names))}
    con.execute(
        f"""
        INSERT INTO marts.kpi_snapshots (snapshot_id, quarter, {_KEY_SQL}, value, computed_at, inputs_sha256,
                                         config_sha256, version)
        SELECT $snapshot_id, $quarter, {", ".join(f"unnest($k{i}::VARCHAR[])" for i in range(len(names)))},
               unnest($value::DOUBLE[]), $computed_at::TIMESTAMP, $inputs_sha256, $config_sha256, $version::INTEGER
        """,
        {"snapshot_id": f"{quarter}/v{version}", "quarter": quarter, **columns,
         "value": [figures[key] for key in keys], "computed_at": now, "inputs_sha256": inputs_hash,
         "config_sha256": config_hash, "version": version},
    )


def restatements(con) -> list[dict]:
    """Every quarter with more than one version: what changed between its last two versions."""
    out = []
    for quarter, latest in con.sql(
            "SELECT quarter, max(version) FROM marts.kpi_snapshots GROUP BY quarter HAVING max(version) > 1 "
            "ORDER BY quarter").fetchall():
        old, new = snapshot_figures(con, quarter, latest - 1), snapshot_figures(con, quarter, latest)
        changes = [(k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new), key=str)
                   if not _same(old.get(k), new.get(k)) or (k in old) != (k in new)]
        out.append({"quarter": quarter, "version": latest, "changes": changes})
    return out
