"""Course feedback (Kirkpatrick level 1) and the licence seats bought per tool and month.

Both are written from a random stream of their own (``generate_company``: ``default_rng([seed,
14])``), so that adding them changed none of the files the generator wrote before. The licences
draw nothing: they follow from the licences the programme hands out (``Programme.*_from``).
"""

from __future__ import annotations

import math

import numpy as np

from kpi.synthetic._common import add_months, day_number, from_day, iso, month_label
from kpi.synthetic.people import Workforce
from kpi.synthetic.programme import (
    DEPT_SKILL_SHIFT,
    GAIN_FLOOR,
    GAIN_MEAN,
    GAIN_SD,
    MASTERCLASS_BONUS,
    POST_LAG_DAYS,
    POST_P,
    PRE_LAG_DAYS,
    PRE_P,
    REASSESS_GAIN_MEAN,
    REASSESS_GAIN_SD,
    REASSESS_LAG_DAYS,
    REASSESS_P,
    SCORE_CAP,
    SKILL0_CLIP,
    SKILL0_MEAN,
    SKILL0_SD,
    Programme,
)

# ------------------------------------------------------------------------------ feedback
FEEDBACK_HEADER = ["employee_id", "course_id", "date", "rating", "would_recommend", "comment"]
RESPONSE_P = 0.6           # a completed enrolment is rated with this probability
LAG_DAYS = (0, 14)         # the rating is given this many days after completion (inclusive)
#: P(positive rating, i.e. 4 or 5 of 5) per training format.
POSITIVE_P = {
    "executive_briefing": 0.80,
    "train_the_trainer": 0.90,
    "basics_workshop": 0.75,
    "usecase_workshop": 0.85,
    "prompt_masterclass": 0.92,
    "hackathon": 0.88,
    "elearning": 0.60,
}
TOP_P = 0.45                             # a positive rating is 5 with this probability, else 4
NEGATIVE_POINTS = (1, 2, 3)
NEGATIVE_WEIGHTS = (0.1, 0.3, 0.6)       # a rating that is not positive
RECOMMEND_P = {True: 0.9, False: 0.2}    # would recommend, given positive / not
RECOMMEND_BLANK_P = 0.1
COMMENT_P = 0.3
COMMENTS = (
    "Very practical, thank you.",
    "Too fast in the second half.",
    "More examples from our own processes, please.",
    "Good trainer; the exercises helped.",
    "I will try this with our weekly reports.",
    "The room was too small.",
    "Would like a follow-up session.",
    "Helpful overview, a bit long.",
)


def expected_mean_rating(p: float) -> float:
    positive = 5 * TOP_P + 4 * (1 - TOP_P)
    negative = sum(x * w for x, w in zip(NEGATIVE_POINTS, NEGATIVE_WEIGHTS))
    return p * positive + (1 - p) * negative


def course_feedback(rng: np.random.Generator, w: Workforce, prog: Programme, end: int) -> tuple[list, dict]:
    """Rows of hr/course_feedback.csv and the ground truth of their model: a completed enrolment
    is rated with RESPONSE_P, LAG_DAYS after completion (not after the data's end or the person's
    exit), positively with POSITIVE_P of its format."""
    rows = prog.rows
    n = len(rows)
    respond = rng.random(n)
    lag = rng.integers(LAG_DAYS[0], LAG_DAYS[1] + 1, n)
    positive_u = rng.random(n)
    top_u = rng.random(n)
    negative = rng.choice(np.array(NEGATIVE_POINTS), n, p=np.array(NEGATIVE_WEIGHTS))
    recommend_u = rng.random(n)
    blank_u = rng.random(n)
    comment_u = rng.random(n)
    comment = rng.integers(0, len(COMMENTS), n)
    out = []
    by_format: dict[str, int] = {}
    for j, (p, cid, fmt, _s, c, status, _h) in enumerate(rows):
        if status != "completed" or respond[j] >= RESPONSE_P:
            continue
        day = int(c + lag[j])
        if day > end or day > w.exit[p]:
            continue
        positive = bool(positive_u[j] < POSITIVE_P[fmt])
        rating = (5 if top_u[j] < TOP_P else 4) if positive else int(negative[j])
        recommend = "" if blank_u[j] < RECOMMEND_BLANK_P else (
            "true" if recommend_u[j] < RECOMMEND_P[positive] else "false")
        text = COMMENTS[int(comment[j])] if comment_u[j] < COMMENT_P else ""
        out.append([w.employee_id[p], cid, iso(day), str(rating), recommend, text])
        by_format[fmt] = by_format.get(fmt, 0) + 1
    out.sort(key=lambda r: (r[0], r[2], r[1]))
    truth = {
        "who": "the completers of an enrolment, at most once per enrolment",
        "response_probability": RESPONSE_P,
        "lag_days_after_completion": list(LAG_DAYS),
        "dropped": "a rating that would fall after the data's end or after the person's exit is not written",
        "scale_max": 5,
        "positive_min": 4,
        "rating_model": (f"positive with positive_probability_by_format[format]: 5 with probability {TOP_P}, "
                         f"else 4; otherwise 1, 2 or 3 with probabilities {', '.join(map(str, NEGATIVE_WEIGHTS))}"),
        "positive_probability_by_format": dict(sorted(POSITIVE_P.items())),
        "expected_mean_rating_by_format": {f: round(expected_mean_rating(p), 6) for f, p in sorted(POSITIVE_P.items())},
        "would_recommend": (f"empty with probability {RECOMMEND_BLANK_P}, else true with probability "
                            f"{RECOMMEND_P[True]} after a positive rating and {RECOMMEND_P[False]} after another"),
        "comment_probability": COMMENT_P,
        "comments": "harmless free text from a fixed list; the pipeline must not store it",
        "rows": len(out),
        "rows_by_format": dict(sorted(by_format.items())),
    }
    return out, truth


