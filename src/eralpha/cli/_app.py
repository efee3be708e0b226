"""The typer application and its command groups; commands live in sibling modules."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

import typer
from rich.console import Console

from ..store._manifest import to_jsonable

app = typer.Typer(
    name="eralpha",
    help="eralpha — an open in-silico laboratory for endocrine therapy of ER+ breast cancer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
kb_app = typer.Typer(help="Browse the curated knowledge base (every value with unit and source).", no_args_is_help=True)
model_app = typer.Typer(help="Inspect the mechanistic model: species, reactions, parameters.", no_args_is_help=True)
export_app = typer.Typer(help="Export the model (SBML Level 3).", no_args_is_help=True)
runs_app = typer.Typer(help="The catalogue of past runs.", no_args_is_help=True)
fit_app = typer.Typer(help="Analyse real lab data: dose-response, blots, assays, synergy, xenografts, survival.", no_args_is_help=True)
pk_app = typer.Typer(help="Pharmacokinetics: simulate regimens, exposure metrics.", no_args_is_help=True)
trial_app = typer.Typer(help="Virtual clinical trials: virtual patients, arms, RECIST, PFS, HR, ORR, CBR.", no_args_is_help=True)

app.add_typer(kb_app, name="kb")
app.add_typer(model_app, name="model")
app.add_typer(export_app, name="export")
app.add_typer(runs_app, name="runs")
app.add_typer(fit_app, name="fit")
app.add_typer(pk_app, name="pk")
app.add_typer(trial_app, name="trial")

console = Console()
err_console = Console(stderr=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


# the --format option of every command that prints results
FORMAT_OPTION = typer.Option(OutputFormat.table, "--format", help="table (human) or json (machine).")


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (plain print, so nothing wraps or colours it)."""
    print(json.dumps(to_jsonable(obj), indent=2))


def print_frame(df, title: str | None = None, decimals: int = 4) -> None:
    """Print a DataFrame as a rich table."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for col in df.columns:
        table.add_column(escape(str(col)))
    for _, row in df.iterrows():  # cell text is data: "arm[X]" must not be read as rich markup
        table.add_row(*[escape(f"{v:.{decimals}g}" if isinstance(v, float) else str(v)) for v in row])
    console.print(table)
