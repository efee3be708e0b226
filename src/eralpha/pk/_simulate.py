"""``simulate_pk``: one compound, one species, one regimen, many subjects → a :class:`PKResult`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine import check_nonnegative
from ..errors import InputError
from ..resources import check_memory
from ._compartmental import (AUC, CENTRAL, PKParameters, model_terminal_half_life, sample_parameters,
                             simulate_amounts)
from ._data import molecular_weight, pk_model, resolve_compound
from ._regimen import Regimen

__all__ = ["simulate_pk", "PKResult", "DEFAULT_BODY_WEIGHT_KG", "mg_per_l_to_nm"]

#: Body weight used to resolve per-kg doses and per-kg parameters (seed 000's NSG mice: ~25 g).
DEFAULT_BODY_WEIGHT_KG = {"human": 70.0, "mouse": 0.025}
_STATE_NAMES = ["depot", "central", "peripheral", "AUC"]  # the columns of simulate_amounts' states
_METRICS = ["cmax_nM", "tmax_h", "cmin_nM", "auc_nM_h", "t_half_h"]


def pk_memory_bytes(subjects: int, n_times: int) -> float:
    """Peak memory of :func:`simulate_pk` (an over-estimate): per subject, 4 states and ~8 table columns
    and temporaries per output time, a few cached 4×4 propagators and the sampled parameters."""
    return 8.0 * subjects * (12.0 * n_times + 16.0 * 6 + 32.0)


def check_pk_size(subjects: int, n_times: int, *, file: str | None = None, field: str = "subjects") -> None:
    check_memory(pk_memory_bytes(subjects, n_times), f"{subjects} subjects × {n_times} output times",
                 file=file, field=field, value=subjects)


def mg_per_l_to_nm(compound: str) -> float:
    """Factor from mg/L to nM: 1 mg/L = 1e6 / MW nM."""
    return 1e6 / molecular_weight(compound)


@dataclass(frozen=True)
class PKResult:
    """Concentrations (tidy, one row per subject and time) and per-subject exposure metrics.

    ``concentrations`` columns: subject, time_h, total_nM, free_nM, brain_free_nM.
    ``metrics`` columns: subject, cmax_nM, tmax_h, cmin_nM (trough just before the last dose in the
    window), auc_nM_h (exact AUC from the first to the last output time), t_half_h (model terminal).
    """

    compound: str
    species: str
    regimen: Regimen
    concentrations: pd.DataFrame
    metrics: pd.DataFrame
    parameters: pd.DataFrame

    @property
    def n_subjects(self) -> int:
        return int(self.metrics.shape[0])

    def summary(self) -> pd.DataFrame:
        """Median and 5th/95th percentiles of each metric across subjects."""
        m = self.metrics[_METRICS]
        return pd.DataFrame({"metric": _METRICS, "median": m.median().to_numpy(),
                             "p5": m.quantile(0.05).to_numpy(), "p95": m.quantile(0.95).to_numpy()})

    def band(self, column: str = "total_nM") -> pd.DataFrame:
        """Median and 5–95 % band over subjects at each output time."""
        g = self.concentrations.groupby("time_h")[column]
        return pd.DataFrame({"median": g.median(), "p5": g.quantile(0.05), "p95": g.quantile(0.95)}).reset_index()

    def plot(self, ax: Any = None, column: str = "total_nM", label: str | None = None, time_unit: str = "day"):
        """Concentration–time curve (median, with the 5–95 % band when there are several subjects)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        b = self.band(column)
        scale = 24.0 if time_unit == "day" else 1.0
        t = b["time_h"] / scale
        line = ax.plot(t, b["median"], label=label or f"{self.compound} ({self.species}) median")[0]
        if self.n_subjects > 1:
            ax.fill_between(t, b["p5"], b["p95"], alpha=0.25, color=line.get_color(), label="5–95 %")
        ax.set_xlabel(f"time ({time_unit}s)")
        ax.set_ylabel(f"{column.replace('_nM', '')} concentration (nM)")
        ax.legend(frameon=False)
        return ax


def _output_times(times: Any) -> np.ndarray:
    t = np.asarray(times, dtype=float).ravel()
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InputError("output times must be a non-empty list of finite hours >= 0", field="times",
                         value=times, valid="e.g. numpy.arange(0, 24 * 28, 1.0)")
    return np.unique(t)


