"""The ER+ breast-cancer cell, module by module, assembled per context from the knowledge base.

Modules (each a function returning a Model fragment):

* ``receptor``      ERα synthesis (per variant, heterozygous mixes allowed), apo turnover, reversible
                    binding of every ligand present, and ligand-specific degradation of the complex.
* ``activity``      ER transcriptional activity from coactivator occupancy of each receptor state:
                    occupancy = C/(C + Kd_state); mutants recruit coactivator without hormone, so their
                    constitutive activity is a mechanism, not a factor. A ligand-bound state contributes
                    its ligand's intrinsic efficacy in the tissue (E2 = 1; SERMs/SERDs 0 in breast).
* ``transcription`` target genes PGR, TFF1 (pS2), GREB1 and CCND1 driven by ER activity.
* ``signalling``    growth-factor receptors → PI3K/AKT/mTORC1/S6K (S6K ⊣ IRS feedback) and MAPK; FOXO-driven
                    ER synthesis and kinase phosphorylation of unliganded ER (:mod:`._signalling`).
* ``cell_cycle``    Myc, cyclin D–CDK4/6 and cyclin E–CDK2 with p21/p27 redistribution, Rb/E2F with the E2F
                    feedback on cyclin E, adaptive cyclin E/CDK2 under CDK4/6 inhibition (:mod:`._cellcycle`).
* ``fate``          cells as compartments — cycling, G1-arrested, senescent — with a death flux (:mod:`._cellcycle`).
* ``aromatase``     intracellular oestradiol made from androstenedione (MCF-7Ca), inhibited by AIs.

Internal units: nM, hours, cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InputError, UnknownNameError
from ..knowledge import load_knowledge
from ._core import Expression, Model, Species, assumed, measured
from ._motifs import bind_fixed_ligand, degrade, synthesise
from ._params import from_value, half_life_to_rate, kb_param, kb_value, param

__all__ = ["CellContext", "assemble_cell_model", "ligand_id", "variant_id", "conc_param", "split_compounds", "GENES"]

GENES = ("PGR", "TFF1", "GREB1", "CCND1")
_ALIASES = {"oestradiol": "E2", "oestrone": "E1", "androstenedione": "A4", "4-hydroxytamoxifen": "OHT"}


def ligand_id(compound: str) -> str:
    """A short identifier for a compound inside model names (oestradiol -> E2)."""
    return _ALIASES.get(compound, re.sub(r"[^A-Za-z0-9]", "_", compound))


def variant_id(target: str) -> str:
    """ERa_Y537S -> Y537S."""
    return target.split("_", 1)[1] if target.startswith("ERa_") else target


def conc_param(compound: str) -> str:
    """Name of the parameter holding a compound's free concentration in the medium (nM)."""
    return f"conc_{ligand_id(compound)}"


def split_compounds(compounds) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """ER ligands vs enzyme/kinase inhibitors (canonical names), from the knowledge base."""
    kb = load_knowledge()
    ligands, inhibitors = [], []
    for c in compounds:
        comp = kb.compound(c)
        (ligands if comp.er_binding else inhibitors).append(comp.name)
    return tuple(dict.fromkeys(ligands)), tuple(dict.fromkeys(inhibitors))


@dataclass(frozen=True)
class CellContext:
    """What a cell model is assembled for.

    ``cell_line`` fixes the ER variant mix, PIK3CA status and aromatase; ``ligands`` are the ER
    ligands that may be present (oestradiol is always included); ``inhibitors`` the kinase / enzyme
    inhibitors (CDK4/6, PI3Kα, mTORC1, aromatase); ``tissue`` selects each ligand's intrinsic efficacy.
    Concentrations are not part of the context: they are parameters (``conc_<id>``) set per run.
    """

    cell_line: str = "MCF7"
    ligands: tuple[str, ...] = ()
    inhibitors: tuple[str, ...] = ()
    tissue: str = "breast"
    variants: dict[str, float] | None = field(default=None, hash=False)  # override the cell line's mix

    def resolved(self) -> "CellContext":
        kb = load_knowledge()
        line = kb.cell_line(self.cell_line)
        ligands = ["oestradiol"] + [kb.compound(c).name for c in self.ligands if kb.compound(c).name != "oestradiol"]
        inhibitors = [kb.compound(c).name for c in self.inhibitors]
        for c in ligands:
            if not kb.compound(c).er_binding:
                raise InputError(f"'{c}' does not bind the oestrogen receptor; list it under inhibitors", field="ligands", value=c)
        for c in inhibitors:
            if not kb.compound(c).inhibition:
                raise InputError(f"'{c}' has no enzyme inhibition data; list ER ligands under ligands", field="inhibitors", value=c)
        return CellContext(line.name, tuple(dict.fromkeys(ligands)), tuple(dict.fromkeys(inhibitors)), self.tissue, self.variants)

    @property
    def variant_mix(self) -> dict[str, float]:
        if self.variants is not None:
            mix = dict(self.variants)
        else:
            mix = dict(load_knowledge().cell_line(self.cell_line).er_variants)
        if not mix:
            raise InputError(f"cell line '{self.cell_line}' expresses no ERα; the ER+ cell model does not apply", field="cell_line")
        return mix


