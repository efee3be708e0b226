"""Adaptive escape from oestrogen deprivation: the long-term-letrozole (LTLT-Ca) phenotype as a mechanism.

One slow state, ``adaptation`` (0 = the oestrogen-dependent parent, 1 = fully adapted), is driven by
*low ER activity* — oestrogen starvation, not a clock:

    d adaptation / dt = k_adapt · starvation · (adapt_seed + adaptation) · (1 − adaptation)
                        − k_revert · (1 − starvation) · adaptation
    starvation        = K² / (K² + ER_drive²)

The ``(adapt_seed + adaptation)`` factor makes adaptation self-reinforcing (growth-factor receptor
signalling up-regulates itself; equivalently, a rare pre-adapted clone expanding under selection),
so it starts slowly and then accelerates, as resistance emerges only after many weeks of letrozole.
Adaptation acts on the cell model through three of its existing inputs:

* growth-factor (HER2/EGFR → MAPK/PI3K) signalling rises: ``growth_factor_signal`` =
  ``gf_basal · (1 + gf_gain · adaptation)``, which feeds PI3K/mTORC1 → cyclin D1 (so PI3K/mTOR
  inhibitors act on it);
* ERα synthesis falls: each allele's share ``frac_<v>`` is multiplied by ``1 − er_loss · adaptation``;
* hence ER target genes (pS2/TFF1, PGR) fall with the receptor.

Parameters tuned so that continuously letrozole-treated MCF-7Ca tumours regress, then regrow after
more than a year (seed 003: LTLT-Ca tumours were harvested after > 56 weeks of letrozole) are marked
``calibrated`` with that target.
"""

from __future__ import annotations

from ..knowledge import load_knowledge
from ._cell import variant_id
from ._core import Expression, Model, Reaction, Species, assumed
from ._params import kb_param, param

__all__ = ["add_adaptation", "ADAPTED_LINES"]

#: cell lines that *are* the adapted state (harvested from tumours that regrew on letrozole)
ADAPTED_LINES = ("LTLT-Ca",)


def add_adaptation(cell: Model, *, cell_line: str = "MCF-7Ca") -> Model:
    """Add the adaptation state and its effects to an assembled cell model."""
    kb = load_knowledge()
    mod = "adaptation"
    ltlt = kb.cell_line("LTLT-Ca")
    # values, units and provenance: knowledge/data/parameters/tumour.yaml
    params = [kb_param("k_adapt", "1/h", module=mod), kb_param("adapt_seed", "1", module=mod),
              kb_param("k_revert", "1/h", module=mod), kb_param("K_starvation", "1", module=mod),
              kb_param("gf_basal", "1", module=mod), kb_param("gf_gain", "1", module=mod)]
    rel = ltlt.properties["er_level_relative_to_parent"]
    params.append(param("er_loss", 1.0 - rel.value, "1", assumed(
        f"{rel.source}: LTLT-Ca ERα ≈ {rel.value:g} × parent", "fractional loss of ERα synthesis at full adaptation"),
        module=mod, description="loss of ERα synthesis at full adaptation"))
    initial = 1.0 if cell_line in ADAPTED_LINES else 0.0
    species = (Species("adaptation", initial, "1", "adaptive escape state (0 parent, 1 LTLT-Ca-like)", mod),)
    # Hill coefficient 2, written as a literal (a symbolic exponent puts 1/ER_drive in the Jacobian)
    starvation = "K_starvation^2 / (K_starvation^2 + ER_drive^2)"
    reactions = (
        Reaction("adapt", (), (("adaptation", 1),),
                 f"k_adapt * ({starvation}) * (adapt_seed + adaptation) * (1 - adaptation)", mod,
                 "oestrogen starvation drives self-reinforcing growth-factor reprogramming"),
        Reaction("revert", (("adaptation", 1),), (),
                 f"k_revert * (1 - {starvation}) * adaptation", mod, "slow return when ER signalling is restored"),
    )
    out = cell + Model(species=species, parameters=tuple(params), reactions=reactions)
    out = out.parameter_to_expression(Expression(
        "growth_factor_signal", "gf_basal * (1 + gf_gain * adaptation)", "1",
        "HER2/EGFR → MAPK/PI3K input, raised by adaptation", mod))
    for p in cell.parameters:
        if p.name.startswith("frac_"):
            base = f"{p.name}_parent"
            out = out + Model(parameters=(param(base, p.value, "1", p.provenance, module=mod,
                                                description=f"allele share of ERα {variant_id(p.name[5:])} synthesis in the parent"),))
            out = out.parameter_to_expression(Expression(p.name, f"{base} * (1 - er_loss * adaptation)", "1",
                                                         "allele share of ERα synthesis, lowered by adaptation", mod))
    return out
