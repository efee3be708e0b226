"""Run a function in a fresh interpreter: libRoadRunner's bundled LLVM, once it has compiled a model, can
crash llvmlite compiling a new eralpha structure later in the same process (seen in cold-cache CI runs)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def run_isolated(fn, *args):
    """``fn(*args)`` in a spawned process (``fn`` must be importable, its arguments picklable)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()
