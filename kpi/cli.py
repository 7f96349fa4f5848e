"""The `kpi` command line. Heavy libraries are imported inside the commands so that
`kpi --help` and `kpi roi` start fast."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kpi.errors import UserError

app = typer.Typer(
    help="KPI pipeline and ROI calculator for AI-training programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LANGUAGE_HELP = "The report's language: en, nl or de (default: company.language of the config, else en)."


def _language_option(language: str | None) -> str | None:
    """--language checked before any work (one line naming the languages available)."""
    if language is None:
        return None
    from kpi.report.i18n import check_language

    try:
        return check_language(language)
    except UserError as exc:
        from kpi.config import LANGUAGES

        raise UserError(f"--language {language}: not available; use one of {', '.join(LANGUAGES)}") from exc


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="Folder to write the inputs into."),
    employees: int = typer.Option(180, "--employees", min=10, help="Number of employees."),
    months: int = typer.Option(21, "--months", min=1, max=120, help="Programme months from the start."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed writes the same bytes."),
    start: str = typer.Option("2025-01-01", "--start", help="Programme start (first day of a month)."),
) -> None:
    """Write a synthetic company's inputs (every supported format) and its config."""
    from datetime import date

    from kpi.synthetic import generate_company

    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        raise UserError(f"--start {start}: not a date; use the form 2025-01-01") from None
    if start_date.day != 1:
        raise UserError(f"--start {start}: the programme starts on the first day of a month, e.g. "
                        f"{start_date.replace(day=1)}")
    summary = generate_company(out, employees=employees, months=months, seed=seed, start=start_date)
    _print_written(out, summary)


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo"), "--out", help="Folder for inputs, warehouse and report."),
) -> None:
    """Generate the demo company and run the whole pipeline on it."""
    from kpi.synthetic import generate_company

    inputs = out / "inputs"
    warehouse = out / "warehouse.duckdb"
    _log_beside(warehouse)
    summary = generate_company(inputs)
    _print_written(inputs, summary)
    _run(inputs, inputs / "config.yaml", warehouse, None, allow_development_key=True)
    from kpi.export import export_aggregates

    shared = export_aggregates(warehouse, out / "aggregates.duckdb")  # what the notebooks open
    typer.echo(f"Aggregates (no person-level row; for notebooks and sharing): {shared.out}")


@app.command()
def run(
    inputs: Path = typer.Option(..., "--inputs", help="The inputs folder."),
    config: Path = typer.Option(..., "--config", help="The programme config YAML."),
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse file (created if missing)."),
    quarter: str | None = typer.Option(None, "--quarter", help="Only this quarter (YYYY-Qn)."),
    no_report: bool = typer.Option(False, "--no-report",
                                   help="Build everything but the quarterly report (write it later with kpi report)."),
    language: str | None = typer.Option(None, "--language", help=LANGUAGE_HELP),
) -> None:
    """Run the pipeline in-process: ingest, KPI marts per quarter, snapshots, alerts, ROI, report."""
    import os

    _run(inputs, config, warehouse, quarter, allow_development_key=os.environ.get("KPI_ALLOW_DEVELOPMENT_KEY") == "1",
         report=not no_report, language=language)


def _run(inputs: Path, config: Path, warehouse: Path, quarter: str | None, allow_development_key: bool,
         report: bool = True, language: str | None = None) -> None:
    import re

    from rich.console import Console

    from kpi.run_status import closed_quarters, not_rebuilt_quarters, restated_quarters
    from pipelines.run import run_pipeline

    _log_beside(warehouse)
    if quarter is not None and not re.fullmatch(r"\d{4}-Q[1-4]", quarter):
        raise UserError(f"--quarter {quarter}: not a quarter label; use the form 2025-Q3")
    language = _language_option(language)
    console = Console(stderr=True)
    with console.status("starting ...") as status:
        def progress(message: str) -> None:  # one line each, never wrapped (scripts and tests read them)
            status.update(message)
            console.print(f"[dim]- {message}[/dim]", soft_wrap=True)

        summary = run_pipeline(inputs, config, warehouse, quarter, allow_development_key, report=report,
                               validation_process=True, progress=progress, language=language)
    out = Console(soft_wrap=True)
    out.print(f"[bold]Warehouse[/bold] {warehouse}")
    if summary.upgrades:
        out.print(f"Upgraded the warehouse to this release's schema: {'; '.join(summary.upgrades)}")
    out.print(f"Inputs: {summary.files_ingested} files, {summary.rows_read:,} rows read")
    for line in summary.fetched:  # kpi fetch configured: where each source stands (audit.fetch_log)
        out.print(line, markup=False)
    closed = closed_quarters(summary.snapshots)
    unchanged = not_rebuilt_quarters(summary.snapshots)
    built = [q for q in summary.quarters if q not in unchanged]
    out.print(f"Quarters built: {', '.join(built) or 'none'}")
    if unchanged:
        out.print(f"Quarters unchanged since the last run (not rebuilt): {', '.join(unchanged)}")
    out.print(f"Quarters closed: {', '.join(closed) or 'none'}")
    for q in restated_quarters(summary.snapshots):
        out.print(f"  {q}: {summary.snapshots[q].describe()}")
    quarantined = ", ".join(f"{reason} {n:,}" for reason, n in summary.quarantined.items())
    out.print(f"Quarantined rows by reason: {quarantined or 'none'} (details: audit.quarantine)")
    _concealed_hint(summary.quarantined)
    if summary.alerts:
        out.print(f"[bold yellow]Alerts ({len(summary.alerts)}):[/bold yellow]")
        for alert in summary.alerts:
            out.print(f"  - {alert}")
    else:
        out.print("Alerts: none")
    if summary.roi_pct is not None:
        out.print(_roi_headline(summary))
    if summary.report_path:
        typer.echo(f"Report: {summary.report_path}")


