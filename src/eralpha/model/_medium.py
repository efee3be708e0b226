"""Free drug in the culture medium: the nominal concentration less what the serum proteins bind.

The cell model's ``conc_<id>`` is the *free* concentration the cells see (in vivo, fu × plasma; see
:mod:`._tumour`). A dish is dosed at a nominal concentration, and 10 % serum binds part of it. The unbound
fraction in the medium follows from the human plasma unbound fraction (``pk.yaml``) by the Kalvass & Maurer
(2002) dilution of a single binding site::

    fu_medium = 1 / (1 + D · (1/fu_plasma − 1))        D = medium_serum_protein_ratio (10 % FBS ≈ 0.1)

**Which compounds.** Only the CDK4/6 inhibitors (a compound inhibiting CDK4 or CDK6): their cellular
potency is one factor (``cdk_cellular_shift``) over the biochemical IC50s, fitted to dishes, and patients
see free plasma levels — so the shift must be learned on free medium concentrations for the dish and the
patient to agree. The ER ligands are left nominal: their knowledge-base affinities and efficacies were
checked against cellular data at nominal medium concentrations (validate rows such as DC50 / IC50 in MCF-7),
and most are > 99 % bound in plasma, so a medium fu (~0.1 for fu_plasma 0.01) would move those rows ten-fold
without a refit of the ER side. The other kinase / enzyme inhibitors (PI3Kα, mTORC1, aromatase) keep their
in-vitro potencies as published on nominal concentrations.
"""

from __future__ import annotations

import numpy as np

from ..knowledge import load_knowledge

__all__ = ["MEDIUM_BINDING_TARGETS", "medium_unbound_fraction", "free_in_medium"]

#: a compound inhibiting any of these is dosed into the cell model at its free medium concentration
MEDIUM_BINDING_TARGETS = ("CDK4", "CDK6")


def medium_unbound_fraction(compound: str) -> float:
    """Unbound fraction of ``compound`` in 10 % serum medium (1 for compounds left nominal, see module doc)."""
    kb = load_knowledge()
    comp = kb.compound(compound)
    if not any(t in comp.inhibition for t in MEDIUM_BINDING_TARGETS):
        return 1.0
    from ..pk import pk_model

    fu = pk_model(comp.name, "human").fraction_unbound_plasma
    if fu is None:
        from ..errors import InputError

        raise InputError(f"no human plasma unbound fraction for {comp.name}, needed for its free medium concentration",
                         file="knowledge/data/pk.yaml", field=f"{comp.name}.human.fraction_unbound_plasma",
                         valid="a fraction in (0, 1]")
    d = kb.parameter("medium_serum_protein_ratio").value
    return float(1.0 / (1.0 + d * (1.0 / fu.value - 1.0)))


def free_in_medium(compound: str, nominal_nM):
    """The cell model's ``conc_<id>`` (free, nM) for a nominal medium concentration (nM, scalar or array)."""
    return np.asarray(nominal_nM, dtype=float) * medium_unbound_fraction(compound)
