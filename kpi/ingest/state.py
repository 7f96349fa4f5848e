"""State inputs (hr/, finance/, business/): read whole, replacing what came before.

A state file is read again when its content (sha256) or the settings it is read with changed
(`state_settings_sha256`: the config, the pseudonym key, `reader_sha256`: the code of the readers
and the staging declarations); otherwise the run
keeps what the last read staged.

Each reader returns the staged frame and the quarantine rows; `ingest_state_file` writes both,
plus the manifest line, so that rows_read = rows_loaded + rows_quarantined for every file.
"""

from __future__ import annotations

import functools
from datetime import datetime

import polars as pl

from kpi.ingest.checks import InputChecks, file_problem
from kpi.ingest.files import REQUIRED_FIX, InputFile
from kpi.ingest.store import (
    FileReport,
    hr_identity_keys,
    pseudonymise_identifiers_in_text,
    quarantine_frame,
    reason_counts,
    reject_identifier_rows,
    write_manifest,
    write_quarantine,
    write_warnings,
)
from kpi.privacy import pseudonym_map

EMPLOYEE_CHECKED = ("trainings", "assessments", "course_feedback")  # rows are checked against staging.employees
#: A file checked against other state files is read again whenever one of them was read again.
READ_AGAIN_WITH = {
    "trainings": ("employees",),
    "assessments": ("employees",),
    "course_feedback": ("employees", "trainings"),  # checked against the enrolments too
}
# Free text that may name a person legitimately: an identifier in it is pseudonymised in place
# (quarantining a cost row would change the ROI); in any other text column it quarantines the row.
FREE_TEXT_COLUMNS = {"costs": ("description",), "use_cases": ("title",)}

STAGING_TABLE = {
    "employees": "staging.employees",
    "trainings": "staging.trainings",
    "assessments": "staging.assessments",
    "course_feedback": "staging.course_feedback",
    "costs": "staging.costs",
    "licenses": "staging.licenses",
    "process_metrics": "staging.process_metrics",
    "use_cases": "staging.use_cases",
}


def _with_columns(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Optional columns absent from the export become NULL columns."""
    missing = [pl.lit(None).alias(n) for n in names if n not in frame.columns]
    return frame.with_columns(missing) if missing else frame


def _reject(frame: pl.DataFrame, mask: pl.Expr, column: str, reason: str, quarantine: list[dict],
            value_column: str | None = None) -> pl.DataFrame:
    """Move the rows where `mask` holds to the quarantine; return the rest."""
    rejected = frame.filter(mask)
    for row in rejected.select("row_number", pl.col(value_column or column).cast(pl.String).alias("v")).iter_rows():
        quarantine.append({"row_number": row[0], "column": column, "value": row[1], "reason": reason})
    return frame.filter(~mask)


def _employee_keys(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    mapping = pseudonym_map(frame.get_column("employee_id").to_list(), key)
    return frame.with_columns(pl.col("employee_id").replace_strict(mapping, default=None).alias("employee_key"))


def stage_employees(frame: pl.DataFrame, cfg, key: bytes, quarantine: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(staging.employees, staging.employee_identities)."""
    frame = _with_columns(frame, ["email", "github_login", "exit_date", "fte", "hourly_cost_eur"])
    # Types, ranges, duplicate employee ids and exit-before-hire are decided by the table reader;
    # an e-mail or GitHub login given to two employees would make matching ambiguous.
    for column in ("email", "github_login"):
        norm = pl.col(column).str.strip_chars().str.to_lowercase()
        frame = _reject(frame, norm.is_not_null() & (norm != "") & norm.is_duplicated() & ~norm.is_first_distinct(),
                        column, "duplicate", quarantine)
    rates = dict(cfg.rates.hourly_cost_eur.items())
    frame = _employee_keys(frame, key).with_columns(
        pl.col("fte").fill_null(1.0).cast(pl.Float64),
        pl.col("hourly_cost_eur").is_null().alias("hourly_cost_from_config"),
        pl.coalesce(pl.col("hourly_cost_eur").cast(pl.Float64),
                    pl.col("target_group").replace_strict(rates, default=None, return_dtype=pl.Float64))
        .alias("hourly_cost_eur"),
    )
    employees = frame.select(
        "employee_key", "department", "target_group", "hire_date", "exit_date", "fte",
        "hourly_cost_eur", "hourly_cost_from_config",
    )
    identities = []
    for column in ("employee_id", "email", "github_login"):
        part = frame.filter(pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != ""))
        mapping = pseudonym_map(part.get_column(column).to_list(), key)
        identities.append(part.select(
            pl.col(column).replace_strict(mapping).alias("identity_key"),
            "employee_key",
            pl.lit(column).alias("kind"),
        ))
    ident = pl.concat(identities).unique(subset="identity_key", keep="first", maintain_order=True)
    return employees, ident