# ----------------------------------------------------------------------------------------------
def _receptor(ctx: CellContext) -> Model:
    kb = load_knowledge()
    er = kb.target("ERa_WT")
    mod = "receptor"
    params = [
        kb_param("ER_total_0", "nM", module=mod),
        half_life_to_rate("kdeg_ER_apo", er.properties["apo_half_life"], module=mod, description="turnover of unliganded ERα"),
        kb_param("kon_ER", "1/nM/h", module=mod),
    ]
    er_total_0 = params[0].value
    frags = Model()
    expressions = []
    species = []
    for target, frac in ctx.variant_mix.items():
        v = variant_id(target)
        params.append(param(f"frac_{v}", frac, "1", measured(f"cell line {ctx.cell_line}", "fraction of ERα synthesis from this allele"), module=mod))
        species.append(Species(f"ER_{v}", er_total_0 * frac, "nM", f"unliganded ERα {v}", mod))
        frags = frags + synthesise(f"ER_{v}", f"ER_total_0 * kdeg_ER_apo * frac_{v} * ER_synthesis", module=mod) + degrade(f"ER_{v}", "kdeg_ER_apo", module=mod)
        for c in ctx.ligands:
            comp = kb.compound(c)
            L = ligand_id(c)
            if target not in comp.er_binding:
                raise UnknownNameError(f"ER variant with binding data for {c}", target, comp.er_binding)
            params.append(from_value(f"Kd_{L}_{v}", comp.er_binding[target], "nM", module=mod, description=f"{c} affinity for ERα {v}"))
            cplx = f"ER_{v}_{L}"
            species.append(Species(cplx, 0.0, "nM", f"ERα {v} bound to {c}", mod))
            frags = frags + bind_fixed_ligand(f"ER_{v}", _ligand_conc(c), cplx, kon="kon_ER", kd=f"Kd_{L}_{v}", module=mod)
            frags = frags + degrade(cplx, f"kdeg_ER_{L}", module=mod)
    for c in ctx.ligands:
        comp = kb.compound(c)
        L = ligand_id(c)
        if comp.bound_receptor_half_life is None:
            raise InputError(f"the knowledge base has no half-life for ERα bound to {c}", field=f"{c}.bound_receptor_half_life",
                             valid="add bound_receptor_half_life (h) to the compound in compounds.yaml")
        params.append(half_life_to_rate(f"kdeg_ER_{L}", comp.bound_receptor_half_life, module=mod, description=f"degradation of ERα bound to {c}"))
        params.append(param(conc_param(c), 0.0, "nM", assumed("set by the experiment"), module=mod, description=f"free {c} in the medium"))
    all_er = " + ".join(s.name for s in species)
    expressions.append(Expression("ER_total", all_er, "nM", "all ERα (every variant and state)", mod))
    return Model(species=tuple(species), parameters=tuple(params), expressions=tuple(expressions)) + frags


def _ligand_conc(compound: str) -> str:
    # Oestradiol seen by the receptor includes what aromatase makes inside the cell (MCF-7Ca).
    return "E2_intracellular" if compound == "oestradiol" else conc_param(compound)


def _activity(ctx: CellContext) -> Model:
    kb = load_knowledge()
    mod = "activity"
    params = [kb_param("coactivator", "nM", module=mod)]
    terms = []
    for target in ctx.variant_mix:
        v = variant_id(target)
        kd = kb.target(target).coactivator_kd
        if "apo" in kd:
            params.append(from_value(f"Kc_apo_{v}", kd["apo"], "nM", module=mod, description=f"coactivator Kd of apo ERα {v}"))
            terms.append(f"ER_{v} * coactivator / (coactivator + Kc_apo_{v})")
        agonist = kd.get("agonist") or kb.target("ERa_WT").coactivator_kd["agonist"]
        params.append(from_value(f"Kc_agonist_{v}", agonist, "nM", module=mod, description=f"coactivator Kd of agonist-bound ERα {v}"))
        for c in ctx.ligands:
            L = ligand_id(c)
            terms.append(f"ER_{v}_{L} * efficacy_{L} * coactivator / (coactivator + Kc_agonist_{v})")
    for c in ctx.ligands:
        comp = kb.compound(c)
        eff = comp.efficacy.get(ctx.tissue)
        if eff is None:
            raise InputError(f"no intrinsic efficacy of {c} in tissue '{ctx.tissue}'", field="tissue", value=ctx.tissue,
                             valid=", ".join(comp.efficacy))
        params.append(from_value(f"efficacy_{ligand_id(c)}", eff, eff.unit, module=mod, description=f"intrinsic efficacy of {c} in {ctx.tissue}"))
    expr = Expression("ER_activity", f"({' + '.join(terms)}) / ER_total_0", "1",
                      "coactivator-occupied ERα as a fraction of the untreated receptor pool", mod)
    return Model(parameters=tuple(params), expressions=(expr,))


