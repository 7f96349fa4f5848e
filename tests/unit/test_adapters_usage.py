"""Golden tests: every usage format into canonical activity rows (kpi.adapters.usage).

Each fixture is built from the documented headers; the expected rows were worked out by hand
from the mapping table in docs/inputs.md ("Usage formats").
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from kpi.adapters.usage import USAGE_SCHEMA, detect_format, is_concealed_identity, read_usage_file
from kpi.adapters.usage_common import KEY_SEP
from kpi.errors import InputError

D = dt.date
T = dt.datetime
BERLIN = "Europe/Berlin"


def key(*parts) -> str:
    return KEY_SEP.join(str(p) for p in parts)


def read(tmp_path, name, content, tz=BERLIN, decimal="."):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = read_usage_file(path, f"usage/{name}", tz, decimal)
    result.check_accounting()
    assert dict(result.rows.schema) == USAGE_SCHEMA
    return result


def activity(result, *columns):
    cols = columns or ("row_number", "day", "user", "action", "interactions", "successes", "failures")
    return [tuple(r) for r in result.rows.select(cols).iter_rows()]


def reasons(result):
    return [(q["row_number"], q["column"], q["value"], q["reason"]) for q in result.quarantine]


# ------------------------------------------------------------------------------------ M365

M365_V1 = [
    "Report Refresh Date", "User Principal Name", "Display Name", "Last Activity Date",
    "Copilot Chat Last Activity Date", "Microsoft Teams Copilot Last Activity Date",
    "Word Copilot Last Activity Date", "Excel Copilot Last Activity Date",
    "PowerPoint Copilot Last Activity Date", "Outlook Copilot Last Activity Date",
    "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date", "Report Period",
]
HASH = "5F3A9C0B1D2E4F6A7B8C9D0E1F2A3B4C"


def m365_csv(header, rows, bom=True, crlf=True):
    nl = "\r\n" if crlf else "\n"
    lines = [",".join(header)] + [",".join(r.get(h, "") for h in header) for r in rows]
    return ("\ufeff" if bom else "") + nl.join(lines) + nl


M365_ROWS = [
    # refresh Sunday 2025-03-30, period 7: window 2025-03-24 .. 2025-03-30
    {"User Principal Name": "Ada@Example.com", "Display Name": "Ada", "Word Copilot Last Activity Date": "2025-03-25",
     "Copilot Chat Last Activity Date": "2025-03-28", "Last Activity Date": "2025-03-30",
     "Microsoft Teams Copilot Last Activity Date": "null", "PowerPoint Copilot Last Activity Date": "2025-03-23",
     "Outlook Copilot Last Activity Date": "2025-03-30", "OneNote Copilot Last Activity Date": "null"},
    {"User Principal Name": HASH, "Display Name": HASH, "Last Activity Date": "2025-03-24",
     "Microsoft Teams Copilot Last Activity Date": "2025-03-24"},
    {"User Principal Name": "bob@example.com", "Display Name": "Bob", "Last Activity Date": "2025-02-01",
     "Word Copilot Last Activity Date": "2025-02-01"},
    {"User Principal Name": "carol@example.com", "Display Name": "Carol", "Last Activity Date": "2025-03-29"},
    {"User Principal Name": "dave@example.com", "Display Name": "Dave",
     "Word Copilot Last Activity Date": "2025-13-01"},
    {"User Principal Name": "", "Display Name": "", "Excel Copilot Last Activity Date": "2025-03-26"},
]
for r in M365_ROWS:
    r.update({"Report Refresh Date": "2025-03-30", "Report Period": "7"})

M365_EXPECTED = [
    (1, D(2025, 3, 28), "Ada@Example.com", "copilot-chat", 1, 0, 0),
    (1, D(2025, 3, 30), "Ada@Example.com", "outlook", 1, 0, 0),
    (1, D(2025, 3, 25), "Ada@Example.com", "word", 1, 0, 0),
    (2, D(2025, 3, 24), HASH, "teams", 1, 0, 0),
    (4, D(2025, 3, 29), "carol@example.com", "other", 1, 0, 0),
]


def test_m365_graph_v1_with_shuffled_columns(tmp_path):
    header = M365_V1[::-1]  # any column order
    result = read(tmp_path, "copilot.csv", m365_csv(header, M365_ROWS))
    assert result.format == "m365_copilot"
    assert activity(result) == M365_EXPECTED
    assert result.rows["tool"].unique().to_list() == ["m365-copilot"]
    assert result.rows["event_time"].null_count() == result.rows.height
    assert reasons(result) == [
        (5, "Word Copilot Last Activity Date", "2025-13-01", "invalid_date"),
        (6, "User Principal Name", "", "missing_required"),
    ]
    assert result.inactive_row_numbers == [3]  # dates outside the report period: loaded, no activity
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 4, 2)
    assert result.rows.filter(pl.col("row_number") == 1)["natural_key"].to_list()[0] == key(
        "m365-copilot", "2025-03-28", "ada@example.com", "copilot-chat"
    )
    assert result.rows["user_norm"].to_list()[3] == HASH.lower()
    assert is_concealed_identity(HASH) and is_concealed_identity(HASH.lower())
    assert not is_concealed_identity("ada@example.com")
    assert {"User Principal Name", "Display Name"} <= result.personal_columns


def test_m365_graph_v2_extra_columns_and_chat_parts(tmp_path):
    header = M365_V1 + [
        "Prompts submitted for all apps", "Active Usage Days for all apps",
        "Copilot Chat (work) Last Activity Date", "Copilot Chat (web) Last Activity Date",
    ]
    rows = [{
        "Report Refresh Date": "2025-03-30", "Report Period": "30", "User Principal Name": "ada@example.com",
        "Copilot Chat Last Activity Date": "2025-03-28", "Copilot Chat (work) Last Activity Date": "2025-03-28",
        "Copilot Chat (web) Last Activity Date": "2025-03-02", "Last Activity Date": "2025-03-28",
        "Prompts submitted for all apps": "17", "Active Usage Days for all apps": "4",
        "Loop Copilot Last Activity Date": "2025-02-28",  # window 2025-03-01 .. 2025-03-30: outside
    }]
    result = read(tmp_path, "v2.csv", m365_csv(header, rows, bom=False, crlf=False))
    assert activity(result, "day", "action") == [
        (D(2025, 3, 28), "copilot-chat"),
        (D(2025, 3, 2), "copilot-chat-web"),  # the (work) part has the plain Chat date: no second row
    ]


def test_m365_admin_center_export(tmp_path):
    header = [
        "User name", "Display name", "Last activity date (UTC)", "Last activity date of Teams Copilot (UTC)",
        "Last activity date of Word Copilot (UTC)", "Last activity date of Excel Copilot (UTC)",
        "Last activity date of PowerPoint Copilot (UTC)", "Last activity date of Outlook Copilot (UTC)",
        "Last activity date of OneNote Copilot (UTC)", "Last activity date of Loop Copilot (UTC)",
        "Last activity date of Copilot Chat (UTC)",
    ]
    rows = [
        {"User name": "ada@example.com", "Display name": "Ada", "Last activity date (UTC)": "2025-03-20",
         "Last activity date of Word Copilot (UTC)": "2025-03-20",
         "Last activity date of Copilot Chat (UTC)": "2025-01-05",
         "Last activity date of Excel Copilot (UTC)": ""},
        {"User name": "bob@example.com", "Display name": "Bob"},
    ]
    result = read(tmp_path, "admin.csv", m365_csv(header, rows))
    assert result.format == "m365_copilot"
    # no report refresh date / period columns: every date proves a day
    assert activity(result, "row_number", "day", "action") == [
        (1, D(2025, 1, 5), "copilot-chat"), (1, D(2025, 3, 20), "word"),
    ]
    assert result.inactive_row_numbers == [2]
    assert result.warnings and "Report Refresh Date" in result.warnings[0]


def test_m365_admin_center_export_with_period(tmp_path):
    header = ["Report Refresh Date", "User name", "Last activity date of Word Copilot (UTC)", "Report Period"]
    rows = [
        {"Report Refresh Date": "2025-03-30", "User name": "ada@example.com",
         "Last activity date of Word Copilot (UTC)": "2025-03-20", "Report Period": "7"},
        {"Report Refresh Date": "2025-03-30", "User name": "bob@example.com",
         "Last activity date of Word Copilot (UTC)": "2025-03-29", "Report Period": "7"},
        {"Report Refresh Date": "2025-03-30", "User name": "eve@example.com",
         "Last activity date of Word Copilot (UTC)": "2025-03-29", "Report Period": "seven"},
    ]
    result = read(tmp_path, "admin7.csv", m365_csv(header, rows))
    assert activity(result, "row_number", "day", "action") == [(2, D(2025, 3, 29), "word")]
    assert result.inactive_row_numbers == [1]
    assert reasons(result) == [(3, "Report Period", "seven", "out_of_range")]


# ------------------------------------------------------------------------------------ GitHub

GITHUB_RECORDS = [
    {"day": "2025-10-01", "enterprise_id": "1", "user_id": 7, "user_login": "Octocat",
     "user_initiated_interaction_count": 3, "code_generation_activity_count": 10,
     "code_acceptance_activity_count": 4, "loc_added_sum": 8, "used_chat": True,
     "totals_by_ide": [{"ide": "vscode", "code_generation_activity_count": 10}],
     "brand_new_field": {"x": [1, 2]}},
    # no code counts, no nested blocks at all
    {"day": "2025-10-01", "user_login": "monalisa", "user_initiated_interaction_count": 2},
    # more acceptances than generations: failures floored at 0
    {"day": "2025-10-02", "user_login": "hubot", "user_initiated_interaction_count": 0,
     "code_generation_activity_count": 1, "code_acceptance_activity_count": 3},
    # top-level counts absent: summed from totals_by_feature
    {"day": "2025-10-02", "user_login": "mona", "totals_by_feature": [
        {"feature": "code_completion", "user_initiated_interaction_count": 0,
         "code_generation_activity_count": 5, "code_acceptance_activity_count": 2},
        {"feature": "chat_panel_ask_mode", "user_initiated_interaction_count": 4,
         "code_generation_activity_count": 1, "code_acceptance_activity_count": 1}]},
    {"day": "2025-10-03", "user_login": "bad", "code_acceptance_activity_count": -1},
    {"user_login": "noday", "user_initiated_interaction_count": 1},
    {"day": "01.10.2025", "user_login": "badday"},
    {"day": "2025-10-03", "user_login": "", "user_initiated_interaction_count": 1},
    {"day": "2025-10-03", "user_login": "typed", "user_initiated_interaction_count": "many"},
]
GITHUB_EXPECTED = [
    ("2025-10-01", "Octocat", 7, 4, 6),
    ("2025-10-01", "monalisa", 2, 0, 0),
    ("2025-10-02", "hubot", 3, 3, 0),
    ("2025-10-02", "mona", 7, 3, 3),
]


def _github_check(result, numbers, bad_numbers):
    assert result.format == "github_copilot"
    got = [(n, d.isoformat(), u, i, s, f) for n, d, u, i, s, f in
           result.rows.select("row_number", "day", "user", "interactions", "successes", "failures").iter_rows()]
    assert got == [(n, *e) for n, e in zip(numbers, GITHUB_EXPECTED)]
    assert result.rows["tool"].unique().to_list() == ["github-copilot"]
    assert result.rows["natural_key"].to_list()[0] == key("github-copilot", "2025-10-01", "octocat")
    assert [(q["row_number"], q["column"], q["reason"]) for q in result.quarantine
            if q["reason"] != "malformed_row"] == [
        (bad_numbers[0], "code_acceptance_activity_count", "out_of_range"),
        (bad_numbers[1], "day", "missing_required"),
        (bad_numbers[2], "day", "invalid_date"),
        (bad_numbers[3], "user_login", "missing_required"),
        (bad_numbers[4], "user_initiated_interaction_count", "out_of_range"),
    ]
    assert result.warnings == ["1 record(s) had more acceptances than generations: failures set to 0"]


def test_github_ndjson_with_blank_and_broken_lines(tmp_path):
    lines = [json.dumps(r) for r in GITHUB_RECORDS]
    lines.insert(2, "")  # a blank line is not a row
    lines.insert(5, '{"day": "2025-10-02", "user_login": "trunc')
    result = read(tmp_path, "gh.ndjson", "\n".join(lines))  # no final newline
    _github_check(result, [1, 2, 4, 5], [7, 8, 9, 10, 11])
    assert (6, None, '{"day": "2025-10-02", "user_login": "trunc', "malformed_row") in reasons(result)
    assert result.rows_read == 10 and result.rows_quarantined == 6


def test_github_json_array(tmp_path):
    result = read(tmp_path, "gh.json", json.dumps(GITHUB_RECORDS, indent=2))
    _github_check(result, [1, 2, 3, 4], [5, 6, 7, 8, 9])
    assert result.rows_read == 9


@pytest.mark.parametrize("wrapper", ["users", "data", "records"])
def test_github_wrapper_object(tmp_path, wrapper):
    doc = {"report_start_day": "2025-10-01", "report_end_day": "2025-10-28", wrapper: GITHUB_RECORDS}
    result = read(tmp_path, "gh.json", json.dumps(doc))
    _github_check(result, [1, 2, 3, 4], [5, 6, 7, 8, 9])


def test_github_array_of_objects_one_per_line_with_a_broken_one(tmp_path):
    lines = ",\n".join(json.dumps(r) for r in GITHUB_RECORDS[:2])
    text = "[\n" + lines + ',\n{"day": "2025-10-0\n]\n'
    result = read(tmp_path, "gh.json", text)
    assert activity(result, "row_number", "user") == [(2, "Octocat"), (3, "monalisa")]
    assert [(q["row_number"], q["reason"]) for q in result.quarantine] == [(4, "malformed_row")]


def test_pretty_printed_json_that_does_not_parse_stops_with_one_line(tmp_path):
    text = json.dumps(GITHUB_RECORDS[:2], indent=2)[:-40]
    path = tmp_path / "gh.json"
    path.write_text(text)
    with pytest.raises(InputError, match=r"^usage/gh.json: not valid JSON .*export it as NDJSON"):
        read_usage_file(path, "usage/gh.json", BERLIN)


# ------------------------------------------------------------------------------------ ChatGPT

CHATGPT_22 = [
    "cadence", "period_start", "period_end", "account_id", "public_id", "name", "email", "user_role", "role",
    "department", "user_status", "created_or_invited_date", "is_active", "first_day_active_in_period",
    "last_day_active_in_period", "messages", "messages_rank", "gpt_messages", "gpts_messaged", "tool_messages",
    "tools_messaged", "last_day_active",
]


def chatgpt_rows(header, rows, final_newline=False) -> bytes:
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join(r.get(h, "") for h in header))
    text = "\n".join(lines) + ("\n" if final_newline else "")
    return text.encode("utf-8")


CHATGPT_ROWS = [
    {"first_day_active_in_period": "2025-03-03", "last_day_active_in_period": "2025-03-20", "messages": "5",
     "email": "Juergen@Example.com", "name": "J\x00rgen", "department": '"[""Sales"", ""Ops""]"', "is_active": "true"},
    {"first_day_active_in_period": "2025-03-10", "last_day_active_in_period": "2025-03-10", "messages": "4",
     "email": "ann@example.com"},
    {"email": "pending@example.com", "user_status": "pending", "is_active": "", "messages": ""},
    {"first_day_active_in_period": "2025-03-05", "last_day_active_in_period": "2025-03-06", "messages": "1",
     "email": "one@example.com"},
    {"first_day_active_in_period": "2025-02-27", "last_day_active_in_period": "2025-03-02", "messages": "6",
     "email": "edge@example.com"},
    {"first_day_active_in_period": "2025-03-05", "last_day_active_in_period": "2025-03-06", "messages": "0",
     "email": "zero@example.com"},
    {"first_day_active_in_period": "03/05/2025", "last_day_active_in_period": "2025-03-06", "messages": "3",
     "email": "us@example.com"},
    {"first_day_active_in_period": "2025-03-05", "last_day_active_in_period": "2025-03-06", "messages": "3",
     "email": ""},
    {"first_day_active_in_period": "2025-03-07", "last_day_active_in_period": "2025-03-06", "messages": "3",
     "email": "rev@example.com"},
]
for r in CHATGPT_ROWS:
    r.setdefault("cadence", "Monthly")
    r.update({"period_start": "2025-03-01", "period_end": "2025-03-31", "account_id": "acc-1"})

CHATGPT_EXPECTED = [
    (1, D(2025, 3, 3), "Juergen@Example.com", None, 2, 0, 0),
    (1, D(2025, 3, 20), "Juergen@Example.com", None, 3, 0, 0),
    (2, D(2025, 3, 10), "ann@example.com", None, 4, 0, 0),
    (4, D(2025, 3, 5), "one@example.com", None, 0, 0, 0),
    (4, D(2025, 3, 6), "one@example.com", None, 1, 0, 0),
    (5, D(2025, 3, 2), "edge@example.com", None, 6, 0, 0),
]
CHATGPT_QUARANTINE = [
    (7, "first_day_active_in_period", "03/05/2025", "invalid_date"),
    (8, "email", "", "missing_required"),
    (9, "first_day_active_in_period", "2025-03-07", "out_of_range"),
]


def _with_latin1_name(content: bytes) -> bytes:
    return content.replace(b"J\x00rgen", "Jürgen".encode("latin-1"))  # one invalid UTF-8 byte


def test_chatgpt_22_columns_invalid_utf8_no_final_newline(tmp_path):
    result = read(tmp_path, "chatgpt.csv", _with_latin1_name(chatgpt_rows(CHATGPT_22, CHATGPT_ROWS)))
    assert result.format == "chatgpt_enterprise"
    assert result.chars_replaced == 1
    assert activity(result) == CHATGPT_EXPECTED
    assert reasons(result) == CHATGPT_QUARANTINE
    assert result.inactive_row_numbers == [3, 6]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (9, 6, 3)
    assert result.rows["cadence"].unique().to_list() == ["monthly"]
    assert result.rows["period_start"].unique().to_list() == [D(2025, 3, 1)]
    assert result.rows["period_end"].unique().to_list() == [D(2025, 3, 31)]
    keys = result.rows["natural_key"].to_list()
    assert keys[:3] == [
        key("chatgpt-enterprise", "2025-03-01", "2025-03-31", "juergen@example.com", "first"),
        key("chatgpt-enterprise", "2025-03-01", "2025-03-31", "juergen@example.com", "last"),
        key("chatgpt-enterprise", "2025-03-01", "2025-03-31", "ann@example.com", "last"),
    ]


def test_chatgpt_24_columns_in_another_order(tmp_path):
    header = CHATGPT_22[::-1] + ["project_messages", "projects_messaged"]
    result = read(tmp_path, "chatgpt24.csv", _with_latin1_name(chatgpt_rows(header, CHATGPT_ROWS, final_newline=True)))
    assert activity(result) == CHATGPT_EXPECTED
    assert reasons(result) == CHATGPT_QUARANTINE


def test_chatgpt_weekly_cadence_inferred_when_empty(tmp_path):
    rows = [{"cadence": "", "period_start": "2025-03-03", "period_end": "2025-03-09", "email": "w@example.com",
             "first_day_active_in_period": "2025-03-04", "last_day_active_in_period": "2025-03-07", "messages": "9"}]
    result = read(tmp_path, "weekly.csv", chatgpt_rows(CHATGPT_22, rows))
    assert activity(result, "day", "interactions", "cadence") == [
        (D(2025, 3, 4), 4, "weekly"), (D(2025, 3, 7), 5, "weekly"),
    ]


def test_chatgpt_missing_required_column_stops(tmp_path):
    header = [h for h in CHATGPT_22 if h != "last_day_active_in_period"]
    path = tmp_path / "c.csv"
    path.write_bytes(_with_latin1_name(chatgpt_rows(header, CHATGPT_ROWS[:1])))
    with pytest.raises(InputError,
                       match=r"^usage/c.csv: ChatGPT Enterprise export lacks column 'last_day_active_in_period'"):
        read_usage_file(path, "usage/c.csv", BERLIN)


# ------------------------------------------------------------------------------------ canonical


def test_canonical_counts_csv_semicolons_decimal_commas(tmp_path):
    text = (
        "event_time;user;tool;action;interactions;successes;failures;minutes\n"
        "2025-03-31T23:30:00Z; Alice@Example.com ;chatgpt;chat;3,0;2;1;1,5\n"
        "2025-04-01;bob;chatgpt;;;;;2,25\n"
        "2025-04-01 09:15:00;bob;chatgpt;draft;0;0;0;0,5\n"
        "2025-04-01;bob;chatgpt;;-2;0;0;1,0\n"
        "yesterday;bob;chatgpt;;1;0;0;1,0\n"
        "2025-04-01;bob;;;1;0;0;1,0\n"
        "2025-04-01;bob;chatgpt;;1;x;0;1,0\n"
        "2025-04-01;bob;chatgpt;;1;0\n"
    )
    result = read(tmp_path, "log.csv", text, decimal=".")
    assert result.format == "canonical_counts"
    assert activity(result, "row_number", "day", "event_time", "user", "user_norm", "action",
                    "interactions", "successes", "failures") == [
        (1, D(2025, 4, 1), T(2025, 4, 1, 1, 30), "Alice@Example.com", "alice@example.com", "chat", 3, 2, 1),
        (2, D(2025, 4, 1), None, "bob", "bob", None, 1, 0, 0),
        (3, D(2025, 4, 1), T(2025, 4, 1, 9, 15), "bob", "bob", "draft", 0, 0, 0),
    ]
    assert reasons(result) == [
        (4, "interactions", "-2", "out_of_range"),
        (5, "event_time", "yesterday", "invalid_date"),
        (6, "tool", "", "missing_required"),
        (7, "successes", "x", "out_of_range"),
        (8, None, "2025-04-01;bob;chatgpt;;1;0", "malformed_row"),
    ]
    assert result.rows["natural_key"].to_list() == [
        key("2025-04-01T01:30:00", "alice@example.com", "chatgpt", "chat"),
        key("2025-04-01", "bob", "chatgpt", ""),
        key("2025-04-01T09:15:00", "bob", "chatgpt", "draft"),
    ]


def test_canonical_events_jsonl_offsets_to_berlin(tmp_path):
    records = [
        {"event_time": "2025-03-31T23:30:00Z", "user": "a@x.com", "tool": "claude", "action": "chat",
         "outcome": "success"},
        {"event_time": "2025-01-15T08:00:00+01:00", "user": "a@x.com", "tool": "claude", "outcome": None},
        {"event_time": "2025-07-01T06:00:00-04:00", "user": "A@X.com", "tool": "claude", "outcome": "FAILURE"},
        {"event_time": "2025-07-02", "user": "a@x.com", "tool": "claude", "outcome": "success"},
        {"event_time": "2025-07-02", "user": "a@x.com", "tool": "claude", "outcome": "success"},
        {"event_time": "2025-07-02", "user": "a@x.com", "tool": "claude", "outcome": "maybe"},
        {"event_time": "2025-07-02T10:00:00+99:00", "user": "a@x.com", "tool": "claude"},
        {"user": "a@x.com", "tool": "claude"},
    ]
    text = "\n".join(json.dumps(r) for r in records) + "\n[1, 2]\n"
    result = read(tmp_path, "events.jsonl", text)
    assert result.format == "canonical_events"
    assert activity(result, "row_number", "day", "event_time", "interactions", "successes", "failures") == [
        (1, D(2025, 4, 1), T(2025, 4, 1, 1, 30), 1, 1, 0),
        (2, D(2025, 1, 15), T(2025, 1, 15, 8, 0), 1, 0, 0),
        (3, D(2025, 7, 1), T(2025, 7, 1, 12, 0), 1, 0, 1),
        (4, D(2025, 7, 2), None, 1, 1, 0),
        (5, D(2025, 7, 2), None, 1, 1, 0),
    ]
    keys = result.rows["natural_key"].to_list()
    assert keys[0] == key("2025-04-01T01:30:00", "a@x.com", "claude", "chat", "success")
    # date-only events are never duplicates of each other: the occurrence number tells them apart
    assert keys[3:] == [
        key("2025-07-02", "a@x.com", "claude", "", "success", "#1"),
        key("2025-07-02", "a@x.com", "claude", "", "success", "#2"),
    ]
    assert [(q["row_number"], q["column"], q["reason"]) for q in result.quarantine] == [
        (6, "outcome", "out_of_range"),
        (7, "event_time", "invalid_date"),
        (8, "event_time", "missing_required"),
        (9, None, "malformed_row"),
    ]


def test_canonical_parquet_with_zoned_and_naive_times(tmp_path):
    zoned = pl.DataFrame({
        "Event_Time": [T(2025, 3, 31, 23, 30), T(2025, 1, 1, 12, 0)],
        "user": ["a@x.com", "b@x.com"],
        "tool": ["gateway", "gateway"],
        "interactions": [4, None],
        "successes": [3, 0],
        "failures": [1, -1],
    }).with_columns(pl.col("Event_Time").dt.replace_time_zone("UTC"))
    path = tmp_path / "log.parquet"
    zoned.write_parquet(path)
    result = read_usage_file(path, "usage/log.parquet", BERLIN)
    result.check_accounting()
    assert result.format == "canonical_counts"
    assert activity(result, "row_number", "day", "event_time", "interactions", "successes", "failures") == [
        (1, D(2025, 4, 1), T(2025, 4, 1, 1, 30), 4, 3, 1),
    ]
    assert reasons(result) == [(2, "failures", "-1", "out_of_range")]

    dated = pl.DataFrame({"event_time": [D(2025, 5, 2)], "user": ["a"], "tool": ["t"], "outcome": ["failure"]})
    path = tmp_path / "events.parquet"
    dated.write_parquet(path)
    result = read_usage_file(path, "usage/events.parquet", BERLIN)
    assert result.format == "canonical_events"
    assert activity(result, "day", "event_time", "interactions", "failures") == [(D(2025, 5, 2), None, 1, 1)]


def test_canonical_csv_malformed_rows_never_swallow_lines(tmp_path):
    text = (
        "event_time,user,tool\n"
        '2025-03-03,"ann,gateway\n'
        "2025-03-04,bob,gateway\n"
        '2025-03-05,"multi\nline",gateway\n'
        "2025-03-06,cid,gateway,extra\n"
        "2025-03-07,dan,gateway\n"
    )
    result = read(tmp_path, "events.csv", text)
    assert activity(result, "row_number", "day", "user") == [
        (2, D(2025, 3, 4), "bob"),
        (3, D(2025, 3, 5), "multi\nline"),
        (6, D(2025, 3, 7), "dan"),
    ]
    assert [(q["row_number"], q["reason"]) for q in result.quarantine] == [(1, "malformed_row"), (5, "malformed_row")]


# ------------------------------------------------------------------------------------ detection


def test_detect_format_by_header_and_content(tmp_path):
    cases = {
        "a.csv": "event_time,user,tool,outcome\n",
        "b.csv": "event_time;user;tool;interactions\n",
        "c.csv": "\ufeffReport Refresh Date,User Principal Name,Word Copilot Last Activity Date\n",
        "d.csv": ",".join(CHATGPT_22) + "\n",
        "e.ndjson": '{"day": "2025-10-01", "user_login": "x"}\n',
        "f.jsonl": '{"event_time": "2025-10-01", "user": "x", "tool": "t"}\n',
        "g.txt": "User name,Last activity date of Word Copilot (UTC)\n",
    }
    expected = ["canonical_events", "canonical_counts", "m365_copilot", "chatgpt_enterprise",
                "github_copilot", "canonical_events", "m365_copilot"]
    for (name, text), fmt in zip(cases.items(), expected):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert detect_format(tmp_path / name) == fmt, name


UNDERSTOOD = (
    "understood: canonical event log (.csv/.jsonl/.parquet with event_time,user,tool), Microsoft 365 "
    "Copilot user detail (CSV), GitHub Copilot users-1-day (NDJSON/JSON), ChatGPT Enterprise user "
    "engagement (CSV)"
)


def test_unrecognised_files_stop_with_the_formats_understood(tmp_path):
    xlsx = tmp_path / "foo.xlsx"
    xlsx.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 8)
    with pytest.raises(InputError) as err:
        read_usage_file(xlsx, "usage/foo.xlsx", BERLIN)
    assert str(err.value) == f"usage/foo.xlsx: unrecognised usage format; {UNDERSTOOD}"
    other = tmp_path / "other.csv"
    other.write_text("date,person,minutes\n2025-01-01,a,3\n")
    with pytest.raises(InputError, match=r"^usage/other.csv: unrecognised usage format; understood: "):
        read_usage_file(other, "usage/other.csv", BERLIN)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"event_time,user,tool\n\x00\x01\x02")
    with pytest.raises(InputError) as err:
        read_usage_file(binary, "usage/x.csv", BERLIN)
    assert str(err.value) == "usage/x.csv: not a text file (binary content); export it as CSV"
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="the file is empty"):
        read_usage_file(empty, "usage/e.csv", BERLIN)


def test_header_only_file_reads_zero_rows(tmp_path):
    result = read(tmp_path, "h.csv", "event_time,user,tool\n")
    assert result.rows.height == 0 and result.rows_read == 0 and result.quarantine == []


def test_github_single_record_document_and_wrapper_with_day(tmp_path):
    result = read(tmp_path, "one.json", json.dumps(GITHUB_RECORDS[0]))
    assert activity(result, "row_number", "user", "interactions") == [(1, "Octocat", 7)]
    result = read(tmp_path, "wrapped.json", json.dumps({"day": "2025-10-01", "user_metrics": GITHUB_RECORDS[:2]}))
    assert activity(result, "row_number", "user") == [(1, "Octocat"), (2, "monalisa")]