def _resolve_employee(frame: pl.DataFrame, known: set[str], key: bytes, quarantine: list[dict]) -> pl.DataFrame:
    frame = _employee_keys(frame, key)
    return _reject(frame, ~pl.col("employee_key").is_in(list(known)), "employee_id", "unknown_user", quarantine)


def stage_trainings(frame, known, key, quarantine):
    frame = _with_columns(frame, ["completed_on"])
    # completed_on before started_on is a row check of the table reader (decided before repeats)
    frame = _resolve_employee(frame, known, key, quarantine)
    return frame.select("employee_key", "course_id", "format", "started_on", "completed_on", "status", "hours")


def stage_assessments(frame, known, key, quarantine):
    frame = _resolve_employee(frame, known, key, quarantine)
    return frame.select("employee_key", "assessed_on", "instrument", "score", "max_score")


def stage_course_feedback(frame, cfg, known, enrolments: pl.DataFrame, key, quarantine):
    """Ratings of known employees on a course they are enrolled in (``enrolments``: employee_key,
    course_id, started_on of staging.trainings), dated on or after its first start; the course id
    is staged as the trainings spell it. A rating above feedback.scale_max is out of range (the
    reader refuses one below 1)."""
    frame = _with_columns(frame, ["would_recommend"])
    frame = _resolve_employee(frame, known, key, quarantine)
    frame = _reject(frame, pl.col("rating") > cfg.feedback.scale_max, "rating", "out_of_range", quarantine)
    course = pl.col("course_id").str.strip_chars().str.to_lowercase().alias("_course")
    first = (enrolments.with_columns(course)
             .sort("started_on", "course_id")
             .group_by("employee_key", "_course")
             .agg(pl.col("course_id").first().alias("_enrolled"), pl.col("started_on").first().alias("_first_start")))
    frame = (frame.with_columns(course)
             .join(first, on=["employee_key", "_course"], how="left")
             .sort("row_number"))
    frame = _reject(frame, pl.col("_first_start").is_null(), "course_id", "unknown_course", quarantine)
    frame = _reject(frame, pl.col("date") < pl.col("_first_start"), "date", "out_of_range", quarantine)
    return frame.select("employee_key", pl.col("_enrolled").alias("course_id"), pl.col("date").alias("given_on"),
                        pl.col("rating").cast(pl.Float64), pl.col("would_recommend").cast(pl.Boolean))


def tool_id(column: pl.Expr) -> pl.Expr:
    """A tool as the usage data names it: trimmed, lower case, blanks and underscores as one
    hyphen (``GitHub Copilot`` -> ``github-copilot``)."""
    return column.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s_]+", "-")


def stage_licenses(frame, quarantine):
    """One row per (tool, month), the tool normalised (`tool_id`); a repeat is a duplicate, the
    first row kept."""
    frame = _with_columns(frame, ["cost_eur"]).with_columns(tool_id(pl.col("tool")).alias("_tool"))
    frame = _reject(frame, ~pl.struct("_tool", "month").is_first_distinct(), "tool", "duplicate", quarantine)
    return frame.select(pl.col("_tool").alias("tool"), "month", "seats", pl.col("cost_eur").cast(pl.Float64))


