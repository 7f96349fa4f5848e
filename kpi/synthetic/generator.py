"""generate_company(): write a whole synthetic company's inputs folder plus its ground truth."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np

from kpi.config_yaml import dump_yaml
from kpi.errors import UserError
from kpi.quarters import quarter_label
from kpi.synthetic import business, feedback_licences
from kpi.synthetic._common import (
    CHAMPION,
    DEPARTMENTS,
    EXECUTIVE,
    MANAGER,
    NEVER,
    TARGET_GROUPS,
    USER,
    add_months,
    day_number,
    fmt_num,
    from_day,
    iso,
    iso_or_empty,
    month_end,
    write_csv,
)
from kpi.synthetic.notes import NOTES, write_notes
from kpi.synthetic.people import build_workforce, champion_weights, employee_rows
from kpi.synthetic.programme import BASICS_COVERAGE, BASICS_COVERAGE_DEFAULT, build_programme
from kpi.synthetic.usage import AdoptionModel, UsageSimulator

HOURLY_RATES = {TARGET_GROUPS[EXECUTIVE]: 120, TARGET_GROUPS[MANAGER]: 85, TARGET_GROUPS[CHAMPION]: 65,
                TARGET_GROUPS[USER]: 55}
REGULAR_MIN_ACTIVE_WEEKS = 6  # the company's usage.regular_min_active_weeks
TIME_SAVED_MINUTES = {"chat-gateway": 4, "m365-copilot": 6, "github-copilot": 1.5}
OWNED = {  # folders the generator writes, and the file patterns it owns there
    "hr": ("employees.csv", "trainings.csv", "assessments.csv", "course_feedback.csv"),
    "usage/gateway": ("gateway-*.csv", "gateway-events-*.jsonl"),
    "usage/m365": ("copilot-usage-*.csv",),
    "usage/github": ("copilot-users-1-day-*.ndjson",),
    "usage/chatgpt": ("chatgpt-enterprise-users-*.csv",),
    "surveys": ("pulse-*.csv",),
    "finance": ("costs.csv", "licenses.csv"),
    "business": ("process_metrics.csv", "use_cases.csv"),
    ".": ("config.yaml", "ground_truth.json"),
    "notes": tuple(name.removeprefix("notes/") for name in NOTES),
}


def _clean(out: Path) -> None:
    """Remove files an earlier generation left, so a smaller run leaves no stale months."""
    for folder, patterns in OWNED.items():
        d = out / folder
        if d.is_dir():
            for pattern in patterns:
                for f in sorted(d.glob(pattern)):
                    f.unlink()


def _check_args(employees: int, months: int, seed: int, baseline_months: int) -> None:
    if not isinstance(employees, int) or employees < 30:
        raise UserError(
            f"--employees {employees}: the synthetic company needs at least 30 employees; pass a larger number"
        )
    if employees > 99_999:
        raise UserError(f"--employees {employees}: at most 99999 employees are supported; pass a smaller number")
    if not isinstance(months, int) or not 1 <= months <= 60:
        raise UserError(f"--months {months}: programme months must be between 1 and 60")
    if not isinstance(baseline_months, int) or not 0 <= baseline_months <= 12:
        raise UserError(f"baseline_months {baseline_months}: must be between 0 and 12")
    if not isinstance(seed, int) or seed < 0:
        raise UserError(f"--seed {seed}: the seed must be a non-negative integer")


def build_config(name: str, start: date, baseline_months: int) -> dict:
    """The company's config.yaml (docs/configuration.md) as a dict, keys in contract order."""
    cost_per_error = {"default": 50}
    for spec in business.PROCESSES:
        cost_per_error[spec.process] = spec.cost_per_error_eur
    items = {}
    for text, construct, reverse, _off in business.SURVEY_ITEMS:
        items[text] = {"construct": construct, "reverse": True} if reverse else {"construct": construct}
    return {
        "company": {"name": name, "timezone": "Europe/Berlin", "currency": "EUR", "decimal_separator": "."},
        "program": {
            "start": start,
            "baseline_months": baseline_months,
            "budget_per_employee_eur": int(business.BUDGET_PER_EMPLOYEE),
            "budget_split": dict(business.BUDGET_SPLIT),
        },
        "privacy": {"min_group_size": 5, "complementary_suppression": True, "pseudonym_key_env": "KPI_PSEUDONYM_KEY"},
        "usage": {"regular_min_active_weeks": REGULAR_MIN_ACTIVE_WEEKS},
        "competence": {"proficient_score_pct": 70},
        "rates": {"hourly_cost_eur": dict(HOURLY_RATES)},
        "benefits": {
            "attribution": 0.6,
            "confidence": 0.8,
            "include_training_time": True,
            "cost_per_error_eur": cost_per_error,
            "time_saved_minutes_per_interaction": dict(TIME_SAVED_MINUTES),
        },
        "roi": {
            "discount_rate_annual": 0.08,
            "horizon_months": 24,
            "scenarios": {
                "conservative": {"attribution": 0.6, "benefits": 0.8, "costs": 1.1},
                "base": {"attribution": 1.0, "benefits": 1.0, "costs": 1.0},
                "optimistic": {"attribution": 1.2, "benefits": 1.2, "costs": 0.95},
            },
        },
        "alerts": {"usage_drop_points": 10, "culture_drop_points": 10},
        "survey": {
            "scale_max": 5,
            "favorable_min": 4,
            "items": items,
            "labels": {label: k + 1 for k, label in enumerate(business.LABELS)},
        },
    }


