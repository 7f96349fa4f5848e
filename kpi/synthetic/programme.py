"""The training programme: the 90-day rollout, catch-up waves, new-hire e-learning,
tool licences that come with training, and the assessments before and after."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kpi.synthetic._common import (
    CHAMPION,
    DEPT_CODE,
    ENGINEERING,
    FINANCE,
    HR_ADMIN,
    MANAGEMENT,
    MANAGER,
    NEVER,
    OFFICE_DEPTS,
    PRODUCTION,
    SALES,
    USER,
    add_months,
    day_number,
    from_day,
)
from kpi.synthetic.people import Workforce

FORMAT_HOURS = {  # participant hours of one completed enrolment
    "executive_briefing": (2.0, 2.5, 3.0),
    "train_the_trainer": (16.0,),
    "basics_workshop": (4.0,),
    "usecase_workshop": (6.0,),
    "prompt_masterclass": (12.0, 14.0, 16.0),
    "elearning": (3.0,),
    "hackathon": (8.0,),
}
# The departments' basics waves are staggered (issue 15: the rollout is the experiment that measures
# attribution): each department's wave runs in the first two weeks of programme month 1 + k, its
# use-case workshops in the second half of that month. ground_truth.json "attribution_design".
BASICS_WAVE_MONTH = {SALES: 1, MANAGEMENT: 1, PRODUCTION: 2, ENGINEERING: 5, FINANCE: 8, HR_ADMIN: 8}
BASICS_COVERAGE = {PRODUCTION: 0.78}  # share of the broad base reached by the first waves
BASICS_COVERAGE_DEFAULT = 0.92
USECASE_SHARE = {PRODUCTION: 0.50, ENGINEERING: 0.70}
USECASE_SHARE_DEFAULT = 0.75
USECASE_HOURS = {PRODUCTION: 4.0, ENGINEERING: 8.0}
POWER_USER_SHARE = {PRODUCTION: 0.04, ENGINEERING: 0.10}
POWER_USER_SHARE_DEFAULT = 0.14
CLAUDE_PILOT_SIZE = 10


@dataclass
class Programme:
    rows: list[tuple]            # (person, course_id, format, started, completed, status, hours)
    trained_on: np.ndarray       # first completed training (NEVER if none)
    first_start: np.ndarray      # first enrolment start (NEVER if none)
    masterclass_on: np.ndarray   # masterclass completion (NEVER if none)
    m365_from: np.ndarray
    chatgpt_from: np.ndarray
    github_from: np.ndarray
    claude_from: np.ndarray
    assessments: list[tuple]     # (person, assessed_on, instrument, score, max_score)
    courses: list[dict]          # one per course: id, format, first day, last day, participants, dept


def _letters(k: int) -> str:
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(65 + r) + s
    return s


def workdays(a: int, b: int, two_day: bool = False) -> np.ndarray:
    """Workdays in [a, b]; with two_day only Monday-Thursday (the next day is a workday too)."""
    days = np.arange(a, b + 1)
    wd = (days + 3) % 7
    return days[wd <= (3 if two_day else 4)]


def basics_wave_days(start_date) -> np.ndarray:
    """Per department: the first day of the month of its basics wave (BASICS_WAVE_MONTH)."""
    return np.array([day_number(add_months(start_date, BASICS_WAVE_MONTH[d])) for d in range(6)], dtype=np.int64)


class _Builder:
    def __init__(self, rng: np.random.Generator, w: Workforce, end: int):
        self.rng, self.w, self.end = rng, w, end
        self.rows: list[tuple] = []
        self.courses: list[dict] = []
        self.seq: dict[str, int] = {}

    def course_id(self, prefix: str, day: int) -> str:
        d = from_day(day)
        key = f"{prefix}-{d.year:04d}-{d.month:02d}"
        k = self.seq.get(key, 0)
        self.seq[key] = k + 1
        return f"{key}-{_letters(k)}"

    def sessions(self, people: np.ndarray, fmt: str, prefix: str, days: np.ndarray,
                 group: int, length: int = 1, drop_p: float = 0.04, dept: int | None = None,
                 hours: float | None = None) -> None:
        """Split people into sessions of about `group` on evenly spread days; those not
        employed on their session day simply miss it."""
        if len(people) == 0 or len(days) == 0:
            return
        people = self.rng.permutation(people)
        n_sess = max(1, math.ceil(len(people) / group))
        pick = np.round(np.linspace(0, len(days) - 1, n_sess)).astype(int)
        sess_days = days[pick]
        h_opts = FORMAT_HOURS.get(fmt, (4.0,))
        sess_hours = self.rng.choice(np.array(h_opts), n_sess) if hours is None else np.full(n_sess, hours)
        parts = np.array_split(people, n_sess)
        for s in range(n_sess):
            day = int(sess_days[s])
            if day > self.end:
                continue
            last = day + length - 1
            members = parts[s]
            members = members[(self.w.hire[members] <= day) & (self.w.exit[members] >= last)]
            if len(members) == 0:
                continue
            cid = self.course_id(prefix, day)
            members = np.sort(members)
            drop = self.rng.random(len(members)) < drop_p
            for p, dr in zip(members, drop):
                if dr:  # left half-way
                    self.rows.append((int(p), cid, fmt, day, NEVER, "dropped", float(sess_hours[s]) / 2.0))
                elif last > self.end:  # still running when the data ends
                    self.rows.append((int(p), cid, fmt, day, NEVER, "enrolled", float(sess_hours[s]) / 2.0))
                else:
                    self.rows.append((int(p), cid, fmt, day, last, "completed", float(sess_hours[s])))
            self.courses.append({"course_id": cid, "format": fmt, "first_day": day, "last_day": last,
                                 "participants": int(len(members)),
                                 "department": None if dept is None else int(dept)})


def build_programme(rng: np.random.Generator, w: Workforce, start: int, end: int,
                    window_start: int, months: int) -> Programme:
    b = _Builder(rng, w, end)
    n = w.size
    at_start = w.employed_on(start)
    tg, dept = w.tg, w.dept
    start_date = from_day(start)

    # days 1-30: executive briefings for executives and managers, train-the-trainer for champions
    leaders = np.flatnonzero(at_start & (tg <= MANAGER))
    b.sessions(leaders, "executive_briefing", "EXEC", workdays(start + 6, start + 27), 12, drop_p=0.03)
    champs = np.flatnonzero(at_start & (tg == CHAMPION))
    b.sessions(champs, "train_the_trainer", "TTT", workdays(start + 7, start + 24, True), 10,
               length=2, drop_p=0.03)

    # the basics and use-case workshops for the broad base: one wave per department, staggered
    # over the months (BASICS_WAVE_MONTH); the first waves fall in days 31-60
    wave_day = basics_wave_days(start_date)
    basics_done = np.zeros(n, dtype=bool)
    for d in range(6):
        base = np.flatnonzero(at_start & (tg == USER) & (dept == d))
        cov = BASICS_COVERAGE.get(d, BASICS_COVERAGE_DEFAULT)
        base = base[rng.random(len(base)) < cov]
        before = len(b.rows)
        b.sessions(base, "basics_workshop", "BASICS", workdays(wave_day[d] + 2, wave_day[d] + 13), 14,
                   drop_p=0.05, dept=d)
        for r in b.rows[before:]:
            if r[5] == "completed":
                basics_done[r[0]] = True
    for d in range(6):
        cand = np.flatnonzero(basics_done & (dept == d))
        share = USECASE_SHARE.get(d, USECASE_SHARE_DEFAULT)
        cand = cand[rng.random(len(cand)) < share]
        mgrs = np.flatnonzero(at_start & (tg == MANAGER) & (dept == d))
        mgrs = mgrs[rng.random(len(mgrs)) < 0.5]
        people = np.sort(np.concatenate([cand, mgrs]))
        b.sessions(people, "usecase_workshop", f"USECASE-{DEPT_CODE[d]}",
                   workdays(wave_day[d] + 14, wave_day[d] + 29), 12, drop_p=0.04, dept=d,
                   hours=USECASE_HOURS.get(d, 6.0))

    # days 61-90: prompt masterclass for key users (champions, and some power users of the
    # departments whose basics wave came before day 61)
    share = np.array([POWER_USER_SHARE.get(int(d), POWER_USER_SHARE_DEFAULT) for d in dept])
    power = basics_done & (rng.random(n) < share) & (wave_day[dept] + 13 < start + 60)
    key_users = np.flatnonzero((at_start & (tg == CHAMPION)) | power)
    b.sessions(key_users, "prompt_masterclass", "MASTER", workdays(start + 60, start + 85, True), 12,
               length=2, drop_p=0.04)

    def completed_any() -> np.ndarray:
        done = np.zeros(n, dtype=bool)
        for r in b.rows:
            if r[5] == "completed" and r[2] != "elearning":
                done[r[0]] = True
        return done

    # new hires: e-learning in their first weeks, once their department's basics wave has begun
    hires = np.flatnonzero(w.hire >= start)
    el_start = np.maximum(w.hire[hires] + rng.integers(3, 30, len(hires)), wave_day[dept[hires]] + 2)
    el_len = rng.integers(7, 36, len(hires))
    el_fate = rng.random(len(hires))
    for p, s0, ln, fate in zip(hires, el_start, el_len, el_fate):
        s0 = int(s0)
        if s0 > end or s0 > w.exit[p]:
            continue
        cid = f"ELEARN-AI-BASICS-{from_day(s0).year}"
        done = s0 + int(ln)
        if fate < 0.06:
            b.rows.append((int(p), cid, "elearning", s0, NEVER, "dropped", 1.0))
        elif fate < 0.11 or done > end or done > w.exit[p]:
            b.rows.append((int(p), cid, "elearning", s0, NEVER, "enrolled", 1.5))
        else:
            b.rows.append((int(p), cid, "elearning", s0, done, "completed", 3.0))

    # hackathon in month 7 for champions and masterclass graduates
    if months >= 7:
        hday = int(workdays(day_number(add_months(start_date, 6)) + 14, day_number(add_months(start_date, 6)) + 20)[0])
        master_done = np.zeros(n, dtype=bool)
        for r in b.rows:
            if r[2] == "prompt_masterclass" and r[5] == "completed":
                master_done[r[0]] = True
        hack = np.flatnonzero(master_done & ((tg == CHAMPION) | (rng.random(n) < 0.35)))
        b.sessions(hack, "hackathon", "HACK", np.array([hday]), max(1, len(hack)), drop_p=0.05)

    # quarterly catch-up waves (2nd month of each later quarter) for hires and the missed, in the
    # departments whose basics wave has been
    for k in range(4, months, 3):
        wave0 = day_number(add_months(start_date, k))
        days = workdays(wave0 + 2, wave0 + 20)
        done = completed_any()
        emp = w.employed_on(wave0) & (w.hire <= wave0 - 21) & ~done & (wave_day[dept] + 2 <= wave0)
        new = w.hire >= start
        p = np.where(new, 0.85, 0.25)
        pick = emp & (rng.random(n) < p)
        lead = np.flatnonzero(pick & (tg <= MANAGER))
        b.sessions(lead, "executive_briefing", "EXEC", days, 12, drop_p=0.03)
        for d in range(6):
            base = np.flatnonzero(pick & (tg > MANAGER) & (dept == d))
            b.sessions(base, "basics_workshop", "BASICS", days, 14, drop_p=0.05, dept=d)

    # year 2: refresher use-case workshops
    if months >= 15:
        r0 = day_number(add_months(start_date, 13))
        done = completed_any()
        ref = np.flatnonzero(done & w.employed_on(r0) & (tg >= CHAMPION) & (rng.random(n) < 0.25))
        b.sessions(ref, "usecase_workshop", "REFRESH", workdays(r0 + 2, r0 + 25), 12, drop_p=0.05,
                   hours=4.0)

    # self-paced e-learning still in progress at the end of the data for some of the untrained
    done = np.isin(np.arange(n), [r[0] for r in b.rows if r[5] == "completed" or r[2] == "elearning"])
    late = np.flatnonzero(~done & w.employed_on(end) & (w.hire <= end - 50))
    late = late[rng.random(len(late)) < 0.3]
    for p, lag in zip(late, rng.integers(5, 46, len(late))):
        s0 = int(end - lag)
        b.rows.append((int(p), f"ELEARN-AI-BASICS-{from_day(s0).year}", "elearning", s0, NEVER, "enrolled", 1.0))

    rows = sorted(b.rows, key=lambda r: (w.employee_id[r[0]], r[3], r[1]))

    trained_on = np.full(n, NEVER, dtype=np.int64)
    first_start = np.full(n, NEVER, dtype=np.int64)
    masterclass_on = np.full(n, NEVER, dtype=np.int64)
    usecase_on = np.full(n, NEVER, dtype=np.int64)
    for p, _cid, fmt, s0, c, status, _h in rows:
        first_start[p] = min(first_start[p], s0)
        if status == "completed":
            trained_on[p] = min(trained_on[p], c)
            if fmt == "prompt_masterclass":
                masterclass_on[p] = min(masterclass_on[p], c)
            if fmt == "usecase_workshop":
                usecase_on[p] = min(usecase_on[p], c)

    # licences come with the first enrolment
    office = np.isin(dept, OFFICE_DEPTS)
    m365_from = np.where(office, first_start, NEVER)
    chatgpt_from = np.where(dept == SALES, first_start, NEVER)
    coder = np.array([bool(x) for x in w.github_login])
    early = coder & (rng.random(n) < 0.2)
    github_from = np.where(coder, first_start, NEVER)
    github_from = np.where(early, np.maximum(window_start, w.hire), github_from)

    claude_from = np.full(n, NEVER, dtype=np.int64)
    pilot_start = start + 31
    pilot_start += (7 - (pilot_start + 3) % 7) % 7  # first Monday of month 2
    pool = np.flatnonzero(np.isin(dept, (MANAGEMENT, FINANCE)) & w.employed_on(pilot_start)
                          & (w.exit > pilot_start + 120))
    prio = np.where(tg[pool] <= MANAGER, 0, np.where(tg[pool] == CHAMPION, 1, 2)) + rng.random(len(pool))
    pilot = pool[np.argsort(prio, kind="stable")][:CLAUDE_PILOT_SIZE]
    claude_from[pilot] = np.where(trained_on[pilot] < NEVER, np.maximum(pilot_start, trained_on[pilot]), pilot_start)

    assessments = _assessments(rng, w, rows, first_start, trained_on, masterclass_on, end, window_start)
    return Programme(rows=rows, trained_on=trained_on, first_start=first_start,
                     masterclass_on=masterclass_on, m365_from=m365_from, chatgpt_from=chatgpt_from,
                     github_from=github_from, claude_from=claude_from, assessments=assessments,
                     courses=sorted(b.courses, key=lambda c: (c["first_day"], c["course_id"])))


# The ai_literacy model of `_assessments` (ground_truth.json "skill_model"): a person's skill before
# training, the gain of their first completed training, and when they are assessed.
SKILL0_MEAN, SKILL0_SD, SKILL0_CLIP = 44.0, 11.0, (5, 90)
DEPT_SKILL_SHIFT = (0.0, 8.0, -6.0, 0.0, 2.0, 3.0)  # by department (_common.DEPARTMENTS order)
GAIN_MEAN, GAIN_SD, MASTERCLASS_BONUS, GAIN_FLOOR, SCORE_CAP = 22.0, 7.0, 5.0, 3.0, 100.0
PRE_P, PRE_LAG_DAYS = 0.8, (1, 10)            # before the first enrolment's start
POST_P, POST_LAG_DAYS = 0.85, (28, 56)        # after trained_on (the first completed training)
REASSESS_P, REASSESS_LAG_DAYS = 0.35, (150, 250)  # after the post assessment, of those assessed after
REASSESS_GAIN_MEAN, REASSESS_GAIN_SD = 4.0, 5.0


def _assessments(rng, w: Workforce, rows, first_start, trained_on, masterclass_on, end, window_start):
    n = w.size
    dept_shift = np.array(DEPT_SKILL_SHIFT)[w.dept]
    skill0 = np.clip(rng.normal(SKILL0_MEAN, SKILL0_SD, n) + dept_shift, *SKILL0_CLIP)
    gain = rng.normal(GAIN_MEAN, GAIN_SD, n) + np.where(masterclass_on < NEVER, MASTERCLASS_BONUS, 0.0)
    u = rng.random((n, 6))
    lag_pre = rng.integers(PRE_LAG_DAYS[0], PRE_LAG_DAYS[1] + 1, n)
    lag_post = rng.integers(POST_LAG_DAYS[0], POST_LAG_DAYS[1] + 1, n)
    lag_rep = rng.integers(REASSESS_LAG_DAYS[0], REASSESS_LAG_DAYS[1] + 1, n)
    rep_gain = rng.normal(REASSESS_GAIN_MEAN, REASSESS_GAIN_SD, n)
    out: list[tuple] = []
    seen: set[tuple] = set()

    def add(p, day, instrument, score, max_score):
        day = int(day)
        if day > end or day > w.exit[p] or day < w.hire[p] or day < window_start:
            return
        while (p, day, instrument) in seen:
            day += 1
        seen.add((p, day, instrument))
        out.append((int(p), day, instrument, float(score), float(max_score)))

    for p in range(n):
        if first_start[p] < NEVER and u[p, 0] < PRE_P:
            add(p, first_start[p] - lag_pre[p], "ai_literacy", round(skill0[p]), 100)
        if trained_on[p] < NEVER and u[p, 1] < POST_P:
            post = trained_on[p] + lag_post[p]
            s1 = min(SCORE_CAP, round(skill0[p] + max(gain[p], GAIN_FLOOR)))
            add(p, post, "ai_literacy", s1, 100)
            if u[p, 2] < REASSESS_P:
                add(p, post + lag_rep[p], "ai_literacy", min(SCORE_CAP, round(s1 + rep_gain[p])), 100)
    pq = rng.normal(0.0, 1.0, len(rows))
    pu = rng.random(len(rows))
    plag = rng.integers(3, 22, len(rows))
    for j, (p, _cid, fmt, _s, c, status, _h) in enumerate(rows):
        if status != "completed":
            continue
        if fmt == "prompt_masterclass":
            add(p, c + plag[j], "prompt_quality", float(np.clip(round(14.5 + 2.5 * pq[j]), 0, 20)), 20)
        elif fmt == "usecase_workshop" and pu[j] < 0.6:
            add(p, c + plag[j], "prompt_quality", float(np.clip(round(11.0 + 3.0 * pq[j]), 0, 20)), 20)
    return sorted(out, key=lambda a: (w.employee_id[a[0]], a[2], a[1]))
