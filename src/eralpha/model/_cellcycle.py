"""The G1/S decision and the fate of cells: Myc, cyclin D–CDK4/6, cyclin E–CDK2, p21/p27, Rb/E2F, and
cells as compartments (cycling, G1-arrested, senescent) with a death flux.

Signalling to the restriction point::

    MYC     ← ER drive (+ MAPK)                                  Myc is an early ER target (t½ 30 min)
    CycD    ← CCND1 mRNA (ER) + mTORC1 (translation) + MAPK      cyclin D1 (t½ 30 min)
    CDK46_activity = CycD · (s4 / (1 + Σ c/(IC50_CDK4·shift)) + (1 − s4) / (1 + Σ c/(IC50_CDK6·shift)))
                                                                 each drug inhibits CDK4 and CDK6 separately
    KIP_free = K_seq / (K_seq + CDK46_activity)                  p21/p27 are sequestered by cyclin D–CDK4/6;
                                                                 CDK4/6 inhibitors release them onto CDK2
    CDK2_activity = CycE / (1 + KIP_free / K_KIP) · Π 1/(1 + c/IC50_CDK2)   (abemaciclib's off-target CDK2)
    CycE    ← MYC · E2F · (1 + gain · CDK2_adaptation)            E2F positive feedback on cyclin E
    d pRb/dt = (k_D · CDK46 + k_E · CDK2)(1 − pRb) − k_dephos · pRb     pRb fraction = free E2F
    E2F_switch = pRb^n / (K^n + pRb^n)                           restriction point

Adaptive resistance: ``CDK2_adaptation`` rises while CDK4/6 is pharmacologically blocked (the blocked share
of cyclin D–CDK4/6) and raises E2F-driven cyclin E — cyclin E/CDK2 then phosphorylates Rb without CDK4/6
(Herrera-Abreu 2016).

Fates (fractions of the viable ``cells``; c = 1 − a − s cycling)::

    division    = mu_max · E2F_switch · c · (1 − cells/capacity)          (per viable cell)
    cycling  → arrested    k_arrest · (1 − E2F_switch)
    arrested → cycling     k_release · E2F_switch
    arrested → senescent   k_senescence          irreversible exit after prolonged arrest
    death: cycling cells death_rate; arrested cells death_rate × arrested_death_share + apoptosis_arrested;
           senescent cells death_rate × senescent_death_share (they resist apoptosis); every cell +
           apoptosis_CDK2_block · (drug-inhibited share of CDK2)  (abemaciclib's cytotoxicity)

In culture the basal loss (detachment, apoptosis) hits cycling and arrested cells alike
(``arrested_death_share`` = 1) and senescent cells persist (``senescent_death_share`` < 1). In a tumour the
host clears senescent cells (Xue et al. 2007), so the xenograft lab sets their in-vivo share
(``senescent_loss_share`` in ``knowledge/data/parameters/xenograft.yaml``).

``cells`` stays the total viable count (what a Coulter counter, a luminescence image or a caliper sees),
so dosing experiments seed it as before; the fractions follow d a/dt = A'/N − a · net_growth_rate.
"""

from __future__ import annotations

from ..knowledge import load_knowledge
from ._core import Expression, Model, Reaction, Species
from ._motifs import degrade, synthesise
from ._params import from_value, half_life_to_rate
from ._signalling import cell_param

__all__ = ["cell_cycle_module", "fate_module", "CDK2_OFF_TARGET"]

#: off-target cellular CDK2 potency per drug, by knowledge-base parameter (parameters/cell_cycle.yaml, sourced there)
CDK2_OFF_TARGET = {"abemaciclib": "abemaciclib_CDK2_IC50"}