def enrolments(con) -> pl.DataFrame:
    """employee_key, course_id, started_on of the staged trainings."""
    return con.sql("SELECT employee_key, course_id, started_on FROM staging.trainings").pl()


def stage_costs(frame, quarantine):
    frame = _with_columns(frame, ["description", "department"])
    return frame.select("booked_on", "category", "amount_eur", "description", "department")


def stage_process_metrics(frame, quarantine):
    frame = _with_columns(frame, ["errors", "csat"])
    return frame.select("month", "process", "department", "cases", "handling_minutes", "errors", "csat")


def stage_use_cases(frame, quarantine):
    frame = _with_columns(frame, ["title", "department", "est_hours_saved_per_month"])
    return frame.select("use_case_id", "title", "department", "submitted_on", "status", "self_developed",
                        "est_hours_saved_per_month")


def replace_table(con, table: str, frame: pl.DataFrame) -> None:
    from kpi.ingest.store import insert_frame

    con.execute(f"DELETE FROM {table}")
    insert_frame(con, table, frame)


@functools.lru_cache(maxsize=1)
def reader_sha256() -> str:
    """The code a state file is read and staged with: this module and every ``kpi`` module it
    imports (the adapters, the pseudonyms, the config), and the staging declarations. A change to
    any of them reads every state file again; nothing is bumped by hand."""
    from kpi.catalog import load
    from kpi.codehash import files_sha256, module_closure
    from kpi.paths import PACKAGE_DIR

    catalog = load()
    staging = sorted({catalog.root / t.source for t in catalog.in_schema("staging")})
    return files_sha256(module_closure(__name__), PACKAGE_DIR) + files_sha256(staging, catalog.root)


def state_settings_sha256(cfg, key: bytes) -> str:
    """What besides its content decides what a state file stages: the whole config (columns,
    decimal separator, rates, ...), the pseudonym key (by a pseudonym, never the key) and the
    code that reads it."""
    import hashlib

    from kpi.config import config_sha256
    from kpi.privacy import pseudonymise

    text = "\n".join([reader_sha256(), config_sha256(cfg), pseudonymise("kpi-state-settings", key)])
    return hashlib.sha256(text.encode()).hexdigest()


def skipped_state_report(con, source: InputFile, settings: str) -> FileReport | None:
    """A 'skipped' report when this content of the file was last read with these settings."""
    sha = source.sha256
    current = con.sql("SELECT sha256, settings_sha256 FROM audit.ingest_manifest WHERE file = ? AND NOT superseded",
                      params=[source.rel]).fetchall()
    if current != [(sha, settings)]:
        return None
    return FileReport(file=source.rel, sha256=sha, format=source.kind, input_kind="state", skipped=True)


