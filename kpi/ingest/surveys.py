"""Survey inputs: wide exports (one row per response) into long answers, column by column.

Which header is which item comes from `survey.items`; text answers map to points through
`survey.labels` (matched case-insensitively after trimming, a trailing period ignored); digits
are points. A reverse-scored item counts as scale_max + 1 - x. An empty cell is a skipped item;
any other invalid cell becomes missing and is quarantined, the rest of the response is kept.
Columns that are not configured items or roles (comments, NPS, names) are neither stored nor
quarantined. Each distinct text (an answer, a submission time, an identity) is read once by the
scalar rules below and joined back onto the responses by polars (issue 18).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, time

import polars as pl

from kpi.adapters.textio import CsvTable
from kpi.adapters.vectorised import per_distinct, python_strip
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
        digits = text.split(".")[0]
        # a number of hundreds of digits is out of range too (float() would overflow)
        value = int(digits) if len(digits.lstrip("+-0")) <= 6 else None
        return (value, None) if value is not None and 1 <= value <= scale_max else (None, "out_of_range")
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
    or one of ``known_identities``, the HR list's: `kpi.ingest.store.holds_identifier`).

    Column by column (issue 18): each distinct submitted-at text, answer text, identity and
    identifier candidate is read once by the scalar rules (`parse_timestamp` behind
    `submitted_series`, `parse_answer`, `holds_identifier`, `pseudonymise`) and joined back; a
    response is rejected for its first problem in the order response id, submitted at,
    identifier, repeated response id, as a row by row walk would."""
    from kpi.adapters.textio import detect_qualtrics, read_csv_records

    table = read_csv_records(source.path, decimal_fallback=cfg.company.decimal_separator, rel_name=source.rel)
    header = list(table.header)
    first = [fields for _, fields, _ in _first_rows(table, 2)]
    if detect_qualtrics(header, first):
        # Qualtrics: the header holds question ids; the next line the question texts, then import ids.
        table, dropped = _skip_extra_header_rows(table)
        texts = dropped[0] or []
        header = [texts[i] if i < len(texts) and texts[i].strip() and normalise_header(header[i]) not in
                  {"responseid", "recordeddate", "startdate", "enddate"} else header[i] for i in range(len(header))]
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

    def cell(role: str) -> pl.Expr:  # a role's cell, trimmed ("" without the role)
        return python_strip(pl.col(f"c{roles[role]}")) if role in roles else pl.lit("", pl.String)

    def name(role: str) -> str:
        return header[roles[role]]

    rows = table.frame.select(
        "row_number", (cell("response_id") if "response_id" in roles else pl.col("row_number").cast(pl.String))
        .alias("_rid"), *(cell(role).alias(f"_{role}") for role in ("submitted_at", "department", "target_group",
                                                                    "identity")),
        *(pl.col(f"c{index}") for index in items))
    rejected: list[pl.DataFrame] = []  # row_number, column, value, reason

    def reject(mask: pl.Expr, column: str, value: pl.Expr, reason: str) -> None:
        nonlocal rows
        rows = rows.with_columns(mask.fill_null(False).alias("_out"))
        rejected.append(rows.filter("_out").select("row_number", pl.lit(column, pl.String).alias("column"),
                                                  value.alias("value"), pl.lit(reason).alias("reason")))
        rows = rows.filter(~pl.col("_out"))

    if "response_id" in roles:
        reject(pl.col("_rid") == "", name("response_id"), pl.lit(""), "missing_required")
    if "submitted_at" in roles:
        raw_time = pl.col("_submitted_at")
        reject(raw_time == "", name("submitted_at"), raw_time, "missing_required")
        rows = rows.with_columns(submitted_series(rows.get_column("_submitted_at"), cfg.company.timezone)
                                 .alias("_submitted"))
        reject(pl.col("_submitted").is_null(), name("submitted_at"), raw_time, "invalid_date")
        if dates is not None:
            day = pl.col("_submitted").dt.date()
            reject((day < dates.first) | (day > dates.last), name("submitted_at"), raw_time, "out_of_range")
    else:
        rows = rows.with_columns(pl.lit(datetime.combine(wave.submitted_at, time()), pl.Datetime("us"))
                                 .alias("_submitted"))
    # the first of a response's id, department and target group that holds an identifier
    for role in ("response_id", "department", "target_group"):
        if role in roles:
            value = pl.col("_rid" if role == "response_id" else f"_{role}")
            holds = _holding_identifier(rows.select(value).to_series(), key, known_identities)
            reject(pl.lit(holds), name(role), value, "out_of_range")
    if "response_id" in roles:
        reject(~pl.col("_rid").is_first_distinct(), header[roles.get("response_id", 0)], pl.col("_rid"), "duplicate")

    responses = rows.select(
        pl.lit(source.rel, pl.String).alias("file"), pl.col("_rid").alias("response_id"),
        pl.col("_submitted").cast(pl.Datetime("us")).alias("submitted_at"),
        *(pl.when(pl.col(f"_{role}") != "").then(pl.col(f"_{role}")).alias(role)
          for role in ("department", "target_group")),
        _pseudonyms(rows.get_column("_identity"), key).alias("respondent_key"),
        pl.col("row_number").alias("_row_number"))
    answers, cell_quarantine = _answers(rows, items, header, labels, scale_max, source.rel)

    # malformed rows first, then row by row: a response's problem, or its answers' in item order
    quarantine: list[dict] = [
        {"row_number": n, "column": None, "value": raw, "reason": "malformed_row"} for n, raw in table.malformed
    ]
    by_row = pl.concat([*(r.with_columns(pl.lit(-1, pl.Int32).alias("pos"), pl.lit(False).alias("cell"))
                          for r in rejected), cell_quarantine], how="vertical_relaxed").sort("row_number", "pos")
    for n, column, value, reason, _, is_cell in by_row.iter_rows():
        entry = {"row_number": n, "column": column, "value": value, "reason": reason}
        if is_cell:
            entry["cell"] = True
        quarantine.append(entry)
    return responses, answers, quarantine, table.rows_read, cell_quarantine.height, table.chars_replaced


