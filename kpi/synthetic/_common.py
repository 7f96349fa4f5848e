"""Small helpers shared by the synthetic-company modules: day numbers, months, formatting.

``TARGET_GROUPS`` is re-exported from :mod:`kpi.config`, its one definition."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

from kpi.config import TARGET_GROUPS

EPOCH = date(1970, 1, 1)
NEVER = 10**6  # a day number far after any generated date ("no exit", "never trained")

DEPARTMENTS = (
    "Sales & Marketing",
    "Engineering",
    "Production",
    "HR & Administration",
    "Finance",
    "Management",
)
DEPT_SHARE = (0.17, 0.20, 0.40, 0.09, 0.08, 0.06)
DEPT_CODE = ("SM", "EN", "PR", "HR", "FI", "MG")
OFFICE_DEPTS = (0, 3, 4, 5)  # Sales & Marketing, HR & Administration, Finance, Management
SALES, ENGINEERING, PRODUCTION, HR_ADMIN, FINANCE, MANAGEMENT = range(6)
EXECUTIVE, MANAGER, CHAMPION, USER = range(len(TARGET_GROUPS))  # indices into TARGET_GROUPS
EMAIL_DOMAIN = "demo-maschinenbau.example"
CONTRACTOR_DOMAIN = "contractor.example"


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def from_day(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def iso(n: int) -> str:
    """ISO date text of a day number."""
    return from_day(n).isoformat()


def iso_or_empty(n: int) -> str:
    return "" if n >= NEVER else iso(n)


def add_months(d: date, k: int) -> date:
    """First day of the month k months after d's month."""
    m = d.year * 12 + (d.month - 1) + k
    return date(m // 12, m % 12 + 1, 1)


def month_end(d: date) -> date:
    return add_months(d, 1) - timedelta(days=1)


def month_label(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def berlin_offset_hours(d: date) -> int:
    """UTC offset of Europe/Berlin at local working hours on day d (EU summer-time rule)."""
    def last_sunday(year: int, month: int) -> date:
        last = month_end(date(year, month, 1))
        return last - timedelta(days=(last.weekday() + 1) % 7)

    return 2 if last_sunday(d.year, 3) <= d < last_sunday(d.year, 10) else 1


def write_csv(path: Path, header: list[str], rows, bom: bool = False) -> int:
    """Write rows (lists of already formatted strings/numbers) as UTF-8 CSV with '\\n' endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    data = buf.getvalue().encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return n


def fmt_num(x: float, decimals: int) -> str:
    """Fixed-decimal text without a negative zero."""
    s = f"{x:.{decimals}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s
