"""The synthetic demo company: deterministic, realistic, and valid in every vendor format."""

from __future__ import annotations

import csv
import importlib.util
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from kpi.paths import DEMO_DIR
from kpi.synthetic import generate_company

SMALL = dict(employees=120, months=12, seed=7)
START = date(2025, 1, 1)
M365_HEADER = [
    "Report Refresh Date", "User Principal Name", "Display Name", "Last Activity Date",
    "Copilot Chat Last Activity Date", "Microsoft Teams Copilot Last Activity Date",
    "Word Copilot Last Activity Date", "Excel Copilot Last Activity Date",
    "PowerPoint Copilot Last Activity Date", "Outlook Copilot Last Activity Date",
    "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date", "Report Period",
]
CHATGPT_HEADER = [
    "cadence", "period_start", "period_end", "account_id", "public_id", "name", "email",
    "user_role", "role", "department", "user_status", "created_or_invited_date", "is_active",
    "first_day_active_in_period", "last_day_active_in_period", "messages", "messages_rank",
    "gpt_messages", "gpts_messaged", "tool_messages", "tools_messaged", "last_day_active",
]
GITHUB_COUNTS = ("user_initiated_interaction_count", "code_generation_activity_count",
                 "code_acceptance_activity_count", "loc_added_sum", "loc_deleted_sum")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("small") / "inputs"
    return out, generate_company(out, **SMALL)


@pytest.fixture(scope="module")
def people(company):
    """Employees keyed by every lower-cased identifier (id, e-mail, GitHub login)."""
    root, _ = company
    by_key = {}
    rows = _read_csv(root / "hr/employees.csv")
    for r in rows:
        emp = dict(r, hire=_d(r["hire_date"]), exit=_d(r["exit_date"]) if r["exit_date"] else date.max)
        for k in (r["employee_id"], r["email"], r["github_login"]):
            if k:
                by_key[k.lower()] = emp
    return rows, by_key


