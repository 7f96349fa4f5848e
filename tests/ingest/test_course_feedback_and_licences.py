"""The optional state inputs hr/course_feedback.csv and finance/licenses.csv (docs/inputs.md,
"Course feedback and licences"), on the tiny hand-made company of tests/ingest/tiny.py: every
quarantine reason once, identifiers pseudonymised, comments never stored, nothing lost.

The tiny HR list knows E001..E004; the trainings enrol E001 in TTT-1 (from 2025-01-10) and E002 in
BASICS-1 (from 2025-02-03)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

import duckdb
import pytest

from kpi.config import load_config
from kpi.ingest import ingest_inputs
from kpi.privacy import pseudonymise
from tests.conftest import raw_identifier_hits
from tests.ingest.tiny import IDENTIFIERS, write_tiny_inputs

KEY = b"test-key-0123456789abcdef"
NOW = datetime(2025, 4, 2, 8, 0)
D = dt.date

# The comments hold a word found nowhere else ("zebrafinch"): it must not reach any table.
FEEDBACK = """\
employee_id,course_id,date,rating,would_recommend,comment
E001,TTT-1,2025-01-12,5,yes,zebrafinch one
 e002 ,basics-1,2025-02-04,3.5,,"zebrafinch two, with a comma"
E999,BASICS-1,2025-02-04,4,no,zebrafinch three
E001,TTT-1,2025-13-01,4,,zebrafinch four
E001,TTT-1,2025-01-13,6,true,zebrafinch five
E001,TTT-1,2025-01-14,0,true,zebrafinch six
E002,TTT-1,2025-02-04,4,,zebrafinch seven
E001,TTT-1,2025-01-05,4,,zebrafinch eight
E001,ttt-1,2025-01-12,4,,zebrafinch nine
E001,TTT-1,2025-01-15,,yes,zebrafinch ten
E001,TTT-1,2025-01-16,4,perhaps,zebrafinch eleven
E001,TTT-1,2025-01-17,4,yes,zebrafinch twelve,a field too many
E003,TTT-1,2025-03-01,4,no,
"""

LICENCES = """\
tool,month,seats,cost_eur
github-copilot,2025-01,10,190
GitHub Copilot,2025-02-01,12,228
m365-copilot,2025-01,20,
github_copilot,2025-01,11,209
claude,2025-13,5,150
claude,2025-02,-1,0
claude,2025-02,2.5,75
,2025-02,5,100
chatgpt-enterprise,2025-02,5,-10
chatgpt-enterprise,2025-03-15,5,275
anna.berg@tiny.example,2025-03,1,30
"""


def write_inputs(root, feedback: str | None = FEEDBACK, licences: str | None = LICENCES, config: str = ""):
    write_tiny_inputs(root)
    if config:
        (root / "config.yaml").write_text((root / "config.yaml").read_text() + config)
    for rel, text in (("hr/course_feedback.csv", feedback), ("finance/licenses.csv", licences)):
        path = root / rel
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")
    return root


def ingest(root, con=None):
    con = con or duckdb.connect()
    result = ingest_inputs(con, root, load_config(root / "config.yaml"), KEY, now=NOW)
    return con, result


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = write_inputs(tmp_path_factory.mktemp("feedback") / "inputs")
    con, result = ingest(root)
    yield con, result
    con.close()


def quarantined(con, file: str) -> list[tuple]:
    return con.sql('SELECT row_number, "column", value, reason FROM audit.quarantine WHERE file = ? '
                   "ORDER BY row_number", params=[file]).fetchall()


def manifest(con, file: str) -> tuple:
    return con.sql("SELECT rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest "
                   "WHERE file = ? AND NOT superseded", params=[file]).fetchall()[0]


# ------------------------------------------------------------------------ course feedback

def test_feedback_rows_are_loaded_or_quarantined_with_their_reason(ingested):
    con, result = ingested
    assert manifest(con, "hr/course_feedback.csv") == (13, 2, 11)
    assert quarantined(con, "hr/course_feedback.csv") == [
        (3, "employee_id", pseudonymise("E999", KEY), "unknown_user"),
        (4, "date", "2025-13-01", "invalid_date"),
        (5, "rating", "6.0", "out_of_range"),          # above feedback.scale_max (5)
        (6, "rating", "0", "out_of_range"),            # below 1
        (7, "course_id", "TTT-1", "unknown_course"),   # E002 is not enrolled in TTT-1
        (8, "date", "2025-01-05", "out_of_range"),     # before E001's TTT-1 started (2025-01-10)
        (9, "course_id", "ttt-1", "duplicate"),        # E001, TTT-1, 2025-01-12 again (case aside)
        (10, "rating", "", "missing_required"),
        (11, "would_recommend", "perhaps", "out_of_range"),
        (12, None, con.sql("SELECT value FROM audit.quarantine WHERE file = 'hr/course_feedback.csv' "
                           "AND row_number = 12").fetchall()[0][0], "malformed_row"),
        (13, "course_id", "TTT-1", "unknown_course"),  # E003 has no enrolment at all
    ]
    assert result.quarantined_by_reason["unknown_course"] == 2


def test_feedback_staged_with_pseudonyms_and_the_trainings_course_id(ingested):
    con, _ = ingested
    assert con.sql("SELECT employee_key, course_id, given_on, rating, would_recommend FROM staging.course_feedback "
                   "ORDER BY given_on").fetchall() == [
        (pseudonymise("E001", KEY), "TTT-1", D(2025, 1, 12), 5.0, True),
        # " e002 " is E002 (identifiers compared trimmed and casefolded); basics-1 is staged as BASICS-1
        (pseudonymise("E002", KEY), "BASICS-1", D(2025, 2, 4), 3.5, None),
    ]


def test_comments_are_never_stored_anywhere(ingested):
    """Not in staging, not in the quarantine (a malformed line keeps only a fingerprint), nowhere."""
    con, _ = ingested
    hits = []
    for schema, table, column in con.sql("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                                         "WHERE data_type LIKE 'VARCHAR%'").fetchall():
        n = con.sql(f'SELECT count(*) FROM "{schema}"."{table}" WHERE lower("{column}") LIKE \'%zebrafinch%\'') \
            .fetchall()[0][0]
        if n:
            hits.append((schema, table, column, n))
    assert hits == []
    [(value,)] = con.sql("SELECT value FROM audit.quarantine WHERE reason = 'malformed_row' "
                         "AND file = 'hr/course_feedback.csv'").fetchall()
    assert value.startswith("<line withheld: ")


def test_no_raw_identifier_reaches_the_warehouse(ingested):
    con, _ = ingested
    assert raw_identifier_hits(con, IDENTIFIERS) == []


def test_the_rating_scale_comes_from_the_config(tmp_path):
    root = write_inputs(tmp_path / "inputs", config="feedback:\n  scale_max: 10\n  positive_min: 7\n")
    con, _ = ingest(root)
    assert 5 not in [row[0] for row in quarantined(con, "hr/course_feedback.csv")]
    assert con.sql("SELECT rating FROM staging.course_feedback WHERE given_on = '2025-01-13'").fetchall() == [(6.0,)]


def test_feedback_is_read_again_when_the_trainings_change(tmp_path):
    """Checked against the enrolments: a corrected trainings file (E002 no longer in BASICS-1)
    quarantines E002's rating on the next run although the feedback file is unchanged."""
    root = write_inputs(tmp_path / "inputs")
    con, _ = ingest(root)
    assert con.sql("SELECT count(*) FROM staging.course_feedback").fetchall() == [(2,)]
    trainings = root / "hr" / "trainings.csv"
    trainings.write_text("\n".join(line for line in trainings.read_text().splitlines()
                                   if not line.startswith("E002,")) + "\n")
    ingest(root, con)
    assert con.sql("SELECT course_id FROM staging.course_feedback").fetchall() == [("TTT-1",)]
    assert (2, "course_id", "basics-1", "unknown_course") in quarantined(con, "hr/course_feedback.csv")
    assert manifest(con, "hr/course_feedback.csv") == (13, 1, 12)


