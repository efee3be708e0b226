"""Command ``eralpha fit synergy``: SynergyFinder-style synergy scores of dose-matrix tables."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from ._app import FORMAT_OPTION, OutputFormat, console, fit_app, print_frame, print_json
from ._options import figure_output


@fit_app.command("synergy")
def fit_synergy(
    file: Path = typer.Argument(..., help="Long table: block_id, drug1, drug2, conc1, conc2, response (CSV/TSV/Parquet)."),
    response: Optional[str] = typer.Option(
        None, "--response", help="What the response column holds: viability (% of control) or inhibition (%). Required."
    ),
    model: str = typer.Option("bliss", "--model", help="Reference model: bliss, hsa, loewe or zip."),
    output_format: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a plot of one block's delta matrix (PNG, PDF, SVG).", callback=figure_output),
    plot_kind: str = typer.Option("heatmap", "--plot-kind", help="heatmap or surface."),
    block: Optional[str] = typer.Option(None, "--block", help="Block to plot (default: the first)."),
    block_col: str = typer.Option("block_id", "--block-col", help="Column naming the block."),
    drug1_col: str = typer.Option("drug1", "--drug1-col", help="Column naming drug 1 (matrix rows)."),
    drug2_col: str = typer.Option("drug2", "--drug2-col", help="Column naming drug 2 (matrix columns)."),
    conc1_col: str = typer.Option("conc1", "--conc1-col", help="Column with drug 1 concentrations."),
    conc2_col: str = typer.Option("conc2", "--conc2-col", help="Column with drug 2 concentrations."),
    response_col: str = typer.Option("response", "--response-col", help="Column with the response."),
) -> None:
    """Bliss / HSA / Loewe / ZIP delta scores per block (positive = synergy), like SynergyFinder."""
    from ..analysis._synergy import RESPONSE_KINDS, SynergyAnalysis, SynergyColumns

    if response is None:
        # Guessing would silently flip every score's sign, so the user must say which it is.
        raise InputError(
            "say what the response column holds with --response",
            field="--response",
            valid=" or ".join(f"--response {kind}" for kind in RESPONSE_KINDS),
        )
    columns = SynergyColumns(block_col, drug1_col, drug2_col, conc1_col, conc2_col, response_col)
    analysis = SynergyAnalysis(model, response=response, columns=columns).fit(file)
    if plot is not None:
        _save_plot(analysis, plot, plot_kind, block)
    if output_format is OutputFormat.json:
        print_json(
            {
                "model": analysis.model,
                "response": analysis.response,
                "dropped": analysis.dropped_,
                "blocks": [_block_json(analysis, block_id) for block_id in analysis.blocks_],
            }
        )
        return
    summary = analysis.summary.reset_index()
    shown = ["block_id", "drug1", "drug2", "synergy_score", "max_delta", "min_delta"]
    print_frame(
        summary[shown],
        title=f"{analysis.model.upper()} synergy (delta in % inhibition, positive = synergy)",
    )
    for block_id, result in analysis.blocks_.items():
        m = result.matrix
        matrix = result.frame().pivot(index="conc1", columns="conc2", values="delta")
        matrix.columns = [f"{c:g}" for c in matrix.columns]
        matrix.index = [f"{c:g}" for c in matrix.index]
        print_frame(
            matrix.reset_index(names="conc1 \\ conc2"),
            title=f"block {block_id}: delta, rows {m.drug1}, columns {m.drug2}",
            decimals=3,
        )
    for block_id, notes in summary.set_index("block_id")["notes"].items():
        if notes:
            console.print(f"block {block_id}: {notes}", highlight=False)
    console.print(analysis.dropped_)
    if plot is not None:
        console.print(f"plot written to {plot}")


def _block_json(analysis, block_id) -> dict:
    result = analysis.blocks_[block_id]
    row = analysis.summary.loc[block_id].to_dict()
    return {
        "block_id": block_id,
        **row,
        "conc1": result.matrix.conc1,
        "conc2": result.matrix.conc2,
        "observed": result.observed,
        "expected": result.expected,
        "delta": result.delta,
    }


def _save_plot(analysis, path: Path, kind: str, block: Optional[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = analysis.plot(kind=kind, block=block)
    try:
        ax.figure.savefig(path, dpi=150, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write the plot ({exc})", file=str(path), valid="a writable .png, .pdf or .svg path") from None
    finally:
        plt.close(ax.figure)
