"""Measured attribution (docs/roi.md and docs/metrics.md, "Measured attribution").

The rollout trains the departments at different times, so the months before a department's
training are its control. ``build_attribution(con, cfg)`` (called by the ``roi`` Dagster asset
inside its transaction, after ``build_roi_tables``) replaces every row of
``marts.roi_attribution_estimate`` (one row per outcome: the share of the measured improvement that
the training caused, with its 95 % interval, or NULL figures and a note saying why) and
``marts.roi_attribution_event_study`` (the effect by months relative to training, for a chart).

Method, per outcome (minutes per case, error rate), over the series (process, department) of
``staging.process_metrics``:

- Y = the month's value divided by the series' baseline (the ROI's: Σ over the
  ``program.baseline_months`` months before ``program.start``), so 1 = the baseline level and every
  series counts alike whatever its scale.
- A department is treated from the first month whose trained share (its employees employed on
  the month's last day with a completed training on or before it) reaches
  ``benefits.attribution_treatment_share``; the treatment is absorbing.
- The compared months run from the first baseline month to the last month in which at least
  ``MIN_CONTROL_SERIES`` series are not yet treated (later months have no comparison).
- diff-diff's ``TwoStageDiD`` (Gardner 2022; the imputation estimator of Borusyak, Jaravel and
  Spiess): series and month fixed effects fitted on the untreated series-months, the treated
  series-months' differences from that counterfactual averaged into the ATT. Standard errors from
  its GMM sandwich with every series-month its own cluster (independent monthly noise; six-odd
  series are far too few clusters), the 95 % interval with a t quantile on the first stage's
  residual degrees of freedom.
- share = −ATT / M, M = the mean over the same treated series-months of (1 − Y): the measured
  improvement against the baseline that the ROI counts as benefit. The interval is the ATT's
  interval divided by M (M is observed, not estimated).

Only the pipeline imports this module's estimator (pandas and diff-diff are imported inside
``_fit``); ``kpi roi --attribution measured`` reads the stored row and never imports them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ESTIMATE_COLUMNS",
    "ESTIMATE_TABLE",
    "EVENT_STUDY_COLUMNS",
    "EVENT_STUDY_TABLE",
    "MIN_CONTROL_SERIES",
    "OUTCOMES",
    "Series",
    "build_attribution",
    "estimate_outcome",
    "read_panel",
]

ESTIMATE_TABLE = "marts.roi_attribution_estimate"
EVENT_STUDY_TABLE = "marts.roi_attribution_event_study"
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "method", "outcome", "estimate", "ci_low", "ci_high", "n_series", "pre_periods", "post_periods",
    "parallel_trends_p", "note",
)
EVENT_STUDY_COLUMNS: tuple[str, ...] = ("outcome", "relative_month", "effect", "ci_low", "ci_high", "n_series")
OUTCOMES: tuple[str, ...] = ("minutes_per_case", "error_rate")
#: a month with fewer series not yet trained than this ends the compared months
MIN_CONTROL_SERIES = 2
LEVEL = 0.95


def _method() -> str:
    from importlib.metadata import version

    return f"two-stage DiD (Gardner 2022; diff-diff {version('diff-diff')} TwoStageDiD)"


@dataclass
class Series:
    """One (process, department) series: per month index its value and cases (None: no data)."""

    process: str
    department: str
    baseline: float | None
    values: dict[int, float] = field(default_factory=dict)  # month index -> value / baseline
    treated_from: int | None = None  # month index of the treatment; None: never in the data


def _month_index(first: dt.date, month: dt.date) -> int:
    return (month.year - first.year) * 12 + month.month - first.month


def _add_months(month: dt.date, k: int) -> dt.date:
    m = month.year * 12 + month.month - 1 + k
    return dt.date(m // 12, m % 12 + 1, 1)


Panel = tuple[dt.date, list[dt.date], dict[str, list["Series"]], dict[str, "int | None"]]


def read_panel(con: Any, cfg: Any) -> Panel:
    """The panel of both outcomes from the staging tables: (first baseline month, months,
    series per outcome, treatment month index per department)."""
    start = cfg.program.start.replace(day=1)
    baseline_months = int(cfg.program.baseline_months)
    first = _add_months(start, -baseline_months)
    rows = con.execute("""
        SELECT date_trunc('month', month)::DATE AS month, process, department,
               sum(cases)::DOUBLE, sum(handling_minutes)::DOUBLE, sum(errors)::DOUBLE,
               (sum(cases) FILTER (WHERE errors IS NOT NULL))::DOUBLE
        FROM staging.process_metrics
        WHERE month >= $first
        GROUP BY ALL ORDER BY 1, 2, 3""", {"first": first}).fetchall()
    if not rows:
        return first, [], {o: [] for o in OUTCOMES}, {}
    last = max(r[0] for r in rows)
    months = [_add_months(first, k) for k in range(_month_index(first, last) + 1)]
    shares = con.execute("""
        WITH months AS (
            SELECT unnest($months::DATE[]) AS month
        ), first_done AS (
            SELECT employee_key, min(completed_on) AS trained_on
            FROM staging.trainings
            WHERE status = 'completed' AND completed_on IS NOT NULL
            GROUP BY employee_key
        )
        SELECT m.month, e.department, count(*) AS staff,
               count(*) FILTER (WHERE f.trained_on <= last_day(m.month)) AS trained
        FROM months m
        JOIN staging.employees e
          ON e.hire_date <= last_day(m.month) AND (e.exit_date IS NULL OR e.exit_date >= last_day(m.month))
        LEFT JOIN first_done f USING (employee_key)
        GROUP BY ALL ORDER BY 1, 2""", {"months": months}).fetchall()
    threshold = float(cfg.benefits.attribution_treatment_share)
    treated: dict[str, int | None] = {}
    for month, department, staff, trained in shares:
        treated.setdefault(department, None)
        if treated[department] is None and staff and trained / staff >= threshold:
            treated[department] = _month_index(first, month)
    by_key: dict[tuple[str, str], list[tuple]] = {}
    for r in rows:
        by_key.setdefault((r[1], r[2]), []).append(r)
    panel: dict[str, list[Series]] = {o: [] for o in OUTCOMES}
    for (process, department), series_rows in sorted(by_key.items()):
        base = [r for r in series_rows if _month_index(first, r[0]) < baseline_months]
        cases = sum(r[3] for r in base)
        minutes = sum(r[4] for r in base)
        err_cases = sum(r[6] or 0.0 for r in base)
        errors = sum(r[5] or 0.0 for r in base)
        b_minutes = minutes / cases if cases else None
        b_errors = errors / err_cases if err_cases else None
        for outcome, b in (("minutes_per_case", b_minutes), ("error_rate", b_errors)):
            s = Series(process, department, b if b else None, treated_from=treated.get(department))
            for month, _p, _d, c, mins, errs, c_err in series_rows:
                t = _month_index(first, month)
                if not s.baseline:
                    break
                if outcome == "minutes_per_case" and c:
                    s.values[t] = mins / c / s.baseline
                elif outcome == "error_rate" and c_err:
                    s.values[t] = errs / c_err / s.baseline
            panel[outcome].append(s)
    return first, months, panel, treated


@dataclass
class Estimate:
    """One row of marts.roi_attribution_estimate and its event-study rows."""

    outcome: str
    method: str
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_series: int = 0
    pre_periods: int = 0
    post_periods: int = 0
    parallel_trends_p: float | None = None
    note: str = ""
    event_study: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in ESTIMATE_COLUMNS}


def _label(months: Sequence[dt.date], t: int) -> str:
    return f"{months[t].year:04d}-{months[t].month:02d}" if 0 <= t < len(months) else f"month {t}"


def N_(message: str) -> str:  # noqa: N802 - the gettext marker (babel.cfg extracts this module)
    return message


#: The notes stored with an estimate (in English, marts.roi_attribution_estimate.note), as
#: templates: the report translates a stored note by matching it against them
#: (kpi.report.i18n.stored_message). Parts of a note are joined by "; ".
NOTES = {
    "no_baseline": N_("no process series with a baseline (program.baseline_months months before program.start): "
                      "nothing to compare; deliver business/process_metrics.csv from the baseline on"),
    "none_trained": N_("no department's trained share reached %(threshold)s (benefits.attribution_treatment_share) "
                       "in the data: nothing was trained to compare; use the configured attribution"),
    "same_month": N_("all departments were trained in the same month (%(month)s): no department serves as the "
                     "comparison, the effect cannot be told from the trend; use the configured attribution"),
    "no_month_before": N_("no month before training: every department with process data was trained in the first "
                          "month of the data; deliver process metrics from the baseline months on"),
    "too_few": N_("too few series: fewer than %(n)s series were not yet trained when the first department was trained "
                  "(%(month)s), so there is nothing to compare with; use the configured attribution"),
    "failed": N_("the estimator failed (%(error)s); use the configured attribution"),
    "not_finite": N_("the estimator returned no finite effect; use the configured attribution"),
    "no_improvement": N_("no measured improvement against the baseline in the compared months: there is no share to "
                         "attribute; use the configured attribution"),
    "estimated": N_("estimated"),
    "pre_trend": N_("the months before training already differ (parallel_trends_p %(p)s): do not trust it"),
    "beyond": N_("the interval reaches beyond 0..1"),
}


def estimate_outcome(outcome: str, series: list[Series], months: Sequence[dt.date], threshold: float,
                     method: str | None = None) -> Estimate:
    """The estimate of one outcome from its series (see the module docstring); NULL figures with
    a note when the data cannot support one."""
    method = method or _method()
    est = Estimate(outcome, method)
    usable = [s for s in series if s.baseline and s.values]
    est.n_series = len(usable)
    if not usable:
        est.note = NOTES["no_baseline"]
        return est
    treated = [s for s in usable if s.treated_from is not None and s.treated_from in range(len(months))]
    if not treated:
        est.note = NOTES["none_trained"] % {"threshold": f"{threshold:g}"}
        return est
    firsts = sorted({s.treated_from for s in treated})
    if all(s.treated_from is not None for s in usable) and len(firsts) == 1:
        est.note = NOTES["same_month"] % {"month": _label(months, firsts[0])}
        return est
    if all(s.treated_from <= 0 for s in treated):
        est.note = NOTES["no_month_before"]
        return est
    # the compared months: up to the last month with MIN_CONTROL_SERIES series not yet treated
    untreated = [sum(1 for s in usable if s.treated_from is None or s.treated_from > t) for t in range(len(months))]
    window = [t for t, n in enumerate(untreated) if n >= MIN_CONTROL_SERIES]
    end = max(window) if window else -1
    in_window = [s for s in treated if 0 < s.treated_from <= end]
    if not in_window:
        first_with_pre = min(t for t in firsts if t > 0)
        est.note = NOTES["too_few"] % {"n": MIN_CONTROL_SERIES, "month": _label(months, first_with_pre)}
        return est
    rows = []
    units = [s for s in usable if s.treated_from is None or s.treated_from > 0]
    for u, s in enumerate(units):
        g = s.treated_from if s.treated_from is not None and s.treated_from <= end else 0
        for t, y in sorted(s.values.items()):
            if t <= end:
                rows.append((u, t + 1, 0 if g == 0 else g + 1, y))
    est.n_series = len(units)
    first_in = min(s.treated_from for s in in_window)
    est.pre_periods = first_in  # months of the compared window before the first training
    est.post_periods = end - first_in + 1
    try:
        fit = _fit(rows)
    except Exception as exc:  # noqa: BLE001 - any failure of the estimator becomes the row's note
        reason = (str(exc).splitlines() or [""])[0][:160]
        est.note = NOTES["failed"] % {"error": f"{type(exc).__name__}: {reason}"}
        return est
    att, se, crit, cells_mean_y, pre_p, events = fit
    measured = 1.0 - cells_mean_y
    est.parallel_trends_p = pre_p
    est.event_study = [{"outcome": outcome, **e} for e in events]
    if not (math.isfinite(att) and math.isfinite(se)):
        est.note = NOTES["not_finite"]
        return est
    if measured <= 0:
        est.note = NOTES["no_improvement"]
        return est
    lo, hi = sorted(((-att - crit * se) / measured, (-att + crit * se) / measured))
    est.estimate, est.ci_low, est.ci_high = -att / measured, lo, hi
    warn = []
    if pre_p is not None and pre_p < 0.05:
        warn.append(NOTES["pre_trend"] % {"p": f"{pre_p:.3f}"})
    if lo < 0 or hi > 1:
        warn.append(NOTES["beyond"])
    est.note = "; ".join([NOTES["estimated"], *warn])
    return est


def _fit(rows: list[tuple[int, int, int, float]]):
    """Run diff-diff's TwoStageDiD on (unit, period, first treated period or 0, y) rows. Returns
    (ATT, SE, t critical value, mean y over the treated cells used, pre-trend p, event study)."""
    import warnings

    import numpy as np
    import pandas as pd
    from diff_diff import TwoStageDiD
    from scipy import stats

    df = pd.DataFrame(rows, columns=["unit", "period", "first_treat", "y"])
    df["cell"] = np.arange(len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = TwoStageDiD(cluster="cell", pretrends=True, rank_deficient_action="silent").fit(
            df, outcome="y", unit="unit", time="period", first_treat="first_treat", aggregate="event_study")
    untreated = df[(df.first_treat == 0) | (df.period < df.first_treat)]
    dof = max(1, len(untreated) - untreated.unit.nunique() - untreated.period.nunique() + 1)
    crit = float(stats.t.ppf(0.5 + LEVEL / 2, dof))
    te = res.treatment_effects
    te = te[te["tau_hat"].notna() & (te["weight"] > 0)]
    used = df.merge(te[["unit", "period"]], on=["unit", "period"])
    cells_mean_y = float(used["y"].mean()) if len(used) else float("nan")
    effects = res.event_study_effects or {}
    pre_p = _pretrend_p(df)
    events = []
    by_h = df.assign(h=df.period - df.first_treat)[df.first_treat > 0]
    for h in sorted(effects):
        e = effects[h]
        n = int(by_h[by_h.h == h].unit.nunique())
        if h == -1:
            events.append({"relative_month": -1, "effect": 0.0, "ci_low": None, "ci_high": None, "n_series": n})
            continue
        if not (np.isfinite(e["effect"]) and np.isfinite(e["se"])):
            continue
        events.append({"relative_month": int(h), "effect": float(e["effect"]),
                       "ci_low": float(e["effect"] - crit * e["se"]), "ci_high": float(e["effect"] + crit * e["se"]),
                       "n_series": n})
    return float(res.overall_att), float(res.overall_se), crit, cells_mean_y, pre_p, events


PRETREND_LEADS = 3  # the months just before training that the pre-trend test looks at


def _pretrend_p(df: Any) -> float | None:
    """Borusyak-Jaravel-Spiess's pre-trend test (diff-diff ImputationDiD.pretrend_test): on the
    not-yet-trained series-months, are the last PRETREND_LEADS months before each department's
    training different from the fixed-effects fit? The Wald F-test's p-value; None without leads."""
    import warnings

    from diff_diff import ImputationDiD

    before = df[(df.first_treat > 0) & (df.period < df.first_treat)]
    leads = min(PRETREND_LEADS, int((before.first_treat - before.period).max()) - 1) if len(before) else 0
    if leads < 1:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ImputationDiD(cluster="cell", rank_deficient_action="silent").fit(
            df, outcome="y", unit="unit", time="period", first_treat="first_treat")
        p = fit.pretrend_test(n_leads=leads).get("p_value")
    return float(p) if p is not None and math.isfinite(p) else None


