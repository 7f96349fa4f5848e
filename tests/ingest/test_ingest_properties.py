"""Property tests of the whole ingest: corrupt random data rows of every input kind; nothing is lost.

For each input kind a small valid file is written (headers exactly as docs/inputs.md and the vendor
exports name them), hypothesis applies a random list of corruptions to its data rows (garbage
dates, wrong types, empty required fields, stray quotes, truncated lines, extra fields, unknown
users, negative numbers, duplicated rows...), and the folder is ingested into a fresh in-memory
DuckDB. Each corruption knows its outcome: the row is loaded, quarantined at ingest with one of
the given reasons, quarantined at the match stage, or (surveys) loaded with one cell quarantined.
The manifest must account for every line written, and the quarantine must name every rejected
row by its row number.

Beside the random plans, one file per kind applies every corruption of its catalogue once (and
checks that no raw identifier reaches the warehouse), and focused tests pin the ChatGPT
weekly-over-monthly rule, concealed Microsoft 365 names and a corrected training row.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.adapters.textio import DateRange
from kpi.config import load_config
from kpi.errors import InputError
from kpi.ingest import InputChecks, ingest_inputs
from kpi.privacy import pseudonymise
from tests.conftest import raw_identifier_hits

KEY = b"property-test-key-0123456789"
NOW = dt.datetime(2025, 4, 2, 8, 0)
PROPS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ITEMS = ("AI tools help me in my daily work", "AI tools make my work harder", "I get the support I need")
CONFIG = f"""\
company:
  name: Property GmbH
  timezone: Europe/Berlin
program:
  start: 2025-01-01
survey:
  items:
    "{ITEMS[0]}": {{construct: satisfaction}}
    "{ITEMS[1]}": {{construct: satisfaction, reverse: true}}
    "{ITEMS[2]}": {{construct: support}}
