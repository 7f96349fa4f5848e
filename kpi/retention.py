"""Retention and erasure: deleting person-level rows without changing a published figure.

``kpi purge`` (:func:`purge`, ``privacy.retention_months``): the person-level rows of a quarter
that ended more than that many months ago -- matched and staged usage activity, survey responses
and their answers, assessments, course feedback, and the values of its quarantine rows -- are deleted once the
quarter is closed and its latest snapshot holds exactly its marts' figures. The quarter is then
*frozen* (``audit.frozen_quarters``, reason ``retention``): ``kpi run`` never rebuilds it from
the reduced data (kpi/freshness.py ``up_to_date``), so its marts, snapshots and report stay as
they were. Two things keep the rest as it was too: the quarantine rows keep their count (only the
value goes), and the ROI's estimated benefits of purged months are kept as sums per month and
tool over everyone (``intermediate.purged_usage_monthly``, read by
:func:`kpi.roi.build_monthly_series`).

``kpi forget`` (:func:`forget`, the right to erasure): every row of one person -- HR row,
identities, trainings, assessments, staged and matched usage, survey responses (with their
answers) given under one of their identities, quarantine rows holding one of their pseudonyms --
is deleted. The warehouse records only that an erasure happened (``audit.erasures``: the day).
The closed, snapshotted quarters are frozen (reason ``erasure``): rebuilding them without the
person would publish a second version of their figures, and the difference between the two
versions would be that person's own contribution.

Docs: docs/privacy.md, "Retention and erasure".
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import UserError

FROZEN = "audit.frozen_quarters"
ERASURES = "audit.erasures"
PURGED_USAGE = "intermediate.purged_usage_monthly"
RETENTION, ERASURE = "retention", "erasure"


def open_writable(path: Path | str):
    """An existing warehouse opened for writing; every problem is one line naming the file (busy,
    a folder, not DuckDB: kpi.warehouse.open_warehouse)."""
    from kpi.warehouse import open_warehouse

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: warehouse not found; pass the .duckdb file written by kpi run")
    return open_warehouse(path, read_only=False)


def retention_cutoff(as_of: dt.date, months: int) -> dt.date:
    """The day ``months`` calendar months before ``as_of`` (the 31st becomes the month's last day):
    a quarter is purged when it ended before this day."""
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(as_of.day, calendar.monthrange(year, month)[1]))


def built_quarters(con) -> list[str]:
    """The quarters the KPI marts hold rows of."""
    from kpi.catalog import load
    from kpi.warehouse import table_exists

    parts = [f"SELECT DISTINCT quarter FROM {t.name}" for t in load().kpi_marts if table_exists(con, t.name)]
    if not parts:
        return []
    return [r[0] for r in con.sql(" UNION ".join(parts) + " ORDER BY 1").fetchall()]


def frozen(con, reason: str | None = None) -> set[str]:
    from kpi.warehouse import table_exists

    if not table_exists(con, FROZEN):
        return set()
    where, params = ("WHERE reason = ?", [reason]) if reason else ("", [])
    return {r[0] for r in con.sql(f"SELECT DISTINCT quarter FROM {FROZEN} {where}", params=params).fetchall()}


def _snapshotted(con, quarter: str) -> bool | None:
    """Whether the quarter's latest snapshot holds exactly its marts' figures (None: no snapshot)."""
    from kpi.snapshots import _same, current_figures, snapshot_figures
    from kpi.warehouse import table_exists

    if not table_exists(con, "marts.kpi_snapshots"):
        return None
    latest = con.sql(
        "SELECT max(version) FROM marts.kpi_snapshots WHERE quarter = ?", params=[quarter]
    ).fetchall()[0][0]
    if latest is None:
        return None
    stored, current = snapshot_figures(con, quarter, latest), current_figures(con, quarter)
    return set(stored) >= set(current) and all(_same(stored[k], current[k]) for k in current)


def _freeze(con, quarters, reason: str, day: dt.date) -> None:
    con.executemany(f"INSERT OR IGNORE INTO {FROZEN} VALUES (?, ?, ?)", [[q, reason, day] for q in quarters])


def _deleted(con, sql: str, params=None) -> int:
    rows = con.execute(sql, params or []).fetchall()
    return int(rows[0][0]) if rows else 0


# --------------------------------------------------------------------------------------------
# kpi purge
# --------------------------------------------------------------------------------------------


@dataclass
class PurgeResult:
    cutoff: dt.date
    purged: list[str] = field(default_factory=list)  # frozen by this purge
    purged_before: list[str] = field(default_factory=list)  # frozen earlier; late rows deleted again
    kept: dict[str, str] = field(default_factory=dict)  # quarter ended before the cutoff -> why it is kept
    surveys_kept: dict[str, str] = field(default_factory=dict)  # purged quarter -> why its survey rows stay
    deleted: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    quarantine_values_removed: int = 0


def purge_plan(con, cutoff: dt.date) -> PurgeResult:
    """Which quarters that ended before ``cutoff`` are purged now, were purged before, or are kept and why."""
    from kpi.quarters import quarter_bounds
    from kpi.snapshots import closed_quarters

    result = PurgeResult(cutoff=cutoff)
    quarters = [q for q in built_quarters(con) if quarter_bounds(q)[1] < cutoff]
    before = frozen(con, RETENTION)
    closed = closed_quarters(con, quarters)
    for quarter in quarters:
        if quarter in before:
            result.purged_before.append(quarter)
            continue
        snapshotted = _snapshotted(con, quarter) if quarter in closed else None
        if quarter not in closed:
            result.kept[quarter] = "not closed (the usage data do not reach its last day)"
        elif snapshotted is None:
            result.kept[quarter] = "no snapshot yet (run kpi run first)"
        elif not snapshotted:
            result.kept[quarter] = "its marts differ from its latest snapshot (run kpi run first)"
        else:
            result.purged.append(quarter)
    return result


def _in_purged(day_sql: str, table: str = "purge_quarters") -> str:
    return f"CAST(date_trunc('quarter', {day_sql}) AS DATE) IN (SELECT first_day FROM temp.{table})"


def _surveys_needed(con, quarters: list[str]) -> dict[str, str]:
    """Purged quarters whose survey rows must stay: the previous wave of a quarter that is still
    rebuilt (kpi.marts recomputes a wave's changes from the previous wave's answers) -> why."""
    from kpi.quarters import quarter_label

    waves = sorted({quarter_label(d) for (d,) in con.sql(
        "SELECT DISTINCT CAST(date_trunc('quarter', CAST(submitted_at AS DATE)) AS DATE) "
        "FROM staging.survey_responses").fetchall()})
    stays = frozen(con) | set(quarters)
    needed: dict[str, str] = {}
    for later in built_quarters(con):
        previous = max((w for w in waves if w < later), default=None)
        if later not in stays and previous in quarters and previous not in needed:
            needed[previous] = f"its survey answers stay while {later}'s culture changes compare against them"
    return needed


def _usage_by_month(con) -> dict[tuple[dt.date, str], tuple[int, float]]:
    """Matched usage of the purged quarters per (month, tool): interactions and interactions x the
    employee's hourly cost (what the ROI's estimated benefits are made of)."""
    rows = con.sql(f"""
        SELECT CAST(date_trunc('month', u.day) AS DATE), u.tool, sum(u.interactions),
               sum(u.interactions * e.hourly_cost_eur)
        FROM intermediate.usage_activity u JOIN staging.employees e USING (employee_key)
        WHERE {_in_purged('u.day')} GROUP BY ALL""").fetchall()
    return {(m, tool): (int(n or 0), float(w or 0.0)) for m, tool, n, w in rows}


def _keep_purged_usage(con, before, after) -> None:
    """Add what the purge removed from the matched usage to intermediate.purged_usage_monthly."""
    sums = {(m, t): (int(n), float(w)) for m, t, n, w in con.sql(
        f"SELECT month, tool, interactions, interactions_x_hourly_cost_eur FROM {PURGED_USAGE}").fetchall()}
    changed = False
    for key, (n, w) in before.items():
        gone_n, gone_w = n - after.get(key, (0, 0.0))[0], w - after.get(key, (0, 0.0))[1]
        if gone_n:
            have = sums.get(key, (0, 0.0))
            sums[key] = (have[0] + gone_n, have[1] + gone_w)
            changed = True
    if changed:
        con.execute(f"DELETE FROM {PURGED_USAGE}")
        con.executemany(f"INSERT INTO {PURGED_USAGE} VALUES (?, ?, ?, ?)",
                        [[m, t, n, w] for (m, t), (n, w) in sorted(sums.items())])


def purge(con, retention_months: int, as_of: dt.date, today: dt.date | None = None) -> PurgeResult:
    """Delete the person-level rows of the closed, snapshotted quarters that ended more than
    ``retention_months`` before ``as_of``, and freeze those quarters (on ``today``, default the
    real day); one transaction."""
    from kpi.ingest import match_usage
    from kpi.marts import ensure_inputs
    from kpi.migrations import prepare
    from kpi.quarters import quarter_bounds
    from kpi.warehouse import table_exists

    con.execute("BEGIN TRANSACTION")
    try:
        ensure_inputs(con)
        prepare(con, FROZEN, PURGED_USAGE, "audit.quarantine")
        result = purge_plan(con, retention_cutoff(as_of, retention_months))
        quarters = sorted(result.purged + result.purged_before)
        if not quarters:
            con.execute("COMMIT")
            return result
        con.execute("CREATE OR REPLACE TEMP TABLE purge_quarters (quarter VARCHAR, first_day DATE)")
        con.executemany("INSERT INTO temp.purge_quarters VALUES (?, ?)", [[q, quarter_bounds(q)[0]] for q in quarters])
        usage_before = _usage_by_month(con)
        result.quarantine_values_removed += _remove_file_quarantine_values(con)

        # survey responses (answers first: they are found through their response) and assessments
        result.surveys_kept = _surveys_needed(con, quarters)
        con.execute("CREATE OR REPLACE TEMP TABLE purge_survey_quarters AS SELECT * FROM temp.purge_quarters "
                    "WHERE NOT list_contains($kept, quarter)", {"kept": sorted(result.surveys_kept)})
        submitted = _in_purged("CAST(r.submitted_at AS DATE)", "purge_survey_quarters")
        result.deleted["staging.survey_answers"] = _deleted(con, f"""
            DELETE FROM staging.survey_answers a WHERE EXISTS (
                SELECT 1 FROM staging.survey_responses r
                WHERE r.file = a.file AND r.response_id = a.response_id AND {submitted})""")
        result.deleted["staging.survey_responses"] = _deleted(
            con, f"DELETE FROM staging.survey_responses r WHERE {submitted}")
        result.deleted["staging.assessments"] = _deleted(
            con, f"DELETE FROM staging.assessments WHERE {_in_purged('assessed_on')}")
        if table_exists(con, "staging.course_feedback"):  # optional input (hr/course_feedback.csv)
            result.deleted["staging.course_feedback"] = _deleted(
                con, f"DELETE FROM staging.course_feedback WHERE {_in_purged('given_on')}")

        # staged usage: a row whose period runs into a later quarter stays until that one is purged
        # (it decides whether an overlapping monthly ChatGPT row counts)
        gone = f"{_in_purged('u.day')} AND {_in_purged('coalesce(u.period_end, u.day)')}"
        con.execute("CREATE OR REPLACE TEMP TABLE purge_usage_rows AS "
                    f"SELECT DISTINCT file, row_number FROM staging.usage_activity u WHERE {gone}")
        result.deleted["staging.usage_activity"] = _deleted(con, f"DELETE FROM staging.usage_activity u WHERE {gone}")
        result.quarantine_values_removed += _deleted(con, """
            UPDATE audit.quarantine AS q SET "value" = NULL
            WHERE q.stage = 'match' AND q."value" IS NOT NULL
              AND EXISTS (SELECT 1 FROM temp.purge_usage_rows p WHERE p.file = q.file AND p.row_number = q.row_number)
              AND NOT EXISTS (SELECT 1 FROM staging.usage_activity u
                              WHERE u.file = q.file AND u.row_number = q.row_number)""")
        matched_before = con.sql("SELECT count(*) FROM intermediate.usage_activity").fetchall()[0][0]
        match_usage(con)  # intermediate.usage_activity and the match-stage quarantine from what is left
        result.deleted["intermediate.usage_activity"] = \
            matched_before - con.sql("SELECT count(*) FROM intermediate.usage_activity").fetchall()[0][0]
        _keep_purged_usage(con, usage_before, _usage_by_month(con))
        _freeze(con, result.purged, RETENTION, today or dt.date.today())
        for name in ("purge_quarters", "purge_survey_quarters", "purge_usage_rows"):
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _remove_file_quarantine_values(con) -> int:
    """Remove the values of ingest-stage quarantine rows whose file's data end in a purged quarter
    (usage and survey files: their latest day; other files: the day the version was read)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE purge_file_days AS
        SELECT q.file, q.sha256, coalesce(f.last_day, CAST(max(m.ingested_at) AS DATE)) AS last_day
        FROM (SELECT DISTINCT file, sha256 FROM audit.quarantine WHERE stage <> 'match' AND "value" IS NOT NULL) q
        LEFT JOIN (
            SELECT file, max(d) AS last_day FROM (
                SELECT file, coalesce(period_end, day) AS d FROM staging.usage_activity
                UNION ALL SELECT file, CAST(submitted_at AS DATE) FROM staging.survey_responses)
            GROUP BY file
        ) f ON f.file = q.file
        LEFT JOIN audit.ingest_manifest m ON m.file = q.file AND m.sha256 IS NOT DISTINCT FROM q.sha256
        GROUP BY q.file, q.sha256, f.last_day""")
    removed = _deleted(con, f"""
        UPDATE audit.quarantine AS q SET "value" = NULL
        FROM temp.purge_file_days d
        WHERE q.stage <> 'match' AND q."value" IS NOT NULL AND d.file = q.file
          AND d.sha256 IS NOT DISTINCT FROM q.sha256 AND {_in_purged('d.last_day')}""")
    con.execute("DROP TABLE temp.purge_file_days")
    return removed


def purged_estimated_benefits(con, program_start: dt.date, minutes: dict[str, float]) -> dict[int, float]:
    """Programme month m -> the estimated benefits of the usage kpi purge deleted (interactions x
    minutes per interaction of the tool / 60 x hourly cost, as sql/intermediate/int_roi_parts.sql)."""
    from kpi.warehouse import table_exists

    if not minutes or not table_exists(con, PURGED_USAGE):
        return {}
    rows = con.execute(f"""
        SELECT date_diff('month', CAST(date_trunc('month', $start::DATE) AS DATE), p.month) + 1 AS m,
               sum(p.interactions_x_hourly_cost_eur * t.minutes / 60)
        FROM {PURGED_USAGE} p
        JOIN (SELECT unnest($tools::VARCHAR[]) AS tool, unnest($minutes::DOUBLE[]) AS minutes) t USING (tool)
        GROUP BY 1""", {"start": program_start, "tools": list(minutes),
                        "minutes": [float(v) for v in minutes.values()]}).fetchall()
    return {int(m): float(v) for m, v in rows}


# --------------------------------------------------------------------------------------------
# kpi forget
# --------------------------------------------------------------------------------------------


@dataclass
class ForgetResult:
    deleted: dict[str, int] = field(default_factory=dict)  # table -> rows deleted
    frozen: list[str] = field(default_factory=list)  # closed quarters frozen by this erasure

    @property
    def rows(self) -> int:
        return sum(self.deleted.values())


def forget(con, identifier: str, key: bytes, today: dt.date) -> ForgetResult:
    """Delete every row of the person ``identifier`` names (their employee id as in the HR file,
    or any identifier of theirs: e-mail, GitHub login) in one transaction; record the erasure by
    its day only, and freeze the closed, snapshotted quarters. UserError when nothing is found."""
    from kpi.catalog import load, quote
    from kpi.export import pseudonym_sources
    from kpi.marts import ensure_inputs
    from kpi.migrations import prepare
    from kpi.privacy import pseudonymise
    from kpi.snapshots import closed_quarters
    from kpi.warehouse import table_exists

    if not identifier.strip():
        raise UserError("--employee: empty; give the employee id as in the HR file")
    given = pseudonymise(identifier, key)
    result = ForgetResult()
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_inputs(con)
        prepare(con, FROZEN, ERASURES)
        employees = {r[0] for r in con.sql(
            "SELECT employee_key FROM staging.employees WHERE employee_key = $p UNION "
            "SELECT employee_key FROM staging.employee_identities WHERE identity_key = $p", params={"p": given}
        ).fetchall()}
        keys = {given, *employees}
        if employees:
            keys |= {r[0] for r in con.sql(
                "SELECT identity_key FROM staging.employee_identities WHERE list_contains($e, employee_key)",
                params={"e": sorted(employees)}).fetchall()}
        con.execute("CREATE OR REPLACE TEMP TABLE forget_keys (k VARCHAR)")
        con.executemany("INSERT INTO temp.forget_keys VALUES (?)", [[k] for k in sorted(keys)])
        mine = "IN (SELECT k FROM temp.forget_keys)"
        # answers carry no pseudonym: they go with the responses given under one of the keys
        result.deleted["staging.survey_answers"] = _deleted(con, f"""
            DELETE FROM staging.survey_answers a WHERE EXISTS (
                SELECT 1 FROM staging.survey_responses r
                WHERE r.file = a.file AND r.response_id = a.response_id AND r.respondent_key {mine})""")
        catalog = load()
        for table, column in pseudonym_sources(catalog):
            if not (catalog[table].person_level or table == "audit.quarantine") or not table_exists(con, table):
                continue
            n = _deleted(con, f"DELETE FROM {table} WHERE {quote(column)} {mine}")
            result.deleted[table] = result.deleted.get(table, 0) + n
        if result.rows == 0:
            raise UserError(f"no rows of {identifier!r} in this warehouse: check the id (as in the HR file) and "
                            "that the pseudonym key is the one the warehouse was built with")
        con.execute(f"INSERT INTO {ERASURES} VALUES (?)", [today])
        quarters = built_quarters(con)
        closed = closed_quarters(con, quarters) if table_exists(con, "staging.usage_activity") else set()
        result.frozen = [q for q in quarters if q in closed and _snapshotted(con, q) is not None]
        _freeze(con, result.frozen, ERASURE, today)
        con.execute("DROP TABLE temp.forget_keys")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result