def _activity(root: Path, by_key: dict) -> list[tuple[str, date, str]]:
    """(employee_id or raw user, day, format) for every activity the usage files prove."""
    out = []
    for p in sorted(root.glob("usage/gateway/gateway-*.csv")):
        for r in _read_csv(p):
            out.append((r["user"], _d(r["event_time"]), "gateway"))
    for p in sorted(root.glob("usage/gateway/gateway-events-*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append((r["user"], datetime.fromisoformat(r["event_time"]).date(), "claude"))
    for p in sorted(root.glob("usage/github/*.ndjson")):
        for line in p.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append((r["user_login"], _d(r["day"]), "github"))
    for p in sorted(root.glob("usage/m365/*.csv")):
        for r in _read_csv(p):
            refresh = _d(r["Report Refresh Date"])
            lo = refresh - timedelta(days=int(r["Report Period"]) - 1)
            for col in M365_HEADER[4:12]:
                if r[col] and lo <= _d(r[col]) <= refresh:
                    out.append((r["User Principal Name"], _d(r[col]), "m365"))
    for p in sorted(root.glob("usage/chatgpt/*.csv")):
        for r in _read_csv(p):
            for col in ("first_day_active_in_period", "last_day_active_in_period"):
                if r[col]:
                    out.append((r["email"], _d(r[col]), "chatgpt"))
    return [(by_key[u.lower()]["employee_id"] if u.lower() in by_key else u, d, f) for u, d, f in out]


# ------------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_bytes_and_another_seed_differs(company, tmp_path):
    root, summary = company
    again = tmp_path / "again"
    generate_company(again, **SMALL)
    assert _files(again) == _files(root)
    other = tmp_path / "other"
    generate_company(other, **dict(SMALL, seed=8))
    a, b = _files(root), _files(other)
    assert a["hr/employees.csv"] != b["hr/employees.csv"]
    assert a["usage/gateway/gateway-2025-06.csv"] != b["usage/gateway/gateway-2025-06.csv"]


def test_summary_lists_every_file_with_its_rows(company):
    root, summary = company
    on_disk = set(_files(root))
    assert set(summary["files"]) == on_disk
    assert summary["files"]["hr/employees.csv"] == len(_read_csv(root / "hr/employees.csv"))
    assert summary["files"]["finance/costs.csv"] == len(_read_csv(root / "finance/costs.csv"))
    for name in ("config.yaml", "ground_truth.json", "hr/trainings.csv", "hr/assessments.csv",
                 "business/process_metrics.csv", "business/use_cases.csv"):
        assert name in on_disk
    # 3 baseline months + 12 programme months of gateway logs, quarterly pulses incl. baseline
    assert len([f for f in on_disk if f.startswith("usage/gateway/gateway-2")]) == 15
    assert sorted(f for f in on_disk if f.startswith("surveys/")) == [
        "surveys/pulse-2024-Q4.csv", "surveys/pulse-2025-Q1.csv", "surveys/pulse-2025-Q2.csv",
        "surveys/pulse-2025-Q3.csv", "surveys/pulse-2025-Q4.csv"]


def test_regenerating_the_demo_reproduces_the_committed_fixture(tmp_path):
    assert DEMO_DIR.is_dir(), "fixtures/demo is missing: run kpi generate into it"
    out = tmp_path / "demo"
    generate_company(out)  # the defaults: 180 employees, 21 months, seed 42
    assert _files(out) == _files(DEMO_DIR)


# ------------------------------------------------------------------------ the workforce
def test_workforce_shape(company, people):
    root, _ = company
    rows, _ = people
    truth = json.loads((root / "ground_truth.json").read_text())
    at_start = [r for r in rows if _d(r["hire_date"]) <= START and (not r["exit_date"] or _d(r["exit_date"]) >= START)]
    assert len(at_start) == 120
    champions = sum(r["target_group"] == "champion" for r in at_start)
    assert 15 <= len(at_start) / champions <= 20
    depts = defaultdict(int)
    for r in at_start:
        depts[r["department"]] += 1
    assert max(depts, key=depts.get) == "Production"
    assert {r["department"] for r in rows if r["target_group"] == "executive"} == {"Management"}
    assert all(r["github_login"] == "" for r in rows if r["department"] != "Engineering")
    assert len({r["email"] for r in rows}) == len(rows)
    leavers = [r for r in rows if r["exit_date"] and _d(r["exit_date"]) >= START]
    hires = [r for r in rows if _d(r["hire_date"]) > START]
    assert len(leavers) == truth["leavers"] > 0 and len(hires) == truth["hires"] > 0
    assert 0.04 <= len(leavers) / 120 <= 0.16  # ~9 % a year
    assert {r["fte"] for r in rows} >= {"1.0", "0.5", "0.8"}
    assert any(r["hourly_cost_eur"] == "" for r in rows)


def test_trainings_follow_the_rollout(company, people):
    root, _ = company
    _, by_key = people
    rows = _read_csv(root / "hr/trainings.csv")
    formats = {"basics_workshop", "usecase_workshop", "prompt_masterclass", "hackathon", "executive_briefing",
               "elearning", "coaching", "train_the_trainer", "other"}
    assert {r["format"] for r in rows} <= formats
    assert {r["status"] for r in rows} == {"completed", "dropped", "enrolled"}
    for r in rows:
        emp = by_key[r["employee_id"].lower()]
        assert emp["hire"] <= _d(r["started_on"]) <= emp["exit"]
        assert (r["completed_on"] != "") == (r["status"] == "completed")
        if r["completed_on"]:
            assert _d(r["started_on"]) <= _d(r["completed_on"]) <= emp["exit"]
    first = {}
    for r in rows:
        first.setdefault(r["format"], _d(r["started_on"]))
        first[r["format"]] = min(first[r["format"]], _d(r["started_on"]))
    assert first["executive_briefing"] < START + timedelta(days=30)
    assert first["train_the_trainer"] < START + timedelta(days=30)
    assert START + timedelta(days=30) <= first["basics_workshop"] < START + timedelta(days=60)
    assert START + timedelta(days=60) <= first["prompt_masterclass"] < START + timedelta(days=90)
    ttt = [r for r in rows if r["format"] == "train_the_trainer" and r["status"] == "completed"]
    assert {r["hours"] for r in ttt} == {"16.0"}
    assert all(by_key[r["employee_id"].lower()]["target_group"] == "champion" for r in ttt)


def test_assessments_rise_after_training(company):
    root, _ = company
    rows = _read_csv(root / "hr/assessments.csv")
    by_emp = defaultdict(list)
    for r in rows:
        assert 0 <= float(r["score"]) <= float(r["max_score"])
        if r["instrument"] == "ai_literacy":
            by_emp[r["employee_id"]].append((r["assessed_on"], float(r["score"])))
    gains = [s[-1][1] - s[0][1] for s in (sorted(v) for v in by_emp.values()) if len(s) >= 2]
    assert len(gains) > 30 and sum(gains) / len(gains) > 12
    assert {r["max_score"] for r in rows if r["instrument"] == "prompt_quality"} == {"20"}


# ------------------------------------------------------------------------ usage
def test_no_activity_before_hire_or_after_exit(company, people):
    root, _ = company
    _, by_key = people
    matched = 0
    for who, day, fmt in _activity(root, by_key):
        emp = by_key.get(who.lower())
        if emp is None:
            assert who.endswith("@contractor.example"), (who, fmt)
            continue
        matched += 1
        assert emp["hire"] <= day <= emp["exit"], (who, day, fmt)
    assert matched > 1000
    # ChatGPT's overall last_day_active lies inside the employment too
    for p in sorted(root.glob("usage/chatgpt/*.csv")):
        for r in _read_csv(p):
            if r["last_day_active"]:
                emp = by_key[r["email"].lower()]
                assert emp["hire"] <= _d(r["last_day_active"]) <= emp["exit"]


def test_contractors_are_present_and_match_no_employee(company, people):
    root, _ = company
    _, by_key = people
    truth = json.loads((root / "ground_truth.json").read_text())
    users = set()
    for p in sorted(root.glob("usage/gateway/gateway-*.csv")):
        users |= {r["user"] for r in _read_csv(p)}
    contractors = {u for u in users if u.endswith("@contractor.example")}
    assert contractors and contractors <= set(truth["contractor_users"])
    assert not any(u.lower() in by_key for u in contractors)
    assert truth["contractors"] == len(truth["contractor_users"]) >= 3
    # every other gateway user matches an employee case-insensitively, some only that way
    others = users - contractors
    assert all(u.lower() in by_key for u in others)
    assert any(u != u.lower() and "@" in u for u in others)
    assert any(u.lower().startswith("e0") for u in others)


def test_adoption_rises_after_training(company, people):
    root, _ = company
    rows, by_key = people
    trainings = _read_csv(root / "hr/trainings.csv")
    trained_on = {}
    for r in trainings:
        if r["status"] == "completed":
            d = _d(r["completed_on"])
            trained_on[r["employee_id"]] = min(trained_on.get(r["employee_id"], d), d)
    weeks = defaultdict(set)
    for who, day, _fmt in _activity(root, by_key):
        weeks[who].add(day - timedelta(days=day.weekday()))
    end = date(2025, 12, 31)
    window_start = date(2024, 10, 1)

    def share(lo_week: int, hi_week: int) -> float:
        hits = total = 0
        for r in rows:
            t = trained_on.get(r["employee_id"])
            if t is None:
                continue
            emp = by_key[r["employee_id"].lower()]
            monday0 = t - timedelta(days=t.weekday())
            for k in range(lo_week, hi_week):
                monday = monday0 + timedelta(weeks=k)
                if monday < max(emp["hire"], window_start) or monday + timedelta(days=6) > min(emp["exit"], end):
                    continue
                if monday.month == 8 or (monday.month == 12 and monday.day >= 20):
                    continue  # seasonal dips
                total += 1
                hits += monday in weeks[r["employee_id"]]
        assert total > 100
        return hits / total

    before, right_after, later = share(-8, 0), share(1, 4), share(13, 17)
    assert before < 0.15
    assert 0.3 < right_after < 0.65
    assert 0.65 < later < 0.95
    assert later > right_after + 0.1 > before + 0.1


def test_weekends_are_quiet(company):
    root, _ = company
    total = weekend = 0
    for p in sorted(root.glob("usage/gateway/gateway-2*.csv")):
        for r in _read_csv(p):
            total += 1
            weekend += _d(r["event_time"]).weekday() >= 5
    assert weekend / total < 0.05


def test_every_usage_file_is_a_valid_instance_of_its_format(company):
    root, _ = company
    gateway = sorted(root.glob("usage/gateway/gateway-2*.csv"))
    assert gateway
    for p in gateway:
        raw = p.read_bytes()
        assert b"\r\n" not in raw
        assert raw.split(b"\n", 1)[0] == b"event_time,user,tool,action,interactions,successes,failures"
        keys = set()
        for r in _read_csv(p):
            assert r["tool"] == "chat-gateway" and r["action"] in {"chat", "summarise", "draft"}
            n, s, f = int(r["interactions"]), int(r["successes"]), int(r["failures"])
            assert n > 0 and s >= 0 and f >= 0 and s + f <= n
            assert p.name == f"gateway-{r['event_time'][:7]}.csv"
            key = (r["event_time"], r["user"], r["action"])
            assert key not in keys
            keys.add(key)
    events = sorted(root.glob("usage/gateway/gateway-events-*.jsonl"))
    assert events
    pilot = set()
    for p in events:
        seen = set()
        for line in p.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            assert list(r) == ["event_time", "user", "tool", "action", "outcome"]
            ts = datetime.fromisoformat(r["event_time"])
            assert ts.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
            assert r["tool"] == "claude" and r["outcome"] in ("success", "failure", None)
            assert line not in seen
            seen.add(line)
            pilot.add(r["user"])
    assert 5 <= len(pilot) <= 12
    m365 = sorted(root.glob("usage/m365/copilot-usage-*.csv"))
    assert m365
    for p in m365:
        raw = p.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # Graph's CSV reports carry a BOM
        with p.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
        assert header == M365_HEADER
        refresh = _d(p.stem.removeprefix("copilot-usage-"))
        assert refresh.weekday() == 6
        for r in _read_csv(p):
            assert r["Report Refresh Date"] == refresh.isoformat() and r["Report Period"] == "7"
            dates = [r[c] for c in M365_HEADER[4:12] if r[c]]
            assert all(_d(x) <= refresh for x in dates)
            assert r["Last Activity Date"] == (max(dates) if dates else "")
    chatgpt = sorted(root.glob("usage/chatgpt/*.csv"))
    assert chatgpt
    for p in chatgpt:
        with p.open(encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == CHATGPT_HEADER
        for r in _read_csv(p):
            assert r["cadence"] == "monthly" and r["is_active"] in ("True", "False")
            lo, hi = _d(r["period_start"]), _d(r["period_end"])
            assert lo.day == 1 and (hi + timedelta(days=1)).day == 1
            if r["is_active"] == "True":
                assert lo <= _d(r["first_day_active_in_period"]) <= _d(r["last_day_active_in_period"]) <= hi
                assert int(r["messages"]) > 0
            else:
                assert r["first_day_active_in_period"] == "" and r["messages"] == "0"
            assert int(r["gpt_messages"]) <= int(r["messages"]) and int(r["tool_messages"]) <= int(r["messages"])
    github = sorted(root.glob("usage/github/copilot-users-1-day-*.ndjson"))
    assert github
    for p in github:
        for line in p.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            assert isinstance(r["day"], str) and _d(r["day"])
            assert isinstance(r["user_login"], str) and r["user_login"]
            assert isinstance(r["user_id"], int)
            assert isinstance(r["used_chat"], bool) and isinstance(r["used_agent"], bool)
            for k in GITHUB_COUNTS:
                assert isinstance(r[k], int) and r[k] >= 0
            assert r["code_acceptance_activity_count"] <= r["code_generation_activity_count"]
            assert r["user_initiated_interaction_count"] + r["code_acceptance_activity_count"] > 0
            for part in ("totals_by_ide", "totals_by_feature"):
                assert isinstance(r[part], list) and r[part]
                for k in GITHUB_COUNTS:
                    assert sum(x[k] for x in r[part]) == r[k]
                for x in r[part]:
                    assert x["code_acceptance_activity_count"] <= x["code_generation_activity_count"]
            assert {x["ide"] for x in r["totals_by_ide"]} <= {"vscode", "intellij", "visualstudio"}
            assert r["totals_by_feature"][0]["feature"] == "code_completion"


# ------------------------------------------------------------------------ money, business, culture
def test_budget_split_and_year_one_spend(company):
    root, _ = company
    rows = _read_csv(root / "finance/costs.csv")
    y1_end = date(2025, 12, 31)
    by_cat = defaultdict(float)
    for r in rows:
        if _d(r["booked_on"]) <= y1_end:
            by_cat[r["category"]] += float(r["amount_eur"])
    total = sum(by_cat.values())
    assert abs(total - 1000 * 120) <= 0.15 * 1000 * 120
    for cat, share in {"external_training": 0.4, "internal_time": 0.3, "licenses": 0.2, "materials": 0.1}.items():
        assert abs(by_cat[cat] / total - share) <= 0.03, cat
    assert sum(float(r["amount_eur"]) < 0 for r in rows) == 1  # one credit note
    assert sum(_d(r["booked_on"]) < START for r in rows) == 1  # one booking before the start
    assert all(r["booked_on"] <= "2025-12-31" for r in rows)


def test_process_metrics_follow_the_injected_truth(company):
    root, _ = company
    truth = json.loads((root / "ground_truth.json").read_text())
    rows = _read_csv(root / "business/process_metrics.csv")
    assert {r["month"] for r in rows} == {f"2024-{m}" for m in (10, 11, 12)} | {f"2025-{m:02d}" for m in range(1, 13)}
    months = sorted({r["month"] for r in rows})
    trend = 1 - truth["secular_trend_per_month"]["minutes_per_case"]
    for r in rows:
        spec = truth["processes"][r["process"]][r["department"]]
        share = truth["process_share_by_department_month"][r["department"]][r["month"]]
        expected = (spec["baseline_minutes_per_case"] * trend ** months.index(r["month"])
                    * (1 - spec["max_time_reduction"] * share))
        per_case = float(r["handling_minutes"]) / int(r["cases"])
        assert abs(per_case / expected - 1) < 0.2
        assert 0 <= int(r["errors"]) <= int(r["cases"])
    late = [r for r in rows if r["month"] >= "2025-06" and r["process"] == "quote_preparation"]
    base = [r for r in rows if r["month"] < "2025-01" and r["process"] == "quote_preparation"]
    mpc = lambda rs: sum(float(r["handling_minutes"]) for r in rs) / sum(int(r["cases"]) for r in rs)  # noqa: E731
    assert mpc(late) < 0.8 * mpc(base)


def test_use_cases_rise_after_training(company):
    root, _ = company
    rows = _read_csv(root / "business/use_cases.csv")
    assert {r["status"] for r in rows} <= {"idea", "pilot", "production", "retired"}
    before = [r for r in rows if r["submitted_on"] < "2025-01-01"]
    after = [r for r in rows if r["submitted_on"] >= "2025-04-01"]
    assert len(after) / 9 > 2 * max(len(before), 1) / 3
    assert all(r["self_developed"] == "false" for r in before)
    assert sum(r["self_developed"] == "true" for r in after) > 0.7 * len(after)


def test_pulse_surveys_improve_and_carry_comments(company):
    root, _ = company
    items = ["I am satisfied with how AI tools are introduced here", "I get the support I need to use AI tools",
             "I share AI tips with colleagues", "I would like to develop new AI applications",
             "AI tools make my work harder"]
    points = {"Strongly disagree": 1, "Disagree": 2, "Neutral": 3, "Agree": 4, "Strongly agree": 5}
    fav = {}
    for p in sorted(root.glob("surveys/pulse-*.csv")):
        with p.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
            assert header == ["response_id", "submitted_at", "department", "target_group", *items, "Comments"]
        rows = _read_csv(p)
        assert 0.5 * 110 < len(rows) < 0.8 * 130
        answers = [points[r[i]] for r in rows for i in items[:4] if r[i]]
        assert any(r[i] == "" for r in rows for i in items)
        assert any(r["Comments"] for r in rows)
        fav[p.stem] = sum(a >= 4 for a in answers) / len(answers)
    assert fav["pulse-2025-Q4"] > fav["pulse-2024-Q4"] + 0.15


# ------------------------------------------------------------------------ config and truth
def test_config_loads_with_the_project_loader(company):
    root, _ = company
    if importlib.util.find_spec("kpi.config") is None:
        pytest.skip("kpi.config is not there yet")
    from kpi.config import load_config

    cfg = load_config(root / "config.yaml")
    assert cfg.program.start == START and cfg.program.baseline_months == 3
    assert cfg.privacy.min_group_size == 5 and cfg.company.timezone == "Europe/Berlin"


def test_ground_truth_holds_the_injected_parameters(company):
    root, _ = company
    raw = (root / "ground_truth.json").read_text(encoding="utf-8")
    truth = json.loads(raw)
    assert raw == json.dumps(truth, indent=2, sort_keys=True) + "\n"
    for key in ("seed", "employees", "leavers", "hires", "contractors", "adoption", "regular_user_share_targets",
                "processes", "trained_share_by_department_month", "budget", "survey"):
        assert key in truth, key
    assert truth["seed"] == 7 and truth["employees"] == 120
    a = truth["adoption"]
    assert a["weekly_active_probability_after_training"] < a["weekly_active_probability_plateau"]
    assert a["ramp_time_constant_days"] > 0 and set(a["weekly_active_probability_untrained"]) >= {"Production"}
    for depts in truth["processes"].values():
        for spec in depts.values():
            assert spec["baseline_minutes_per_case"] > 0 and 0 < spec["max_time_reduction"] < 1
            assert 0 < spec["max_error_reduction"] < 1
    assert set(truth["processes"]) == {"quote_preparation", "tender_documents", "maintenance_docs",
                                       "invoice_processing", "recruiting_admin"}
