"""Survey inputs: wide exports (one row per response) into long answers, cell by cell.

Which header is which item comes from `survey.items`; text answers map to points through
`survey.labels` (matched case-insensitively after trimming, a trailing period ignored); digits
are points. A reverse-scored item counts as scale_max + 1 - x. An empty cell is a skipped item;
any other invalid cell becomes missing and is quarantined, the rest of the response is kept.
Columns that are not configured items or roles (comments, NPS, names) are neither stored nor
quarantined.
"""

from __future__ import annotations

import re
from datetime import datetime, time

import polars as pl

from kpi.config import normalise_label
from kpi.errors import InputError
from kpi.ingest.checks import InputChecks, InputWarning, file_problem, reasons_text
from kpi.ingest.files import InputFile
from kpi.ingest.store import (
    FileReport,
    already_ingested,
    holds_identifier,
    insert_frame,
    quarantine_frame,
    reason_counts,
    write_manifest,
    write_quarantine,
    write_warnings,
)
from kpi.privacy import pseudonymise

ROLES = ("response_id", "submitted_at", "department", "target_group", "identity")
# Headers of common survey tools recognised without any mapping (Microsoft Forms, Google Forms,
# LimeSurvey, Qualtrics, SurveyMonkey). A mapping under columns.surveys takes precedence.
ROLE_ALIASES = {
    "response_id": ["response_id", "responseid", "response id", "id", "respondent id"],
    "submitted_at": ["submitted_at", "recordeddate", "completion time", "timestamp", "submitdate",
                     "submitted at", "end date", "enddate", "date submitted"],
    "department": ["department"],
    "target_group": ["target_group", "target group"],
    "identity": [],
}


