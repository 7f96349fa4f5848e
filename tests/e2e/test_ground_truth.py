"""The demo company's injected ground truth, recovered from the warehouse the pipeline built.

The generator (kpi/synthetic) writes what it injected into fixtures/demo/ground_truth.json. Each
test derives an expected figure from those parameters and from the raw input files (read with
polars, independently of the pipeline) and compares it with the mart, within a tolerance that
comes from the generator's own noise, worked out in the comments. The demo data is committed,
so every measured value is fixed; the tolerances are what a correct pipeline must meet on any
seed, and tight enough that the usual mistakes (a threshold off by one, the wrong window,
counting outside employment) fail.

Uses the session fixture `demo_warehouse` read-only.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import numpy as np
import polars as pl
import pytest

from kpi.paths import DEMO_DIR
from kpi.quarters import quarter_bounds, quarter_label, quarters_between

TRUTH = json.loads((DEMO_DIR / "ground_truth.json").read_text(encoding="utf-8"))
FAR_FUTURE = dt.date(9999, 12, 31)


@pytest.fixture(scope="module")
def con(demo_warehouse):
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def employees() -> pl.DataFrame:
    """hr/employees.csv as given, with each employee's first completed training (the generator's
    `trained_on`: "completed_on of the employee's first training row with status completed")."""
    hr = pl.read_csv(DEMO_DIR / "hr" / "employees.csv", infer_schema_length=0).with_columns(
        pl.col("hire_date").str.to_date(), pl.col("exit_date").str.to_date())
    trained = (pl.read_csv(DEMO_DIR / "hr" / "trainings.csv", infer_schema_length=0)
               .filter(pl.col("status") == "completed")
               .group_by("employee_id").agg(pl.col("completed_on").str.to_date().min().alias("trained_on")))
    return hr.join(trained, on="employee_id", how="left")


def _employed_in(frame: pl.DataFrame, quarter: str) -> pl.DataFrame:
    first, last = quarter_bounds(quarter)
    return frame.filter((pl.col("hire_date") <= last) & (pl.col("exit_date").fill_null(FAR_FUTURE) >= first))


def _quarters() -> list[str]:
    return quarters_between(dt.date.fromisoformat(TRUTH["dates"]["window_start"]),
                            dt.date.fromisoformat(TRUTH["dates"]["program_end"]))


def _fetch(con, sql: str, *params):
    return con.sql(sql, params=list(params)).fetchall()


# ------------------------------------------------------------------------------ headcount

def test_headcount_equals_the_employees_of_the_quarter_in_the_hr_file(con, employees):
    """METRICS §1: headcount = |P(q) ∩ segment|, P(q) = employment overlapping q. Exact."""
    checked = 0
    for quarter in _quarters():
        staff = _employed_in(employees, quarter)
        expected = {("company", "all"): staff.height}
        for column, segment_type in (("department", "department"), ("target_group", "target_group")):
            for segment, n in staff.group_by(column).len().iter_rows():
                expected[(segment_type, segment)] = n
        for table in ("kpi_usage", "kpi_competence"):
            rows = _fetch(con, f"SELECT segment_type, segment, group_size, headcount, suppressed FROM marts.{table} "
                               "WHERE quarter = ? AND segment_type <> 'tool'", quarter)
            assert {(t, s): g for t, s, g, _, _ in rows} == expected, (table, quarter)
            for segment_type, segment, _, headcount, suppressed in rows:
                if not suppressed:
                    assert headcount == expected[(segment_type, segment)], (table, quarter, segment)
                    checked += 1
    assert checked > 100


def test_trained_share_follows_the_training_file(con, employees):
    """METRICS §2: share of headcount with a completed training on or before the quarter's end.
    Recomputed from trainings.csv; exact. It is also close to the injected monthly shares of
    ground_truth.json (employed on the 15th), within one or two people of a department."""
    for quarter in _quarters():
        _, last = quarter_bounds(quarter)
        staff = _employed_in(employees, quarter).with_columns(
            (pl.col("trained_on").is_not_null() & (pl.col("trained_on") <= last)).alias("trained"))
        expected = dict(staff.group_by("department").agg(pl.col("trained").mean()).iter_rows())
        expected["all"] = staff["trained"].mean()
        rows = _fetch(con, "SELECT segment, trained_share FROM marts.kpi_competence WHERE quarter = ? "
                           "AND segment_type IN ('company', 'department')", quarter)
        assert {s: pytest.approx(v, abs=1e-12) for s, v in rows} == expected, quarter
        injected = TRUTH["trained_share_by_department_month"]
        month = f"{last.year:04d}-{last.month:02d}"
        mid = last.replace(day=15)
        for department, share in rows:
            if department != "all":
                members = staff.filter(pl.col("department") == department)
                # the truth is taken on the 15th: a wave finishing in the second half of the
                # quarter's last month moves the share by the people trained after that day
                late = members.filter(pl.col("trained_on").is_not_null() & (pl.col("trained_on") > mid)
                                      & (pl.col("trained_on") <= last)).height
                assert abs(share - injected[department][month]) <= (2 + late) / members.height + 1e-9, (
                    quarter, department)


# -------------------------------------------------------------------------- regular users

def _expected_regular_share(staff: pl.DataFrame, quarter: str, min_weeks: int) -> tuple[float, float]:
    """Expected regular-user rate of `staff` in `quarter` under the injected adoption model, and
    its standard deviation (the persons are independent Bernoulli draws).

    Per person and Monday-start week touching the quarter (ground_truth "adoption"):
    p = plateau − (plateau − after)·exp(−t/τ) with t = days from trained_on to the Monday (t ≥ 0),
    else the department's untrained probability; times the season (August 0.7, the Christmas
    week 0.4) and a personal factor f ~ U(0.85, 1.15). A week counts when it is active and one
    of its active workdays lies inside the quarter and inside employment: for a week cut by the
    quarter or by hire/exit with a of its n employed workdays inside, that probability is taken
    as 1 − (1 − a/n)² (about two active workdays per active week, 1 + Binomial(4, ~0.3)).
    The number of counted weeks is Poisson-binomial; P(≥ min_weeks) is averaged over f.
    """
    adoption = TRUTH["adoption"]
    plateau = adoption["weekly_active_probability_plateau"]
    after = adoption["weekly_active_probability_after_training"]
    tau = adoption["ramp_time_constant_days"]
    untrained = adoption["weekly_active_probability_untrained"]
    factors = np.linspace(*adoption["personal_factor_uniform"], 61)
    first, last = quarter_bounds(quarter)
    monday = first - dt.timedelta(days=first.weekday())
    mondays = []
    while monday <= last:
        mondays.append(monday)
        monday += dt.timedelta(days=7)

    def season(monday: dt.date) -> float:
        thursday = monday + dt.timedelta(days=3)
        if (thursday.month == 12 and thursday.day >= 21) or (thursday.month == 1 and thursday.day <= 3):
            return adoption["seasonal_factors"]["christmas_week"]
        return adoption["seasonal_factors"]["august"] if thursday.month == 8 else 1.0

    probabilities = []
    for person in staff.iter_rows(named=True):
        hire, leave, trained_on = person["hire_date"], person["exit_date"] or FAR_FUTURE, person["trained_on"]
        p_week, inside = [], []
        for monday in mondays:
            workdays = [monday + dt.timedelta(days=i) for i in range(5)]
            employed = [d for d in workdays if hire <= d <= leave]
            in_quarter = [d for d in employed if first <= d <= last]
            if not in_quarter:
                continue
            if trained_on is not None and monday >= trained_on:
                p = plateau - (plateau - after) * math.exp(-(monday - trained_on).days / tau)
            else:
                p = untrained[person["department"]]
            p_week.append(p * season(monday))
            inside.append(1 - (1 - len(in_quarter) / len(employed)) ** 2)
        q = np.minimum(1.0, np.outer(factors, p_week)) * np.array(inside)  # factors x weeks
        dist = np.zeros((len(factors), len(p_week) + 1))
        dist[:, 0] = 1.0
        for k in range(q.shape[1]):  # Poisson-binomial, one week at a time
            step = q[:, k:k + 1]
            dist[:, 1:] = dist[:, 1:] * (1 - step) + dist[:, :-1] * step
            dist[:, 0] *= 1 - step[:, 0]
        probabilities.append(float(dist[:, min_weeks:].sum(axis=1).mean()))
    probabilities = np.array(probabilities)
    return float(probabilities.mean()), float(math.sqrt((probabilities * (1 - probabilities)).sum()) / len(staff))


REGULAR_QUARTERS = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_regular_user_rate_recovers_the_injected_adoption_curve(con, employees):
    """Company regular_user_rate of every programme quarter vs the adoption model.

    Tolerance: 3 standard deviations of the binomial sampling of 180 people (0.007-0.028 by
    quarter) plus 0.005 for the model's approximations (boundary weeks, M365's one-day-per-app
    proof). Measured |z| ≤ 2.1 on the demo. With regular_min_active_weeks one off (5 or 7
    instead of 6) 2025-Q1 misses by more than 5 SD, so a threshold bug fails here.

    In the plateau quarter 2026-Q2 (no season) the rate must also be close to the simple
    mixture the ground truth states: trained share × P(≥ 6 of 13 weeks at the plateau) +
    untrained share × P(≥ 6 of 13 | untrained) ≈ 0.95 × 0.998; people who joined or left during
    the quarter have fewer weeks, which costs up to ~4 points, hence the 0.05 band.
    """
    min_weeks = TRUTH["regular_user_share_targets"]["regular_min_active_weeks"]
    for quarter in REGULAR_QUARTERS:
        staff = _employed_in(employees, quarter)
        expected, sd = _expected_regular_share(staff, quarter, min_weeks)
        [(measured, headcount)] = _fetch(con, "SELECT regular_user_rate, headcount FROM marts.kpi_usage "
                                              "WHERE quarter = ? AND segment_type = 'company'", quarter)
        assert headcount == staff.height
        assert abs(measured - expected) <= 3 * sd + 0.005, (quarter, measured, expected, sd)

    targets = TRUTH["regular_user_share_targets"]
    [(rate, trained)] = _fetch(con, "SELECT u.regular_user_rate, c.trained_share FROM marts.kpi_usage u "
                                    "JOIN marts.kpi_competence c USING (quarter, segment_type, segment) "
                                    "WHERE quarter = '2026-Q2' AND segment_type = 'company'")
    mixture = trained * targets["trained_at_plateau"] + (1 - trained) * targets["untrained_office"]
    assert mixture - 0.05 <= rate <= mixture + 0.005


def test_regular_users_need_more_weeks_than_the_threshold_minus_one(con, employees):
    """The ramp quarters discriminate the threshold: the departments are trained in staggered
    waves (ground_truth attribution_design.treatment_months, 2025-02 to 2025-09), so each of
    2025-Q1..Q3 has a part of the company in its first weeks after training, and no quarter ramps
    the whole company as a single rollout did. Recomputing the expectation with 5 or with 7 weeks
    puts the measured rate more than 2.5 SD away in at least one of them (measured: 5 weeks
    -3.9 SD in 2025-Q1, 7 weeks +2.9 SD in 2025-Q1), while the right threshold is within 1.2 SD
    in all of them (-0.4, -1.2, +0.2)."""
    for wrong in (5, 7):
        worst = 0.0
        for quarter in ("2025-Q1", "2025-Q2", "2025-Q3"):
            staff = _employed_in(employees, quarter)
            [(measured,)] = _fetch(con, "SELECT regular_user_rate FROM marts.kpi_usage "
                                        "WHERE quarter = ? AND segment_type = 'company'", quarter)
            expected, sd = _expected_regular_share(staff, quarter, wrong)
            worst = max(worst, abs(measured - expected) / sd)
        assert worst > 2.5, wrong


# ------------------------------------------------------------------------------- business

LAST_QUARTER = "2026-Q3"


def _process_expectations(quarter: str):
    """Per (process, department): the injected model's expectation of the quarter's minutes per
    case relative to the series' baseline and of its error rate (both case-weighted over the
    months, as the mart's sums are), the quarter's and the baseline's cases (from
    process_metrics.csv), and the expected baseline error rate.

    The model (ground_truth "process_model"): in month m, k months after the first baseline month,
    minutes per case = baseline × trend^k × (1 − max_time_reduction × share_m), error rate =
    baseline × trend_e^k × (1 − max_error_reduction × share_m), share_m = the trained share of the
    department's users on the 15th (process_share_by_department_month; 0 in the baseline)."""
    metrics = pl.read_csv(DEMO_DIR / "business" / "process_metrics.csv")
    first, _ = quarter_bounds(quarter)
    months = [f"{first.year:04d}-{first.month + i:02d}" for i in range(3)]
    shares = TRUTH["process_share_by_department_month"]
    all_months = sorted(shares[next(iter(shares))])
    trend_m = 1 - TRUTH["secular_trend_per_month"]["minutes_per_case"]
    trend_e = 1 - TRUTH["secular_trend_per_month"]["error_rate"]
    baseline_months = TRUTH["dates"]["baseline_months"]
    out = {}
    for process, by_department in TRUTH["processes"].items():
        for department, spec in by_department.items():
            rows = metrics.filter((pl.col("process") == process) & (pl.col("department") == department))

            cases = dict(rows.select("month", "cases").iter_rows())
            share = shares[department]

            def weighted(months_, factor, cases=cases):
                return sum(cases[m] * factor(m) for m in months_) / sum(cases[m] for m in months_)

            def k(m):
                return all_months.index(m)

            r_time, r_error = spec["max_time_reduction"], spec["max_error_reduction"]
            base_m = weighted(baseline_months, lambda m: trend_m ** k(m))
            quarter_m = weighted(months, lambda m, r=r_time, s=share: trend_m ** k(m) * (1 - r * s[m]))
            base_e = weighted(baseline_months, lambda m: trend_e ** k(m))
            quarter_e = weighted(months, lambda m, r=r_error, s=share: trend_e ** k(m) * (1 - r * s[m]))
            in_q = rows.filter(pl.col("month").is_in(months))
            baseline_cases = rows.filter(pl.col("month").is_in(baseline_months))["cases"].sum()
            out[(process, department)] = {
                "time_reduction": 1 - quarter_m / base_m,
                "error_rate": spec["baseline_error_rate"] * quarter_e,
                "baseline_error_rate": spec["baseline_error_rate"] * base_e,
                "cases": int(in_q["cases"].sum()), "baseline_cases": int(baseline_cases)}
    return out


