"""Escape pathways: growth-factor receptors → PI3K/AKT/mTORC1/S6K (with the S6K ⊣ IRS feedback) and MAPK,
and their crosstalk with ERα.

    RTK input (EGFR/HER2)  = growth_factor_signal                (raised by LTLT-Ca adaptation)
    PI3K   = RTK · IRS · pik3ca_gain / (1 + [alpelisib]/IC50)      PIK3CA hotspot mutants raise output
    AKT    = PI3K / (1 + [capivasertib]/IC50)
    mTORC1 = AKT / (1 + [everolimus]/IC50);  S6K = mTORC1
    dIRS/dt = k_IRS · ((1 + fb) / (1 + fb · S6K / S6K_basal) − IRS)   S6K phosphorylates IRS-1 → degradation,
              so mTORC1 or PI3K inhibition relieves the feedback and PI3K/AKT rebounds (O'Reilly 2006)
    MAPK   = RTK (1 + K) / (RTK + K)                               ERK, 1 at full serum
    FOXO   = 1 / (1 + AKT)                                         AKT phosphorylates and exports FOXO
    ER_synthesis = (1 + g · FOXO) / (1 + g · FOXO_basal)           PI3K/AKT inhibition → FOXO → more ESR1
    ER_phospho_activity = max · X² / (X² + K²) · ER_apo / ER_total_0,  X = S6K + MAPK
                           (Ser167/Ser118 phosphorylation gives unliganded ERα activity: ligand-independent
                           ER signalling once growth-factor input is high)

``*_basal`` are the line's own untreated full-serum values, so an untreated cell has IRS = 1 and
ER_synthesis = 1 whatever its PIK3CA status. Every constant comes from ``knowledge/data/parameters/signalling.yaml``
(the PIK3CA gain from ``cell.yaml``); drug potencies from ``compounds.yaml``.
"""

from __future__ import annotations

from ..knowledge import load_knowledge
from ._core import Expression, Model, Species, assumed
from ._motifs import degrade, synthesise
from ._params import from_value, kb_param_native, kb_value, param

__all__ = ["signalling_module", "cell_param", "add_to_expression"]

#: inhibitor target in compounds.yaml -> the activity it inhibits
_TARGETS = {"PI3Ka": "PI3K", "AKT1": "AKT", "mTORC1": "mTORC1"}


def cell_param(name: str, module: str, description: str = "", *, as_name: str | None = None):
    """A model parameter from ``knowledge/data/parameters/`` (units as stored there)."""
    return kb_param_native(name, module=module, description=description, model_name=as_name)


def add_to_expression(model: Model, name: str, term: str) -> Model:
    """``name = (old formula) + term`` — how a module adds a contribution to another module's output."""
    from dataclasses import replace

    exprs = tuple(replace(e, formula=f"({e.formula}) + {term}") if e.name == name else e for e in model.expressions)
    return replace(model, expressions=exprs)


def signalling_module(ctx) -> Model:
    from ._cell import ligand_id, variant_id

    kb = load_knowledge()
    mod = "signalling"
    line = kb.cell_line(ctx.cell_line)
    gain = kb_value("pik3ca_gain_mutant")
    params = [
        cell_param("growth_factor_signal", mod, "EGFR/HER2 receptor input (full serum = 1)"),
        param("pik3ca_gain", 1.0 if line.pik3ca == "WT" else gain.value, "1",
              assumed(gain.source, f"PIK3CA {line.pik3ca}; {gain.note}") if line.pik3ca != "WT"
              else assumed("PIK3CA wild type", "no gain"), module=mod, description="PI3K output gain of the line's PIK3CA allele"),
        cell_param("k_IRS", mod, "IRS-1 relaxation rate"),
        cell_param("S6K_IRS_feedback", mod, "strength of S6K ⊣ IRS-1"),
        cell_param("K_MAPK", mod, "receptor input half-saturating ERK"),
        cell_param("ER_phospho_max", mod, "maximal ligand-independent ER activity from kinase phosphorylation"),
        cell_param("K_ER_phospho", mod, "kinase output for half-maximal ER phosphorylation"),
        cell_param("FOXO_ER_gain", mod, "FOXO-driven rise of ESR1 synthesis"),
    ]
    factors = {"PI3K": "", "AKT": "", "mTORC1": ""}
    for c in ctx.inhibitors:
        comp = kb.compound(c)
        L = ligand_id(c)
        for target, activity in _TARGETS.items():
            if target in comp.inhibition:
                params.append(from_value(f"IC50_{L}_{target}", comp.inhibition[target], "nM", module=mod,
                                         description=f"{c} potency on {target}"))
                factors[activity] += f" / (1 + conc_{L} / IC50_{L}_{target})"
    # the line's untreated state (no drug, IRS = 1): S6K_basal = pik3ca_gain, FOXO_basal = 1/(1 + pik3ca_gain)
    exprs = (
        Expression("RTK_activity", "growth_factor_signal", "1", "EGFR/HER2 receptor signalling", mod),
        Expression("PI3K_activity", f"RTK_activity * IRS * pik3ca_gain{factors['PI3K']}", "1",
                   "PI3K output relative to a wild-type cell in full serum", mod),
        Expression("AKT_activity", f"PI3K_activity{factors['AKT']}", "1", "AKT activity", mod),
        Expression("mTORC1_activity", f"AKT_activity{factors['mTORC1']}", "1", "mTORC1 activity", mod),
        Expression("S6K_activity", "mTORC1_activity", "1", "S6K1 activity (mTORC1 substrate)", mod),
        Expression("MAPK_activity", "RTK_activity * (1 + K_MAPK) / (RTK_activity + K_MAPK)", "1", "ERK activity", mod),
        Expression("FOXO_activity", "1 / (1 + AKT_activity)", "1", "nuclear FOXO3 (inhibited by AKT)", mod),
        Expression("ER_synthesis", "(1 + FOXO_ER_gain * FOXO_activity) / (1 + FOXO_ER_gain / (1 + pik3ca_gain))", "1",
                   "ESR1 synthesis relative to the untreated line (FOXO-driven)", mod),
        Expression("kinase_drive", "S6K_activity + MAPK_activity", "1", "ER-phosphorylating kinase output", mod),
        Expression("ER_phospho_activity",
                   "ER_phospho_max * kinase_drive^2 / (kinase_drive^2 + K_ER_phospho^2) * ER_apo_total / ER_total_0", "1",
                   "ligand-independent activity of kinase-phosphorylated unliganded ERα", mod),
    )
    apo = " + ".join(f"ER_{variant_id(t)}" for t in ctx.variant_mix)
    exprs = exprs + (Expression("ER_apo_total", apo, "nM", "unliganded ERα (every variant)", mod),)
    species = (Species("IRS", 1.0, "1", "IRS-1 availability (1 in the untreated line)", mod),)
    frags = (synthesise("IRS", "k_IRS * (1 + S6K_IRS_feedback) / (1 + S6K_IRS_feedback * S6K_activity / pik3ca_gain)",
                        module=mod, name="make_IRS")
             + degrade("IRS", "k_IRS", module=mod, name="lose_IRS"))
    return Model(species=species, parameters=tuple(params), expressions=exprs) + frags
