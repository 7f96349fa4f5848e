"""HTTP for the fetchers: httpx (timeouts, streaming) and tenacity (retries with backoff).

Why not dlt's REST API source: it extracts JSON resources into a dlt destination, with its own
pipeline state and schemas. Here the vendor's files must land byte for byte in the inputs folder
for the ingest that already reads them, the download links are signed and expire, and Microsoft
Graph answers a report with a redirect to a pre-authenticated link: two small, maintained
libraries (httpx, tenacity) say that in fewer lines than dlt's paginators and hooks, and add two
dependencies instead of dlt's tree. Comparison in docs/inputs.md, "Fetching the usage reports".

- **Retries** (`RetryPolicy`): 5xx, 429, a rate-limited 403 (GitHub's secondary limits), a
  dropped connection, a timeout and a truncated body are tried again, waiting what
  ``Retry-After`` says (seconds or an HTTP date) or an exponential backoff with jitter; a wait
  longer than ``max_retry_after_seconds`` gives up at once. Tests pass a policy whose ``sleep``
  records the waits instead of sleeping.
- **Downloads** stream into a hidden temporary file in the destination folder (``.name.part-…``:
  ignored by the ingest and the inputs sensor) and are checked against Content-Length; the
  caller moves the file into place (`place`) only when every part of a report is complete.
- **Secrets**: no message built here holds a URL, a header or a response body (signed links
  carry their signature in the query string; httpx's own messages may hold the URL), and httpx's
  request log is silenced while fetching.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import tenacity

#: Connect within 10 s; no more than 60 s between two bytes of an answer.
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
CHUNK = 1 << 16


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try again (tests use tiny waits and a recording ``sleep``)."""

    attempts: int = 5
    backoff_seconds: float = 2.0  # the first wait; doubled each time, with as much jitter
    max_backoff_seconds: float = 60.0
    max_retry_after_seconds: float = 300.0  # a longer Retry-After gives up (tried on the next fetch)
    sleep: Callable[[float], None] = time.sleep


DEFAULT_POLICY = RetryPolicy()


class Retryable(Exception):
    """A fault worth another try: ``what`` is safe to show (no URL, no secret)."""

    def __init__(self, what: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(what)
        self.what, self.status, self.retry_after = what, status, retry_after


class Failed(Exception):
    """Gave up on one request after the retries (or at once): ``what`` is safe to show."""

    def __init__(self, what: str, status: int | None = None):
        super().__init__(what)
        self.what, self.status = what, status


class LinkExpired(Exception):
    """A signed or pre-authenticated download link answered 4xx: ask the API for a fresh one."""

    def __init__(self, status: int):
        super().__init__(f"the download link answered {status}")
        self.status = status


def client() -> httpx.Client:
    """One client per fetch (connection reuse); no default headers, so a credential is only sent
    where a request names it, never to a download host."""
    from kpi.migrations import release

    return httpx.Client(timeout=TIMEOUT, follow_redirects=False,
                        headers={"User-Agent": f"ai-training-kpi/{release()} (kpi fetch)"})


@contextlib.contextmanager
def quiet_http_logs() -> Iterator[None]:
    """httpx logs every request with its URL at INFO: a signed link's signature must not reach a
    log (or Dagster's event log, when it captures Python logs)."""
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def retry_after_seconds(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    """Retry-After in seconds (a number or an HTTP date); for GitHub's primary rate limit
    (``x-ratelimit-remaining: 0``) the time until ``x-ratelimit-reset``."""
    value = response.headers.get("retry-after")
    now = now or dt.datetime.now(dt.UTC)
    if value:
        value = value.strip()
        if value.replace(".", "", 1).isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - now).total_seconds())
    if response.headers.get("x-ratelimit-remaining") == "0" and response.headers.get("x-ratelimit-reset", "").isdigit():
        return max(0.0, float(response.headers["x-ratelimit-reset"]) - now.timestamp())
    return None


def check_retryable(response: httpx.Response, what: str, policy: RetryPolicy) -> None:
    """Raise `Retryable` for 429, 5xx and a rate-limited 403; `Failed` when the wait asked for is
    longer than the policy allows."""
    status = response.status_code
    rate_limited = status == 403 and (response.headers.get("retry-after")
                                      or response.headers.get("x-ratelimit-remaining") == "0")
    if status == 429 or status >= 500 or rate_limited:
        wait = retry_after_seconds(response)
        if wait is not None and wait > policy.max_retry_after_seconds:
            raise Failed(f"{what}: answered {status} and asked to wait {wait:.0f} s (more than "
                          f"{policy.max_retry_after_seconds:.0f} s); the next fetch tries again", status)
        raise Retryable(f"{what}: answered {status}", status, wait)