def test_time_reduction_is_max_reduction_times_trained_share(con):
    """Injected: minutes_per_case = baseline × trend^k × (1 − max_time_reduction × share) ×
    lognormal(0, 0.04) per month, so time_reduction ≈ 1 − (trend over the quarter / trend over the
    baseline) × (1 − max_time_reduction × share), case-weighted (_process_expectations).

    Tolerance per process: 3σ with σ = (1 − expected) × 0.04 × √(1/3 + 1/3) — the lognormal noise
    averaged over the quarter's 3 months and the baseline's 3 months (≈ 0.018-0.024). The mean
    deviation over the six processes must be within 3σ/√6 as well."""
    expectations = _process_expectations(LAST_QUARTER)
    rows = _fetch(con, "SELECT process, department, time_reduction, hours_saved FROM marts.kpi_business "
                       "WHERE quarter = ? AND process <> 'all'", LAST_QUARTER)
    assert {(p, d) for p, d, *_ in rows} == set(expectations)
    deviations, sigmas = [], []
    for process, department, time_reduction, hours_saved in rows:
        expected = expectations[(process, department)]["time_reduction"]
        sigma = (1 - expected) * 0.04 * math.sqrt(2 / 3)
        assert abs(time_reduction - expected) <= 3 * sigma, (process, department, time_reduction, expected)
        assert hours_saved > 0
        deviations.append(time_reduction - expected)
        sigmas.append(sigma)
    assert abs(np.mean(deviations)) <= 3 * max(sigmas) / math.sqrt(len(deviations))


