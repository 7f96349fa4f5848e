"""GitHub Copilot usage metrics, users-1-day report (NDJSON, a JSON array or a wrapper object).

One record per user and day: ``day`` and ``user_login`` are required; unknown fields and missing
nested blocks (``totals_by_ide``...) are ignored. Mapping (tool ``github-copilot``):

* interactions = user_initiated_interaction_count + code_acceptance_activity_count (GitHub's
  "engaged");
* successes = code_acceptance_activity_count;
* failures = code_generation_activity_count - code_acceptance_activity_count, floored at 0
  (more acceptances than generations happens in real exports: the row is kept, the day is real);
* a top-level count that is absent is summed from ``totals_by_feature`` when present, else 0;
  a null count is 0; a negative, fractional or non-numeric count quarantines the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from kpi.adapters.textio import (
    MISSING_TOKENS,
    PYTHON_WHITESPACE,
    DateRange,
    is_missing,
    normalise_identifier,
    normalise_identifier_series,
    parse_date,
    parse_int,
)
from kpi.adapters.usage_common import (
    KEY_SEP,
    TOOL_GITHUB,
    USAGE_COLUMNS,
    USAGE_SCHEMA,
    FormatRead,
    UsageFormat,
    json_fallback_records,
    make_key,
    plain_ndjson_lines,
    qrow,
    usage_frame,
)

RECORD_KEYS = ("day", "user_login")
INTERACTIONS = "user_initiated_interaction_count"
GENERATIONS = "code_generation_activity_count"
ACCEPTANCES = "code_acceptance_activity_count"
COUNT_KEYS = (INTERACTIONS, GENERATIONS, ACCEPTANCES)

_ABSENT = object()


def is_github_keys(names: Iterable[str]) -> bool:
    keys = set(names)
    return "user_login" in keys and ("day" in keys or bool(keys & set(COUNT_KEYS)))


def _count(obj: dict[str, Any], key: str) -> tuple[int | None, bool]:
    value = obj.get(key, _ABSENT)
    if type(value) is int:  # the common case
        return (value, True) if 0 <= value < 2**63 else (None, False)
    if value is _ABSENT:
        features = obj.get("totals_by_feature")
        if isinstance(features, list) and any(isinstance(f, dict) and key in f for f in features):
            total = 0
            for f in features:
                if isinstance(f, dict) and f.get(key) is not None:
                    v, ok = parse_int(f.get(key))
                    if not ok or v is None or v < 0:
                        return None, False
                    total += v
            return total, True
        return 0, True
    if value is None:
        return 0, True
    if isinstance(value, (dict, list)):
        return None, False
    v, ok = parse_int(value)
    if not ok or (v is not None and v < 0):
        return None, False
    return (0 if v is None else v), True


def map_record(number: int, obj: Any, raw: str, days: dict[str, tuple]) -> tuple[dict | None, dict | None, bool]:
    """One users-1-day record: (activity row, None, clamped) or (None, quarantine entry, False).
    ``days`` caches the parsed day texts of a file and holds its plausible ``DateRange`` under
    ``_RANGE`` (a day outside it is ``out_of_range``)."""
    dates = days.get(_RANGE)
    if not isinstance(obj, dict):
        return None, qrow(number, None, raw, "malformed_row"), False
    day_value = obj.get("day")
    if day_value is None or (isinstance(day_value, str) and is_missing(day_value)):
        return None, qrow(number, "day", day_value, "missing_required"), False
    if isinstance(day_value, str):
        if day_value not in days:
            days[day_value] = parse_date(day_value)
        day, ok = days[day_value]
    else:
        day, ok = None, False
    if not ok or day is None:
        return None, qrow(number, "day", day_value, "invalid_date"), False
    if dates is not None and day not in dates:
        return None, qrow(number, "day", day_value, "out_of_range"), False
    login = obj.get("user_login")
    if isinstance(login, bool) or isinstance(login, (dict, list, float)):
        return None, qrow(number, "user_login", login, "out_of_range"), False
    login_text = "" if login is None else str(login).strip()
    if is_missing(login_text):
        return None, qrow(number, "user_login", login, "missing_required"), False
    counts: dict[str, int] = {}
    for key in COUNT_KEYS:
        v, ok = _count(obj, key)
        if not ok:
            return None, qrow(number, key, obj.get(key), "out_of_range"), False
        counts[key] = v or 0
    features = obj.get("totals_by_feature")
    generations_known = GENERATIONS in obj or (
        isinstance(features, list) and any(isinstance(f, dict) and GENERATIONS in f for f in features)
    )
    acceptances = counts[ACCEPTANCES]
    failures = counts[GENERATIONS] - acceptances if generations_known else 0
    clamped = failures < 0
    norm = normalise_identifier(login_text)
    return {
        "row_number": number, "day": day, "event_time": None, "user": login_text,
        "user_norm": norm, "tool": TOOL_GITHUB, "action": None,
        "interactions": counts[INTERACTIONS] + acceptances, "successes": acceptances,
        "failures": max(failures, 0), "natural_key": make_key(TOOL_GITHUB, day, norm),
    }, None, clamped


_RANGE = object()  # the key of the plausible DateRange in map_record's ``days``


def read_github_records(records: list[tuple[int, Any, str]], dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, warnings and personal columns of users-1-day records mapped one
    by one in Python (a day outside ``dates`` is ``out_of_range``): JSON documents that are not
    plain NDJSON (an array, a wrapper object, pretty-printed), and the few records of an NDJSON
    file that the SQL mapping leaves to Python."""
    rows, quarantine, clamped = _map_records(records, dates)
    return FormatRead(rows, quarantine, len(records), warnings=_clamp_warning(clamped),
                      personal_columns={"user_login"})


