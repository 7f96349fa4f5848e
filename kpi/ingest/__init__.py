"""Ingest: inputs folder -> validated, pseudonymised staging tables, manifest and quarantine.

`ingest_inputs` is what both the Dagster ingest assets and `kpi validate` call; validate runs it
against an in-memory DuckDB so the warehouse is never written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kpi.ingest.checks import CONCEALED_IDENTITY_HINT, InputChecks, InputWarning
from kpi.ingest.files import InputFiles, discover_inputs
from kpi.ingest.store import FileReport, check_pseudonym_key, development_key_warehouse, ensure_schema
from kpi.paths import read_sql

__all__ = [
    "CONCEALED_IDENTITY_HINT",
    "FileReport",
    "IngestResult",
    "InputChecks",
    "InputWarning",
    "development_key_warehouse",
    "ingest_inputs",
    "ingest_state",
    "ingest_surveys",
    "ingest_usage",
    "match_usage",
]

STATE_ORDER = ["employees", "trainings", "assessments", "course_feedback", "costs", "licenses", "process_metrics",
               "use_cases"]


@dataclass
class IngestResult:
    files: list[FileReport] = field(default_factory=list)
    match_quarantine: dict[str, int] = field(default_factory=dict)
    fatal: list[str] = field(default_factory=list)  # whole-file problems that stop a run (collected by validate)
    warnings: list[InputWarning] = field(default_factory=list)  # whole-file warnings, in the order found

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = dict(self.match_quarantine)
        for report in self.files:
            for reason, n in report.quarantine_reasons.items():
                counts[reason] = counts.get(reason, 0) + n
        return dict(sorted(counts.items()))


def known_employee_keys(con) -> set[str]:
    return {r[0] for r in con.sql("SELECT employee_key FROM staging.employees").fetchall()}


def ingest_state(con, found: InputFiles, cfg, key: bytes, now: datetime, kinds=STATE_ORDER,
                 checks: InputChecks | None = None) -> list[FileReport]:
    """Read the state files whole, replacing their staging tables; a file already read with the
    same content and settings is skipped (trainings and assessments are read again whenever the
    HR list was, since they are checked against it; course feedback whenever the HR list or the
    trainings were: `READ_AGAIN_WITH`). Each file read is judged as a whole
    (`kpi.ingest.checks`): an unusable employees or costs file raises InputError."""
    from kpi.ingest.state import (
        EMPLOYEE_CHECKED,
        READ_AGAIN_WITH,
        clear_absent_state,
        ingest_state_file,
        skipped_state_report,
        state_settings_sha256,
    )

    checks = checks or InputChecks.from_config(cfg, now)
    settings = state_settings_sha256(cfg, key)
    reports: list[FileReport] = []
    reread: set[str] = set()
    for kind in kinds:
        source = found.state.get(kind)
        if source is None:
            clear_absent_state(con, kind)
            continue
        if not set(READ_AGAIN_WITH.get(kind, ())) & reread:
            skipped = skipped_state_report(con, source, settings)
            if skipped is not None:
                reports.append(skipped)
                continue
        known = known_employee_keys(con) if kind in EMPLOYEE_CHECKED else None
        reports.append(ingest_state_file(con, source, cfg, key, now, known, settings, checks))
        reread.add(kind)
    return reports


def ingest_usage(con, found: InputFiles, cfg, key: bytes, now: datetime,
                 checks: InputChecks | None = None) -> list[FileReport]:
    from kpi.ingest.files import recall_hashes, remember_hashes
    from kpi.ingest.usage import ingest_usage_files

    recall_hashes(con, found.usage)
    reports = ingest_usage_files(con, found.usage, cfg, key, now, checks=checks)
    remember_hashes(con, found.usage)
    return reports


def ingest_surveys(con, found: InputFiles, cfg, key: bytes, now: datetime,
                   checks: InputChecks | None = None) -> list[FileReport]:
    from kpi.ingest.store import hr_identity_keys
    from kpi.ingest.surveys import ingest_survey_file

    checks = checks or InputChecks.from_config(cfg, now)
    known = hr_identity_keys(con)
    return [ingest_survey_file(con, source, cfg, key, now, checks=checks, known_identities=known)
            for source in found.surveys]


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


def ingest_inputs(con, inputs_dir: Path | str, cfg, key: bytes, now: datetime | None = None,
                  checks: InputChecks | None = None) -> IngestResult:
    """Everything ingest does, in order: state files, usage, surveys, then matching.

    ``checks`` (default: the config's thresholds, stop at the first fatal problem, warnings on
    stderr); ``kpi validate`` passes ``InputChecks.from_config(cfg, now, stop_on_fatal=False,
    echo=False)`` and prints ``result.fatal`` and ``result.warnings`` itself."""
    from kpi.warehouse import limit_memory

    now = now or datetime.now().replace(microsecond=0)
    checks = checks or InputChecks.from_config(cfg, now)
    found = discover_inputs(inputs_dir)
    limit_memory(con, cfg.warehouse.memory_limit)
    ensure_schema(con)
    check_pseudonym_key(con, key, cfg.privacy.pseudonym_key_env)
    result = IngestResult(fatal=checks.fatal, warnings=checks.warnings)
    result.files += ingest_state(con, found, cfg, key, now, checks=checks)
    result.files += ingest_usage(con, found, cfg, key, now, checks=checks)
    result.files += ingest_surveys(con, found, cfg, key, now, checks=checks)
    result.match_quarantine = match_usage(con)
    return result
