"""The generic table reader for hr/, finance/ and business/ files (kpi.adapters.tables)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from kpi.adapters.tables import (
    ASSESSMENTS,
    COSTS,
    EMPLOYEES,
    PROCESS_METRICS,
    SPECS,
    TRAININGS,
    USE_CASES,
    read_table,
)
from kpi.errors import ConfigError, InputError

D = dt.date


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def reasons(result):
    return [(q["row_number"], q["column"], q["value"], q["reason"]) for q in result.quarantine]


def test_specs_cover_every_table():
    assert set(SPECS) == {"employees", "trainings", "assessments", "course_feedback", "costs", "licenses",
                          "process_metrics", "use_cases"}
    assert EMPLOYEES.required == ["employee_id", "department", "target_group", "hire_date"]
    assert TRAININGS.required == ["employee_id", "course_id", "format", "started_on", "status", "hours"]
    assert ASSESSMENTS.key == ("employee_id", "instrument", "assessed_on")
    assert EMPLOYEES.identifier_columns == ["employee_id", "email", "github_login"]


def test_employees_mapped_german_export_with_decimal_commas(tmp_path):
    text = (
        "Personalnummer;Abteilung;Zielgruppe;Eintritt;Austritt;FTE;Stundensatz;Name\n"
        "E1;Vertrieb;User;2024-01-01;;0,5;55,50;Anna\n"
        "E2;Vertrieb;Praktikant;2024-01-01;;;;Ben\n"
        "e1;Technik;manager;2024-01-01;;;;Anna again\n"
        "E3;Technik;manager;2024-01-01;2023-12-31;;;Cem\n"
        "E4;;champion;2024-01-01;;;;Dana\n"
        "E5;Technik;executive;01.02.2024;;;;Eli\n"
        "E6;Technik;executive;2024-02-01;;1,5;;Fay\n"
        "E7;Technik;executive;2024-02-01;;;0;Gil\n"
        "E8;Technik;Executive;2024-02-01;null;1;120;Hal\n"
        "E9;Technik;user;2024-02-01\n"
    )
    mapping = {"Personalnummer": "employee_id", "abteilung": "department", "Zielgruppe": "target_group",
               "Eintritt": "hire_date", "Austritt": "exit_date", "Stundensatz": "hourly_cost_eur"}
    result = read_table(write(tmp_path, "e.csv", text), "hr/employees.csv", EMPLOYEES, mapping, ".")
    result.check_accounting()
    assert result.decimal == "," and result.delimiter == ";"
    assert result.rows.columns == ["row_number", *EMPLOYEES.names]
    selected = result.rows.select("row_number", "employee_id", "target_group", "fte", "hourly_cost_eur", "exit_date")
    assert selected.rows() == [
        (1, "E1", "user", 0.5, 55.5, None),
        (9, "E8", "executive", 1.0, 120.0, None),  # empty fte -> default 1.0; "null" exit -> none
    ]
    assert reasons(result) == [
        (2, "Zielgruppe", "Praktikant", "out_of_range"),
        (3, "Personalnummer", "e1", "duplicate"),
        (4, "Austritt", "2023-12-31", "out_of_range"),
        (5, "Abteilung", "", "missing_required"),
        (6, "Eintritt", "01.02.2024", "invalid_date"),
        (7, "FTE", "1,5", "out_of_range"),
        (8, "Stundensatz", "0", "out_of_range"),
        (10, None, "E9;Technik;user;2024-02-01", "malformed_row"),
    ]
    assert result.rows_read == 10 and result.rows_loaded == 2
    assert result.mapped_columns["employee_id"] == "Personalnummer"
    assert result.personal_columns == {"Personalnummer"}


def test_missing_required_column_stops_with_the_fix(tmp_path):
    path = write(tmp_path, "e.csv", "employee_id,email,department,target_group\nE1,a@x,Sales,user\n")
    with pytest.raises(InputError) as err:
        read_table(path, "hr/employees.csv", EMPLOYEES, {}, ".")
    assert str(err.value) == (
        "hr/employees.csv: required column 'hire_date' is missing (found: employee_id, email, department, "
        "target_group); add it or map your header under columns.employees in the config"
    )


def test_mapping_to_an_unknown_column_and_ambiguous_headers(tmp_path):
    path = write(tmp_path, "e.csv", "Personalnummer,employee_id,department,target_group,hire_date\n")
    with pytest.raises(ConfigError, match=r"^columns.employees: 'Personalnummer' maps to 'employe_id'"):
        read_table(path, "hr/employees.csv", EMPLOYEES, {"Personalnummer": "employe_id"})
    with pytest.raises(InputError, match=r"columns 'Personalnummer' and 'employee_id' both give 'employee_id'"):
        read_table(path, "hr/employees.csv", EMPLOYEES, {"Personalnummer": "employee_id"})


def test_trainings_enums_hours_and_duplicate_key(tmp_path):
    text = (
        "employee_id,course_id,format,started_on,completed_on,status,hours\n"
        "E1,C1,Basics Workshop,2025-01-10,2025-01-10,Completed,4\n"
        "E1,C1,basics_workshop,2025-01-10,,enrolled,4\n"
        "E1,C1,basics_workshop,2025-02-10,,enrolled,4\n"
        "E2,C2,webinar,2025-01-10,,enrolled,1\n"
        "E3,C2,elearning,2025-01-10,,dropped,-1\n"
        "E4,C2,elearning,2025-01-10,,dropped,\n"
        "E5,C3,coaching,2025-01-10,2025-13-01,completed,2.5\n"
    )
    result = read_table(write(tmp_path, "t.csv", text), "hr/trainings.csv", TRAININGS)
    result.check_accounting()
    assert result.rows.select("row_number", "format", "started_on", "status", "hours").rows() == [
        (1, "basics_workshop", D(2025, 1, 10), "completed", 4.0),
        (3, "basics_workshop", D(2025, 2, 10), "enrolled", 4.0),
    ]
    assert reasons(result) == [
        (2, "course_id", "C1", "duplicate"),
        (4, "format", "webinar", "out_of_range"),
        (5, "hours", "-1", "out_of_range"),
        (6, "hours", "", "missing_required"),
        (7, "completed_on", "2025-13-01", "invalid_date"),
    ]


def test_assessments_score_above_max(tmp_path):
    text = (
        "employee_id,assessed_on,instrument,score,max_score\n"
        "E1,2025-01-10,ai_literacy,70,100\n"
        "E1,2025-01-11,ai_literacy,120,100\n"
        "E1,2025-01-12,prompt_quality,5,0\n"
    )
    result = read_table(write(tmp_path, "a.csv", text), "hr/assessments.csv", ASSESSMENTS)
    result.check_accounting()
    assert result.rows.select("score", "max_score").rows() == [(70.0, 100.0)]
    assert reasons(result) == [(2, "score", "120", "out_of_range"), (3, "max_score", "0", "out_of_range")]


def test_costs_process_metrics_and_use_cases(tmp_path):
    costs = ("booked_on,category,amount_eur,description\n2025-01-05,licenses,\"1,200.50\",seats\n"
             "2025-01-06,external_training,-300,credit note\n2025-01-07,travel,10,\n")
    result = read_table(write(tmp_path, "c.csv", costs), "finance/costs.csv", COSTS)
    result.check_accounting()
    assert result.rows.select("booked_on", "category", "amount_eur", "description", "department").rows() == [
        (D(2025, 1, 5), "licenses", 1200.5, "seats", None),
        (D(2025, 1, 6), "external_training", -300.0, "credit note", None),
    ]
    assert reasons(result) == [(3, "category", "travel", "out_of_range")]

    metrics = ("month;process;department;cases;handling_minutes;errors;csat\n2025-01;quotes;Sales;40;1200,5;2;4,2\n"
               "2025-02;quotes;Sales;4,5;10;;\n2025-13;quotes;Sales;1;1;;\n")
    result = read_table(write(tmp_path, "p.csv", metrics), "business/process_metrics.csv", PROCESS_METRICS)
    result.check_accounting()
    assert result.rows.select("month", "cases", "handling_minutes", "errors", "csat").rows() == [
        (D(2025, 1, 1), 40, 1200.5, 2, 4.2),
    ]
    assert dict(result.rows.schema)["cases"] == pl.Int64
    assert reasons(result) == [(2, "cases", "4,5", "out_of_range"), (3, "month", "2025-13", "invalid_date")]

    cases = ("use_case_id,title,department,submitted_on,status,self_developed\n"
             "U1,Quote bot,Sales,2025-02-01,pilot,TRUE\nU2,,Sales,2025-02-01,pilot,perhaps\n")
    result = read_table(write(tmp_path, "u.csv", cases), "business/use_cases.csv", USE_CASES)
    result.check_accounting()
    assert result.rows.select("use_case_id", "title", "self_developed", "est_hours_saved_per_month").rows() == [
        ("U1", "Quote bot", True, None),
    ]
    assert reasons(result) == [(2, "self_developed", "perhaps", "out_of_range")]


def test_header_only_file_and_bom(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfbooked_on,category,amount_eur\r\n")
    result = read_table(path, "finance/costs.csv", COSTS)
    result.check_accounting()
    assert result.rows_read == 0 and result.rows.height == 0
    assert dict(result.rows.schema) == COSTS.schema
