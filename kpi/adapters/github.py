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

from kpi.adapters.textio import DateRange, is_missing, normalise_identifier, parse_date, parse_int
from kpi.adapters.usage_common import TOOL_GITHUB, FormatRead, UsageFormat, make_key, qrow, usage_frame

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


def read_github(records: list[tuple[int, Any, str]], dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, warnings and personal columns of users-1-day records (a day
    outside ``dates`` is ``out_of_range``)."""
    rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    clamped = 0
    days: dict[str, tuple] = {}
    for number, obj, raw in records:
        if not isinstance(obj, dict):
            quarantine.append(qrow(number, None, raw, "malformed_row"))
            continue
        day_value = obj.get("day")
        if day_value is None or (isinstance(day_value, str) and is_missing(day_value)):
            quarantine.append(qrow(number, "day", day_value, "missing_required"))
            continue
        if isinstance(day_value, str):
            if day_value not in days:
                days[day_value] = parse_date(day_value)
            day, ok = days[day_value]
        else:
            day, ok = None, False
        if not ok or day is None:
            quarantine.append(qrow(number, "day", day_value, "invalid_date"))
            continue
        if dates is not None and day not in dates:
            quarantine.append(qrow(number, "day", day_value, "out_of_range"))
            continue
        login = obj.get("user_login")
        if isinstance(login, bool) or isinstance(login, (dict, list, float)):
            quarantine.append(qrow(number, "user_login", login, "out_of_range"))
            continue
        login_text = "" if login is None else str(login).strip()
        if is_missing(login_text):
            quarantine.append(qrow(number, "user_login", login, "missing_required"))
            continue
        counts: dict[str, int] = {}
        for key in COUNT_KEYS:
            v, ok = _count(obj, key)
            if not ok:
                quarantine.append(qrow(number, key, obj.get(key), "out_of_range"))
                break
            counts[key] = v or 0
        else:
            features = obj.get("totals_by_feature")
            generations_known = GENERATIONS in obj or (
                isinstance(features, list) and any(isinstance(f, dict) and GENERATIONS in f for f in features)
            )
            acceptances = counts[ACCEPTANCES]
            failures = counts[GENERATIONS] - acceptances if generations_known else 0
            if failures < 0:
                clamped += 1
                failures = 0
            norm = normalise_identifier(login_text)
            rows.append({
                "row_number": number, "day": day, "event_time": None, "user": login_text,
                "user_norm": norm, "tool": TOOL_GITHUB, "action": None,
                "interactions": counts[INTERACTIONS] + acceptances, "successes": acceptances,
                "failures": failures, "natural_key": make_key(TOOL_GITHUB, day, norm),
            })
    warnings = []
    if clamped:
        warnings.append(f"{clamped} record(s) had more acceptances than generations: failures set to 0")
    return FormatRead(usage_frame(rows), quarantine, len(records), warnings=warnings,
                      personal_columns={"user_login"})


FORMAT = UsageFormat(
    name="github_copilot",
    tool=TOOL_GITHUB,
    description="GitHub Copilot users-1-day (NDJSON/JSON)",
    containers=("json",),
    recognises=is_github_keys,
    read=lambda source: read_github(source.records(RECORD_KEYS), source.dates),
    priority=20,
)
