"""Motifs that write reactions the way a biologist says them (after PySB's macros).

``bind("ER", "E2", "ER_E2", kon="kon_E2", kd="Kd_E2_WT")`` — reversible binding to a ligand held at a
fixed medium concentration; ``degrade``, ``synthesise``, ``convert`` and ``turnover`` likewise.
Each returns a small :class:`Model` fragment; fragments add up with ``+``.
"""

from __future__ import annotations

from ._core import Model, Reaction

__all__ = ["bind", "bind_fixed_ligand", "degrade", "synthesise", "convert", "fragment"]


def fragment(*reactions: Reaction) -> Model:
    return Model(reactions=tuple(reactions))


def bind_fixed_ligand(receptor: str, ligand_conc: str, complex_: str, *, kon: str, kd: str, module: str = "") -> Model:
    """receptor + ligand ⇌ complex, the free ligand held at ``ligand_conc`` (medium in excess).

    Forward rate kon·L·R, reverse kon·Kd·C, so Kd is an input of its own rather than koff.
    """
    return fragment(
        Reaction(
            f"bind_{complex_}",
            ((receptor, 1),),
            ((complex_, 1),),
            f"{kon} * {ligand_conc} * {receptor} - {kon} * {kd} * {complex_}",
            module=module,
            description=f"{receptor} binds {ligand_conc} reversibly (Kd = {kd})",
        )
    )


def bind(a: str, b: str, complex_: str, *, kon: str, kd: str, module: str = "") -> Model:
    """a + b ⇌ complex with mass action; both partners are species."""
    return fragment(
        Reaction(
            f"bind_{complex_}",
            ((a, 1), (b, 1)),
            ((complex_, 1),),
            f"{kon} * {a} * {b} - {kon} * {kd} * {complex_}",
            module=module,
            description=f"{a} + {b} ⇌ {complex_} (Kd = {kd})",
        )
    )


def degrade(species: str, k: str, *, module: str = "", name: str | None = None) -> Model:
    """First-order loss of ``species`` at rate constant ``k`` (1/h)."""
    return fragment(Reaction(name or f"degrade_{species}", ((species, 1),), (), f"{k} * {species}", module=module))


def synthesise(species: str, rate: str, *, module: str = "", name: str | None = None) -> Model:
    """Zero-order production of ``species`` at ``rate`` (any formula)."""
    return fragment(Reaction(name or f"synthesise_{species}", (), ((species, 1),), rate, module=module))


def convert(a: str, b: str, rate: str, *, module: str = "", name: str | None = None) -> Model:
    """a → b at ``rate`` (a formula, e.g. Michaelis–Menten)."""
    return fragment(Reaction(name or f"convert_{a}_to_{b}", ((a, 1),), ((b, 1),), rate, module=module))
