"""kpi.fetch without a server: the log and the run summary lines, which days to ask for, file
placement that never overwrites, Retry-After, credentials and the fetch section of the config."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys

import httpx
import pytest

from kpi.config import config_sha256, parse_config
from kpi.errors import ConfigError, UserError
from kpi.fetch import credentials
from kpi.fetch.github import days_to_fetch, file_name
from kpi.fetch.http import Download, Failed, Retryable, RetryPolicy, check_retryable, place, retry_after_seconds
from kpi.fetch.log import FetchRecord, append_log, read_log, report_windows, summary_lines

D = dt.date
AT = dt.datetime(2026, 11, 30, 6, 0, 0)
START = {"program": {"start": "2026-10-01"}}


def row(day: str, status: str, source: str = "github", at: dt.datetime = AT, file: str | None = "f") -> FetchRecord:
    return FetchRecord(source, day, file if status in ("fetched", "unchanged", "kept_both") else None, status,
                       200, 10, at)


# ------------------------------------------------------------------------------------ the log


def test_log_round_trip_skips_a_cut_line(tmp_path):
    records = [row("2026-11-28", "fetched"), row("2026-11-23..2026-11-29", "fetched", "m365")]
    append_log(tmp_path, records)
    with open(tmp_path / ".kpi-fetch" / "fetch-log.jsonl", "a") as handle:
        handle.write('{"source": "github", "day_or')  # a write a crash cut short
    assert read_log(tmp_path) == records
    assert records[1].days() == [D(2026, 11, 23) + dt.timedelta(days=i) for i in range(7)]


def test_github_line_counts_gaps_failures_and_unpublished_days():
    later = AT + dt.timedelta(days=1)
    records = [
        row("2026-11-01", "fetched"), row("2026-11-02", "failed"), row("2026-11-03", "not_found"),
        row("2026-11-04", "no_data"), row("2026-11-05", "fetched"),
        row("2026-11-07", "fetched"),  # 11-06 was never asked: missing too
        row("2026-11-08", "failed"), row("2026-11-08", "fetched", at=later),  # fetched on a later try
        row("2026-11-09", "rejected"),  # after the last day fetched: missing
        row("2026-11-10", "not_ready"),  # not published yet
    ]
    assert summary_lines(records, ["github"]) == [
        "GitHub Copilot: fetched up to 2026-11-08; 4 days missing: 2026-11-02 to 2026-11-03, 2026-11-06, 2026-11-09; "
        "not published yet: 2026-11-10"]
    # a file, once written, stays: a failure after it does not make the day missing again
    assert summary_lines([row("2026-11-01", "fetched"), row("2026-11-01", "failed", at=later)], ["github"]) == [
        "GitHub Copilot: fetched up to 2026-11-01; no day missing"]


def test_lines_before_anything_was_fetched():
    assert summary_lines([], ["github", "m365"]) == [
        "GitHub Copilot: nothing fetched yet (kpi fetch, or the daily fetch schedule in Dagster)",
        "Microsoft 365 Copilot: nothing fetched yet (kpi fetch, or the daily fetch schedule in Dagster)"]
    assert summary_lines([row("2026-11-29", "rejected")], ["github"]) == [
        "GitHub Copilot: nothing fetched yet; 1 day missing: 2026-11-29"]


def test_many_missing_stretches_are_cut_short():
    records = [row(f"2026-10-{d:02d}", "fetched" if d % 2 else "failed") for d in range(1, 24)]
    line = summary_lines(records, ["github"])[0]
    assert line.startswith("GitHub Copilot: fetched up to 2026-10-23; 11 days missing: 2026-10-02, 2026-10-04, ")
    assert line.endswith("2026-10-16, ... (3 more stretches)")


def test_m365_weeks_follow_each_other_or_the_gap_is_missing():
    weeks = [row("2026-11-09..2026-11-15", "fetched", "m365"), row("2026-11-16..2026-11-22", "unchanged", "m365"),
             row("2026-11-26..2026-12-02", "fetched", "m365")]  # refreshed 3 days late: 23-25 Nov not covered
    assert report_windows(weeks) == (D(2026, 12, 2), [D(2026, 11, 23), D(2026, 11, 24), D(2026, 11, 25)])
    failed = row("2026-12-10", "failed", "m365")
    assert summary_lines([*weeks, failed], ["m365"]) == [
        "Microsoft 365 Copilot: fetched up to 2026-12-02 (weekly 7-day reports); 3 days missing: 2026-11-23 to "
        "2026-11-25; the last fetch, on 2026-12-10, failed"]


# ---------------------------------------------------------------------------- days to ask for


def _cfg(**fetch):
    return parse_config({**START, "fetch": {"github": {"org": "acme"}, **fetch}})


def test_first_fetch_starts_at_the_baseline_within_what_github_serves(tmp_path):
    # the baseline starts 2026-07-01 (three months before the programme); asked on 2026-07-04: 3 days
    days, note = days_to_fetch(tmp_path, [], _cfg(), None, D(2026, 7, 4))
    assert days == [D(2026, 7, 1), D(2026, 7, 2), D(2026, 7, 3)] and note is None
    # GitHub serves one year back (and nothing before 2025-10-10): a --since before that is moved
    days, note = days_to_fetch(tmp_path, [], _cfg(), D(2020, 1, 1), D(2026, 11, 30))
    assert days[0] == D(2025, 11, 30) and days[-1] == D(2026, 11, 29) and len(days) == 365
    assert note == "GitHub serves the reports from 2025-11-30 on: starting there"
    days, _ = days_to_fetch(tmp_path, [], _cfg(), D(2025, 1, 1), D(2025, 10, 12))
    assert days == [D(2025, 10, 10), D(2025, 10, 11)]


def test_days_with_a_file_or_without_data_are_not_asked_again(tmp_path):
    folder = tmp_path / "usage" / "github"
    folder.mkdir(parents=True)
    (folder / file_name(D(2026, 11, 26))).write_text("{}\n")
    records = [row("2026-11-25", "failed"), row("2026-11-27", "no_data"), row("2026-11-28", "not_ready")]
    # without --since: from the first day the log knows; failures and unpublished days again
    days, _ = days_to_fetch(tmp_path, records, _cfg(), None, D(2026, 11, 30))
    assert days == [D(2026, 11, 25), D(2026, 11, 28), D(2026, 11, 29)]


# ----------------------------------------------------------------------- files never overwritten


def _download(folder, body: bytes) -> Download:
    temp = folder / ".x.part-0001"
    temp.write_bytes(body)
    return Download(temp, len(body), hashlib.sha256(body).hexdigest(), 200)


def test_place_never_overwrites_a_file_with_other_content(tmp_path):
    target = tmp_path / "copilot-usage-user-detail-D7-2026-11-29.csv"
    assert place(_download(tmp_path, b"first"), target) == (target, "fetched")
    assert place(_download(tmp_path, b"first"), target) == (target, "unchanged")
    twin = tmp_path / f"copilot-usage-user-detail-D7-2026-11-29-{hashlib.sha256(b'second').hexdigest()[:8]}.csv"
    assert place(_download(tmp_path, b"second"), target) == (twin, "kept_both")
    assert place(_download(tmp_path, b"second"), target) == (twin, "unchanged")
    assert target.read_bytes() == b"first" and twin.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, twin.name])  # no temporary left


# --------------------------------------------------------------------------------- Retry-After


def _response(status: int, **headers) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_retry_after_in_seconds_as_a_date_and_githubs_rate_limit_reset():
    now = dt.datetime(2026, 11, 30, 6, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds(_response(429, **{"Retry-After": "120"}), now) == 120
    assert retry_after_seconds(_response(503, **{"Retry-After": "Mon, 30 Nov 2026 06:00:30 GMT"}), now) == 30
    reset = str(int(now.timestamp()) + 45)
    assert retry_after_seconds(_response(403, **{"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}), now) == 45
    assert retry_after_seconds(_response(500), now) is None


def test_which_answers_are_tried_again():
    policy = RetryPolicy(max_retry_after_seconds=60)
    for response in (_response(500), _response(502), _response(429), _response(403, **{"Retry-After": "5"})):
        with pytest.raises(Retryable):
            check_retryable(response, "x", policy)
    for response in (_response(200), _response(204), _response(401), _response(403), _response(404)):
        check_retryable(response, "x", policy)  # the caller reads these
    with pytest.raises(Failed, match=r"^x: answered 429 and asked to wait 3600 s \(more than 60 s\)"):
        check_retryable(_response(429, **{"Retry-After": "3600"}), "x", policy)


# ------------------------------------------------------------------------ credentials and config


def test_credentials_come_from_the_variables_named_in_the_config():
    cfg = parse_config({**START, "fetch": {"github": {"org": "acme", "token_env": "MY_TOKEN"}}})
    assert credentials(cfg, {"MY_TOKEN": "t0k"}) == {"MY_TOKEN": "t0k"}
    with pytest.raises(UserError) as info:
        credentials(cfg, {"GITHUB_TOKEN": "t0k"})
    assert str(info.value).startswith(
        "fetch.github.token_env: the environment variable MY_TOKEN is not set; set it to a fine-grained token with "
        "the organization permission \"Organization Copilot metrics\" (read), or a classic token with read:org")
    enterprise = parse_config({**START, "fetch": {"github": {"enterprise": "big-corp"}}})
    with pytest.raises(UserError, match="manage_billing:copilot or read:enterprise, of an owner or billing manager"):
        credentials(enterprise, {"GITHUB_TOKEN": "  "})


def test_the_fetch_section():
    cfg = parse_config(START)
    assert cfg.fetch.sources() == []
    cfg = parse_config({**START, "fetch": {
        "github": {"org": "acme", "base_url": "https://github.example.com/api/v3/"},
        "m365": {"tenant_id_env": "T", "client_id_env": "C", "client_secret_env": "S"}}})
    assert cfg.fetch.sources() == ["github", "m365"]
    assert cfg.fetch.github.base_url == "https://github.example.com/api/v3"  # no trailing slash
    assert cfg.fetch.m365.graph_base_url == "https://graph.microsoft.com"
    assert config_sha256(cfg) == config_sha256(parse_config(START))  # no figure depends on it
    broken = {
        "both": ({"github": {"org": "a", "enterprise": "b"}},
                 "config.yaml: fetch.github.enterprise = 'b' is not allowed: give fetch.github.org or "
                 "fetch.github.enterprise, not both"),
        "plain http": ({"github": {"org": "a", "base_url": "http://api.github.com"}},
                       "config.yaml: fetch.github.base_url = 'http://api.github.com' is not allowed: must be an "
                       "https:// address (plain http:// only for localhost): credentials are sent to it"),
        "one of three": ({"m365": {"tenant_id_env": "T"}},
                         "config.yaml: fetch.m365.client_id_env = (empty) is not allowed: name the environment "
                         "variables of tenant_id_env, client_id_env and client_secret_env together (missing: "
                         "client_id_env, client_secret_env)"),
        "not a variable": ({"github": {"org": "a", "token_env": "my token"}},
                           "config.yaml: fetch.github.token_env = 'my token' is not allowed: must be the name of an "
                           "environment variable (letters, digits and _, not starting with a digit)"),
    }
    for name, (fetch, message) in broken.items():
        with pytest.raises(ConfigError) as info:
            parse_config({**START, "fetch": fetch}, "config.yaml")
        assert str(info.value) == message, name
    assert parse_config({**START, "fetch": {"github": {"org": "a", "base_url": "http://127.0.0.1:8080"}}})


def test_the_cli_starts_without_the_http_libraries():
    code = "import sys, kpi.cli, kpi.fetch, kpi.fetch.log; print(sorted({'httpx', 'tenacity'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