def simulate_pk(compound: str, species: str, regimen: Regimen, times: Any, subjects: int = 1, seed: int | None = 0,
                *, body_weight_kg: float | None = None, variability: bool = True,
                file: str | None = None) -> PKResult:
    """Simulate ``regimen`` of ``compound`` in ``species`` at output ``times`` (hours) for ``subjects``.

    Subject 0..n-1 parameters are drawn log-normally around the typical values with the CVs in pk.yaml
    from ``numpy.random.default_rng(seed)``; one subject (or ``variability=False``) is the typical one.
    """
    name = resolve_compound(compound, file=file)
    model = pk_model(name, species, file=file)
    if not isinstance(regimen, Regimen):
        raise InputError("regimen must be an eralpha.pk.Regimen", field="regimen", value=type(regimen).__name__,
                         valid="Regimen.daily(...), Regimen.parse('2.5 mg oral q24h', until_day=28), …")
    for route in regimen.routes:
        if route not in model.routes:
            raise InputError(f"route '{route}' is not available for {name} in {species}", file=file,
                             field="regimen.route", value=route, valid=", ".join(model.routes))
    if isinstance(subjects, bool) or not isinstance(subjects, (int, np.integer)) or subjects < 1:
        raise InputError("subjects must be a positive integer", file=file, field="subjects", value=subjects,
                         valid="1 for the typical subject, or >= 2 for a population")
    t_out = _output_times(times)
    check_pk_size(int(subjects), t_out.size + 1, file=file)
    regimen.check_within(float(t_out.max()) + 1e-9, file=file)
    bw = DEFAULT_BODY_WEIGHT_KG.get(species, 70.0) if body_weight_kg is None else float(body_weight_kg)
    if not bw > 0:
        raise InputError("body weight must be positive", file=file, field="body_weight", value=body_weight_kg,
                         valid="e.g. 0.025 kg for a mouse")
    rng = np.random.default_rng(seed)
    params = sample_parameters(model, bw, int(subjects), rng, variability=variability)
    doses = [(e.time, e.dose.mg(bw), e.route) for e in regimen.events]

    # evaluate the outputs plus the last dose time in the window (for the pre-dose trough)
    in_window = [d[0] for d in doses if t_out[0] <= d[0] <= t_out[-1]]
    t_eval = np.unique(np.concatenate([t_out, in_window[-1:]]))
    states = simulate_amounts(params, doses, t_eval)
    # amounts (depot, central, peripheral) and the running AUC are never negative: a check, not a hope
    check_nonnegative(states, _STATE_NAMES, t_eval, what=f"{name} {species} PK amount",
                      labels=pd.DataFrame({"subject": np.arange(params.n_subjects)}), rtol=1e-9, atol=1e-12)
    to_nm = mg_per_l_to_nm(name)
    total = states[:, :, CENTRAL] / params.volume_central[:, None] * to_nm
    fu = model.fraction_unbound_plasma.value if model.fraction_unbound_plasma else np.nan
    kp = model.brain_to_plasma_unbound.value if model.brain_to_plasma_unbound else np.nan

    keep = np.isin(t_eval, t_out)
    n, nt = params.n_subjects, int(keep.sum())
    conc = pd.DataFrame({
        "subject": np.repeat(np.arange(n), nt),
        "time_h": np.tile(t_eval[keep], n),
        "total_nM": total[:, keep].ravel(),
    })
    conc["free_nM"] = conc["total_nM"] * fu
    conc["brain_free_nM"] = conc["free_nM"] * kp

    cmax_idx = np.argmax(total[:, keep], axis=1)
    trough = total[:, np.searchsorted(t_eval, in_window[-1])] if in_window else np.full(n, np.nan)
    auc = (states[:, keep, AUC][:, -1] - states[:, keep, AUC][:, 0]) * to_nm
    route = regimen.events[0].route
    metrics = pd.DataFrame({
        "subject": np.arange(n),
        "cmax_nM": total[:, keep][np.arange(n), cmax_idx],
        "tmax_h": t_eval[keep][cmax_idx],
        "cmin_nM": trough,
        "auc_nM_h": auc,
        "t_half_h": model_terminal_half_life(params, route),
    })
    parameters = pd.DataFrame({"subject": np.arange(n), **params.as_dict()})
    return PKResult(name, species, regimen, conc, metrics, parameters)


def typical_params(compound: str, species: str, body_weight_kg: float | None = None) -> PKParameters:
    """The typical subject's parameters (no variability)."""
    bw = DEFAULT_BODY_WEIGHT_KG.get(species, 70.0) if body_weight_kg is None else body_weight_kg
    return sample_parameters(pk_model(compound, species), bw, 1, None, variability=False)
