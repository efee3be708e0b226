"""The ER+ tumour in a mouse: the cell model, PK compartments per drug, metastases and adaptation.

How the in-vitro cell model goes in vivo (one :class:`Model`, so the engine, the SBML export and the
parameter table all see the same mechanism):

* **PK as species.** Each drug gets ``depot_<id>`` (gut or injection site), ``plasma_<id>`` and, for a
  two-compartment drug, ``periph_<id>`` — amounts in nmol, first-order transfer. A dose is an exact
  engine event ``Event(t, "depot_<id>", nmol, action="add")`` (IV doses go to ``plasma_<id>``).
  The medium concentration parameter ``conc_<id>`` of the cell model becomes an expression: the free
  concentration in the tumour, ``fu · plasma / Vc`` (nM), unbound drug equilibrating with the
  tumour interstitium.
* **Host oestrogens.** ``conc_E2`` (free plasma oestradiol) and ``conc_A4`` (androstenedione, for
  aromatase-transfected MCF-7Ca cells) stay parameters, set per animal by the experiment from
  :func:`eralpha.pk.mouse_oestradiol` (ovariectomised NSG mouse, with or without an E2 pellet).
* **Tumour.** ``cells`` is the primary tumour; ``capacity`` its carrying capacity. In-vivo growth
  is the cell model's proliferation and death scaled by one factor (``mu_max``/``death_rate`` are
  set per animal by the experiment).
* **Metastases.** ``met_<organ>`` for lung, liver, bone and brain, seeded at a rate proportional to
  the primary's cells and growing with the cell model's proliferation at that organ's free drug
  exposure. Lung, liver and bone see the plasma free concentration — the same as the primary — so
  they share its signalling state exactly; the brain sees ``Kp,uu · free plasma`` and therefore has
  its own copy of the cell biology (species and expressions suffixed ``_brain``).
* **Adaptation** (optional, :mod:`._adaptation`): the slow escape state of long-term letrozole.

Internal units: nM, nmol, L, hours, cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..errors import InputError
from ..knowledge import load_knowledge
from ._cell import CellContext, assemble_cell_model, conc_param, ligand_id, split_compounds
from ._core import Expression, Model, Reaction, Species, assumed
from ._params import kb_param, param

__all__ = ["TumourContext", "assemble_tumour_model", "ORGANS", "depot_species", "plasma_species",
           "split_compounds", "organ_copy"]

ORGANS = ("lung", "liver", "bone", "brain")


def depot_species(compound: str) -> str:
    return f"depot_{ligand_id(compound)}"


def plasma_species(compound: str) -> str:
    return f"plasma_{ligand_id(compound)}"


@dataclass(frozen=True)
class TumourContext:
    """What an in-vivo model is assembled for: the cell line, every drug any arm gives, the organs.

    ``adaptation`` adds the long-term-letrozole escape state; ``brain_biology`` gives brain metastases
    their own signalling at brain exposure (off: the brain shares the primary's state).
    """

    cell_line: str = "MCF7"
    compounds: tuple[str, ...] = ()
    organs: tuple[str, ...] = ORGANS
    adaptation: bool = False
    brain_biology: bool = True

    def __post_init__(self) -> None:
        bad = [o for o in self.organs if o not in ORGANS]
        if bad:
            raise InputError(f"unknown organ(s) {bad}", field="organs", value=bad, valid=", ".join(ORGANS))


# ----------------------------------------------------------------------------------------------
def _pk_module(compound: str) -> Model:
    """Depot → plasma (→ periphery) → elimination, amounts in nmol; parameters set per animal."""
    from ..pk import pk_model

    L = ligand_id(compound)
    mod = f"pk_{L}"
    pkm = pk_model(compound, "mouse")
    two = pkm.compartments == 2
    src = assumed("set per animal from pk.yaml (mouse) by the experiment, with log-normal variability")
    params = [
        param(f"ka_{L}", 1.0, "1/h", src, module=mod, description=f"{compound} absorption from the depot"),
        param(f"CL_{L}", 1.0, "L/h", src, module=mod, description=f"{compound} clearance"),
        param(f"Vc_{L}", 1.0, "L", src, module=mod, description=f"{compound} central volume"),
        param(f"fu_{L}", 1.0, "1", src, module=mod, description=f"{compound} unbound fraction in plasma"),
        param(f"kpuu_{L}", 1.0, "1", src, module=mod, description=f"{compound} brain-to-plasma unbound ratio (Kp,uu)"),
    ]
    species = [Species(f"depot_{L}", 0.0, "nmol", f"{compound} at the dosing site (gut or injection depot)", mod),
               Species(f"plasma_{L}", 0.0, "nmol", f"{compound} in the central compartment", mod)]
    reactions = [
        Reaction(f"absorb_{L}", ((f"depot_{L}", 1),), ((f"plasma_{L}", 1),), f"ka_{L} * depot_{L}", mod,
                 f"first-order absorption of {compound}"),
        Reaction(f"eliminate_{L}", ((f"plasma_{L}", 1),), (), f"CL_{L} / Vc_{L} * plasma_{L}", mod,
                 f"first-order elimination of {compound}"),
    ]
    if two:
        params += [param(f"Q_{L}", 1.0, "L/h", src, module=mod, description=f"{compound} inter-compartmental clearance"),
                   param(f"Vp_{L}", 1.0, "L", src, module=mod, description=f"{compound} peripheral volume")]
        species.append(Species(f"periph_{L}", 0.0, "nmol", f"{compound} in the peripheral compartment", mod))
        reactions.append(Reaction(f"distribute_{L}", ((f"plasma_{L}", 1),), ((f"periph_{L}", 1),),
                                  f"Q_{L} / Vc_{L} * plasma_{L} - Q_{L} / Vp_{L} * periph_{L}", mod,
                                  f"distribution of {compound} to the periphery"))
    return Model(species=tuple(species), parameters=tuple(params), reactions=tuple(reactions))


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _rename(formula: str, mapping: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: mapping.get(m.group(0), m.group(0)), formula)


def organ_copy(cell: Model, suffix: str, *, renamed_parameters: dict[str, str], module: str) -> Model:
    """A copy of the cell biology in another organ: every species, expression and reaction renamed
    ``<name>_<suffix>``; parameters are shared except ``renamed_parameters`` (e.g. drug exposure)."""
    mapping = {s.name: f"{s.name}_{suffix}" for s in cell.species}
    mapping.update({e.name: f"{e.name}_{suffix}" for e in cell.expressions})
    mapping.update(renamed_parameters)
    species = tuple(replace(s, name=mapping[s.name], module=module, initial=0.0 if s.name == "cells" else s.initial)
                    for s in cell.species)
    exprs = tuple(replace(e, name=mapping[e.name], formula=_rename(e.formula, mapping), module=module) for e in cell.expressions)
    reactions = tuple(
        replace(r, name=f"{r.name}_{suffix}", module=module, rate=_rename(r.rate, mapping),
                reactants=tuple((mapping.get(s, s), n) for s, n in r.reactants),
                products=tuple((mapping.get(s, s), n) for s, n in r.products))
        for r in cell.reactions)
    return Model(species=species, expressions=exprs, reactions=reactions)


def _metastasis(cell: Model, ctx: TumourContext, drugs: tuple[str, ...]) -> Model:
    mod = "metastasis"
    params = [kb_param("capacity_met", "cells", module=mod)]
    species, reactions, exprs = [], [], []
    for organ in ctx.organs:
        params.append(kb_param(f"seed_{organ}", "1/h", module=mod))
    for organ in ctx.organs:
        name = f"met_{organ}"
        if organ == "brain" and ctx.brain_biology:
            continue  # handled by the organ copy below
        species.append(Species(name, 0.0, "cells", f"metastatic cells in the {organ}", mod))
        exprs.append(Expression(f"net_growth_rate_{organ}", f"proliferation_rate * (1 - {name} / capacity_met) - loss_rate",
                                "1/h", f"net growth of {organ} metastases (plasma free exposure, like the primary)", mod))
        reactions.append(Reaction(f"seed_{name}", (), ((name, 1),), f"seed_{organ} * cells", mod, f"dissemination to the {organ}"))
        reactions.append(Reaction(f"grow_{name}", (), ((name, 1),), f"net_growth_rate_{organ} * {name}", mod))
    out = Model(species=tuple(species), parameters=tuple(params), expressions=tuple(exprs), reactions=tuple(reactions))
    if "brain" in ctx.organs and ctx.brain_biology:
        renamed = {"cells": "met_brain", "capacity": "capacity_met"}
        for c in drugs:
            renamed[conc_param(c)] = f"{conc_param(c)}_brain"
        brain = organ_copy(cell, "brain", renamed_parameters=renamed, module="brain")
        conc = tuple(Expression(f"{conc_param(c)}_brain", f"kpuu_{ligand_id(c)} * {conc_param(c)}", "nM",
                                f"free {c} in the brain (Kp,uu × free plasma)", "brain") for c in drugs)
        seed = Model(reactions=(Reaction("seed_met_brain", (), (("met_brain", 1),), "seed_brain * cells", mod,
                                         "dissemination to the brain"),))
        out = out + brain + Model(expressions=conc) + seed
    return out


def _readouts(ctx: TumourContext) -> Model:
    mod = "readouts"
    params = (
        kb_param("cells_per_mm3", "cells/mm^3", module=mod),
        kb_param("ki67_basal", "1", module=mod),
        kb_param("ki67_max", "1", module=mod),
    )
    exprs = [
        Expression("tumour_volume", "cells / cells_per_mm3", "mm^3", "primary tumour volume", mod),
        Expression("Ki67", "ki67_basal + (ki67_max - ki67_basal) * proliferation_rate / mu_max", "1",
                   "Ki67-positive fraction (cycling cells ∝ proliferation rate)", mod),
    ]
    return Model(parameters=params, expressions=tuple(exprs))


def assemble_tumour_model(context: TumourContext | None = None, **kwargs) -> Model:
    """The in-vivo model for a study: cell line × every drug given in any arm.

    >>> m = assemble_tumour_model(cell_line="MCF7-Y537S", compounds=("lasofoxifene", "fulvestrant", "palbociclib"))
    """
    ctx = context or TumourContext(**kwargs)
    kb = load_knowledge()
    drugs = tuple(dict.fromkeys(kb.compound(c).name for c in ctx.compounds))
    if "oestradiol" in drugs:
        raise InputError("oestradiol is set by the host (ovariectomy / pellet), not dosed as a drug", field="compounds")
    ligands, inhibitors = split_compounds(drugs)
    cell = assemble_cell_model(CellContext(ctx.cell_line, ligands, inhibitors, "breast"))
    if ctx.adaptation:
        from ._adaptation import add_adaptation

        cell = add_adaptation(cell, cell_line=ctx.cell_line)
    model = cell
    for c in drugs:
        model = model + _pk_module(c)
        L = ligand_id(c)
        model = model.parameter_to_expression(Expression(
            conc_param(c), f"fu_{L} * plasma_{L} / Vc_{L}", "nM", f"free {c} in plasma and tumour (fu × C)", f"pk_{L}"))
    model = model + _metastasis(cell, ctx, drugs) + _readouts(ctx)
    capacity = kb_param("capacity_tumour", "cells", model_name="capacity", module="growth")
    model = replace(model, parameters=tuple(
        replace(p, value=capacity.value, provenance=capacity.provenance) if p.name == "capacity" else p for p in model.parameters))
    obs = list(cell.observables) + ["tumour_volume", "Ki67"] + [f"met_{o}" for o in ctx.organs]
    obs += [conc_param(c) for c in drugs]
    if ctx.adaptation:
        obs += ["adaptation", "growth_factor_signal"]
    name = f"tumour[{ctx.cell_line}; {','.join(drugs) or '-'}; organs={','.join(ctx.organs)}{'; adaptation' if ctx.adaptation else ''}]"
    return replace(model, name=name, observables=tuple(dict.fromkeys(obs))).validate()


def pk_parameter_names(compound: str, two_compartment: bool) -> dict[str, str]:
    """PKParameters field → model parameter name for one compound."""
    L = ligand_id(compound)
    out = {"ka": f"ka_{L}", "clearance": f"CL_{L}", "volume_central": f"Vc_{L}"}
    if two_compartment:
        out.update({"intercompartmental_clearance": f"Q_{L}", "volume_peripheral": f"Vp_{L}"})
    return out
