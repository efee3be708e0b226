"""The shape every eralpha fitter shares (scikit-learn / lifelines style).

``Fitter(**options).fit(data) -> self``; results in trailing-underscore attributes; a ``summary``
DataFrame; ``print_summary()``; ``plot(ax=None)`` returning the axes.
"""

from __future__ import annotations

import pandas as pd

from ..errors import EralphaError

__all__ = ["Fitter", "NotFittedError"]


class NotFittedError(EralphaError):
    """A result was asked for before ``fit`` was called."""


class Fitter:
    """Base class: subclasses implement ``fit`` and the ``summary`` property."""

    _fitted: bool = False

    def _require_fit(self) -> None:
        if not self._fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call .fit(data) first")

    @property
    def summary(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def print_summary(self, decimals: int = 4) -> None:
        """Print the summary table with rich."""
        from rich.console import Console
        from rich.table import Table

        self._require_fit()
        df = self.summary
        table = Table(title=type(self).__name__)
        index_name = df.index.name or ""
        table.add_column(str(index_name))
        for col in df.columns:
            table.add_column(str(col), justify="right")
        for idx, row in df.iterrows():
            cells = []
            for v in row:
                cells.append(f"{v:.{decimals}g}" if isinstance(v, float) else str(v))
            table.add_row(str(idx), *cells)
        Console().print(table)