def _expected_regular_share(p: float, model: AdoptionModel, weeks: int = 13,
                            min_weeks: int = REGULAR_MIN_ACTIVE_WEEKS) -> float:
    """E over the personal factor of P(active in >= min_weeks of `weeks`), seasons ignored."""
    grid = np.linspace(model.factor_low, model.factor_high, 301)
    total = 0.0
    for f in grid:
        q = min(1.0, p * f)
        total += sum(math.comb(weeks, k) * q**k * (1 - q) ** (weeks - k) for k in range(min_weeks, weeks + 1))
    return total / len(grid)


def _r(x: float, nd: int = 6) -> float:
    return float(round(float(x), nd))


WAVE_GAP_DAYS = 30  # sessions of a format more than this many days apart belong to different waves
BASICS_MILESTONE = "users through the basics training"  # kpi.config's default milestone, due on day 60


def _training_waves(w, prog, start_n: int) -> dict:
    """Per training format, its waves as scheduled: sessions grouped by their first day (a gap
    of more than WAVE_GAP_DAYS starts a new wave), in programme days (day 1 = program.start)."""
    completed: dict[str, int] = {}
    for _p, cid, _fmt, _s, _c, status, _h in prog.rows:
        if status == "completed":
            completed[cid] = completed.get(cid, 0) + 1
    waves: dict[str, list[dict]] = {}
    for course in prog.courses:  # sorted by first day
        first, last = course["first_day"] - start_n + 1, course["last_day"] - start_n + 1
        per_format = waves.setdefault(course["format"], [])
        if not per_format or first - per_format[-1]["last_session_day"] > WAVE_GAP_DAYS:
            per_format.append({"first_session_day": first, "last_session_day": first, "last_day": last,
                               "sessions": 0, "participants": 0, "completed": 0})
        wave = per_format[-1]
        wave["last_session_day"] = first
        wave["last_day"] = max(wave["last_day"], last)
        wave["sessions"] += 1
        wave["participants"] += course["participants"]
        wave["completed"] += completed.get(course["course_id"], 0)
    for per_format in waves.values():
        for wave in per_format:
            wave["dates"] = [iso(start_n + wave["first_session_day"] - 1), iso(start_n + wave["last_day"] - 1)]
    return dict(sorted(waves.items()))


