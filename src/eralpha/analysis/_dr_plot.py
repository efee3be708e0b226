"""Plotting fitted dose-response curves: log-dose axis, data points, fitted lines (like drc's plot)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def plot_curves(fits: Sequence, ax=None, *, xlabel: str = "dose", ylabel: str = "response"):
    """Draw each curve's points and fitted line; returns the axes.

    Dose 0 cannot sit on a log axis, so (as drc's ``broken = TRUE``) control points are drawn one
    decade below the lowest positive dose and the tick there is labelled "0".
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.2))
    positive = np.concatenate([f.dose[f.dose > 0] for f in fits]) if fits else np.array([1.0])
    lo, hi = (positive.min(), positive.max()) if positive.size else (1.0, 10.0)
    zero_at = lo / 10.0
    has_zero = any((f.dose == 0).any() for f in fits)
    grid = np.geomspace(lo / 3.0 if not has_zero else zero_at * 1.5, hi * 1.5, 300)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, f in enumerate(fits):
        colour = colours[k % len(colours)]
        shown_dose = np.where(f.dose > 0, f.dose, zero_at)
        label = f.group if f.group != "all" else "data"
        if f.fitted:
            label += f"  (ED50 {f.ic50:.3g}{'' if f.status == 'converged' else ', ' + f.status})"
            ax.plot(grid, f.predict(grid), color=colour, lw=1.6)
        else:
            label += f"  ({f.status})"
        ax.scatter(shown_dose, f.response, s=18, color=colour, alpha=0.8, label=label, zorder=3)
    ax.set_xscale("log")
    if has_zero:
        ax.axvline(zero_at * 1.25, color="0.6", lw=0.8, ls=":")
        ticks = [t for t in ax.get_xticks() if zero_at * 1.25 < t <= hi * 10]
        ax.set_xticks([zero_at, *ticks])
        ax.set_xticklabels(["0", *[f"{t:g}" for t in ticks]])
        ax.set_xlim(zero_at / 2.0, hi * 2.0)
    ax.set_xlabel(f"{xlabel} (log scale)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False)
    return ax
