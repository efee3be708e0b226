"""An arm's pool of patients in chunks: each chunk one batched solve and its scans, run anywhere.

The pool-wide choices that shape the solves (the brain copy of the cell biology, the exposure
windows at which the engine restarts) are made once on the whole pool (:func:`exposure_plan`); every
other input of a patient — PK, reading noise, biology — comes from its own random streams. So a
chunk of patients gives the same numbers alone, in any process, as inside the whole pool: the
chunk size and the executor (in-process, Dask) never change results.
"""

from __future__ import annotations

import numpy as np

from ..engine._distributed import Task, chunk_ranges, run_chunks
from ..population import Patients
from ._assess import ArmReads, noise_draws, read_scans
from ._simulate import ArmRegimen, ExposurePlan, exposure_plan, simulate_arm

__all__ = ["arm_chunk", "simulate_reads", "concat_reads", "ENGINE_CHUNK"]

ENGINE_CHUNK = 4096  # members per engine call inside a chunk (bounds the solver's memory)


def arm_chunk(arm: ArmRegimen, patients: Patients, days: np.ndarray, scan_days: np.ndarray, seed: int,
              plan: ExposurePlan) -> ArmReads:
    """One chunk: the patients' clones under ``arm``, scanned and read (a Dask task)."""
    traj = simulate_arm(arm, patients, days, seed=seed, chunk=ENGINE_CHUNK, plan=plan)
    return read_scans(patients, traj, scan_days, noise_draws(patients, len(scan_days) + 1, seed))


def concat_reads(parts: list[ArmReads]) -> ArmReads:
    """The chunks' reads, patients in order."""
    cat = lambda name: np.concatenate([getattr(p, name) for p in parts], axis=0)  # noqa: E731
    return ArmReads(parts[0].scan_days, cat("sums"), cat("responses"), cat("pct_change"), cat("measurable"),
                    cat("first_pd"), cat("burden"))


def simulate_reads(label: str, arm: ArmRegimen, pool: Patients, days: np.ndarray, scan_days: np.ndarray, seed: int, *,
                   chunk: int, executor=None, store=None, progress=None) -> ArmReads:
    """Every pool patient's reads under ``arm``, ``chunk`` patients per task (checkpointed in ``store``)."""
    plan = exposure_plan(arm, pool, float(days[-1]), seed=seed)
    ranges = chunk_ranges(pool.n, chunk)
    tasks = [Task(f"{label}-{lo:08d}-{hi:08d}", arm_chunk, (arm, pool.take(np.arange(lo, hi)), days, scan_days, seed, plan))
             for lo, hi in ranges]
    size = {t.key: hi - lo for t, (lo, hi) in zip(tasks, ranges)}
    done = run_chunks(tasks, executor, store, progress=(lambda key: progress(size[key])) if progress else None)
    return concat_reads(list(done.values()))
