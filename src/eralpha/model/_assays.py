"""Small models of cell-free assays, declared with the same DSL as the cell model.

Both are generic in the compound: its affinity or inhibition constant is a parameter, so one
compiled model serves every compound, variant and system.
"""

from __future__ import annotations

from ._core import Expression, Model, Species, assumed
from ._motifs import bind_fixed_ligand, convert
from ._params import param

__all__ = ["binding_assay_model", "aromatase_assay_model"]


def binding_assay_model() -> Model:
    """Purified ER ligand-binding domain with a radioligand and an unlabelled competitor.

    Both ligands are held at their added (free) concentrations — the receptor is far below either —
    so at equilibrium the radioligand-bound fraction obeys Cheng & Prusoff (1973) exactly.
    """
    mod = "binding_assay"
    params = (
        param("receptor_total", 0.05, "nM", assumed("typical LBD concentration in a competition assay, well below every Kd"), module=mod),
        param("kon", 10.0, "1/nM/h", assumed("association rate ~3e6 /M/s"), module=mod),
        param("conc_hot", 1.0, "nM", assumed("set by the experiment: radioligand"), module=mod),
        param("conc_cold", 0.0, "nM", assumed("set by the experiment: competitor"), module=mod),
        param("Kd_hot", 0.26, "nM", assumed("set by the experiment from the knowledge base"), module=mod),
        param("Kd_cold", 1.0, "nM", assumed("set by the experiment from the knowledge base"), module=mod),
    )
    species = (
        Species("R_free", 0.05, "nM", "unoccupied receptor", mod),
        Species("R_hot", 0.0, "nM", "radioligand-bound receptor", mod),
        Species("R_cold", 0.0, "nM", "competitor-bound receptor", mod),
    )
    model = Model("binding_assay", species, params, (Expression("bound_hot", "R_hot", "nM", "specifically bound radioligand", mod),),
                  observables=("bound_hot",))
    return (model + bind_fixed_ligand("R_free", "conc_hot", "R_hot", kon="kon", kd="Kd_hot", module=mod)
            + bind_fixed_ligand("R_free", "conc_cold", "R_cold", kon="kon", kd="Kd_cold", module=mod)).renamed("binding_assay")


def aromatase_assay_model() -> Model:
    """[1β-³H]-androstenedione → oestrone + ³H₂O by aromatase, with a competitive inhibitor.

    v = Vmax·S / (Km·(1 + I/Ki) + S) (seed 003: letrozole and anastrozole are reversible, competitive).
    """
    mod = "aromatase_assay"
    params = (
        param("Vmax", 10.0, "nM/h", assumed("set by the experiment so ~10% of substrate is used (initial-rate conditions)"), module=mod),
        param("Km", 50.0, "nM", assumed("set from the assay system"), module=mod),
        param("conc_inhibitor", 0.0, "nM", assumed("set by the experiment"), module=mod),
        param("Ki", 1.0, "nM", assumed("set per compound and system"), module=mod),
    )
    species = (
        Species("androstenedione_3H", 50.0, "nM", "labelled substrate", mod),
        Species("tritiated_water", 0.0, "nM", "3H2O released (one per aromatisation)", mod),
    )
    model = Model("aromatase_assay", species, params, (Expression("water", "tritiated_water", "nM", "3H2O formed", mod),),
                  observables=("water",))
    return (model + convert("androstenedione_3H", "tritiated_water", "Vmax * androstenedione_3H / (Km * (1 + conc_inhibitor / Ki) + androstenedione_3H)",
                            module=mod, name="aromatisation")).renamed("aromatase_assay")
