"""Ingest: inputs folder -> validated, pseudonymised staging tables, manifest and quarantine.

`ingest_inputs` is what both the Dagster ingest assets and `kpi validate` call; validate runs it
against an in-memory DuckDB so the warehouse is never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kpi.ingest.files import InputFiles, discover_inputs
from kpi.ingest.store import FileReport, check_pseudonym_key, ensure_schema
from kpi.paths import read_sql

CONCEALED_IDENTITY_HINT = (
    "Microsoft 365 reports with concealed user names cannot be matched to employees: in the Microsoft 365 "
    "admin center go to Settings > Org settings > Services > Reports, clear 'Display concealed user, group, "
    "and site names in all reports', and download the report again."
)

STATE_ORDER = ["employees", "trainings", "assessments", "costs", "process_metrics", "use_cases"]


@dataclass
class IngestResult:
    files: list[FileReport] = field(default_factory=list)
    match_quarantine: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = dict(self.match_quarantine)
        for report in self.files:
            for reason, n in report.quarantine_reasons.items():
                counts[reason] = counts.get(reason, 0) + n
        return dict(sorted(counts.items()))


def known_employee_keys(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT employee_key FROM staging.employees").fetchall()}


def ingest_state(con, found: InputFiles, cfg, key: bytes, now: datetime, kinds=STATE_ORDER) -> list[FileReport]:
    """Read the state files whole, replacing their staging tables; a file already read with the
    same content and settings is skipped (trainings and assessments are read again whenever the
    HR list was, since they are checked against it)."""
    from kpi.ingest.state import (
        EMPLOYEE_CHECKED, clear_absent_state, ingest_state_file, skipped_state_report, state_settings_sha256,
    )

    settings = state_settings_sha256(cfg, key)
    reports: list[FileReport] = []
    reread: set[str] = set()
    for kind in kinds:
        source = found.state.get(kind)
        if source is None:
            clear_absent_state(con, kind)
            continue
        if not (kind in EMPLOYEE_CHECKED and "employees" in reread):
            skipped = skipped_state_report(con, source, settings)
            if skipped is not None:
                reports.append(skipped)
                continue
        known = known_employee_keys(con) if kind in EMPLOYEE_CHECKED else None
        reports.append(ingest_state_file(con, source, cfg, key, now, known, settings))
        reread.add(kind)
    return reports


def ingest_usage(con, found: InputFiles, cfg, key: bytes, now: datetime) -> list[FileReport]:
    from kpi.ingest.files import recall_hashes, remember_hashes
    from kpi.ingest.usage import ingest_usage_files

    recall_hashes(con, found.usage)
    reports = ingest_usage_files(con, found.usage, cfg, key, now)
    remember_hashes(con, found.usage)
    return reports


def ingest_surveys(con, found: InputFiles, cfg, key: bytes, now: datetime) -> list[FileReport]:
    from kpi.ingest.surveys import ingest_survey_file

    return [ingest_survey_file(con, source, cfg, key, now) for source in found.surveys]


MATCH_MODELS = ("intermediate/int_usage_match.sql", "intermediate/int_usage_activity.sql",
                "audit/quarantine_match.sql")
MATCH_INPUTS = ("staging.usage_activity", "staging.employees", "staging.employee_identities")


def match_usage(con) -> dict[str, int]:
    """Decide, against the current HR state, which usage rows count.

    Redone whenever the staged usage, the HR list or the matching SQL changed (a fingerprint of
    their content, kpi/freshness.py), so an HR correction brings rows back; a run that changed
    none of them keeps the previous result."""
    import hashlib

    from kpi.freshness import store_fingerprint, stored_fingerprint, table_content
    from kpi.warehouse import table_exists

    text = "\n".join([*(read_sql(model) for model in MATCH_MODELS), *(table_content(con, t) for t in MATCH_INPUTS)])
    fingerprint = hashlib.sha256(text.encode()).hexdigest()
    if not (fingerprint == stored_fingerprint(con, "match") and table_exists(con, "intermediate.usage_activity")):
        for model in MATCH_MODELS:
            con.execute(read_sql(model))
        store_fingerprint(con, "match", fingerprint)
    rows = con.sql(
        "SELECT reason, count(*) FROM audit.quarantine WHERE stage = 'match' GROUP BY reason ORDER BY reason"
    ).fetchall()
    return {reason: n for reason, n in rows}


def ingest_inputs(con, inputs_dir: Path | str, cfg, key: bytes, now: datetime | None = None) -> IngestResult:
    """Everything ingest does, in order: state files, usage, surveys, then matching."""
    now = now or datetime.now().replace(microsecond=0)
    found = discover_inputs(inputs_dir)
    ensure_schema(con)
    check_pseudonym_key(con, key, cfg.privacy.pseudonym_key_env)
    result = IngestResult()
    result.files += ingest_state(con, found, cfg, key, now)
    result.files += ingest_usage(con, found, cfg, key, now)
    result.files += ingest_surveys(con, found, cfg, key, now)
    result.match_quarantine = match_usage(con)
    return result