def test_errors_fall_below_baseline_by_max_error_reduction_times_trained_share(con):
    """Injected: errors ~ Binomial(cases, baseline_error_rate × trend_e^k × (1 − max_error_reduction × share)).

    Checked, for the last quarter:
    - errors_avoided > 0 for every process and for the company row (which is their sum);
    - each process's error_rate vs the injected rate × (1 − max_error_reduction × share), within
      3 binomial standard deviations of the quarter's cases (tender documents, ~110 cases:
      ±0.078; invoice processing, ~6,000 cases: ±0.006). Measured |z| ≤ 1.6;
    - pooled over the six processes, the quarter's errors vs the expected count within 3σ
      (208 measured vs 198.8 ± 41.5); without any reduction the baseline rates would give ~345;
    - each measured baseline_error_rate vs the injected one within 3 binomial σ of the baseline
      cases (the comparison the pipeline's errors_avoided rests on).
    The ratio error_rate / baseline_error_rate is not tested per process: with ~13 baseline
    errors in tender documents its noise (±0.8 at 3σ) would make any tolerance meaningless."""
    expectations = _process_expectations(LAST_QUARTER)
    rows = _fetch(con, "SELECT process, department, cases, errors, error_rate, baseline_error_rate, errors_avoided "
                       "FROM marts.kpi_business WHERE quarter = ?", LAST_QUARTER)
    expected_errors = variance = measured_errors = 0.0
    for process, department, cases, errors, error_rate, baseline_error_rate, errors_avoided in rows:
        assert errors_avoided > 0, (process, department)
        if process == "all":
            continue
        expected = expectations[(process, department)]
        baseline_cases = expected["baseline_cases"]
        assert cases == expected["cases"]
        rate = expected["error_rate"]
        assert abs(error_rate - rate) <= 3 * math.sqrt(rate * (1 - rate) / cases), (process, department)
        base = expected["baseline_error_rate"]
        assert abs(baseline_error_rate - base) <= 3 * math.sqrt(base * (1 - base) / baseline_cases), process
        expected_errors += cases * rate
        variance += cases * rate * (1 - rate)
        measured_errors += errors
    assert abs(measured_errors - expected_errors) <= 3 * math.sqrt(variance)
    company = [r for r in rows if r[0] == "all"]
    assert len(company) == 1
    assert company[0][6] == pytest.approx(sum(r[6] for r in rows if r[0] != "all"))