def _transport(exc: httpx.TransportError, what: str) -> Retryable:
    if isinstance(exc, httpx.TimeoutException):
        return Retryable(f"{what}: timed out")
    if isinstance(exc, httpx.RemoteProtocolError):
        return Retryable(f"{what}: the connection broke off before the answer was complete")
    if isinstance(exc, httpx.ConnectError):
        return Retryable(f"{what}: could not connect")
    return Retryable(f"{what}: {type(exc).__name__}")


def with_retries(policy: RetryPolicy, attempt: Callable[[], object]):
    """Run ``attempt`` until it returns, retrying `Retryable` as the policy says; `Failed` when
    the attempts are used up."""
    backoff = tenacity.wait_exponential_jitter(initial=policy.backoff_seconds, max=policy.max_backoff_seconds,
                                               jitter=policy.backoff_seconds)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return backoff(state)

    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(policy.attempts), wait=wait,
                                 retry=tenacity.retry_if_exception_type(Retryable), sleep=policy.sleep, reraise=True)
    try:
        return retrying(attempt)
    except Retryable as exc:
        raise Failed(f"{exc.what} ({policy.attempts} attempts)", exc.status) from None


def call(http: httpx.Client, method: str, url: str, what: str, policy: RetryPolicy, **kwargs) -> httpx.Response:
    """One API request with retries; returns the answer of any other status for the caller to read."""

    def attempt() -> httpx.Response:
        try:
            response = http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise _transport(exc, what) from None
        check_retryable(response, what, policy)
        return response

    return with_retries(policy, attempt)


@dataclass(frozen=True)
class Download:
    """A complete download in its temporary file."""

    temp: Path
    size: int
    sha256: str
    http_status: int


def download(http: httpx.Client, url: str, folder: Path, name: str, what: str, policy: RetryPolicy) -> Download:
    """Stream a signed or pre-authenticated link (no credential sent) into a hidden temporary file
    in ``folder``; retries what is worth retrying; a 4xx raises `LinkExpired`. Nothing is left
    behind when it fails."""
    folder.mkdir(parents=True, exist_ok=True)

    def attempt() -> Download:
        temp = folder / f".{name}.part-{secrets.token_hex(4)}"
        try:
            with http.stream("GET", url, follow_redirects=True) as response:
                check_retryable(response, what, policy)
                if 400 <= response.status_code < 500:
                    raise LinkExpired(response.status_code)
                if response.status_code != 200:
                    raise Failed(f"{what}: answered {response.status_code}", response.status_code)
                digest, size = hashlib.sha256(), 0
                with open(temp, "wb") as handle:
                    for chunk in response.iter_bytes(CHUNK):
                        handle.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                    handle.flush()
                    os.fsync(handle.fileno())
                expected = response.headers.get("content-length")
                encoded = response.headers.get("content-encoding", "identity") != "identity"
                if expected and expected.isdigit() and not encoded and int(expected) != size:
                    raise Retryable(f"{what}: the download stopped after {size} of {expected} bytes")
                return Download(temp, size, digest.hexdigest(), response.status_code)
        except httpx.TransportError as exc:
            temp.unlink(missing_ok=True)
            raise _transport(exc, what) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    return with_retries(policy, attempt)


def same_content(path: Path, sha256: str, size: int) -> bool:
    if path.stat().st_size != size:
        return False
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == sha256


def place(got: Download, target: Path) -> tuple[Path, str]:
    """Move a complete download to ``target`` without ever replacing a file: (the path now holding
    the content, status). ``fetched`` when the name was free; ``unchanged`` when a file of that name
    already holds these bytes; ``kept_both`` when it holds other bytes: the download is kept beside
    it as ``<stem>-<first 8 hex of its sha256><suffix>`` (the ingest's natural keys resolve the
    overlap)."""
    candidates = [target, target.with_name(f"{target.stem}-{got.sha256[:8]}{target.suffix}")]
    for i, path in enumerate(candidates):
        try:
            os.link(got.temp, path)  # fails when the name exists: never overwrites
        except FileExistsError:
            if same_content(path, got.sha256, got.size):
                got.temp.unlink(missing_ok=True)
                return path, "unchanged"
            continue
        except OSError:  # no hard links on this file system: the same check, then a rename
            if path.exists():
                if same_content(path, got.sha256, got.size):
                    got.temp.unlink(missing_ok=True)
                    return path, "unchanged"
                continue
            os.replace(got.temp, path)
            return path, "fetched" if i == 0 else "kept_both"
        got.temp.unlink(missing_ok=True)
        return path, "fetched" if i == 0 else "kept_both"
    raise Failed(f"{target.name}: two other files already hold this name and its content-named twin")
