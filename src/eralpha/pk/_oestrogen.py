"""Whole-body oestrogen: peripheral aromatisation in postmenopausal women, and the NSG mouse.

Postmenopausal oestrogen comes from peripheral (adipose) aromatisation of adrenal androstenedione
(A → oestrone E1), then E1 → oestradiol E2 (17β-HSD) and E1 → oestrone sulphate E1S. Concentrations
are expressed relative to baseline; E2 in pmol/L uses the Dixon et al. 2008 baseline.

    dE1/dt  = k_E1  · (a(t) − E1)
    dE2/dt  = k_E2  · ((1 − r_E2)·E1 + r_E2 − E2)
    dE1S/dt = k_E1S · ((1 − r_E1S)·E1 + r_E1S − E1S)

a(t) is the aromatase activity left by a competitive inhibitor at free plasma concentration I(t):
a = 1 / (1 + I/Ki) (androstenedione, ~1-3 nM, is far below aromatase's Km, so the substrate term of
Cheng–Prusoff is negligible in vivo). r_* is an aromatase-independent residual (other sources plus the
radioimmunoassay floor). Total-body aromatisation inhibition (Geisler's isotope method) is 1 − mean a.

The in-vivo Ki is the seed-003 MCF-7Ca (aromatase-transfected intact cells) IC50 times ONE factor shared by
letrozole and anastrozole, calibrated to anastrozole's 97.3 % (Geisler 2002); letrozole's > 99 % is then a
prediction. Exemestane inactivates aromatase irreversibly (mechanism-based), so no competitive Ki applies:
while it is dosed, a(t) = 1 − its measured whole-body aromatisation inhibition (pk.yaml exposure
``aromatisation_inhibition``, Geisler 1998). r_E2 and r_E1S are calibrated to letrozole's residual E2 and E1S (Dixon 2008); anastrozole's
residuals are then predictions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..errors import InputError
from ..knowledge import load_knowledge
from ..knowledge._schema import Value
from ._data import resolve_compound
from ._regimen import Regimen
from ._simulate import simulate_pk

__all__ = ["PostmenopausalOestrogen", "MouseOestrogen",
           "in_vivo_ki", "simulate_oestrogen", "oestrogen_suppression", "mouse_oestradiol"]

_AI_SYSTEM = "MCF7Ca_cells"  # the intact-cell assay whose IC50 scales to the in-vivo Ki


def _parameter(name: str) -> Value:
    return load_knowledge().parameter(name)


@dataclass(frozen=True)
class PostmenopausalOestrogen:
    """The postmenopausal steroid pool (half-lives in h); values from ``parameters/oestrogen.yaml``."""

    baseline_e2: Value
    e1_half_life: Value
    e2_half_life: Value
    e1s_half_life: Value
    e2_residual: Value
    e1s_residual: Value

    @classmethod
    def from_knowledge(cls) -> "PostmenopausalOestrogen":
        """As the knowledge base holds them now (a scenario's knowledge_overrides included)."""
        return cls(**{f.name: _parameter("postmenopausal_" + f.name) for f in fields(cls)})


def _mcf7ca_ic50(name: str) -> Value | None:
    return load_knowledge().compound(name).aromatase_ic50_by_system.get(_AI_SYSTEM)


def in_vivo_ki(compound: str) -> float:
    """Free-plasma inhibition constant (nM) of a reversible aromatase inhibitor in vivo: its intact
    MCF-7Ca cell IC50 (compounds.yaml) times one in-vivo factor (parameters/oestrogen.yaml)."""
    name = resolve_compound(compound)
    ic50 = _mcf7ca_ic50(name)
    if ic50 is None:
        with_ic50 = [c for c in load_knowledge().compounds if _mcf7ca_ic50(c) is not None]
        raise InputError(f"{name} has no {_AI_SYSTEM} aromatase IC50 in the knowledge base", field="compound",
                         value=name, valid=", ".join(with_ic50))
    return ic50.value * _parameter("aromatase_in_vivo_ki_factor").value


def _aromatase_activity(compound: str, free_nM: np.ndarray) -> np.ndarray:
    """Aromatase activity left at free plasma concentration ``free_nM``: competitive (1 / (1 + I/Ki)), or,
    for an irreversible inactivator with a measured whole-body inhibition, that inhibition once dosed."""
    from ._data import pk_model

    name = resolve_compound(compound)
    measured = pk_model(name, "human").exposure.get("aromatisation_inhibition")
    if _mcf7ca_ic50(name) is None and measured is not None:
        return np.where(free_nM > 0.0, 1.0 - measured.value, 1.0)
    return 1.0 / (1.0 + free_nM / in_vivo_ki(compound))


def _relax(x: np.ndarray, target: np.ndarray, k: float, dt: float) -> np.ndarray:
    # exact step of dx/dt = k (target - x) with target held over dt
    return target + (x - target) * np.exp(-k * dt)


def simulate_oestrogen(compound: str, regimen: Regimen, times: np.ndarray, subjects: int = 1, seed: int | None = 0,
                       physiology: PostmenopausalOestrogen | None = None) -> pd.DataFrame:
    """Aromatase activity and relative E1, E2, E1S (plus E2 in pmol/L) under an AI regimen.

    ``times`` must be a regular grid (h); inputs are held constant over each step.
    """
    physiology = physiology or PostmenopausalOestrogen.from_knowledge()
    times = np.asarray(times, dtype=float)
    steps = np.diff(times)
    if times.size < 2 or not np.allclose(steps, steps[0]):
        raise InputError("oestrogen simulation needs a regular time grid", field="times",
                         valid="e.g. numpy.arange(0, 24 * 42, 0.5)")
    pk = simulate_pk(compound, "human", regimen, times, subjects=subjects, seed=seed)
    free = pk.concentrations["free_nM"].to_numpy().reshape(pk.n_subjects, times.size)
    activity = _aromatase_activity(compound, free)
    k = {n: np.log(2) / getattr(physiology, f"{n}_half_life").value for n in ("e1", "e2", "e1s")}
    r2, r1s = physiology.e2_residual.value, physiology.e1s_residual.value
    e1 = np.ones(pk.n_subjects)
    e2, e1s = e1.copy(), e1.copy()
    out = np.empty((3, pk.n_subjects, times.size))
    dt = float(steps[0])
    for j in range(times.size):
        out[:, :, j] = e1, e2, e1s
        a = activity[:, j]
        e1 = _relax(e1, a, k["e1"], dt)
        e2 = _relax(e2, (1 - r2) * e1 + r2, k["e2"], dt)
        e1s = _relax(e1s, (1 - r1s) * e1 + r1s, k["e1s"], dt)
    df = pk.concentrations[["subject", "time_h", "free_nM"]].copy()
    df["aromatase_activity"] = activity.ravel()
    df["e1_rel"], df["e2_rel"], df["e1s_rel"] = (x.ravel() for x in out)
    df["e2_pM"] = df["e2_rel"] * physiology.baseline_e2.value
    return df


def oestrogen_suppression(compound: str, dose: str = "labelled", *, days: int = 42,
                          physiology: PostmenopausalOestrogen | None = None) -> dict[str, float]:
    """Steady-state suppression (mean over the last day of ``days`` of once-daily dosing), typical patient.

    ``days`` = 42 matches Geisler 2002's 6-week treatment periods.
    """
    from ._data import pk_model

    name = resolve_compound(compound)
    text = pk_model(name, "human").labelled_regimen if dose == "labelled" else f"{dose} oral q24h"
    regimen = Regimen.parse(text, until_day=days)
    times = np.arange(0.0, days * 24.0 + 0.25, 0.25)
    df = simulate_oestrogen(name, regimen, times, physiology=physiology)
    last = df[df["time_h"] >= (days - 1) * 24.0]
    return {
        "aromatisation_inhibition": float(1.0 - last["aromatase_activity"].mean()),
        "e1_residual": float(last["e1_rel"].mean()),
        "e2_residual": float(last["e2_rel"].mean()),
        "e1s_residual": float(last["e1s_rel"].mean()),
        "e2_pM": float(last["e2_pM"].mean()),
    }


@dataclass(frozen=True)
class MouseOestrogen:
    """NSG mouse: ovariectomised (no ovarian E2), optionally with a slow-release E2 pellet."""

    ovariectomised_e2: Value
    e2_clearance: Value
    body_weight: Value

    @classmethod
    def from_knowledge(cls) -> "MouseOestrogen":
        kb = load_knowledge()
        return cls(ovariectomised_e2=kb.parameter("mouse_ovariectomised_e2"),
                   e2_clearance=kb.parameter("mouse_e2_clearance"), body_weight=kb.parameter("body_weight"))


def mouse_oestradiol(times: np.ndarray, *, pellet_mg: float | None = None, pellet_days: float = 60.0,
                     physiology: MouseOestrogen | None = None) -> pd.DataFrame:
    """Plasma E2 (pmol/L) in an ovariectomised NSG mouse, with an optional constant-release pellet.

    A pellet releases ``pellet_mg`` evenly over ``pellet_days`` (e.g. 0.72 mg / 60 days); the plateau
    is release rate / clearance. Aromatase inhibitors have no systemic target here (no ovaries).
    """
    physiology = physiology or MouseOestrogen.from_knowledge()
    times = np.asarray(times, dtype=float)
    e2 = np.full(times.shape, physiology.ovariectomised_e2.value)
    if pellet_mg:
        if pellet_mg < 0 or pellet_days <= 0:
            raise InputError("pellet dose and duration must be positive", field="pellet_mg", value=pellet_mg)
        mw = load_knowledge().compound("oestradiol").molecular_weight.value  # g/mol
        rate_pmol_h = pellet_mg / (pellet_days * 24.0) * 1e9 / mw  # mg/h → pmol/h
        cl = physiology.e2_clearance.value * physiology.body_weight.value
        e2 = e2 + np.where(times < pellet_days * 24.0, rate_pmol_h / cl, 0.0)
    return pd.DataFrame({"time_h": times, "e2_pM": e2})
