"""Benchmark: one trial arm of 10^4 -> 10^5 (-> 10^6) virtual patients, in-process vs a Dask LocalCluster.

The workload is what a trial's size scales: the virtual-patient pool (sampled in the client), the
pool-wide exposure plan (human PK of every patient, in the client), then the arm in chunks of
``--chunk`` patients — each chunk one batched engine solve (members = patients x clone types, two
years of the worked example's fulvestrant 500 mg regimen) plus its scans and RECIST reads. Three ways:

* ``serial``: in-process, one engine thread (the baseline of parallel efficiency);
* ``threads``: in-process, the engine's own threads (one per core);
* ``dask``: a ``distributed.LocalCluster`` of ``--workers`` single-threaded worker processes.

Each (size, way) runs in a fresh subprocess, so peak RSS is that run's own: the client's
``ru_maxrss`` and, for Dask, the largest worker's (asked of the workers before they close). The
reads of every way are checked bit-identical to the serial way's (same seed, any executor).
Parallel efficiency = serial time / (ways' cores x its time). A warm compile cache is assumed (the
first subprocess warms it).

    python benchmarks/bench_scale.py                      # 10^4 and 10^5 patients, 2 workers
    python benchmarks/bench_scale.py --sizes 10000 --workers 2 --chunk 2048
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time

SCENARIO = "trial_fulvestrant_500_vs_250.yaml"


def _digest(reads) -> str:
    h = hashlib.sha256()
    for name in ("sums", "pct_change", "first_pd", "burden", "measurable"):
        h.update(getattr(reads, name).tobytes())
    h.update("|".join(reads.responses.ravel().tolist()).encode())
    return h.hexdigest()[:16]


def one(n: int, way: str, workers: int, chunk: int) -> dict:
    """Time one arm of ``n`` patients one way (run in its own process)."""
    if way == "serial":
        import numba

        numba.set_num_threads(1)
    from eralpha.engine import make_executor
    from eralpha.scenario import load_scenario
    from eralpha.trials._chunks import simulate_reads
    from eralpha.trials._run import eligible_patients, simulation_days
    from eralpha.trials._simulate import arm_regimen

    s = load_scenario(_scenario_path())
    arm = s.arms[0]
    reg = arm_regimen(arm.name, arm.drugs, s.design.follow_up)
    days, scan_days = simulation_days(s), s.scan_days()
    t0 = time.perf_counter()
    executor = make_executor("local" if way == "dask" else None, workers=workers)
    t_start = time.perf_counter() - t0
    with executor:
        t1 = time.perf_counter()
        pool = eligible_patients(s, n, s.seed)
        t_pool = time.perf_counter() - t1
        reads = simulate_reads("bench", reg, pool, days, scan_days, s.seed, chunk=chunk, executor=executor)
        t_total = time.perf_counter() - t1
        worker_rss = 0.0
        if way == "dask":
            rss = executor.client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            worker_rss = max(rss.values()) / 1024.0
    return {"n": n, "way": way, "workers": workers if way == "dask" else 1, "start_s": t_start, "pool_s": t_pool,
            "total_s": t_total, "client_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "worker_rss_mb": worker_rss, "digest": _digest(reads), "patients": int(pool.n)}


def _scenario_path() -> str:
    from pathlib import Path

    import eralpha

    return str(Path(eralpha.__file__).parent / "scenarios" / SCENARIO)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=2048)
    ap.add_argument("--ways", nargs="+", default=["serial", "threads", "dask"])
    ap.add_argument("--one", nargs=2, metavar=("N", "WAY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], args.workers, args.chunk)))
        return

    print(f"eralpha scale-out benchmark: one arm of {SCENARIO}, chunks of {args.chunk} patients, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    subprocess.run([sys.executable, __file__, "--one", "50", "serial"], check=True, capture_output=True)  # warm caches
    rows = []
    for n in args.sizes:
        for way in args.ways:
            out = subprocess.run([sys.executable, __file__, "--one", str(n), way, "--workers", str(args.workers),
                                  "--chunk", str(args.chunk)], capture_output=True, text=True)
            if out.returncode:
                print(out.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"{way} at {n} patients failed")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(f"  {n:>8} {way:<8} {r['total_s']:8.1f} s  (pool {r['pool_s']:.1f} s, cluster start {r['start_s']:.1f} s)  "
                  f"client RSS {r['client_rss_mb']:.0f} MB  worker RSS {r['worker_rss_mb']:.0f} MB", flush=True)

    print("\n| patients | way | cores | wall (s) | patients/s | speed-up vs serial | parallel efficiency | "
          "peak RSS client / worker (MB) | same numbers as serial |")
    print("|---:|---|---:|---:|---:|---:|---:|---|---|")
    ok = True
    for n in args.sizes:
        base = next(r for r in rows if r["n"] == n and r["way"] == "serial") if "serial" in args.ways else None
        for r in (r for r in rows if r["n"] == n):
            cores = 1 if r["way"] == "serial" else (r["workers"] if r["way"] == "dask" else os.cpu_count())
            speed = base["total_s"] / r["total_s"] if base else float("nan")
            same = base is None or r["digest"] == base["digest"]
            ok &= same
            worker = f"{r['worker_rss_mb']:.0f}" if r["way"] == "dask" else "—"
            print(f"| {n:,} | {r['way']} | {cores} | {r['total_s']:.1f} | {n / r['total_s']:.0f} | {speed:.2f} | "
                  f"{speed / cores:.0%} | {r['client_rss_mb']:.0f} / {worker} | {'yes' if same else 'NO'} |")
    if not ok:
        raise SystemExit("the ways disagree: results depend on the executor")


if __name__ == "__main__":
    main()
