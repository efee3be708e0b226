"""What every virtual experiment returns, and how its expectations become scorecard rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["ExperimentResult", "evaluate_expectations", "metric_rows", "lognormal_noise"]



@dataclass
class ExperimentResult:
    """Tidy tables, figures, a long ``metrics`` table (metric, keys…, value) and scorecard rows."""

    name: str
    kind: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)  # name -> matplotlib Figure
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    scorecard: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def metric_rows(metric: str, value: float, **keys: Any) -> dict:
    return {"metric": metric, **keys, "value": float(value)}


def _matches(df: pd.DataFrame, at: dict[str, Any]) -> pd.Series:
    from ..scenario._fields import to_unit

    mask = df["metric"].notna()
    for k, v in at.items():
        if k not in df.columns:
            return pd.Series(False, index=df.index)
        col = df[k]
        if isinstance(v, str) and any(u in v for u in ("nM", "uM", "µM", "pM", " h", "day", "week")):
            unit = "hour" if any(u in v for u in (" h", "day", "week")) else "nM"
            v = to_unit(v, unit)
        if isinstance(v, (int, float)):
            mask &= np.isclose(pd.to_numeric(col, errors="coerce"), float(v), rtol=1e-9, atol=1e-12)
        else:
            mask &= col.astype(str) == str(v)
    return mask


def _read_metric(metrics: pd.DataFrame, metric: str, at: dict[str, Any], exp_id: str) -> float:
    df = metrics[metrics["metric"] == metric]
    if df.empty:
        known = sorted(metrics["metric"].unique()) if not metrics.empty else []
        raise InputError(f"expectation '{exp_id}': the experiment has no metric '{metric}'", field="expect.metric", valid=", ".join(known))
    hit = df[_matches(df, at)]
    if len(hit) != 1:
        keys = [c for c in df.columns if c not in ("metric", "value")]
        raise InputError(
            f"expectation '{exp_id}': {len(hit)} rows of '{metric}' match {at}; name exactly one",
            field="expect.at",
            valid="keys " + ", ".join(keys) + "; e.g. " + str(df[keys].iloc[0].to_dict()),
        )
    return float(hit["value"].iloc[0])


def evaluate_expectations(expectations, metrics: pd.DataFrame) -> list[dict]:
    """One scorecard row per expectation, computed from the experiment's metrics."""
    rows = []
    for e in expectations:
        value = _read_metric(metrics, e.metric, e.at, e.id)
        if e.ratio_to is not None:
            value = value / _read_metric(metrics, e.metric, {**e.at, **e.ratio_to}, e.id)
        target, tolerance = e.target.describe()
        if e.why:
            tolerance = f"{tolerance} — {e.why}"
        rows.append(
            {
                "id": e.id,
                "quantity": e.quantity,
                "source": e.source,
                "target": target,
                "simulated": value if math.isfinite(value) else None,
                "tolerance": tolerance,
                "kind": e.kind,
                "passed": bool(e.target.check(value)),
            }
        )
    return rows


def lognormal_noise(rng: np.random.Generator, shape, cv: float) -> np.ndarray:
    """Multiplicative measurement noise with the given coefficient of variation (1 when cv = 0)."""
    if cv <= 0:
        return np.ones(shape)
    sigma = math.sqrt(math.log(1 + cv**2))
    return rng.lognormal(-0.5 * sigma**2, sigma, size=shape)
