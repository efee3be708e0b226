"""Commands ``eralpha export sbml`` (the assembled cell model as an SBML Level 3 Version 2 file) and
``eralpha export petab`` (a calibration spec as a PEtab v1 problem)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import console, export_app
from ._options import writable_output


@export_app.command("sbml")
def export_sbml(
    cell_line: str = typer.Option("MCF7", "--cell-line", "-c", help="Cell line (fixes the ER variant mix, PIK3CA, aromatase)."),
    ligand: list[str] = typer.Option(
        [], "--ligand", "-l", help="ER ligand that may be present (repeat the option; oestradiol is always included)."
    ),
    inhibitor: list[str] = typer.Option([], "--inhibitor", "-i", help="Kinase / aromatase inhibitor (repeat the option)."),
    tissue: str = typer.Option("breast", "--tissue", help="Tissue that sets each ligand's intrinsic efficacy."),
    output: Path = typer.Option(Path("model.xml"), "--output", "-o", help="Where to write the SBML file (written atomically).", callback=writable_output),
) -> None:
    """Write the cell model for a context as SBML L3V2 (validated with libsbml; provenance kept in annotations).

    Drug concentrations are the parameters conc_<drug> (nM, 0 in the file); time is in hours.
    """
    from ..model import assemble_cell_model
    from ..model._sbml import write_sbml

    model = assemble_cell_model(cell_line=cell_line, ligands=tuple(ligand), inhibitors=tuple(inhibitor), tissue=tissue)
    path = write_sbml(model, output)
    console.print(
        f"wrote {path} — {len(model.species)} species, {len(model.parameters)} parameters, "
        f"{len(model.expressions)} assignment rules, {len(model.reactions)} reactions (SBML L3V2, no consistency errors)",
        highlight=False,
        soft_wrap=True,
    )


@export_app.command("petab")
def export_petab(
    spec: str = typer.Argument(..., help="A calibration spec (.yaml) or the name of a shipped one (mcf7-growth)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the PEtab problem (created if missing)."),
) -> None:
    """Write a calibration as a PEtab v1 problem: SBML model, conditions, observables, measurements, parameters, YAML.

    The 300 h pre-equilibration is the start of the SBML time: events at t = 300 h add the drugs and
    re-seed, so measurement times are eralpha's + 300 h.
    """
    from ..qsp import to_petab

    path = to_petab(spec, output)
    n = sum(1 for _ in open(path.parent / "measurements.tsv", encoding="utf-8")) - 1
    console.print(f"wrote {path} (PEtab v1: model.xml, conditions, observables, {n} measurements, parameters; "
                  "times + 300 h)", highlight=False, soft_wrap=True)
    console.print(_petab_lint(path), highlight=False, soft_wrap=True)


def _petab_lint(path: Path) -> str:
    """The petab library's verdict on the problem (petab.v1.lint_problem), or why it was not run."""
    try:
        import petab.v1 as petab
    except ImportError:
        return "petab lint not run (pip install 'eralpha[qsp]')"
    import logging

    logging.getLogger("petab").setLevel(logging.ERROR)  # its info lines (no visualisation table) are noise here
    errors = petab.lint_problem(petab.Problem.from_yaml(str(path)))
    return "petab lint: errors (see the log above)" if errors else "petab lint: no errors"
