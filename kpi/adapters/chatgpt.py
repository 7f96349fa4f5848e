"""ChatGPT Enterprise user engagement CSV (weekly or monthly cadence; 22 or more columns).

Columns are matched by name; extra columns of newer exports are ignored, so are ``department``
(a JSON array in newer exports), ``is_active`` (empty for pending users) and the rest. One row per
user and period gives at most two activity rows (tool ``chatgpt-enterprise``):

* ``first_day_active_in_period`` and ``last_day_active_in_period``, each when inside
  ``[period_start, period_end]``;
* ``messages`` split half/half, the larger half on the last day (5 -> 2 + 3; 1 -> 0 + 1: the
  first day still proves activity); the same day twice, or only one day inside the period, puts
  all messages on that one day;
* no message (0 or empty) or no active day inside the period: no activity row (the source row
  counts as loaded, inactive).

The cadence is taken from the ``cadence`` column (casefolded) or, when empty, from the period
length (7 days or less: ``weekly``, else ``monthly``) for the later weekly-over-monthly rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kpi.adapters.textio import CsvTable, DateRange, is_missing, normalise_identifier, parse_date, parse_int
from kpi.adapters.usage_common import TOOL_CHATGPT, FormatRead, UsageFormat, make_key, qrow, usage_frame
from kpi.errors import InputError

REQUIRED = (
    "period_start",
    "period_end",
    "email",
    "first_day_active_in_period",
    "last_day_active_in_period",
    "messages",
)


def is_chatgpt_header(header: Sequence[str]) -> bool:
    names = {h.strip().casefold() for h in header}
    return {"period_start", "period_end", "email"} <= names and bool(
        names & {"messages", "first_day_active_in_period", "last_day_active_in_period"}
    )


def read_chatgpt(table: CsvTable, dates: DateRange | None = None) -> FormatRead:
    """Activity rows, quarantine, inactive rows, warnings and personal columns of a user engagement
    CSV (a date outside ``dates`` is ``out_of_range``)."""
    idx = {c: table.column_index(c) for c in (*REQUIRED, "cadence")}
    missing = [c for c in REQUIRED if idx[c] is None]
    if missing:
        raise InputError(
            f"{table.name}: ChatGPT Enterprise export lacks column '{missing[0]}' "
            f"(found: {', '.join(table.header[:30])}); export the user engagement report again"
        )
    header = table.header
    name = {c: header[i] for c, i in idx.items() if i is not None}
    personal = {name["email"]}
    for extra in ("name", "public_id", "account_id"):
        i = table.column_index(extra)
        if i is not None:
            personal.add(header[i])
    records: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]
    inactive: list[int] = []
    dropped_messages = 0
    cols = ["row_number", *[f"c{idx[c]}" for c in (*REQUIRED, "cadence") if idx[c] is not None]]
    keys = [c for c in (*REQUIRED, "cadence") if idx[c] is not None]
    for rec in table.frame.select(cols).iter_rows():
        number, cells = rec[0], dict(zip(keys, rec[1:]))

        def bad(column: str, reason: str, number=number, cells=cells) -> None:
            quarantine.append(qrow(number, name[column], cells.get(column), reason))

        def implausible(column: str, day) -> bool:
            if day is not None and dates is not None and day not in dates:
                bad(column, "out_of_range")
                return True
            return False

        start, ok = parse_date(cells["period_start"])
        if not ok or start is None:
            bad("period_start", "invalid_date" if not ok else "missing_required")
            continue
        if implausible("period_start", start):
            continue
        end, ok = parse_date(cells["period_end"])
        if not ok or end is None:
            bad("period_end", "invalid_date" if not ok else "missing_required")
            continue
        if implausible("period_end", end):
            continue
        if end < start:
            bad("period_end", "out_of_range")
            continue
        messages, ok = parse_int(cells["messages"], table.decimal)
        if not ok or (messages is not None and messages < 0):
            bad("messages", "out_of_range")
            continue
        messages = messages or 0
        first, ok = parse_date(cells["first_day_active_in_period"])
        if not ok:
            bad("first_day_active_in_period", "invalid_date")
            continue
        if implausible("first_day_active_in_period", first):
            continue
        last, ok = parse_date(cells["last_day_active_in_period"])
        if not ok:
            bad("last_day_active_in_period", "invalid_date")
            continue
        if implausible("last_day_active_in_period", last):
            continue
        if first is not None and last is not None and first > last:
            bad("first_day_active_in_period", "out_of_range")
            continue
        first_in = first if first is not None and start <= first <= end else None
        last_in = last if last is not None and start <= last <= end else None
        if messages == 0 or (first_in is None and last_in is None):
            if messages > 0:
                dropped_messages += 1
            inactive.append(number)
            continue
        email = (cells["email"] or "").strip()
        if is_missing(email):
            bad("email", "missing_required")
            continue
        cadence_text = (cells.get("cadence") or "").strip().casefold()
        cadence = cadence_text or ("weekly" if (end - start).days <= 7 else "monthly")
        norm = normalise_identifier(email)
        if first_in is not None and last_in is not None and first_in != last_in:
            parts = [("first", first_in, messages // 2), ("last", last_in, messages - messages // 2)]
        elif last_in is not None:
            parts = [("last", last_in, messages)]
        else:
            parts = [("first", first_in, messages)]
        for slot, day, count in parts:
            records.append({
                "row_number": number, "day": day, "event_time": None, "user": email,
                "user_norm": norm, "tool": TOOL_CHATGPT, "action": None, "interactions": count,
                "successes": 0, "failures": 0,
                "natural_key": make_key(TOOL_CHATGPT, start, end, norm, slot),
                "period_start": start, "period_end": end, "cadence": cadence,
            })
    warnings = []
    if dropped_messages:
        warnings.append(
            f"{dropped_messages} row(s) report messages but no active day inside their period: no activity recorded"
        )
    return FormatRead(usage_frame(records), quarantine, table.rows_read, inactive_row_numbers=inactive,
                      warnings=warnings, personal_columns=personal)


FORMAT = UsageFormat(
    name="chatgpt_enterprise",
    tool=TOOL_CHATGPT,
    description="ChatGPT Enterprise user engagement (CSV)",
    containers=("csv",),
    recognises=is_chatgpt_header,
    read=lambda source: read_chatgpt(source.table(), source.dates),
    priority=10,  # after the Microsoft 365 user detail
)
