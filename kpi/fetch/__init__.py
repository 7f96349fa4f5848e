"""Download the usage reports from the vendors' APIs into the inputs folder (`kpi fetch`, and the
daily fetch schedule in Dagster): docs/inputs.md, "Fetching the usage reports".

- `kpi.fetch.github`: GitHub Copilot per-user daily reports -> ``usage/github/``;
- `kpi.fetch.m365`: Microsoft 365 Copilot usage user detail, weekly 7-day -> ``usage/m365/``;
- `kpi.fetch.http`: httpx + tenacity (timeouts, retries, downloads to a temporary name);
- `kpi.fetch.log`: the fetch log in the inputs folder, ``audit.fetch_log``, the run summary lines.

Credentials come from the environment variables the config names, and go nowhere but the
vendor's API: not into files, logs, the warehouse or Dagster's events. Importing this package is
light; httpx is imported when a fetch starts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import UserError
from kpi.fetch.log import LOG_DIR, FetchRecord, append_log, read_log, summary_lines

__all__ = ["FetchOutcome", "credentials", "fetch_usage", "run_fetch"]


@dataclass
class FetchOutcome:
    records: list[FetchRecord] = field(default_factory=list)  # the rows this fetch added to the log
    lines: list[str] = field(default_factory=list)  # per source: where it stands now
    errors: list[str] = field(default_factory=list)  # per source that stopped: the one line why


def credentials(cfg, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The values of the environment variables the fetch section names; a missing one stops with
    one line naming the variable and what it must hold."""
    from kpi.fetch.github import permission_needed
    from kpi.fetch.m365 import PERMISSION

    environ = os.environ if environ is None else environ
    wanted: list[tuple[str, str, str]] = []
    f = cfg.fetch
    if f.github.configured:
        wanted.append(("fetch.github.token_env", f.github.token_env, permission_needed(f.github)))
    if f.m365.configured:
        app = f"of a Microsoft Entra app registration with {PERMISSION}"
        wanted += [("fetch.m365.tenant_id_env", f.m365.tenant_id_env, "the directory (tenant) id " + app),
                   ("fetch.m365.client_id_env", f.m365.client_id_env, "the application (client) id " + app),
                   ("fetch.m365.client_secret_env", f.m365.client_secret_env, "a client secret " + app)]
    found = {}
    for key, name, what in wanted:
        value = (environ.get(name) or "").strip()
        if not value:
            raise UserError(f"{key}: the environment variable {name} is not set; set it to {what} "
                            "(docs/inputs.md, \"Fetching the usage reports\")")
        found[name] = value
    return found


def utc_today() -> dt.date:
    """The vendors' day (GitHub and Graph report UTC days); tests replace it."""
    return dt.datetime.now(dt.UTC).date()


@contextlib.contextmanager
def _one_fetch_at_a_time(inputs: Path) -> Iterator[None]:
    """Two fetches into one inputs folder (the schedule and a `kpi fetch`) would fetch the same
    days twice: the second stops with one line."""
    folder = inputs / LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the file names still never clash
        yield
        return
    with open(folder / "lock", "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UserError(f"{inputs}: another kpi fetch is writing into this inputs folder; try again when "
                            "it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def fetch_usage(inputs: Path | str, cfg, since: dt.date | None = None, today: dt.date | None = None,
                policy=None, say: Callable[[str], None] | None = None,
                environ: Mapping[str, str] | None = None) -> FetchOutcome:
    """Fetch what is missing from every configured source (``today``: the UTC day, by default;
    ``policy``: a `kpi.fetch.http.RetryPolicy`). Rows go to the log as soon as they are known; a
    source whose credential is refused stops, the others go on (``FetchOutcome.errors``)."""
    inputs = Path(inputs)
    say = say or (lambda line: None)
    sources = cfg.fetch.sources()
    if not sources:
        raise UserError("config: nothing to fetch: set fetch.github.org (or fetch.github.enterprise) and/or "
                        "fetch.m365's three environment variable names (docs/configuration.md, \"fetch\")")
    if not inputs.is_dir():
        raise UserError(f"{inputs}: inputs folder not found; pass the folder holding hr/, usage/, ... with --inputs")
    env = credentials(cfg, environ)
    today = today or utc_today()
    from kpi.fetch import http as web
    from kpi.fetch.github import fetch_github
    from kpi.fetch.m365 import fetch_m365

    policy = policy or web.DEFAULT_POLICY
    outcome = FetchOutcome()

    def write(record: FetchRecord) -> None:
        append_log(inputs, [record])
        outcome.records.append(record)

    with _one_fetch_at_a_time(inputs), web.quiet_http_logs(), web.client() as http:
        records = read_log(inputs)
        for source in sources:
            if source == "github":
                error = fetch_github(http, inputs, cfg, env[cfg.fetch.github.token_env], records, since, today,
                                     policy, write, say)
            else:
                if since is not None:
                    say("Microsoft 365 Copilot: Graph serves only the current report: --since does not apply")
                error = fetch_m365(http, inputs, cfg, env, records, today, policy, write, say)
            if error:
                outcome.errors.append(error)
    outcome.lines = summary_lines(read_log(inputs), sources)
    return outcome


def run_fetch(inputs: Path, config: Path, since: str | None, say: Callable[[str], None]) -> FetchOutcome:
    """`kpi fetch`: load the config, fetch, and stop with the first refused credential's line."""
    from kpi.config import load_config

    cfg = load_config(config)
    since_day = None
    if since is not None:
        try:
            since_day = dt.date.fromisoformat(since.strip())
        except ValueError:
            raise UserError(f"--since {since}: not a date; use the form 2026-11-01") from None
    outcome = fetch_usage(inputs, cfg, since=since_day, say=say)
    for line in outcome.lines:
        say(line)
    if outcome.errors:
        raise UserError(outcome.errors[0])
    return outcome
