"""Microsoft 365 Copilot usage, user detail, from Microsoft Graph with an app-only token.

Documented at https://learn.microsoft.com/graph/api/reportroot-getmicrosoft365copilotusageuserdetail
(beta) and, for the token, https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow::

    POST {login_base_url}/{tenant}/oauth2/v2.0/token   client_credentials, scope {graph}/.default
    GET  {graph_base_url}/beta/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')?$format=text/csv
    -> 302 Found, Location: a short-lived pre-authenticated download URL of the CSV report

The report (the CSV `kpi.adapters.m365` reads, with ``Report Refresh Date`` and ``Report Period``)
holds each user's last activity date per app over the 7 days up to its refresh date. It is
fetched weekly: when the newest report in the inputs folder is a week old, and written only when
Microsoft has refreshed it a whole week on (so consecutive reports neither overlap nor leave a
gap), as ``usage/m365/copilot-usage-user-detail-D7-<refresh date>.csv``. Graph serves only the
current report: a week nobody fetched cannot be fetched later.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import httpx

from kpi.fetch import http as web
from kpi.fetch.log import WRITTEN, FetchRecord, utc_now

SOURCE = "m365"
LABEL = "Microsoft 365 Copilot"
FOLDER = "usage/m365"
PERIOD_DAYS = 7
REPORT_PATH = "/beta/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')"
PERMISSION = ("the application permission Reports.Read.All (Microsoft Graph) with admin consent on the app "
              "registration")
LINK_REFRESHES = 2
_NAME = re.compile(r"^copilot-usage-user-detail-D7-(\d{4}-\d{2}-\d{2})(?:-[0-9a-f]{8})?\.csv$")


class Rejected(Exception):
    """A credential was refused: one line naming the variable and the permission needed."""

    def __init__(self, line: str, status: int | None):
        super().__init__(line)
        self.status = status


def file_name(refresh: dt.date) -> str:
    return f"copilot-usage-user-detail-D7-{refresh.isoformat()}.csv"


def newest_report(inputs: Path, records: list[FetchRecord]) -> dt.date | None:
    """The refresh date of the newest report fetched (from the log, else the file names)."""
    ends = [dt.date.fromisoformat(r.day_or_period.partition("..")[2] or r.day_or_period)
            for r in records if r.source == SOURCE and r.status in WRITTEN]
    folder = inputs / FOLDER
    if folder.is_dir():
        ends += [dt.date.fromisoformat(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return max(ends, default=None)


def report_window(head: bytes) -> tuple[dt.date | None, int, bool]:
    """(Report Refresh Date, Report Period, whether any user row follows) of a CSV report."""
    text = head.decode("utf-8-sig", errors="replace")
    rows = csv.reader(io.StringIO(text))
    header = [h.strip().casefold() for h in next(rows, [])]
    first = next((row for row in rows if any(cell.strip() for cell in row)), None)
    if first is None:
        return None, PERIOD_DAYS, False
    refresh, period = None, PERIOD_DAYS
    if "report refresh date" in header and len(first) > header.index("report refresh date"):
        try:
            refresh = dt.date.fromisoformat(first[header.index("report refresh date")].strip()[:10])
        except ValueError:
            refresh = None
    if "report period" in header and len(first) > header.index("report period"):
        value = first[header.index("report period")].strip()
        period = int(value) if value.isdigit() and int(value) > 0 else PERIOD_DAYS
    return refresh, period, True


class _Graph:
    def __init__(self, http: httpx.Client, cfg, env: dict[str, str], policy: web.RetryPolicy):
        self.http, self.cfg, self.env, self.policy = http, cfg, env, policy
        self.token: str | None = None

    def sign_in(self) -> str:
        """An app-only token (client credentials flow)."""
        cfg = self.cfg
        url = f"{cfg.login_base_url}/{self.env[cfg.tenant_id_env]}/oauth2/v2.0/token"
        data = {"client_id": self.env[cfg.client_id_env], "client_secret": self.env[cfg.client_secret_env],
                "grant_type": "client_credentials", "scope": f"{cfg.graph_base_url}/.default"}
        response = web.call(self.http, "POST", url, "Microsoft Entra sign-in", self.policy, data=data)
        if response.status_code == 200:
            try:
                return str(response.json()["access_token"])
            except (ValueError, KeyError, TypeError):
                raise web.Failed("Microsoft Entra sign-in: answered 200 without an access token", 200) from None
        raise Rejected(self._sign_in_refused(response), response.status_code)

    def _sign_in_refused(self, response: httpx.Response) -> str:
        cfg = self.cfg
        try:
            body = response.json()
            codes = " ".join(str(c) for c in body.get("error_codes") or []) + " " + str(body.get("error", ""))
        except (ValueError, AttributeError):
            codes = ""
        status = response.status_code
        if re.search(r"\b(7000215|7000222|7000216)\b", codes) or "invalid_client" in codes:
            which = f"the client secret in {cfg.client_secret_env} (wrong or expired; create a new one under " \
                    "Certificates & secrets of the app registration)"
        elif re.search(r"\b(700016|700038)\b", codes) or "unauthorized_client" in codes:
            which = f"the client (application) id in {cfg.client_id_env} (no such app registration in the tenant)"
        elif re.search(r"\b(90002|900023|90013)\b", codes):
            which = f"the tenant (directory) id in {cfg.tenant_id_env} (no such tenant)"
        else:
            which = (f"the credentials in {cfg.tenant_id_env}, {cfg.client_id_env} and {cfg.client_secret_env}")
        return f"Microsoft Entra refused the sign-in ({status}): check {which}; the app needs {PERMISSION}"

    def report(self) -> tuple[int, str | None, bytes | None]:
        """(status, pre-authenticated link, or the CSV itself when Graph answered it directly)."""
        if self.token is None:
            self.token = self.sign_in()
        what = "Microsoft Graph, the Copilot usage user detail report"
        response = web.call(self.http, "GET", f"{self.cfg.graph_base_url}{REPORT_PATH}", what, self.policy,
                            params={"$format": "text/csv"}, headers={"Authorization": f"Bearer {self.token}"})
        status = response.status_code
        if status in (301, 302, 303, 307, 308) and response.headers.get("location"):
            return status, urljoin(str(response.url), response.headers["location"]), None
        if status == 200:
            return status, None, response.content
        if status == 401:
            raise Rejected(f"Microsoft Graph rejected the token signed in with {self.cfg.client_id_env} (401); the "
                           f"app needs {PERMISSION}", status)
        if status == 403:
            raise Rejected(f"Microsoft Graph refused the app in {self.cfg.client_id_env} the usage reports (403); it "
                           f"needs {PERMISSION}", status)
        raise web.Failed(f"{what}: answered {status}", status)


def fetch_m365(http: httpx.Client, inputs: Path, cfg, env: dict[str, str], records: list[FetchRecord],
               today: dt.date, policy: web.RetryPolicy, write: Callable[[FetchRecord], None],
               say: Callable[[str], None]) -> str | None:
    """Fetch this week's 7-day report when it is due; returns the line that stopped it (a refused
    credential), else None."""
    m = cfg.fetch.m365
    newest = newest_report(inputs, records)
    if newest is not None and today < newest + dt.timedelta(days=PERIOD_DAYS + 1):
        say(f"{LABEL}: the report up to {newest.isoformat()} is the newest; the next is due after "
            f"{(newest + dt.timedelta(days=PERIOD_DAYS)).isoformat()}")
        return None
    graph = _Graph(http, m, env, policy)
    asked = today.isoformat()
    try:
        got = None
        for refresh in range(LINK_REFRESHES + 1):
            status, link, body = graph.report()
            if body is not None:
                got = _from_body(body, inputs / FOLDER, status)
                break
            try:
                got = web.download(http, link, inputs / FOLDER, "copilot-usage-user-detail-D7.csv",
                                   f"{LABEL}, the report download", policy)
                break
            except web.LinkExpired as expired:  # the pre-authenticated link expired: ask again
                if refresh == LINK_REFRESHES:
                    raise web.Failed(f"{LABEL}: the download link answered {expired.status} also when fresh",
                                     expired.status) from None
    except Rejected as exc:
        write(FetchRecord(SOURCE, asked, None, "rejected", exc.status, None, utc_now()))
        return str(exc)
    except web.Failed as exc:
        write(FetchRecord(SOURCE, asked, None, "failed", exc.status, None, utc_now()))
        say(f"{LABEL}: {exc.what}; tried again by the next fetch")
        return None
    with open(got.temp, "rb") as handle:
        refresh, period, has_rows = report_window(handle.read(1 << 16))
    if not has_rows or refresh is None:
        got.temp.unlink(missing_ok=True)
        write(FetchRecord(SOURCE, asked, None, "no_data", got.http_status, 0, utc_now()))
        say(f"{LABEL}: the report holds no user (no Microsoft 365 Copilot licence assigned?)")
        return None
    window = f"{(refresh - dt.timedelta(days=period - 1)).isoformat()}..{refresh.isoformat()}"
    if newest is not None and refresh < newest + dt.timedelta(days=PERIOD_DAYS):
        got.temp.unlink(missing_ok=True)
        write(FetchRecord(SOURCE, window, None, "not_ready", got.http_status, got.size, utc_now()))
        say(f"{LABEL}: Microsoft has refreshed the report up to {refresh.isoformat()} only; the week up to "
            f"{(newest + dt.timedelta(days=PERIOD_DAYS)).isoformat()} is fetched when it is there")
        return None
    path, outcome = web.place(got, inputs / FOLDER / file_name(refresh))
    write(FetchRecord(SOURCE, window, path.relative_to(inputs).as_posix(), outcome, got.http_status, got.size,
                      utc_now()))
    say(f"{LABEL}: {window}: {outcome} {path.relative_to(inputs).as_posix()} ({got.size:,} bytes)")
    return None


def _from_body(body: bytes, folder: Path, status: int) -> web.Download:
    """A report Graph answered directly (no redirect) as a temporary file, like a download."""
    import hashlib
    import secrets

    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".copilot-usage-user-detail-D7.csv.part-{secrets.token_hex(4)}"
    temp.write_bytes(body)
    return web.Download(temp, len(body), hashlib.sha256(body).hexdigest(), status)
