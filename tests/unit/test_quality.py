"""GX suites on hand-made staging tables: clean data passes, each planted defect fails its rule."""

import json
from datetime import date

import duckdb
import pytest

from kpi.migrations import ensure_schema_tables
from kpi.quality import BLOCKING_SUITES, SUITE_NAMES, failures_markdown, validate_table

TODAY = date(2024, 12, 31)


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_schema_tables(con, "staging")
    con.execute("""
        INSERT INTO staging.employees VALUES
          ('p_e1', 'Sales', 'user',    '2023-01-01', NULL,         1.0, 60.0, false),
          ('p_e2', 'Ops',   'manager', '2022-05-01', '2024-06-30', 0.5, 80.0, true);
        INSERT INTO staging.trainings VALUES
          ('p_e1', 'c1', 'basics_workshop', '2024-02-01', '2024-02-01', 'completed', 4.0),
          ('p_e2', 'c2', 'elearning',       '2024-03-01', NULL,         'enrolled',  1.5);
        INSERT INTO staging.assessments VALUES
          ('p_e1', '2024-03-01', 'ai_literacy',    7, 10),
          ('p_e2', '2024-03-02', 'prompt_quality', 10, 10);
        INSERT INTO staging.costs VALUES
          ('2024-01-15', 'licenses',          1200.0, NULL,          NULL),
          ('2024-02-01', 'external_training', -100.0, 'credit note', 'Sales');
        INSERT INTO staging.process_metrics VALUES
          ('2024-01-01', 'quote_preparation', 'Sales', 40, 1200.0, 3,    4.2),
          ('2024-02-01', 'quote_preparation', 'Sales', 35, 1000.0, NULL, NULL);
        INSERT INTO staging.use_cases VALUES
          ('UC-1', 'Meeting summaries', 'Sales', '2024-01-10', 'pilot', true, 12.0);
        INSERT INTO staging.usage_activity VALUES
          ('usage/a.csv', 1, 'canonical_events', '2024-03-04', NULL, 'p_u1', false, 'chatgpt', NULL,
           1, 1, 0, 'k1', NULL, NULL, NULL),
          ('usage/a.csv', 2, 'canonical_events', '2024-03-04', NULL, 'p_u2', false, 'chatgpt', NULL,
           1, 0, 1, 'k2', NULL, NULL, NULL),
          ('usage/gh.ndjson', 1, 'github_copilot', '2024-03-05', NULL, 'p_u1', false, 'github-copilot', NULL,
           5, 3, 4, 'k3', NULL, NULL, NULL);
        INSERT INTO staging.survey_answers VALUES
          ('surveys/q1.csv', 'r1', 'I share AI tips', 'collaboration', false, 4, 4),
          ('surveys/q1.csv', 'r1', 'AI tools make my work harder', 'satisfaction', true, 2, 4);
    """)
    yield con
    con.close()


def failures(result):
    return {(o.expectation, o.column): o.unexpected_count for o in result.outcomes if not o.success}


def test_clean_tables_pass(con):
    rows = {"employees": 2, "trainings": 2, "assessments": 2, "costs": 2, "process_metrics": 2, "use_cases": 1,
            "usage_activity": 3, "survey_answers": 2}
    assert set(SUITE_NAMES) == set(rows)
    for name in SUITE_NAMES:
        result = validate_table(con, name, today=TODAY, scale_max=5)
        assert result.success, (name, failures_markdown(result))
        assert result.rows_checked == rows[name]
        assert result.outcomes and all(o.success and o.unexpected_count == 0 for o in result.outcomes)


def test_blocking_suites_are_the_ones_figures_depend_on():
    assert set(BLOCKING_SUITES) == {"employees", "trainings", "costs", "process_metrics", "usage_activity"}


def test_empty_optional_table_passes_with_zero_rows(con):
    con.execute("DELETE FROM staging.use_cases")
    result = validate_table(con, "use_cases")
    assert (result.success, result.rows_checked, result.outcomes, result.blocking) == (True, 0, [], False)