# ------------------------------------------------------------------ matching and quarantine

def test_contractors_are_quarantined_as_unknown_users(con):
    """Every contractor with any gateway activity appears in audit.quarantine (stage 'match',
    reason unknown_user) under its pseudonym, and nothing else does. Exact."""
    from kpi.privacy import DEVELOPMENT_KEY, normalise_identifier, pseudonymise

    contractors = {normalise_identifier(e) for e in TRUTH["contractor_users"]}
    gateway = pl.concat([pl.read_csv(f, infer_schema_length=0).select("user")
                         for f in sorted((DEMO_DIR / "usage" / "gateway").glob("gateway-*.csv"))])
    active = {normalise_identifier(u) for u in gateway["user"].unique().to_list()} & contractors
    assert len(active) == TRUTH["contractors"] == 4
    quarantined = {r[0] for r in _fetch(con, "SELECT DISTINCT value FROM audit.quarantine "
                                             "WHERE stage = 'match' AND reason = 'unknown_user'")}
    assert len(quarantined) == len(active)
    assert quarantined == {pseudonymise(e, DEVELOPMENT_KEY.encode()) for e in active}
    # one quarantine row per contractor row in the gateway files
    normalised = pl.col("user").str.strip_chars().str.to_lowercase()
    contractor_rows = gateway.filter(normalised.is_in(list(contractors))).height
    [(n,)] = _fetch(con, "SELECT count(*) FROM audit.quarantine WHERE stage = 'match' AND reason = 'unknown_user'")
    assert n == contractor_rows


