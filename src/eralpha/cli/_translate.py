"""``eralpha translate``: the human regimen matching a mouse regimen's free exposure or ER occupancy."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app, console
from ._options import figure_output


@app.command("translate")
def translate(
    compound: str = typer.Argument(..., help="compound, e.g. lasofoxifene"),
    mouse_regimen: str = typer.Argument(..., help="mouse regimen, e.g. '10 mg/kg sc q24h 5/2'"),
    by: str = typer.Option("exposure", help="match 'exposure' (average free concentration / weekly AUC) or 'occupancy'"),
    variant: str = typer.Option("ERa_WT", help="ER variant for occupancy (ERa_WT, ERa_Y537S, ERa_D538G)"),
    days: int = typer.Option(42, help="days simulated; the last week is matched"),
    interval: str | None = typer.Option(None, help="human dosing interval (default: the labelled one)"),
    figure: Path | None = typer.Option(None, help="write the concentration-time figure (PNG)", callback=figure_output),
) -> None:
    """Propose the human regimen matching a mouse regimen (free exposure or tumour ER occupancy)."""
    from ..report import Progress
    from ..translate import translate_regimen

    with Progress(f"translate {compound}") as progress:
        progress.stage(f"matching {by} over {days} days (mouse and human simulations)")
        t = translate_regimen(compound, mouse_regimen, by=by, variant=variant, days=days, human_interval=interval)
    print(t.proposal)  # the answer itself: plain text wherever it goes
    if figure is not None:
        import matplotlib

        matplotlib.use("Agg")
        ax = t.plot()
        ax.figure.savefig(figure, dpi=120, bbox_inches="tight")
        console.print(f"figure: {figure}")