def test_bad_target_group(con):
    con.execute("INSERT INTO staging.employees VALUES ('p_e3', 'Ops', 'boss', '2024-01-01', NULL, 1, 70, false)")
    result = validate_table(con, "employees")
    assert not result.success and result.blocking
    assert failures(result) == {("expect_column_values_to_be_in_set", "target_group"): 1}
    assert result.failed[0].unexpected_examples == [{"target_group": "boss", "employee_key": "p_e3"}]


def test_duplicate_employee_key(con):
    # The staging DDL's primary key would refuse it; a copy without constraints lets GX see one.
    con.execute("CREATE OR REPLACE TABLE staging.employees AS SELECT * FROM staging.employees")
    con.execute("INSERT INTO staging.employees VALUES ('p_e1', 'Ops', 'user', '2024-01-01', NULL, 1, 70, false)")
    result = validate_table(con, "employees")
    assert failures(result) == {("expect_column_values_to_be_unique", "employee_key"): 2}  # both rows


def test_exit_before_hire_and_fte_out_of_range(con):
    con.execute("INSERT INTO staging.employees VALUES "
                "('p_e3', 'Ops', 'user', '2024-01-01', '2023-12-31', 1.5, 0, false)")
    result = validate_table(con, "employees")
    assert failures(result) == {
        ("expect_column_values_to_be_between", "fte"): 1,
        ("expect_column_values_to_be_between", "hourly_cost_eur"): 1,
        ("expect_column_pair_values_a_to_be_greater_than_b", "exit_date, hire_date"): 1,
    }


def test_score_above_max_score(con):
    con.execute("INSERT INTO staging.assessments VALUES ('p_e1', '2024-06-01', 'ai_literacy', 12, 10)")
    result = validate_table(con, "assessments")
    assert not result.success and not result.blocking
    assert failures(result) == {("expect_column_pair_values_a_to_be_greater_than_b", "max_score, score"): 1}


def test_unknown_employee_in_trainings(con):
    con.execute("INSERT INTO staging.trainings VALUES "
                "('p_ghost', 'c1', 'hackathon', '2024-04-01', NULL, 'enrolled', 8)")
    con.execute("INSERT INTO staging.trainings VALUES ('p_ghost', 'c3', 'coaching', '2024-05-01', NULL, 'enrolled', 1)")
    result = validate_table(con, "trainings")
    assert failures(result) == {("expect_column_values_to_be_in_set", "employee_resolved"): 2}
    assert {e["employee_key"] for e in result.failed[0].unexpected_examples} == {"p_ghost"}


def test_bad_training_format_status_and_hours(con):
    con.execute("INSERT INTO staging.trainings VALUES ('p_e1', 'c9', 'webinar', '2024-04-01', NULL, 'done', -2)")
    result = validate_table(con, "trainings")
    assert failures(result) == {
        ("expect_column_values_to_be_in_set", "format"): 1,
        ("expect_column_values_to_be_in_set", "status"): 1,
        ("expect_column_values_to_be_between", "hours"): 1,
    }


def test_negative_cases(con):
    con.execute("INSERT INTO staging.process_metrics VALUES "
                "('2024-03-01', 'quote_preparation', 'Sales', -1, 10, NULL, NULL)")
    result = validate_table(con, "process_metrics")
    assert failures(result) == {("expect_column_values_to_be_between", "cases"): 1}


def test_errors_above_cases_and_repeated_month(con):
    con.execute("INSERT INTO staging.process_metrics VALUES "
                "('2024-02-01', 'quote_preparation', 'Sales', 5, 10, 7, NULL)")
    result = validate_table(con, "process_metrics")
    assert failures(result) == {
        ("expect_column_pair_values_a_to_be_greater_than_b", "cases, errors"): 1,
        ("expect_compound_columns_to_be_unique", "month, process, department"): 2,
    }


def test_cost_category_outside_the_five(con):
    con.execute("INSERT INTO staging.costs VALUES ('2024-03-01', 'catering', 50, NULL, NULL)")
    assert failures(validate_table(con, "costs")) == {("expect_column_values_to_be_in_set", "category"): 1}


