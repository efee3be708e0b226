"""Implementation of :func:`translate_regimen` (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import InputError
from ..knowledge import load_knowledge
from ..pk import Regimen, pk_model, simulate_pk
from ..pk._data import resolve_compound

__all__ = ["Translation", "translate_regimen"]

_WEEK = 168.0


@dataclass(frozen=True)
class Translation:
    compound: str
    by: str
    variant: str
    mouse_regimen: str
    human_regimen: str
    mouse_value: float  # average free nM, or mean occupancy
    human_value: float
    times_h: np.ndarray
    mouse_free_nM: np.ndarray
    human_free_nM: np.ndarray
    kd_nM: float

    @property
    def proposal(self) -> str:
        what = "average free concentration" if self.by == "exposure" else f"mean {self.variant} occupancy"
        unit = " nM" if self.by == "exposure" else ""
        return (f"{self.compound}: mouse {self.mouse_regimen} → human {self.human_regimen} "
                f"(matched {what}: mouse {self.mouse_value:.3g}{unit}, human {self.human_value:.3g}{unit}; "
                f"last week of {int(self.times_h[-1] // 24)} days, typical subjects)")

    def plot(self, ax: Any = None):
        """Free concentration–time of both species over the matched week, with the occupancy axis."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = (self.times_h - self.times_h[0]) / 24.0
        ax.plot(t, self.mouse_free_nM, label=f"mouse {self.mouse_regimen}")
        ax.plot(t, self.human_free_nM, label=f"human {self.human_regimen}")
        ax.axhline(self.kd_nM, ls="--", c="grey", lw=0.8, label=f"Kd {self.variant} ({self.kd_nM:g} nM)")
        ax.set_yscale("log")
        ax.set_xlabel("day of the matched week")
        ax.set_ylabel("free plasma concentration (nM)")
        ax.set_title(f"{self.compound}: matched by {self.by}")
        ax.legend(frameon=False, fontsize=8)
        return ax


def _last_week(compound: str, species: str, regimen: Regimen, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Free plasma concentration over the last week; the mouse uses the xenograft lab's free fraction."""
    from ..experiments._xenograft import mouse_free_fraction

    times = np.arange((days - 7) * 24.0, days * 24.0 + 0.25, 0.25)
    res = simulate_pk(compound, species, regimen, times, subjects=1, seed=None)
    free = res.concentrations["free_nM"].to_numpy()
    fu = pk_model(compound, species).fraction_unbound_plasma
    lab_fu = mouse_free_fraction(compound) if species == "mouse" else None
    if lab_fu is not None and fu is not None:
        free = free * lab_fu.value / fu.value
    return times, free


def _mean(times: np.ndarray, c: np.ndarray) -> float:
    return float(np.trapezoid(c, times) / (times[-1] - times[0]))


def _labelled_interval(compound: str) -> str:
    """The maintenance interval of the compound's labelled human regimen (q24h if none)."""
    text = pk_model(compound, "human").labelled_regimen
    if not text:
        return "q24h"
    tau = Regimen.parse(text, until_day=400).dosing_interval()
    return f"q{tau:g}h" if tau else "q24h"


def translate_regimen(compound: str, mouse_regimen: str, *, by: Literal["exposure", "occupancy"] = "exposure",
                      variant: str = "ERa_WT", days: int = 42, human_interval: str | None = None) -> Translation:
    """Propose the human dose (labelled interval unless ``human_interval``) matching the mouse regimen's free exposure or ER occupancy."""
    name = resolve_compound(compound)
    if by not in ("exposure", "occupancy"):
        raise InputError(f"unknown matching criterion '{by}'", field="by", value=by, valid="exposure, occupancy")
    if days < 8:
        raise InputError("simulate at least 8 days to reach a dosing week near steady state", field="days", value=days)
    mouse = Regimen.parse(mouse_regimen, until_day=days, field="mouse_regimen")
    mouse.check_within(days * 24.0, field="mouse_regimen")
    for r in mouse.routes:
        if r not in pk_model(name, "mouse").routes:
            raise InputError(f"route '{r}' is not available for {name} in the mouse PK model", field="mouse_regimen",
                             value=r, valid=", ".join(pk_model(name, "mouse").routes))
    human_model = pk_model(name, "human")
    route = human_model.routes[0]
    interval = human_interval or _labelled_interval(name)
    comp = load_knowledge().compound(name)
    if by == "occupancy":
        if variant not in comp.er_binding:
            raise InputError(f"{name} has no ER binding constant for '{variant}'", field="variant", value=variant,
                             valid=", ".join(comp.er_binding) or "(none: translate by exposure)")
    kd = float(comp.er_binding[variant].value) if variant in comp.er_binding else float("nan")

    def metric(times, c):
        return _mean(times, c) if by == "exposure" else _mean(times, c / (c + kd))

    t, cm = _last_week(name, "mouse", mouse, days)
    target = metric(t, cm)

    def human(dose_mg: float):
        reg = Regimen.parse(f"{dose_mg:.6g} mg {route} {interval}", until_day=days, field="human_interval")
        return _last_week(name, "human", reg, days)

    _, c1 = human(1.0)
    if by == "exposure":
        dose = target / _mean(t, c1)  # linear PK: exposure ∝ dose
    else:
        if not 0 < target < 1:
            raise InputError("the mouse regimen gives no measurable occupancy", field="mouse_regimen")
        lo, hi = 1e-4, 1e5
        for _ in range(60):
            mid = np.sqrt(lo * hi)
            if metric(t, c1 * mid) < target:  # linear PK: concentrations scale with dose
                lo = mid
            else:
                hi = mid
        dose = float(np.sqrt(lo * hi))
    dose = float(f"{dose:.3g}")
    _, ch = human(dose)
    return Translation(name, by, variant, mouse_regimen, f"{dose:g} mg {route} {interval}", target, metric(t, ch),
                       t, cm, ch, kd)
