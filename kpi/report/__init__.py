"""The quarterly review report: ONE self-contained HTML file per quarter, plus PNG/SVG charts.

``build_report(warehouse, quarter, out_dir)`` opens the warehouse READ-ONLY with one short-lived
connection, aggregates everything it shows in SQL (the charts receive a few dozen rows each),
closes the connection, then renders:

- ``out_dir/report-<quarter>.html``: opens offline (Vega, Vega-Lite and vega-embed are inlined
  once for the page; no font, stylesheet or script is fetched from anywhere);
- ``out_dir/charts/<quarter>-<chart>.png`` and ``.svg`` for slides.

Privacy: a suppressed row of the KPI marts carries no figure (docs/metrics.md, "Suppression"),
and the report never prints its group size either. Tables show such a segment as "fewer than k";
chart data holds a label only (the heatmap) or nothing at all (the trend lines), and the captions
say which segments are hidden.

The report takes no config: thresholds, k and the company name come from
``marts.roi_assumptions`` when it holds them, else from the ``cfg`` given by the pipeline, else
from the defaults of :func:`kpi.config.default_config`.

The package (docs/architecture.md, "The report package"):

- ``collect``: the warehouse -> typed sections (:class:`ReportData`), one query per file in
  ``sql/report/``;
- ``settings``: k, alert thresholds, company name;
- ``view``: what the report says (headline cards, narrative, table rows), pure functions;
- ``formatting``: how a figure is written (``fmt_pct``, ``fmt_eur``, ``metric_scale`` ...);
- ``charts``: the Vega-Lite specs (Altair builders in :mod:`kpi.charts`) and PNG/SVG files;
- ``render``: the Jinja2 environment, ``templates/`` and ``static/`` -> the page;
- ``build``: :func:`build_report`.
"""

from __future__ import annotations

from kpi.report.build import build_report
from kpi.report.charts import TORNADO_LABELS, ChartOut, build_charts, write_images
from kpi.report.collect import ROI_TABLES, ReportData, available_quarters, collect
from kpi.report.formatting import (
    DASH,
    MINUS,
    direction,
    fmt_eur,
    fmt_metric,
    fmt_num,
    fmt_pct,
    fmt_pct_value,
    fmt_pts,
    fmt_signed,
    metric_scale,
    process_label,
    segment_label,
    suppression_text,
)
from kpi.report.render import render_html
from kpi.report.settings import Settings
from kpi.report.view import (
    ASSUMPTION_FAMILIES,
    ROI_MISSING,
    assumption_lines,
    assumption_value,
    headline_cards,
    hidden_caption,
    narrative,
    roi_status,
)

__all__ = [
    "ASSUMPTION_FAMILIES", "DASH", "MINUS", "ROI_MISSING", "ROI_TABLES", "TORNADO_LABELS", "ChartOut", "ReportData",
    "Settings", "assumption_lines", "assumption_value", "available_quarters", "build_charts", "build_report",
    "collect", "direction", "fmt_eur", "fmt_metric", "fmt_num", "fmt_pct", "fmt_pct_value", "fmt_pts", "fmt_signed",
    "headline_cards", "hidden_caption", "metric_scale", "narrative", "process_label", "render_html", "roi_status",
    "segment_label", "suppression_text", "write_images",
]