def test_use_case_duplicate_id_and_status(con):
    con.execute("INSERT INTO staging.use_cases VALUES ('UC-1', 'Again', 'Ops', '2024-02-01', 'live', false, NULL)")
    assert failures(validate_table(con, "use_cases")) == {
        ("expect_column_values_to_be_unique", "use_case_id"): 2,
        ("expect_column_values_to_be_in_set", "status"): 1,
    }


def test_usage_day_in_1999_fails_on_the_daily_summary(con):
    # three rows of one file on one day are one summary row: one unexpected (file, day)
    for n in (10, 11, 12):
        con.execute(f"""INSERT INTO staging.usage_activity VALUES ('usage/old.csv', {n}, 'canonical_events',
                        '1999-12-31', NULL, 'p_u{n}', false, 'chatgpt', NULL, 1, 0, 0, 'old{n}', NULL, NULL, NULL)""")
    result = validate_table(con, "usage_activity", today=TODAY)
    assert result.rows_checked == 6 and result.blocking
    assert failures(result) == {("expect_column_values_to_be_between", "day"): 1}
    assert result.failed[0].unexpected_examples == [{"day": "1999-12-31", "file": "usage/old.csv"}]


def test_usage_day_after_tomorrow_and_negative_counts(con):
    con.execute("""INSERT INTO staging.usage_activity VALUES ('usage/b.csv', 1, 'canonical_events', '2025-01-02',
                   NULL, 'p_u1', false, 'chatgpt', NULL, 3, 0, -1, 'b1', NULL, NULL, NULL)""")
    assert validate_table(con, "usage_activity", today=date(2025, 1, 1)).success is False
    result = validate_table(con, "usage_activity", today=date(2025, 1, 1))
    assert failures(result) == {
        ("expect_column_values_to_be_between", "failures"): 1,
        ("expect_column_values_to_be_between", "rows_with_negative_counts"): 1,
    }  # 2025-01-02 is tomorrow: allowed (the company-local day may be ahead)
    result = validate_table(con, "usage_activity", today=date(2024, 12, 31))
    assert ("expect_column_values_to_be_between", "day") in failures(result)


def test_survey_points_above_the_scale(con):
    con.execute("INSERT INTO staging.survey_answers VALUES "
                "('surveys/q1.csv', 'r2', 'I share AI tips', 'collaboration', false, 7, 7)")
    result = validate_table(con, "survey_answers", scale_max=5)
    assert not result.success and not result.blocking
    assert failures(result) == {("expect_column_values_to_be_between", "points"): 1,
                                ("expect_column_values_to_be_between", "answer_points"): 1}
    assert validate_table(con, "survey_answers", scale_max=7).success


def test_examples_are_json_and_markdown_lists_failures(con):
    con.execute("INSERT INTO staging.employees VALUES "
                "('p_e3', 'Ops', 'boss', '2024-01-01', '2023-01-01', 1, 70, false)")
    result = validate_table(con, "employees")
    json.dumps([o.unexpected_examples for o in result.outcomes])
    md = failures_markdown(result)
    assert md.count("\n") == 3 and "target_group one of" in md and "exit_date >= hire_date" in md


def test_missing_table_fails_and_unknown_suite_raises():
    con = duckdb.connect()
    result = validate_table(con, "costs")
    assert not result.success and result.failed[0].expectation == "table_exists"
    with pytest.raises(ValueError, match="unknown quality suite"):
        validate_table(con, "salaries")


def test_a_pass_is_reused_for_the_same_frame_only(con):
    first = validate_table(con, "employees")
    assert first.success and first.passed_before is None
    again = validate_table(con, "employees")
    assert again.passed_before is not None  # the same rows passed: not validated again
    assert again.outcomes == first.outcomes and again.rows_checked == 2
    con.execute("UPDATE staging.employees SET fte = 2.0 WHERE employee_key = 'p_e2'")  # now out of range
    for _ in range(2):  # a failure is never remembered
        failed = validate_table(con, "employees")
        assert not failed.success and failed.passed_before is None
        assert failures(failed) == {("expect_column_values_to_be_between", "fte"): 1}
    con.execute("UPDATE staging.employees SET fte = 0.5 WHERE employee_key = 'p_e2'")  # back as it was
    assert validate_table(con, "employees").passed_before is not None


