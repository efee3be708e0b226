"""Non-compartmental exposure metrics on concentration–time arrays (the WinNonlin / PKNCA vocabulary).

These work on any data, simulated or measured. Arrays have shape (..., time); time in hours.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cmax_tmax", "auc_trapezoid", "terminal_half_life"]


def cmax_tmax(times: np.ndarray, conc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak concentration and its time along the last axis."""
    conc = np.asarray(conc, dtype=float)
    idx = np.argmax(conc, axis=-1)
    return np.take_along_axis(conc, idx[..., None], axis=-1)[..., 0], np.asarray(times, dtype=float)[idx]


def auc_trapezoid(times: np.ndarray, conc: np.ndarray) -> np.ndarray:
    """AUC by the linear trapezoidal rule (PKNCA 'linear'); use a dense grid or the exact model AUC."""
    return np.trapezoid(np.asarray(conc, dtype=float), np.asarray(times, dtype=float), axis=-1)


def terminal_half_life(times: np.ndarray, conc: np.ndarray, n_points: int = 3) -> np.ndarray:
    """ln 2 / lambda_z from a log-linear fit to the last ``n_points`` positive concentrations."""
    t = np.asarray(times, dtype=float)[-n_points:]
    c = np.asarray(conc, dtype=float)[..., -n_points:]
    with np.errstate(divide="ignore", invalid="ignore"):
        logc = np.log(c)
    tc = t - t.mean()
    slope = ((logc - logc.mean(axis=-1, keepdims=True)) * tc).sum(axis=-1) / (tc**2).sum()
    with np.errstate(divide="ignore"):
        return np.where(slope < 0, np.log(2) / -slope, np.inf)
