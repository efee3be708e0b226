"""``simulate``: one verb that turns a model, a batch of parameter sets and events into numbers."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np
import pandas as pd

from ..errors import InputError, SolverError, UnknownNameError
from ..model._core import Model
from ..resources import check_memory
from ._codegen import CompiledModel, compile_model, kernel
from ._plausibility import check_plausible

__all__ = ["SolverOptions", "Event", "SimulationResult", "simulate"]

_STATUS_TEXT = {1: "too many steps", 2: "step size underflow", 3: "non-finite state", 4: "singular iteration matrix"}
_KIND = {"set": 0, "add": 1, "set_parameter": 2, "multiply": 3}


@dataclass(frozen=True)
class SolverOptions:
    """Tolerances and limits of the Rodas5 solver (relative and absolute, per species)."""

    rtol: float = 1e-6
    atol: float = 1e-9
    initial_step: float = 1e-6  # h; fallback when the automatic starting-step estimate cannot be formed
    max_steps: int = 200_000

    def __post_init__(self) -> None:
        if not (0 < self.rtol < 1) or self.atol <= 0:
            raise InputError("tolerances must satisfy 0 < rtol < 1 and atol > 0", field="solver", value=(self.rtol, self.atol))


@dataclass(frozen=True)
class Event:
    """At ``time`` (h): set/add/multiply a species, or set a parameter (a drug added or washed out).

    ``value`` is a number, or one number per member of the batch.
    """

    time: float
    target: str
    value: float | Sequence[float] | np.ndarray
    action: Literal["set", "add", "multiply"] = "set"


@dataclass(frozen=True)
class SimulationResult:
    """States and observables at the output times for every member of the batch."""

    times: np.ndarray  # (T,)
    states: np.ndarray  # (B, T, n)
    observables: np.ndarray  # (B, T, k)
    species_names: list[str]
    observable_names: list[str]
    status: np.ndarray  # (B,) 0 = ok
    failure_times: np.ndarray  # (B,)
    steps: np.ndarray  # (B,) integrator steps taken (accepted + rejected): a cost diagnostic
    labels: pd.DataFrame | None = None  # one row per member: what it was

    @property
    def batch_size(self) -> int:
        return self.states.shape[0]

    def __getitem__(self, name: str) -> np.ndarray:
        """(B, T) trajectory of an observable or a species."""
        if name in self.observable_names:
            return self.observables[:, :, self.observable_names.index(name)]
        if name in self.species_names:
            return self.states[:, :, self.species_names.index(name)]
        raise UnknownNameError("observable or species", name, self.observable_names + self.species_names)

    def to_frame(self, names: Sequence[str] | None = None) -> pd.DataFrame:
        """Tidy table: one row per member and time, one column per observable (and label)."""
        names = list(names) if names is not None else self.observable_names
        B, T = self.batch_size, len(self.times)
        data = {"member": np.repeat(np.arange(B), T), "time_h": np.tile(self.times, B)}
        for n in names:
            data[n] = self[n].reshape(-1)
        df = pd.DataFrame(data)
        if self.labels is not None and not self.labels.empty:
            df = self.labels.reset_index(drop=True).iloc[df["member"]].reset_index(drop=True).join(df)
        return df


def _batch_matrix(defaults: np.ndarray, index: Mapping[str, int], values: Mapping[str, object] | None, B: int, what: str) -> np.ndarray:
    out = np.tile(defaults, (B, 1))
    for k, v in (values or {}).items():
        if k not in index:
            raise UnknownNameError(what, k, list(index))
        out[:, index[k]] = v  # a number, or one value per member (checked by _batch_size)
    return out


def _batch_size(*mappings: Mapping[str, object] | None, events: Sequence[Event] = ()) -> int:
    sizes = {1}
    for m in mappings:
        for v in (m or {}).values():
            a = np.asarray(v)
            if a.ndim:
                sizes.add(a.shape[0])
    for e in events:
        a = np.asarray(e.value)
        if a.ndim:
            sizes.add(a.shape[0])
    sizes.discard(1)
    if len(sizes) > 1:
        raise InputError(f"batch arrays have different lengths {sorted(sizes)}; give one value or one per member")
    return sizes.pop() if sizes else 1


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
# a forked child (multiprocessing on Linux) inherits the pools but not their threads: start afresh
os.register_at_fork(after_in_child=_pools.clear)
_CHUNKS_PER_THREAD = 4


def _pool(n_threads: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if n_threads not in _pools:
            _pools[n_threads] = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="eralpha-solve")
        return _pools[n_threads]


def _solve_members(solve_range, B: int, args: tuple) -> None:
    """Run ``solve_range(lo, hi, *args)`` over the batch on ``numba.get_num_threads()`` threads.

    The compiled solver releases the GIL and each member writes only its own rows, so disjoint
    ranges run concurrently. The batch is cut into a few chunks per thread, taken in turn by the
    calling thread and the pool's workers: members differ in cost (a treated arm with daily doses
    takes many more steps than vehicle), and whoever finishes first takes the next chunk. Set the
    thread count as for any numba code (``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``).
    """
    n_threads = min(numba.get_num_threads(), B)
    if n_threads <= 1:
        solve_range(0, B, *args)
        return
    edges = np.linspace(0, B, min(B, _CHUNKS_PER_THREAD * n_threads) + 1).astype(np.int64)
    next_chunk = itertools.count()  # next() on it is atomic under the GIL

    def work() -> None:
        while (i := next(next_chunk)) < len(edges) - 1:
            solve_range(edges[i], edges[i + 1], *args)

    helpers = [_pool(n_threads - 1).submit(work) for _ in range(n_threads - 1)]
    work()
    for job in helpers:
        job.result()


def simulate(
    model: Model | CompiledModel,
    times: Sequence[float] | np.ndarray,
    *,
    parameters: Mapping[str, object] | None = None,
    initial: Mapping[str, object] | None = None,
    events: Sequence[Event] = (),
    start: float | None = None,
    options: SolverOptions = SolverOptions(),
    labels: pd.DataFrame | None = None,
    on_failure: Literal["raise", "mark"] = "raise",
    check: bool = True,
) -> SimulationResult:
    """Simulate a batch of parameter sets of ``model``.

    ``parameters`` and ``initial`` map names to a number (same for every member) or an array with one
    value per member; the batch size is their common length. ``events`` act at exact times. Output is
    recorded at ``times`` (h); integration starts at ``start`` (default: the first output time).
    A solver failure raises :class:`SolverError` naming the members and times (``on_failure="mark"``
    returns NaN rows and a non-zero ``status`` instead) — never a silent NaN. Every result is checked
    for physical plausibility (no negative species, conserved totals conserved; ``check=False`` skips
    it): a violation is a :class:`~eralpha.errors.PlausibilityError` naming species, member and time.
    """
    cm = model if isinstance(model, CompiledModel) else compile_model(model)
    m = cm.model
    times = np.array(times, dtype=float)  # a fresh C-contiguous copy: one kernel signature, whatever is passed
    if times.ndim != 1 or len(times) == 0:
        raise InputError("times must be a non-empty 1-D sequence of hours", field="times")
    if np.any(np.diff(times) < 0):
        raise InputError("output times must be increasing", field="times", value=list(times[:5]))
    t0 = float(times[0] if start is None else start)
    if t0 > times[0]:
        raise InputError(f"start {t0} h is after the first output time {times[0]} h", field="start")
    B = _batch_size(parameters, initial, events=events)
    sidx, pidx = m.species_index, m.parameter_index
    P = _batch_matrix(cm.default_parameters, pidx, parameters, B, "parameter")
    Y0 = _batch_matrix(cm.default_initial, sidx, initial, B, "species")

    ordered = sorted(events, key=lambda e: e.time)
    ev_t = np.array([e.time for e in ordered], dtype=float)
    ev_kind = np.empty(len(ordered), dtype=np.int64)
    ev_index = np.empty(len(ordered), dtype=np.int64)
    ev_val = np.empty((B, len(ordered)), dtype=float)
    for i, e in enumerate(ordered):
        if e.target in sidx:
            ev_kind[i], ev_index[i] = _KIND[e.action], sidx[e.target]
        elif e.target in pidx:
            if e.action != "set":
                raise InputError(f"parameters can only be set by an event, not '{e.action}'", field=f"event {e.target}")
            ev_kind[i], ev_index[i] = _KIND["set_parameter"], pidx[e.target]
        else:
            raise UnknownNameError("event target", e.target, list(sidx) + list(pidx))
        if e.time < t0:
            raise InputError(f"event at {e.time} h is before the start {t0} h", field=f"event {e.target}")
        ev_val[:, i] = np.broadcast_to(np.asarray(e.value, dtype=float), (B,))

    T, n, k = len(times), len(m.species), len(m.observables)
    check_memory(8.0 * B * (T * (n + k) + len(ordered) + n + P.shape[1]),
                 f"a batch of {B} parameter sets × {T} output times × {n + k} species and observables",
                 field="times" if T > B else "batch")
    states = np.empty((B, T, n))
    obs = np.empty((B, T, k))
    status = np.zeros(B, dtype=np.int64)
    fail_t = np.full(B, np.nan)
    steps = np.zeros(B, dtype=np.int64)
    _solve_members(kernel().solve_range, B, (
        cm.native.addresses, cm.n_derived, Y0, P, t0, times, ev_t, ev_kind, ev_index, ev_val,
        options.rtol, options.atol, options.initial_step, options.max_steps,
        states, obs, status, fail_t, steps,
    ))
    result = SimulationResult(times, states, obs, cm.species_names, cm.observable_names, status, fail_t, steps, labels)
    if check:
        check_plausible(m, result, event_targets=[e.target for e in ordered if e.target in sidx],
                        rtol=options.rtol, atol=options.atol)
    failed = np.flatnonzero(status)
    if failed.size and on_failure == "raise":
        shown = ", ".join(
            f"member {b} at t = {fail_t[b]:.4g} h ({_STATUS_TEXT.get(int(status[b]), 'failure')})" for b in failed[:5]
        )
        if labels is not None and not labels.empty:
            shown += f"; first failing set: {labels.iloc[int(failed[0])].to_dict()}"
        raise SolverError(
            f"the solver failed for {failed.size} of {B} parameter sets: {shown}. "
            "Check those parameter values, or loosen/tighten the tolerances (SolverOptions).",
            members=[int(b) for b in failed],
            times=[float(fail_t[b]) for b in failed],
        )
    return result
