"""Benchmark: a full in-vitro panel simulated three ways — eralpha's engine, libRoadRunner, a SciPy loop.

The panel: oestradiol-stimulated cells (0.1 nM E2 from t = 0) treated with every seed ER compound the
knowledge base has × 12 concentrations (0.01–1000 nM) × the ER-variant cell lines (MCF7, MCF7-Y537S,
MCF7-D538G) × two time courses: degradation (ER_total at 6, 24, 48, 72 h) and proliferation (cells
daily to 7 days). Every way computes every observable at the same output times, at the same
tolerances (rtol 1e-6, atol 1e-9):

(a) eralpha: ``simulate`` — one batched call per compiled model structure and time course (models with
    the same topology share one compiled module, so the six compounds of one cell line run as one batch);
    warm time reported, numba's one-off compilation timed separately (in a fresh cache folder);
(b) libRoadRunner on the exported SBML: one RoadRunner per exported model, looping over the parameter
    sets (reset, set the concentrations, simulate); model loading (LLVM JIT) timed separately;
(c) ``scipy.integrate.solve_ivp`` (LSODA) per parameter set, with the right-hand side and Jacobian
    lambdified to NumPy from the same sympy expressions the engine compiles (not the numba functions).

Run:  python benchmarks/bench_invitro_panel.py [--scipy-budget 180] [--repeats 5] [--warm-cache]
"""

from __future__ import annotations

import argparse
import os

# As the eralpha CLI does (eralpha/cli/__init__.py): OpenBLAS's idle threads otherwise spin after
# each BLAS call and take the second core from numba's workers. The timed loops themselves do no
# BLAS work (libRoadRunner's loop runs on one thread either way).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

COMPOUNDS = ("lasofoxifene", "fulvestrant", "elacestrant", "imlunestrant", "4-hydroxytamoxifen", "tamoxifen")
CELL_LINES = ("MCF7", "MCF7-Y537S", "MCF7-D538G")
CONCENTRATIONS = np.logspace(-2, 3, 12)  # nM
E2 = 0.1  # nM
COURSES = {"degradation": np.array([0.0, 6.0, 24.0, 48.0, 72.0]), "proliferation": np.arange(0.0, 169.0, 24.0)}
READOUT = {"degradation": "ER_total", "proliferation": "cells"}
RTOL, ATOL = 1e-6, 1e-9
AGREE = 1e-3


@dataclass(frozen=True)
class Case:
    """One model of the panel (a cell line and one compound) and where it sits in the batches."""

    cell_line: str
    compound: str
    model: object  # eralpha Model
    conc: str  # its concentration parameter


def build_panel():
    from eralpha.errors import EralphaError
    from eralpha.knowledge import load_knowledge
    from eralpha.model import assemble_cell_model, conc_param

    kb = load_knowledge()
    lines = [c for c in CELL_LINES if c in kb.cell_lines]
    notes = [f"cell line {c} is not in the knowledge base: left out" for c in CELL_LINES if c not in lines]
    cases = []
    for line in lines:
        for comp in COMPOUNDS:
            if kb.compound(comp).bound_receptor_half_life is None:  # the cell model needs it (see report)
                notes.append(f"{comp} in {line} left out: the knowledge base has no half-life of ERα bound to it")
                continue
            try:
                model = assemble_cell_model(cell_line=line, ligands=(comp,))
            except EralphaError as exc:
                notes.append(f"{comp} in {line} left out: {exc}")
                continue
            cases.append(Case(line, comp, model, conc_param(comp)))
    return cases, notes


# --- (a) eralpha ------------------------------------------------------------------------------
def eralpha_structures(cases):
    """Group cases by compiled module (same topology -> same index-based code -> one batch)."""
    from eralpha.engine import compile_model

    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(compile_model(case.model).source, []).append(case)
    return list(groups.values())


