"""One small plotting style shared by every figure eralpha draws, and PNG export."""

from __future__ import annotations

import io
from typing import Any

__all__ = ["STYLE", "apply_style", "new_figure", "figure_to_png", "close_figure"]

# Readable at report size, colour-blind-safe cycle (Okabe–Ito), no chart junk.
STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": None,  # filled in apply_style (needs matplotlib's cycler)
}
_OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def apply_style() -> None:
    """Set eralpha's style on matplotlib's global rcParams (idempotent)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({**STYLE, "axes.prop_cycle": cycler(color=_OKABE_ITO)})


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None, **subplots_kw):
    """A styled ``(figure, axes)`` pair, like ``plt.subplots``, sized per panel (4.8 × 3.4 in).

    The figure is not registered with pyplot, so it works headless and needs no ``plt.close``.
    """
    from matplotlib.figure import Figure

    apply_style()
    size = (width or 4.8 * ncols, height or 3.4 * nrows)
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.subplots(nrows, ncols, **subplots_kw)
    return figure, axes


def figure_to_png(figure, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def close_figure(figure) -> None:
    """Release a figure's memory whether or not pyplot manages it."""
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")  # only if the caller already uses pyplot
    if pyplot is not None:
        pyplot.close(figure)