"""


@cache
def config():
    folder = Path(tempfile.mkdtemp(prefix="kpi-props-config-"))
    (folder / "config.yaml").write_text(CONFIG, encoding="utf-8")
    return load_config(folder / "config.yaml")


def day(offset: int, start: dt.date = dt.date(2025, 1, 2)) -> str:
    return (start + dt.timedelta(days=offset)).isoformat()


# ----------------------------------------------------------------------------------------------
# expected outcomes


@dataclass(frozen=True)
class Expect:
    """What ingest must do with one written line."""

    reasons: frozenset[str] = frozenset()  # empty: loaded, and in no quarantine at all
    stage: str = "ingest"  # the stage of the quarantine row (`match`: loaded at ingest, rejected by matching)
    cell: str | None = None  # surveys: the column of the one quarantined cell; the response is loaded
    active: bool = True  # usage: a loaded row yields activity rows (False: proves no activity)

    @property
    def loaded(self) -> bool:
        """Counted in rows_loaded of the manifest."""
        return not self.reasons or self.stage == "match" or self.cell is not None

    def __repr__(self) -> str:  # short, for hypothesis' falsifying examples
        if not self.reasons:
            return "LOADED" if self.active else "INACTIVE"
        where = f"cell {self.cell!r}" if self.cell else self.stage
        return f"<{'|'.join(sorted(self.reasons))} @{where}>"


LOADED = Expect()
INACTIVE = Expect(active=False)


def rejected(*reasons: str) -> Expect:
    return Expect(frozenset(reasons))


def at_match(reason: str) -> Expect:
    return Expect(frozenset({reason}), stage="match")


def bad_cell(column: str, reason: str) -> Expect:
    return Expect(frozenset({reason}), cell=column)


PARSE_REASONS = frozenset({"invalid_date", "missing_required", "out_of_range", "malformed_row"})
MALFORMED = rejected("malformed_row")
INVALID_DATE = rejected("invalid_date")
MISSING = rejected("missing_required")
OUT_OF_RANGE = rejected("out_of_range")

BAD_DATES = ["2025-02-30", "yesterday", "2025-13-01", "31.12.2025", "20250301", "2025-03-01T25:00:00"]
BAD_MONTHS = ["2025-13", "2025-02-30", "yesterday", "Jan 2025", "2025/01"]
NOT_NUMBERS = ["abc", "--1", "NaN", "12abc"]
DELETE = object()  # JSON: remove the key


# ----------------------------------------------------------------------------------------------
# corruptions


@dataclass
class Line:
    text: str
    expect: Expect
    row: dict[str, Any] | None  # the record written (None when the line was damaged as text)


@dataclass(frozen=True)
class Cell:
    """Set one field to a value."""

    column: str
    value: Any
    expect: Expect

    def apply(self, kind: Kind, row: dict, choice: int) -> list[Line]:
        new = {**row, self.column: self.value}
        return [Line(kind.render(new), self.expect, new)]

    def __repr__(self) -> str:
        value = "DELETE" if self.value is DELETE else repr(self.value)
        return f"Cell({self.column}={value} -> {self.expect!r})"


@dataclass(frozen=True)
class Text:
    """Damage the rendered line as text."""

    name: str
    damage: Callable[[str, int], str]
    expect: Expect

    def apply(self, kind: Kind, row: dict, choice: int) -> list[Line]:
        # a damage that leaves the line valid (extra empty fields) keeps its record
        return [Line(self.damage(kind.render(row), choice), self.expect, row if self.expect.loaded else None)]

    def __repr__(self) -> str:
        return f"Text({self.name} -> {self.expect!r})"


@dataclass(frozen=True)
class Duplicate:
    """The intact row followed by an identical copy."""

    expect: Expect

    def apply(self, kind: Kind, row: dict, choice: int) -> list[Line]:
        text = kind.render(row)
        return [Line(text, LOADED, row), Line(text, self.expect, row)]

    def after(self, line: Line) -> Line:
        """The copy of a line a cell corruption produced: a row that failed to parse fails again for
        the same reason, a row proving no activity is loaded again (it has no natural key);
        otherwise (also an HR file's unknown employee: the repeated key is seen first) the copy is
        what a copy of a valid row is."""
        first = line.expect
        if (first.reasons <= PARSE_REASONS and first.reasons and first.cell is None) or not first.active:
            return Line(line.text, first, line.row)
        return Line(line.text, self.expect, line.row)

    def __repr__(self) -> str:
        return f"Duplicate(copy -> {self.expect!r})"


def stray_quote(text: str, choice: int) -> str:
    """Insert one quote before a character that is not a delimiter (mid-field or opening a
    non-empty field). A quote never followed by a delimiter or the line end cannot close a quoted
    field, so any number of these lines stay malformed one by one: none swallows the next lines."""
    positions = [p for p, c in enumerate(text) if c != ","]
    pos = positions[choice % len(positions)]
    return text[:pos] + '"' + text[pos:]


def truncate_csv(text: str, choice: int) -> str:
    """Cut the line at one of its delimiters: fewer fields, never blank (first fields are not empty)."""
    cuts = [m.start() for m in re.finditer(",", text)]
    return text[: cuts[choice % len(cuts)]]


def truncate_json(text: str, choice: int) -> str:
    return text[: 3 + choice % (len(text) - 3)]  # a strict prefix of an object is never valid JSON


CSV_LINE_DAMAGE = [
    Text("stray_quote", stray_quote, MALFORMED),
    Text("truncated", truncate_csv, MALFORMED),
    Text("extra_field", lambda t, c: t + ",surplus", MALFORMED),
    Text("extra_empty_fields", lambda t, c: t + ",,", LOADED),  # empty trailing fields are dropped
]
JSON_LINE_DAMAGE = [
    Text("stray_quote", stray_quote, MALFORMED),
    Text("truncated", truncate_json, MALFORMED),
    Text("trailing_garbage", lambda t, c: t + " x", MALFORMED),
    Text("trailing_comma", lambda t, c: t + ",", LOADED),  # as in a JSON array's lines
]


def cells(column: str, values: list[Any], expect: Expect) -> list[Cell]:
    return [Cell(column, v, expect) for v in values]


# ----------------------------------------------------------------------------------------------
# the input kinds


@dataclass
class Kind:
    rel: str
    header: list[str] | None  # None: NDJSON
    make_row: Callable[[int], dict]
    corruptions: list
    staging: str | None = None  # state files: the staging table holding exactly the loaded rows

    def render(self, row: dict) -> str:
        if self.header is None:
            return json.dumps({k: v for k, v in row.items() if v is not DELETE})
        return ",".join(str(row[c]) for c in self.header)

    def text(self, lines: list[Line], trailing_blank: int) -> str:
        head = [] if self.header is None else [",".join(self.header)]
        return "\n".join(head + [line.text for line in lines]) + "\n" + "\n" * trailing_blank


# -- hr/employees.csv

EMPLOYEE_HEADER = ["employee_id", "email", "github_login", "department", "target_group", "hire_date", "exit_date",
                   "fte", "hourly_cost_eur"]


def employee_row(i: int) -> dict:
    return {
        "employee_id": f"E{i + 1:03d}",
        "email": f"user{i + 1}@acme.example",
        "github_login": f"gh-user{i + 1}",
        "department": ["Sales", "Engineering", "Finance"][i % 3],
        "target_group": ["executive", "manager", "champion", "user"][i % 4],
        "hire_date": day(37 * i, dt.date(2019, 1, 1)),
        "exit_date": "",
        "fte": ["1", "0.5", "0.8"][i % 3],
        "hourly_cost_eur": ["", "65.5", "80"][i % 3],
    }


EMPLOYEES = Kind("hr/employees.csv", EMPLOYEE_HEADER, employee_row, [
    *cells("employee_id", [""], MISSING),
    *cells("hire_date", BAD_DATES, INVALID_DATE),
    *cells("hire_date", [""], MISSING),
    *cells("department", [""], MISSING),
    *cells("target_group", ["boss", "42"], OUT_OF_RANGE),
    *cells("target_group", ["", ], MISSING),
    *cells("target_group", [" Champion "], LOADED),
    *cells("exit_date", BAD_DATES, INVALID_DATE),  # an unreadable exit date is not blanked
    *cells("exit_date", ["2018-12-31"], OUT_OF_RANGE),  # before the hire date
    *cells("exit_date", ["2026-06-30"], LOADED),
    *cells("fte", ["1.5", "0", "-1", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("fte", [""], LOADED),
    *cells("hourly_cost_eur", ["-5", "0", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("hourly_cost_eur", ["", "€ 70"], LOADED),
    *cells("email", [""], LOADED),
    *cells("github_login", [""], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
], staging="staging.employees")

# -- hr/trainings.csv

TRAINING_HEADER = ["employee_id", "course_id", "format", "started_on", "completed_on", "status", "hours"]


def training_row(i: int) -> dict:
    completed = i % 3 != 2
    return {
        "employee_id": f"E{1 + i % 6:03d}",
        "course_id": f"C{i}",
        "format": ["basics_workshop", "prompt_masterclass", "elearning", "hackathon"][i % 4],
        "started_on": day(8 + i),
        "completed_on": day(9 + i) if completed else "",
        "status": "completed" if completed else "enrolled",
        "hours": ["4", "1.5", "16"][i % 3],
    }


TRAININGS = Kind("hr/trainings.csv", TRAINING_HEADER, training_row, [
    *cells("employee_id", ["E999", "nobody@acme.example"], rejected("unknown_user")),
    *cells("employee_id", [""], MISSING),
    *cells("course_id", [""], MISSING),
    *cells("format", ["seminar", "7"], OUT_OF_RANGE),
    *cells("format", ["Basics Workshop"], LOADED),
    *cells("started_on", BAD_DATES, INVALID_DATE),
    *cells("started_on", [""], MISSING),
    *cells("completed_on", BAD_DATES, INVALID_DATE),
    *cells("completed_on", ["2024-01-01"], OUT_OF_RANGE),  # before it started
    *cells("completed_on", [""], LOADED),
    *cells("status", ["finished"], OUT_OF_RANGE),
    *cells("hours", ["-2", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("hours", [""], MISSING),
    *cells("hours", ["0"], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
], staging="staging.trainings")

# -- hr/assessments.csv

ASSESSMENT_HEADER = ["employee_id", "assessed_on", "instrument", "score", "max_score"]


def assessment_row(i: int) -> dict:
    return {
        "employee_id": f"E{1 + i % 6:03d}",
        "assessed_on": day(30 + i),
        "instrument": ["ai_literacy", "prompt_quality"][i % 2],
        "score": str(30 + i % 70),  # <= max_score
        "max_score": "100",
    }


ASSESSMENTS = Kind("hr/assessments.csv", ASSESSMENT_HEADER, assessment_row, [
    *cells("employee_id", ["E999"], rejected("unknown_user")),
    *cells("employee_id", [""], MISSING),
    *cells("assessed_on", BAD_DATES, INVALID_DATE),
    *cells("assessed_on", [""], MISSING),
    *cells("instrument", [""], MISSING),
    *cells("instrument", ["custom_quiz"], LOADED),
    *cells("score", ["-1", "150", *NOT_NUMBERS], OUT_OF_RANGE),  # 150 > max_score
    *cells("score", [""], MISSING),
    *cells("score", ["0", "100"], LOADED),
    *cells("max_score", ["0", "-10", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("max_score", [""], MISSING),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
], staging="staging.assessments")

# -- finance/costs.csv

COST_HEADER = ["booked_on", "category", "amount_eur", "description", "department"]


def cost_row(i: int) -> dict:
    return {
        "booked_on": day(3 * i),
        "category": ["external_training", "internal_time", "licenses", "materials", "other"][i % 5],
        "amount_eur": f"{100 + 25 * i}.50",
        "description": f"booking {i}",
        "department": ["Sales", ""][i % 2],
    }


COSTS = Kind("finance/costs.csv", COST_HEADER, cost_row, [
    *cells("booked_on", BAD_DATES, INVALID_DATE),
    *cells("booked_on", [""], MISSING),
    *cells("category", ["travel", "1"], OUT_OF_RANGE),
    *cells("category", [""], MISSING),
    *cells("amount_eur", NOT_NUMBERS, OUT_OF_RANGE),
    *cells("amount_eur", [""], MISSING),
    *cells("amount_eur", ["-200", "-0.5", "0"], LOADED),  # negative = credit note
    *cells("description", [""], LOADED),
    *cells("department", ["", "Engineering"], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(LOADED),  # ledger lines have no key: identical lines are separate bookings
], staging="staging.costs")

# -- business/process_metrics.csv

PROCESS_HEADER = ["month", "process", "department", "cases", "handling_minutes", "errors", "csat"]


def process_row(i: int) -> dict:
    return {
        "month": f"2024-{1 + i % 12:02d}",
        "process": ["quote_preparation", "tender_documents", "maintenance_docs"][i % 3],
        "department": ["Sales", "Engineering"][i % 2],
        "cases": str(10 + i),
        "handling_minutes": f"{600 + 7 * i}.5",
        "errors": str(i % 3),
        "csat": ["4.2", ""][i % 2],
    }


PROCESS = Kind("business/process_metrics.csv", PROCESS_HEADER, process_row, [
    *cells("month", BAD_MONTHS, INVALID_DATE),
    *cells("month", [""], MISSING),
    *cells("month", ["2025-02-14"], LOADED),  # an ISO date is taken as its month
    *cells("process", [""], MISSING),
    *cells("department", [""], MISSING),
    *cells("cases", ["-1", "1.5", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("cases", [""], MISSING),
    *cells("cases", ["0"], LOADED),
    *cells("handling_minutes", ["-3", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("handling_minutes", [""], MISSING),
    *cells("errors", ["-2", "0.5", "abc"], OUT_OF_RANGE),
    *cells("errors", [""], LOADED),
    *cells("csat", NOT_NUMBERS, OUT_OF_RANGE),  # optional, but unreadable: not blanked
    *cells("csat", ["", "-1"], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(LOADED),  # process rows have no key
], staging="staging.process_metrics")

# -- business/use_cases.csv

USE_CASE_HEADER = ["use_case_id", "title", "department", "submitted_on", "status", "self_developed",
                   "est_hours_saved_per_month"]


def use_case_row(i: int) -> dict:
    return {
        "use_case_id": f"UC{i + 1}",
        "title": f"Use case {i + 1}",
        "department": ["Sales", "Engineering", "Finance"][i % 3],
        "submitted_on": day(5 * i),
        "status": ["idea", "pilot", "production", "retired"][i % 4],
        "self_developed": ["true", "false"][i % 2],
        "est_hours_saved_per_month": ["12.5", ""][i % 2],
    }


USE_CASES = Kind("business/use_cases.csv", USE_CASE_HEADER, use_case_row, [
    *cells("use_case_id", [""], MISSING),
    *cells("title", [""], LOADED),
    *cells("department", [""], MISSING),
    *cells("submitted_on", BAD_DATES, INVALID_DATE),
    *cells("submitted_on", [""], MISSING),
    *cells("status", ["launched"], OUT_OF_RANGE),
    *cells("status", [""], MISSING),
    *cells("self_developed", ["maybe", "2"], OUT_OF_RANGE),
    *cells("self_developed", [""], MISSING),
    *cells("self_developed", ["Yes", "0"], LOADED),
    *cells("est_hours_saved_per_month", ["-5", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("est_hours_saved_per_month", ["", "0"], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
], staging="staging.use_cases")

# -- usage: canonical pre-aggregated CSV

USAGE_HEADER = ["event_time", "user", "tool", "action", "interactions", "successes", "failures"]
UNKNOWN_EMAIL = "ghost@nowhere.example"


def usage_row(i: int) -> dict:
    n = 1 + i % 6
    return {
        "event_time": day(i),
        "user": [f"E{n:03d}", f"USER{n}@Acme.Example", f"gh-user{n}"][i % 3],  # any identifier, any case
        "tool": "chat-gateway",
        "action": ["chat", "draft"][i % 2],
        "interactions": str(3 + i),
        "successes": "2",
        "failures": "1",
    }


USAGE = Kind("usage/gateway.csv", USAGE_HEADER, usage_row, [
    *cells("event_time", BAD_DATES, INVALID_DATE),
    *cells("event_time", [""], MISSING),
    *cells("event_time", ["2025-02-10T10:00:00Z", "2025-02-11 09:30"], LOADED),
    *cells("user", [""], MISSING),
    *cells("user", [UNKNOWN_EMAIL, "E999"], at_match("unknown_user")),
    *cells("tool", [""], MISSING),
    *cells("action", [""], LOADED),
    *cells("interactions", ["-3", "1.5", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("interactions", [""], LOADED),  # default 1
    *cells("successes", ["-1", "abc"], OUT_OF_RANGE),
    *cells("failures", ["-1", "x"], OUT_OF_RANGE),
    *cells("failures", [""], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
])

# -- usage: GitHub Copilot users-1-day NDJSON

GH_COUNTS = ["user_initiated_interaction_count", "code_generation_activity_count", "code_acceptance_activity_count"]


def github_row(i: int) -> dict:
    return {
        "day": day(i),
        "user_login": f"gh-user{1 + i % 6}",
        "enterprise_id": "4711",
        "user_initiated_interaction_count": 5 + i,
        "code_generation_activity_count": 10,
        "code_acceptance_activity_count": 4,
        "loc_added_sum": 30 + i,
        "used_chat": i % 2 == 0,
        "used_agent": False,
        "totals_by_ide": [{"ide": "vscode", "user_initiated_interaction_count": 5 + i}],
        "totals_by_feature": [{"feature": "code_completion", "code_generation_activity_count": 10,
                               "code_acceptance_activity_count": 4}],
    }


GITHUB = Kind("usage/copilot-users-1-day.ndjson", None, github_row, [
    *cells("day", BAD_DATES + [20250301], INVALID_DATE),
    *cells("day", ["", None, DELETE], MISSING),
    *cells("user_login", ["", None], MISSING),
    *cells("user_login", [True, 3.5, ["gh-user1"]], OUT_OF_RANGE),
    *cells("user_login", ["ghost-login"], at_match("unknown_user")),
    *[c for name in GH_COUNTS for c in cells(name, ["abc", -3, 1.5, [1], {"n": 1}], OUT_OF_RANGE)],
    *[c for name in GH_COUNTS for c in cells(name, [None, "7", DELETE], LOADED)],
    *cells("used_chat", ["maybe"], LOADED),
    *cells("totals_by_ide", [DELETE], LOADED),
    *cells("extra_field", [{"new": "field"}], LOADED),  # newer exports add fields
    *JSON_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
])

# -- usage: Microsoft 365 Copilot usage, user detail

M365_HEADER = [
    "Report Refresh Date", "User Principal Name", "Display Name", "Last Activity Date",
    "Copilot Chat Last Activity Date", "Microsoft Teams Copilot Last Activity Date",
    "Word Copilot Last Activity Date", "Excel Copilot Last Activity Date",
    "PowerPoint Copilot Last Activity Date", "Outlook Copilot Last Activity Date",
    "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date", "Report Period",
]
WORD, TEAMS = "Word Copilot Last Activity Date", "Microsoft Teams Copilot Last Activity Date"
CONCEALED = "5A1B2C3D4E5F60718293A4B5C6D7E8F9"


def m365_row(i: int) -> dict:
    active = day(i)
    row = {h: "" for h in M365_HEADER}
    row.update({
        "Report Refresh Date": "2025-03-31",
        "User Principal Name": f"user{1 + i % 6}@acme.example",
        "Display Name": f"User {1 + i % 6}",
        "Last Activity Date": active,
        WORD: active,
        TEAMS: active,
        "Report Period": "90",
    })
    return row


M365 = Kind("usage/m365-copilot-user-detail.csv", M365_HEADER, m365_row, [
    *cells("Report Refresh Date", BAD_DATES, INVALID_DATE),
    *cells("Report Refresh Date", [""], MISSING),
    *cells("User Principal Name", [""], MISSING),
    *cells("User Principal Name", [UNKNOWN_EMAIL], at_match("unknown_user")),
    *cells("User Principal Name", [CONCEALED, CONCEALED.lower()], at_match("concealed_identity")),
    *cells("Display Name", [""], LOADED),
    *cells(WORD, BAD_DATES, INVALID_DATE),
    *cells(WORD, ["", "2024-06-01"], LOADED),  # Teams still proves the day
    *cells("Excel Copilot Last Activity Date", ["2025-02-30"], INVALID_DATE),
    *cells("Excel Copilot Last Activity Date", ["2025-03-03"], LOADED),
    *cells("Last Activity Date", ["yesterday"], INVALID_DATE),
    *cells("Last Activity Date", [""], LOADED),
    *cells("Report Period", ["abc", "0", "-7"], OUT_OF_RANGE),
    *cells("Report Period", ["", "D90"], LOADED),  # no period: every date counts
    *cells("Report Period", ["7"], INACTIVE),  # the dates fall before the 7-day window: no activity
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
])

# -- usage: ChatGPT Enterprise user engagement CSV

CHATGPT_HEADER = [
    "cadence", "period_start", "period_end", "account_id", "public_id", "name", "email", "user_role", "role",
    "department", "user_status", "created_or_invited_date", "is_active", "first_day_active_in_period",
    "last_day_active_in_period", "messages", "messages_rank", "gpt_messages", "gpts_messaged", "tool_messages",
    "tools_messaged", "last_day_active",
]


def chatgpt_row(i: int) -> dict:
    start = dt.date(2025, 1, 6) + dt.timedelta(weeks=i)
    return {
        "cadence": "weekly",
        "period_start": start.isoformat(),
        "period_end": day(6, start),
        "account_id": "acct-4711",
        "public_id": f"user-{i}",
        "name": f"User {1 + i % 6}",
        "email": f"user{1 + i % 6}@acme.example",
        "user_role": "standard-user",
        "role": "member",
        "department": "Sales",
        "user_status": "enabled",
        "created_or_invited_date": "2024-11-01",
        "is_active": "true",
        "first_day_active_in_period": day(1, start),
        "last_day_active_in_period": day(4, start),
        "messages": str(10 + i),
        "messages_rank": str(i + 1),
        "gpt_messages": "0",
        "gpts_messaged": "0",
        "tool_messages": "1",
        "tools_messaged": "1",
        "last_day_active": day(4, start),
    }


CHATGPT = Kind("usage/chatgpt-user-engagement.csv", CHATGPT_HEADER, chatgpt_row, [
    *cells("period_start", BAD_DATES, INVALID_DATE),
    *cells("period_start", [""], MISSING),
    *cells("period_end", BAD_DATES, INVALID_DATE),
    *cells("period_end", [""], MISSING),
    *cells("period_end", ["2024-12-31"], OUT_OF_RANGE),  # before period_start
    *cells("messages", ["-3", "1.5", *NOT_NUMBERS], OUT_OF_RANGE),
    *cells("messages", ["", "0"], INACTIVE),  # no message: loaded, no activity
    *cells("first_day_active_in_period", BAD_DATES, INVALID_DATE),
    *cells("first_day_active_in_period", ["", "2024-01-01"], LOADED),  # the last day still proves activity
    *cells("last_day_active_in_period", BAD_DATES, INVALID_DATE),
    *cells("email", [""], MISSING),
    *cells("email", [UNKNOWN_EMAIL], at_match("unknown_user")),
    *cells("name", [""], LOADED),
    *cells("cadence", [""], LOADED),  # taken from the period length
    *cells("is_active", [""], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
])

# -- surveys

SURVEY_HEADER = ["response_id", "submitted_at", "department", "target_group", *ITEMS, "Comments"]
POINTS = {"Agree": 4, "Disagree": 2, "4": 4, "Strongly agree.": 5, "neutral": 3, "1": 1}


def survey_row(i: int) -> dict:
    return {
        "response_id": f"r{i + 1}",
        "submitted_at": f"2025-03-{10 + i % 15:02d}T10:{i % 60:02d}:00",
        "department": ["Sales", "Engineering"][i % 2],
        "target_group": "user",
        ITEMS[0]: "Agree",
        ITEMS[1]: "Disagree",
        ITEMS[2]: "4",
        "Comments": f"comment {i}",
    }


SURVEY = Kind("surveys/pulse-2025-Q1.csv", SURVEY_HEADER, survey_row, [
    *cells("response_id", [""], MISSING),
    *cells("submitted_at", BAD_DATES, INVALID_DATE),
    *cells("submitted_at", [""], MISSING),
    *cells("submitted_at", ["2025-03-20", "2025-03-20T09:00:00+01:00"], LOADED),
    *cells("department", [""], LOADED),
    *[c for item in ITEMS for c in cells(item, ["Maybe", "Agree strongly"], bad_cell(item, "unmapped_label"))],
    *[c for item in ITEMS for c in cells(item, ["7", "0", "-1"], bad_cell(item, "out_of_range"))],
    *[c for item in ITEMS for c in cells(item, ["", "Strongly agree.", "neutral", "1"], LOADED)],
    *cells("Comments", ["", "contact me: someone@acme.example"], LOADED),
    *CSV_LINE_DAMAGE,
    Duplicate(rejected("duplicate")),
])

IDENTIFIERS = {
    *(f"E{n:03d}" for n in range(1, 100)), *(f"user{n}@acme.example" for n in range(1, 100)),
    *(f"gh-user{n}" for n in range(1, 100)), "E999", "nobody@acme.example", UNKNOWN_EMAIL, "ghost-login",
    CONCEALED, "someone@acme.example",
}

KINDS = {k.rel: k for k in (EMPLOYEES, TRAININGS, ASSESSMENTS, COSTS, PROCESS, USE_CASES, USAGE, GITHUB, M365,
                            CHATGPT, SURVEY)}


# ----------------------------------------------------------------------------------------------
# the base folder and the run


def base_files() -> dict[str, str]:
    """The required state files, valid: six employees hired long ago, two trainings, two bookings."""
    def csv(kind: Kind, n: int) -> str:
        return kind.text([Line(kind.render(kind.make_row(i)), LOADED, None) for i in range(n)], 0)

    return {
        EMPLOYEES.rel: csv(EMPLOYEES, 6),
        TRAININGS.rel: csv(TRAININGS, 2),
        COSTS.rel: csv(COSTS, 2),
    }


def build_lines(kind: Kind, n: int, plan: list[tuple[int, Any, int]]) -> list[Line]:
    """The data lines: row i gets the first corruption the plan gives it, and when that changed
    one cell, possibly a copy too (the first Duplicate planned for it)."""
    chosen: dict[int, tuple[Any, int]] = {}
    copied: dict[int, Duplicate] = {}
    for which, corruption, choice in plan:
        i = which % n
        if i not in chosen:
            chosen[i] = (corruption, choice)
        elif isinstance(chosen[i][0], Cell) and isinstance(corruption, Duplicate):
            copied.setdefault(i, corruption)
    lines: list[Line] = []
    for i in range(n):
        row = kind.make_row(i)
        if i in chosen:
            corruption, choice = chosen[i]
            lines.extend(corruption.apply(kind, row, choice))
            if i in copied:
                lines.append(copied[i].after(lines[-1]))
        else:
            lines.append(Line(kind.render(row), LOADED, row))
    return lines


def plan_strategy(kind: Kind):
    return st.fixed_dictionaries({
        "n": st.integers(1, 8),
        "plan": st.lists(st.tuples(st.integers(0, 7), st.sampled_from(kind.corruptions), st.integers(0, 10_000)),
                         max_size=10),
        "trailing_blank": st.integers(0, 2),
        "crlf": st.booleans(),
        "bom": st.booleans(),
    })


def write_inputs(root: Path, kind: Kind, lines: list[Line], trailing_blank: int, crlf: bool = False,
                 bom: bool = False) -> None:
    files = base_files()
    target = kind.text(lines, trailing_blank)
    files[kind.rel] = ("\ufeff" if bom else "") + (target.replace("\n", "\r\n") if crlf else target)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def github_format_lost(lines: list[Line]) -> bool:
    """Every record lost the keys that identify the GitHub format: a whole-file problem."""
    text = "\n".join(line.text for line in lines)
    return not (re.search(r'"user_login"\s*:', text)
                and re.search(r'"(day|code_\w+_count|user_initiated_\w+)"\s*:', text))


def run_kind(kind: Kind, example: dict, tmp_path: Path, privacy: bool = False) -> None:
    lines = build_lines(kind, example["n"], example["plan"])
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    write_inputs(root, kind, lines, example["trailing_blank"], example.get("crlf", False), example.get("bom", False))
    con = duckdb.connect()
    try:
        if kind is GITHUB and github_format_lost(lines):
            with pytest.raises(InputError, match="unrecognised usage format"):
                ingest_inputs(con, root, config(), KEY, now=NOW)
            return
        # every row is accounted for whatever the whole-file gates decide (collected, not raised:
        # a plan may corrupt most rows of a small file), and the rows are dated up to years after
        # NOW (tests/ingest/test_input_safety.py tests the gates and the plausible dates)
        checks = InputChecks(dates=DateRange(dt.date(1950, 1, 1), dt.date(2099, 12, 31)),
                             stop_on_fatal=False, echo=False)
        ingest_inputs(con, root, config(), KEY, now=NOW, checks=checks)
        check_accounting(con, kind, lines)
        if kind.staging:
            assert con.sql(f"SELECT count(*) FROM {kind.staging}").fetchall() == [
                (sum(line.expect.loaded for line in lines),)]
        if kind.rel.startswith("usage/"):
            check_usage_rows(con, kind, lines)
        if kind is SURVEY:
            check_survey_answers(con, lines)
        if privacy:  # not even in a quarantined value (costly: checked on the catalogue files)
            assert raw_identifier_hits(con, IDENTIFIERS) == []
    finally:
        con.close()


def check_accounting(con, kind: Kind, lines: list[Line]) -> None:
    for file, read, loaded, quarantined in con.sql(
        "SELECT file, rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest WHERE NOT superseded"
    ).fetchall():
        assert read == loaded + quarantined, file
    manifest = con.sql(
        "SELECT rows_read, rows_loaded, rows_quarantined, cells_quarantined FROM audit.ingest_manifest "
        "WHERE file = ? AND NOT superseded", params=[kind.rel]).fetchall()
    assert len(manifest) == 1
    rows_read, rows_loaded, rows_quarantined, cells_quarantined = manifest[0]
    assert rows_read == len(lines)
    assert rows_loaded == sum(line.expect.loaded for line in lines)
    assert rows_quarantined == sum(not line.expect.loaded for line in lines)
    assert cells_quarantined == sum(line.expect.cell is not None for line in lines)

    found: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for number, column, reason, stage in con.sql(
        'SELECT row_number, "column", reason, stage FROM audit.quarantine WHERE file = ?', params=[kind.rel]
    ).fetchall():
        found[number].append((column, reason, stage))
    assert set(found) <= set(range(1, len(lines) + 1)), sorted(found)
    for number, line in enumerate(lines, start=1):
        entries, expect = found.get(number, []), line.expect
        context = (number, line.text, expect, entries)
        if not expect.reasons:
            assert entries == [], context
            continue
        assert len(entries) == 1, context
        column, reason, stage = entries[0]
        assert reason in expect.reasons and stage == expect.stage, context
        if expect.cell is not None:
            assert column == expect.cell, context


def check_usage_rows(con, kind: Kind, lines: list[Line]) -> None:
    """Rows loaded at ingest (also those the match stage rejects) are staged, unless they prove no
    activity; only matched ones count."""
    staged = {r[0] for r in con.sql("SELECT DISTINCT row_number FROM staging.usage_activity WHERE file = ?",
                                    params=[kind.rel]).fetchall()}
    assert staged == {n for n, line in enumerate(lines, 1) if line.expect.loaded and line.expect.active}
    matched = {r[0] for r in con.sql("SELECT DISTINCT row_number FROM temp.usage_match "
                                     "WHERE file = ? AND match_problem IS NULL", params=[kind.rel]).fetchall()}
    assert matched == {n for n, line in enumerate(lines, 1) if not line.expect.reasons and line.expect.active}


def check_survey_answers(con, lines: list[Line]) -> None:
    """A response with an invalid cell is loaded with its other answers; quarantined rows leave nothing."""
    expected: dict[str, set[tuple[str, int]]] = {}
    for line in lines:
        if line.expect.loaded:
            row = line.row
            assert row is not None
            answers = {(item, POINTS[row[item]]) for item in ITEMS if row[item] in POINTS}
            expected[row["response_id"]] = answers
    responses = {r[0] for r in con.sql("SELECT response_id FROM staging.survey_responses").fetchall()}
    assert responses == set(expected)
    stored: dict[str, set[tuple[str, int]]] = {rid: set() for rid in responses}
    for rid, item, points in con.sql(
        "SELECT response_id, item, answer_points FROM staging.survey_answers").fetchall():
        stored[rid].add((item, points))
    assert stored == expected


# ----------------------------------------------------------------------------------------------
# one property per input kind


@PROPS
@given(example=plan_strategy(EMPLOYEES))
def test_corrupted_employees_lose_nothing(tmp_path, example):
    run_kind(EMPLOYEES, example, tmp_path)


@PROPS
@given(example=plan_strategy(TRAININGS))
def test_corrupted_trainings_lose_nothing(tmp_path, example):
    run_kind(TRAININGS, example, tmp_path)


@PROPS
@given(example=plan_strategy(ASSESSMENTS))
def test_corrupted_assessments_lose_nothing(tmp_path, example):
    run_kind(ASSESSMENTS, example, tmp_path)


@PROPS
@given(example=plan_strategy(COSTS))
def test_corrupted_costs_lose_nothing(tmp_path, example):
    run_kind(COSTS, example, tmp_path)


@PROPS
@given(example=plan_strategy(PROCESS))
def test_corrupted_process_metrics_lose_nothing(tmp_path, example):
    run_kind(PROCESS, example, tmp_path)


@PROPS
@given(example=plan_strategy(USE_CASES))
def test_corrupted_use_cases_lose_nothing(tmp_path, example):
    run_kind(USE_CASES, example, tmp_path)


@PROPS
@given(example=plan_strategy(USAGE))
def test_corrupted_canonical_usage_loses_nothing(tmp_path, example):
    run_kind(USAGE, example, tmp_path)


@PROPS
@given(example=plan_strategy(GITHUB))
def test_corrupted_github_copilot_ndjson_loses_nothing(tmp_path, example):
    run_kind(GITHUB, example, tmp_path)


@PROPS
@given(example=plan_strategy(M365))
def test_corrupted_m365_copilot_user_detail_loses_nothing(tmp_path, example):
    run_kind(M365, example, tmp_path)


@PROPS
@given(example=plan_strategy(CHATGPT))
def test_corrupted_chatgpt_enterprise_loses_nothing(tmp_path, example):
    run_kind(CHATGPT, example, tmp_path)


@PROPS
@given(example=plan_strategy(SURVEY))
def test_corrupted_survey_keeps_responses_and_valid_answers(tmp_path, example):
    run_kind(SURVEY, example, tmp_path)


@pytest.mark.parametrize("rel", list(KINDS))
def test_every_corruption_of_the_catalogue_once(tmp_path, rel):
    """Not left to chance: one file per kind where row i gets corruption i of the catalogue."""
    kind = KINDS[rel]
    plan = [(i, corruption, 7919 * i) for i, corruption in enumerate(kind.corruptions)]
    duplicate = next(c for c in kind.corruptions if isinstance(c, Duplicate))
    plan += [(i, duplicate, 0) for i, c in enumerate(kind.corruptions) if isinstance(c, Cell)]  # and its copy
    run_kind(kind, {"n": len(plan), "plan": plan, "trailing_blank": 1}, tmp_path, privacy=True)


# ----------------------------------------------------------------------------------------------
# focused rules of the match stage


def write_with_base(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {**base_files(), **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def chatgpt_csv(rows: list[dict]) -> str:
    return CHATGPT.text([Line(CHATGPT.render({**chatgpt_row(0), **r}), LOADED, None) for r in rows], 0)


def test_chatgpt_weekly_rows_win_over_a_monthly_export_of_the_same_days(tmp_path):
    user1, user2 = "user1@acme.example", "user2@acme.example"
    weekly = chatgpt_csv([
        {"cadence": "weekly", "period_start": "2025-03-03", "period_end": "2025-03-09", "email": user1,
         "first_day_active_in_period": "2025-03-04", "last_day_active_in_period": "2025-03-06", "messages": "10"},
    ])
    monthly = chatgpt_csv([
        # user1 in March: covered by the weekly file -> overlapping_period
        {"cadence": "monthly", "period_start": "2025-03-01", "period_end": "2025-03-31", "email": user1,
         "first_day_active_in_period": "2025-03-04", "last_day_active_in_period": "2025-03-20", "messages": "40"},
        # user2 has no weekly rows: the monthly row counts
        {"cadence": "monthly", "period_start": "2025-03-01", "period_end": "2025-03-31", "email": user2,
         "first_day_active_in_period": "2025-03-10", "last_day_active_in_period": "2025-03-10", "messages": "7"},
        # user1 in February: no weekly file covers it -> counts (3 messages: 1 + 2)
        {"cadence": "monthly", "period_start": "2025-02-01", "period_end": "2025-02-28", "email": user1,
         "first_day_active_in_period": "2025-02-10", "last_day_active_in_period": "2025-02-12", "messages": "3"},
    ])
    root = write_with_base(tmp_path / "inputs", {"usage/chatgpt-weekly.csv": weekly,
                                                 "usage/chatgpt-monthly.csv": monthly})
    con = duckdb.connect()
    result = ingest_inputs(con, root, config(), KEY, now=NOW)
    assert result.match_quarantine == {"overlapping_period": 1}
    assert con.sql('SELECT file, row_number, "column", value, reason, stage FROM audit.quarantine').fetchall() == [
        ("usage/chatgpt-monthly.csv", 1, "user", pseudonymise(user1, KEY), "overlapping_period", "match")]
    # the monthly file's rows were all loaded at ingest: matching is a later, per-run decision
    assert con.sql("SELECT file, rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest "
                   "WHERE file LIKE 'usage/%' ORDER BY file").fetchall() == [
        ("usage/chatgpt-monthly.csv", 3, 3, 0), ("usage/chatgpt-weekly.csv", 1, 1, 0)]
    e1, e2 = pseudonymise("E001", KEY), pseudonymise("E002", KEY)
    assert con.sql("SELECT employee_key, day, interactions FROM intermediate.usage_activity "
                   "WHERE tool = 'chatgpt-enterprise' ORDER BY day").fetchall() == [
        (e1, dt.date(2025, 2, 10), 1),
        (e1, dt.date(2025, 2, 12), 2),
        (e1, dt.date(2025, 3, 4), 5),  # weekly: 10 messages, half on each active day
        (e1, dt.date(2025, 3, 6), 5),
        (e2, dt.date(2025, 3, 10), 7),
    ]
    con.close()


def test_m365_concealed_names_are_quarantined_at_the_match_stage(tmp_path):
    concealed = "0123456789ABCDEF0123456789abcdef"  # 32 hex digits: the admin center's concealed names
    hidden = {**m365_row(0), "User Principal Name": concealed, "Display Name": "D41D8CD98F00B204E9800998ECF8427E"}
    text = M365.text([
        Line(M365.render(hidden), LOADED, None),
        Line(M365.render(m365_row(1)), LOADED, None),  # user2@acme.example on 2025-01-03 (Word and Teams)
    ], 0)
    root = write_with_base(tmp_path / "inputs", {M365.rel: text})
    con = duckdb.connect()
    result = ingest_inputs(con, root, config(), KEY, now=NOW)
    assert result.match_quarantine == {"concealed_identity": 1}
    assert con.sql('SELECT file, row_number, "column", value, reason, stage FROM audit.quarantine').fetchall() == [
        (M365.rel, 1, "user", pseudonymise(concealed.lower(), KEY), "concealed_identity", "match")]
    assert con.sql("SELECT rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest WHERE file = ?",
                   params=[M365.rel]).fetchall() == [(2, 2, 0)]
    assert con.sql("SELECT employee_key, day, action, interactions FROM intermediate.usage_activity "
                   "ORDER BY action").fetchall() == [
        (pseudonymise("E002", KEY), dt.date(2025, 1, 3), "teams", 1),
        (pseudonymise("E002", KEY), dt.date(2025, 1, 3), "word", 1),
    ]
    con.close()


def test_a_corrected_training_row_is_not_a_duplicate_of_the_rejected_one(tmp_path):
    """An enrolment completed before it started is rejected before repeats are looked for, so the
    corrected line with the same key that follows it is loaded (was: quarantined as `duplicate`
    of a row that was itself quarantined -- both lost)."""
    trainings = (",".join(TRAINING_HEADER) + "\n"
                 "E001,C1,basics_workshop,2025-02-10,2025-02-01,completed,4\n"
                 "E001,C1,basics_workshop,2025-02-10,2025-02-11,completed,4\n")
    root = write_with_base(tmp_path / "inputs", {TRAININGS.rel: trainings})
    con = duckdb.connect()
    ingest_inputs(con, root, config(), KEY, now=NOW)
    assert con.sql('SELECT row_number, "column", value, reason FROM audit.quarantine WHERE file = ?',
                   params=[TRAININGS.rel]).fetchall() == [(1, "completed_on", "2025-02-01", "out_of_range")]
    assert con.sql("SELECT employee_key, course_id, started_on, completed_on FROM staging.trainings").fetchall() == [
        (pseudonymise("E001", KEY), "C1", dt.date(2025, 2, 10), dt.date(2025, 2, 11))]
    con.close()