def cell_cycle_module(ctx) -> Model:
    from ._cell import ligand_id

    kb = load_knowledge()
    mod = "cell_cycle"
    cp = kb.parameter
    params = [
        half_life_to_rate("kdeg_MYC", cp("MYC_half_life"), module=mod, description="Myc turnover"),
        half_life_to_rate("kdeg_CycD", cp("CycD_half_life"), module=mod, description="cyclin D1 turnover"),
        half_life_to_rate("kdeg_CycE", cp("CycE_half_life"), module=mod, description="cyclin E turnover"),
    ]
    for n in ("myc_basal", "myc_from_MAPK", "cycd_basal", "cycd_from_mTORC1", "cycd_from_MAPK", "cdk4_share",
              "cdk_cellular_shift", "cyce_basal", "KIP_sequestration_K", "KIP_inhibition_K", "k_Rb_CDK46", "k_Rb_CDK2",
              "k_Rb_dephos", "K_pRb", "n_pRb", "k_CDK2_adapt", "k_CDK2_revert", "cyce_adapt_gain"):
        params.append(cell_param(n, mod))
    cdk4, cdk6, cdk2 = "1", "1", ""
    for c in ctx.inhibitors:
        comp = kb.compound(c)
        L = ligand_id(c)
        for kinase in ("CDK4", "CDK6"):
            if kinase in comp.inhibition:
                params.append(from_value(f"IC50_{L}_{kinase}", comp.inhibition[kinase], "nM", module=mod,
                                         description=f"{c} potency on cyclin D–{kinase} (biochemical)"))
        if "CDK4" in comp.inhibition:
            cdk4 += f" + conc_{L} / (IC50_{L}_CDK4 * cdk_cellular_shift)"
        if "CDK6" in comp.inhibition:
            cdk6 += f" + conc_{L} / (IC50_{L}_CDK6 * cdk_cellular_shift)"
        if comp.name in CDK2_OFF_TARGET:
            params.append(cell_param(CDK2_OFF_TARGET[comp.name], mod, f"{c} cellular potency on cyclin E–CDK2",
                                   as_name=f"IC50_{L}_CDK2"))
            cdk2 += f" / (1 + conc_{L} / IC50_{L}_CDK2)"
    cdk2_drug = f"1{cdk2}" if cdk2 else "1"
    exprs = (
        Expression("CDK46_free_share", f"cdk4_share / ({cdk4}) + (1 - cdk4_share) / ({cdk6})", "1",
                   "share of cyclin D–CDK4/6 not held by a CDK4/6 inhibitor", mod),
        Expression("CDK46_activity", "CycD * CDK46_free_share", "1", "active cyclin D–CDK4/6", mod),
        Expression("KIP_free", "KIP_sequestration_K / (KIP_sequestration_K + CDK46_activity)", "1",
                   "p21/p27 not sequestered by cyclin D–CDK4/6 (fraction of total)", mod),
        Expression("CDK2_drug_share", cdk2_drug, "1", "share of CDK2 not inhibited by drug", mod),
        Expression("CDK2_activity", "CycE / (1 + KIP_free / KIP_inhibition_K) * CDK2_drug_share", "1",
                   "active cyclin E–CDK2", mod),
        Expression("E2F_switch", "pRb^n_pRb / (K_pRb^n_pRb + pRb^n_pRb)", "1", "S-phase commitment (restriction point)", mod),
    )
    species = (
        Species("MYC", 1.0, "1", "Myc protein, fraction of the E2-stimulated level", mod),
        Species("CycD", 1.0, "1", "cyclin D1 protein, fraction of the E2-stimulated level", mod),
        Species("CycE", 0.5, "1", "cyclin E protein, fraction of maximal", mod),
        Species("pRb", 0.5, "1", "fraction of Rb hyper-phosphorylated (E2F released)", mod),
        Species("CDK2_adaptation", 0.0, "1", "adaptive cyclin E/CDK2 up-regulation under CDK4/6 inhibition (0–1)", mod),
    )
    frags = (
        synthesise("MYC", "kdeg_MYC * (myc_basal + (1 - myc_basal) * ER_drive + myc_from_MAPK * MAPK_activity)", module=mod)
        + degrade("MYC", "kdeg_MYC", module=mod)
        + synthesise("CycD", "kdeg_CycD * (cycd_basal + CCND1 + cycd_from_mTORC1 * mTORC1_activity + cycd_from_MAPK * MAPK_activity)",
                     module=mod)
        + degrade("CycD", "kdeg_CycD", module=mod)
        + synthesise("CycE", "kdeg_CycE * (cyce_basal + MYC * pRb * (1 + cyce_adapt_gain * CDK2_adaptation))", module=mod,
                     name="E2F_induces_CycE")
        + degrade("CycE", "kdeg_CycE", module=mod)
        + synthesise("pRb", "(k_Rb_CDK46 * CDK46_activity + k_Rb_CDK2 * CDK2_activity) * (1 - pRb)", module=mod, name="phosphorylate_Rb")
        + degrade("pRb", "k_Rb_dephos", module=mod, name="dephosphorylate_Rb")
        + synthesise("CDK2_adaptation", "k_CDK2_adapt * (1 - CDK46_free_share) * (1 - CDK2_adaptation)", module=mod,
                     name="adapt_CDK2")
        + degrade("CDK2_adaptation", "k_CDK2_revert", module=mod, name="revert_CDK2")
    )
    return Model(species=species, parameters=tuple(params), expressions=exprs) + frags


