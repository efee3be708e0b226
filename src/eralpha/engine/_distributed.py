"""Run chunks of a large batch in-process or on a Dask cluster, checkpointing every finished chunk.

A *chunk* is a slice of members (virtual patients, animals) and one batched engine call; its task is
a module-level function and its arguments (picklable, so a worker process can run it). Because every
random draw is keyed by (seed, purpose, member) (:mod:`._streams`) and every member has its own
adaptive step, a chunk's numbers do not depend on the chunk size, the worker or the thread count.

* :class:`InProcess` (the default): chunks run one after another in this process (the engine's own
  threads parallelise inside each chunk).
* :class:`DaskExecutor`: ``"local"`` starts a ``distributed.LocalCluster`` (one single-threaded
  worker process per core by default); any other address (``"tcp://scheduler:8786"``) connects to a
  running scheduler. Workers import eralpha and load the compiled engine from the on-disk caches
  (``$ERALPHA_CACHE_DIR``), compiling only what is missing.

:func:`run_chunks` loads what a :class:`~eralpha.store.ChunkStore` already holds, submits only the
rest, and writes each result (from the client, so a remote cluster needs no shared disk) as it
arrives. Dask is an optional extra: ``pip install "eralpha[dask]"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

__all__ = ["Task", "InProcess", "DaskExecutor", "make_executor", "run_chunks", "chunk_ranges"]


@dataclass(frozen=True)
class Task:
    """One chunk: ``fn(*args)``, stored under ``key``."""

    key: str
    fn: Callable[..., Any]
    args: tuple


def chunk_ranges(n: int, size: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` slices of ``n`` members, ``size`` at a time."""
    if size < 1:
        raise InputError(f"chunk size must be >= 1 (got {size})", field="chunk", value=size, valid="a positive number of members")
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


class InProcess:
    """Chunks one after another in this process."""

    name = "in-process"

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[str, Any]]:
        for t in tasks:
            yield t.key, t.fn(*t.args)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("--dask needs Dask, which is not installed: pip install \"eralpha[dask]\" (dask and distributed)",
                         field="dask") from None
    return distributed


class DaskExecutor(InProcess):
    """Chunks as Dask tasks, results taken as they complete (``address``: "local" or a scheduler)."""

    def __init__(self, address: str = "local", *, workers: int | None = None, threads_per_worker: int = 1) -> None:
        distributed = _import_distributed()
        self.address, self._cluster = address, None
        if address == "local":
            n = workers or max(1, os.cpu_count() or 1)
            # each worker's engine threads = its Dask threads: the cores are shared out, not oversubscribed
            env = {"NUMBA_NUM_THREADS": str(threads_per_worker)}
            if os.environ.get("ERALPHA_CACHE_DIR"):
                env["ERALPHA_CACHE_DIR"] = os.environ["ERALPHA_CACHE_DIR"]
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=threads_per_worker, processes=True,
                                                     dashboard_address=None, env=env)
            self.client = distributed.Client(self._cluster)
        elif address.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://", "ucx://")):
            try:
                self.client = distributed.Client(address, timeout="30s")
            except OSError as exc:
                raise InputError(f"cannot reach the Dask scheduler at {address} ({exc})", field="dask", value=address,
                                 valid="'local', or a running scheduler's address such as tcp://scheduler:8786") from None
        else:
            raise InputError(f"unknown Dask address {address!r}", field="dask", value=address,
                             valid="'local' (a LocalCluster on this machine) or a scheduler address such as tcp://scheduler:8786")
        self.name = f"dask {address}"

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info()["workers"])

    def map(self, tasks: Sequence[Task]) -> Iterator[tuple[str, Any]]:
        distributed = _import_distributed()
        token = uuid.uuid4().hex[:8]  # task keys unique to this submission: a resumed run never meets stale ones
        futures = {self.client.submit(t.fn, *t.args, key=f"eralpha-{t.key}-{token}", pure=False): t.key for t in tasks}
        for fut in distributed.as_completed(futures):
            yield futures[fut], fut.result()
            fut.release()  # free the worker's copy as soon as the client has it

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(dask: str | None = None, *, workers: int | None = None) -> InProcess:
    """In-process when ``dask`` is None, else a :class:`DaskExecutor`."""
    return InProcess() if not dask else DaskExecutor(dask, workers=workers)


def run_chunks(tasks: Sequence[Task], executor: InProcess | None = None, store=None,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every task's result by key: from ``store`` when already there, else computed (and stored)."""
    executor = executor or InProcess()
    out: dict[str, Any] = {}
    todo = []
    for t in tasks:
        if store is not None and store.has(t.key):
            out[t.key] = store.load(t.key)
        else:
            todo.append(t)
    for key, value in executor.map(todo):
        if store is not None:
            store.save(key, value)
        out[key] = value
        if progress is not None:
            progress(key)
    return {t.key: out[t.key] for t in tasks}
