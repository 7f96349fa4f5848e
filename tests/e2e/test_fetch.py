"""`kpi fetch` against fake vendor APIs on 127.0.0.1 (tests/fetch_vendors.py), then `kpi run`.

Each scenario checks the files written (byte for byte what the server sent), the fetch log, and
that the following `kpi run` ingests every fetched row: read = loaded, nothing quarantined,
every activity row matched to an employee. Waits are recorded, not slept (`quick_policy`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.config import load_config
from kpi.fetch import fetch_usage
from kpi.fetch.log import read_log
from pipelines.run import run_pipeline
from tests.fetch_vendors import (
    ENV,
    GITHUB_DAYS,
    GITHUB_PATH,
    GITHUB_TOKEN,
    M365_REPORT,
    M365_SECRET,
    TODAY,
    Sleeps,
    Vendors,
    m365_report,
    quick_policy,
    write_company,
)

D = dt.date


@pytest.fixture()
def vendors(httpserver):
    return Vendors(httpserver)


@pytest.fixture()
def company(tmp_path, vendors):
    return write_company(tmp_path / "inputs", vendors.base_url)


def fetch(root: Path, since: dt.date | None = D(2026, 11, 25), today: dt.date = TODAY, sleeps: Sleeps | None = None,
          environ: dict | None = None, attempts: int = 3):
    lines: list[str] = []
    outcome = fetch_usage(root, load_config(root / "config.yaml"), since=since, today=today,
                          policy=quick_policy(sleeps, attempts), say=lines.append, environ=environ or ENV)
    outcome.said = lines
    return outcome


def github_name(day: dt.date, part: int = 1) -> str:
    return f"usage/github/copilot-users-1-day-{day}" + ("" if part == 1 else f"-part{part}") + ".ndjson"


def m365_name(refresh: str) -> str:
    return f"usage/m365/copilot-usage-user-detail-D7-{refresh}.csv"


def github_files(*days: dt.date) -> dict[str, bytes]:
    return {github_name(day, i + 1): body for day in days for i, body in enumerate(GITHUB_DAYS[day])}


def usage_files(root: Path) -> dict[str, bytes]:
    """Every file under usage/ (hidden ones too: a temporary download left behind would show)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "usage").rglob("*")) if p.is_file()}


def log_rows(root: Path) -> list[tuple]:
    return [(r.source, r.day_or_period, r.file, r.status, r.http_status, r.bytes) for r in read_log(root)]


def fetched(files: dict[str, bytes], status: str = "fetched") -> list[tuple]:
    """The log rows of files fetched whole (GitHub rows carry their day, M365 its window)."""
    rows = []
    for name, body in files.items():
        if name.startswith("usage/github/"):
            rows.append(("github", name.split("1-day-")[1][:10], name, status, 200, len(body)))
        else:
            refresh = D.fromisoformat(name[-14:-4])
            rows.append(("m365", f"{refresh - dt.timedelta(days=6)}..{refresh}", name, status, 200, len(body)))
    return rows


def github_expected(files: dict[str, bytes]) -> tuple[int, int]:
    """(records, interactions) of GitHub files: interactions = user-initiated + acceptances."""
    records = [json.loads(line) for name, body in files.items() if "github" in name for line in body.splitlines()]
    return len(records), sum(r["user_initiated_interaction_count"] + r["code_acceptance_activity_count"]
                             for r in records)


def run_and_check(root: Path, files: dict[str, bytes]):
    """`kpi run` (without the report) ingests every fetched row: nothing lost, nothing unmatched."""
    warehouse = root.parent / "warehouse.duckdb"
    summary = run_pipeline(root, root / "config.yaml", warehouse, allow_development_key=True, report=False)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        manifest = {f: (read, loaded, quarantined) for f, read, loaded, quarantined in con.sql(
            "SELECT file, rows_read, rows_loaded, rows_quarantined FROM audit.ingest_manifest "
            "WHERE file LIKE 'usage/%'").fetchall()}
        expected = {}
        for name, body in files.items():
            rows = len(body.splitlines()) - (0 if name.endswith(".ndjson") else 1)  # the CSV header
            expected[name] = (rows, rows, 0)
        assert manifest == expected
        assert con.sql("SELECT count(*) FROM audit.quarantine WHERE file LIKE 'usage/%'").fetchall() == [(0,)]
        records, interactions = github_expected(files)
        staged = con.sql("SELECT count(*), coalesce(sum(interactions), 0) FROM staging.usage_activity "
                         "WHERE tool = 'github-copilot'").fetchall()[0]
        matched = con.sql("SELECT coalesce(sum(interactions), 0) FROM intermediate.usage_activity "
                          "WHERE tool = 'github-copilot'").fetchall()[0][0]
        assert staged == (records, interactions) and matched == interactions
        log = con.sql("SELECT source, day_or_period, file, status, http_status, bytes FROM audit.fetch_log "
                      "ORDER BY fetched_at, source, day_or_period, file").fetchall()
        assert sorted(log, key=str) == sorted(log_rows(root), key=str)
        return summary, con.sql("SELECT tool, action, day FROM staging.usage_activity WHERE tool = 'm365-copilot' "
                                "ORDER BY day, action").fetchall()
    finally:
        con.close()