def ingest_state_file(con, source: InputFile, cfg, key: bytes, now: datetime,
                      known_employees: set[str] | None = None, settings: str | None = None,
                      checks: InputChecks | None = None) -> FileReport:
    """Read one state file whole, replace its staging table(s), record manifest and quarantine;
    then judge the file as a whole (`kpi.ingest.checks`): an unusable employees or costs file
    raises InputError (the caller's transaction rolls back), another gets a warning."""
    from kpi.adapters.tables import SPECS, read_table

    checks = checks or InputChecks.from_config(cfg, now)
    kind = source.kind
    column_map = cfg.columns.for_input(kind)
    read = read_table(source.path, source.rel, SPECS[kind], column_map, cfg.company.decimal_separator,
                      dates=checks.dates)
    quarantine = list(read.quarantine)
    frame = read.rows
    # Identifiers are pseudonymised in the quarantine whatever the column (kpi.ingest.store.protect_value):
    # those of the HR list before and after this read, the identifiers of this file's quarantined
    # rows, and every value of a column none of whose values is usable (swapped columns put
    # identifiers where none is expected).
    known_identities = hr_identity_keys(con) | set(pseudonym_map(read.identifier_values, key).values())
    swapped = {read.mapped_columns[c] for c, reasons in read.column_problems.items()
               if c in read.mapped_columns and read.rows_parsed and sum(reasons.values()) >= read.rows_parsed}
    # No raw identifier in a text column of staging: the row is quarantined, a free text keeps its
    # row with the identifier pseudonymised (docs/quality.md, "Identifiers in text columns").
    text = [c.name for c in read.spec.columns if c.type == "text" and not c.identifier]
    free = FREE_TEXT_COLUMNS.get(kind, ())
    frame = reject_identifier_rows(frame, [c for c in text if c not in free], key, known_identities, quarantine,
                                   names=read.mapped_columns)
    frame = pseudonymise_identifiers_in_text(frame, free, key, known_identities)
    if kind == "employees":
        staged, identities = stage_employees(frame, cfg, key, quarantine)
        replace_table(con, "staging.employee_identities", identities)
    elif kind == "trainings":
        staged = stage_trainings(frame, known_employees or set(), key, quarantine)
    elif kind == "assessments":
        staged = stage_assessments(frame, known_employees or set(), key, quarantine)
    elif kind == "course_feedback":
        staged = stage_course_feedback(frame, cfg, known_employees or set(), enrolments(con), key, quarantine)
    elif kind == "costs":
        staged = stage_costs(frame, quarantine)
    elif kind == "licenses":
        staged = stage_licenses(frame, quarantine)
    elif kind == "process_metrics":
        staged = stage_process_metrics(frame, quarantine)
    else:
        staged = stage_use_cases(frame, quarantine)
    replace_table(con, STAGING_TABLE[kind], staged)

    sha = source.sha256
    known_identities |= hr_identity_keys(con)
    con.execute("DELETE FROM audit.quarantine WHERE file = ? AND stage = 'ingest'", [source.rel])
    write_quarantine(con, quarantine_frame(quarantine, source.rel, sha, "ingest", key,
                                           personal_columns=read.personal_columns | swapped,
                                           known_identities=known_identities))
    rows_quarantined = len({q["row_number"] for q in quarantine})
    report = FileReport(
        file=source.rel, sha256=sha, format=kind, input_kind="state",
        rows_read=read.rows_read, rows_loaded=staged.height, rows_quarantined=rows_quarantined,
        chars_replaced=read.chars_replaced, quarantine_reasons=reason_counts(quarantine),
    )
    report.check()
    problem = _whole_file_problem(read, report, checks.max_quarantined_share)
    if problem is not None:
        warning = checks.problem(kind, source.rel, *problem)
        if warning is not None:
            report.warnings.append(warning)
    write_warnings(con, report, now)
    write_manifest(con, report, now, state=True)
    con.execute("UPDATE audit.ingest_manifest SET settings_sha256 = ? WHERE file = ? AND sha256 = ?",
                [settings, source.rel, sha])
    return report


def _whole_file_problem(read, report: FileReport, max_share: float) -> tuple[str, str] | None:
    """The sanity gates of a state file: no data rows, a required column without one usable cell
    (swapped or wrongly mapped columns), no row loaded, too large a share quarantined."""
    spec = read.spec
    invalid = []
    for column in spec.columns:
        if not column.required or column.name not in read.column_problems:
            continue
        fix = f"are the columns swapped? see columns.{spec.name} in the config"
        if column.type == "enum":
            fix = f"the allowed values are {', '.join(column.values)}; " + fix
        header = read.mapped_columns.get(column.name, column.name)
        label = column.name if header.strip().casefold() == column.name else f"{column.name} (column '{header}')"
        invalid.append((label, read.column_problems[column.name], read.rows_parsed, fix))
    fix = REQUIRED_FIX.get(spec.name, "export it again with its rows, or remove it")
    return file_problem(report.file, report.rows_read, report.rows_loaded, report.quarantine_reasons, max_share,
                        invalid_columns=invalid, fix=fix)


def clear_absent_state(con, kind: str) -> None:
    """An optional state file that is no longer in the inputs leaves nothing behind."""
    con.execute(f"DELETE FROM {STAGING_TABLE[kind]}")
