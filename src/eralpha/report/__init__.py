"""Figures, progress bars and the self-contained HTML report of a run.

>>> from eralpha.report import Progress, render_report, new_figure
>>> fig, ax = new_figure()
>>> html = render_report("My run", figures={"curve": fig}, notes=["Why this run exists."])
>>> with Progress("my study", total=3) as p:   # a bar on a terminal, one line per stage in a log
...     p.stage("arm A"); p.advance()
"""

from ._html import MAX_TABLE_ROWS, format_value, render_report
from ._plots import apply_style, close_figure, figure_to_png, new_figure
from ._progress import Progress, progress, progress_enabled, progress_mode

__all__ = [
    "render_report",
    "format_value",
    "MAX_TABLE_ROWS",
    "apply_style",
    "new_figure",
    "figure_to_png",
    "close_figure",
    "Progress",
    "progress",
    "progress_mode",
    "progress_enabled",
]