# ------------------------------------------------------------------------------- licences

def test_licence_rows_are_loaded_or_quarantined_with_their_reason(ingested):
    con, _ = ingested
    assert manifest(con, "finance/licenses.csv") == (11, 4, 7)
    assert quarantined(con, "finance/licenses.csv") == [
        (4, "tool", "github_copilot", "duplicate"),    # github-copilot, January again once normalised
        (5, "month", "2025-13", "invalid_date"),
        (6, "seats", "-1", "out_of_range"),
        (7, "seats", "2.5", "out_of_range"),           # not a whole number
        (8, "tool", "", "missing_required"),
        (9, "cost_eur", "-10", "out_of_range"),
        # an identifier where a tool is expected: the row is quarantined, the value pseudonymised
        (11, "tool", pseudonymise("anna.berg@tiny.example", KEY), "out_of_range"),
    ]


def test_licences_staged_one_row_per_tool_and_month(ingested):
    con, _ = ingested
    assert con.sql("SELECT tool, month, seats, cost_eur FROM staging.licenses ORDER BY tool, month").fetchall() == [
        ("chatgpt-enterprise", D(2025, 3, 1), 5, 275.0),   # a date is read as its month
        ("github-copilot", D(2025, 1, 1), 10, 190.0),
        ("github-copilot", D(2025, 2, 1), 12, 228.0),      # "GitHub Copilot" is the tool id github-copilot
        ("m365-copilot", D(2025, 1, 1), 20, None),         # no cost given
    ]


# ------------------------------------------------------------------------ optional files

def test_both_files_are_optional_and_leave_nothing_when_removed(tmp_path):
    root = write_inputs(tmp_path / "inputs")
    con, _ = ingest(root)
    assert con.sql("SELECT count(*) FROM staging.licenses").fetchall() == [(4,)]
    write_inputs(root, feedback=None, licences=None)
    _, result = ingest(root, con)
    assert con.sql("SELECT count(*) FROM staging.licenses").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM staging.course_feedback").fetchall() == [(0,)]
    assert not {"hr/course_feedback.csv", "finance/licenses.csv"} & {r.file for r in result.files}
    fresh, _ = ingest(write_inputs(tmp_path / "without", feedback=None, licences=None))
    assert fresh.sql("SELECT count(*) FROM staging.course_feedback").fetchall() == [(0,)]