def fate_module(ctx) -> Model:
    mod = "fate"
    params = tuple(cell_param(n, mod) for n in ("mu_max", "k_arrest", "k_release", "k_senescence", "death_rate",
                                             "apoptosis_arrested", "apoptosis_CDK2_block", "arrested_death_share", "senescent_death_share",
                                             "capacity"))
    exprs = (
        Expression("frac_cycling", "1 - frac_arrested - frac_senescent", "1", "cycling share of viable cells", mod),
        Expression("proliferation_rate", "mu_max * E2F_switch * frac_cycling", "1/h", "divisions per viable cell", mod),
        Expression("drug_apoptosis", "apoptosis_CDK2_block * (1 - CDK2_drug_share)", "1/h",
                   "apoptosis from drug inhibition of CDK2 (abemaciclib)", mod),
        Expression("loss_rate", "death_rate * (frac_cycling + arrested_death_share * frac_arrested + senescent_death_share * frac_senescent)"
                   " + drug_apoptosis + apoptosis_arrested * frac_arrested", "1/h",
                   "deaths per viable cell (arrested and senescent cells at their own share of the basal loss)", mod),
        Expression("net_growth_rate", "proliferation_rate * (1 - cells / capacity) - loss_rate", "1/h", "d log(cells)/dt", mod),
        Expression("arrest_flux", "k_arrest * (1 - E2F_switch) * frac_cycling - k_release * E2F_switch * frac_arrested", "1/h",
                   "net cycling → G1-arrest transfer (fraction of viable cells per hour)", mod),
    )
    species = (
        Species("cells", 5000.0, "cells", "viable cells (cycling + arrested + senescent)", mod),
        Species("frac_arrested", 0.0, "1", "G1-arrested share of viable cells (reversible)", mod),
        Species("frac_senescent", 0.0, "1", "senescent share of viable cells (irreversible)", mod),
    )
    reactions = (
        Reaction("grow_cells", (), (("cells", 1),), "net_growth_rate * cells", mod, "division minus death"),
        Reaction("arrest_cells", (), (("frac_arrested", 1),),
                 "arrest_flux - k_senescence * frac_arrested"
                 " - (death_rate * arrested_death_share + drug_apoptosis + apoptosis_arrested) * frac_arrested"
                 " - frac_arrested * net_growth_rate", mod, "G1 arrest, release, senescence and death of arrested cells"),
        Reaction("senesce_cells", (), (("frac_senescent", 1),),
                 "k_senescence * frac_arrested - (death_rate * senescent_death_share + drug_apoptosis) * frac_senescent"
                 " - frac_senescent * net_growth_rate",
                 mod, "irreversible senescence after prolonged arrest"),
    )
    return Model(species=species, parameters=params, expressions=exprs, reactions=reactions)
