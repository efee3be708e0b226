"""The mechanism as data: species, parameters, reactions and rate laws, assembled per context."""

from ._cell import GENES, CellContext, assemble_cell_model, conc_param, ligand_id, variant_id
from ._core import Expression, Model, Parameter, Provenance, Reaction, Species, assumed, calibrated, measured
from ._motifs import bind, bind_fixed_ligand, convert, degrade, synthesise
from ._sbml import read_provenance, to_sbml, write_sbml

__all__ = [
    "Model", "Species", "Parameter", "Expression", "Reaction", "Provenance", "measured", "calibrated", "assumed",
    "bind", "bind_fixed_ligand", "degrade", "synthesise", "convert",
    "to_sbml", "write_sbml", "read_provenance",
    "CellContext", "assemble_cell_model", "conc_param", "ligand_id", "variant_id", "GENES",
]
