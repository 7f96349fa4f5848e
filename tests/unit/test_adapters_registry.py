"""The usage-format registry: a format is one module plus one line in kpi/adapters/registry.py.

The throw-away "Acme Assistant" format below is written the way docs/architecture.md ("Adding a
vendor format") says, registered for one test, and recognised and read with no change to
kpi/adapters/usage.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from kpi.adapters import registry
from kpi.adapters.textio import is_missing, normalise_identifier, parse_date, parse_int
from kpi.adapters.usage import detect_format, read_usage_file
from kpi.adapters.usage_common import FormatRead, UsageFormat, UsageSource, make_key, qrow, usage_frame
from kpi.errors import InputError

D = dt.date

# ------------------------------------------------------------ a throw-away format "module"

ACME_HEADER = ("acme_member", "acme_day", "acme_prompts")
TOOL_ACME = "acme-assistant"


def is_acme_header(names) -> bool:
    return {n.strip().casefold() for n in names} >= set(ACME_HEADER)


def read_acme(source: UsageSource) -> FormatRead:
    table = source.table()
    member, day_i, prompts_i = (table.column_index(c) for c in ACME_HEADER)
    rows, quarantine = [], [qrow(n, None, raw, "malformed_row") for n, raw in table.malformed]
    inactive = []
    for number, *cells in table.frame.select("row_number", f"c{member}", f"c{day_i}", f"c{prompts_i}").iter_rows():
        user, day_text, prompts_text = cells
        day, ok = parse_date(day_text)
        if not ok or day is None:
            quarantine.append(qrow(number, "acme_day", day_text, "invalid_date"))
            continue
        prompts, ok = parse_int(prompts_text)
        if not ok or (prompts is not None and prompts < 0):
            quarantine.append(qrow(number, "acme_prompts", prompts_text, "out_of_range"))
            continue
        if not prompts:
            inactive.append(number)
            continue
        if is_missing(user):
            quarantine.append(qrow(number, "acme_member", user, "missing_required"))
            continue
        norm = normalise_identifier(user)
        rows.append({"row_number": number, "day": day, "user": user.strip(), "user_norm": norm, "tool": TOOL_ACME,
                     "interactions": prompts, "successes": 0, "failures": 0,
                     "natural_key": make_key(TOOL_ACME, day, norm)})
    return FormatRead(usage_frame(rows), quarantine, table.rows_read, inactive_row_numbers=inactive,
                      personal_columns={table.header[member]})


FORMAT = UsageFormat(
    name="acme_assistant",
    tool=TOOL_ACME,
    description="Acme Assistant daily prompts (CSV)",
    containers=("csv",),
    recognises=is_acme_header,
    read=read_acme,
)

ACME_CSV = (
    "acme_day,acme_member,acme_prompts,team\n"
    "2025-03-03,Ada@Example.com,4,x\n"      # row 1: 4 prompts
    "2025-03-04,bob@example.com,0,x\n"      # row 2: no prompt -> inactive
    "03/05/2025,cy@example.com,2,x\n"       # row 3: invalid_date
    "2025-03-05,cy@example.com,-1,x\n"      # row 4: out_of_range
    "2025-03-06,,5,x\n"                     # row 5: missing_required
    "2025-03-07,dan@example.com,7\n"        # row 6: too few fields -> malformed_row
)

UNDERSTOOD = (
    "canonical event log (.csv/.jsonl/.parquet with event_time,user,tool), Microsoft 365 Copilot user detail "
    "(CSV), GitHub Copilot users-1-day (NDJSON/JSON), ChatGPT Enterprise user engagement (CSV)"
)


@pytest.fixture
def acme_file(tmp_path) -> Path:
    path = tmp_path / "acme-2025-03.csv"
    path.write_text(ACME_CSV, encoding="utf-8")
    return path


def test_a_new_format_module_is_recognised_and_read_once_registered(acme_file, monkeypatch):
    with pytest.raises(InputError) as err:
        detect_format(acme_file, None, "usage/acme-2025-03.csv")
    assert str(err.value) == f"usage/acme-2025-03.csv: unrecognised usage format; understood: {UNDERSTOOD}"

    monkeypatch.setattr(registry, "FORMATS", (*registry.FORMATS, FORMAT))
    assert detect_format(acme_file) == "acme_assistant"
    result = read_usage_file(acme_file, "usage/acme-2025-03.csv", "Europe/Berlin")
    result.check_accounting()
    assert result.format == "acme_assistant"
    assert [tuple(r) for r in result.rows.select("row_number", "day", "user", "user_norm", "tool", "interactions",
                                                  "natural_key").iter_rows()] == [
        (1, D(2025, 3, 3), "Ada@Example.com", "ada@example.com", "acme-assistant", 4,
         make_key("acme-assistant", D(2025, 3, 3), "ada@example.com")),
    ]
    assert result.inactive_row_numbers == [2]
    assert [(q["row_number"], q["column"], q["value"], q["reason"]) for q in result.quarantine] == [
        (3, "acme_day", "03/05/2025", "invalid_date"),
        (4, "acme_prompts", "-1", "out_of_range"),
        (5, "acme_member", "", "missing_required"),
        (6, None, "2025-03-07,dan@example.com,7", "malformed_row"),
    ]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 2, 4)
    assert result.personal_columns == {"acme_member"}
    # the message listing the formats understood names the new one too
    other = acme_file.with_name("other.csv")
    other.write_text("date,person,minutes\n2025-01-01,a,3\n")
    with pytest.raises(InputError) as err:
        read_usage_file(other, "usage/other.csv")
    assert str(err.value) == ("usage/other.csv: unrecognised usage format; understood: "
                              f"{UNDERSTOOD}, Acme Assistant daily prompts (CSV)")

    monkeypatch.undo()  # unregistered: unknown again
    with pytest.raises(InputError, match="unrecognised usage format"):
        read_usage_file(acme_file, "usage/acme-2025-03.csv")


def test_the_highest_priority_wins_then_the_first_registered(tmp_path, monkeypatch):
    path = tmp_path / "events.csv"
    path.write_text("event_time,user,tool,acme_member,acme_day,acme_prompts\n")
    monkeypatch.setattr(registry, "FORMATS", (*registry.FORMATS, FORMAT))
    assert detect_format(path) == "canonical_events"  # canonical (priority 30) before acme (0)
    eager = UsageFormat(name="acme_eager", tool=TOOL_ACME, description="x", containers=("csv",),
                        recognises=is_acme_header, read=read_acme, priority=99)
    monkeypatch.setattr(registry, "FORMATS", (*registry.FORMATS, eager))
    assert detect_format(path) == "acme_eager"
    monkeypatch.setattr(registry, "FORMATS", (FORMAT, dataclasses.replace(eager, priority=0)))
    assert detect_format(path) == "acme_assistant"  # same priority: the first registered


def test_the_registry_lists_the_five_formats_and_usage_py_names_none():
    assert registry.names() == (
        "canonical_events", "canonical_counts", "m365_copilot", "github_copilot", "chatgpt_enterprise")
    assert registry.understood() == UNDERSTOOD
    assert {f.name: (f.tool, f.containers, f.priority) for f in registry.FORMATS} == {
        "canonical_events": (None, ("csv", "json", "parquet"), 30),
        "canonical_counts": (None, ("csv", "json", "parquet"), 30),
        "m365_copilot": ("m365-copilot", ("csv",), 20),
        "github_copilot": ("github-copilot", ("json",), 20),
        "chatgpt_enterprise": ("chatgpt-enterprise", ("csv",), 10),
    }
    source = (Path(__file__).parents[2] / "kpi" / "adapters" / "usage.py").read_text(encoding="utf-8")
    for name in (*registry.names(), "m365", "github", "chatgpt", "canonical."):
        assert name not in source, name


def test_a_format_must_name_known_containers():
    with pytest.raises(ValueError, match="containers must be among"):
        UsageFormat(name="bad", tool=None, description="x", containers=("xlsx",),
                    recognises=is_acme_header, read=read_acme)
