"""Benchmark: a 200-replicate virtual MIND study (every arm) — eralpha's engine against libRoadRunner.

The study: ``xenograft_mind_y537s_lasofoxifene`` (6 arms × 8 mice × N replicate studies; lasofoxifene SC 5
days/week, fulvestrant SC weekly, palbociclib by gavage 5 days/week; 21 days of engraftment + 70 days of
treatment; 39 species incl. PK compartments, metastases and the brain's own signalling).

(a) eralpha: ONE batched ``simulate`` call for all N × 48 mice (warm: numba's compilation is cached and
    timed separately); the whole ``simulate_studies`` (sampling animals, simulating, measuring) is timed too.
(b) libRoadRunner on the SBML exported by ``eralpha.model._sbml.to_sbml`` with the dose events as SBML
    events: one exported model per arm (doses differ per arm), looping over a subset of mice
    (reset, set that mouse's parameters and engrafted cells, simulate); its per-mouse time is scaled to
    the whole study. Agreement of tumour cells at every imaging session is checked on that subset.

Both at the same tolerances (the lab's ``SOLVER``: rtol 1e-4, atol 1e-6). Run:
    python benchmarks/bench_xenograft.py [--replicates 200] [--rr-mice 48]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# As the eralpha CLI does (eralpha/cli/__init__.py): OpenBLAS's idle threads otherwise spin after
# each BLAS call and take the second core from numba's workers.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--rr-mice", type=int, default=48, help="mice simulated by libRoadRunner (scaled to the study)")
    ap.add_argument("--scenario", default="xenograft_mind_y537s_lasofoxifene")
    args = ap.parse_args()

    import roadrunner

    from eralpha.engine import compile_model, simulate
    from eralpha.experiments._xenograft import SOLVER, build_studies, shipped_xenograft_scenarios, simulate_studies
    from eralpha.model._sbml import to_sbml
    from eralpha.scenario._xenograft_schema import load_xenograft_scenario

    path = next(p for p in shipped_xenograft_scenarios() if p.stem == args.scenario)
    s = load_xenograft_scenario(path)
    print(f"eralpha xenograft benchmark: {s.name}, {args.replicates} replicate studies; "
          f"libroadrunner {roadrunner.__version__}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")

    b = build_studies(s, args.replicates, seed=1)
    B = len(b.labels)
    t = time.perf_counter()
    cm = compile_model(b.model)
    simulate(cm, b.times, start=0.0, parameters={k: (np.asarray(v)[:2] if np.ndim(v) else v) for k, v in b.parameters.items()},
             initial={k: np.asarray(v)[:2] for k, v in b.initial.items()},
             events=[type(e)(e.time, e.target, np.asarray(e.value)[:2], e.action) for e in b.events], options=SOLVER)
    t_compile = time.perf_counter() - t
    t = time.perf_counter()
    res = simulate(cm, b.times, start=0.0, parameters=b.parameters, initial=b.initial, events=b.events, options=SOLVER)
    t_engine = time.perf_counter() - t
    t = time.perf_counter()
    simulate_studies(s, args.replicates, seed=1)
    t_study = time.perf_counter() - t
    print(f"(a) eralpha: {B} mice, {len(b.model.species)} species, {len(b.events)} dose-event times; "
          f"compile/first call {t_compile:.1f} s; ONE batched simulate {t_engine:.2f} s "
          f"({t_engine / B * 1e3:.2f} ms/mouse); whole study incl. sampling and read-outs {t_study:.2f} s")

    # --- (b) libRoadRunner: one SBML per arm (its dose events), a subset of mice ----------------
    n = min(args.rr_mice, B)
    arms = b.labels["arm"].to_numpy()
    runners, t_load = {}, 0.0
    pnames = [p.name for p in b.model.parameters]
    t_rr, worst = 0.0, 0.0
    failures: list[str] = []
    for m in range(n):
        # a roadrunner model carries its dose events: mice share one only if their doses are identical
        ev = [type(e)(e.time, e.target, float(np.asarray(e.value)[m]), e.action) for e in b.events
              if float(np.asarray(e.value)[m]) != 0.0]
        arm = (arms[m], tuple((e.time, e.target, e.value) for e in ev))
        if arm not in runners:
            t = time.perf_counter()
            r = roadrunner.RoadRunner(to_sbml(b.model, events=ev))
            # CVODE fails its Newton convergence at the engine's loose atol (1e-6): use 1e-6 / 1e-9
            r.integrator.relative_tolerance = 1e-6
            r.integrator.absolute_tolerance = 1e-9
            r.integrator.maximum_num_steps = 100000
            r.integrator.stiff = True
            runners[arm] = r
            t_load += time.perf_counter() - t
        r = runners[arm]
        t = time.perf_counter()
        r.resetAll()
        # initial values first, then reset, THEN parameters: reset() restores global parameters too
        for k, v in b.initial.items():
            r[f"init({k})"] = float(np.asarray(v)[m])
        r.reset()
        for k, v in b.parameters.items():
            if k in pnames:
                r[k] = float(np.asarray(v)[m]) if np.ndim(v) else float(v)
        sel = ["time", "cells"]
        r.timeCourseSelections = sel
        out = r.simulate(times=[0.0, *map(float, b.times)])
        t_rr += time.perf_counter() - t
        cells_rr = np.asarray(out[1:, 1])
        rel = np.max(np.abs(cells_rr - res["cells"][m]) / np.maximum(np.abs(res["cells"][m]), 1.0))
        worst = max(worst, rel)
    if failures:
        print(f"libRoadRunner FAILED on {len(failures)} of {n} mice, e.g. {failures[0]}")
    if len(failures) == n:
        print("no libRoadRunner timing: every mouse failed (see above)")
        return
    per_mouse_rr = t_rr / n
    t_rr_study = per_mouse_rr * B
    print(f"(b) libRoadRunner: {len(runners)} arm models loaded (SBML export + JIT) in {t_load:.1f} s; "
          f"{n} mice in {t_rr:.2f} s ({per_mouse_rr * 1e3:.2f} ms/mouse) -> {t_rr_study:.1f} s for the study (scaled)")
    print(f"agreement (tumour cells, every session, {n} mice): max relative difference {worst:.2e}")
    ratio = t_rr_study / t_engine
    print(f"ratio roadrunner / eralpha (simulation only): {ratio:.1f}x  "
          f"[target >= 20x: {'met' if ratio >= 20 else 'NOT met'}]; whole study {t_study:.1f} s "
          f"[target < 60 s: {'met' if t_study < 60 else 'NOT met'}]")


if __name__ == "__main__":
    main()