def _map_records(records: list[tuple[int, Any, str]], dates: DateRange | None):
    """(activity rows, quarantine, records clamped) of records mapped one by one."""
    rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    clamped = 0
    days: dict = {_RANGE: dates}
    for number, obj, raw in records:
        row, problem, was_clamped = map_record(number, obj, raw, days)
        if problem is not None:
            quarantine.append(problem)
        else:
            rows.append(row)
            clamped += was_clamped
    return usage_frame(rows), quarantine, clamped


def _clamp_warning(clamped: int) -> list[str]:
    if not clamped:
        return []
    return [f"{clamped} record(s) had more acceptances than generations: failures set to 0"]


# ----------------------------------------------------------------------------------------------
# plain NDJSON (what GitHub serves): the records mapped by one DuckDB query per file

_SIMPLE_SQL = """
WITH parsed AS (  -- each line parsed once: the five fields as JSON values, NULL when the line is not
                  -- a JSON object holding each of them exactly once (json_transform_strict refuses a
                  -- duplicate or missing key: Python's json keeps the last of duplicates, DuckDB the first)
    SELECT row_number, line, TRY(json_transform_strict(line, '{"day": "JSON", "user_login": "JSON",
        "user_initiated_interaction_count": "JSON", "code_generation_activity_count": "JSON",
        "code_acceptance_activity_count": "JSON"}')) AS f
    FROM lines_
),
typed AS (
    -- DuckDB also reads a trailing comma ({"a": 1,}) that Python's json refuses: such lines go to
    -- map_record (so does a string holding such text: the test is on the line)
    SELECT row_number, f IS NOT NULL AND NOT regexp_matches(line, ',[ \\t\\r\\n]*[\\]}]') AS one_each,
           f.day ->> '$' AS day_text, f.user_login ->> '$' AS login,
           json_type(f.day) AS day_type, json_type(f.user_login) AS login_type,
           -- a JSON null is SQL NULL here (a missing count has no row of its own: f is NULL)
           coalesce(json_type(f.user_initiated_interaction_count), 'NULL') AS t1,
           coalesce(json_type(f.code_generation_activity_count), 'NULL') AS t2,
           coalesce(json_type(f.code_acceptance_activity_count), 'NULL') AS t3,
           TRY_CAST(f.user_initiated_interaction_count ->> '$' AS BIGINT) AS n1,
           TRY_CAST(f.code_generation_activity_count ->> '$' AS BIGINT) AS n2,
           TRY_CAST(f.code_acceptance_activity_count ->> '$' AS BIGINT) AS n3
    FROM parsed
)
SELECT row_number,
       -- the records GitHub writes (an object, each of the five keys once, day and login strings,
       -- the three counts present as whole numbers >= 0 or null); the others go through map_record
       -- (a count absent from the record is summed there from totals_by_feature)
       coalesce(one_each AND day_type = 'VARCHAR' AND login_type = 'VARCHAR'
                AND (t1 = 'NULL' OR (t1 = 'UBIGINT' AND n1 IS NOT NULL))
                AND (t2 = 'NULL' OR (t2 = 'UBIGINT' AND n2 IS NOT NULL))
                AND (t3 = 'NULL' OR (t3 = 'UBIGINT' AND n3 IS NOT NULL)), false) AS simple,
       day_text, login, coalesce(n1, 0) AS initiated, coalesce(n2, 0) AS generations,
       coalesce(n3, 0) AS acceptances
FROM typed
"""


