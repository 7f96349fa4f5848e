"""Tool usage, simulated week by week and written month by month in five vendor formats.

Each employee-week is active with a probability that depends on the time since the employee's
first completed training (an exponential ramp from ``p_after`` to ``p_plateau``), a personal
factor and the season; an active week has 1-5 active workdays (rarely a weekend day). Each
active day is then spread over the tools the employee has: the internal chat gateway
(everyone), M365 Copilot (office staff, licence from their first enrolment), ChatGPT Enterprise
(Sales & Marketing), GitHub Copilot (Engineering) and a small Claude pilot. Every active day
shows up in at least one format that proves the week (gateway, GitHub or the weekly M365
report); ChatGPT and Claude only add to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from kpi.synthetic._common import (
    DEPARTMENTS,
    NEVER,
    PRODUCTION,
    SALES,
    add_months,
    berlin_offset_hours,
    day_number,
    from_day,
)
from kpi.synthetic.people import Workforce
from kpi.synthetic.programme import Programme

M365_HEADER = [
    "Report Refresh Date", "User Principal Name", "Display Name", "Last Activity Date",
    "Copilot Chat Last Activity Date", "Microsoft Teams Copilot Last Activity Date",
    "Word Copilot Last Activity Date", "Excel Copilot Last Activity Date",
    "PowerPoint Copilot Last Activity Date", "Outlook Copilot Last Activity Date",
    "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date", "Report Period",
]
M365_APP_P = np.array([0.60, 0.35, 0.30, 0.20, 0.12, 0.35, 0.04, 0.03])
CHATGPT_HEADER = [
    "cadence", "period_start", "period_end", "account_id", "public_id", "name", "email",
    "user_role", "role", "department", "user_status", "created_or_invited_date", "is_active",
    "first_day_active_in_period", "last_day_active_in_period", "messages", "messages_rank",
    "gpt_messages", "gpts_messaged", "tool_messages", "tools_messaged", "last_day_active",
]
GATEWAY_COLUMNS = ["event_time", "user", "tool", "action", "interactions", "successes", "failures"]
GITHUB_FEATURES = ("code_completion", "chat_panel_ask_mode", "chat_panel_agent_mode")
GITHUB_IDES = ("vscode", "intellij", "visualstudio")


@dataclass(frozen=True)
class AdoptionModel:
    """The injected adoption curve (weekly active probability), see ground_truth.json."""

    p_untrained: tuple = (0.06, 0.10, 0.03, 0.05, 0.05, 0.08)  # per department, DEPARTMENTS order
    p_after: float = 0.45
    p_plateau: float = 0.85
    tau_days: float = 75.0
    factor_low: float = 0.85
    factor_high: float = 1.15
    august_factor: float = 0.7
    christmas_factor: float = 0.4
    weekend_day_p: float = 0.03
    contractor_p: float = 0.6

    def weekly_p(self, days_since_training: np.ndarray, dept: np.ndarray) -> np.ndarray:
        t = days_since_training.astype(float)
        ramp = self.p_plateau - (self.p_plateau - self.p_after) * np.exp(-np.maximum(t, 0.0) / self.tau_days)
        return np.where(t >= 0, ramp, np.asarray(self.p_untrained)[dept])

    def season(self, monday: int) -> float:
        thu = from_day(monday + 3)
        if (thu.month == 12 and thu.day >= 21) or (thu.month == 1 and thu.day <= 3):
            return self.christmas_factor
        return self.august_factor if thu.month == 8 else 1.0


@dataclass
class _MonthBuffers:
    gateway: list = field(default_factory=list)
    github: list = field(default_factory=list)
    claude: list = field(default_factory=list)
    chatgpt: dict = field(default_factory=dict)


class UsageSimulator:
    def __init__(self, rng: np.random.Generator, w: Workforce, prog: Programme, window_start: int,
                 end: int, model: AdoptionModel):
        self.rng, self.w, self.prog, self.model = rng, w, prog, model
        self.window_start, self.end = window_start, end
        n = w.size
        self.n = n
        self.factor = rng.uniform(model.factor_low, model.factor_high, n)
        # share of the other four workdays used in an active week (shop floor: fewer desk days)
        self.intensity = np.where(w.dept == PRODUCTION, rng.beta(1.5, 5.0, n), rng.beta(2.0, 4.0, n))
        self.day_cap = np.ceil(5 * w.fte).astype(np.int64)
        style = rng.random(n)
        users = []
        for i in range(n):
            if style[i] < 0.86:
                users.append(w.email[i])
            elif style[i] < 0.95:
                users.append(w.employee_id[i])
            elif style[i] < 0.98:
                local, dom = w.email[i].split("@")
                users.append(".".join(p.capitalize() for p in local.split(".")) + "@" + dom.replace("demo-", "Demo-"))
            else:
                users.append(w.employee_id[i].lower())
        self.gateway_user = np.array(users, dtype=object)
        self.p_gateway = np.where(w.dept == PRODUCTION, 1.0, 0.25)
        self.chat_rate = rng.gamma(4.0, 0.7, n)
        self.gh_accept = rng.beta(6.0, 12.0, n)
        self.gh_ide = rng.choice(3, n, p=[0.6, 0.28, 0.12])
        self.gh_rate = rng.gamma(5.0, 3.6, n)
        self.display = np.array([f"{w.first[i]} {w.last[i]}" for i in range(n)], dtype=object)
        self.email = np.array(w.email, dtype=object)
        self.last_app = np.full((n, 8), -1, dtype=np.int64)
        self.gpt_last = np.full(n, -1, dtype=np.int64)
        alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
        pid = rng.choice(alphabet, size=(n, 24))
        self.public_id = np.array(["user-" + "".join(r) for r in pid], dtype=object)
        acct = rng.integers(0, 16, 32)
        hexs = "".join("0123456789abcdef"[int(x)] for x in acct)
        self.account_id = f"{hexs[:8]}-{hexs[8:12]}-4{hexs[13:16]}-a{hexs[17:20]}-{hexs[20:32]}"
        # contractors: gateway only
        self.c_user = np.array(w.contractor_email, dtype=object)
        self.c_from, self.c_to = w.contractor_from, w.contractor_to
        ndays = end - window_start + 1
        self.iso = np.array([from_day(window_start + k).isoformat() for k in range(ndays)], dtype=object)
        self.counts: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers
    def _iso(self, days: np.ndarray) -> np.ndarray:
        return self.iso[days - self.window_start]

    def _month_key(self, day: int) -> tuple[int, int]:
        d = from_day(day)
        return d.year, d.month

    def _buf(self, key) -> _MonthBuffers:
        if key not in self.buffers:
            self.buffers[key] = _MonthBuffers()
        return self.buffers[key]

    # ------------------------------------------------------------------ main loop
    def run(self, out: Path) -> dict[str, int]:
        self.out = out
        self.buffers: dict[tuple[int, int], _MonthBuffers] = {}
        w, m, rng = self.w, self.model, self.rng
        first_monday = self.window_start - (self.window_start + 3) % 7
        monday = first_monday
        trained_on = self.prog.trained_on
        while monday <= self.end:
            days = monday + np.arange(7)
            in_window = (days >= self.window_start) & (days <= self.end)
            employed = (w.hire[:, None] <= days) & (w.exit[:, None] >= days) & in_window
            since = np.where(trained_on < NEVER, monday - trained_on, -1)
            p = m.weekly_p(since, w.dept) * self.factor * m.season(monday)
            active_week = rng.random(self.n) < p
            k = np.minimum(1 + rng.binomial(4, self.intensity), self.day_cap)
            keys = rng.random((self.n, 5))
            keys[~employed[:, :5]] = 2.0
            rank = keys.argsort(axis=1, kind="stable").argsort(axis=1, kind="stable")
            work = (rank < k[:, None]) & employed[:, :5]
            weekend = (rng.random((self.n, 2)) < m.weekend_day_p) & employed[:, 5:]
            active = np.hstack([work, weekend]) & active_week[:, None]
            for x in days[in_window]:
                self._buf(self._month_key(int(x)))
            self._tools(days, active)
            self._contractors(days, in_window)
            if days[6] <= self.end:
                self._m365_report(int(days[6]))
            # flush every month whose last day has been simulated
            for key in sorted(self.buffers):
                last = day_number(add_months(date(key[0], key[1], 1), 1)) - 1
                if last <= days[6]:
                    self._flush(key)
            monday += 7
        for key in sorted(self.buffers):
            self._flush(key)
        return self.counts

    def _tools(self, days: np.ndarray, active: np.ndarray) -> None:
        p, rng = self.prog, self.rng
        r = rng.random((self.n, 7, 5))
        lic = lambda frm: (frm[:, None] <= days) & active  # noqa: E731
        use_m365 = lic(p.m365_from) & (r[..., 1] < 0.8)
        use_github = lic(p.github_from) & (r[..., 3] < 0.9)
        use_gateway = active & (r[..., 0] < self.p_gateway[:, None])
        use_gateway |= active & ~use_m365 & ~use_github
        use_chatgpt = lic(p.chatgpt_from) & (r[..., 2] < 0.5)
        use_claude = lic(p.claude_from) & (r[..., 4] < 0.6)
        self._gateway(days, use_gateway)
        self._m365(days, use_m365)
        self._github(days, use_github)
        self._chatgpt(days, use_chatgpt)
        self._claude(days, use_claude)

    # ------------------------------------------------------------------ gateway
    def _gateway(self, days, use) -> None:
        e, d = np.nonzero(use)
        if len(e) == 0:
            return
        day = days[d]
        self._gateway_rows(day, self.gateway_user[e], self._failure_p(e, day), self.chat_rate[e],
                           trained=(self.prog.trained_on[e] <= day))

    def _failure_p(self, e, day):
        trained = self.prog.trained_on[e] <= day
        master = self.prog.masterclass_on[e] <= day
        return np.where(master, 0.04, np.where(trained, 0.07, 0.12))

    def _gateway_rows(self, day, user, pf, rate, trained) -> None:
        rng = self.rng
        boost = np.where(trained, 1.4, 1.0)
        counts = np.stack([
            1 + rng.poisson(rate * boost),
            np.where(rng.random(len(day)) < 0.2, 1 + rng.poisson(0.3 * rate * boost), 0),
            np.where(rng.random(len(day)) < 0.12, 1 + rng.poisson(0.25 * rate * boost), 0),
        ], axis=1)
        fails = rng.binomial(counts, pf[:, None])
        rows = []
        for j, action in enumerate(("chat", "summarise", "draft")):
            keep = counts[:, j] > 0
            if not keep.any():
                continue
            rows.append(pl.DataFrame({
                "day": day[keep].astype(np.int64),
                "user": pl.Series(user[keep].tolist(), dtype=pl.String),
                "action": [action] * int(keep.sum()),
                "interactions": counts[keep, j].astype(np.int64),
                "successes": (counts[keep, j] - fails[keep, j]).astype(np.int64),
                "failures": fails[keep, j].astype(np.int64),
            }))
        df = pl.concat(rows)
        self._route(df, "gateway")

    def _contractors(self, days, in_window) -> None:
        nc = len(self.c_user)
        if nc == 0:
            return
        rng = self.rng
        emp = (self.c_from[:, None] <= days) & (self.c_to[:, None] >= days) & in_window
        wk = rng.random(nc) < self.model.contractor_p
        act = emp & wk[:, None] & (rng.random((nc, 7)) < np.array([0.5] * 5 + [0.02] * 2))
        e, d = np.nonzero(act)
        if len(e) == 0:
            return
        day = days[d]
        self._gateway_rows(day, self.c_user[e], np.full(len(e), 0.08), np.full(len(e), 2.5),
                           trained=np.ones(len(e), dtype=bool))

    def _route(self, df: pl.DataFrame, kind: str) -> None:
        """Split a frame with an int 'day' column by month into the month buffers."""
        months = df["day"].to_numpy()
        keys = sorted({self._month_key(int(x)) for x in (months.min(), months.max())})
        for key in keys:
            lo = day_number(date(key[0], key[1], 1))
            hi = day_number(add_months(date(key[0], key[1], 1), 1)) - 1
            part = df.filter((pl.col("day") >= lo) & (pl.col("day") <= hi))
            if part.height:
                getattr(self._buf(key), kind).append(part)

    # ------------------------------------------------------------------ M365
    def _m365(self, days, use) -> None:
        if not use.any():
            return
        rng = self.rng
        apps = rng.random((self.n, 7, 8)) < M365_APP_P
        none = ~apps.any(axis=2)
        apps[..., 0] |= none  # at least Copilot Chat
        apps &= use[..., None]
        last = np.where(apps, days[None, :, None], -1).max(axis=1)
        np.maximum(self.last_app, last, out=self.last_app)

    def _m365_report(self, sunday: int) -> None:
        w, p = self.w, self.prog
        members = np.flatnonzero((p.m365_from <= sunday) & (w.hire <= sunday) & (w.exit >= sunday - 6))
        if len(members) == 0:
            return
        members = members[np.argsort(self.email[members], kind="stable")]
        last = self.last_app[members]
        ok = last >= self.window_start
        txt = np.where(ok, self.iso[np.clip(last - self.window_start, 0, None)], None)
        overall = last.max(axis=1)
        cols = {
            M365_HEADER[0]: [from_day(sunday).isoformat()] * len(members),
            M365_HEADER[1]: self.email[members].tolist(),
            M365_HEADER[2]: self.display[members].tolist(),
            M365_HEADER[3]: np.where(overall >= self.window_start,
                                     self.iso[np.clip(overall - self.window_start, 0, None)], None).tolist(),
        }
        for a in range(8):
            cols[M365_HEADER[4 + a]] = txt[:, a].tolist()
        cols[M365_HEADER[12]] = ["7"] * len(members)
        df = pl.DataFrame(cols, schema={c: pl.String for c in M365_HEADER})
        name = f"usage/m365/copilot-usage-{from_day(sunday).isoformat()}.csv"
        self._write_csv(df, name, bom=True)

    # ------------------------------------------------------------------ GitHub
    def _github(self, days, use) -> None:
        e, d = np.nonzero(use)
        if len(e) == 0:
            return
        rng, p = self.rng, self.prog
        day = days[d]
        trained = p.trained_on[e] <= day
        master = p.masterclass_on[e] <= day
        R = len(e)
        cc_gen = 1 + rng.poisson(self.gh_rate[e])
        acc_p = np.clip(self.gh_accept[e] + np.where(trained, 0.05, 0.0), 0.02, 0.9)
        cc_acc = rng.binomial(cc_gen, acc_p)
        used_chat = rng.random(R) < np.where(trained, 0.55, 0.3)
        chat_int = np.where(used_chat, 1 + rng.poisson(3.0, R), 0)
        chat_gen = np.where(used_chat, rng.poisson(0.8 * chat_int), 0)
        chat_acc = rng.binomial(chat_gen, 0.45)
        used_agent = rng.random(R) < np.where(master, 0.3, np.where(trained, 0.15, 0.05))
        ag_int = np.where(used_agent, 1 + rng.poisson(1.5, R), 0)
        ag_gen = np.where(used_agent, 1 + rng.poisson(2.0, R), 0)
        ag_acc = rng.binomial(ag_gen, 0.6)
        engaged = chat_int + ag_int + cc_acc + chat_acc + ag_acc
        cc_acc = np.where(engaged == 0, 1, cc_acc)
        feats = []
        for gen, acc, uic, lines in ((cc_gen, cc_acc, np.zeros(R, dtype=np.int64), 2.5),
                                     (chat_gen, chat_acc, chat_int, 6.0),
                                     (ag_gen, ag_acc, ag_int, 25.0)):
            added = acc + rng.poisson(acc * lines)
            deleted = rng.poisson(acc * lines * 0.25)
            feats.append(np.stack([uic, gen, acc, added, deleted], axis=1))
        tot = feats[0] + feats[1] + feats[2]
        keys = ("user_initiated_interaction_count", "code_generation_activity_count",
                "code_acceptance_activity_count", "loc_added_sum", "loc_deleted_sum")
        present = [np.ones(R, dtype=bool), used_chat, used_agent]
        recs = []
        for j in range(R):
            t = [int(x) for x in tot[j]]
            counts = dict(zip(keys, t))
            by_feature = []
            for f in range(3):
                if present[f][j]:
                    fd = {"feature": GITHUB_FEATURES[f]}
                    fd.update(zip(keys, (int(x) for x in feats[f][j])))
                    by_feature.append(fd)
            ide = {"ide": GITHUB_IDES[self.gh_ide[e[j]]]}
            ide.update(counts)
            rec = {"day": from_day(day[j]).isoformat(), "user_login": self.w.github_export_login[e[j]],
                   "user_id": int(self.w.github_user_id[e[j]])}
            rec.update(counts)
            rec["used_chat"] = bool(used_chat[j] or used_agent[j])
            rec["used_agent"] = bool(used_agent[j])
            rec["totals_by_ide"] = [ide]
            rec["totals_by_feature"] = by_feature
            recs.append((int(day[j]), rec["user_login"], json.dumps(rec, ensure_ascii=False, separators=(",", ":"))))
        self._route_list(recs, "github")

    def _route_list(self, recs: list[tuple], kind: str) -> None:
        for rec in recs:
            getattr(self._buf(self._month_key(rec[0])), kind).append(rec)

    # ------------------------------------------------------------------ ChatGPT Enterprise
    def _chatgpt(self, days, use) -> None:
        e, d = np.nonzero(use)
        if len(e) == 0:
            return
        rng = self.rng
        day = days[d]
        trained = self.prog.trained_on[e] <= day
        msgs = 1 + rng.poisson(self.chat_rate[e] * np.where(trained, 2.0, 1.2))
        gpt = rng.binomial(msgs, 0.25)
        tool = rng.binomial(msgs, 0.15)
        for j in range(len(e)):
            key = self._month_key(int(day[j]))
            acc = self._buf(key).chatgpt
            p = int(e[j])
            st = acc.get(p)
            dj = int(day[j])
            if st is None:
                acc[p] = [dj, dj, int(msgs[j]), int(gpt[j]), int(tool[j])]
            else:
                st[0] = min(st[0], dj)
                st[1] = max(st[1], dj)
                st[2] += int(msgs[j])
                st[3] += int(gpt[j])
                st[4] += int(tool[j])

    def _chatgpt_file(self, key, acc: dict) -> None:
        w, p, rng = self.w, self.prog, self.rng
        first = date(key[0], key[1], 1)
        lo, hi = day_number(first), day_number(add_months(first, 1)) - 1
        hi_eff = min(hi, self.end)
        seats = np.flatnonzero((p.chatgpt_from <= hi_eff) & (w.hire <= hi_eff) & (w.exit >= lo))
        if len(seats) == 0:
            return
        seats = seats[np.argsort(self.email[seats], kind="stable")]
        rows = []
        admin = int(seats.min()) if len(seats) else -1
        admins = np.flatnonzero((w.dept == SALES) & (w.tg == 1) & (p.chatgpt_from < NEVER))
        if len(admins):
            admin = int(admins[np.argsort(np.array(w.employee_id, dtype=object)[admins], kind="stable")][0])
        for s in seats:
            st = acc.get(int(s))
            if st is not None:
                self.gpt_last[s] = max(self.gpt_last[s], st[1])
            rows.append((int(s), st))
        msgs = np.array([0 if st is None else st[2] for _, st in rows])
        order = np.argsort(-msgs, kind="stable")
        rank = np.empty(len(rows), dtype=np.int64)
        sorted_m = msgs[order]
        r = 0
        for i, idx in enumerate(order):
            if i == 0 or sorted_m[i] != sorted_m[i - 1]:
                r = i + 1
            rank[idx] = r
        gd = rng.binomial(3, 0.3, len(rows)) + 1
        td = rng.binomial(2, 0.4, len(rows)) + 1
        out = []
        for i, (s, st) in enumerate(rows):
            act = st is not None
            never = self.gpt_last[s] < 0
            status = "pending" if never and p.chatgpt_from[s] >= lo else "enabled"
            out.append([
                "monthly", first.isoformat(), from_day(hi).isoformat(), self.account_id,
                self.public_id[s], self.display[s], w.email[s],
                "account-admin" if s == admin else "standard-user",
                "admin" if s == admin else "member", DEPARTMENTS[SALES], status,
                from_day(p.chatgpt_from[s]).isoformat(), "True" if act else "False",
                from_day(st[0]).isoformat() if act else "", from_day(st[1]).isoformat() if act else "",
                str(msgs[i]), str(rank[i]), str(st[3] if act else 0),
                str(min(st[3], gd[i]) if act and st[3] else 0), str(st[4] if act else 0),
                str(min(st[4], td[i]) if act and st[4] else 0),
                "" if never else from_day(self.gpt_last[s]).isoformat(),
            ])
        df = pl.DataFrame(out, schema={c: pl.String for c in CHATGPT_HEADER}, orient="row")
        self._write_csv(df, f"usage/chatgpt/chatgpt-enterprise-users-{key[0]:04d}-{key[1]:02d}.csv")

    # ------------------------------------------------------------------ Claude pilot (event level)
    def _claude(self, days, use) -> None:
        e, d = np.nonzero(use)
        if len(e) == 0:
            return
        rng = self.rng
        recs = []
        n_ev = 1 + rng.poisson(4.0, len(e))
        for j in range(len(e)):
            day = int(days[d[j]])
            secs = np.sort(rng.choice(36000, size=int(n_ev[j]), replace=False)) + 8 * 3600
            outcome_u = rng.random(len(secs))
            action_u = rng.random(len(secs))
            off = berlin_offset_hours(from_day(day))
            ds = from_day(day).isoformat()
            for sec, ou, au in zip(secs, outcome_u, action_u):
                hh, rem = divmod(int(sec), 3600)
                mm, ss = divmod(rem, 60)
                ts = f"{ds}T{hh:02d}:{mm:02d}:{ss:02d}+{off:02d}:00"
                rec = {"event_time": ts, "user": self.w.email[e[j]], "tool": "claude",
                       "action": "chat" if au < 0.75 else "summarise",
                       "outcome": "success" if ou < 0.85 else ("failure" if ou < 0.93 else None)}
                recs.append((day, ts, json.dumps(rec, ensure_ascii=False)))
        self._route_list(recs, "claude")

    # ------------------------------------------------------------------ writing
    def _write_csv(self, df: pl.DataFrame, rel: str, bom: bool = False) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        df.write_csv(path, include_bom=bom, line_terminator="\n")
        self.counts[rel] = df.height

    def _write_lines(self, lines: list[str], rel: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(x + "\n" for x in lines), encoding="utf-8", newline="\n")
        self.counts[rel] = len(lines)

    def _flush(self, key) -> None:
        buf = self.buffers.pop(key)
        label = f"{key[0]:04d}-{key[1]:02d}"
        if buf.gateway:
            df = pl.concat(buf.gateway).sort(["day", "user", "action"])
            df = df.with_columns(
                pl.Series("event_time", self._iso(df["day"].to_numpy()).tolist(), dtype=pl.String),
                pl.lit("chat-gateway").alias("tool"),
            ).select(GATEWAY_COLUMNS)
            self._write_csv(df, f"usage/gateway/gateway-{label}.csv")
        if buf.github:
            recs = sorted(buf.github, key=lambda r: (r[0], r[1].lower()))
            self._write_lines([r[2] for r in recs], f"usage/github/copilot-users-1-day-{label}.ndjson")
        if buf.claude:
            recs = sorted(buf.claude, key=lambda r: (r[1], r[2]))
            self._write_lines([r[2] for r in recs], f"usage/gateway/gateway-events-{label}.jsonl")
        first = date(key[0], key[1], 1)
        if day_number(first) >= self.window_start:
            self._chatgpt_file(key, buf.chatgpt)


__all__ = ["AdoptionModel", "UsageSimulator"]
