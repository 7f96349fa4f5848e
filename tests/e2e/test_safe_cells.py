"""Outputs safe to open: a text cell of a CSV or XLSX export that a spreadsheet would run as a
formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading single quote (OWASP
"CSV injection"); numbers stay numbers, negative ones included. Reproduced with the company name
of issue 12, which reaches roi-assumptions.csv through marts.roi_assumptions (company.name)."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from kpi.export import safe_cell

KPI = str(Path(sys.executable).parent / "kpi")
HOSTILE = '=HYPERLINK("http://x","Click for details")'
FORMULA = re.compile(r"^[=+\-@\t\r]")


@pytest.mark.parametrize("value, expected", [
    (HOSTILE, "'" + HOSTILE),
    ("+1 555 0100", "'+1 555 0100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Demo Maschinenbau GmbH", "Demo Maschinenbau GmbH"),
    ("a=b", "a=b"),  # only the first character counts
    ("", ""),
    (-12.5, -12.5),  # a negative number is a number
    (-3, -3),
    (0.0, 0.0),
    (True, True),
    (None, None),
    (dt.date(2025, 1, 1), dt.date(2025, 1, 1)),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
    assert type(safe_cell(value)) is type(expected)


@pytest.fixture(scope="module")
def hostile_warehouse(demo_warehouse, tmp_path_factory):
    """A copy of the demo warehouse whose company name (as kpi run stores it from company.name)
    is a formula."""
    copy = tmp_path_factory.mktemp("safe_cells") / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE marts.roi_assumptions SET value_text = ? WHERE name = 'company.name'", [HOSTILE])
    return copy


def kpi(*args):
    return subprocess.run([KPI, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_csv_export_neutralises_formulas_and_keeps_numbers(hostile_warehouse, tmp_path):
    target = tmp_path / "x.csv"
    result = kpi("roi", "--warehouse", hostile_warehouse, "--export", target)
    assert result.returncode == 0, result.stderr
    assumptions = list(csv.DictReader((tmp_path / "x-assumptions.csv").open(encoding="utf-8", newline="")))
    company = next(r for r in assumptions if r["name"] == "company.name")
    assert company["value_text"] == "'" + HOSTILE
    monthly = list(csv.reader(target.open(encoding="utf-8", newline="")))
    cells = [c for row in [*monthly[1:], *[list(r.values()) for r in assumptions]] for c in row]
    negative = [c for c in cells if c.startswith("-")]
    assert negative, "the demo's early months have a negative ROI"
    for cell in negative:
        float(cell)  # every cell starting with '-' is a number written as a number
    assert [c for c in cells if FORMULA.match(c) and not _number(c)] == []


def test_csv_to_stdout_is_safe_too(hostile_warehouse):
    result = kpi("roi", "--warehouse", hostile_warehouse, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(result.stdout.splitlines()))
    assert [c for row in rows[1:] for c in row if FORMULA.match(c) and not _number(c)] == []
    assert any(c.startswith("-") for row in rows[1:] for c in row)


def test_xlsx_export_neutralises_formulas_and_keeps_numbers(hostile_warehouse, tmp_path):
    target = tmp_path / "x.xlsx"
    result = kpi("roi", "--warehouse", hostile_warehouse, "--export", target)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(target) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        strings = re.findall(r"<t(?: [^>]*)?>(.*?)</t>", z.read("xl/sharedStrings.xml").decode(), re.S)
    texts = [_unescape(s) for s in strings]
    assert "'" + HOSTILE in texts and HOSTILE not in texts
    assert [t for t in texts if FORMULA.match(t)] == []
    # the workbook's own formulas (docs/roi.md, "The workbook") refer to cells and named
    # assumptions only: no text from the data ever becomes part of one
    formulas = [_unescape(f) for sheet in sheets for f in re.findall(r"<f(?: [^>]*)?>(.*?)</f>", sheet, re.S)]
    assert formulas and not [f for f in formulas if "HYPERLINK" in f.upper() or HOSTILE.lstrip("=+-@") in f]
    # negative numbers stay numbers (never text with a quote in front): in some sheet, as a value
    assert any(re.search(r'<c r="[A-Z]+\d+"(?: s="\d+")?(?: t="n")?><v>-\d', sheet) for sheet in sheets)
    assert not [t for t in texts if re.fullmatch(r"'-\d[\d.]*", t)]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unescape(text: str) -> str:
    return (text.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&"))
