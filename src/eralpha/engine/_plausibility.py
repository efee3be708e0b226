"""Physical plausibility of simulation results: checked once, on every result the engine returns.

* Species are amounts, concentrations or cell numbers: none may be negative beyond solver tolerance.
* Where the reactions conserve a total (a left null vector ``w`` of the stoichiometry matrix,
  ``w·N = 0``: a receptor that is only bound and unbound in a binding assay, a drug that only moves
  between compartments), ``w·x(t)`` must stay at its value within solver tolerance — unless an event
  adds, sets or multiplies one of its species.

A violation is a :class:`~eralpha.errors.PlausibilityError` naming the quantity, the member (and its
labels) and the time, not a silent number.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import PlausibilityError
from ..model._core import Model

__all__ = ["conservation_laws", "check_plausible", "check_nonnegative", "TOLERANCE_FACTOR"]

#: a violation must exceed the solver's own tolerances (rtol, atol) this many times over
TOLERANCE_FACTOR = 1000.0


def stoichiometry(model: Model) -> np.ndarray:
    """N (species × reactions): net change of each species per unit of each reaction's rate."""
    idx = model.species_index
    N = np.zeros((len(model.species), len(model.reactions)))
    for j, r in enumerate(model.reactions):
        for name, coeff in r.reactants:
            N[idx[name], j] -= coeff
        for name, coeff in r.products:
            N[idx[name], j] += coeff
    return N


def conservation_laws(model: Model) -> np.ndarray:
    """Rows ``w`` (L × species) with ``w·N = 0``: the totals the reactions cannot change."""
    N = stoichiometry(model)
    if N.shape[1] == 0:
        return np.eye(N.shape[0])
    u, sv, _ = np.linalg.svd(N)
    rank = int((sv > 1e-10 * max(sv.max(initial=0.0), 1.0)).sum())
    W = u[:, rank:].T
    W[np.abs(W) < 1e-12] = 0.0
    return W


def _where(member: int, labels: pd.DataFrame | None) -> dict:
    where = {"member": int(member)}
    if labels is not None and not labels.empty and member < len(labels):
        where.update({k: (v.item() if hasattr(v, "item") else v) for k, v in labels.iloc[member].to_dict().items()})
    return where


def _describe(where: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in where.items())


def check_nonnegative(values: np.ndarray, names: Iterable[str], times: np.ndarray, *, what: str = "species",
                      labels: pd.DataFrame | None = None, rtol: float = 1e-6, atol: float = 1e-9,
                      unit: str = "") -> None:
    """``values`` (members × times × quantities) must be >= 0 within ``TOLERANCE_FACTOR`` × (rtol, atol)."""
    values = np.asarray(values, dtype=float)
    names = list(names)
    with np.errstate(invalid="ignore"):
        scale = np.nanmax(np.abs(values), axis=1, keepdims=True) if values.size else values
        floor = -TOLERANCE_FACTOR * (atol + rtol * np.nan_to_num(scale))
        bad = values < floor
    if not bad.any():
        return
    b, t, i = (int(x[0]) for x in np.nonzero(bad))
    where = _where(b, labels)
    raise PlausibilityError(
        f"{what} '{names[i]}' is negative ({values[b, t, i]:.4g}{' ' + unit if unit else ''}) at t = {times[t]:g} h "
        f"for {_describe(where)}: a concentration, amount or cell number cannot be; the solution is wrong "
        f"(tighten the solver tolerances, or check the inputs of that member)",
        quantity=names[i], where={**where, "time_h": float(times[t])}, value=float(values[b, t, i]),
    )


def check_plausible(model: Model, result, *, event_targets: Iterable[str] = (), rtol: float = 1e-6,
                    atol: float = 1e-9) -> None:
    """Non-negative species and conserved totals for every member that solved (see module doc)."""
    ok = np.asarray(result.status) == 0
    states = result.states[ok]
    labels = result.labels.iloc[np.flatnonzero(ok)].reset_index(drop=True) if result.labels is not None else None
    if states.size == 0:
        return
    check_nonnegative(states, result.species_names, result.times, labels=labels, rtol=rtol, atol=atol)
    idx = model.species_index
    touched = np.zeros(len(model.species), dtype=bool)
    for name in event_targets:
        if name in idx:
            touched[idx[name]] = True
    for w in conservation_laws(model):
        if np.any(touched & (w != 0)):
            continue  # an event changes this total on purpose
        totals = states @ w  # (B, T)
        scale = np.abs(states) @ np.abs(w)
        drift = np.abs(totals - totals[:, :1])
        allowed = TOLERANCE_FACTOR * (rtol * scale.max(axis=1, keepdims=True) + atol * np.abs(w).sum())
        bad = drift > allowed
        if bad.any():
            b, t = (int(x[0]) for x in np.nonzero(bad))
            terms = " + ".join(f"{w[i]:.3g}·{model.species[i].name}" for i in np.flatnonzero(w))
            where = _where(b, labels)
            raise PlausibilityError(
                f"the conserved total {terms} changed from {totals[b, 0]:.6g} to {totals[b, t]:.6g} by t = "
                f"{result.times[t]:g} h for {_describe(where)}; the reactions conserve it, so the solution is wrong",
                quantity=terms, where={**where, "time_h": float(result.times[t])}, value=float(totals[b, t]),
            )