def _where_we_stand(w, prog, start_n: int) -> dict:
    """What the generator injected for marts.kpi_champions, kpi_maturity and rollout_milestones."""
    at_start = w.employed_on(start_n)
    champion_weight = champion_weights(np.ones(len(DEPARTMENTS)))
    without = [DEPARTMENTS[d] for d in range(len(DEPARTMENTS)) if not ((w.tg == CHAMPION) & (w.dept == d)).any()]
    others = [name for name in DEPARTMENTS if name not in without]
    behind = [DEPARTMENTS[d] for d in range(len(DEPARTMENTS)) if champion_weight[d] == 0]
    users = [int((at_start & (w.tg == USER) & (w.dept == d)).sum()) for d in range(len(DEPARTMENTS))]
    coverage = [BASICS_COVERAGE.get(d, BASICS_COVERAGE_DEFAULT) for d in range(len(DEPARTMENTS))]
    due = start_n + 60 - 1
    basics_by_due = np.zeros(w.size, dtype=bool)
    for p, _cid, fmt, _s, c, status, _h in prog.rows:
        if fmt == "basics_workshop" and status == "completed" and c <= due:
            basics_by_due[p] = True
    users_on_due = w.employed_on(due) & (w.tg == USER)
    waves = _training_waves(w, prog, start_n)
    first_basics = waves.get("basics_workshop", [{"first_session_day": 0, "last_day": 0}])[0]
    return {
        "champions_by_department": {DEPARTMENTS[d]: int((at_start & (w.tg == CHAMPION) & (w.dept == d)).sum())
                                    for d in range(len(DEPARTMENTS))},
        "departments_without_champion": without,
        "champion_design": (
            "one champion per 17.5 employees at the start, allocated over the departments by size (largest "
            f"remainder) with the weight of {', '.join(behind)} set to 0 (kpi/synthetic/people.py "
            "champion_weights): its executives and managers lead, no champion multiplies; so it is under_served "
            "in marts.kpi_champions in every quarter. A champion who leaves is replaced by a user, so the "
            "counts only fall; the others stay within the 15-20 band or close to it"),
        "maturity_design": {
            "stays_behind": behind,
            "stays_behind_reason": (
                "no champion: level 3 needs at least maturity.level3_champions (1) champion, so it stays at "
                "level 2 however well it trains and uses the tools; its use cases come only from the base "
                "rate 0.004 x headcount per month (the champion-driven rate is 0), so a self-developed use "
                "case in production, the other level-3 criterion it may miss, is rare too"),
            "reach_level_3": others,
            "company_level_path": (
                "level 1 in the baseline quarters (nobody trained), 2 in the quarter of program.start (the "
                "rollout: trained, active, but not yet regular users), 3 from level_3_from_quarter on"),
            "level_3_from_quarter": quarter_label(from_day(start_n + 90)),
            "reach_level_3_reason": (
                "each has a champion; after the days 31-60 waves its trained share is above 60 %, its "
                "regular-user rate rises above 50 % within a quarter of training, and its champions drive "
                "self-developed use cases into production: level 3 from the quarter after the 90-day rollout "
                "(level_3_from_quarter; in the rollout's own quarter the regular-user rate is still below 50 %). "
                "Level 4 is not designed: proficiency stays below 70 %"),
        },
        "rollout_design": {
            "day_1": iso(start_n),
            "waves": waves,
            "waves_note": (
                "per format, its sessions grouped into waves (a gap of more than 30 days starts a new one), in "
                "programme days (day_1 = program.start = day 1): first_session_day, last_session_day (first days "
                "of the sessions), last_day (the last session's last day, two-day formats end a day later), "
                "sessions, participants (enrolled on the session day, employed then) and completed; the new "
                "hires' self-paced e-learning has no sessions and is not listed"),
            "basics_coverage": {DEPARTMENTS[d]: coverage[d] for d in range(len(DEPARTMENTS))},
            "basics_invited_share_of_users_at_start": _r(float(np.dot(users, coverage)) / max(1, sum(users))),
            "basics_share_of_users_employed_on_day_60": _r(basics_by_due[users_on_due].mean()
                                                           if users_on_due.any() else 0.0),
            "designed_missed": [BASICS_MILESTONE],
            "designed_missed_reason": (
                f"{BASICS_MILESTONE!r} (default config: target 0.8 of the users by day 60): the basics waves "
                "are staggered by department (programme.BASICS_WAVE_MONTH; attribution_design.treatment_months), "
                f"the first (days {first_basics['first_session_day']}-{first_basics['last_day']}) trains only the "
                "first departments, each wave invites only basics_coverage of its department's users at the start "
                "(basics_invited_share_of_users_at_start in all) and about 5 % of them drop out, so "
                "basics_share_of_users_employed_on_day_60 stays below 0.8; the later departments' waves and the "
                "quarterly catch-up waves (month 5 on) lift the share above 0.8 months late"),
            "others": (
                "the other default milestones are designed to be met by their due dates; the two with target "
                "1.0 (executives and managers briefed, champions through train-the-trainer) only when nobody "
                "of the group drops out of the first sessions (3 % each) or leaves before day 30"),
        },
    }