M365_ROWS = [("m365-copilot", "teams", D(2026, 11, 24)), ("m365-copilot", "word", D(2026, 11, 27)),
             ("m365-copilot", "copilot-chat", D(2026, 11, 28))]


# ----------------------------------------------------------------------------------- scenarios


def test_full_fetch(company, vendors, capsys):
    outcome = fetch(company, since=D(2026, 11, 24))
    days = [D(2026, 11, 25), D(2026, 11, 26), D(2026, 11, 27), D(2026, 11, 28), D(2026, 11, 29)]
    files = {**github_files(*days), m365_name("2026-11-29"): M365_REPORT}
    assert usage_files(company) == files  # byte for byte, and no temporary file left
    assert log_rows(company) == [("github", "2026-11-24", None, "no_data", 204, 0), *fetched(files)]
    assert outcome.errors == []
    assert outcome.lines == ["GitHub Copilot: fetched up to 2026-11-29; no day missing",
                             "Microsoft 365 Copilot: fetched up to 2026-11-29 (weekly 7-day reports); no day missing"]
    # the token went to the API only: never to the download host, never into a file or a line
    assert all(r.headers.get("Authorization") == f"Bearer {GITHUB_TOKEN}" for r in vendors.calls["github-api"])
    downloads = vendors.calls["github-file"] + vendors.calls["graph-file"]
    assert len(downloads) == 7 and not any("Authorization" in r.headers for r in downloads)
    said = "\n".join(outcome.said) + capsys.readouterr().out
    everything = said + "".join(p.read_text(errors="replace") for p in company.rglob("*") if p.is_file())
    for secret in (GITHUB_TOKEN, M365_SECRET, "graph-TEST-SECRET-token", "c2lnbmF0dXJl", "sig="):
        assert secret not in everything
    summary, m365 = run_and_check(company, files)
    assert summary.fetched == outcome.lines
    assert m365 == M365_ROWS
    warehouse = (company.parent / "warehouse.duckdb").read_bytes()
    assert GITHUB_TOKEN.encode() not in warehouse and M365_SECRET.encode() not in warehouse


def test_incremental_fetch(company, vendors):
    week_before = m365_report(D(2026, 11, 22), [("anna.berg@fetch.example", "Anna Berg",
                                                 {"Word Copilot": D(2026, 11, 20)})])
    vendors.m365 = week_before
    fetch(company, since=D(2026, 11, 25), today=D(2026, 11, 28))
    first = {**github_files(D(2026, 11, 25), D(2026, 11, 26), D(2026, 11, 27)), m365_name("2026-11-22"): week_before}
    assert usage_files(company) == first
    calls = len(vendors.calls["github-api"])
    # two days later, without --since: only the two new days are asked for, and the week's report
    vendors.m365 = M365_REPORT
    outcome = fetch(company, since=None)
    asked = [r.args["day"] for r in vendors.calls["github-api"][calls:]]
    assert asked == ["2026-11-28", "2026-11-29"]
    files = {**first, **github_files(D(2026, 11, 28), D(2026, 11, 29)), m365_name("2026-11-29"): M365_REPORT}
    assert usage_files(company) == files
    assert log_rows(company) == fetched(first) + fetched({k: v for k, v in files.items() if k not in first})
    # and once more the same day: nothing is missing, no call is made
    before = {route: len(requests) for route, requests in vendors.calls.items()}
    again = fetch(company, since=None)
    assert {route: len(requests) for route, requests in vendors.calls.items()} == before
    assert again.records == [] and usage_files(company) == files
    assert outcome.lines[1] == "Microsoft 365 Copilot: fetched up to 2026-11-29 (weekly 7-day reports); no day missing"
    _, m365 = run_and_check(company, files)
    assert m365 == [("m365-copilot", "word", D(2026, 11, 20)), *M365_ROWS]