def test_a_usage_pass_holds_for_later_days_not_earlier_ones(con):
    assert validate_table(con, "usage_activity", today=TODAY).passed_before is None
    assert validate_table(con, "usage_activity", today=date(2025, 6, 1)).passed_before is not None
    # a day before the remembered one: the upper bound is lower, so it is validated again
    assert validate_table(con, "usage_activity", today=date(2024, 3, 5)).passed_before is None
    assert not validate_table(con, "usage_activity", today=date(2024, 3, 3)).success  # 2024-03-05 > 03-04


def test_per_file_suites_key_every_multi_row_rule_by_file():
    from kpi.quality import PER_FILE_SUITES, _suite

    for name in PER_FILE_SUITES:
        for rule, expectation in _suite(name).expectations({"today": TODAY, "scale_max": 5}):
            config = expectation.configuration.kwargs
            if "column_list" in config:
                assert "file" in config["column_list"], (name, rule)
            assert expectation.expectation_type in (
                "expect_table_columns_to_match_set", "expect_column_values_to_not_be_null",
                "expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
                "expect_compound_columns_to_be_unique"), (name, rule)  # row rules, or keyed by file


def test_a_new_file_is_validated_alone_and_a_changed_one_again(con):
    assert validate_table(con, "survey_answers", scale_max=5).passed_before is None
    con.execute("INSERT INTO staging.survey_answers VALUES "
                "('surveys/q2.csv', 'r9', 'I share AI tips', 'collaboration', false, 9, 9)")
    result = validate_table(con, "survey_answers", scale_max=5)
    assert not result.success and result.rows_checked == 3
    assert failures(result) == {("expect_column_values_to_be_between", "points"): 1,
                                ("expect_column_values_to_be_between", "answer_points"): 1}
    con.execute("UPDATE staging.survey_answers SET points = 5, answer_points = 5 WHERE file = 'surveys/q2.csv'")
    assert validate_table(con, "survey_answers", scale_max=5).success
    assert validate_table(con, "survey_answers", scale_max=5).passed_before is not None
    # an earlier file changed (a corrected re-export): its rows are validated again
    con.execute("UPDATE staging.survey_answers SET points = 0 "
                "WHERE file = 'surveys/q1.csv' AND item = 'I share AI tips'")
    result = validate_table(con, "survey_answers", scale_max=5)
    assert failures(result) == {("expect_column_values_to_be_between", "points"): 1}


def test_the_validation_worker_gives_the_same_outcomes(con):
    from kpi.quality import validation_worker

    con.execute("UPDATE staging.employees SET fte = 2.0 WHERE employee_key = 'p_e2'")
    here = validate_table(con, "employees")
    with validation_worker():
        there = validate_table(con, "employees")
    assert not there.success and there.outcomes == here.outcomes
    assert failures(there) == {("expect_column_values_to_be_between", "fte"): 1}


def _gx_import_running() -> bool:
    """In the validation worker: is Great Expectations still being imported in the background?"""
    import threading

    return any(thread.name == "kpi-gx-import" and thread.is_alive() for thread in threading.enumerate())


def test_nothing_new_reads_no_frame_and_a_new_file_only_its_rows(con, monkeypatch):
    """The parts that passed before are told apart by digests DuckDB computes: unchanged tables are
    not read into pandas at all, and of a per-file suite only the new or changed files are."""
    from kpi import quality

    for name in SUITE_NAMES:
        assert validate_table(con, name, today=TODAY, scale_max=5).success, name
    fetched: list = []
    real = quality._frame
    monkeypatch.setattr(quality, "_frame", lambda c, name, files: fetched.append((name, files)) or real(c, name, files))
    for name in SUITE_NAMES:
        assert validate_table(con, name, today=TODAY, scale_max=5).passed_before is not None, name
    assert fetched == []
    con.execute("INSERT INTO staging.usage_activity VALUES ('usage/b.csv', 1, 'canonical_events', '2024-03-06', "
                "NULL, 'p_u1', false, 'chatgpt', NULL, 2, 1, 1, 'k9', NULL, NULL, NULL)")
    con.execute("UPDATE staging.employees SET department = 'Finance' WHERE employee_key = 'p_e1'")
    assert validate_table(con, "usage_activity", today=TODAY, scale_max=5).success
    assert validate_table(con, "employees", today=TODAY, scale_max=5).success
    assert fetched == [("usage_activity", ["usage/b.csv"]), ("employees", None)]
    # a column of another type is another frame, even with the same values
    con.execute("ALTER TABLE staging.use_cases ALTER COLUMN est_hours_saved_per_month TYPE DECIMAL(9, 2)")
    assert validate_table(con, "use_cases", today=TODAY, scale_max=5).passed_before is None


