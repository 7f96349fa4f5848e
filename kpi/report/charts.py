"""The report's charts: section data -> Vega-Lite specs (via the Altair builders in kpi/charts.py),
and the PNG/SVG files for slides.

Suppressed rows carry labels only: a heatmap cell of a hidden department holds "< k" or
"withheld" and no figure, hidden target groups and tools are left out of the trend lines, and
the captions name what is hidden (:func:`kpi.report.view.hidden_caption`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpi.report.collect import ReportData
from kpi.report.formatting import percent_sign, process_label, segment_label
from kpi.report.i18n import N_, _, current_language
from kpi.report.view import hidden_caption, plan_label, roi_status

#: The tornado's assumptions (English; translated where the chart is built).
TORNADO_LABELS = {"attribution": N_("Attribution"), "confidence": N_("Confidence"), "hourly_cost": N_("Hourly cost"),
                  "cost_per_error": N_("Cost per error"), "total_cost": N_("Total cost")}
#: The competence chart's rates (English; translated where the chart is built).
COMPETENCE_METRICS = {"proficient_rate": N_("Proficient rate"), "trained_share": N_("Trained share")}


def short_month_text(month: Any) -> str:
    """A month abbreviated, in the report's language: 'Feb 2026' (en), 'feb. 2026' (nl), 'Feb. 2026' (de)."""
    from babel.dates import format_date

    from kpi.report.i18n import LOCALES

    return format_date(month, "LLL yyyy", locale=LOCALES[current_language()])


def _translated(mapping: dict[str, str]) -> dict[str, str]:
    return {key: _(value) for key, value in mapping.items()}


def _usage_trend(trend: Any) -> Any:
    """The usage trend with its metric and segment labels in the report's language (the SQL writes
    them in English: sql/report/usage_trend.sql)."""
    import polars as pl

    from kpi.charts import USAGE_METRICS

    if not trend.height:
        return trend
    segments = {s: segment_label("company", "all") if s == "Company" else _(s)
                for s in trend.get_column("segment").unique().to_list()}
    return trend.with_columns(metric=pl.col("metric").replace({m: _(m) for m in USAGE_METRICS}),
                              segment=pl.col("segment").replace(segments))


@dataclass
class ChartOut:
    name: str
    spec: dict
    caption: str = ""

    @property
    def label(self) -> str:
        """What the chart shows, for screen readers: its title, else its name."""
        title = self.spec.get("title")
        return title.get("text", self.name) if isinstance(title, dict) else self.name


