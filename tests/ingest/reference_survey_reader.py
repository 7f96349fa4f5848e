"""Frozen copy of ``kpi.ingest.surveys.read_survey`` as it was before issue 18 (every response
walked in Python: the submitted time, the identifier check and every answer cell parsed row by
row): the reference for the equivalence tests (tests/ingest/test_state_survey_equivalence.py),
issue 18. Not used by the pipeline; do not change it to follow the production reader."""

from __future__ import annotations

from datetime import datetime, time

import polars as pl

from kpi.errors import InputError
from kpi.ingest.files import InputFile
from kpi.ingest.store import holds_identifier
from kpi.ingest.surveys import _item_columns, _role_columns, normalise_header, parse_answer
from kpi.privacy import pseudonymise


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
