"""The `kpi` command line. Heavy libraries are imported inside the commands so that
`kpi --help` and `kpi roi` start fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from kpi.errors import UserError

app = typer.Typer(
    help="KPI pipeline and ROI calculator for AI-training programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    summary = generate_company(inputs)
    _print_written(inputs, summary)
    warehouse = out / "warehouse.duckdb"
    _run(inputs, inputs / "config.yaml", warehouse, None, allow_development_key=True)


@app.command()
def run(
    inputs: Path = typer.Option(..., "--inputs", help="The inputs folder."),
    config: Path = typer.Option(..., "--config", help="The programme config YAML."),
    warehouse: Path = typer.Option(..., "--warehouse", help="The DuckDB warehouse file (created if missing)."),
    quarter: Optional[str] = typer.Option(None, "--quarter", help="Only this quarter (YYYY-Qn)."),
) -> None:
    """Run the pipeline in-process: ingest, KPI marts per quarter, snapshots, alerts."""
    import os

    _run(inputs, config, warehouse, quarter, allow_development_key=os.environ.get("KPI_ALLOW_DEVELOPMENT_KEY") == "1")


def _run(inputs: Path, config: Path, warehouse: Path, quarter: str | None, allow_development_key: bool) -> None:
    import re

    from rich.console import Console

    from pipelines.run import run_pipeline

    if quarter is not None and not re.fullmatch(r"\d{4}-Q[1-4]", quarter):
        raise UserError(f"--quarter {quarter}: not a quarter label; use the form 2025-Q3")
    console = Console(stderr=True)
    with console.status("starting ...") as status:
        summary = run_pipeline(inputs, config, warehouse, quarter, allow_development_key,
                               progress=lambda message: (status.update(message), console.print(f"[dim]- {message}[/dim]")))
    out = Console()
    out.print(f"[bold]Warehouse[/bold] {warehouse}")
    out.print(f"Inputs: {summary.files_ingested} files, {summary.rows_read:,} rows read")
    closed = [q for q, s in summary.snapshots.items() if not s.startswith("open")]
    out.print(f"Quarters built: {', '.join(summary.quarters) or 'none'}")
    out.print(f"Quarters closed: {', '.join(closed) or 'none'}")
    for q, status_text in summary.snapshots.items():
        if "RESTATED" in status_text:
            out.print(f"  {q}: {status_text}")
    quarantined = ", ".join(f"{reason} {n:,}" for reason, n in summary.quarantined.items())
    out.print(f"Quarantined rows by reason: {quarantined or 'none'} (details: audit.quarantine)")
    _concealed_hint(summary.quarantined)
    if summary.alerts:
        out.print(f"[bold yellow]Alerts ({len(summary.alerts)}):[/bold yellow]")
        for alert in summary.alerts:
            out.print(f"  - {alert}")
    else:
        out.print("Alerts: none")


@app.command()
def validate(
    inputs: Path = typer.Option(..., "--inputs", help="The inputs folder (hr/, usage/, surveys/, finance/, business/)."),
    config: Path = typer.Option(..., "--config", help="The programme config YAML."),
) -> None:
    """Check every input without writing the warehouse: rows read, would load, would quarantine and why."""
    import secrets

    import duckdb

    from kpi.config import load_config
    from kpi.ingest import ingest_inputs

    cfg = load_config(config)
    con = duckdb.connect(":memory:")
    # Pseudonyms are not kept: a throw-away key is enough and needs no secret from the user.
    result = ingest_inputs(con, inputs, cfg, secrets.token_bytes(32))
    match = dict(con.sql(
        "SELECT file, string_agg(reason || ' ' || n, ', ' ORDER BY reason) FROM "
        "(SELECT file, reason, count(*) AS n FROM audit.quarantine WHERE stage = 'match' GROUP BY ALL) GROUP BY file"
    ).fetchall())
    con.close()
    _print_validation(result, match)


def _print_validation(result, match: dict[str, str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Inputs check (nothing written)", title_justify="left")
    for column, justify in (("file", "left"), ("format", "left"), ("rows read", "right"),
                            ("would load", "right"), ("would quarantine", "right"), ("why", "left")):
        table.add_column(column, justify=justify)
    for report in result.files:
        why = ", ".join(f"{reason} {n}" for reason, n in report.quarantine_reasons.items())
        if report.file in match:
            why = "; ".join(filter(None, [why, f"at matching: {match[report.file]}"]))
        if report.chars_replaced:
            why = "; ".join(filter(None, [why, f"{report.chars_replaced} undecodable characters replaced"]))
        table.add_row(report.file, report.format, f"{report.rows_read:,}", f"{report.rows_loaded:,}",
                      f"{report.rows_quarantined:,}", why or "-")
    Console(width=160).print(table)
    total = result.quarantined_by_reason
    typer.echo("quarantined by reason: " + (", ".join(f"{k} {v:,}" for k, v in total.items()) or "none"))
    _concealed_hint(total)


def _concealed_hint(quarantined: dict[str, int]) -> None:
    if quarantined.get("concealed_identity"):
        from kpi.ingest import CONCEALED_IDENTITY_HINT

        typer.echo(f"note: {quarantined['concealed_identity']:,} rows have concealed user names. {CONCEALED_IDENTITY_HINT}")


def _print_written(out: Path, summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Wrote {out}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in summary.get("files", {}).items():
        table.add_row(name, f"{rows:,}")
    Console().print(table)
    for key, value in summary.items():
        if key != "files":
            typer.echo(f"{key}: {value}")


def main() -> None:
    """Entry point: user errors become one line on stderr and exit status 2."""
    try:
        app()
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
