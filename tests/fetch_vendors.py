"""A small company and fake vendor APIs (pytest-httpserver) for the fetch tests.

The answers are built from the vendors' documented examples:

- GitHub (docs.github.com/rest/copilot/copilot-usage-metrics, "Get Copilot organization users
  usage metrics for a specific day"): ``{"download_links": [...], "report_day": "..."}``, 204 for a
  day without a report; the links serve NDJSON records with the documented fields (``day``,
  ``user_id``, ``user_login``, ``user_initiated_interaction_count``, ``code_generation_activity_count``,
  ``code_acceptance_activity_count``, ``loc_*``, ``used_chat``, ``used_agent``, ``totals_by_ide``,
  ``totals_by_feature``). An expired signed link answers 403 with Azure Storage's
  ``AuthenticationFailed`` XML.
- Microsoft Entra (client credentials flow): ``{"token_type": "Bearer", "expires_in": 3599,
  "access_token": ...}``; a wrong secret answers 401 ``invalid_client`` with error code 7000215.
- Microsoft Graph (reportRoot: getMicrosoft365CopilotUsageUserDetail): 302 Found to a
  pre-authenticated CSV with the Graph headers (``Report Refresh Date``, ``User Principal Name``,
  ``Display Name``, ``Last Activity Date``, ``<App> Copilot Last Activity Date`` ..., ``Report Period``).

Everything runs on 127.0.0.1: no test reaches the internet.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug import Request, Response

from kpi.fetch.http import RetryPolicy

GITHUB_TOKEN = "ghp_TESTtoken0123456789abcdefSECRET"
M365_SECRET = "m365-client-secret-TEST-SECRET~value"
ENV = {"TEST_GITHUB_TOKEN": GITHUB_TOKEN, "TEST_TENANT_ID": "11111111-2222-3333-4444-555555555555",
       "TEST_CLIENT_ID": "66666666-7777-8888-9999-000000000000", "TEST_CLIENT_SECRET": M365_SECRET}
ORG = "fetch-gmbh"
TODAY = dt.date(2026, 11, 30)
REPORT_PATH = "/beta/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')"
GITHUB_PATH = f"/orgs/{ORG}/copilot/metrics/reports/users-1-day"


def config_text(base_url: str, github: bool = True, m365: bool = True) -> str:
    text = """\
company:
  name: Fetch GmbH
  timezone: UTC
program:
  start: 2026-10-01
privacy:
  min_group_size: 2