def test_429_with_retry_after(company, vendors):
    sleeps = Sleeps()
    vendors.script["github-api"] = [(429, {"Retry-After": "7"}, "rate limited")]
    vendors.script["token"] = [(429, {"Retry-After": "Mon, 30 Nov 2026 00:00:00 GMT"}, "")]  # a date in the past
    vendors.script["graph"] = [(429, {"Retry-After": "3"}, "")]
    fetch(company, since=D(2026, 11, 29), sleeps=sleeps)
    assert sleeps == [7.0, 0.0, 3.0]  # what Retry-After said, in the order asked
    files = {**github_files(D(2026, 11, 29)), m365_name("2026-11-29"): M365_REPORT}
    assert usage_files(company) == files
    assert log_rows(company) == fetched(files)
    run_and_check(company, files)


def test_a_500_then_success(company, vendors):
    sleeps = Sleeps()
    vendors.script["github-file"] = [(500, {}, "Internal Server Error")]
    vendors.script["graph"] = [(503, {}, "Service Unavailable")]
    vendors.script["graph-file"] = [(502, {}, "Bad Gateway")]
    fetch(company, since=D(2026, 11, 28), sleeps=sleeps)
    assert sleeps == [0.0, 0.0, 0.0]  # one backoff each (tiny in tests)
    files = {**github_files(D(2026, 11, 28), D(2026, 11, 29)), m365_name("2026-11-29"): M365_REPORT}
    assert usage_files(company) == files
    assert log_rows(company) == fetched(files)
    run_and_check(company, files)


def test_an_expired_signed_link_is_fetched_again(company, vendors):
    vendors.stale_answers = 1  # the first answer's links have expired by the time they are used
    fetch(company, since=D(2026, 11, 27))
    day_27 = [r.args["day"] for r in vendors.calls["github-api"]]
    assert day_27 == ["2026-11-27", "2026-11-27", "2026-11-28", "2026-11-29"]  # fresh links asked for once
    expired = [r for r in vendors.calls["github-file"] if r.args["se"] == "expired"]
    assert len(expired) == 1
    vendors.stale_answers = 1  # the same for Graph's pre-authenticated link (a week later)
    fetch(company, since=None, today=D(2026, 12, 7))
    assert len(vendors.calls["graph"]) == 3  # 30 Nov, then 7 Dec twice (the first link had expired)
    files = {**github_files(D(2026, 11, 27), D(2026, 11, 28), D(2026, 11, 29)), m365_name("2026-11-29"): M365_REPORT}
    assert usage_files(company) == files
    # on 7 Dec Microsoft still served the report up to 29 Nov: not a new week yet
    assert log_rows(company)[-1] == ("m365", "2026-11-23..2026-11-29", None, "not_ready", 200, len(M365_REPORT))
    # (the GitHub days of December have no report: 204, not published yet)
    run_and_check(company, files)


def test_a_401_stops_with_one_line_naming_the_variable(company, vendors):
    outcome = fetch(company, since=D(2026, 11, 28),
                    environ={**ENV, "TEST_GITHUB_TOKEN": "ghp_revoked", "TEST_CLIENT_SECRET": "wrong"})
    assert outcome.errors == [
        "GitHub rejected the token in TEST_GITHUB_TOKEN (401: wrong, expired or revoked); set TEST_GITHUB_TOKEN "
        "to a fine-grained token with the organization permission \"Organization Copilot metrics\" (read), or a "
        "classic token with read:org, of an owner of fetch-gmbh or a member allowed to view its Copilot metrics",
        "Microsoft Entra refused the sign-in (401): check the client secret in TEST_CLIENT_SECRET (wrong or "
        "expired; create a new one under Certificates & secrets of the app registration); the app needs the "
        "application permission Reports.Read.All (Microsoft Graph) with admin consent on the app registration",
    ]
    assert len(vendors.calls["github-api"]) == 1  # stopped at the first refusal
    assert not (company / "usage").exists()
    assert [row[:5] for row in log_rows(company)] == [("github", "2026-11-28", None, "rejected", 401),
                                                      ("m365", "2026-11-30", None, "rejected", 401)]
    # with the right credentials the next fetch gets it all
    fetch(company, since=None)
    files = {**github_files(D(2026, 11, 28), D(2026, 11, 29)), m365_name("2026-11-29"): M365_REPORT}
    assert usage_files(company) == files
    summary, _ = run_and_check(company, files)
    assert summary.fetched[0] == "GitHub Copilot: fetched up to 2026-11-29; no day missing"


