"""Benchmark: cold compilation cost per model structure — this engine, and optionally an older checkout.

Each way runs in its own fresh process with its own empty ``ERALPHA_CACHE_DIR`` (a temporary folder),
so every number is a cold-cache number. For each structure it times ``compile_model`` plus the first
``simulate`` (one member, 24 h) — what a user waits for before the first result of a new model. The
first row is a one-species decay model: with the compiled-once kernel it carries the kernel's numba
compilation (paid once per cache), every later row only the structure's own code generation.

Structures: the cell model for each seed ER compound in MCF7, a mutant line, with a CDK4/6 inhibitor
and with two ligands, and the tumour model of every shipped xenograft scenario (PK compartments,
metastases, ...), de-duplicated by structure.

    python benchmarks/bench_compile.py                          # this checkout only
    git worktree add /tmp/eralpha-old f90099f                   # the per-structure numba engine
    python benchmarks/bench_compile.py --compare /tmp/eralpha-old/src --limit 6

``--compare SRC`` runs the same structures with ``PYTHONPATH=SRC`` (an older eralpha source tree, same
virtual environment), side by side; ``--limit N`` times only the first N structures (the old engine
takes 11-40 s each).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def structures():
    """(label, model) for distinct structures, cheapest first."""
    from eralpha.experiments._xenograft import build_studies, shipped_xenograft_scenarios
    from eralpha.model import Model, Parameter, Species, assemble_cell_model, assumed, degrade
    from eralpha.scenario._xenograft_schema import load_xenograft_scenario

    out = [("decay, 1 species (first: carries the kernel)",
            Model("decay", species=(Species("x", 1.0),), parameters=(Parameter("k", 0.3, "1/h", assumed("benchmark")),),
                  observables=("x",)) + degrade("x", "k"))]
    cells = [("MCF7", ("fulvestrant",), ()), ("MCF7", ("lasofoxifene",), ()), ("MCF7", ("imlunestrant",), ("abemaciclib",)),
             ("MCF7-Y537S", ("elacestrant",), ()), ("MCF7", ("fulvestrant", "4-hydroxytamoxifen"), ()),
             ("MCF7-D538G", ("imlunestrant",), ("palbociclib",))]
    for line, ligands, inhibitors in cells:
        m = assemble_cell_model(cell_line=line, ligands=ligands, inhibitors=inhibitors)
        out.append((f"cell {line} + {'/'.join(ligands + inhibitors)}", m))
    for path in shipped_xenograft_scenarios():
        out.append((f"tumour {path.stem}", build_studies(load_xenograft_scenario(path), 1, seed=1).model))
    return out


def worker(limit: int | None) -> None:
    """Runs in the child process: one JSON line per structure."""
    import numpy as np

    from eralpha.engine import compile_model, simulate

    seen: set[tuple] = set()
    done = 0
    for label, model in structures():
        shape = (tuple(s.name for s in model.species), tuple(r.rate for r in model.reactions), tuple(model.observables))
        if shape in seen:
            continue
        seen.add(shape)
        t, c = time.perf_counter(), time.process_time()
        cm = compile_model(model)
        t_gen = time.perf_counter() - t
        simulate(cm, np.array([0.0, 24.0]), on_failure="mark")
        total, cpu = time.perf_counter() - t, time.process_time() - c
        print(json.dumps({"label": label, "species": len(model.species), "codegen_s": t_gen, "total_s": total, "cpu_s": cpu}), flush=True)
        done += 1
        if limit is not None and done >= limit:
            break


def run(src: str | None, limit: int | None) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="eralpha-bench-compile-") as cache:
        env = dict(os.environ, ERALPHA_CACHE_DIR=cache, NUMBA_CACHE_DIR=os.path.join(cache, "numba"))
        if src:
            env["PYTHONPATH"] = src
        cmd = [sys.executable, os.path.abspath(__file__), "--worker"] + (["--limit", str(limit)] if limit else [])
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        wall = time.perf_counter() - t
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    print(f"  {'this checkout' if src is None else src}: {len(rows)} structures, process wall time {wall:.1f} s", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", metavar="SRC", help="an older eralpha source tree to time side by side")
    ap.add_argument("--limit", type=int, help="time only the first N structures")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.limit)
        return
    load = os.getloadavg()
    print(f"cold compile per model structure; {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    new = run(None, args.limit)
    old = run(args.compare, args.limit) if args.compare else None
    # wall time is what a user waits; CPU time (this process) is what it costs when the machine is shared
    head = f"{'structure':50s} {'species':>7s} {'new: codegen':>12s} {'new: wall':>9s} {'new: CPU':>8s}"
    print("\n" + head + (f" {'old: wall':>9s} {'old: CPU':>8s} {'old/new CPU':>11s}" if old else ""))
    for i, r in enumerate(new):
        line = f"{r['label'][:50]:50s} {r['species']:7d} {r['codegen_s']:11.2f}s {r['total_s']:8.2f}s {r['cpu_s']:7.2f}s"
        if old and i < len(old):
            line += f" {old[i]['total_s']:8.2f}s {old[i]['cpu_s']:7.2f}s {old[i]['cpu_s'] / r['cpu_s']:10.1f}x"
        print(line)
    rest = new[1:]
    if rest:
        print(f"\nnew: first structure (with the kernel) {new[0]['total_s']:.1f} s wall; each further structure "
              f"median {_median(rest, 'total_s'):.2f} s wall / {_median(rest, 'cpu_s'):.2f} s CPU, "
              f"max {max(r['total_s'] for r in rest):.2f} s wall")
    if old and len(old) > 1:
        print(f"old: each further structure median {_median(old[1:], 'total_s'):.1f} s wall / {_median(old[1:], 'cpu_s'):.1f} s CPU")
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def _median(rows: list[dict], key: str) -> float:
    return sorted(r[key] for r in rows)[len(rows) // 2]


if __name__ == "__main__":
    main()