fetch:
"""
    if github:
        text += f"  github: {{org: {ORG}, token_env: TEST_GITHUB_TOKEN, base_url: '{base_url}'}}\n"
    if m365:
        text += ("  m365: {tenant_id_env: TEST_TENANT_ID, client_id_env: TEST_CLIENT_ID, client_secret_env: "
                 f"TEST_CLIENT_SECRET, graph_base_url: '{base_url}', login_base_url: '{base_url}'}}\n")
    return text


EMPLOYEES = """\
employee_id,email,github_login,department,target_group,hire_date,exit_date,fte,hourly_cost_eur
E001,anna.berg@fetch.example,annab,Engineering,champion,2020-01-01,,1,70
E002,ben.cole@fetch.example,,Sales,user,2021-05-01,,1,55
E003,cara.diaz@fetch.example,carad,Engineering,user,2022-02-15,,1,60
E004,dora.eck@fetch.example,,Sales,user,2022-03-01,,1,55
"""
TRAININGS = """\
employee_id,course_id,format,started_on,completed_on,status,hours
E001,BASICS-1,basics_workshop,2026-10-05,2026-10-05,completed,4
E002,BASICS-1,basics_workshop,2026-10-05,2026-10-05,completed,4
"""
COSTS = """\
booked_on,category,amount_eur,description
2026-10-01,external_training,1000,trainer
"""


def write_company(root: Path, base_url: str, github: bool = True, m365: bool = True) -> Path:
    for rel, text in {"config.yaml": config_text(base_url, github, m365), "hr/employees.csv": EMPLOYEES,
                      "hr/trainings.csv": TRAININGS, "finance/costs.csv": COSTS}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def github_record(day: dt.date, login: str, user_id: int, interactions: int, generations: int,
                  acceptances: int) -> dict:
    """One users-1-day record with the documented fields (the features add up to the totals)."""
    chat = {"feature": "chat_panel_ask_mode", "user_initiated_interaction_count": interactions,
            "code_generation_activity_count": generations - acceptances, "code_acceptance_activity_count": 0,
            "loc_suggested_to_add_sum": 12, "loc_added_sum": 0}
    completion = {"feature": "code_completion", "user_initiated_interaction_count": 0,
                  "code_generation_activity_count": acceptances, "code_acceptance_activity_count": acceptances,
                  "loc_suggested_to_add_sum": 30, "loc_added_sum": 20}
    return {"report_start_day": day.isoformat(), "report_end_day": day.isoformat(), "day": day.isoformat(),
            "enterprise_id": "4242", "user_id": user_id, "user_login": login,
            "user_initiated_interaction_count": interactions, "code_generation_activity_count": generations,
            "code_acceptance_activity_count": acceptances, "loc_suggested_to_add_sum": 42,
            "loc_suggested_to_delete_sum": 0, "loc_added_sum": 20, "loc_deleted_sum": 3,
            "used_agent": False, "used_chat": interactions > 0,
            "totals_by_ide": [{"ide": "vscode", "user_initiated_interaction_count": interactions,
                               "code_generation_activity_count": generations,
                               "code_acceptance_activity_count": acceptances, "loc_added_sum": 20}],
            "totals_by_feature": [chat, completion]}


def github_file(day: dt.date, *records: tuple[str, int, int, int, int]) -> bytes:
    return "".join(json.dumps(github_record(day, *r), separators=(",", ":")) + "\n" for r in records).encode()


#: Per day: the NDJSON the signed links serve (one entry per link); a day left out has no report.
GITHUB_DAYS = {
    dt.date(2026, 11, 25): [github_file(dt.date(2026, 11, 25), ("annab", 101, 4, 10, 6))],
    dt.date(2026, 11, 26): [github_file(dt.date(2026, 11, 26), ("annab", 101, 2, 8, 5), ("carad", 103, 0, 6, 2))],
    # a big day: the report comes in two files
    dt.date(2026, 11, 27): [github_file(dt.date(2026, 11, 27), ("annab", 101, 3, 9, 4)),
                            github_file(dt.date(2026, 11, 27), ("carad", 103, 1, 5, 5))],
    dt.date(2026, 11, 28): [github_file(dt.date(2026, 11, 28), ("carad", 103, 5, 7, 3))],
    dt.date(2026, 11, 29): [github_file(dt.date(2026, 11, 29), ("annab", 101, 1, 2, 1))],
}

M365_HEADER = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
               "Copilot Chat Last Activity Date,Microsoft Teams Copilot Last Activity Date,"
               "Word Copilot Last Activity Date,Excel Copilot Last Activity Date,"
               "PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,"
               "OneNote Copilot Last Activity Date,Loop Copilot Last Activity Date,Report Period")


def m365_report(refresh: dt.date, rows: list[tuple[str, str, dict[str, dt.date]]]) -> bytes:
    """A user-detail CSV as Graph writes it (UTF-8 with BOM, CRLF)."""
    apps = ["Copilot Chat", "Microsoft Teams Copilot", "Word Copilot", "Excel Copilot", "PowerPoint Copilot",
            "Outlook Copilot", "OneNote Copilot", "Loop Copilot"]
    lines = [M365_HEADER]
    for upn, name, dates in rows:
        last = max(dates.values()).isoformat() if dates else ""
        cells = [dates[a].isoformat() if a in dates else "" for a in apps]
        lines.append(",".join([refresh.isoformat(), upn, name, last, *cells, "7"]))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


M365_REPORT = m365_report(dt.date(2026, 11, 29), [
    ("anna.berg@fetch.example", "Anna Berg", {"Microsoft Teams Copilot": dt.date(2026, 11, 24),
                                              "Word Copilot": dt.date(2026, 11, 27)}),
    ("ben.cole@fetch.example", "Ben Cole", {"Copilot Chat": dt.date(2026, 11, 28)}),
    ("dora.eck@fetch.example", "Dora Eck", {}),  # licensed, not active this week
])

EXPIRED = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server '
           b'failed to authenticate the request. Signature not valid in the specified time frame</Message></Error>')


@dataclass
class Vendors:
    """The fake GitHub, Entra and Graph of one test. ``script`` holds answers to give before the
    normal one, per route ("github-api", "github-file", "token", "graph", "graph-file"): each a
    (status, headers, body) or "truncate" (the first half of the body, then the connection
    closes). ``stale_answers``: how many API answers hand out links that have already expired
    (their download answers 403 as Azure Storage does)."""

    server: object
    github_days: dict = field(default_factory=lambda: dict(GITHUB_DAYS))
    m365: bytes | None = M365_REPORT
    script: dict = field(default_factory=lambda: defaultdict(list))
    stale_answers: int = 0
    calls: dict = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self):
        s = self.server
        s.expect_request(GITHUB_PATH, method="GET").respond_with_handler(self._github_api)
        s.expect_request("/blob/github", method="GET").respond_with_handler(self._github_file)
        s.expect_request(f"/{ENV['TEST_TENANT_ID']}/oauth2/v2.0/token", method="POST").respond_with_handler(self._token)
        s.expect_request(REPORT_PATH, method="GET").respond_with_handler(self._graph)
        s.expect_request("/blob/m365", method="GET").respond_with_handler(self._graph_file)

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _scripted(self, route: str, request: Request, body: bytes | None = None) -> Response | None:
        self.calls[route].append(request)
        if not self.script[route]:
            return None
        step = self.script[route].pop(0)
        if step == "truncate":
            response = Response(body[: len(body) // 2], status=200, content_type="application/x-ndjson")
            response.headers["Content-Length"] = str(len(body))
            response.automatically_set_content_length = False
            return response
        status, headers, payload = step
        return Response(payload, status=status, headers=headers)

    def _links(self, route: str, *params: dict) -> list[str]:
        """The signed links of one answer (already expired while ``stale_answers`` lasts)."""
        state = "valid" if self.stale_answers == 0 else "expired"
        self.stale_answers = max(0, self.stale_answers - 1)
        links = []
        for p in params:
            query = "&".join(f"{k}={v}" for k, v in {**p, "se": state, "sig": "c2lnbmF0dXJlLVNFQ1JFVA%3D%3D"}.items())
            links.append(f"{self.base_url}/blob/{route}?{query}")
        return links

    @staticmethod
    def _expired(request: Request) -> bool:
        return request.args["se"] == "expired"

    def _github_api(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            self.calls["github-api"].append(request)
            return Response(json.dumps({"message": "Bad credentials", "status": "401"}), status=401,
                            content_type="application/json")
        day = dt.date.fromisoformat(request.args["day"])
        scripted = self._scripted("github-api", request)
        if scripted is not None:
            return scripted
        files = self.github_days.get(day)
        if not files:
            return Response(status=204)
        links = self._links("github", *({"day": day.isoformat(), "part": i} for i in range(len(files))))
        return Response(json.dumps({"download_links": links, "report_day": day.isoformat()}),
                        content_type="application/json")

    def _github_file(self, request: Request) -> Response:
        body = self.github_days[dt.date.fromisoformat(request.args["day"])][int(request.args["part"])]
        scripted = self._scripted("github-file", request, body)
        if scripted is not None:
            return scripted
        if self._expired(request):
            return Response(EXPIRED, status=403, content_type="application/xml")
        return Response(body, content_type="application/x-ndjson")

    def _token(self, request: Request) -> Response:
        scripted = self._scripted("token", request)
        if scripted is not None:
            return scripted
        form = request.form
        if form.get("client_secret") != M365_SECRET or form.get("client_id") != ENV["TEST_CLIENT_ID"]:
            return Response(json.dumps({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid "
                                        "client secret provided.", "error_codes": [7000215]}), status=401,
                            content_type="application/json")
        assert form.get("grant_type") == "client_credentials" and form.get("scope", "").endswith("/.default")
        return Response(json.dumps({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                    "access_token": "eyJ0eXAiOiJKV1Qi.graph-TEST-SECRET-token"}),
                        content_type="application/json")

    def _graph(self, request: Request) -> Response:
        scripted = self._scripted("graph", request)
        if scripted is not None:
            return scripted
        if request.headers.get("Authorization") != "Bearer eyJ0eXAiOiJKV1Qi.graph-TEST-SECRET-token":
            return Response(json.dumps({"error": {"code": "InvalidAuthenticationToken"}}), status=401)
        assert request.args.get("$format") == "text/csv"
        return Response(status=302, headers={"Location": self._links("m365", {})[0]})

    def _graph_file(self, request: Request) -> Response:
        scripted = self._scripted("graph-file", request, self.m365)
        if scripted is not None:
            return scripted
        if self._expired(request):
            return Response(EXPIRED, status=403, content_type="application/xml")
        return Response(self.m365, content_type="application/octet-stream")


class Sleeps(list):
    """The waits a fetch asked for, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def quick_policy(sleeps: Sleeps | None = None, attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, backoff_seconds=0.0, max_backoff_seconds=0.0,
                       max_retry_after_seconds=60.0, sleep=sleeps if sleeps is not None else Sleeps())
