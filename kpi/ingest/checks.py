"""Whole-file sanity gates and input warnings (docs/quality.md, "Sanity gates").

Row by row, ingest quarantines what it cannot use. These checks look at a file as a whole, once
it is read: a file that loads no row, loses more than ``quality.max_quarantined_share`` of its
rows to quarantine, or has a required column in which no cell is usable (swapped columns, a
wrong mapping) is unusable. For the state files every figure rests on (``hr/employees.csv``,
``finance/costs.csv``) that stops the run: ``InputError`` inside the ingest step, whose
transaction then rolls back, so no mart or snapshot is built from it. Any other input gets a
warning line. ``kpi validate`` collects the fatal lines instead of stopping at the first.

Warnings (these, the concealed Microsoft 365 reports, the notes of a usage format) are printed
on stderr as they are found during ``kpi run`` and recorded in ``audit.input_warnings``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime

from kpi.adapters.textio import DateRange, default_date_range
from kpi.errors import InputError

#: Inputs whose whole-file problems stop the run (any other input gets a warning).
FATAL_KINDS = ("employees", "costs")

#: Quarantine reasons that do not count against a file: a repeated key keeps its first row, and
#: a re-export overlapping an earlier one is expected to repeat it.
NOT_A_LOSS = ("duplicate",)

CONCEALED_IDENTITY_HINT = (
    "Microsoft 365 reports with concealed user names cannot be matched to employees: in the Microsoft 365 "
    "admin center go to Settings > Org settings > Services > Reports, clear 'Display concealed user, group, "
    "and site names in all reports', and download the report again."
)


@dataclass(frozen=True)
class InputWarning:
    """One line of ``audit.input_warnings``: ``warning`` is a code, ``detail`` the line shown."""

    file: str
    warning: str  # no_rows | no_rows_loaded | quarantined_share | column_invalid | concealed_identity | format_note
    detail: str


@dataclass
class InputChecks:
    """How a run checks its inputs, and what it found.

    ``stop_on_fatal``: raise the first fatal problem as ``InputError`` (``kpi run``), or collect
    it in ``fatal`` and go on (``kpi validate``). ``echo``: print each warning on stderr when it
    is found (the run's progress); ``kpi validate`` prints them with its table instead."""

    max_quarantined_share: float = 0.2
    dates: DateRange = field(default_factory=default_date_range)
    stop_on_fatal: bool = True
    echo: bool = True
    fatal: list[str] = field(default_factory=list)
    warnings: list[InputWarning] = field(default_factory=list)

    @classmethod
    def from_config(cls, cfg, now: datetime | date | None = None, **options) -> InputChecks:
        """The thresholds of the config's ``quality`` section; dates are plausible up to
        ``quality.max_days_ahead`` days after the run's day ``now``."""
        today = now.date() if isinstance(now, datetime) else (now or date.today())
        quality = getattr(cfg, "quality", None)
        if quality is None:  # a config object from before the quality section
            return cls(dates=DateRange.around(today), **options)
        return cls(max_quarantined_share=quality.max_quarantined_share,
                   dates=DateRange.around(today, quality.earliest_date, quality.max_days_ahead), **options)

    def problem(self, kind: str, file: str, code: str, line: str) -> InputWarning | None:
        """A whole-file problem: fatal for the required state files, else a warning (returned)."""
        if kind in FATAL_KINDS:
            if self.stop_on_fatal:
                raise InputError(line)
            self.fatal.append(line)
            return None
        return self.warn(InputWarning(file, code, line))

    def warn(self, warning: InputWarning) -> InputWarning:
        self.warnings.append(warning)
        if self.echo:
            print(f"warning: {warning.detail}", file=sys.stderr, flush=True)
        return warning


def _percent(share: float) -> str:
    text = f"{100 * share:.1f}".removesuffix(".0")
    return f"{text} %"


def reasons_text(reasons: dict[str, int]) -> str:
    """``invalid_date 3, out_of_range 1`` (or ``invalid_date`` alone when it is the only one)."""
    if len(reasons) == 1:
        return next(iter(reasons))
    return ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))


def losses(row_reasons: dict[str, int]) -> dict[str, int]:
    return {reason: n for reason, n in row_reasons.items() if reason not in NOT_A_LOSS and n}


def file_problem(file: str, rows_read: int, rows_loaded: int, row_reasons: dict[str, int], max_share: float,
                 *, invalid_columns: list[tuple[str, dict[str, int], int, str]] = (),
                 fix: str = "export it again", accumulating: bool = False) -> tuple[str, str] | None:
    """(code, line) of the first whole-file problem, or None.

    ``row_reasons``: quarantined source rows by reason; ``invalid_columns``: (column, unusable
    cells by reason, cells checked, what to do) for the required columns, checked in order.
    ``accumulating`` (usage, surveys): a duplicate is a row loaded before, so a file of them
    (a re-export) is not one that loads nothing."""
    if rows_read == 0:
        return "no_rows", f"{file}: no data rows, only a header; {fix}"
    for column, reasons, checked, column_fix in invalid_columns:
        unusable = sum(reasons.values())
        if checked and unusable >= checked:
            if set(reasons) == {"missing_required"}:
                return "column_invalid", f"{file}: every {column} is empty ({unusable} of {checked} rows): {column_fix}"
            return "column_invalid", (f"{file}: every {column} is invalid ({unusable} of {checked} rows quarantined "
                                      f"as {reasons_text(reasons)}): {column_fix}")
    lost = losses(row_reasons)
    n_lost = sum(lost.values())
    if rows_loaded == 0 and n_lost and not (accumulating and row_reasons.get("duplicate")):
        return "no_rows_loaded", (f"{file}: no row could be loaded ({n_lost} of {rows_read} rows quarantined as "
                                  f"{reasons_text(lost)}); correct the file (kpi validate lists the reasons, "
                                  "audit.quarantine every row)")
    if n_lost / rows_read > max_share:
        return "quarantined_share", (
            f"{file}: {n_lost} of {rows_read} rows quarantined ({_percent(n_lost / rows_read)}, as "
            f"{reasons_text(lost)}), more than quality.max_quarantined_share ({_percent(max_share)}); correct the "
            "file, or raise quality.max_quarantined_share in the config if that many rejected rows are expected")
    return None


def concealed_warning(file: str, concealed_rows: int, rows_read: int) -> InputWarning:
    return InputWarning(file, "concealed_identity", (
        f"{file}: the user names of this report are concealed ({concealed_rows} of {rows_read} rows): "
        + CONCEALED_IDENTITY_HINT))


def format_note(file: str, note: str) -> InputWarning:
    """A note of a usage format's reader, as a warning line naming the file."""
    text = note if note.startswith(f"{file}: ") else f"{file}: {note}"
    return InputWarning(file, "format_note", text)