def test_no_usage_is_counted_outside_employment(con, employees):
    """Hires and leavers: matched activity lies within [hire_date, exit_date], and no hire has
    activity before the quarter of the hire. The generator only simulates employed days, so
    the quarantine has no before_hire / after_exit rows either."""
    from kpi.privacy import DEVELOPMENT_KEY, pseudonymise

    key = DEVELOPMENT_KEY.encode()
    window_start = dt.date.fromisoformat(TRUTH["dates"]["window_start"])
    hires = employees.filter(pl.col("hire_date") > window_start)
    assert hires.height >= TRUTH["hires"]
    keys = {pseudonymise(e, key): h for e, h in hires.select("employee_id", "hire_date").iter_rows()}
    first_days = dict(_fetch(con, "SELECT employee_key, min(day) FROM intermediate.usage_activity "
                                  "WHERE employee_key IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1", list(keys)))
    assert len(first_days) >= TRUTH["hires"] // 2  # most hires use a tool: the check is not vacuous
    for employee_key, first_day in first_days.items():
        hired = keys[employee_key]
        assert first_day >= hired  # so nothing before the hire's quarter (or its first days) either
        assert quarter_label(first_day) >= quarter_label(hired)
    [(outside,)] = _fetch(con, "SELECT count(*) FROM intermediate.usage_activity a JOIN staging.employees e "
                               "USING (employee_key) WHERE a.day < e.hire_date OR a.day > e.exit_date")
    assert outside == 0
    assert _fetch(con, "SELECT count(*) FROM audit.quarantine WHERE reason IN ('before_hire', 'after_exit')") == [(0,)]