def test_survey_answers_validated_in_chunks_of_files_equal_one_validation(con, monkeypatch):
    """Per-file suites are validated a few whole files at a time (memory); the merged outcome is the
    outcome of validating everything at once: the same failures, counts and examples."""
    from kpi import quality

    answers = [(f"surveys/w{f}.csv", f"r{r}", "I share AI tips", "collaboration", False, p, p)
               for f in range(4) for r, p in enumerate([4, 9, 3, 0][: f + 1])]
    con.executemany("INSERT INTO staging.survey_answers VALUES (?, ?, ?, ?, ?, ?, ?)", answers)
    con.execute("INSERT INTO staging.survey_answers VALUES "
                "('surveys/w3.csv', 'r0', 'I share AI tips', 'collaboration', false, 4, 4)")  # a repeated key
    whole = validate_table(con, "survey_answers", scale_max=5)
    assert not whole.success
    assert whole.passed_before is None  # failed: nothing remembered, so the next call validates again
    frames: list = []
    real = quality._frame
    monkeypatch.setattr(quality, "_frame", lambda c, name, files: frames.append(files) or real(c, name, files))
    monkeypatch.setattr(quality, "VALIDATE_CHUNK_ROWS", 4)
    chunked = validate_table(con, "survey_answers", scale_max=5)
    assert frames == [["surveys/q1.csv", "surveys/w0.csv"], ["surveys/w1.csv"], ["surveys/w2.csv"],
                      ["surveys/w3.csv"]]
    assert chunked.outcomes == whole.outcomes
    assert failures(chunked) == {("expect_column_values_to_be_between", "points"): 4,  # 9, 9, 9 and 0
                                 ("expect_column_values_to_be_between", "answer_points"): 4,
                                 ("expect_compound_columns_to_be_unique", "file, response_id, item"): 2}


def test_a_validation_started_after_the_ingest_step_is_what_the_check_returns(con):
    """`start_validation` (called by the ingest assets once their step committed) validates in the
    worker while the run goes on; the check collects that outcome, unless the table changed since
    (then it validates what is there now). Without a worker nothing is started."""
    from kpi import quality
    from kpi.quality import start_validation, validation_worker

    con.execute("UPDATE staging.employees SET fte = 2.0 WHERE employee_key = 'p_e2'")
    assert start_validation(con, "employees") is False  # no worker: the check validates in-process
    here = validate_table(con, "employees")
    with validation_worker() as pool:
        # The worker imports GX (3 s of CPU) in a background thread: a run that validates nothing
        # (nothing new) ends without waiting for the import, and a task is served at once.
        assert pool.submit(_gx_import_running).result() is True
        assert start_validation(con, "employees") is True
        assert set(quality._STARTED) == {"employees"}
        collected = validate_table(con, "employees")
        assert quality._STARTED == {} and collected.outcomes == here.outcomes and not collected.success
        assert start_validation(con, "employees") is True
        con.execute("UPDATE staging.employees SET fte = 1.0 WHERE employee_key = 'p_e2'")  # changed since
        assert validate_table(con, "employees").success
        assert start_validation(con, "employees") is False  # passed before: nothing to start
        assert start_validation(con, "survey_answers", scale_max=5) is True
        assert set(quality._STARTED) == {"survey_answers"}
    assert quality._STARTED == {}  # forgotten with the worker
