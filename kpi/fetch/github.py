"""GitHub Copilot usage metrics: the per-user daily report (users-1-day) of an org or an enterprise.

Documented at https://docs.github.com/rest/copilot/copilot-usage-metrics ("Get Copilot
organization users usage metrics for a specific day" and "Get Copilot users usage metrics for a
specific day")::

    GET {base_url}/orgs/{org}/copilot/metrics/reports/users-1-day?day=YYYY-MM-DD
    GET {base_url}/enterprises/{enterprise}/copilot/metrics/reports/users-1-day?day=YYYY-MM-DD
    -> 200 {"download_links": ["<signed URL>", ...], "report_day": "YYYY-MM-DD"}   (204: no report)

Each link is a short-lived signed URL to an NDJSON file of one record per user, the format
`kpi.adapters.github` reads. A day's files are written all or none as
``usage/github/copilot-users-1-day-YYYY-MM-DD.ndjson`` (a second link of the same day:
``...-part2.ndjson``). The token goes to the API only, never to the download host.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx

from kpi.fetch import http as web
from kpi.fetch.log import COVERED, FetchRecord, latest_by_day, utc_now

SOURCE = "github"
LABEL = "GitHub Copilot"
FOLDER = "usage/github"
#: "Reports are available starting from October 10, 2025, and historical data can be accessed for
#: up to 1 year from the current date" (GitHub's REST documentation).
REPORTS_FROM = dt.date(2025, 10, 10)
HISTORY_DAYS = 365
#: A day without a report is taken as a day without data once it is this old; a younger one may
#: still be processed ("not published yet": tried again by the next fetch).
SETTLE_DAYS = 3
#: Fresh links asked for when a signed link has expired, per file.
LINK_REFRESHES = 2
#: Days in a row answered 404 before the fetch stops (a wrong name, or the policy disabled).
NOT_FOUND_STOP = 3
API_VERSION = "2026-03-10"  # the version the REST documentation shows


class Rejected(Exception):
    """The token is missing a permission or was refused: one line naming the variable."""

    def __init__(self, line: str, status: int):
        super().__init__(line)
        self.status = status


def file_name(day: dt.date, part: int = 1) -> str:
    return f"copilot-users-1-day-{day.isoformat()}" + ("" if part == 1 else f"-part{part}") + ".ndjson"


def permission_needed(cfg) -> str:
    """What the token needs, for the one-line errors (docs/inputs.md says it at length)."""
    if cfg.org:
        return ("a fine-grained token with the organization permission \"Organization Copilot metrics\" (read), or "
                f"a classic token with read:org, of an owner of {cfg.org} or a member allowed to view its Copilot "
                "metrics")
    return ("a fine-grained token with the enterprise permission \"Enterprise Copilot metrics\" (read), or a classic "
            f"token with manage_billing:copilot or read:enterprise, of an owner or billing manager of {cfg.enterprise}")


def first_day(program_start: dt.date, baseline_months: int) -> dt.date:
    """The first day of the programme's baseline (where the usage data is wanted from)."""
    index = program_start.year * 12 + program_start.month - 1 - baseline_months
    return dt.date(index // 12, index % 12 + 1, 1)


def days_to_fetch(inputs: Path, records: list[FetchRecord], cfg, since: dt.date | None,
                  today: dt.date) -> tuple[list[dt.date], str | None]:
    """The missing days from ``since`` (else the first day the log knows, else the baseline's
    first day) to yesterday, within what GitHub still serves; and a note when clamped."""
    earliest = max(REPORTS_FROM, today - dt.timedelta(days=HISTORY_DAYS))
    by_day = latest_by_day(records, SOURCE)
    if since is not None:
        start = since
    elif by_day:
        start = min(by_day)
    else:
        start = first_day(cfg.program.start, cfg.program.baseline_months)
    note = None
    if start < earliest:
        if since is not None:
            note = f"GitHub serves the reports from {earliest.isoformat()} on: starting there"
        start = earliest
    folder = inputs / FOLDER
    days = []
    day = start
    while day < today:
        record = by_day.get(day)
        done = (folder / file_name(day)).is_file() or (record is not None and record.status == "no_data")
        if not done:
            days.append(day)
        day += dt.timedelta(days=1)
    return days, note


class _Day:
    """Everything about fetching one day: the API call, the downloads, the files."""

    def __init__(self, http: httpx.Client, inputs: Path, cfg, token: str, policy: web.RetryPolicy):
        self.http, self.inputs, self.cfg, self.token, self.policy = http, inputs, cfg, token, policy
        scope = f"orgs/{cfg.org}" if cfg.org else f"enterprises/{cfg.enterprise}"
        self.url = f"{cfg.base_url}/{scope}/copilot/metrics/reports/users-1-day"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": API_VERSION}

    def links(self, day: dt.date) -> tuple[int, list[str]]:
        """(HTTP status, download links) of a day; follows ``Link: rel="next"`` pages on the API host."""
        what = f"GitHub, the report of {day.isoformat()}"
        url, params, links, status = self.url, {"day": day.isoformat()}, [], 0
        while url:
            response = web.call(self.http, "GET", url, what, self.policy, params=params, headers=self.headers)
            status = response.status_code
            if status in (401, 403):
                raise Rejected(self._refused(status), status)
            if status in (204, 404):
                return status, []
            if status != 200:
                raise web.Failed(f"{what}: answered {status}", status)
            try:
                body = response.json()
                page = body.get("download_links") or []
                if not isinstance(page, list) or not all(isinstance(link, str) for link in page):
                    raise ValueError
            except ValueError:
                raise web.Failed(f"{what}: answered 200 without the documented download_links", status) from None
            links += page
            following = response.links.get("next", {}).get("url")
            # a next page is asked for on the API host only: the token never goes anywhere else
            url = following if following and following.startswith(self.cfg.base_url + "/") else None
            params = None
        return status, links

    def _refused(self, status: int) -> str:
        env = self.cfg.token_env
        scope = self.cfg.org or self.cfg.enterprise
        if status == 401:
            return (f"GitHub rejected the token in {env} (401: wrong, expired or revoked); set {env} to "
                    f"{permission_needed(self.cfg)}")
        return (f"GitHub refused the token in {env} the Copilot usage metrics of {scope} (403); it needs "
                f"{permission_needed(self.cfg)}, and the \"Copilot usage metrics\" policy must be enabled")

    def fetch(self, day: dt.date, today: dt.date) -> list[FetchRecord]:
        """The rows of the fetch log for this day (the files are in place when they say so)."""
        status, links = self.links(day)
        if status == 404:
            return [self._row(day, None, "not_found", 404, None)]
        folder = self.inputs / FOLDER
        downloads: list[web.Download] = []
        try:
            for index in range(len(links)):
                name = file_name(day, index + 1)
                for refresh in range(LINK_REFRESHES + 1):
                    try:
                        downloads.append(web.download(self.http, links[index], folder, name,
                                                      f"GitHub, file {index + 1} of the report of {day}", self.policy))
                        break
                    except web.LinkExpired as expired:
                        if refresh == LINK_REFRESHES:
                            raise web.Failed(f"GitHub, the report of {day}: the download link answered "
                                             f"{expired.status} also when fresh", expired.status) from None
                        status, fresh = self.links(day)  # the link expired: ask for fresh ones
                        if len(fresh) != len(links):
                            raise web.Failed(f"GitHub, the report of {day}: the fresh links differ in number",
                                             status) from None
                        links = fresh
        except BaseException:
            for got in downloads:
                got.temp.unlink(missing_ok=True)
            raise
        kept = []
        for got in downloads:
            if got.size == 0:  # an empty file stops the ingest: never written
                got.temp.unlink(missing_ok=True)
            else:
                kept.append(got)
        if not kept:
            settled = (today - day).days > SETTLE_DAYS
            return [self._row(day, None, "no_data" if settled else "not_ready", status, 0)]
        rows = []
        for part, got in enumerate(kept, start=1):
            path, outcome = web.place(got, folder / file_name(day, part))
            rows.append(self._row(day, path.relative_to(self.inputs).as_posix(), outcome, got.http_status, got.size))
        return rows

    @staticmethod
    def _row(day: dt.date, file: str | None, status: str, http_status: int | None, size: int | None) -> FetchRecord:
        return FetchRecord(SOURCE, day.isoformat(), file, status, http_status, size, utc_now())


def fetch_github(http: httpx.Client, inputs: Path, cfg, token: str, records: list[FetchRecord],
                 since: dt.date | None, today: dt.date, policy: web.RetryPolicy,
                 write: Callable[[FetchRecord], None], say: Callable[[str], None]) -> str | None:
    """Fetch every missing day; each log row is handed to ``write`` as soon as it is known.
    Returns the line that stopped the fetch (a refused token, a wrong name), else None."""
    gh = cfg.fetch.github
    days, note = days_to_fetch(inputs, records, cfg, since, today)
    if note:
        say(f"{LABEL}: {note}")
    if not days:
        say(f"{LABEL}: nothing missing up to {(today - dt.timedelta(days=1)).isoformat()}")
        return None
    say(f"{LABEL}: {len(days)} day(s) to fetch, {days[0].isoformat()} to {days[-1].isoformat()}")
    fetcher = _Day(http, inputs, gh, token, policy)
    not_found, ever_found = 0, any(r.source == SOURCE and r.status in COVERED for r in records)
    for day in days:
        try:
            rows = fetcher.fetch(day, today)
        except Rejected as exc:
            write(FetchRecord(SOURCE, day.isoformat(), None, "rejected", exc.status, None, utc_now()))
            return str(exc)
        except web.Failed as exc:
            write(FetchRecord(SOURCE, day.isoformat(), None, "failed", exc.status, None, utc_now()))
            say(f"{LABEL}: {exc.what}; tried again by the next fetch")
            continue
        for row in rows:
            write(row)
        outcome = ", ".join(f"{r.status}" + (f" {r.file} ({r.bytes:,} bytes)" if r.file else "") for r in rows)
        say(f"{LABEL}: {day.isoformat()}: {outcome}")
        not_found = not_found + 1 if rows[0].status == "not_found" else 0
        ever_found = ever_found or rows[0].status in COVERED
        if not_found >= NOT_FOUND_STOP and not ever_found:
            scope = f"organization {gh.org}" if gh.org else f"enterprise {gh.enterprise}"
            return (f"GitHub answered 404 for the {scope} on {NOT_FOUND_STOP} days in a row: check "
                    f"fetch.github.{'org' if gh.org else 'enterprise'} and that the \"Copilot usage metrics\" "
                    "policy is enabled (docs/inputs.md, \"Fetching the usage reports\")")
    return None