# ------------------------------------------------------------------------------ licences
LICENSES_HEADER = ["tool", "month", "seats", "cost_eur"]
#: tool id -> (list price per seat and month in EUR, the share of seats deliberately left idle).
SEAT_PLAN = {
    "m365-copilot": (30.0, 0.15),
    "chatgpt-enterprise": (55.0, 0.10),
    "github-copilot": (19.0, 0.25),
    "claude": (30.0, 0.20),
}


def licences(w: Workforce, prog: Programme, start: int, end: int) -> tuple[list, dict]:
    """Rows of finance/licenses.csv and their ground truth: per programme month and tool with a
    licence holder on the 15th (the seat counts of the ledger's licence lines), seats =
    ceil(holders / (1 - idle share)), cost = seats x list price."""
    holders_from = {"m365-copilot": prog.m365_from, "chatgpt-enterprise": prog.chatgpt_from,
                    "github-copilot": prog.github_from, "claude": prog.claude_from}
    rows: list[list[str]] = []
    months: dict[str, dict[str, dict]] = {tool: {} for tool in SEAT_PLAN}
    first = from_day(start).replace(day=1)
    m = 0
    while day_number(add_months(first, m)) <= end:
        month = add_months(first, m)
        mid = day_number(month) + 14
        employed = w.employed_on(mid)
        for tool, (price, idle) in SEAT_PLAN.items():
            holders = int(((holders_from[tool] <= mid) & employed).sum())
            if not holders:
                continue
            seats = math.ceil(holders / (1 - idle) - 1e-9)
            cost = round(seats * price, 2)
            rows.append([tool, month_label(month), str(seats), f"{cost:.2f}"])
            months[tool][month_label(month)] = {"holders": holders, "seats": seats, "cost_eur": cost}
        m += 1
    rows.sort(key=lambda r: (r[1], r[0]))
    truth = {
        "rows": "one per programme month (from program.start's month) and tool with a licence holder",
        "holders": "people holding the tool's licence and employed on the 15th of the month (the seat counts of "
                   "the ledger's licence lines in finance/costs.csv): licences come with the first enrolment",
        "seat_rule": "seats = ceil(holders / (1 - idle_share)): a deliberately idle share of the seats",
        "cost_rule": "cost_eur = seats x price_eur_per_seat_month (list prices; the ledger's licence lines count "
                     "the holders and are scaled to the year-1 plan, so they differ)",
        "not_licensed": {"chat-gateway": "paid by usage: no licence rows, so its seat figures stay NULL"},
        "tools": {tool: {"price_eur_per_seat_month": price, "idle_share": idle, "months": months[tool]}
                  for tool, (price, idle) in SEAT_PLAN.items()},
    }
    return rows, truth


# --------------------------------------------------------------------------- skill model
def skill_model() -> dict:
    """The assessment model of ``programme._assessments``, as ground truth."""
    from kpi.synthetic._common import DEPARTMENTS

    return {
        "instrument": "ai_literacy",
        "max_score": 100,
        "skill0": (f"N({SKILL0_MEAN:g}, {SKILL0_SD:g}) + department_shift, clipped to "
                   f"{SKILL0_CLIP[0]}..{SKILL0_CLIP[1]}, per person"),
        "skill0_mean": SKILL0_MEAN,
        "skill0_sd": SKILL0_SD,
        "skill0_clip": list(SKILL0_CLIP),
        "department_shift": {DEPARTMENTS[d]: shift for d, shift in enumerate(DEPT_SKILL_SHIFT)},
        "gain": (f"N({GAIN_MEAN:g}, {GAIN_SD:g}) + {MASTERCLASS_BONUS:g} for a person with a completed prompt "
                 f"masterclass (any time), at least {GAIN_FLOOR:g}; one gain per person, for their first "
                 "completed training"),
        "gain_mean": GAIN_MEAN,
        "gain_sd": GAIN_SD,
        "masterclass_bonus": MASTERCLASS_BONUS,
        "gain_floor": GAIN_FLOOR,
        "score_cap": SCORE_CAP,
        "scores": "rounded to whole points: pre = round(skill0), post = min(cap, round(skill0 + max(gain, floor))), "
                  "re-assessment = min(cap, round(post + N(4, 5)))",
        "pre": {"probability": PRE_P, "lag_days_before_first_enrolment": list(PRE_LAG_DAYS),
                "note": "before the start of the person's first enrolment (any status)"},
        "post": {"probability": POST_P, "lag_days_after_trained_on": list(POST_LAG_DAYS),
                 "note": "after trained_on, the completion of the person's first completed training"},
        "reassessment": {"probability_given_post": REASSESS_P, "lag_days_after_post": list(REASSESS_LAG_DAYS),
                         "gain_mean": REASSESS_GAIN_MEAN, "gain_sd": REASSESS_GAIN_SD},
        "dropped": ("an assessment dated after the data's end, outside the person's employment or before the "
                    "window is not written; one falling on a day already taken moves to the next day"),
        "prompt_quality": ("max 20: 3-21 days after each completed prompt masterclass, round(14.5 + 2.5 z); after "
                           "60 % of completed use-case workshops, round(11 + 3 z); z ~ N(0, 1), clipped to 0..20"),
    }


__all__ = ["course_feedback", "licences", "skill_model"]
