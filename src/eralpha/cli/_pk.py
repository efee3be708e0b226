"""Commands: ``eralpha pk simulate`` and ``eralpha pk scorecard``."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import FORMAT_OPTION, OutputFormat, console, pk_app, print_frame, print_json
from ._options import figure_output, max_memory_option


@pk_app.command("simulate")
def simulate(
    scenario: Path = typer.Argument(..., help="PK scenario YAML (kind: pk)."),
    format: OutputFormat = FORMAT_OPTION,
    plot: Path | None = typer.Option(None, "--plot", help="Write the concentration–time plot (PNG) here.", callback=figure_output),
    max_memory: str | None = max_memory_option(),
) -> None:
    """Simulate a PK scenario: concentration–time curves and Cmax, Cmin (trough), AUC per subject."""
    from ..pk import load_pk_scenario
    from ..report import Progress
    from ..resources import memory_limit

    with memory_limit(max_memory):
        sc = load_pk_scenario(scenario)
        with Progress(f"pk simulate {scenario.name}") as progress:
            progress.stage(f"{sc.compound} in {sc.subjects} {sc.species} subject(s)")
            result = sc.run()
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        result.plot(ax=ax)
        ax.set_title(sc.name, fontsize=9)
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        plt.close(fig)
    summary = result.summary()
    if format is OutputFormat.json:
        print_json({"scenario": sc.name, "compound": sc.compound, "species": sc.species, "subjects": sc.subjects,
                    "summary": summary, "metrics": result.metrics})
    else:
        print_frame(summary, title=f"{sc.name} — {sc.subjects} subject(s)")
        if plot is not None:
            console.print(f"plot written to {plot}")


@pk_app.command("scorecard")
def scorecard(format: OutputFormat = FORMAT_OPTION) -> None:
    """Simulated exposure and oestrogen suppression against published values."""
    import pandas as pd

    from ..pk import pk_scorecard_rows
    from ..report import Progress

    with Progress("pk scorecard") as progress:
        progress.stage("simulating every compound's labelled regimen")
        rows = pk_scorecard_rows()
    if format is OutputFormat.json:
        print_json(rows)
    else:
        print_frame(pd.DataFrame(rows)[["id", "target", "simulated", "tolerance", "kind", "passed"]])