def test_a_truncated_download(company, vendors):
    vendors.script["github-file"] = ["truncate"]  # the first try breaks off half way: tried again
    vendors.script["graph-file"] = ["truncate", "truncate", "truncate"]  # every try breaks off
    outcome = fetch(company, since=D(2026, 11, 29))
    files = github_files(D(2026, 11, 29))
    assert usage_files(company) == files  # nothing half-written, no temporary file left
    assert log_rows(company) == [*fetched(files), ("m365", "2026-11-30", None, "failed", None, None)]
    assert "Microsoft 365 Copilot, the report download: the connection broke off before the answer was complete " \
           "(3 attempts); tried again by the next fetch" in outcome.said[-1]
    assert outcome.lines[1] == "Microsoft 365 Copilot: nothing fetched yet; the last fetch, on 2026-11-30, failed"
    fetch(company, since=None)  # the next fetch gets the report
    files[m365_name("2026-11-29")] = M365_REPORT
    assert usage_files(company) == files
    run_and_check(company, files)


def test_a_day_with_no_data(company, vendors):
    vendors.github_days.pop(D(2026, 11, 26))  # nobody used Copilot that day: 204
    vendors.github_days.pop(D(2026, 11, 29))  # yesterday: not published yet (204 too)
    vendors.m365 = m365_report(D(2026, 11, 29), [])  # a report with no user
    outcome = fetch(company, since=D(2026, 11, 25))
    files = github_files(D(2026, 11, 25), D(2026, 11, 27), D(2026, 11, 28))
    assert usage_files(company) == files
    rows = log_rows(company)
    assert ("github", "2026-11-26", None, "no_data", 204, 0) in rows
    assert ("github", "2026-11-29", None, "not_ready", 204, 0) in rows
    assert ("m365", "2026-11-30", None, "no_data", 200, 0) in rows
    assert outcome.lines[0] == "GitHub Copilot: fetched up to 2026-11-28; no day missing; not published yet: 2026-11-29"
    summary, m365 = run_and_check(company, files)
    assert m365 == []
    # the next fetch asks for the unpublished day again, never for the day without data
    vendors.github_days[D(2026, 11, 29)] = GITHUB_DAYS[D(2026, 11, 29)]
    calls = len(vendors.calls["github-api"])
    fetch(company, since=None)
    assert [r.args["day"] for r in vendors.calls["github-api"][calls:]] == ["2026-11-29"]


# ----------------------------------------------------------------------------- the command line


def kpi_fetch(root: Path, env: dict) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    return subprocess.run([str(Path(sys.executable).parent / "kpi"), "fetch", "--inputs", str(root), "--config",
                           str(root / "config.yaml"), "--since", "2026-11-29"], capture_output=True, text=True,
                          env={**environment, **env}, timeout=120)


def test_kpi_fetch_missing_credential_is_one_line(company, vendors):
    result = kpi_fetch(company, {k: v for k, v in ENV.items() if k != "TEST_CLIENT_SECRET"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: fetch.m365.client_secret_env: the environment variable TEST_CLIENT_SECRET is not set; set it to a "
        "client secret of a Microsoft Entra app registration with the application permission Reports.Read.All "
        "(Microsoft Graph) with admin consent on the app registration (docs/inputs.md, \"Fetching the usage "
        "reports\")"]
    assert vendors.calls == {}  # nothing was asked before the credentials were all there


def test_kpi_fetch_refused_token_exits_2_after_fetching_the_rest(company, vendors):
    result = kpi_fetch(company, {**ENV, "TEST_GITHUB_TOKEN": "ghp_revoked"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: GitHub rejected the token in TEST_GITHUB_TOKEN (401")
    assert "Microsoft 365 Copilot: fetched up to 2026-11-29 (weekly 7-day reports); no day missing" in result.stdout
    assert "ghp_revoked" not in result.stdout + result.stderr
    assert (company / m365_name("2026-11-29")).read_bytes() == M365_REPORT
    assert vendors.calls["github-api"][0].path == GITHUB_PATH


def test_three_days_not_found_in_a_row_stop_the_fetch(company, vendors):
    vendors.script["github-api"] = [(404, {}, json.dumps({"message": "Not Found"}))] * 5
    outcome = fetch(company, since=D(2026, 11, 25))
    assert [r.args["day"] for r in vendors.calls["github-api"]] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert outcome.errors[0] == (
        "GitHub answered 404 for the organization fetch-gmbh on 3 days in a row: check fetch.github.org and that the "
        "\"Copilot usage metrics\" policy is enabled (docs/inputs.md, \"Fetching the usage reports\")")
    assert [row[3] for row in log_rows(company) if row[0] == "github"] == ["not_found"] * 3


def test_one_fetch_at_a_time(company, vendors):
    from kpi.errors import UserError
    from kpi.fetch import _one_fetch_at_a_time

    with _one_fetch_at_a_time(company), pytest.raises(UserError, match="another kpi fetch is writing into this"):
        fetch(company)
    assert vendors.calls == {}
