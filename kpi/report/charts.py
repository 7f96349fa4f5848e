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
from kpi.report.formatting import process_label
from kpi.report.view import hidden_caption, plan_label, roi_status

TORNADO_LABELS = {"attribution": "Attribution", "confidence": "Confidence", "hourly_cost": "Hourly cost",
                  "cost_per_error": "Cost per error", "total_cost": "Total cost"}


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
    out.append(ChartOut("usage_rates", _spec(charts.usage_rates(u.trend, quarters=quarters)),
                        hidden_caption(hidden_tg, k, "people")))
    heat = u.heat
    if heat.height:
        heat = heat.with_columns(
            label=pl.when(pl.col("suppressed"))
            .then(pl.when(pl.col("reason") == "complementary").then(pl.lit("withheld")).otherwise(pl.lit(f"< {k}")))
            .otherwise((pl.col("active_user_rate") * 100).round(0).cast(pl.Int64).cast(pl.String) + " %")
        ).drop("reason")
        hidden_dep = [h for h in u.hidden if h.segment_type == "department"]
        out.append(ChartOut("usage_departments", _spec(charts.department_heatmap(heat, k)),
                            hidden_caption(hidden_dep, k, "people")
                            or f"Every department had at least {k} people in every quarter shown."))
    if u.tools.height:
        hidden_tools = [h for h in u.hidden if h.segment_type == "tool"]
        out.append(ChartOut("tool_adoption", _spec(charts.tool_adoption(u.tools, quarters)),
                            hidden_caption(hidden_tools, k, "active users")))
    c = d.competence
    if c.trend.height:
        scores = c.trend.select("quarter", "skill_score").drop_nulls()
        rates = c.trend.unpivot(index="quarter", on=["proficient_rate", "trained_share"], variable_name="metric",
                                value_name="value").drop_nulls().with_columns(
            metric=pl.col("metric").replace({"proficient_rate": "Proficient rate", "trained_share": "Trained share"}))
        out.append(ChartOut("competence", _spec(charts.competence_trend(scores, rates, quarters))))
    cohorts = d.learning.cohorts
    if cohorts is not None and cohorts.height:
        out.append(ChartOut("learning_cohorts", _spec(charts.cohort_curve(cohorts)),
                            "Read each month with the number of people behind it: the later months rest on the "
                            "earliest-trained only."))
    b = d.business
    company = b.company.filter(pl.col("hours_saved").is_not_null())
    if company.height:
        hours = company.select("quarter", "hours_saved")
        savings = company.unpivot(index="quarter", on=["time_savings_eur", "quality_savings_eur"],
                                  variable_name="component", value_name="eur").drop_nulls().with_columns(
            component=pl.col("component").replace({"time_savings_eur": "Time savings",
                                                   "quality_savings_eur": "Quality savings"}))
        out.append(ChartOut("business_savings", _spec(charts.business_savings(hours, savings, quarters))))
    errors = [r for r in b.processes if r.error_rate is not None or r.baseline_error_rate is not None]
    if errors:
        rows = []
        for r in errors:
            label = f"{process_label(r.process)} ({r.department})"
            if r.baseline_error_rate is not None:
                rows.append({"process": label, "period": "Baseline", "error_rate": r.baseline_error_rate})
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
            series=pl.col("series").replace({"cum_costs": "Cumulative costs", "cum_benefits": "Cumulative benefits"}))
        break_even = None
        row = r.row
        if row.break_even_month is not None:
            month = r.month_of.get(row.break_even_month)
            break_even = pl.DataFrame([{"month": month.isoformat(),
                                        "label": f"Break-even: month {row.break_even_month} ({month:%b %Y})"}])
        out.append(ChartOut("roi_cumulative", _spec(charts.roi_cumulative(monthly.drop("m"), break_even,
                                                                          roi_status(d)))))
    study = r.event_study
    study = study.filter(pl.col("outcome") == "minutes_per_case") if study is not None else None
    if study is not None and study.height:
        out.append(ChartOut("roi_event_study", _spec(charts.event_study(study)),
                            "Before 0 the line should stay near zero (no effect before the training: the trends "
                            "were parallel); after 0 it shows the training's effect, over fewer departments the "
                            "further out it goes."))
    sens = [s for s in r.sensitivity if s.assumption != "scenario" and s.roi_pct is not None]
    if sens and r.horizon and r.horizon.roi_pct is not None:
        frame = pl.DataFrame([{"assumption": TORNADO_LABELS.get(s.assumption, s.assumption),
                               "case": "−20 %" if s.case == "low" else "+20 %",
                               "roi_pct": s.roi_pct, "order": i} for i, s in enumerate(sens)])
        out.append(ChartOut("roi_tornado", _spec(charts.tornado(frame, r.horizon.roi_pct))))
    if r.plan:
        rows = []
        for p in r.plan:
            label = plan_label(p.category)
            rows += [{"category": label, "kind": "Plan", "eur": p.plan_eur},
                     {"category": label, "kind": "Actual", "eur": p.actual_eur}]
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