def _transcription(ctx: CellContext) -> Model:
    mod = "transcription"
    params = [
        kb_param("K_ER_activity", "1", module=mod),
        half_life_to_rate("kdeg_mRNA", kb_value("mRNA_half_life"), module=mod, description="decay of ER target-gene transcripts"),
    ]
    species, frags = [], Model()
    for g in GENES:
        basal = kb_param(f"basal_{g}", "1", module=mod)
        params.append(basal)
        species.append(Species(g, basal.value, "1", f"{g} mRNA, fraction of maximal E2 induction", mod))
        frags = frags + synthesise(g, f"kdeg_mRNA * (basal_{g} + (1 - basal_{g}) * ER_drive)", module=mod) + degrade(g, "kdeg_mRNA", module=mod)
    expr = Expression("ER_drive", "ER_activity / (ER_activity + K_ER_activity)", "1", "fractional target-gene drive", mod)
    return Model(species=tuple(species), parameters=tuple(params), expressions=(expr,)) + frags


def _aromatase(ctx: CellContext) -> Model:
    """Intracellular oestradiol: medium E2 plus what aromatase makes from androstenedione."""
    kb = load_knowledge()
    mod = "aromatase"
    line = kb.cell_line(ctx.cell_line)
    params = [
        param("conc_A4", 0.0, "nM", assumed("set by the experiment"), module=mod, description="androstenedione in the medium"),
        kb_param("aromatase_E2_yield", "nM", module=mod) if line.aromatase_transfected else
        param("aromatase_E2_yield", 0.0, "nM", assumed(f"cell line {line.name}: no transfected aromatase"), module=mod),
        kb_param("Km_aromatase", "nM", module=mod),
    ]
    denom = "Km_aromatase * (1"
    for c in ctx.inhibitors:
        comp = kb.compound(c)
        if "CYP19A1" in comp.inhibition:
            L = ligand_id(c)
            params.append(from_value(f"Ki_{L}_CYP19A1", comp.inhibition["CYP19A1"], "nM", module=mod))
            denom += f" + conc_{L} / Ki_{L}_CYP19A1"
    expr = Expression("E2_intracellular", f"conc_E2 + aromatase_E2_yield * conc_A4 / ({denom}) + conc_A4)", "nM",
                      "oestradiol seen by the receptor", mod)
    return Model(parameters=tuple(params), expressions=(expr,))


OBSERVABLES = ("ER_total", "ER_activity", "PGR", "TFF1", "GREB1", "CCND1", "MYC", "CycD", "CycE", "pRb", "CDK46_activity",
               "CDK2_activity", "CDK2_adaptation", "E2F_switch", "AKT_activity", "S6K_activity", "MAPK_activity",
               "frac_arrested", "frac_senescent", "cells", "net_growth_rate")


def assemble_cell_model(context: CellContext | None = None, **kwargs) -> Model:
    """Assemble the cell model for a context (cell line, ligands, inhibitors, tissue).

    >>> m = assemble_cell_model(cell_line="MCF7-Y537S", ligands=("imlunestrant",), inhibitors=("abemaciclib",))
    """
    ctx = (context or CellContext(**kwargs)).resolved()
    from ._cellcycle import cell_cycle_module, fate_module
    from ._signalling import add_to_expression, signalling_module

    model = (_receptor(ctx) + _activity(ctx) + _transcription(ctx) + signalling_module(ctx) + cell_cycle_module(ctx)
             + fate_module(ctx) + _aromatase(ctx))
    # kinase-phosphorylated unliganded ERα adds ligand-independent activity (signalling module)
    model = add_to_expression(model, "ER_activity", "ER_phospho_activity")
    # drugs present only as inhibitors still need a concentration parameter
    extra = tuple(param(conc_param(c), 0.0, "nM", assumed("set by the experiment"), module="drugs", description=f"free {c} in the medium")
                  for c in ctx.inhibitors if conc_param(c) not in model.parameter_index)
    model = model + Model(parameters=extra)
    name = f"cell[{ctx.cell_line}; ligands={','.join(ctx.ligands)}; inhibitors={','.join(ctx.inhibitors) or '-'}; {ctx.tissue}]"
    from dataclasses import replace

    return replace(model, name=name, observables=OBSERVABLES).validate()