# ----------------------------------------------------------------------- privacy, snapshots

def test_suppressed_rows_have_every_metric_null(con):
    """METRICS: a suppressed row has every metric NULL, headcount and fte included. Scans every
    KPI table with a `suppressed` column and every column but the row key and group_size."""
    from kpi.catalog import load

    tables = [r[0] for r in _fetch(con, "SELECT table_name FROM information_schema.columns "
                                        "WHERE table_schema = 'marts' AND column_name = 'suppressed'")]
    assert {"kpi_usage", "kpi_competence", "kpi_culture"} <= set(tables)
    suppressed_rows = 0
    for table in tables:
        # the row key (quarter, segment, construct, format, ...), the size and the suppression flags
        not_metrics = {c.name for c in load()[f"marts.{table}"].columns if c.role in ("key", "size")}
        not_metrics |= {"suppressed", "suppression_reason"}
        columns = [r[0] for r in _fetch(con, "SELECT column_name FROM information_schema.columns "
                                             "WHERE table_schema = 'marts' AND table_name = ?", table)
                   if r[0] not in not_metrics]
        assert columns, table
        leaks = " OR ".join(f'"{c}" IS NOT NULL' for c in columns)
        [(n, leaked)] = _fetch(con, f"SELECT count(*), count(*) FILTER (WHERE {leaks}) "
                                    f"FROM marts.{table} WHERE suppressed")
        assert leaked == 0, table
        suppressed_rows += n
        size = load()[f"marts.{table}"].size_column or next(
            c.name for c in load()[f"marts.{table}"].columns if c.role == "size")
        [(small,)] = _fetch(con, f"SELECT count(*) FROM marts.{table} WHERE {size} < 5 AND NOT suppressed")
        assert small == 0, table
    assert suppressed_rows > 50  # executives (4 of them), small tools and survey cells


def test_every_closed_quarter_has_exactly_version_one(con):
    """All quarters of the demo end on or before the last usage day (2026-09-30): closed, one
    snapshot version each, and version 1 holds the marts' current figures."""
    closed = [q for q in _quarters() if quarter_bounds(q)[1] <= dt.date.fromisoformat(TRUTH["dates"]["program_end"])]
    assert closed == _quarters()
    versions = dict(_fetch(con, "SELECT quarter, list(DISTINCT version ORDER BY version) "
                                "FROM marts.kpi_snapshots GROUP BY 1"))
    assert versions == {q: [1] for q in closed}
    [(company_rate,)] = _fetch(con, "SELECT value FROM marts.kpi_snapshots WHERE quarter = '2026-Q2' AND version = 1 "
                                    "AND kpi_table = 'kpi_usage' AND segment = 'all' AND metric = 'regular_user_rate'")
    [(mart_rate,)] = _fetch(con, "SELECT regular_user_rate FROM marts.kpi_usage WHERE quarter = '2026-Q2' "
                                 "AND segment_type = 'company'")
    assert company_rate == pytest.approx(mart_rate, rel=1e-12)
    hashes = _fetch(con, "SELECT count(DISTINCT config_sha256), count(DISTINCT inputs_sha256) FROM marts.kpi_snapshots")
    assert hashes == [(1, 1)]