def run_eralpha(structures):
    """One simulate call per structure and course; returns {(line, compound, course): (C, T, k)}."""
    from eralpha.engine import SolverOptions, compile_model, simulate

    opts = SolverOptions(rtol=RTOL, atol=ATOL)
    out = {}
    for group in structures:
        cm = compile_model(group[0].model)
        names = cm.parameter_names
        P = np.vstack([np.tile([p.value for p in c.model.parameters], (len(CONCENTRATIONS), 1)) for c in group])
        for g, case in enumerate(group):
            P[g * len(CONCENTRATIONS):(g + 1) * len(CONCENTRATIONS), case.model.parameter_index[case.conc]] = CONCENTRATIONS
            P[g * len(CONCENTRATIONS):(g + 1) * len(CONCENTRATIONS), case.model.parameter_index["conc_E2"]] = E2
        Y0 = np.vstack([np.tile([s.initial for s in c.model.species], (len(CONCENTRATIONS), 1)) for c in group])
        for course, times in COURSES.items():
            res = simulate(cm, times, parameters={n: P[:, j] for j, n in enumerate(names)},
                           initial={s: Y0[:, i] for i, s in enumerate(cm.species_names)}, options=opts)
            for g, case in enumerate(group):
                out[(case.cell_line, case.compound, course)] = res.observables[g * len(CONCENTRATIONS):(g + 1) * len(CONCENTRATIONS)]
    return out


# --- (b) libRoadRunner ------------------------------------------------------------------------
def load_roadrunners(cases):
    import roadrunner

    from eralpha.model._sbml import to_sbml

    runners = []
    for case in cases:
        r = roadrunner.RoadRunner(to_sbml(case.model))
        r.integrator.relative_tolerance = RTOL
        r.integrator.absolute_tolerance = ATOL
        runners.append(r)
    return runners


def run_roadrunner(cases, runners):
    out = {}
    for case, r in zip(cases, runners):
        selections = ["time", *case.model.observables]
        for course, times in COURSES.items():
            rows = []
            for c in CONCENTRATIONS:
                r.reset()
                r["conc_E2"] = E2
                r[case.conc] = c
                rows.append(np.asarray(r.simulate(times=times, selections=selections))[:, 1:])
            out[(case.cell_line, case.compound, course)] = np.stack(rows)
    return out


# --- (c) SciPy ----------------------------------------------------------------------------------
class LambdifiedModel:
    """Right-hand side, dense Jacobian and observables of a model as plain NumPy (sympy.lambdify)."""

    def __init__(self, model) -> None:
        import sympy as sp

        from eralpha.engine import SymbolicModel

        sym = SymbolicModel(model)
        ys = [sym.symbols[s.name] for s in model.species]
        ps = [sym.symbols[p.name] for p in model.parameters]
        n = len(ys)
        jac = sp.zeros(n, n)
        for (i, j), e in sym.jacobian.items():
            jac[i, j] = e
        args = (ys, ps)
        self.rhs = sp.lambdify(args, sym.rhs, modules="numpy", cse=True)
        self.jac = sp.lambdify(args, jac, modules="numpy", cse=True)
        self.obs = sp.lambdify(args, sym.observables, modules="numpy", cse=True)
        self.model = model

    def solve(self, p: np.ndarray, times: np.ndarray) -> np.ndarray:
        from scipy.integrate import solve_ivp

        y0 = np.array([s.initial for s in self.model.species])
        sol = solve_ivp(lambda t, y: self.rhs(y, p), (times[0], times[-1]), y0, method="LSODA", t_eval=times,
                        jac=lambda t, y: np.asarray(self.jac(y, p), dtype=float), rtol=RTOL, atol=ATOL)
        if not sol.success:
            raise RuntimeError(sol.message)
        return np.array([[float(v) for v in self.obs(sol.y[:, k], p)] for k in range(len(times))])


def scipy_members(cases):
    """Every simulation of the panel as (case, course, concentration index)."""
    return [(case, course, i) for case in cases for course in COURSES for i in range(len(CONCENTRATIONS))]