def _roi_headline(summary) -> str:
    def money(value):
        return "n/a" if value is None else f"EUR {value:,.0f}"

    def pct(value):
        return "n/a (fewer than 12 months)" if value is None else f"{value:.1f} %"

    if summary.break_even_month is None:
        break_even = "not broken even yet"
    else:
        break_even = f"break-even in month {summary.break_even_month}, payback {summary.payback_months:.1f} months"
    return (f"ROI to date: {summary.roi_pct:.1f} % ({break_even}); NPV {money(summary.npv)}; "
            f"year-1 ROI {pct(summary.year1_roi_pct)}. What-ifs: kpi roi --warehouse <file> --attribution 0.3")


@app.command()
def fetch(
    inputs: Path = typer.Option(..., "--inputs", help="The inputs folder (writes usage/github/ and usage/m365/)."),
    config: Path = typer.Option(..., "--config", help="The programme config YAML, with its fetch: section."),
    since: str | None = typer.Option(
        None, "--since", help="GitHub: every missing day from this date (YYYY-MM-DD); default: the last fetched day."),
) -> None:
    """Download the missing usage reports from the vendors' APIs into the inputs folder."""
    from kpi.fetch import run_fetch  # httpx is imported when the fetch starts, not at start-up

    run_fetch(inputs, config, since, say=typer.echo)


@app.command()
def validate(
    inputs: Path = typer.Option(..., "--inputs",
                                help="The inputs folder (hr/, usage/, surveys/, finance/, business/)."),
    config: Path = typer.Option(..., "--config", help="The programme config YAML."),
) -> None:
    """Check every input without writing the warehouse: rows read, would load, would quarantine and why.

    Exits with status 2 when `kpi run` would stop on an input (each reason on an `error:` line)."""
    import secrets

    import duckdb

    from kpi.config import load_config
    from kpi.ingest import InputChecks, ingest_inputs

    cfg = load_config(config)
    con = duckdb.connect(":memory:")
    # Pseudonyms are not kept: a throw-away key is enough and needs no secret from the user.
    # Every file is checked: a whole-file problem that stops `kpi run` is collected, not raised.
    checks = InputChecks.from_config(cfg, stop_on_fatal=False, echo=False)
    result = ingest_inputs(con, inputs, cfg, secrets.token_bytes(32), checks=checks)
    match = dict(con.sql(
        "SELECT file, string_agg(reason || ' ' || n, ', ' ORDER BY reason) FROM "
        "(SELECT file, reason, count(*) AS n FROM audit.quarantine WHERE stage = 'match' GROUP BY ALL) GROUP BY file"
    ).fetchall())
    con.close()
    _print_validation(result, match)
    if result.fatal:
        raise typer.Exit(UserError.exit_code)


