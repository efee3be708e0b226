"""The typer application and its command groups; commands live in sibling modules."""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any

import typer
from rich.console import Console

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

app.add_typer(kb_app, name="kb")
app.add_typer(model_app, name="model")
app.add_typer(export_app, name="export")
app.add_typer(runs_app, name="runs")
app.add_typer(fit_app, name="fit")
app.add_typer(pk_app, name="pk")

console = Console()
err_console = Console(stderr=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


def _jsonable(obj: Any) -> Any:
    """Make numpy / pandas values JSON-safe (NaN and inf become null)."""
    import numpy as np
    import pandas as pd

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return [_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if (math.isnan(f) or math.isinf(f)) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (plain print, so nothing wraps or colours it)."""
    print(json.dumps(_jsonable(obj), indent=2))


def print_frame(df, title: str | None = None, decimals: int = 4) -> None:
    """Print a DataFrame as a rich table."""
    from rich.table import Table

    table = Table(title=title)
    for col in df.columns:
        table.add_column(str(col))
    for _, row in df.iterrows():
        table.add_row(*[(f"{v:.{decimals}g}" if isinstance(v, float) else str(v)) for v in row])
    console.print(table)
