"""The entry point: warehouse -> report-<quarter>.html and charts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kpi.quarters import parse_quarter
from kpi.report.charts import build_charts, write_images
from kpi.report.collect import collect
from kpi.report.render import render_html


def build_report(warehouse: Path, quarter: str, out_dir: Path, *, cfg: Any = None, images: bool = True,
                 language: str | None = None) -> Path:
    """Write ``out_dir/report-<quarter>.html`` (and the charts as PNG/SVG under ``out_dir/charts``).

    ``cfg`` (optional) supplies the company name, k and alert thresholds when the warehouse's
    ``marts.roi_assumptions`` does not hold them. ``language`` (en, nl, de) is the report's
    language; by default the ``company.language`` the warehouse was built with (else ``cfg``'s,
    else English). A quarter not in the warehouse is a one-line :class:`UserError` listing the
    quarters available."""
    from kpi.report.i18n import check_language, use_language
    from kpi.warehouse import open_warehouse

    warehouse, out_dir = Path(warehouse), Path(out_dir)
    parse_quarter(quarter)
    if language is not None:
        language = check_language(language)
    con = open_warehouse(warehouse, read_only=True)  # every problem is one line naming the file
    try:
        data = collect(con, quarter, cfg, warehouse)
    finally:
        con.close()
    with use_language(language or data.settings.language):
        chart_list = build_charts(data)
        return write_page(out_dir, quarter, render_html(data, chart_list), chart_list, images)


def write_page(out_dir: Path, label: str, page: str, chart_list: list, images: bool) -> Path:
    """Write ``out_dir/report-<label>.html`` whole or not at all (never a truncated page) and, with
    ``images``, each chart as ``out_dir/charts/<label>-<chart>.png`` and ``.svg``."""
    from kpi.fileio import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"report-{label}.html"
    atomic_write_text(path, page)
    if images:
        write_images(chart_list, out_dir / "charts", label)
    return path