def run_scipy(members, lambdified):
    out = {}
    for case, course, i in members:
        p = np.array([q.value for q in case.model.parameters])
        p[case.model.parameter_index["conc_E2"]] = E2
        p[case.model.parameter_index[case.conc]] = CONCENTRATIONS[i]
        out[(case.cell_line, case.compound, course, i)] = lambdified[id(case.model)].solve(p, COURSES[course])
    return out


# --- comparison and report ---------------------------------------------------------------------
FLOOR = 1e-2  # values below 1 % of an observable's largest value are compared against that 1 %


def max_rel(a: np.ndarray, ref: np.ndarray) -> float:
    """Max |a - ref| / max(|ref|, FLOOR * max|ref| of that observable), over members, times and observables.

    The floor matters for net_growth_rate, a difference of two rates that crosses zero: there a tiny
    absolute difference would otherwise read as a large relative one.
    """
    floor = FLOOR * np.max(np.abs(ref), axis=tuple(range(ref.ndim - 1)), keepdims=True)
    return float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), np.maximum(floor, 1e-12))))


def timed(fn, *args, repeats: int = 1):
    best, result = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scipy-budget", type=float, default=180.0, help="seconds the SciPy loop may take before it runs on a random subset")
    ap.add_argument("--repeats", type=int, default=5, help="warm repeats of eralpha and roadrunner, interleaved (best is reported)")
    ap.add_argument("--warm-cache", action="store_true", help="reuse eralpha's compiled-model cache (default: a fresh one, to time compilation)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the SciPy subset")
    args = ap.parse_args(argv)
    if not args.warm_cache:
        os.environ["ERALPHA_CACHE_DIR"] = tempfile.mkdtemp(prefix="eralpha-bench-cache-")

    import numba
    import roadrunner
    import scipy

    import eralpha

    cases, notes = build_panel()
    n_sims = len(cases) * len(COURSES) * len(CONCENTRATIONS)
    print(f"eralpha {eralpha.__version__}, numba {numba.__version__} ({numba.get_num_threads()} threads), "
          f"libroadrunner {roadrunner.__version__}, scipy {scipy.__version__}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"panel: {len(cases)} models ({', '.join(sorted({c.cell_line for c in cases}))}; "
          f"{', '.join(dict.fromkeys(c.compound for c in cases))}) x {len(CONCENTRATIONS)} concentrations x "
          f"{len(COURSES)} time courses = {n_sims} simulations, E2 {E2} nM, rtol {RTOL:g}, atol {ATOL:g}")
    for note in notes:
        print("  note:", note)

    # (a) eralpha: the first run pays numba's compilation; then warm runs
    t0 = time.perf_counter()
    structures = eralpha_structures(cases)
    t_codegen = time.perf_counter() - t0
    t_first, _ = timed(run_eralpha, structures)
    t_load, runners = timed(load_roadrunners, cases)
    # warm runs, interleaved so that both ways see the same machine load; the best of each is kept
    threads = numba.get_num_threads()
    t_eralpha = t_eralpha1 = t_rr = np.inf
    for _ in range(args.repeats):
        t, res_a = timed(run_eralpha, structures)
        t_eralpha = min(t_eralpha, t)
        numba.set_num_threads(1)
        t_eralpha1 = min(t_eralpha1, timed(run_eralpha, structures)[0])
        numba.set_num_threads(threads)
        t, res_b = timed(run_roadrunner, cases, runners)
        t_rr = min(t_rr, t)
    print(f"(a) eralpha: {len(structures)} compiled structures, {len(structures) * len(COURSES)} simulate calls; "
          f"code generation {t_codegen:.1f} s, first run {t_first:.1f} s (numba compilation ~{t_first - t_eralpha:.1f} s), "
          f"warm {t_eralpha:.3f} s ({threads} threads), {t_eralpha1:.3f} s (1 thread)")
    print(f"(b) libRoadRunner: {len(runners)} models loaded (SBML export + LLVM JIT) in {t_load:.1f} s, warm {t_rr:.3f} s")

    # (c) SciPy, on a random subset if the whole panel would exceed the budget
    t_lamb, lambdified = timed(lambda: {id(c.model): LambdifiedModel(c.model) for c in cases})
    members = scipy_members(cases)
    probe = members[:: max(1, len(members) // 12)]
    t_probe, _ = timed(run_scipy, probe, lambdified)
    projected = t_probe / len(probe) * len(members)
    if projected > args.scipy_budget:
        k = max(len(probe), int(args.scipy_budget / (t_probe / len(probe))))
        rng = np.random.default_rng(args.seed)
        subset = [members[i] for i in sorted(rng.choice(len(members), size=min(k, len(members)), replace=False))]
    else:
        subset = members
    t_sub, res_c = timed(run_scipy, subset, lambdified)
    t_scipy = t_sub / len(subset) * len(members)
    how = "whole panel" if len(subset) == len(members) else (
        f"EXTRAPOLATED from a random subset of {len(subset)} of {len(members)} simulations (seed {args.seed}): "
        f"{t_sub:.1f} s measured, {t_sub / len(subset) * 1e3:.1f} ms per simulation")
    print(f"(c) SciPy solve_ivp LSODA + lambdified NumPy Jacobian: lambdify {t_lamb:.1f} s; {how}")

    # agreement: every observable (floored), and the two readouts (pure relative difference)
    obs = list(cases[0].model.observables)
    ro = {course: obs.index(READOUT[course]) for course in COURSES}
    pairs = {"roadrunner vs eralpha": [(res_b[k], res_a[k], k[2]) for k in res_a],
             "scipy vs eralpha": [(v[None], res_a[k[:3]][k[3]][None], k[2]) for k, v in res_c.items()],
             "scipy vs roadrunner": [(v[None], res_b[k[:3]][k[3]][None], k[2]) for k, v in res_c.items()]}
    worst = 0.0
    for label, items in pairs.items():
        d_all = max(max_rel(a, ref) for a, ref, _ in items)
        d_read = max(float(np.max(np.abs(a[..., ro[c]] - ref[..., ro[c]]) / np.abs(ref[..., ro[c]]))) for a, ref, c in items)
        worst = max(worst, d_all, d_read)
        print(f"agreement {label:<22} max relative difference: all observables {d_all:.1e} (floor {FLOOR:g} of max), "
              f"readouts ER_total / cells {d_read:.1e}")
    ok = worst < AGREE
    print(f"agreement: {'OK' if ok else 'DISAGREE'} (worst {worst:.1e}, threshold {AGREE:g})")

    # readouts, as a sanity check a person can read
    for line in sorted({c.cell_line for c in cases}):
        row = [f"{c.compound} {res_a[(line, c.compound, 'degradation')][-1, -1, 0]:.1f}" for c in cases if c.cell_line == line]
        print(f"  ER_total (nM) at 72 h, 1000 nM, {line}: " + ", ".join(row))

    print()
    print(f"{'way':<44}{'wall time (s)':>14}{'per simulation (ms)':>21}{'ratio to eralpha':>18}")
    for label, t in (("(a) eralpha simulate (warm, batched)", t_eralpha),
                     ("(a1) the same, one numba thread", t_eralpha1),
                     ("(b) libRoadRunner (warm, loop)", t_rr),
                     ("(c) SciPy solve_ivp LSODA (loop)" + ("" if subset is members else " *extrap."), t_scipy)):
        print(f"{label:<44}{t:>14.3f}{t / n_sims * 1e3:>21.3f}{t / t_eralpha:>17.1f}x")
    print(f"targets: roadrunner/eralpha >= 10x ({'met' if t_rr / t_eralpha >= 10 else 'NOT met'}), "
          f"scipy/eralpha >= 100x ({'met' if t_scipy / t_eralpha >= 100 else 'NOT met'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