def generate_company(out_dir: Path, employees: int = 180, months: int = 21, seed: int = 42,
                     start: date = date(2025, 1, 1), baseline_months: int = 3,
                     name: str = "Demo Maschinenbau GmbH", training_effect: float = 1.0) -> dict:
    """Write a synthetic company's inputs (every supported format), its config.yaml and
    ground_truth.json into out_dir. Deterministic: the same arguments give the same bytes.
    ``training_effect`` scales the training's effect on the business processes (0: the process
    figures move only with the secular trend; for tests of the measured attribution).
    Returns a summary with the files written and their row counts."""
    _check_args(employees, months, seed, baseline_months)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)

    root = np.random.default_rng(seed)
    (rng_people, rng_prog, rng_usage, rng_process, rng_cases, rng_costs, rng_survey) = root.spawn(7)

    start_n = day_number(start)
    window_start = (day_number(add_months(start, -baseline_months)) if baseline_months
                    else day_number(start.replace(day=1)))
    window_start = min(window_start, start_n)
    end = day_number(month_end(add_months(start, months - 1)))

    w = build_workforce(rng_people, employees, window_start, start_n, end, baseline_months, months)
    prog = build_programme(rng_prog, w, start_n, end, window_start, months)
    files: dict[str, int] = {}

    # config
    config = build_config(name, start, baseline_months)
    (out / "config.yaml").write_text(
        dump_yaml(config, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8", newline="\n")
    files["config.yaml"] = 1

    # HR
    files["hr/employees.csv"] = write_csv(
        out / "hr/employees.csv",
        ["employee_id", "email", "github_login", "department", "target_group", "hire_date",
         "exit_date", "fte", "hourly_cost_eur"], employee_rows(w))
    files["hr/trainings.csv"] = write_csv(
        out / "hr/trainings.csv",
        ["employee_id", "course_id", "format", "started_on", "completed_on", "status", "hours"],
        ([w.employee_id[p], cid, fmt, iso(s0), iso_or_empty(c), status, fmt_num(h, 1)]
         for p, cid, fmt, s0, c, status, h in prog.rows))
    files["hr/assessments.csv"] = write_csv(
        out / "hr/assessments.csv", ["employee_id", "assessed_on", "instrument", "score", "max_score"],
        ([w.employee_id[p], iso(d), inst, fmt_num(s, 0), fmt_num(mx, 0)] for p, d, inst, s, mx in prog.assessments))

    # usage, week by week, written month by month
    model = AdoptionModel()
    sim = UsageSimulator(rng_usage, w, prog, window_start, end, model)
    files.update(sim.run(out))

    # business, finance, surveys
    pm_rows, shares, potential = business.process_metrics(rng_process, w, prog, window_start, end,
                                                          training_effect=training_effect)
    files["business/process_metrics.csv"] = write_csv(
        out / "business/process_metrics.csv",
        ["month", "process", "department", "cases", "handling_minutes", "errors", "csat"], pm_rows)
    files["business/use_cases.csv"] = write_csv(
        out / "business/use_cases.csv",
        ["use_case_id", "title", "department", "submitted_on", "status", "self_developed",
         "est_hours_saved_per_month"], business.use_cases(rng_cases, w, prog, window_start, start_n, end))
    cost_rows, plan = business.costs(rng_costs, w, prog, start_n, end, employees)
    files["finance/costs.csv"] = write_csv(
        out / "finance/costs.csv", ["booked_on", "category", "amount_eur", "description", "department"], cost_rows)
    survey_files, rates = business.surveys(rng_survey, w, prog, window_start, start_n, end)
    for rel, (header, rows) in survey_files.items():
        files[rel] = write_csv(out / rel, header, rows)

    # course feedback and licences: a random stream of their own, so that every file above is
    # the same as before they existed
    rng_feedback = np.random.default_rng([seed, 14])
    feedback_rows, feedback_truth = feedback_licences.course_feedback(rng_feedback, w, prog, end)
    files["hr/course_feedback.csv"] = write_csv(
        out / "hr/course_feedback.csv", feedback_licences.FEEDBACK_HEADER, feedback_rows)
    licence_rows, licence_truth = feedback_licences.licences(w, prog, start_n, end)
    files["finance/licenses.csv"] = write_csv(
        out / "finance/licenses.csv", feedback_licences.LICENSES_HEADER, licence_rows)

    truth = _ground_truth(seed, employees, months, start, baseline_months, name, w, prog, model,
                          window_start, start_n, end, shares, plan, rates)
    truth.update(_attribution_truth(w, prog, window_start, start_n, end, potential, training_effect))
    truth.update(course_feedback=feedback_truth, licenses=licence_truth, skill_model=feedback_licences.skill_model())
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n",
                                           encoding="utf-8", newline="\n")
    files["ground_truth.json"] = 1
    files.update(write_notes(out))  # the analyst's qualitative notes (kpi report --year ... --notes)
    return {
        "out_dir": str(out),
        "company": name,
        "employees": employees,
        "hr_rows": w.size,
        "window": [iso(window_start), iso(end)],
        "files": dict(sorted(files.items())),
        "total_rows": int(sum(v for k, v in files.items()
                              if k not in ("config.yaml", "ground_truth.json") and k not in NOTES)),
    }


ATTRIBUTION_TREATMENT_SHARE = 0.5  # kpi.config's default benefits.attribution_treatment_share
ATTRIBUTION_MIN_CONTROLS = 2      # months with fewer series not yet trained end the comparison


def _attribution_truth(w, prog, window_start: int, start_n: int, end: int, potential: list[dict],
                       training_effect: float) -> dict:
    """ground_truth.json "causal_share" and "attribution_design": the share of the measured
    improvement that the training caused, over the series-months the estimator compares
    (docs/roi.md "Measured attribution"), from both potential outcomes of every row.

    A department is treated from the first month whose trained share (all its employees employed
    on the month's last day) reaches ATTRIBUTION_TREATMENT_SHARE. Months run from the first
    baseline month to the last month in which at least ATTRIBUTION_MIN_CONTROLS series (process,
    department) are not yet treated; the cells are the treated months of the series treated after
    the first month. Per outcome: Σ (Y0 − Y) / B over the cells divided by Σ (1 − Y / B), Y the
    month's minutes per case (error rate), Y0 the same without the training, B the series'
    baseline (Σ over the baseline months, case-weighted, as the ROI's)."""
    months = business.months_between(from_day(window_start), from_day(end))
    labels = [f"{m.year:04d}-{m.month:02d}" for m in months]
    start_label = iso(start_n)[:7]
    treated: dict[int, int | None] = {}
    for d in range(len(DEPARTMENTS)):
        treated[d] = None
        for t, m in enumerate(months):
            day = day_number(month_end(m))
            staff = w.employed_on(day) & (w.dept == d)
            if staff.any() and float((prog.trained_on[staff] <= day).mean()) >= ATTRIBUTION_TREATMENT_SHARE:
                treated[d] = t
                break
    series = sorted({(r["process"], r["department"]) for r in potential})
    cell = {(r["process"], r["department"], labels.index(r["month"])): r for r in potential}
    first_of = {s: treated[s[1]] for s in series}
    untreated = [sum(1 for s in series if first_of[s] is None or first_of[s] > t) for t in range(len(months))]
    last = max((t for t, n in enumerate(untreated) if n >= ATTRIBUTION_MIN_CONTROLS), default=None)
    shares: dict[str, float | None] = {}
    n_cells = 0
    for outcome, y1, y0 in (("minutes_per_case", "minutes", "minutes0"), ("error_rate", "errors", "errors0")):
        causal = measured = 0.0
        n_cells = 0
        for s in series:
            base = [cell[(*s, t)] for t, lbl in enumerate(labels) if lbl < start_label and (*s, t) in cell]
            cases = sum(r["cases"] for r in base)
            if not cases or first_of[s] is None or last is None or first_of[s] == 0:
                continue
            b = sum(r[y1] for r in base) / cases
            for t in range(first_of[s], last + 1):
                r = cell.get((*s, t))
                if r is None or not r["cases"] or not b:
                    continue
                causal += (r[y0] - r[y1]) / r["cases"] / b
                measured += 1 - r[y1] / r["cases"] / b
                n_cells += 1
        shares[outcome] = _r(causal / measured) if n_cells and measured > 0 else None
    return {
        "causal_share": shares,
        "attribution_design": {
            "treatment_share": ATTRIBUTION_TREATMENT_SHARE,
            "treatment_months": {DEPARTMENTS[d]: None if t is None else labels[t] for d, t in treated.items()},
            "compared_months": None if last is None else [labels[0], labels[last]],
            "cells": n_cells,
            "series": [f"{p} / {DEPARTMENTS[d]}" for p, d in series],
            "training_effect": training_effect,
            "secular_trend_per_month": dict(business.SECULAR_TREND),
            "definition": (
                "a department is treated from the first month whose trained share (its employees employed on "
                "the month's last day, first completed training on or before it) reaches treatment_share; the "
                "compared months run from the first baseline month to the last month with at least "
                f"{ATTRIBUTION_MIN_CONTROLS} series (process, department) not yet treated; the cells are the "
                "treated months of the series treated after the first month. causal_share = Σ (Y0 - Y) / B "
                "over the cells / Σ (1 - Y / B), Y the month's minutes per case (error rate), Y0 the same month "
                "without the training (the same noise draw), B the series' case-weighted baseline"),
            "process_share": (
                "the process figures move with the trained share of the department's users (target group "
                "user, employed on the 15th): the people who handle the cases"),
        },
    }


def _ground_truth(seed, employees, months, start, baseline_months, name, w, prog, model,
                  window_start, start_n, end, shares, plan, rates) -> dict:
    at_start = w.employed_on(start_n)
    leavers = int(((w.exit >= start_n) & (w.exit <= end)).sum())
    hires = int(((w.hire > start_n) & (w.hire <= end)).sum())
    procs: dict = {}
    for spec in business.PROCESSES:
        procs.setdefault(spec.process, {})[DEPARTMENTS[spec.dept]] = {
            "baseline_minutes_per_case": spec.minutes_per_case,
            "baseline_error_rate": spec.error_rate,
            "max_time_reduction": spec.max_time_reduction,
            "minutes_saved_per_case_at_full_training": _r(spec.minutes_per_case * spec.max_time_reduction),
            "max_error_reduction": spec.max_error_reduction,
            "cases_per_fte_month": spec.cases_per_fte,
            "volume_uplift_at_full_training": spec.volume_uplift,
            "csat_baseline": spec.csat,
            "cost_per_error_eur": spec.cost_per_error_eur,
        }
    dept_shares = {m: business.trained_share(w, prog, day_number(date.fromisoformat(f"{m}-15"))) for m in shares}
    share_by_dept = {DEPARTMENTS[d]: {m: _r(s[d]) for m, s in sorted(dept_shares.items())} for d in range(6)}
    trained_n = int((prog.trained_on <= end).sum())
    return {
        "seed": seed,
        "arguments": {"employees": employees, "months": months, "start": start.isoformat(),
                      "baseline_months": baseline_months, "name": name},
        "dates": {"window_start": iso(window_start), "program_start": iso(start_n), "program_end": iso(end),
                  "baseline_months": [m for m in sorted(shares) if m < f"{start.year:04d}-{start.month:02d}"]},
        "employees": employees,
        "employees_at_start": int(at_start.sum()),
        "hr_rows": w.size,
        "leavers": leavers,
        "baseline_leavers": int((w.exit < start_n).sum()),
        "hires": hires,
        "contractors": len(w.contractor_email),
        "contractor_users": list(w.contractor_email),
        "target_groups_at_start": {group: int((at_start & (w.tg == g)).sum()) for g, group in enumerate(TARGET_GROUPS)},
        "champions": int((w.tg == CHAMPION).sum()),
        "executives": int((w.tg == EXECUTIVE).sum()),
        "managers": int((w.tg == MANAGER).sum()),
        "departments_at_start": {DEPARTMENTS[d]: int((at_start & (w.dept == d)).sum()) for d in range(6)},
        "turnover_per_year": 0.09,
        "trained_employees": trained_n,
        "trained_on_definition": "completed_on of the employee's first training row with status completed",
        "adoption": {
            "unit": "probability that an employee is active (>= 1 interaction, any tool) in a Monday-start week",
            "formula": "t = days from trained_on to the week's Monday; p = plateau - (plateau - after) * exp(-t / tau) "
                       "for t >= 0, else untrained[department]; then times the personal factor and the season",
            "weekly_active_probability_untrained": {DEPARTMENTS[d]: model.p_untrained[d] for d in range(6)},
            "weekly_active_probability_after_training": model.p_after,
            "weekly_active_probability_plateau": model.p_plateau,
            "ramp_time_constant_days": model.tau_days,
            "personal_factor_uniform": [model.factor_low, model.factor_high],
            "seasonal_factors": {"august": model.august_factor, "christmas_week": model.christmas_factor},
            "active_workdays_per_active_week": "1 + Binomial(4, q), q ~ Beta(2, 3) per person, at most ceil(5 * fte)",
            "weekend_day_probability_in_active_week": model.weekend_day_p,
            "contractor_weekly_active_probability": model.contractor_p,
        },
        "regular_user_share_targets": {
            "regular_min_active_weeks": REGULAR_MIN_ACTIVE_WEEKS,
            "weeks_per_quarter": 13,
            "note": f"expected share of trained employees active in >= {REGULAR_MIN_ACTIVE_WEEKS} of 13 weeks, "
                    "seasons ignored",
            "trained_right_after": _r(_expected_regular_share(model.p_after, model)),
            "trained_at_plateau": _r(_expected_regular_share(model.p_plateau, model)),
            "untrained_office": _r(_expected_regular_share(0.05, model)),
        },
        "tools": {
            "chat-gateway": "everyone, pre-aggregated CSV per month; user = email, some employee ids, "
                            "a few in mixed case",
            "claude": f"event-level JSONL, pilot of {int((prog.claude_from < NEVER).sum())} people in "
                      "Management/Finance",
            "m365-copilot": "office staff, licence from the first enrolment, weekly 7-day report every Sunday",
            "chatgpt-enterprise": "Sales & Marketing, seat from the first enrolment, monthly export",
            "github-copilot": "Engineering, seat from the first enrolment (about 20 % early adopters before)",
        },
        "claude_pilot_size": int((prog.claude_from < NEVER).sum()),
        "processes": procs,
        "process_model": "minutes_per_case = baseline * trend_minutes^k * (1 - max_time_reduction * share) "
                         "* lognormal(0, 0.04); error_rate = baseline * trend_errors^k * (1 - max_error_reduction "
                         "* share); k = months since the first baseline month, trend = 1 - secular_trend_per_month; "
                         "share = trained share of the department's users (target group user) on the 15th of the "
                         "month (process_share_by_department_month)",
        "secular_trend_per_month": dict(business.SECULAR_TREND),
        "trained_share_by_department_month": share_by_dept,
        "process_share_by_department_month": {DEPARTMENTS[d]: {m: _r(s[d]) for m, s in sorted(shares.items())}
                                              for d in range(6)},
        "budget": {"budget_per_employee_eur": business.BUDGET_PER_EMPLOYEE, "split": business.BUDGET_SPLIT,
                   "plan_headcount": employees, **plan},
        "survey": {
            "waves": [lbl for lbl, *_ in business.survey_waves(window_start, start_n, end)],
            "response_rates": {k: _r(v) for k, v in sorted(rates.items())},
            "attitude": "z = wave_effect(k) + 0.35 * trained + N(0, 0.6); "
                        "wave_effect(k) = -0.35 + 0.6 * (1 - exp(-k / 2.5)), "
                        "k = 0 for the baseline wave; item = round(3.2 + z + offset + N(0, 0.7)); "
                        "reverse item = round(2.6 - 0.8 z + N(0, 0.7))",
            "wave_effect": {lbl: _r(business.wave_effect(k))
                            for lbl, _lo, _hi, k in business.survey_waves(window_start, start_n, end)},
            "item_offsets": {t: off for t, _c, rev, off in business.SURVEY_ITEMS if not rev},
            "skip_probability": business.SKIP_P,
        },
        **_where_we_stand(w, prog, start_n),
    }


__all__ = ["generate_company", "build_config"]

