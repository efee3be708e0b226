"""``eralpha model show``: species, reactions and parameters, each parameter with its provenance."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from ._app import FORMAT_OPTION, OutputFormat, console, model_app, print_frame, print_json
from ._options import figure_output


def model_options(cell_line: str, ligand: list[str] | None, inhibitor: list[str] | None):
    from ..model import assemble_cell_model

    return assemble_cell_model(cell_line=cell_line, ligands=tuple(ligand or ()), inhibitors=tuple(inhibitor or ()))


@model_app.command("show")
def show(
    cell_line: str = typer.Option("MCF7", "--cell-line", help="Cell line (sets the ER variant mix)."),
    ligand: list[str] | None = typer.Option(None, "--ligand", help="ER ligand present (repeatable)."),
    inhibitor: list[str] | None = typer.Option(None, "--inhibitor", help="Kinase/enzyme inhibitor present (repeatable)."),
    what: str = typer.Option("all", "--what", help="species, reactions, parameters or all"),
    format: OutputFormat = FORMAT_OPTION,
) -> None:
    """List the assembled model; every parameter is marked measured (source), calibrated (to what) or assumed (why)."""
    from rich.markup import escape

    from ..errors import UnknownNameError

    parts = ("species", "reactions", "parameters", "expressions", "all")
    if what not in parts:
        raise UnknownNameError("section", what, parts, field="--what")
    m = model_options(cell_line, ligand, inhibitor)
    data = {
        "name": m.name,
        "species": [dict(name=s.name, initial=s.initial, unit=s.unit, module=s.module, description=s.description) for s in m.species],
        "reactions": [dict(name=r.name, module=r.module, reactants=[a for a, _ in r.reactants], products=[b for b, _ in r.products], rate=r.rate) for r in m.reactions],
        "expressions": [dict(name=e.name, formula=e.formula, unit=e.unit, module=e.module) for e in m.expressions],
        "parameters": [dict(name=p.name, value=p.value, unit=p.unit, module=p.module, kind=p.provenance.kind,
                            source=p.provenance.source, note=p.provenance.note) for p in m.parameters],
    }
    if format == OutputFormat.json:
        print_json(data if what == "all" else {what: data[what]})
        return
    console.print(f"[bold]{escape(m.name)}[/]: {len(m.species)} species, {len(m.reactions)} reactions, "
                  f"{len(m.expressions)} expressions, {len(m.parameters)} parameters")
    import pandas as pd

    wide = {col: 48 for col in ("source", "note", "rate", "formula", "description")}  # folded, never cut
    for section in (["species", "reactions", "expressions", "parameters"] if what == "all" else [what]):
        frame = pd.DataFrame(data[section])
        for col in ("reactants", "products"):  # lists read better as "A + B"
            if col in frame:
                frame[col] = frame[col].map(" + ".join)
        print_frame(frame, title=section, max_width=wide)


class DiagramFormat(str, enum.Enum):
    mermaid = "mermaid"
    markdown = "markdown"


@model_app.command("diagram")
def diagram(
    cell_line: str | None = typer.Option(None, "--cell-line", help="Cell line (default: the docs' MCF7-Y537S model)."),
    ligand: list[str] | None = typer.Option(None, "--ligand", help="ER ligand present (repeatable)."),
    inhibitor: list[str] | None = typer.Option(None, "--inhibitor", help="Kinase/enzyme inhibitor present (repeatable)."),
    fmt: DiagramFormat = typer.Option(DiagramFormat.mermaid, "--format", "-f",
                                      help="mermaid (the flowchart) or markdown (the docs' block: flowchart + parameter kinds)."),
    output: Path | None = typer.Option(None, "--output", "-o", callback=figure_output,
                                       help="Also draw the network as a figure here (.png, .svg or .pdf; written atomically)."),
) -> None:
    """The model's network, generated from its declaration: Mermaid text on stdout, optionally a figure."""
    from ..model import assemble_cell_model
    from ..model._diagram import DOCS_MODEL, docs_markdown, plot_network, to_mermaid

    if cell_line is None and not ligand and not inhibitor:
        m = assemble_cell_model(**DOCS_MODEL)
    else:
        m = model_options(cell_line or "MCF7", ligand, inhibitor)
    print(docs_markdown(m) if fmt is DiagramFormat.markdown else to_mermaid(m), end="" if fmt is DiagramFormat.mermaid else "\n")
    if output is not None:
        import io

        import matplotlib

        matplotlib.use("Agg")
        from ..store import write_bytes_atomic

        ax = plot_network(m)
        buffer = io.BytesIO()
        ax.figure.savefig(buffer, format=output.suffix.lstrip(".") or "png", dpi=150, bbox_inches="tight")
        write_bytes_atomic(output, buffer.getvalue())
        typer.echo(f"network figure written to {output}", err=True)
