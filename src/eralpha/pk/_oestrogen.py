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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ..knowledge._schema import Value
from ._data import resolve_compound
from ._regimen import Regimen
from ._simulate import simulate_pk

__all__ = ["AROMATASE_IC50_MCF7CA", "IN_VIVO_KI_FACTOR", "PostmenopausalOestrogen", "MouseOestrogen",
           "in_vivo_ki", "simulate_oestrogen", "oestrogen_suppression", "mouse_oestradiol"]

_SEED003 = "seed 003_a63f80b31cf65195.txt, aromatase IC50 table (MCF-7Ca breast cancer cells, transfected)"
AROMATASE_IC50_MCF7CA: dict[str, Value] = {
    "letrozole": Value(value=0.07, unit="nM", kind="measured", source=_SEED003, note="intact-cell tritiated-water assay"),
    "anastrozole": Value(value=0.90, low=0.82, high=0.99, unit="nM", kind="measured", source=_SEED003,
                         note="range 0.82-0.99 nM; geometric mid"),
}
IN_VIVO_KI_FACTOR = Value(
    value=1.84, unit="dimensionless", kind="calibrated",
    source="Geisler et al. 2002, J Clin Oncol 20:751 (anastrozole 1 mg: 97.3 % total-body aromatisation inhibition)",
    note="in-vivo Ki (free plasma) = factor x MCF-7Ca IC50; one factor for both AIs, tuned to anastrozole only")


@dataclass(frozen=True)
class PostmenopausalOestrogen:
    """Parameters of the postmenopausal steroid pool (half-lives in h)."""

    baseline_e2: Value = Value(value=25.7, unit="pmol/L", kind="measured", source="Dixon et al. 2008, J Clin Oncol 26:1671",
                               note="mean baseline plasma E2 of 54 postmenopausal women (range 3-91)")
    e1_half_life: Value = Value(value=1.0, unit="h", kind="assumed", source="assumption (this work)",
                                note="fast plasma turnover; only the time to a new steady state depends on it")
    e2_half_life: Value = Value(value=1.0, unit="h", kind="assumed", source="assumption (this work)", note="as E1")
    e1s_half_life: Value = Value(value=10.0, unit="h", kind="assumed", source="assumption (this work)",
                                 note="E1S circulates longer than E1/E2")
    e2_residual: Value = Value(value=0.057, unit="dimensionless", kind="calibrated",
                               source="Dixon et al. 2008, J Clin Oncol 26:1671 (residual E2 5.9 % on letrozole)",
                               note="aromatase-independent E2 incl. RIA floor (values extrapolated below 3 pmol/L)")
    e1s_residual: Value = Value(value=0.018, unit="dimensionless", kind="calibrated",
                                source="Dixon et al. 2008, J Clin Oncol 26:1671 (residual E1S 2.0 % on letrozole)",
                                note="aromatase-independent E1S incl. assay floor")


def in_vivo_ki(compound: str) -> float:
    """Free-plasma inhibition constant (nM) of an aromatase inhibitor in vivo."""
    name = resolve_compound(compound)
    if name not in AROMATASE_IC50_MCF7CA:
        raise InputError(f"{name} has no aromatase-inhibition constant", field="compound", value=name,
                         valid=", ".join(AROMATASE_IC50_MCF7CA))
    return AROMATASE_IC50_MCF7CA[name].value * IN_VIVO_KI_FACTOR.value


def _aromatase_activity(compound: str, free_nM: np.ndarray) -> np.ndarray:
    """Aromatase activity left at free plasma concentration ``free_nM``: competitive (1 / (1 + I/Ki)), or,
    for an irreversible inactivator with a measured whole-body inhibition, that inhibition once dosed."""
    from ._data import pk_model

    name = resolve_compound(compound)
    measured = pk_model(name, "human").exposure.get("aromatisation_inhibition")
    if name not in AROMATASE_IC50_MCF7CA and measured is not None:
        return np.where(free_nM > 0.0, 1.0 - measured.value, 1.0)
    return 1.0 / (1.0 + free_nM / in_vivo_ki(compound))


def _relax(x: np.ndarray, target: np.ndarray, k: float, dt: float) -> np.ndarray:
    # exact step of dx/dt = k (target - x) with target held over dt
    return target + (x - target) * np.exp(-k * dt)


def simulate_oestrogen(compound: str, regimen: Regimen, times: np.ndarray, subjects: int = 1, seed: int | None = 0,
                       physiology: PostmenopausalOestrogen = PostmenopausalOestrogen()) -> pd.DataFrame:
    """Aromatase activity and relative E1, E2, E1S (plus E2 in pmol/L) under an AI regimen.

    ``times`` must be a regular grid (h); inputs are held constant over each step.
    """
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
                          physiology: PostmenopausalOestrogen = PostmenopausalOestrogen()) -> dict[str, float]:
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

    ovariectomised_e2: Value = Value(value=10.0, unit="pmol/L", kind="assumed", source="assumption (this work)",
                                     note="near the assay floor after ovariectomy; no peripheral aromatisation modelled")
    e2_clearance: Value = Value(value=5.4, unit="L/h/kg", kind="assumed", source="assumption (this work)",
                                note="about mouse hepatic blood flow; sets a pellet's plateau (supraphysiological, "
                                     "as pellets are); not fitted")
    body_weight: Value = Value(value=0.025, unit="kg", kind="assumed", source="seed 000 (NSG mice)", note="~25 g")


def mouse_oestradiol(times: np.ndarray, *, pellet_mg: float | None = None, pellet_days: float = 60.0,
                     physiology: MouseOestrogen = MouseOestrogen()) -> pd.DataFrame:
    """Plasma E2 (pmol/L) in an ovariectomised NSG mouse, with an optional constant-release pellet.

    A pellet releases ``pellet_mg`` evenly over ``pellet_days`` (e.g. 0.72 mg / 60 days); the plateau
    is release rate / clearance. Aromatase inhibitors have no systemic target here (no ovaries).
    """
    times = np.asarray(times, dtype=float)
    e2 = np.full(times.shape, physiology.ovariectomised_e2.value)
    if pellet_mg:
        if pellet_mg < 0 or pellet_days <= 0:
            raise InputError("pellet dose and duration must be positive", field="pellet_mg", value=pellet_mg)
        rate_pmol_h = pellet_mg / (pellet_days * 24.0) * 1e9 / 272.4  # mg/h → pmol/h (E2 272.4 g/mol)
        cl = physiology.e2_clearance.value * physiology.body_weight.value
        e2 = e2 + np.where(times < pellet_days * 24.0, rate_pmol_h / cl, 0.0)
    return pd.DataFrame({"time_h": times, "e2_pM": e2})
