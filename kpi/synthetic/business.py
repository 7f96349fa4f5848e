"""Costs, measured business processes, the use-case register and the pulse surveys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from kpi.synthetic._common import (
    CHAMPION,
    DEPARTMENTS,
    ENGINEERING,
    FINANCE,
    HR_ADMIN,
    MANAGEMENT,
    PRODUCTION,
    SALES,
    TARGET_GROUPS,
    USER,
    add_months,
    day_number,
    fmt_num,
    from_day,
    month_end,
    month_label,
)
from kpi.synthetic.people import Workforce
from kpi.synthetic.programme import Programme

BUDGET_SPLIT = {"external_training": 0.40, "internal_time": 0.30, "licenses": 0.20, "materials": 0.10}
BUDGET_PER_EMPLOYEE = 1000.0


@dataclass(frozen=True)
class ProcessSpec:
    process: str
    dept: int
    cases_per_fte: float          # cases per FTE and month at baseline
    minutes_per_case: float       # baseline handling minutes per case
    error_rate: float             # baseline share of cases with an error / rework
    max_time_reduction: float     # at a fully trained department
    max_error_reduction: float
    volume_uplift: float          # extra cases per FTE at a fully trained department
    csat: float | None
    cost_per_error_eur: float


PROCESSES = (
    ProcessSpec("quote_preparation", SALES, 7.0, 160.0, 0.07, 0.45, 0.40, 0.10, 4.0, 250.0),
    ProcessSpec("tender_documents", SALES, 1.2, 960.0, 0.12, 0.40, 0.35, 0.08, 3.8, 1500.0),
    ProcessSpec("maintenance_docs", PRODUCTION, 3.5, 55.0, 0.09, 0.30, 0.35, 0.05, None, 120.0),
    ProcessSpec("maintenance_docs", ENGINEERING, 2.5, 140.0, 0.06, 0.35, 0.30, 0.05, None, 120.0),
    ProcessSpec("invoice_processing", FINANCE, 140.0, 9.0, 0.035, 0.30, 0.45, 0.05, None, 40.0),
    ProcessSpec("recruiting_admin", HR_ADMIN, 5.0, 200.0, 0.05, 0.40, 0.30, 0.05, None, 100.0),
)
SEASONALITY = (0.95, 1.0, 1.08, 1.0, 1.02, 1.05, 0.95, 0.75, 1.05, 1.08, 1.05, 0.80)  # Jan..Dec
MINUTES_NOISE_SIGMA = 0.04
# The secular trend common to every department (improvement that is not the training's): each
# month from the first baseline month on, minutes per case and the error rate fall by this share.
SECULAR_TREND = {"minutes_per_case": 0.004, "error_rate": 0.005}


def trained_share(w: Workforce, prog: Programme, day: int) -> np.ndarray:
    """Per department: share of the employees employed on `day` whose first completed
    training is on or before `day`."""
    emp = w.employed_on(day)
    out = np.zeros(6)
    for d in range(6):
        m = emp & (w.dept == d)
        out[d] = float((prog.trained_on[m] <= day).mean()) if m.any() else 0.0
    return out


def process_share(w: Workforce, prog: Programme, day: int) -> np.ndarray:
    """Per department: the trained share of its users (target group user) employed on `day`:
    the people who handle the cases. Executives, managers and champions, trained in the first
    30 days everywhere, do not move the process figures."""
    emp = w.employed_on(day) & (w.tg == USER)
    out = np.zeros(6)
    for d in range(6):
        m = emp & (w.dept == d)
        out[d] = float((prog.trained_on[m] <= day).mean()) if m.any() else 0.0
    return out


def fte_on(w: Workforce, day: int) -> np.ndarray:
    emp = w.employed_on(day)
    return np.array([float(w.fte[emp & (w.dept == d)].sum()) for d in range(6)])


def months_between(first: date, last: date) -> list[date]:
    out, d = [], first.replace(day=1)
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out


# ---------------------------------------------------------------------- process metrics
def process_metrics(rng, w: Workforce, prog: Programme, window_start: int, end: int, training_effect: float = 1.0):
    """Rows (month, process, department, cases, handling_minutes, errors, csat), the per-month
    process shares used, and per row both potential outcomes (ground truth of the attribution):
    `minutes0` / `errors0` are the same month without the training's effect (the same noise draw;
    errors coupled: the errors training avoided are drawn among the cases without an error).
    `training_effect` scales every effect of the trained share (0: only the secular trend)."""
    rows, shares, potential = [], {}, []
    for k, m in enumerate(months_between(from_day(window_start), from_day(end))):
        mid = day_number(m) + 14
        share = process_share(w, prog, mid)
        fte = fte_on(w, mid)
        shares[month_label(m)] = share
        trend_minutes = (1 - SECULAR_TREND["minutes_per_case"]) ** k
        trend_errors = (1 - SECULAR_TREND["error_rate"]) ** k
        for spec in PROCESSES:
            s = share[spec.dept] * training_effect
            mean = spec.cases_per_fte * fte[spec.dept] * SEASONALITY[m.month - 1] * (1 + spec.volume_uplift * s)
            cases = int(rng.poisson(mean))
            mpc0 = spec.minutes_per_case * trend_minutes * float(np.exp(rng.normal(0.0, MINUTES_NOISE_SIGMA)))
            mpc = mpc0 * (1 - spec.max_time_reduction * s)
            p0 = spec.error_rate * trend_errors
            p1 = p0 * (1 - spec.max_error_reduction * s)
            errors = int(rng.binomial(cases, p1))
            avoided = int(rng.binomial(cases - errors, (p0 - p1) / (1 - p1))) if p0 > p1 else 0
            csat_noise = float(rng.normal(0.0, 0.05))
            csat = "" if spec.csat is None else fmt_num(spec.csat + 0.35 * s + csat_noise, 2)
            minutes = fmt_num(cases * mpc, 1)
            rows.append([month_label(m), spec.process, DEPARTMENTS[spec.dept], str(cases),
                         minutes, str(errors), csat])
            potential.append({"month": month_label(m), "process": spec.process, "department": spec.dept,
                              "cases": cases, "minutes": float(minutes), "minutes0": cases * mpc0,
                              "errors": errors, "errors0": errors + avoided})
    return rows, shares, potential


# ---------------------------------------------------------------------- use cases
USE_CASE_TITLES = {
    SALES: ("Draft quote cover letters", "Summarise customer RFQs", "Tender compliance checklist",
            "Competitor news digest", "Translate product data sheets", "CRM call-note summaries",
            "Trade-fair follow-up e-mails", "Social media post drafts"),
    ENGINEERING: ("Code review assistant", "Generate unit tests", "Extract requirements from specs",
                  "CAD change-note summaries", "PLC code documentation", "Explain legacy code"),
    PRODUCTION: ("Maintenance report drafting", "Shift handover summaries", "Translate work instructions",
                 "Fault-log analysis", "Safety briefing texts", "Spare-part request e-mails"),
    HR_ADMIN: ("Job ad drafting", "Interview question sets", "Onboarding FAQ assistant",
               "Policy Q&A", "Training invitation e-mails"),
    FINANCE: ("Invoice exception triage", "Month-end commentary", "Supplier e-mail replies",
              "Expense policy checks", "Cash-flow variance notes"),
    MANAGEMENT: ("Board memo drafting", "Meeting minutes", "Market briefing summaries",
                 "Strategy document review"),
}
USE_CASE_AFFINITY = (1.5, 1.3, 0.5, 1.0, 1.0, 0.8)


def use_cases(rng, w: Workforce, prog: Programme, window_start: int, start: int, end: int):
    champs = np.array([int(((w.tg == CHAMPION) & (w.dept == d)).sum()) for d in range(6)])
    found: list[tuple] = []
    for m in months_between(from_day(window_start), from_day(end)):
        lo = day_number(m)
        hi = min(day_number(month_end(m)), end)
        share = trained_share(w, prog, lo + 14)
        head = np.array([int((w.employed_on(lo + 14) & (w.dept == d)).sum()) for d in range(6)])
        for d in range(6):
            lam = 0.004 * head[d] + 0.35 * champs[d] * share[d] * USE_CASE_AFFINITY[d]
            for _ in range(int(rng.poisson(lam))):
                day = int(rng.integers(lo, hi + 1))
                own = lo >= start and rng.random() < 0.85
                found.append((day, d, own, int(rng.integers(0, len(USE_CASE_TITLES[d]))),
                              float(rng.random()), float(rng.lognormal(np.log(6.0), 0.8)),
                              float(rng.random())))
    found.sort(key=lambda x: (x[0], x[1], x[3]))
    rows, seen = [], {}
    for k, (day, d, own, ti, su, hours, hu) in enumerate(found):
        title = USE_CASE_TITLES[d][ti]
        n = seen.get((d, title), 0) + 1
        seen[(d, title)] = n
        if n > 1:
            title = f"{title} ({n})"
        age = end - day
        if age < 60:
            status = "idea" if su < 0.7 else "pilot"
        elif age < 180:
            status = ("idea", "pilot", "production")[int(np.searchsorted([0.3, 0.75], su, side="right"))]
        else:
            status = ("idea", "pilot", "production", "retired")[
                int(np.searchsorted([0.15, 0.4, 0.9], su, side="right"))]
        est = "" if status == "idea" and hu < 0.3 else fmt_num(round(hours * 2) / 2, 1)
        rows.append([f"UC-{k + 1:04d}", title, DEPARTMENTS[d], from_day(day).isoformat(), status,
                     "true" if own else "false", est])
    return rows


# ---------------------------------------------------------------------- costs
def costs(rng, w: Workforce, prog: Programme, start: int, end: int, employees: int):
    """The training-spend ledger; year 1 totals about 1,000 EUR per employee, split 40/30/20/10."""
    s_date = from_day(start)
    y1_end = day_number(add_months(s_date, 12)) - 1
    total = BUDGET_PER_EMPLOYEE * employees * float(rng.uniform(0.96, 1.04))
    raw = np.array(list(BUDGET_SPLIT.values())) + rng.normal(0.0, 0.006, 4)
    target = dict(zip(BUDGET_SPLIT, total * raw / raw.sum()))
    rows: list[tuple] = []

    def book(day: int, cat: str, amount: float, desc: str, dept: str = "") -> None:
        rows.append((int(day), cat, round(float(amount), 2), desc, dept))

    def workday_on_or_after(day: int) -> int:
        while (day + 3) % 7 >= 5:
            day += 1
        return day

    # external training: trainer invoices after each workshop, e-learning fee, one credit note
    weight_of = {"executive_briefing": 0.5, "basics_workshop": 0.5, "usecase_workshop": 1.0,
                 "train_the_trainer": 2.0, "prompt_masterclass": 2.0, "hackathon": 1.5}
    courses = [c for c in prog.courses if c["format"] in weight_of]
    wts = np.array([weight_of[c["format"]] * (c["last_day"] - c["first_day"] + 1) for c in courses])
    y1 = np.array([c["first_day"] <= y1_end for c in courses], dtype=bool)
    fee = 0.06 * target["external_training"]
    credit = -float(rng.uniform(0.012, 0.02)) * target["external_training"]
    unit = (target["external_training"] - fee - credit) / max(float(wts[y1].sum()), 1e-9)
    lags = rng.integers(7, 22, len(courses))
    for c, wt, lag, in_y1 in zip(courses, wts, lags, y1):
        day = workday_on_or_after(c["last_day"] + int(lag))
        if in_y1:
            day = min(day, y1_end)
        dept = "" if c["department"] is None else DEPARTMENTS[c["department"]]
        book(day, "external_training", unit * wt,
             f"Trainer invoice {c['course_id']} ({c['participants']} participants)", dept)
    book(workday_on_or_after(start + 9), "external_training", fee,
         "E-learning platform, annual licence (AI basics course)")
    basics = [c for c in courses if c["format"] == "basics_workshop"]
    ref = basics[len(basics) // 2]["course_id"] if basics else "workshop"
    book(workday_on_or_after(start + 62), "external_training", credit,
         f"Credit note: trainer cancelled half-day of {ref}")

    # internal time: programme office and champions, monthly per department, front-loaded
    profile = np.array([1.8, 1.8, 1.6, 1.1, 0.9, 0.8, 0.7, 0.6, 0.7, 0.7, 0.6, 0.7])
    head0 = np.array([int((w.employed_on(start) & (w.dept == d)).sum()) for d in range(6)], dtype=float)
    grid = profile[:, None] * head0[None, :]
    amounts = target["internal_time"] * grid / grid.sum()
    per_month_y2 = 0.35 * amounts.mean(axis=0)
    m = 0
    while True:
        first = add_months(s_date, m)
        day = day_number(month_end(first))
        if day_number(first) > end:
            break
        for d in range(6):
            amt = amounts[m, d] if m < 12 else per_month_y2[d] * float(rng.uniform(0.85, 1.15))
            book(day, "internal_time", amt,
                 f"Internal programme time {month_label(first)} (champions, programme office)", DEPARTMENTS[d])
        m += 1

    # licences: monthly per tool, from the seats held on the 1st (scaled so year 1 is on plan)
    tools = (("Microsoft 365 Copilot", prog.m365_from, 30.0, ""),
             ("ChatGPT Enterprise", prog.chatgpt_from, 55.0, DEPARTMENTS[SALES]),
             ("GitHub Copilot Business", prog.github_from, 19.0, DEPARTMENTS[ENGINEERING]),
             ("Claude Team (pilot)", prog.claude_from, 30.0, ""))
    lic_rows = []
    m = 0
    while m < 12 or day_number(add_months(s_date, m)) <= end:  # a full year 1 sets the scale
        first = add_months(s_date, m)
        d0 = day_number(first)
        emp = w.employed_on(d0 + 14)
        for name, frm, price, dept in tools:
            seats = int(((frm <= d0 + 14) & emp).sum())
            if seats:
                lic_rows.append((m, workday_on_or_after(d0 + 2), price * seats,
                                 f"{name} licences, {seats} seats, {month_label(first)}", dept))
        lic_rows.append((m, workday_on_or_after(d0 + 2), 6.0 * employees,
                         f"Chat gateway platform and model usage {month_label(first)}", ""))
        m += 1
    y1_raw = sum(r[2] for r in lic_rows if r[0] < 12)
    scale = target["licenses"] / y1_raw if y1_raw else 1.0
    for _m, day, amt, desc, dept in lic_rows:
        book(day, "licenses", amt * scale, desc, dept)

    # materials: mostly early, one booking a few days before the start
    items = (("Prompt cards and workshop kits (print run)", start - int(rng.integers(3, 7))),
             ("Workshop handbooks", start + 5),
             ("E-learning video production", start + 20),
             ("Intranet AI hub content and templates", start + 40),
             ("Masterclass workbooks", start + 62),
             ("Posters and quick-reference guides (reprint)", start + 150))
    mat_w = rng.dirichlet(np.full(len(items), 4.0))
    for (desc, day), wt in zip(items, mat_w):
        book(day if day < start else workday_on_or_after(day), "materials", target["materials"] * wt, desc)
    book(workday_on_or_after(day_number(add_months(s_date, 13)) + 3), "materials",
         0.04 * target["materials"], "Quick-reference guide update (year 2)")

    rows = [r for r in rows if r[0] <= end]
    rows.sort(key=lambda r: (r[0], r[1], r[3], r[4]))
    out = [[from_day(d).isoformat(), cat, fmt_num(a, 2), desc, dept] for d, cat, a, desc, dept in rows]
    plan = {"year1_total_eur": round(total, 2), "year1_by_category_eur": {k: round(v, 2) for k, v in target.items()}}
    return out, plan


# ---------------------------------------------------------------------- surveys
SURVEY_ITEMS = (  # header text, construct, reverse, offset
    ("I am satisfied with how AI tools are introduced here", "satisfaction", False, 0.1),
    ("I get the support I need to use AI tools", "support", False, -0.1),
    ("I share AI tips with colleagues", "collaboration", False, -0.3),
    ("I would like to develop new AI applications", "innovation", False, -0.2),
    ("AI tools make my work harder", "satisfaction", True, 0.0),
)
LABELS = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
COMMENTS = (
    "More time to practise after the workshop would help.",
    "The prompt cards are great, please print more.",
    "Copilot in Excel saves me a lot of time, but I'm not sure what I may paste in.",
    "Our champion is very helpful!",
    "Too many tools - which one should I use for what?",
    "I'd like examples from production, not only from the office.",
    "Worried about data protection with customer data.",
    "The masterclass was the best training I had in years.",
    "Still waiting for a licence.",
    "Please share the \"prompt of the month\" again.",
    "Not relevant for my job on the shop floor.",
    "Good start, keep going.",
)
SKIP_P = 0.03
COMMENT_P = 0.12


def wave_effect(k: int) -> float:
    """Mean attitude shift of wave k (0 = baseline, 1 = first programme quarter, ...)."""
    return -0.35 + 0.6 * (1.0 - np.exp(-k / 2.5))


def survey_waves(window_start: int, start: int, end: int) -> list[tuple[str, int, int, int]]:
    """(file label YYYY-Qn, first day, last day, wave index) of each pulse wave."""
    waves = []
    s_date = from_day(start)
    if window_start < start:
        last_base = add_months(s_date, -1)
        lo = day_number(last_base) + 1
        q = (last_base.month - 1) // 3 + 1
        waves.append((f"{last_base.year}-Q{q}", lo, min(lo + 12, start - 1), 0))
    k = 1
    q_first = date(s_date.year, 3 * ((s_date.month - 1) // 3) + 1, 1)
    while True:
        last_month = add_months(q_first, 2)
        lo = day_number(last_month) + 2
        if lo > end:
            break
        q = (last_month.month - 1) // 3 + 1
        waves.append((f"{last_month.year}-Q{q}", lo, min(lo + 14, end), k))
        k += 1
        q_first = add_months(q_first, 3)
    return waves


def surveys(rng, w: Workforce, prog: Programme, window_start: int, start: int, end: int):
    files = {}
    header = ["response_id", "submitted_at", "department", "target_group"] + [i[0] for i in SURVEY_ITEMS] + ["Comments"]
    rates = {}
    for label, lo, hi, k in survey_waves(window_start, start, end):
        emp = np.flatnonzero(w.employed_on(lo))
        rate = float(rng.uniform(0.60, 0.75))
        rates[label] = rate
        resp = emp[rng.random(len(emp)) < rate]
        n = len(resp)
        days = rng.integers(lo, hi + 1, n)
        wd = (days + 3) % 7
        days = np.where(wd == 5, days - 1, np.where(wd == 6, days + 1, days))
        days = np.clip(days, lo, hi)
        secs = rng.integers(7 * 3600, 18 * 3600, n)
        order = np.lexsort((resp, secs, days))
        resp, days, secs = resp[order], days[order], secs[order]
        trained = prog.trained_on[resp] <= days
        z = wave_effect(k) + 0.35 * trained + rng.normal(0.0, 0.6, n)
        item_noise = rng.normal(0.0, 0.7, (n, len(SURVEY_ITEMS)))
        skip = rng.random((n, len(SURVEY_ITEMS))) < SKIP_P
        dept_blank = rng.random(n) < 0.08
        tg_blank = rng.random(n) < 0.10
        has_comment = rng.random(n) < COMMENT_P
        comment_pick = rng.integers(0, len(COMMENTS), n)
        rows = []
        for j in range(n):
            p = int(resp[j])
            sec = secs[j]
            ts = from_day(int(days[j])).isoformat() + f"T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}"
            row = [str(j + 1), ts, "" if dept_blank[j] else DEPARTMENTS[w.dept[p]],
                   "" if tg_blank[j] else TARGET_GROUPS[w.tg[p]]]
            for i, (_text, _c, reverse, off) in enumerate(SURVEY_ITEMS):
                if skip[j, i]:
                    row.append("")
                    continue
                x = (2.6 - 0.8 * z[j] if reverse else 3.2 + z[j] + off) + item_noise[j, i]
                row.append(LABELS[int(np.clip(np.rint(x), 1, 5)) - 1])
            row.append(COMMENTS[comment_pick[j]] if has_comment[j] else "")
            rows.append(row)
        files[f"surveys/pulse-{label}.csv"] = (header, rows)
    return files, rates


__all__ = ["BUDGET_SPLIT", "LABELS", "PROCESSES", "SURVEY_ITEMS", "costs", "process_metrics",
           "survey_waves", "surveys", "trained_share", "use_cases"]