def read_github(source) -> FormatRead:
    """A users-1-day report. Plain NDJSON (one object per line) is mapped in DuckDB: its lines are
    numbered and parsed by DuckDB's JSON functions, and every record whose day and login are
    strings and whose counts are non-negative whole numbers or null (the records GitHub writes) is
    mapped as columns; a record of another shape, or a line that does not parse, goes through
    ``map_record`` (the same rules in Python). Any other document (an array, a wrapper object,
    pretty-printed) is read record by record (``read_github_records``)."""
    lines = plain_ndjson_lines(source.text or "")
    if lines is None:
        return read_github_records(source.records(RECORD_KEYS), source.dates)
    from kpi.adapters.sqlmap import date_lookup, query

    parsed = query(_SIMPLE_SQL, lines_=lines.select("row_number", "line"))
    simple = parsed.filter(pl.col("simple"))
    days = date_lookup(simple.get_column("day_text").unique().to_list(), source.dates)
    simple = simple.join(days, left_on="day_text", right_on="text", how="left").with_columns(
        pl.col("login").str.strip_chars(PYTHON_WHITESPACE).alias("user"))  # = str.strip()
    simple = simple.with_columns(normalise_identifier_series(simple.get_column("user")).alias("user_norm"))
    reason = (pl.when(pl.col("missing")).then(pl.lit("missing_required"))
              .when(~pl.col("ok") | pl.col("day").is_null()).then(pl.lit("invalid_date"))
              .when(pl.col("outside")).then(pl.lit("out_of_range"))
              .when(pl.col("user_norm").is_in(sorted(MISSING_TOKENS))).then(pl.lit("login_missing")))
    simple = simple.with_columns(reason.alias("reason"))
    quarantine = [
        qrow(number, "user_login" if why == "login_missing" else "day", login if why == "login_missing" else day,
             "missing_required" if why == "login_missing" else why)
        for number, day, login, why in simple.filter(pl.col("reason").is_not_null()).select(
            "row_number", "day_text", "login", "reason").iter_rows()]
    good = simple.filter(pl.col("reason").is_null())
    failures = pl.col("generations") - pl.col("acceptances")
    clamped = int(good.select((failures < 0).sum()).item() or 0)
    rows = [good.select(
        pl.col("row_number"), pl.col("day"), pl.lit(None, pl.Datetime("us")).alias("event_time"), pl.col("user"),
        pl.col("user_norm"), pl.lit(TOOL_GITHUB).alias("tool"), pl.lit(None, pl.String).alias("action"),
        (pl.col("initiated") + pl.col("acceptances")).alias("interactions"), pl.col("acceptances").alias("successes"),
        pl.when(failures < 0).then(0).otherwise(failures).alias("failures"),
        pl.concat_str([pl.lit(TOOL_GITHUB), pl.col("day").dt.to_string("%Y-%m-%d"), pl.col("user_norm")],
                      separator=KEY_SEP).alias("natural_key"),
        pl.lit(None, pl.Date).alias("period_start"), pl.lit(None, pl.Date).alias("period_end"),
        pl.lit(None, pl.String).alias("cadence"),
    ).cast(USAGE_SCHEMA)]
    # the other records, one by one (their line as json_records would give it)
    records = json_fallback_records(parsed, lines)
    if records:
        rest, problems, rest_clamped = _map_records(records, source.dates)
        rows.append(rest)
        quarantine += problems
        clamped += rest_clamped
    return FormatRead(pl.concat(rows).sort("row_number").select(USAGE_COLUMNS), quarantine, lines.height,
                      warnings=_clamp_warning(clamped), personal_columns={"user_login"})


FORMAT = UsageFormat(
    name="github_copilot",
    tool=TOOL_GITHUB,
    description="GitHub Copilot users-1-day (NDJSON/JSON)",
    containers=("json",),
    recognises=is_github_keys,
    read=lambda source: read_github(source),
    priority=20,
)
