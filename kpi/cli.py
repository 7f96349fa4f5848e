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
) -> None:
    """Write a synthetic company's inputs (every supported format) and its config."""
    from kpi.synthetic import generate_company

    summary = generate_company(out, employees=employees, months=months, seed=seed)
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
