"""``eralpha model show``: species, reactions and parameters, each parameter with its provenance."""

from __future__ import annotations

import typer

from ._app import FORMAT_OPTION, OutputFormat, console, model_app, print_frame, print_json


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