ANSWERS_SCHEMA = {"file": pl.String, "response_id": pl.String, "item": pl.String, "construct": pl.String,
                  "reverse": pl.Boolean, "answer_points": pl.Int32, "points": pl.Int32}


def _answers(rows: pl.DataFrame, items: dict[int, tuple[str, str, bool]], header: list[str],
             labels: dict[str, int], scale_max: int, file: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The answers of the kept responses, row by row in item order, and the quarantined answer
    cells (row_number, column, value, reason, pos, cell): `parse_answer` once per distinct text."""
    positions = list(items)
    long = rows.select(
        "row_number", "_rid", pl.concat_list([pl.col(f"c{index}") for index in positions]).alias("_raw"),
    ).explode("_raw").with_columns((pl.int_range(pl.len(), dtype=pl.Int32) % len(positions)).alias("pos"))
    points, reasons = per_distinct(long.get_column("_raw"), lambda raw: parse_answer(raw, labels, scale_max),
                                   (pl.Int64(), pl.String()))
    long = long.with_columns(points.alias("_points"), reasons.alias("_reason"))

    def per_item(values: list, dtype) -> pl.Expr:
        return pl.col("pos").replace_strict(list(range(len(positions))), values, return_dtype=dtype)

    reverse = per_item([items[i][2] for i in positions], pl.Boolean)
    answers = long.filter(pl.col("_reason").is_null() & pl.col("_points").is_not_null()).select(
        pl.lit(file, pl.String).alias("file"), pl.col("_rid").alias("response_id"),
        per_item([items[i][0] for i in positions], pl.String).alias("item"),
        per_item([items[i][1] for i in positions], pl.String).alias("construct"),
        reverse.alias("reverse"), pl.col("_points").alias("answer_points"),
        pl.when(reverse).then(scale_max + 1 - pl.col("_points")).otherwise(pl.col("_points")).alias("points"),
    ).cast(ANSWERS_SCHEMA)
    cells = long.filter(pl.col("_reason").is_not_null()).select(
        "row_number", per_item([header[i] for i in positions], pl.String).alias("column"),
        python_strip(pl.col("_raw")).alias("value"), pl.col("_reason").alias("reason"), "pos",
        pl.lit(True).alias("cell"))
    return answers, cells


_SIMPLE_TIMESTAMP = (r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}"
                     r"|[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])$")


def submitted_series(texts: pl.Series, tz: str) -> pl.Series:
    """`_parse_submitted` of every text (trimmed, not empty), vectorised: the common forms
    ``YYYY-MM-DD`` and ``YYYY-MM-DD[T ]HH:MM:SS`` (local time, no offset) that polars reads as a
    valid date are converted by polars; any other distinct text (an offset, fractions, an invalid
    date, year 0000, which polars would accept) is parsed once by `_parse_submitted`. Null where it
    is not a valid date or time."""
    frame = pl.DataFrame({"t": texts.unique(maintain_order=True)}, schema={"t": pl.String})
    t = pl.col("t")
    simple = t.str.contains(_SIMPLE_TIMESTAMP) & ~t.str.starts_with("0000")
    frame = frame.with_columns(
        pl.when(simple & (t.str.len_bytes() == 10))
        .then(t.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")))
        .when(simple).then(t.str.replace(" ", "T", literal=True)
                           .str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"))
        .alias("fast"))
    rest = frame.filter(pl.col("fast").is_null()).get_column("t")
    slow = dict(zip(rest.to_list(), per_distinct(rest, lambda text: (_parse_submitted(text, tz),),
                                                (pl.Datetime("us"),))[0].to_list()))
    if slow:
        frame = frame.with_columns(pl.coalesce(pl.col("fast"), t.replace_strict(
            slow, default=None, return_dtype=pl.Datetime("us"))).alias("fast"))
    return texts.replace_strict(frame.get_column("t"), frame.get_column("fast"), default=None,
                                return_dtype=pl.Datetime("us"))


def _holding_identifier(values: pl.Series, key: bytes, known_identities) -> pl.Series:
    """True where a value holds an identifier (`holds_identifier`, once per distinct value)."""
    return per_distinct(values, lambda value: (holds_identifier(value, key, known_identities),),
                        (pl.Boolean(),))[0].fill_null(False)


def _pseudonyms(values: pl.Series, key: bytes) -> pl.Series:
    """The pseudonym of every non-empty value (`pseudonymise`, once per distinct value); else null."""
    return per_distinct(values, lambda value: (pseudonymise(value, key) if value else None,), (pl.String(),))[0]


def _first_rows(table: CsvTable, count: int) -> list[tuple[int, list[str] | None, str]]:
    """``table.rows[:count]`` (good and malformed rows in order) without building every row."""
    cols = [f"c{i}" for i in range(len(table.header))]
    head = table.frame.sort("row_number").head(count).select(["row_number", *cols])
    rows = [(rec[0], list(rec[1:]), table.raw_text(rec[0])) for rec in head.iter_rows()]
    rows += [(n, None, raw) for n, raw in sorted(table.malformed)[:count]]
    return sorted(rows, key=lambda r: r[0])[:count]


@dataclass
class _FirstRowsOnly(CsvTable):
    """A table whose ``rows`` are its first two (what `skip_extra_header_rows` reads of them)."""

    @property
    def rows(self) -> list[tuple[int, list[str] | None, str]]:
        return _first_rows(self, 2)


def _skip_extra_header_rows(table: CsvTable) -> tuple[CsvTable, list[list[str] | None]]:
    """`skip_extra_header_rows` of Qualtrics' two extra header rows, without listing every row."""
    from kpi.adapters.textio import skip_extra_header_rows

    return skip_extra_header_rows(_FirstRowsOnly(**{f.name: getattr(table, f.name) for f in fields(table)}), 2)


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