def normalise_header(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\ufeff", "")).strip().rstrip(".?:").strip().casefold()


def _role_columns(header: list[str], cfg) -> dict[str, int]:
    """Which column index plays which role."""
    roles: dict[str, int] = {}
    mapping = {normalise_header(k): v for k, v in cfg.columns.for_input("surveys").items()}
    for index, name in enumerate(header):
        role = mapping.get(normalise_header(name))
        if role in ROLES and role not in roles:
            roles[role] = index
    for role, aliases in ROLE_ALIASES.items():
        if role in roles:
            continue
        for index, name in enumerate(header):
            if normalise_header(name) in aliases:
                roles[role] = index
                break
    return roles


def _item_columns(header: list[str], cfg) -> dict[int, tuple[str, str, bool]]:
    """Column index -> (item text, construct, reverse) for configured items."""
    items = {normalise_header(text): (text, spec.construct, spec.reverse) for text, spec in cfg.survey.items.items()}
    return {i: items[normalise_header(h)] for i, h in enumerate(header) if normalise_header(h) in items}


def parse_answer(raw: str, labels: dict[str, int], scale_max: int) -> tuple[int | None, str | None]:
    """(points, reason): points for a valid answer, None for a skipped one, or a quarantine reason."""
    text = raw.strip()
    if text == "":
        return None, None
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        value = int(float(text))
        return (value, None) if 1 <= value <= scale_max else (None, "out_of_range")
    key = normalise_label(text)
    if key in labels:
        return labels[key], None
    return None, "unmapped_label"


def _parse_submitted(text: str, tz: str) -> datetime | None:
    from kpi.adapters.textio import parse_timestamp

    value, ok = parse_timestamp(text, tz)
    if not ok or value is None:
        return None
    if not isinstance(value, datetime):  # a date only
        return datetime.combine(value, time())
    return value


def read_survey(source: InputFile, cfg, key: bytes, dates=None, known_identities: set[str] | frozenset = frozenset()):
    """Parse one export: (responses frame, answers frame, quarantine rows, rows_read, cells_quarantined,
    chars_replaced). A submission date outside ``dates`` (a ``DateRange``) is ``out_of_range``, and
    so is a response whose response_id, department or target_group holds an identifier (an e-mail,
    or one of ``known_identities``, the HR list's: `kpi.ingest.store.holds_identifier`)."""
    from kpi.adapters.textio import detect_qualtrics, read_csv_records, skip_extra_header_rows

    table = read_csv_records(source.path, decimal_fallback=cfg.company.decimal_separator, rel_name=source.rel)
    header = list(table.header)
    first = [fields for _, fields, _ in table.rows[:2]]
    if detect_qualtrics(header, first):
        # Qualtrics: the header holds question ids; the next line the question texts, then import ids.
        table, dropped = skip_extra_header_rows(table, 2)
        texts = dropped[0] or []
        header = [texts[i] if i < len(texts) and texts[i].strip() and normalise_header(header[i]) not in
                  {"responseid", "recordeddate", "startdate", "enddate"} else header[i] for i in range(len(header))]
    records = [(n, fields) for n, fields, _raw in table.rows]
    roles = _role_columns(header, cfg)
    items = _item_columns(header, cfg)
    if not items:
        raise InputError(
            f"{source.rel}: none of the configured survey items is a column of this export; put the exact "
            f"header texts under survey.items in the config (first columns found: {', '.join(header[:6])})"
        )
    wave = cfg.survey_file(source.rel.removeprefix("surveys/"))
    if "submitted_at" not in roles and wave is None:
        raise InputError(
            f"{source.rel}: no submission date column; map it under columns.surveys (e.g. 'Completion time: "
            f"submitted_at') or give the wave date under survey.files['{source.path.name}'].submitted_at"
        )
    labels = cfg.survey_label_points()
    scale_max = cfg.survey.scale_max
    tz = cfg.company.timezone

    quarantine: list[dict] = [
        {"row_number": n, "column": None, "value": raw, "reason": "malformed_row"} for n, raw in table.malformed
    ]
    responses, answers = [], []
    seen: set[str] = set()
    cells_quarantined = 0
    for row_number, fields in records:
        if fields is None:
            continue  # malformed: already quarantined
        def cell(role, fields=fields):
            index = roles.get(role)
            return fields[index].strip() if index is not None and index < len(fields) else ""
        response_id = cell("response_id") if "response_id" in roles else str(row_number)
        if not response_id:
            quarantine.append({"row_number": row_number, "column": header[roles["response_id"]], "value": "",
                               "reason": "missing_required"})
            continue
        if "submitted_at" in roles:
            raw_time = cell("submitted_at")
            submitted = _parse_submitted(raw_time, tz) if raw_time else None
            if submitted is None:
                quarantine.append({"row_number": row_number, "column": header[roles["submitted_at"]],
                                   "value": raw_time, "reason": "invalid_date" if raw_time else "missing_required"})
                continue
            if dates is not None and submitted not in dates:
                quarantine.append({"row_number": row_number, "column": header[roles["submitted_at"]],
                                   "value": raw_time, "reason": "out_of_range"})
                continue
        else:
            submitted = datetime.combine(wave.submitted_at, time())
        stored = next((role for role in ("response_id", "department", "target_group")
                       if role in roles and holds_identifier(cell(role), key, known_identities)), None)
        if stored is not None:
            quarantine.append({"row_number": row_number, "column": header[roles[stored]], "value": cell(stored),
                               "reason": "out_of_range"})
            continue
        if response_id in seen:
            quarantine.append({"row_number": row_number, "column": header[roles.get("response_id", 0)],
                               "value": response_id, "reason": "duplicate"})
            continue
        seen.add(response_id)
        identity = cell("identity")
        responses.append({
            "file": source.rel, "response_id": response_id, "submitted_at": submitted,
            "department": cell("department") or None, "target_group": cell("target_group") or None,
            "respondent_key": pseudonymise(identity, key) if identity else None,
            "_row_number": row_number,
        })
        for index, (item, construct, reverse) in items.items():
            raw = fields[index] if index < len(fields) else ""
            points, reason = parse_answer(raw, labels, scale_max)
            if reason:
                cells_quarantined += 1
                quarantine.append({"row_number": row_number, "column": header[index], "value": raw.strip(),
                                   "reason": reason, "cell": True})
            elif points is not None:
                answers.append({
                    "file": source.rel, "response_id": response_id, "item": item, "construct": construct,
                    "reverse": reverse, "answer_points": points,
                    "points": scale_max + 1 - points if reverse else points,
                })
    rows_read = len(records)
    responses_frame = pl.DataFrame(responses, schema={
        "file": pl.String, "response_id": pl.String, "submitted_at": pl.Datetime("us"), "department": pl.String,
        "target_group": pl.String, "respondent_key": pl.String, "_row_number": pl.Int64})
    answers_frame = pl.DataFrame(answers, schema={
        "file": pl.String, "response_id": pl.String, "item": pl.String, "construct": pl.String,
        "reverse": pl.Boolean, "answer_points": pl.Int32, "points": pl.Int32})
    return responses_frame, answers_frame, quarantine, rows_read, cells_quarantined, table.chars_replaced


def ingest_survey_file(con, source: InputFile, cfg, key: bytes, now: datetime,
                       checks: InputChecks | None = None, known_identities: set[str] | None = None) -> FileReport:
    checks = checks or InputChecks.from_config(cfg, now)
    sha = source.sha256
    if already_ingested(con, sha):
        first = con.sql("SELECT arg_min(file, ingested_at) FROM audit.ingest_manifest WHERE sha256 = ?",
                        params=[sha]).fetchall()[0][0]
        return FileReport(file=source.rel, sha256=sha, format="survey", input_kind="accumulating", skipped=True,
                          same_as=first if first != source.rel else None)
    responses, answers, quarantine, rows_read, cells_quarantined, chars_replaced = read_survey(
        source, cfg, key, checks.dates, known_identities or frozenset())

    # Natural key (file, response_id): a response already loaded from an earlier version of this
    # file is a duplicate when its answers are equal, and is replaced when they differ.
    existing = con.sql(
        "SELECT response_id, string_agg(item || '=' || answer_points::VARCHAR, '|' ORDER BY item) "
        "FROM staging.survey_answers WHERE file = ? GROUP BY response_id", params=[source.rel]
    ).fetchall()
    existing_ids = {r[0] for r in con.sql("SELECT response_id FROM staging.survey_responses WHERE file = ?",
                                          params=[source.rel]).fetchall()}
    existing_sig = dict(existing)
    new_sig = (answers.sort("item").group_by("response_id", maintain_order=True)
               .agg((pl.col("item") + "=" + pl.col("answer_points").cast(pl.String)).str.join("|").alias("sig")))
    new_sig = dict(new_sig.iter_rows())
    duplicates = [r for r in responses.get_column("response_id").to_list()
                  if r in existing_ids and existing_sig.get(r) == new_sig.get(r)]
    replaced = [r for r in responses.get_column("response_id").to_list() if r in existing_ids and r not in duplicates]
    duplicated = responses.filter(pl.col("response_id").is_in(duplicates)).select("response_id", "_row_number")
    for rid, row_number in duplicated.iter_rows():
        quarantine.append({"row_number": row_number, "column": "response_id", "value": rid, "reason": "duplicate"})
    if replaced:
        for table in ("staging.survey_answers", "staging.survey_responses"):
            con.execute(f"DELETE FROM {table} WHERE file = ? AND response_id IN (SELECT unnest(?::VARCHAR[]))",
                        [source.rel, replaced])
    keep = ~pl.col("response_id").is_in(duplicates)
    insert_frame(con, "staging.survey_responses", responses.filter(keep).drop("_row_number"))
    insert_frame(con, "staging.survey_answers", answers.filter(keep))
    write_quarantine(con, quarantine_frame(quarantine, source.rel, sha, "ingest", key,
                                           known_identities=known_identities or frozenset()))
    rows_quarantined = len({q["row_number"] for q in quarantine if not q.get("cell")})
    report = FileReport(
        file=source.rel, sha256=sha, format="survey", input_kind="accumulating", rows_read=rows_read,
        rows_loaded=rows_read - rows_quarantined, rows_quarantined=rows_quarantined, rows_replaced=len(replaced),
        cells_quarantined=cells_quarantined, chars_replaced=chars_replaced,
        quarantine_reasons=reason_counts(quarantine),
    )
    for warning in _warnings(report, quarantine, answers, checks.max_quarantined_share):
        report.warnings.append(checks.warn(warning))
    write_warnings(con, report, now)
    write_manifest(con, report, now, state=False)
    return report


def _warnings(report: FileReport, quarantine: list[dict], answers: pl.DataFrame, max_share: float):
    """A survey export's sanity gates: no response, too many responses rejected, and an item none of
    whose answers could be read (labels of another language or scale)."""
    rows = reason_counts([q for q in quarantine if not q.get("cell")])
    problem = file_problem(report.file, report.rows_read, report.rows_loaded, rows, max_share,
                           fix="export it again with its responses, or remove it", accumulating=True)
    if problem is not None:
        yield InputWarning(report.file, *problem)
    invalid: dict[str, dict[str, int]] = {}
    for q in quarantine:
        if q.get("cell"):
            counts = invalid.setdefault(q["column"], {})
            counts[q["reason"]] = counts.get(q["reason"], 0) + 1
    valid = dict(answers.group_by("item").len().iter_rows()) if answers.height else {}
    for column, reasons in invalid.items():
        if not any(normalise_header(item) == normalise_header(column) for item in valid):
            n = sum(reasons.values())
            yield InputWarning(report.file, "column_invalid", (
                f"{report.file}: no answer to '{column}' could be read ({n} answers quarantined as "
                f"{reasons_text(reasons)}); check survey.labels and survey.scale_max in the config"))