#: The step of audit.build_fingerprints (kpi.freshness) holding what the stored estimate was
#: computed from and what was stored (see build_attribution).
FINGERPRINT_STEP = "roi/attribution"


def _inputs_digest(months: Sequence[dt.date], panel: dict[str, list[Series]], threshold: float,
                   method: str) -> str:
    """A digest of everything the estimates are a function of: the compared months, every
    series of both outcomes (values as exact float reprs), the treatment threshold, the code
    (this module, and kpi.roi_marts which writes the rows) and the versions of the estimator and
    the libraries under it (diff-diff's is in ``method``)."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    import kpi.roi_marts

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:  # the estimator's import fails, and the note says so
            return "not installed"

    series = {o: [(s.process, s.department, s.baseline, sorted(s.values.items()), s.treated_from) for s in panel[o]]
              for o in OUTCOMES}
    parts = [method, repr(list(months)), repr(threshold), repr(series),
             *(f"{name} {installed(name)}" for name in ("numpy", "pandas", "scipy")),
             Path(__file__).read_text(encoding="utf-8"), Path(kpi.roi_marts.__file__).read_text(encoding="utf-8")]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _tables_digest(con: Any) -> str:
    """A digest of both tables as stored: columns and every row (exact float reprs)."""
    import hashlib

    parts = []
    for table in (ESTIMATE_TABLE, EVENT_STUDY_TABLE):
        cur = con.execute(f"SELECT * FROM {table} ORDER BY ALL")
        parts.append(repr(([d[0] for d in cur.description], cur.fetchall())))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def build_attribution(con: Any, cfg: Any) -> dict[str, int]:
    """Replace every row of both tables; the number of rows written per table.

    The estimator (diff-diff, with pandas and scipy: ~1.5 s to import, ~0.1 s to fit) runs only
    when its inputs differ from those of the stored estimate: audit.build_fingerprints keeps (step
    :data:`FINGERPRINT_STEP`) the digest of the inputs (:func:`_inputs_digest`: the panel, the
    threshold, the code and the library versions) with the digest of both tables as written. When
    both match now, the tables already hold what the estimator gives for these inputs (it is
    deterministic: same inputs, same doubles) and are left as they are."""
    from kpi.freshness import store_fingerprint, stored_fingerprint
    from kpi.migrations import prepare
    from kpi.roi_marts import _replace

    prepare(con, ESTIMATE_TABLE)
    prepare(con, EVENT_STUDY_TABLE)
    _first, months, panel, _treated = read_panel(con, cfg)
    threshold = float(cfg.benefits.attribution_treatment_share)
    method = _method()
    inputs = _inputs_digest(months, panel, threshold, method)
    if stored_fingerprint(con, FINGERPRINT_STEP) == f"{inputs}:{_tables_digest(con)}":
        return {table: int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
                for table in (ESTIMATE_TABLE, EVENT_STUDY_TABLE)}
    estimates = [estimate_outcome(o, panel[o], months, threshold, method) for o in OUTCOMES]
    events = [e for est in estimates for e in est.event_study]
    counts = {
        ESTIMATE_TABLE: _replace(con, ESTIMATE_TABLE, ESTIMATE_COLUMNS, [e.row() for e in estimates]),
        EVENT_STUDY_TABLE: _replace(con, EVENT_STUDY_TABLE, EVENT_STUDY_COLUMNS, events),
    }
    store_fingerprint(con, FINGERPRINT_STEP, f"{inputs}:{_tables_digest(con)}")
    return counts


def read_stored_estimate(con: Any, outcome: str = "minutes_per_case") -> dict[str, Any] | None:
    """The stored row of ``marts.roi_attribution_estimate`` for the outcome (None when the
    warehouse has no such table or row: built by an earlier release). Standard library only:
    ``kpi roi --attribution measured`` calls it."""
    (exists,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name = 'roi_attribution_estimate'").fetchone()
    if not exists:
        return None
    cur = con.execute(f"SELECT {', '.join(ESTIMATE_COLUMNS)} FROM {ESTIMATE_TABLE} WHERE outcome = ?", [outcome])
    row = cur.fetchone()
    return None if row is None else dict(zip(ESTIMATE_COLUMNS, row))
