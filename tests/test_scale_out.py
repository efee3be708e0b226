"""Scale-out: chunk-invariant random streams, a real Dask LocalCluster, and kill -9 then resume."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from eralpha.engine._distributed import InProcess, Task, chunk_ranges, run_chunks
from eralpha.engine._streams import member_draws
from eralpha.errors import InputError
from eralpha.store import to_jsonable
from eralpha.store._checkpoint import CHECKPOINTS_DIR, ChunkStore
from eralpha.trials import parse_trial_scenario, run_trial

TRIAL = {
    "kind": "trial",
    "name": "scale-out",
    "seed": 11,
    "population": {"line": {2: 1.0}, "prior_ai": 1.0, "prior_cdk46i": 0.5, "esr1_mutant": 0.6},
    "eligibility": {"brain_metastases": True},
    "arms": [
        {"name": "lasofoxifene", "n": 10, "drugs": [{"compound": "lasofoxifene", "regimen": "5 mg oral q24h"}]},
        {"name": "fulvestrant", "n": 10, "drugs": [{"compound": "fulvestrant", "regimen": "500 mg im on days 1, 15, 29 then q28d"}]},
    ],
    "reference": "fulvestrant",
    "design": {"accrual": "3 months", "follow_up": "6 months"},
    "scans": [{"every": "8 weeks"}],
    "replicates": 2,
    "pool": 40,
}


def _same(a, b) -> bool:
    """Bit-identical endpoints and per-patient tables."""
    ja, jb = (json.dumps(r.endpoints, default=float, sort_keys=True) for r in (a, b))
    return ja == jb and all(a.tables[k].equals(b.tables[k]) for k in ("all_patients", "visits"))


def test_member_draws_do_not_depend_on_which_members_are_drawn_together():
    ids = np.arange(3000)

    def draw(rng, n):
        return rng.normal(size=(n, 2))

    full = member_draws(3, "noise", ids, draw, block=256)
    for lo, hi in [(0, 1), (255, 257), (1000, 2999)]:
        assert np.array_equal(member_draws(3, "noise", ids[lo:hi], draw, block=256), full[lo:hi])
    shuffled = np.random.default_rng(0).permutation(ids)
    assert np.array_equal(member_draws(3, "noise", shuffled, draw, block=256), full[shuffled])
    assert not np.array_equal(member_draws(4, "noise", ids, draw, block=256), full)  # the seed matters
    assert not np.array_equal(member_draws(3, "pk", ids, draw, block=256), full)  # and the purpose


def test_the_pool_of_n_patients_is_a_prefix_of_the_pool_of_more():
    from eralpha.trials._run import eligible_patients

    s = parse_trial_scenario(TRIAL)
    small, big = eligible_patients(s, 7, 1), eligible_patients(s, 1500, 1)
    assert small.covariates.drop(columns="patient").equals(big.covariates.iloc[:7].drop(columns="patient"))
    assert big.covariates["uid"].is_unique


def test_chunk_size_never_changes_a_number():
    s = parse_trial_scenario(TRIAL)
    a = run_trial(s, chunk=1000)
    assert _same(a, run_trial(s, chunk=3))
    assert _same(a, run_trial(s, chunk=17))


def test_checkpointed_chunks_are_loaded_not_recomputed(tmp_path):
    calls = []

    def task(i):
        calls.append(i)
        return {"chunk": i}

    store = ChunkStore.for_plan(tmp_path, "toy", {"seed": 1})
    tasks = [Task(f"c{lo}", task, (lo,)) for lo, _ in chunk_ranges(10, 4)]
    assert run_chunks(tasks[:2], InProcess(), store) == {"c0": {"chunk": 0}, "c4": {"chunk": 4}}
    assert calls == [0, 4]
    out = run_chunks(tasks, InProcess(), ChunkStore.for_plan(tmp_path, "toy", {"seed": 1}))
    assert calls == [0, 4, 8] and list(out) == ["c0", "c4", "c8"]
    other = ChunkStore.for_plan(tmp_path, "toy", {"seed": 2})  # another plan never sees these chunks
    assert other.path != store.path and not other.keys()
    assert not list(store.path.glob("*.tmp"))


def test_dask_without_a_valid_address_is_a_one_line_error():
    from eralpha.engine import make_executor

    with pytest.raises(InputError, match="scheduler address"):
        make_executor("scheduler:8786")
    with pytest.raises(InputError, match="chunk size"):
        chunk_ranges(10, 0)


def _trial_cmd(path: Path, runs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "eralpha", "trial", "run", str(path), "--runs-dir", str(runs), "--format", "json",
            "--no-report", *extra]


@pytest.mark.slow
def test_a_run_killed_mid_way_resumes_and_matches_an_uninterrupted_run(tmp_path):
    spec = copy.deepcopy(TRIAL)
    spec.update(pool=160, replicates=4)
    spec["arms"] = [{**a, "n": 20} for a in spec["arms"]]
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump(spec))
    runs = tmp_path / "runs"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    proc = subprocess.Popen(_trial_cmd(path, runs, "--chunk", "4"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    chunks: list[Path] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        chunks = list((runs / CHECKPOINTS_DIR).glob("*/*.pkl"))
        if len(chunks) >= 5:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = list((runs / CHECKPOINTS_DIR).glob("*/*.pkl"))
    total = 2 * 160 // 4
    assert 5 <= len(done) < total, f"kill came at {len(done)} of {total} chunks"

    out = subprocess.run(_trial_cmd(path, runs, "--chunk", "4"), capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    resumed = json.loads(out.stdout)
    assert not list((runs / CHECKPOINTS_DIR).glob("*/*.pkl"))  # removed once the result is out
    # an uninterrupted run of the same trial, in this process, one chunk per arm
    whole = run_trial(parse_trial_scenario(spec), chunk=10_000)
    assert json.dumps(resumed, sort_keys=True) == json.dumps(to_jsonable(whole.endpoints), sort_keys=True)
    # what the killed run finished was loaded, not recomputed; the rest computed once
    assert f"{len(done)} chunks loaded, {total - len(done)} computed" in out.stderr


@pytest.mark.slow
def test_a_local_dask_cluster_of_two_workers_gives_bit_identical_results():
    pytest.importorskip("distributed")
    from eralpha.engine import DaskExecutor

    s = parse_trial_scenario(TRIAL)
    ref = run_trial(s, chunk=1000)
    with DaskExecutor("local", workers=2) as ex:
        assert ex.workers == 2
        for chunk in (3, 11):
            assert _same(ref, run_trial(s, chunk=chunk, executor=ex))
