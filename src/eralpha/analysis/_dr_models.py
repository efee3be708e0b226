"""Dose-response mean functions, their analytic Jacobians, effective doses and Prism names.

Every model is a small frozen object describing one curve family. The log-logistic family follows
R drc's parameterisation exactly (``LL.4``, ``LL.3``, ``LL.5``); ``Hill`` is the pharmacologist's
E0 / Emax / EC50 / n form of the same curve.

drc and Prism describe the same four-parameter curve with different names and log bases:

=====================  ==========================  =========================================
drc (``LL.4``)          Prism (log(inhibitor) …)     relation
=====================  ==========================  =========================================
``b`` (slope)           ``HillSlope``                ``HillSlope = -b`` (drc's b > 0: falling)
``c`` (lower limit)     ``Bottom``                   same value
``d`` (upper limit)     ``Top``                      same value
``e`` (ED50, dose)      ``LogIC50`` (log10 dose)     ``LogIC50 = log10(e)``
=====================  ==========================  =========================================

drc writes the curve on the natural log of dose, ``exp(b (log x - log e))``; Prism on log10,
``10^((LogIC50 - X) HillSlope)`` with ``X = log10 x``. Both equal ``(x/e)^b``, so only the names
and the sign of the slope differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

__all__ = ["DoseResponseModel", "MODELS", "LL4", "LL3", "LL5", "HILL"]


def _log_dose(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log x with -inf at dose 0, log x with 0 at dose 0).

    The first gives the right limit of the curve at dose 0; the second is safe inside derivatives,
    whose factor s(1 - s) is exactly 0 at dose 0 anyway.
    """
    positive = x > 0
    safe = np.log(np.where(positive, x, 1.0))
    with np.errstate(divide="ignore"):
        exact = np.where(positive, safe, -np.inf)
    return exact, safe


def _linear_predictor(slope: float, log_x: np.ndarray, log_e: float) -> np.ndarray:
    """slope * (log x - log e), with the limit at dose 0 (log x = -inf) handled for slope = 0 too."""
    with np.errstate(invalid="ignore"):
        z = slope * (log_x - log_e)
    return np.where(np.isnan(z), 0.0, z)


