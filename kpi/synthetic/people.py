"""The workforce: employees (with leavers and replacement hires) and a few contractors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kpi.synthetic._common import (
    CHAMPION,
    CONTRACTOR_DOMAIN,
    DEPARTMENTS,
    DEPT_SHARE,
    EMAIL_DOMAIN,
    ENGINEERING,
    EXECUTIVE,
    FINANCE,
    HR_ADMIN,
    MANAGEMENT,
    MANAGER,
    NEVER,
    PRODUCTION,
    SALES,
    TARGET_GROUPS,
    USER,
    fmt_num,
    iso,
    iso_or_empty,
)

FIRST_NAMES = (
    "Anna", "Andreas", "Alexander", "Birgit", "Bernd", "Christina", "Christian", "Claudia",
    "Daniel", "Dennis", "Elena", "Eva", "Fabian", "Felix", "Florian", "Franziska", "Frank",
    "Gabriele", "Heike", "Hannah", "Jan", "Jana", "Jens", "Johanna", "Jonas", "Jörg", "Julia",
    "Jürgen", "Karin", "Katharina", "Kerstin", "Klaus", "Lara", "Laura", "Lea", "Lena", "Lukas",
    "Maria", "Marco", "Markus", "Martin", "Matthias", "Max", "Melanie", "Michael", "Monika",
    "Nadine", "Niklas", "Nina", "Oliver", "Patrick", "Petra", "Philipp", "Ralf", "René",
    "Sabine", "Sandra", "Sarah", "Sebastian", "Simon", "Sophie", "Stefan", "Stefanie", "Susanne",
    "Sven", "Thomas", "Tim", "Tobias", "Torsten", "Ulrike", "Uwe", "Vanessa", "Yvonne", "Zeynep",
    "Mehmet", "Ayşe", "Piotr", "Katarzyna", "Luca", "Giulia", "Ivana", "Dragan", "Olena", "Amir",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler",
    "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang",
    "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich", "Keller",
    "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke",
    "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher",
    "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt",
    "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl",
    "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff",
    "Pfeiffer", "Yılmaz", "Kaya", "Nowak", "Kowalski", "Rossi", "Petrović", "Kovalenko", "Haddad",
)
_TRANSLIT = str.maketrans({
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ş": "s", "ı": "i", "ć": "c",
    "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
})

# Fully loaded hourly cost (EUR) of a "user" by department; other groups scale it.
USER_RATE = {SALES: 62.0, ENGINEERING: 68.0, PRODUCTION: 47.0, HR_ADMIN: 50.0, FINANCE: 58.0,
             MANAGEMENT: 60.0}
GROUP_RATE = {EXECUTIVE: 135.0, MANAGER: 88.0}
PART_TIME_SHARE = {SALES: 0.06, ENGINEERING: 0.05, PRODUCTION: 0.12, HR_ADMIN: 0.35,
                   FINANCE: 0.15, MANAGEMENT: 0.10}
TURNOVER_PER_YEAR = 0.09
LEAVE_FACTOR = {EXECUTIVE: 0.3, MANAGER: 0.6, CHAMPION: 0.7, USER: 1.0}


def ascii_name(text: str) -> str:
    return text.translate(_TRANSLIT).lower().replace(" ", "")


def largest_remainder(total: int, shares) -> np.ndarray:
    """Integer counts summing to total, proportional to shares."""
    raw = np.asarray(shares, dtype=float) / float(np.sum(shares)) * total
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def champion_weights(dept_counts) -> np.ndarray:
    """The weights champions are allocated by: the department sizes, with Management's set to 0.

    Design rule: Management (the executives and a few managers) has no champion, so it is the
    department that stays at maturity level 2 (level 3 needs a champion, docs/metrics.md §7)
    and is `under_served` in marts.kpi_champions, while the others reach level 3."""
    weights = np.asarray(dept_counts, dtype=float).copy()
    weights[MANAGEMENT] = 0.0
    return weights


@dataclass
class Workforce:
    """All HR rows (index = internal person number) plus contractors."""

    employee_id: list[str]
    first: list[str]
    last: list[str]
    email: list[str]
    github_login: list[str]          # HR spelling ("" = none)
    github_export_login: list[str]   # spelling in GitHub's export (mixed case for a few)
    github_user_id: np.ndarray
    dept: np.ndarray
    tg: np.ndarray
    hire: np.ndarray
    exit: np.ndarray
    fte: np.ndarray
    hourly_cost: np.ndarray          # NaN = left empty in the HR file
    replaces: np.ndarray             # index of the leaver a hire replaces, -1 otherwise
    contractor_email: list[str] = field(default_factory=list)
    contractor_from: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    contractor_to: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def size(self) -> int:
        return len(self.employee_id)

    def employed_on(self, day: int) -> np.ndarray:
        return (self.hire <= day) & (self.exit >= day)


def _group_counts(size: int, dept: int, n_exec: int, n_champ: int) -> tuple[int, int, int]:
    execs = n_exec if dept == MANAGEMENT else 0
    managers = max(1, int(round((size - execs) / 11.0)))
    if dept == MANAGEMENT:
        managers = max(1, int(round((size - execs) / 12.0)))
    while execs + managers + n_champ > size and managers > 1:
        managers -= 1
    return execs, managers, max(0, min(n_champ, size - execs - managers))


def build_workforce(rng: np.random.Generator, employees: int, window_start: int, start: int,
                    end: int, baseline_months: int, months: int) -> Workforce:
    """Employees on the programme start (``employees`` of them), baseline leavers, programme
    leavers and the hires that replace them, each with department, target group and costs."""
    n0 = int(employees)
    dept_counts = largest_remainder(n0, DEPT_SHARE)
    n_exec = int(np.clip(round(n0 / 45.0), 2, 8))
    n_exec = min(n_exec, max(1, dept_counts[MANAGEMENT] - 1))
    champ_total = max(1, int(round(n0 / 17.5)))
    champ_counts = largest_remainder(champ_total, champion_weights(dept_counts))

    dept: list[int] = []
    tg: list[int] = []
    for d, size in enumerate(dept_counts):
        e, m, c = _group_counts(int(size), d, n_exec, int(champ_counts[d]))
        dept += [d] * int(size)
        tg += [EXECUTIVE] * e + [MANAGER] * m + [CHAMPION] * c + [USER] * int(size - e - m - c)
    dept_a = np.array(dept, dtype=np.int64)
    tg_a = np.array(tg, dtype=np.int64)

    # tenure: most joined years ago; leaders have been there longer
    tenure_years = rng.exponential(8.0, n0) + np.where(tg_a <= MANAGER, 4.0, 0.3)
    tenure_days = np.minimum(tenure_years, 38.0) * 365.25
    hire = (start - 30 - tenure_days).astype(np.int64)
    exit_ = np.full(n0, NEVER, dtype=np.int64)
    replaces = np.full(n0, -1, dtype=np.int64)

    # baseline leavers (left before the start), replaced by people hired before the start
    p_base = 1.0 - np.exp(-TURNOVER_PER_YEAR * baseline_months / 12.0)
    n_base_leavers = int(rng.binomial(n0, p_base)) if baseline_months > 0 else 0
    users = np.flatnonzero(tg_a == USER)
    repl = np.sort(rng.choice(users, size=min(n_base_leavers, len(users)), replace=False))
    bl_exit = rng.integers(window_start, start, size=len(repl))
    bl_lag = rng.integers(10, 60, size=len(repl))
    bl_tenure = (rng.exponential(5.0, len(repl)) + 0.5) * 365.25
    hire[repl] = np.minimum(bl_exit + bl_lag, start)
    leaver_dept = dept_a[repl]
    leaver_hire = (bl_exit - bl_tenure).astype(np.int64)
    base_idx = np.arange(n0, n0 + len(repl))
    replaces[repl] = base_idx

    dept_a = np.concatenate([dept_a, leaver_dept])
    tg_a = np.concatenate([tg_a, np.full(len(repl), USER)])
    hire = np.concatenate([hire, leaver_hire])
    exit_ = np.concatenate([exit_, bl_exit.astype(np.int64)])
    replaces = np.concatenate([replaces, np.full(len(repl), -1)])

    # programme leavers among the people employed on the start day, and their replacements
    years = months / 12.0
    p_leave = 1.0 - np.exp(-TURNOVER_PER_YEAR * years * np.array([LEAVE_FACTOR[g] for g in tg_a[:n0]]))
    leaves = rng.random(n0) < p_leave
    leaves &= hire[:n0] < start - 120  # nobody quits within their first months here
    leavers = np.flatnonzero(leaves)
    exit_days = rng.integers(start + 20, end + 1, size=len(leavers))
    exit_[leavers] = exit_days
    lags = rng.integers(7, 80, size=len(leavers))
    hire_days = exit_days + lags
    filled = hire_days <= end - 5
    new_src = leavers[filled]
    new_tg = tg_a[new_src].copy()
    new_tg[new_tg == CHAMPION] = USER
    dept_a = np.concatenate([dept_a, dept_a[new_src]])
    tg_a = np.concatenate([tg_a, new_tg])
    hire = np.concatenate([hire, hire_days[filled].astype(np.int64)])
    exit_ = np.concatenate([exit_, np.full(len(new_src), NEVER, dtype=np.int64)])
    replaces = np.concatenate([replaces, new_src])
    n = len(dept_a)

    # part-timers (mostly HR/admin and production), never leaders
    pt_share = np.array([PART_TIME_SHARE[d] for d in dept_a])
    part = (rng.random(n) < pt_share) & (tg_a >= CHAMPION)
    pt_value = rng.choice(np.array([0.5, 0.6, 0.8]), size=n, p=[0.35, 0.2, 0.45])
    fte = np.where(part, pt_value, 1.0)

    # fully loaded hourly cost; a few left empty so the config rates apply
    base = np.array([GROUP_RATE.get(int(g), USER_RATE[int(d)] * (1.08 if g == CHAMPION else 1.0))
                     for d, g in zip(dept_a, tg_a)])
    cost = np.round(base * rng.uniform(0.9, 1.1, n), 2)
    cost[rng.random(n) < 0.03] = np.nan

    # names and e-mails
    fi = rng.integers(0, len(FIRST_NAMES), n)
    li = rng.integers(0, len(LAST_NAMES), n)
    first = [FIRST_NAMES[i] for i in fi]
    last = [LAST_NAMES[i] for i in li]

    # personnel numbers follow the hire date
    order = np.lexsort((np.arange(n), hire))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    width = max(5, len(str(n)))
    employee_id = [f"E{r + 1:0{width}d}" for r in rank]

    email = [""] * n
    used: dict[str, int] = {}
    for i in order:  # oldest first keeps the plain address
        local = f"{ascii_name(first[i])}.{ascii_name(last[i])}"
        k = used.get(local, 0) + 1
        used[local] = k
        email[i] = f"{local}{'' if k == 1 else k}@{EMAIL_DOMAIN}"

    github = [""] * n
    github_export = [""] * n
    gh_ids = np.zeros(n, dtype=np.int64)
    # only the software / PLC developers in Engineering have a GitHub account
    eng_all = [i for i in order if dept_a[i] == ENGINEERING]
    coder = rng.random(len(eng_all)) < 0.4
    coder[: 1] = True
    eng = [i for i, c in zip(eng_all, coder) if c]
    style = rng.integers(0, 4, len(eng))
    mixed = rng.random(len(eng)) < 0.12
    gh_id_values = rng.permutation(1_000_000 + np.cumsum(rng.integers(1, 40_000, len(eng))))  # unique ids
    taken: set[str] = set()
    for j, i in enumerate(eng):
        f, l_ = ascii_name(first[i]), ascii_name(last[i])
        cand = (f"{f[0]}{l_}", f"{f}-{l_}", f"{f}{l_[:3]}-dm", f"{l_}{f[0]}")[int(style[j])]
        login, k = cand, 1
        while login in taken:
            k += 1
            login = f"{cand}{k}"
        taken.add(login)
        github[i] = login
        github_export[i] = (login[0].upper() + login[1:]) if mixed[j] else login
        gh_ids[i] = gh_id_values[j]

    n_contr = max(3, int(round(n0 / 50.0)))
    cf = rng.integers(0, len(FIRST_NAMES), n_contr)
    cl = rng.integers(0, len(LAST_NAMES), n_contr)
    c_email = []
    for a, b in zip(cf, cl):
        local = f"{ascii_name(FIRST_NAMES[a])}.{ascii_name(LAST_NAMES[b])}"
        cand, k = local, 1
        while f"{cand}@{CONTRACTOR_DOMAIN}" in c_email:
            k += 1
            cand = f"{local}{k}"
        c_email.append(f"{cand}@{CONTRACTOR_DOMAIN}")
    c_from = rng.integers(start, max(start + 1, min(end, start + 120)), n_contr).astype(np.int64)
    c_to = np.minimum(c_from + rng.integers(120, 420, n_contr), end).astype(np.int64)

    return Workforce(
        employee_id=employee_id, first=first, last=last, email=email, github_login=github,
        github_export_login=github_export, github_user_id=gh_ids, dept=dept_a, tg=tg_a,
        hire=hire, exit=exit_, fte=fte, hourly_cost=cost, replaces=replaces,
        contractor_email=c_email, contractor_from=c_from, contractor_to=c_to,
    )


def employee_rows(w: Workforce):
    """employees.csv rows sorted by employee_id."""
    order = sorted(range(w.size), key=lambda i: w.employee_id[i])
    for i in order:
        cost = w.hourly_cost[i]
        yield [
            w.employee_id[i], w.email[i], w.github_login[i], DEPARTMENTS[w.dept[i]],
            TARGET_GROUPS[w.tg[i]], iso(w.hire[i]), iso_or_empty(w.exit[i]),
            fmt_num(w.fte[i], 1), "" if np.isnan(cost) else fmt_num(cost, 2),
        ]
