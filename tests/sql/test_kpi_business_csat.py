"""Customer satisfaction against the baseline in marts.kpi_business (docs/metrics.md §3).

program.start 2025-01-01 with 3 baseline months: B = Oct .. Dec 2024; Q1 2025 = Jan .. Mar.
csat is the case-weighted mean of the months that report it:

    process  dept     month    cases  csat
    quotes   Sales    2024-10    100  4.0     B: (100 × 4.0 + 300 × 3.0) / 400 = 3.25
    quotes   Sales    2024-11    300  3.0        (an unweighted mean would be 3.5)
    quotes   Sales    2024-12     50  -          no csat: left out of both sums
    quotes   Sales    2025-01    300  4.5     q: (300 × 4.5 + 100 × 3.5) / 400 = 4.25
    quotes   Sales    2025-02    100  -          (an unweighted mean would be 4.0)
    quotes   Sales    2025-03    100  3.5     change 4.25 - 3.25 = 1.0
    claims   Service  2024-12     60  -       no csat anywhere: NULL
    claims   Service  2025-02     50  -
    tenders  Sales    2025-01     40  3.8     csat only in q: no baseline, no change
"""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.marts import build_quarter
from tests.sql.test_kpi_champions_maturity import empty_warehouse, make_config

D = dt.date

PROCESS = [
    # month, process, department, cases, csat
    (D(2024, 10, 1), "quotes", "Sales", 100, 4.0),
    (D(2024, 11, 1), "quotes", "Sales", 300, 3.0),
    (D(2024, 12, 1), "quotes", "Sales", 50, None),
    (D(2025, 1, 1), "quotes", "Sales", 300, 4.5),
    (D(2025, 2, 1), "quotes", "Sales", 100, None),
    (D(2025, 3, 1), "quotes", "Sales", 100, 3.5),
    (D(2024, 12, 1), "claims", "Service", 60, None),
    (D(2025, 2, 1), "claims", "Service", 50, None),
    (D(2025, 1, 1), "tenders", "Sales", 40, 3.8),
]


@pytest.fixture(scope="module")
def q1():
    con = empty_warehouse()
    con.executemany("INSERT INTO staging.process_metrics VALUES (?, ?, ?, ?, ?, 0, ?)",
                    [[m, p, d, c, c * 10.0, s] for m, p, d, c, s in PROCESS])
    build_quarter(con, make_config(), "2025-Q1")
    relation = con.sql("SELECT * FROM marts.kpi_business WHERE quarter = '2025-Q1'")
    out = {(r[1], r[2]): dict(zip(relation.columns, r)) for r in relation.fetchall()}
    con.close()
    return out


def test_csat_is_case_weighted_over_the_months_that_report_it(q1):
    quotes = q1[("quotes", "Sales")]
    assert quotes["cases"] == 500  # every month counts for the cases, only csat months for csat
    assert quotes["csat"] == pytest.approx(4.25)
    assert quotes["baseline_csat"] == pytest.approx(3.25)
    assert quotes["csat_change"] == pytest.approx(1.0)


def test_csat_is_null_without_data_and_on_the_company_row(q1):
    claims = q1[("claims", "Service")]
    assert (claims["csat"], claims["baseline_csat"], claims["csat_change"]) == (None, None, None)
    tenders = q1[("tenders", "Sales")]
    assert tenders["csat"] == pytest.approx(3.8)
    assert (tenders["baseline_csat"], tenders["csat_change"]) == (None, None)
    company = q1[("all", "all")]
    assert (company["csat"], company["baseline_csat"], company["csat_change"]) == (None, None, None)