@dataclass(frozen=True)
class DoseResponseModel:
    """One curve family.

    ``names``: all parameters in order; ``defaults``: parameters this model fixes (e.g. LL.3 fixes the
    lower limit ``c`` at 0, LL.4 fixes the asymmetry ``f`` at 1); ``positive``: parameters that must be
    > 0 and are optimised on the log scale (the ED50 / EC50 and the asymmetry).
    """

    name: str
    names: tuple[str, ...]
    description: str
    defaults: dict[str, float] = field(default_factory=dict)
    positive: tuple[str, ...] = ()
    r_equivalent: str = ""
    prism_equivalent: str = ""

    # ----------------------------------------------------------------- the curve and its Jacobian
    def evaluate(self, x: np.ndarray, p: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Mean response at doses ``x`` and its derivative with respect to every parameter."""
        if self.name == "Hill":
            return _hill(x, p)
        return _ll5(x, {"f": 1.0, **p})

    def predict(self, x: np.ndarray, p: dict[str, float]) -> np.ndarray:
        return self.evaluate(np.asarray(x, dtype=float), p)[0]

    # ----------------------------------------------------------------- translations
    def as_ll5(self, p: dict[str, float]) -> dict[str, float]:
        """The same curve in drc's LL.5 names (b, c, d, e, f)."""
        if self.name == "Hill":
            return {"b": -p["n"], "c": p["E0"], "d": p["E0"] + p["Emax"], "e": p["EC50"], "f": 1.0}
        return {"f": 1.0, **{k: p[k] for k in self.names}}

    def prism(self, p: dict[str, float]) -> dict[str, float]:
        """Prism's names for the fitted curve (HillSlope = -b; LogIC50 = log10 of the relative ED50)."""
        q = self.as_ll5(p)
        out = {"Bottom": q["c"], "Top": q["d"], "LogIC50": float(np.log10(ed_relative(q, 50.0))), "HillSlope": -q["b"]}
        if self.name == "LL.5":  # Prism's asymmetric sigmoidal: LogXb is log10(e), S is f
            out.update({"LogXb": float(np.log10(q["e"])), "S": q["f"]})
        return out

    def inflection_ed50(self, p: dict[str, float]) -> float:
        """drc's "relative" ED50: e for LL.3/LL.4, EC50 for Hill, the computed ED50 for LL.5."""
        return ed_relative(self.as_ll5(p), 50.0)


def _ll5(x: np.ndarray, p: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """drc's LL.5: c + (d - c) / (1 + exp(b (log x - log e)))^f, with analytic derivatives."""
    b, c, d, e, f = p["b"], p["c"], p["d"], p["e"], p["f"]
    log_x, log_x_safe = _log_dose(x)
    z = _linear_predictor(b, log_x, np.log(e))
    log_s = -np.logaddexp(0.0, z)  # log of s = 1/(1+exp z), stable for large |z|
    s = np.exp(log_s)
    g = np.exp(f * log_s)  # s^f
    y = c + (d - c) * g
    dg_dz = -f * g * (1.0 - s)  # exactly 0 at dose 0, where log x = -inf
    with np.errstate(invalid="ignore"):
        g_log_s = np.where(g > 0, g * log_s, 0.0)  # g log s -> 0 as g -> 0
    jac = {
        "b": (d - c) * dg_dz * (log_x_safe - np.log(e)) * (x > 0),
        "c": 1.0 - g,
        "d": g,
        "e": (d - c) * dg_dz * (-b / e),
        "f": (d - c) * g_log_s,
    }
    return y, jac


def _hill(x: np.ndarray, p: dict[str, float]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Hill / Emax: E0 + Emax x^n / (EC50^n + x^n) = E0 + Emax expit(n (log x - log EC50))."""
    e0, emax, ec50, n = p["E0"], p["Emax"], p["EC50"], p["n"]
    log_x, log_x_safe = _log_dose(x)
    h = expit(_linear_predictor(n, log_x, np.log(ec50)))
    dh = h * (1.0 - h)
    jac = {
        "E0": np.ones_like(h),
        "Emax": h,
        "EC50": emax * dh * (-n / ec50),
        "n": emax * dh * (log_x_safe - np.log(ec50)) * (x > 0),
    }
    return e0 + emax * h, jac


def _dose_at_fraction(q: dict[str, float], p: float) -> float:
    """Dose whose response lies p % of the way from d towards c (inverse of LL.5)."""
    try:
        inner = (100.0 / (100.0 - p)) ** (1.0 / q["f"]) - 1.0
        return float(q["e"] * inner ** (1.0 / q["b"]))
    except (OverflowError, ZeroDivisionError):  # a degenerate (flat) fit has no such dose
        return float("nan")


def ed_relative(q: dict[str, float], p: float) -> float:
    """drc's ED(p, type="relative", reference="control") for an LL.5 curve in drc names.

    The dose whose response lies p % of the way from the control level towards the other asymptote.
    drc swaps p for 100 - p on rising curves (b < 0) so that "p %" is always counted from control.
    """
    return _dose_at_fraction(q, 100.0 - p if q["b"] < 0 else p)


def ed_absolute(q: dict[str, float], level: float) -> float:
    """drc's ED(level, type="absolute"): the dose at which the curve reaches the response ``level``."""
    p = 100.0 * (q["d"] - level) / (q["d"] - q["c"])
    return _dose_at_fraction(q, p) if 0.0 < p < 100.0 else float("nan")


LL4 = DoseResponseModel(
    "LL.4",
    ("b", "c", "d", "e"),
    "four-parameter log-logistic: c + (d - c) / (1 + exp(b (log x - log e)))",
    positive=("e",),
    r_equivalent="drc::drm(..., fct = LL.4())",
    prism_equivalent="log(inhibitor) vs. response -- Variable slope (four parameters), HillSlope = -b",
)
LL3 = DoseResponseModel(
    "LL.3",
    ("b", "c", "d", "e"),
    "three-parameter log-logistic: LL.4 with the lower limit c fixed (default 0)",
    defaults={"c": 0.0},
    positive=("e",),
    r_equivalent="drc::drm(..., fct = LL.3())",
    prism_equivalent="log(inhibitor) vs. response -- Variable slope with Bottom constrained to 0",
)
LL5 = DoseResponseModel(
    "LL.5",
    ("b", "c", "d", "e", "f"),
    "five-parameter log-logistic: c + (d - c) / (1 + exp(b (log x - log e)))^f",
    positive=("e", "f"),
    r_equivalent="drc::drm(..., fct = LL.5())",
    prism_equivalent="Asymmetric sigmoidal, 5PL, X is log(concentration): HillSlope = -b, LogXb = log10(e), S = f",
)
HILL = DoseResponseModel(
    "Hill",
    ("E0", "Emax", "EC50", "n"),
    "Hill / Emax: E0 + Emax x^n / (EC50^n + x^n)",
    positive=("EC50",),
    r_equivalent="drc::drm(..., fct = LL.4()) with b = -n, c = E0, d = E0 + Emax, e = EC50",
    prism_equivalent="log(agonist) vs. response -- Variable slope: Bottom = E0, Top = E0 + Emax, HillSlope = n",
)

#: Every model by name (``Emax`` is an alias of ``Hill``).
MODELS: dict[str, DoseResponseModel] = {"LL.4": LL4, "LL.3": LL3, "LL.5": LL5, "Hill": HILL, "Emax": HILL}