def _print_validation(result, match: dict[str, str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Inputs check (nothing written)", title_justify="left")
    for column, justify in (("file", "left"), ("format", "left"), ("rows read", "right"),
                            ("would load", "right"), ("would quarantine", "right"), ("why", "left")):
        table.add_column(column, justify=justify)
    for report in result.files:
        why = ", ".join(f"{reason} {n}" for reason, n in report.quarantine_reasons.items())
        if report.skipped:
            why = f"same content as {report.same_as}: counted once" if report.same_as else "already ingested: skipped"
        if report.file in match:
            why = "; ".join(filter(None, [why, f"at matching: {match[report.file]}"]))
        if report.chars_replaced:
            why = "; ".join(filter(None, [why, f"{report.chars_replaced} undecodable characters replaced"]))
        table.add_row(report.file, report.format, f"{report.rows_read:,}", f"{report.rows_loaded:,}",
                      f"{report.rows_quarantined:,}", why or "-")
    Console(width=160).print(table)
    total = result.quarantined_by_reason
    typer.echo("quarantined by reason: " + (", ".join(f"{k} {v:,}" for k, v in total.items()) or "none"))
    for warning in result.warnings:
        typer.echo(f"warning: {warning.detail}")
    _concealed_hint(total, warned=any(w.warning == "concealed_identity" for w in result.warnings))
    for line in result.fatal:  # what would stop kpi run
        typer.echo(f"error: {line}", err=True)


def _concealed_hint(quarantined: dict[str, int], warned: bool = False) -> None:
    """The admin setting to change when rows were quarantined as concealed (unless a per-file
    warning already said it)."""
    if quarantined.get("concealed_identity") and not warned:
        from kpi.ingest import CONCEALED_IDENTITY_HINT

        rows = quarantined["concealed_identity"]
        typer.echo(f"note: {rows:,} rows have concealed user names. {CONCEALED_IDENTITY_HINT}")


def _print_written(out: Path, summary: dict) -> None:
    """What the generator wrote: files and rows per folder (a company has hundreds of files)."""
    from rich.console import Console
    from rich.table import Table

    folders: dict[str, list[int]] = {}
    for name, rows in summary.get("files", {}).items():
        folder = name.rsplit("/", 1)[0] if "/" in name else "."
        folders.setdefault(folder, [0, 0])
        folders[folder][0] += 1
        folders[folder][1] += rows
    table = Table(title=f"Wrote {out}", title_justify="left")
    for column, justify in (("folder", "left"), ("files", "right"), ("rows", "right")):
        table.add_column(column, justify=justify)
    for folder, (files, rows) in sorted(folders.items()):
        table.add_row(folder, f"{files:,}", f"{rows:,}")
    Console(soft_wrap=True).print(table)
    company, window = summary.get("company"), summary.get("window")
    if company and window:
        employees = summary.get("employees")
        typer.echo(f"{company}: {employees} employees at the start, data from {window[0]} to {window[1]}")


# --------------------------------------------------------------------------------------------
# kpi roi: ROI figures from the warehouse, with what-if overrides (docs/roi.md)
# --------------------------------------------------------------------------------------------

_ROI_FORMATS = ("table", "json", "csv")
_ROI_NOT_ADDED = ("estimate from tool interactions x benefits.time_saved_minutes_per_interaction; "
                  "never added to benefits, ROI, BCR, payback or NPV")


@app.command()
def roi(
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse written by kpi run."),
    attribution: str | None = typer.Option(
        None, "--attribution", help="Use this attribution (0-1) instead of benefits.attribution, or 'measured': "
        "the estimate of marts.roi_attribution_estimate, its 95 % interval as the low/high scenarios."),
    confidence: float | None = typer.Option(
        None, "--confidence", help="Use this confidence (0-1) instead of benefits.confidence."),
    hourly_cost_scale: float | None = typer.Option(
        None, "--hourly-cost-scale", help="Multiply every hourly cost (time savings and participant time) by X."),
    cost_scale: float | None = typer.Option(
        None, "--cost-scale", help="Multiply every cost (ledger and participant time) by X."),
    output_format: str = typer.Option("table", "--format", help="table, json or csv (the monthly table)."),
    export: Path | None = typer.Option(
        None, "--export", help="Also write the tables to FILE.xlsx (one sheet each) or FILE.csv (monthly)."),
    by: str | None = typer.Option(
        None, "--by", help="department or process: the ROI of each (marts.roi_by_segment), as built by kpi run."),
) -> None:
    """ROI, BCR, break-even, payback, NPV and year-1 ROI from the warehouse, with what-if overrides."""
    measured = _roi_measured(warehouse) if attribution == "measured" else None
    attribution_value = measured["attribution"] if measured else _roi_number("--attribution", attribution)
    overrides = _roi_overrides(attribution_value, confidence, hourly_cost_scale, cost_scale)
    if output_format not in _ROI_FORMATS:
        raise UserError(f"--format {output_format}: not a format; use one of {', '.join(_ROI_FORMATS)}")
    if by is not None:
        _roi_by(warehouse, by, overrides, output_format, export)
        return
    if export is not None and export.suffix.lower() not in (".xlsx", ".csv"):
        raise UserError(f"--export {export}: unknown file type; give a file name ending in .xlsx or .csv")
    xlsx = export is not None and export.suffix.lower() == ".xlsx"
    stored = _roi_read(warehouse, workbook_lines=xlsx)
    if measured:  # the estimate's interval as the low and high scenarios
        stored.scenarios.update(measured["scenarios"])
    result = _roi_compute(stored, overrides)
    if output_format == "json":
        import json

        answer = _roi_json(result, warehouse) | ({"measured_attribution": measured["row"]} if measured else {})
        typer.echo(json.dumps(answer, indent=2, default=_roi_json_default))
    elif output_format == "csv":
        import io

        buffer = io.StringIO()
        _roi_write_csv(buffer, result["monthly_columns"], result["monthly"])
        sys.stdout.write(buffer.getvalue())
    else:
        typer.echo((measured["line"] + "\n" if measured else "") + _roi_text(result, warehouse))
    if export is not None:
        written = _roi_export(export, result)
        typer.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)


def _roi_by(warehouse: Path, by: str, overrides: dict[str, float], output_format: str, export: Path | None) -> None:
    """kpi roi --by department|process: the stored segment rows (what-ifs need a kpi run)."""
    from kpi.roi_segments import segments_text, stored_segments

    if by not in ("department", "process"):
        raise UserError(f"--by {by}: not allowed; give department or process")
    if overrides or export is not None:
        given = ", ".join([*(f"--{k.replace('_', '-')}" for k in overrides), *(["--export"] if export else [])])
        raise UserError(f"--by shows the ROI per {by} as kpi run built it, with the configured assumptions; leave "
                        f"out {given} (or change the config and run kpi run again)")
    if not warehouse.exists():
        raise UserError(f"{warehouse}: warehouse not found; run kpi run first")
    rows = stored_segments(warehouse, by)
    if output_format == "json":
        import json

        typer.echo(json.dumps({"warehouse": str(warehouse), "by": by, "segments": rows}, indent=2, default=str))
    elif output_format == "csv":
        import io

        buffer = io.StringIO()
        _roi_write_csv(buffer, list(rows[0]) if rows else [], rows)
        sys.stdout.write(buffer.getvalue())
    else:
        typer.echo(segments_text(rows, by))


def _roi_number(flag: str, text: str | None) -> float | None:
    """A what-if flag given as text (--attribution also takes 'measured')."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise UserError(f"{flag} {text}: not allowed; give a number between 0 and 1 (0.5 = half of the measured "
                        "improvement is the training's), or measured (the estimate from the rollout)") from None


def _roi_measured(warehouse: Path) -> dict:
    """kpi roi --attribution measured: the stored estimate (minutes per case, docs/roi.md "Measured
    attribution") as the attribution, capped to 0..1, its interval as the scenarios measured_low and
    measured_high; one line naming why when there is none."""
    from kpi.attribution import read_stored_estimate
    from kpi.warehouse import open_warehouse

    if not warehouse.exists():
        raise UserError(f"{warehouse}: warehouse not found; run kpi run first "
                        f"(kpi run --inputs DIR --config FILE --warehouse {warehouse})")
    con = open_warehouse(warehouse, read_only=True)
    try:
        row = read_stored_estimate(con)
    finally:
        con.close()
    if row is None:
        raise UserError(f"--attribution measured: {warehouse} has no measured attribution "
                        "(marts.roi_attribution_estimate); run kpi run with this release to estimate it")
    if row["estimate"] is None:
        raise UserError(f"--attribution measured: no estimate in {warehouse}: {row['note']}")
    used = min(1.0, max(0.0, row["estimate"]))
    scenarios = {}
    if used > 0:
        scenarios = {"measured_low": {"attribution": max(0.0, row["ci_low"]) / used, "benefits": 1.0, "costs": 1.0},
                     "measured_high": {"attribution": min(1.0, row["ci_high"]) / used, "benefits": 1.0, "costs": 1.0}}
    capped = "" if used == row["estimate"] else f"; used {used:g}: attribution lies in 0..1"
    line = (f"Attribution measured from the rollout (minutes per case, {row['method']}): {row['estimate']:.2f}, "
            f"95 % interval {row['ci_low']:.2f} to {row['ci_high']:.2f}{capped}; the interval is the "
            "measured_low / measured_high scenario")
    return {"attribution": used, "scenarios": scenarios, "row": row, "line": line}


def _roi_overrides(attribution, confidence, hourly_cost_scale, cost_scale) -> dict[str, float]:
    """The what-if flags given, checked: one-line errors naming the flag."""
    import math

    given: dict[str, float] = {}
    for flag, field, value, example in (
            ("--attribution", "attribution", attribution, "0.5 = half of the measured improvement is the training's"),
            ("--confidence", "confidence", confidence, "0.8 = 80 % confident in the attribution")):
        if value is None:
            continue
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise UserError(f"{flag} {value:g}: not allowed; give a number between 0 and 1 ({example})")
        given[field] = float(value)
    for flag, field, value in (("--hourly-cost-scale", "hourly_cost_scale", hourly_cost_scale),
                               ("--cost-scale", "cost_scale", cost_scale)):
        if value is None:
            continue
        if not math.isfinite(value) or value <= 0.0:
            raise UserError(f"{flag} {value:g}: not allowed; give a multiplier greater than 0 (1 = as measured, "
                            "1.2 = 20 % more)")
        given[field] = float(value)
    return given


def _roi_read(warehouse: Path, workbook_lines: bool = False):
    """The stored ROI series and assumptions, through a short-lived read-only connection."""
    from kpi.roi_marts import missing_roi_tables, read_stored_roi
    from kpi.warehouse import open_warehouse

    _log_beside(warehouse)
    if not warehouse.exists():
        raise UserError(f"{warehouse}: warehouse not found; run kpi run first "
                        f"(kpi run --inputs DIR --config FILE --warehouse {warehouse})")
    con = open_warehouse(warehouse, read_only=True)  # busy, a folder, not DuckDB: one line naming the file
    try:
        missing = missing_roi_tables(con)
        if missing:
            raise UserError(f"{warehouse}: has no ROI tables ({', '.join(missing)}); run kpi run first to build them")
        stored = read_stored_roi(con)
        if workbook_lines:  # the lines behind the series, for the workbook's Ledger and Benefits sheets
            from kpi.roi_workbook import read_lines

            stored.workbook_lines = read_lines(con, stored)
        return stored
    finally:
        con.close()


def _roi_compute(stored, overrides: dict[str, float]) -> dict:
    """Every figure with the overrides applied: summary, monthly, quarterly, tornado, scenarios."""
    from kpi.roi import QUARTERLY_COLUMNS, break_even_attribution_status, quarterly_table, sensitivity, summary
    from kpi.roi_marts import MONTHLY_TABLE_COLUMNS, monthly_rows

    a = stored.assumptions.replace(**overrides)
    series = stored.series
    s = summary(series, a)
    be_month = next((mo.month for mo in series if mo.m == s.break_even_month), None)
    return {
        "stored": stored,
        "assumptions": a,
        "overrides": overrides,
        "summary": s,
        "break_even_calendar_month": be_month.strftime("%Y-%m") if be_month else None,
        # solved | negative (ROI < 0 at every attribution in [0, 1]) | undefined (no ROI to break even)
        "break_even_attribution_status": {"horizon": break_even_attribution_status(series, a)[1],
                                          "year1": break_even_attribution_status(series, a, year1=True)[1]},
        "monthly_columns": MONTHLY_TABLE_COLUMNS,
        "monthly": monthly_rows(series, a),
        "quarterly_columns": QUARTERLY_COLUMNS,
        "quarterly": quarterly_table(series, a),
        "sensitivity": sensitivity(series, a, stored.scenarios),
    }


_ROI_OVERRIDE_KEYS = {"benefits.attribution": "attribution", "benefits.confidence": "confidence"}
_ROI_WHAT_IF = (
    ("what_if.hourly_cost_scale", "hourly_cost_scale", "--hourly-cost-scale",
     "Every hourly cost x this: time savings and participant time move together."),
    ("what_if.cost_scale", "cost_scale", "--cost-scale", "Every cost (ledger and participant time) x this."),
)


def _roi_assumption_table(result) -> list[dict]:
    """The stored assumptions with the values used (overrides marked), then the what-if scales."""
    overrides, a = result["overrides"], result["assumptions"]
    rows = []
    for row in result["stored"].assumption_rows:
        field = _ROI_OVERRIDE_KEYS.get(row["name"])
        overridden = field in overrides
        used = overrides[field] if overridden else row["value"]
        rows.append({"name": row["name"], "value": used,
                     "value_text": f"{used:g}" if overridden else row["value_text"],
                     "configured": row["value"], "unit": row["unit"], "source": "--" + field if overridden
                     else row["source"], "overridden": overridden, "explanation": row["explanation"]})
    for name, field, flag, explanation in _ROI_WHAT_IF:
        used = getattr(a, field)
        rows.append({"name": name, "value": used, "value_text": f"{used:g}", "configured": 1.0, "unit": "multiplier",
                     "source": flag if field in result["overrides"] else "default",
                     "overridden": field in result["overrides"], "explanation": explanation})
    return rows


def _roi_json_default(value):
    import datetime as dt

    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _roi_json(result, warehouse: Path) -> dict:
    s = result["summary"]
    return {
        "warehouse": str(warehouse),
        "currency": result["stored"].currency,
        **s.as_dict(),
        "break_even_calendar_month": result["break_even_calendar_month"],
        "break_even_attribution_status": result["break_even_attribution_status"],
        "estimated_benefits_note": _ROI_NOT_ADDED,
        "overrides": result["overrides"],
        "assumption_rows": _roi_assumption_table(result),
        "tornado": [r for r in result["sensitivity"] if r["assumption"] != "scenario"],
        "scenarios": [r for r in result["sensitivity"] if r["assumption"] == "scenario"],
        "plan_vs_actual": result["stored"].plan_vs_actual,
    }


def _roi_write_csv(handle, columns, rows) -> None:
    import csv

    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_roi_csv_cell(row.get(c)) for c in columns])


def _roi_csv_cell(value):
    import datetime as dt

    from kpi.export import safe_cell

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_cell(value)  # text a spreadsheet would run as a formula gets a leading '


def _roi_text(result, warehouse: Path) -> str:
    """The human-readable answer: assumptions, figures, the estimate apart, tornado, scenarios."""
    s, a, cur = result["summary"], result["assumptions"], result["stored"].currency
    series = result["stored"].series

    def money(x):
        return "n/a" if x is None else f"{x:,.2f} {cur}"

    def pct(x):
        return "n/a" if x is None else f"{x:.1f} %"

    def months(x):
        return "not reached" if x is None else f"{x:.2f} months"

    lines = [f"ROI of the AI-training programme: {warehouse}"]
    if not series:
        lines.append("The ROI series is empty: no cost or process data from program.start on (see docs/roi.md).")
    else:
        lines.append(f"Series: months 1-{s.m} ({series[0].month:%Y-%m} to {s.month:%Y-%m}); "
                     f"figures at horizon (month {s.m})")
    lines += ["", "Assumptions (* = what-if override of this command)"]
    shown = [row for row in _roi_assumption_table(result)
             # scenario multipliers are shown with the scenarios; budget rows belong to plan vs actual
             if not row["name"].startswith(("roi.scenarios.", "program.budget_", "headcount_at_start"))]
    width = max(len(row["name"]) for row in shown)
    for row in shown:
        mark = "*" if row["overridden"] else " "
        note = f"{row['source']} (configured {row['configured']:g})" \
            if row["overridden"] and row["name"] in _ROI_OVERRIDE_KEYS else row["source"]
        lines.append(f" {mark} {row['name']:<{width}} {row['value_text']:>10} {row['unit']:<11} {note}")
    factor = a.effective_attribution * a.effective_confidence
    be = "not reached" if s.break_even_month is None else \
        f"{s.break_even_month} ({result['break_even_calendar_month']})"
    figures = [
        ("Cumulative costs", money(s.cum_costs), ""),
        ("Cumulative benefits", money(s.cum_benefits),
         f"= gross {money(s.cum_gross_benefits)} x attribution {a.effective_attribution:g}"
         f" x confidence {a.effective_confidence:g} ({factor:g})"),
        ("ROI", pct(s.roi_pct), "(benefits - costs) / costs"),
        ("Benefit-cost ratio (BCR)", "n/a" if s.bcr is None else f"{s.bcr:.2f}", "benefits / costs"),
        ("Break-even month", be, "first month with cumulative benefits >= costs"),
        ("Payback", months(s.payback_months), ""),
        ("NPV", money(s.npv), f"discounted at {a.discount_rate_annual:.1%} a year"),
        ("Discounted payback", months(s.discounted_payback_months), ""),
        ("Year-1 ROI (months 1-12)", "n/a" if s.year1_roi_pct is None else pct(s.year1_roi_pct),
         "" if s.year1_roi_pct is not None else "fewer than 12 months in the series"),
        *_roi_break_even_attribution_rows(result),
    ]
    lines += ["", "Figures"]
    lines += [f"  {label:<26} {value:>20}  {note}".rstrip() for label, value, note in figures]
    lines.append("")
    if s.cum_estimated_benefits is None:
        lines.append("Estimated benefits: none (no benefits.time_saved_minutes_per_interaction configured)")
    else:
        lines.append(f"Estimated benefits (ESTIMATE, NOT ADDED): {money(s.cum_estimated_benefits)}: {_ROI_NOT_ADDED}")
    lines += ["", "Sensitivity: ROI at horizon with one assumption x0.8 (low) or x1.2 (high)",
              f"  {'assumption':<16} {'low':>10} {'high':>10} {'swing':>11}"]
    tornado = [r for r in result["sensitivity"] if r["assumption"] != "scenario"]
    for low, high in zip(tornado[::2], tornado[1::2]):
        swing = "n/a" if low["swing"] is None else f"{low['swing']:.1f} pts"
        lines.append(f"  {low['assumption']:<16} {pct(low['roi_pct']):>10} {pct(high['roi_pct']):>10} {swing:>11}")
    lines.append("  (attribution and confidence multiply, B = G x attribution x confidence: they move the ROI alike, "
                 "unless x1.2 would pass the cap of 1)")
    lines += ["", "Scenarios (multipliers on attribution, benefits, costs)"]
    for r in result["sensitivity"]:
        if r["assumption"] == "scenario":
            m = result["stored"].scenarios.get(r["case"], {})
            mult = ", ".join(f"{k} x{m[k]:g}" for k in ("attribution", "benefits", "costs") if k in m)
            lines.append(f"  {r['case']:<16} ROI {pct(r['roi_pct']):>10}   NPV {money(r['npv']):>18}   ({mult})")
    return "\n".join(lines)


def _roi_break_even_attribution_rows(result) -> list[tuple[str, str, str]]:
    """Figure rows of the break-even attribution at horizon and for year 1 (docs/roi.md)."""
    s, a = result["summary"], result["assumptions"]
    given = f"confidence {a.effective_confidence:g} and the other assumptions as above"
    why = {"negative": f"ROI stays negative even at attribution 1 ({given})",
           "undefined": "no costs yet: no ROI to break even"}
    value = s.break_even_attribution
    horizon = ("Break-even attribution", "none" if value is None else f"{value:.2f}",
               why[result["break_even_attribution_status"]["horizon"]] if value is None else
               f"ROI stays positive as long as attribution >= {value:.2f} ({given})")
    value = s.year1_break_even_attribution
    why["undefined"] = "fewer than 12 months in the series"
    year1 = ("Year-1 break-even attr.", "n/a" if value is None and s.year1_roi_pct is None else
             "none" if value is None else f"{value:.2f}",
             why[result["break_even_attribution_status"]["year1"]].replace("ROI", "year-1 ROI", 1)
             if value is None else f"year-1 ROI stays positive as long as attribution >= {value:.2f}")
    return [horizon, year1]


def _roi_export(path: Path, result) -> list[Path]:
    """Write the tables for controllers: .xlsx (one sheet each, assumptions first) or .csv. Each file
    is written whole or not at all (a temporary name moved into place: kpi/fileio.py)."""
    from kpi.fileio import atomic_open

    if not path.parent.exists():
        raise UserError(f"--export {path}: folder {path.parent} does not exist; create it or pick another path")
    try:
        if path.suffix.lower() == ".xlsx":
            _roi_export_xlsx(path, result)
            return [path]
        assumptions = path.with_name(f"{path.stem}-assumptions.csv")
        with atomic_open(path, "w", newline="", encoding="utf-8") as handle:
            _roi_write_csv(handle, result["monthly_columns"], result["monthly"])
        with atomic_open(assumptions, "w", newline="", encoding="utf-8") as handle:
            _roi_write_csv(handle, ("name", "value", "value_text", "configured", "unit", "source", "overridden",
                                    "explanation"), _roi_assumption_table(result))
        return [path, assumptions]
    except OSError as exc:
        raise UserError(f"--export {path}: cannot write ({exc.strerror or exc}); pick a writable path") from None


def _roi_export_xlsx(path: Path, result) -> None:
    """The controllers' workbook (kpi/roi_workbook.py, docs/roi.md): Assumptions first, the summary
    cells live formulas over the Ledger, Participant time and Benefits sheets and the assumptions."""
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        raise UserError("--export: writing .xlsx needs the xlsxwriter package; install it "
                        "(pip install xlsxwriter) or export .csv") from None
    from kpi.fileio import atomic_write_bytes
    from kpi.roi_workbook import workbook_bytes

    data = workbook_bytes(result, _roi_assumption_table(result))
    atomic_write_bytes(path, data)  # an OSError: one line in _roi_export


@app.command()
def report(
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse written by kpi run."),
    quarter: str | None = typer.Option(None, "--quarter", help="The quarter to review (YYYY-Qn)."),
    year: str | None = typer.Option(None, "--year", help="Instead of --quarter: the yearly deep dive (YYYY)."),
    out: Path = typer.Option(..., "--out", help="Folder for report-<quarter|year>.html and charts/ (PNG, SVG)."),
    pdf: bool = typer.Option(False, "--pdf", help="Also print it to report-<quarter|year>.pdf (A4; needs Chromium)."),
    language: str | None = typer.Option(None, "--language", help=LANGUAGE_HELP),
    notes: Path | None = typer.Option(None, "--notes", help="With --year: a folder of Markdown files with the "
                                      "qualitative findings (focus groups, interviews)."),
) -> None:
    """The quarterly review report (--quarter) or the yearly deep dive (--year): one self-contained HTML file
    (opens offline) plus charts for slides."""
    import re

    from kpi.report import build_report
    from kpi.warehouse import open_warehouse

    _log_beside(warehouse)
    if (quarter is None) == (year is None):
        raise UserError("kpi report: give exactly one of --quarter YYYY-Qn (the quarterly review) and --year YYYY "
                        "(the yearly deep dive)")
    if quarter is not None and re.fullmatch(r"\s*\d{4}\s*", quarter):
        y = quarter.strip()
        raise UserError(f"--quarter {y}: a year; write the quarter as YYYY-Qn, e.g. {y}-Q4, or use --year {y} for "
                        "the yearly deep dive")
    if notes is not None and year is None:
        raise UserError("--notes: only with --year (the qualitative findings are part of the yearly deep dive)")
    if notes is not None and not notes.is_dir():
        raise UserError(f"--notes {notes}: not a folder; give the folder holding the notes' Markdown files (*.md)")
    if year is not None:
        from kpi.report.yearly import check_year

        year = check_year(year)
    language = _language_option(language)
    if pdf:
        from kpi.report.pdf import INSTALL_HINT, chromium

        if chromium() is None:  # before any work: one line saying how to get it
            raise UserError(INSTALL_HINT)
    open_warehouse(warehouse, read_only=True).close()  # busy, a folder, not DuckDB: one line naming the file
    if year is not None:
        from kpi.report.yearly import build_yearly_report

        path = build_yearly_report(warehouse, year, out, language=language, notes=notes)
    else:
        path = build_report(warehouse, quarter.strip(), out, language=language)
    typer.echo(f"Report: {path}")
    typer.echo(f"Charts: {path.parent / 'charts'} (PNG and SVG)")
    if pdf:
        from kpi.report.pdf import write_pdf

        typer.echo(f"PDF: {write_pdf(path, path.with_suffix('.pdf'))}")


@app.command()
def status(
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse written by kpi run."),
    quarter: str | None = typer.Option(None, "--quarter", help="The quarter (YYYY-Qn); default: the latest."),
) -> None:
    """Where we stand: maturity level, champion network, the 90-day rollout, targets and benchmarks."""
    from kpi.quarters import parse_quarter
    from kpi.report.collect import Assumption, _records, available_quarters, table_names
    from kpi.report.settings import resolve_settings
    from kpi.report.standing import collect_standing, status_text
    from kpi.warehouse import open_warehouse

    con = open_warehouse(warehouse, read_only=True)  # busy, a folder, not DuckDB: one line naming the file
    try:
        tables = table_names(con)
        quarters = available_quarters(con) if "marts.kpi_usage" in tables else []
        if not quarters:
            raise UserError(f"{warehouse}: has no KPI marts yet; run kpi run first")
        label = quarters[-1] if quarter is None else quarter.strip()
        parse_quarter(label)
        if label not in quarters:
            raise UserError(f"--quarter {label}: not in the warehouse {warehouse}; quarters available: "
                            f"{', '.join(quarters)}")
        assumptions = ({a.name: a for a in _records(con, Assumption, "roi_assumptions")}
                       if "marts.roi_assumptions" in tables else {})
        settings = resolve_settings(con, None, assumptions)
        standing = collect_standing(con, label, settings.k, tables)
    finally:
        con.close()
    typer.echo(status_text(standing), nl=False)


# --------------------------------------------------------------------------------------------
# Sharing, retention and erasure (docs/privacy.md)
# --------------------------------------------------------------------------------------------


@app.command("export")
def export_command(
    aggregates: bool = typer.Option(False, "--aggregates", help="Write the aggregates-only file (required)."),
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse written by kpi run."),
    out: Path = typer.Option(..., "--out", help="The file to write, e.g. aggregates.duckdb (replaced when it exists)."),
) -> None:
    """Write the file to share: KPI marts, snapshots, ROI tables and audit counts; no person-level
    row, no pseudonym (docs/privacy.md)."""
    from kpi.export import export_aggregates

    if not aggregates:
        raise UserError("kpi export: give --aggregates (the file for analysts, notebooks and the works council: "
                        "marts, snapshots, ROI tables and audit counts, no person-level row)")
    summary = export_aggregates(warehouse, out)
    rows = ", ".join(f"{name} {n:,}" for name, n in summary.tables.items())
    typer.echo(f"Wrote {out}: {rows}")
    typer.echo(f"Left out (person-level rows, pseudonyms, bookkeeping): {', '.join(summary.left_out) or 'nothing'}")


@app.command()
def purge(
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse written by kpi run."),
    config: Path | None = typer.Option(None, "--config", help="The programme config (privacy.retention_months)."),
    retention_months: int | None = typer.Option(
        None, "--retention-months", min=1, help="Use this retention instead of privacy.retention_months."),
    as_of: str | None = typer.Option(None, "--as-of",
                                     help="Count the months back from this day (YYYY-MM-DD; default today)."),
) -> None:
    """Delete the person-level rows of closed, snapshotted quarters older than the retention period;
    their figures stay as snapshotted and kpi run never rebuilds them."""
    import datetime as dt

    from kpi.retention import open_writable
    from kpi.retention import purge as purge_rows

    months = retention_months
    if months is None and config is not None:
        from kpi.config import load_config

        months = load_config(config).privacy.retention_months
        if months is None:
            typer.echo(f"{config}: privacy.retention_months is not set: everything is kept, nothing purged")
            return
    if months is None:
        raise UserError("kpi purge: give --config FILE (its privacy.retention_months) or --retention-months N")
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise UserError(f"--as-of {as_of}: not a date; use the form 2026-10-15") from None
    con = open_writable(warehouse)
    try:
        result = purge_rows(con, months, day)
    finally:
        con.close()
    typer.echo(f"Retention {months} months as of {day}: quarters that ended before {result.cutoff} are purged")
    if result.purged:
        typer.echo(f"Purged and frozen: {', '.join(result.purged)}")
    if result.purged_before:
        typer.echo(f"Purged before: {', '.join(result.purged_before)}")
    if not result.purged and not result.purged_before:
        typer.echo("Nothing to purge")
    for quarter, why in {**result.kept, **result.surveys_kept}.items():
        typer.echo(f"Kept {quarter}: {why}")
    deleted = ", ".join(f"{table} {n:,}" for table, n in result.deleted.items() if n)
    typer.echo(f"Rows deleted: {deleted or 'none'}; quarantined values removed: {result.quarantine_values_removed:,}")


@app.command()
def forget(
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse written by kpi run."),
    employee: str = typer.Option(
        ..., "--employee", help="The person's employee id as in the HR file (an e-mail or GitHub login works too)."),
    config: Path | None = typer.Option(None, "--config", help="The programme config (privacy.pseudonym_key_env)."),
) -> None:
    """Erase one person's rows everywhere in the warehouse (right to erasure); only the day of the
    erasure is recorded."""
    import datetime as dt
    import os

    from kpi.ingest.store import check_pseudonym_key
    from kpi.privacy import resolve_key
    from kpi.retention import forget as forget_rows
    from kpi.retention import open_writable

    env = "KPI_PSEUDONYM_KEY"
    if config is not None:
        from kpi.config import load_config

        env = load_config(config).privacy.pseudonym_key_env
    key = resolve_key(env, allow_development_key=os.environ.get("KPI_ALLOW_DEVELOPMENT_KEY") == "1")
    con = open_writable(warehouse)
    try:
        check_pseudonym_key(con, key, env)
        result = forget_rows(con, employee, key, dt.date.today())
    finally:
        con.close()
    deleted = ", ".join(f"{table} {n:,}" for table, n in result.deleted.items() if n)
    typer.echo(f"Erased {result.rows:,} rows ({deleted}); recorded in audit.erasures by the day only")
    if result.frozen:
        typer.echo(f"Closed quarters keep their published figures (frozen): {', '.join(result.frozen)}")
    typer.echo("Remove the person from the exports in your inputs folder too: a changed HR export that still "
               "lists them brings their rows back. Files exported before (aggregates, reports) are not changed.")


@app.command("audit-privacy")
def audit_privacy(
    warehouse: Path = typer.Option(..., "--warehouse", help="A warehouse (or an aggregates file) to audit."),
    k: int | None = typer.Option(
        None, "--k", min=1, help="Group size to audit against (default: privacy.min_group_size it was built with)."),
) -> None:
    """Search the published figures for any statistic about fewer than k people that adding or
    subtracting other figures of the same quarter would give (docs/privacy.md). Exit status 1
    when it finds one."""
    import duckdb

    from kpi.privacy_audit import audit, warehouse_k

    if not warehouse.is_file():
        raise UserError(f"--warehouse {warehouse}: no such file; give the warehouse written by kpi run")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        k = k or warehouse_k(con)
        if k is None:
            raise UserError(f"{warehouse}: the warehouse does not say which k it was built with; give --k")
        findings = audit(con, k)
    for finding in findings:
        typer.echo(f"RECOVERABLE: {finding.describe(k)}")
    typer.echo(f"Privacy audit of {warehouse} with k = {k}: "
               + (f"{len(findings)} recoverable figure(s)" if findings else "no figure describes fewer than k people, "
                  "directly or by subtracting other published figures"))
    if findings:
        raise typer.Exit(1)


#: The folder of the warehouse the command works on: its errors are logged there (kpi-errors.log).
_ERROR_LOG_FOLDER: list[Path] = []


def _log_beside(warehouse: Path) -> None:
    _ERROR_LOG_FOLDER[:] = [Path(warehouse).parent]


def main() -> None:
    """Entry point: user errors, a full disk or a read-only folder become one line on stderr and
    exit status 2, their full text appended to kpi-errors.log beside the warehouse; anything else
    is a bug in kpi, shown with its traceback and marked as such (exit status 1)."""
    from kpi.fileio import append_error_log

    try:
        app()
    except UserError as exc:
        _fail(str(exc), exc, exc.exit_code, pointer=bool(getattr(exc, "detail", None)))
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last word on any error
        line = _machine_error_line(exc)
        if line is not None:
            _fail(line, exc, 2, pointer=True)
        import traceback

        log = append_error_log(_ERROR_LOG_FOLDER[0] if _ERROR_LOG_FOLDER else None, "a bug in kpi", exc)
        traceback.print_exception(exc)
        typer.echo(f"error: this is a bug in kpi: please report it with {log or 'the traceback above'}", err=True)
        sys.exit(1)


def _fail(line: str, exc: BaseException, code: int, pointer: bool) -> None:
    """One line; the full text goes to the log, whose path follows when it holds more than the line."""
    from kpi.fileio import append_error_log

    log = append_error_log(_ERROR_LOG_FOLDER[0] if _ERROR_LOG_FOLDER else None, line, exc)
    typer.echo(f"error: {line}", err=True)
    if log is not None and pointer:
        typer.echo(f"(the full error is in {log})", err=True)
    sys.exit(code)


def _machine_error_line(exc: BaseException) -> str | None:
    """A full disk, a read-only folder, no permission, a file in the way: one line, not a bug."""
    from kpi.fileio import os_error_line

    line = os_error_line(exc)
    if line is None and type(exc).__module__.lstrip("_") == "duckdb":
        from kpi.warehouse import storage_problem

        problem = storage_problem(str(exc))
        where = _ERROR_LOG_FOLDER[0] if _ERROR_LOG_FOLDER else "the warehouse"
        line = f"{where}: cannot write ({problem[0]}); {problem[1]}" if problem else None
    return line


def entry() -> None:
    """The `kpi` console script: `main`, then a quick exit (see `_leave`)."""
    try:
        main()
        code = 0
    except SystemExit as exc:  # typer ends every command with one
        if isinstance(exc.code, str):
            typer.echo(exc.code, err=True)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _leave(code)


def _leave(code: int) -> None:
    """End the process without tearing the interpreter down. Every file is written and closed by
    now; unloading Dagster, Great Expectations, polars and DuckDB module by module took 0.7-1 s
    after `kpi run` had finished (docs/benchmarks.md). Under a profiler, debugger or coverage the
    normal exit runs, so that they can write their results."""
    import os

    if sys.getprofile() is not None or sys.gettrace() is not None or "coverage" in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