def _strip_nulls(spec: dict) -> dict:
    """Drop null fields from inline dataset rows (a suppressed row carries its label, nothing
    else) and keep 12 significant digits of every number: a sum of doubles that DuckDB adds up
    in parallel may differ in its last digit from run to run, and the same warehouse must give
    the same page. Datasets are renamed after their rounded content, as Altair names them."""
    import hashlib
    import json

    def tidy(value):
        return float(f"{value:.12g}") if isinstance(value, float) else value

    renamed = {}
    datasets = spec.get("datasets") or {}
    for name in list(datasets):
        rows = [{k: tidy(v) for k, v in row.items() if v is not None} if isinstance(row, dict) else row
                for row in datasets.pop(name)]
        digest = hashlib.md5(json.dumps(rows, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
        renamed[name] = f"data-{digest}"
        datasets[renamed[name]] = rows
    if renamed:
        text = json.dumps(spec)
        for old, new in renamed.items():
            text = text.replace(f'"{old}"', f'"{new}"')
        spec = json.loads(text)
    return spec


def _spec(chart: Any) -> dict:
    return _strip_nulls(chart.to_dict())


def build_charts(d: ReportData) -> list[ChartOut]:
    import polars as pl

    from kpi import charts

    k = d.settings.k
    out: list[ChartOut] = []
    u = d.usage
    hidden_tg = [h for h in u.hidden if h.segment_type == "target_group"]
    quarters = d.quarters
    out.append(ChartOut("usage_rates", _spec(charts.usage_rates(_usage_trend(u.trend), quarters=quarters)),
                        hidden_caption(hidden_tg, k, "people")))
    heat = u.heat
    if heat.height:
        heat = heat.with_columns(
            label=pl.when(pl.col("suppressed"))
            .then(pl.when(pl.col("reason") == "complementary").then(pl.lit(_("withheld")))
                  .otherwise(pl.lit(f"< {k}")))
            .otherwise((pl.col("active_user_rate") * 100).round(0).cast(pl.Int64).cast(pl.String) + percent_sign())
        ).drop("reason")
        hidden_dep = [h for h in u.hidden if h.segment_type == "department"]
        out.append(ChartOut("usage_departments", _spec(charts.department_heatmap(heat, k)),
                            hidden_caption(hidden_dep, k, "people")
                            or _("Every department had at least %(k)s people in every quarter shown.", k=k)))
    if u.tools.height:
        hidden_tools = [h for h in u.hidden if h.segment_type == "tool"]
        out.append(ChartOut("tool_adoption", _spec(charts.tool_adoption(u.tools, quarters)),
                            hidden_caption(hidden_tools, k, "active users")))
    c = d.competence
    if c.trend.height:
        scores = c.trend.select("quarter", "skill_score").drop_nulls()
        rates = c.trend.unpivot(index="quarter", on=["proficient_rate", "trained_share"], variable_name="metric",
                                value_name="value").drop_nulls().with_columns(
            metric=pl.col("metric").replace(_translated(COMPETENCE_METRICS)))
        out.append(ChartOut("competence", _spec(charts.competence_trend(scores, rates, quarters))))
    cohorts = d.learning.cohorts
    if cohorts is not None and cohorts.height:
        out.append(ChartOut("learning_cohorts", _spec(charts.cohort_curve(cohorts)),
                            _("Read each month with the number of people behind it: the later months rest on "
                              "the earliest-trained only.")))
    b = d.business
    company = b.company.filter(pl.col("hours_saved").is_not_null())
    if company.height:
        hours = company.select("quarter", "hours_saved")
        savings = company.unpivot(index="quarter", on=["time_savings_eur", "quality_savings_eur"],
                                  variable_name="component", value_name="eur").drop_nulls().with_columns(
            component=pl.col("component").replace(dict(zip(("time_savings_eur", "quality_savings_eur"),
                                                           (_(c) for c in charts.SAVINGS_COMPONENTS)))))
        out.append(ChartOut("business_savings", _spec(charts.business_savings(hours, savings, quarters))))
    errors = [r for r in b.processes if r.error_rate is not None or r.baseline_error_rate is not None]
    if errors:
        rows = []
        for r in errors:
            label = f"{process_label(r.process)} ({r.department})"
            if r.baseline_error_rate is not None:
                rows.append({"process": label, "period": _("Baseline"), "error_rate": r.baseline_error_rate})
            if r.error_rate is not None:
                rows.append({"process": label, "period": d.quarter, "error_rate": r.error_rate})
        out.append(ChartOut("business_errors", _spec(charts.error_rates(pl.DataFrame(rows), d.quarter))))
    cu = d.culture
    if cu.wave:
        if cu.trend is not None and cu.trend.height:
            out.append(ChartOut("culture_favorability", _spec(charts.culture_favorability(cu.trend, cu.waves))))
        if cu.change is not None and cu.change.height:
            out.append(ChartOut("culture_change", _spec(charts.culture_change(cu.change, cu.wave, cu.previous_wave))))
    r = d.roi
    if r.row is not None and r.monthly is not None and r.monthly.height:
        monthly = r.monthly.unpivot(index=["month", "m"], on=["cum_costs", "cum_benefits"], variable_name="series",
                                    value_name="eur").with_columns(
            series=pl.col("series").replace(dict(zip(("cum_costs", "cum_benefits"),
                                                     (_(series) for series in charts.ROI_SERIES)))))
        break_even = None
        row = r.row
        if row.break_even_month is not None:
            month = r.month_of.get(row.break_even_month)
            break_even = pl.DataFrame([{"month": month.isoformat(),
                                        "label": _("Break-even: month %(month)s (%(date)s)",
                                                   month=row.break_even_month, date=short_month_text(month))}])
        out.append(ChartOut("roi_cumulative", _spec(charts.roi_cumulative(monthly.drop("m"), break_even,
                                                                          roi_status(d)))))
    study = r.event_study
    study = study.filter(pl.col("outcome") == "minutes_per_case") if study is not None else None
    if study is not None and study.height:
        out.append(ChartOut("roi_event_study", _spec(charts.event_study(study)),
                            _("Before 0 the line should stay near zero (no effect before the training: the trends "
                              "were parallel); after 0 it shows the training's effect, over fewer departments the "
                              "further out it goes.")))
    sens = [s for s in r.sensitivity if s.assumption != "scenario" and s.roi_pct is not None]
    if sens and r.horizon and r.horizon.roi_pct is not None:
        low, high = charts.move_labels()
        frame = pl.DataFrame([{"assumption": _(TORNADO_LABELS[s.assumption]) if s.assumption in TORNADO_LABELS
                               else s.assumption,
                               "case": low if s.case == "low" else high,
                               "roi_pct": s.roi_pct, "order": i} for i, s in enumerate(sens)])
        out.append(ChartOut("roi_tornado", _spec(charts.tornado(frame, r.horizon.roi_pct))))
    if r.plan:
        rows = []
        for p in r.plan:
            label = plan_label(p.category)
            plan, actual = (_(kind) for kind in charts.PLAN_KINDS)
            rows += [{"category": label, "kind": plan, "eur": p.plan_eur},
                     {"category": label, "kind": actual, "eur": p.actual_eur}]
        out.append(ChartOut("budget_plan_vs_actual", _spec(charts.plan_vs_actual(pl.DataFrame(rows)))))
    return out


def write_images(chart_list: list[ChartOut], folder: Path, quarter: str) -> list[Path]:
    """Each chart as ``<quarter>-<name>.svg`` and ``.png`` (2x) in ``folder``, for slides."""
    import vl_convert as vlc

    from kpi.fileio import atomic_write_bytes, atomic_write_text
    from kpi.report.i18n import current_language, format_locale, time_format_locale

    language = current_language()
    locales: dict[str, Any] = {"format_locale": format_locale(language)}
    if language != "en":
        locales["time_format_locale"] = time_format_locale(language)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for c in chart_list:
        svg = folder / f"{quarter}-{c.name}.svg"
        atomic_write_text(svg, vlc.vegalite_to_svg(c.spec, **locales))
        png = folder / f"{quarter}-{c.name}.png"
        atomic_write_bytes(png, vlc.vegalite_to_png(c.spec, scale=2, **locales))
        written += [svg, png]
    return written
