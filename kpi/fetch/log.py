"""The fetch log: one JSON line per download attempt, kept in the inputs folder.

`kpi fetch` has no warehouse (the warehouse may be held by a running `kpi run`), so what it did is
appended to ``<inputs>/.kpi-fetch/fetch-log.jsonl`` (a hidden folder: the ingest and the inputs
sensor ignore it). Each `kpi run` copies the file into ``audit.fetch_log`` and prints a line per
source; the Dagster fetch asset copies it right after fetching. The log never holds a credential
or a download link: source, day or period, file, status, HTTP status, bytes and time only.

Import-light (no httpx): `kpi run` reads it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

LOG_DIR = ".kpi-fetch"
LOG_NAME = "fetch-log.jsonl"

#: The statuses of a fetch log row (docs/inputs.md, "Fetching the usage reports").
STATUSES = ("fetched", "unchanged", "kept_both", "no_data", "not_ready", "not_found", "failed", "rejected")
#: A file is in the inputs folder for this day or period.
WRITTEN = frozenset({"fetched", "unchanged", "kept_both"})
#: Nothing more to fetch for this day or period.
COVERED = WRITTEN | {"no_data"}
#: Tried and not obtained (missing until a later fetch gets it).
FAILED = frozenset({"not_found", "failed", "rejected"})

SOURCE_LABELS = {"github": "GitHub Copilot", "m365": "Microsoft 365 Copilot"}


@dataclass(frozen=True)
class FetchRecord:
    source: str
    day_or_period: str
    file: str | None
    status: str
    http_status: int | None
    bytes: int | None
    fetched_at: dt.datetime  # UTC, naive, whole seconds

    def to_json(self) -> str:
        data = asdict(self)
        data["fetched_at"] = self.fetched_at.isoformat()
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> FetchRecord:
        data = json.loads(line)
        data["fetched_at"] = dt.datetime.fromisoformat(data["fetched_at"])
        return cls(**data)

    def days(self) -> list[dt.date]:
        """The days this row is about: a GitHub day, or every day of a Microsoft 365 window."""
        first, _, last = self.day_or_period.partition("..")
        start = dt.date.fromisoformat(first)
        end = dt.date.fromisoformat(last) if last else start
        return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def log_path(inputs: Path | str) -> Path:
    return Path(inputs) / LOG_DIR / LOG_NAME


def read_log(inputs: Path | str) -> list[FetchRecord]:
    """Every row of the log, oldest first; a line that does not parse (a write cut short by a
    crash) is skipped."""
    path = log_path(inputs)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            records.append(FetchRecord.from_json(line))
        except (ValueError, TypeError, KeyError):
            continue
    return records


def append_log(inputs: Path | str, records: Iterable[FetchRecord]) -> None:
    """Append rows and flush them to disk (one line each, written whole)."""
    lines = "".join(r.to_json() + "\n" for r in records)
    if not lines:
        return
    path = log_path(inputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(lines)
        handle.flush()
        os.fsync(handle.fileno())


# --------------------------------------------------------------------------------------------
# What has been fetched: the state the next fetch and the run summary start from
# --------------------------------------------------------------------------------------------


def latest_by_day(records: Iterable[FetchRecord], source: str) -> dict[dt.date, FetchRecord]:
    """Per day, the row that decides it: a covering row wins over any failure (a file, once
    written, stays); otherwise the latest row."""
    out: dict[dt.date, FetchRecord] = {}
    for record in records:
        if record.source != source:
            continue
        for day in record.days():
            have = out.get(day)
            if have is None:
                out[day] = record
            elif record.status in COVERED:
                if have.status not in COVERED or record.fetched_at >= have.fetched_at:
                    out[day] = record
            elif have.status not in COVERED and record.fetched_at >= have.fetched_at:
                out[day] = record
    return out


def _ranges(days: list[dt.date]) -> str:
    """2026-11-02 to 2026-11-03, 2026-11-17 (at most 8 stretches, then how many more)."""
    stretches: list[list[dt.date]] = []
    for day in sorted(days):
        if stretches and day - stretches[-1][-1] == dt.timedelta(days=1):
            stretches[-1].append(day)
        else:
            stretches.append([day])
    parts = [s[0].isoformat() if len(s) == 1 else f"{s[0].isoformat()} to {s[-1].isoformat()}" for s in stretches]
    if len(parts) > 8:
        parts = parts[:8] + [f"... ({len(parts) - 8} more stretches)"]
    return ", ".join(parts)


def source_state(records: Iterable[FetchRecord], source: str) -> tuple[dt.date | None, list[dt.date], list[dt.date]]:
    """(the last day covered, the days missing, the days not available yet).

    Missing: every day between the first day the log knows and the last day covered that is not
    covered, plus the days after it whose fetch failed (rejected, not found, failed). Not
    available yet: days after the last covered one that the vendor had not published."""
    by_day = latest_by_day(records, source)
    covered = sorted(d for d, r in by_day.items() if r.status in COVERED)
    if not by_day:
        return None, [], []
    last = covered[-1] if covered else None
    first = min(by_day)
    missing, pending = [], []
    day = first
    end = max(by_day)
    while day <= end:
        record = by_day.get(day)
        if record is None or record.status not in COVERED:
            if last is not None and day < last:
                missing.append(day)
            elif record is not None and record.status in FAILED:
                missing.append(day)
            elif record is not None:
                pending.append(day)
        day += dt.timedelta(days=1)
    return last, missing, pending


def report_windows(records: Iterable[FetchRecord], source: str = "m365") -> tuple[dt.date | None, list[dt.date]]:
    """(the end of the newest report window written, the days between the windows written that no
    window covers): the weekly Microsoft 365 reports should follow each other without a gap."""
    days = sorted({day for r in records if r.source == source and r.status in WRITTEN for day in r.days()})
    if not days:
        return None, []
    have, missing, day = set(days), [], days[0]
    while day < days[-1]:
        if day not in have:
            missing.append(day)
        day += dt.timedelta(days=1)
    return days[-1], missing


def _missing(days: list[dt.date]) -> str:
    n = len(days)
    return f"; {n} day{'s' if n != 1 else ''} missing: {_ranges(days)}" if days else "; no day missing"


def summary_lines(records: list[FetchRecord], sources: list[str]) -> list[str]:
    """One line per configured source for the `kpi run` summary, e.g.
    ``GitHub Copilot: fetched up to 2026-11-29; 3 days missing: 2026-11-02 to 2026-11-03, 2026-11-17``."""
    lines = []
    for source in sources:
        label = SOURCE_LABELS[source]
        if source == "m365":
            last, missing = report_windows(records)
            latest = next((r for r in reversed(records) if r.source == source), None)
            text = (f"{label}: fetched up to {last.isoformat()} (weekly 7-day reports){_missing(missing)}" if last
                    else f"{label}: nothing fetched yet")
            if latest is not None and latest.status in FAILED:
                text += f"; the last fetch, on {latest.day_or_period}, {latest.status.replace('_', ' ')}"
            elif last is None:
                text += " (kpi fetch, or the daily fetch schedule in Dagster)"
            lines.append(text)
            continue
        last, missing, pending = source_state(records, source)
        if last is None and not missing:
            lines.append(f"{label}: nothing fetched yet (kpi fetch, or the daily fetch schedule in Dagster)")
            continue
        text = f"{label}: fetched up to {last.isoformat()}" if last else f"{label}: nothing fetched yet"
        text += _missing(missing)
        if pending:
            text += f"; not published yet: {_ranges(pending)}"
        lines.append(text)
    return lines


# --------------------------------------------------------------------------------------------
# The warehouse copy
# --------------------------------------------------------------------------------------------


def store_fetch_log(con, inputs: Path | str) -> int:
    """Replace ``audit.fetch_log`` with the inputs folder's log (inside the caller's transaction
    or one of its own); returns the rows stored."""
    from kpi.migrations import prepare

    records = read_log(inputs)
    prepare(con, "audit.fetch_log")
    con.execute("DELETE FROM audit.fetch_log")
    if records:
        con.executemany(
            "INSERT INTO audit.fetch_log (source, day_or_period, file, status, http_status, bytes, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[r.source, r.day_or_period, r.file, r.status, r.http_status, r.bytes, r.fetched_at] for r in records],
        )
    return len(records)


def record_fetch_log(con, inputs: Path | str, sources: list[str]) -> list[str]:
    """What `kpi run` does when fetching is configured: copy the log into ``audit.fetch_log`` (one
    transaction) and return the summary line of each source."""
    with con.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            store_fetch_log(cur, inputs)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return summary_lines(read_log(inputs), sources)
