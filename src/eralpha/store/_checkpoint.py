"""Checkpoints of a long run: every finished chunk in its own file, written atomically.

A run of many chunks (a trial of 10⁶ patients on a Dask cluster) that is killed — the client or a
worker, ``kill -9`` included — resumes by re-running the same command: chunks already on disk are
loaded, never recomputed, and a chunk file is either complete or absent (one ``os.replace``), so
nothing is counted twice. The folder's name is a fingerprint of everything that decides the numbers
(scenario, seed, sizes, random layout, eralpha version), so a changed command never reuses stale
chunks; ``plan.json`` inside says what the fingerprint covers.

Chunk files are pickles (the run's own objects): load only checkpoints you wrote.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ._atomic import write_bytes_atomic, write_text_atomic
from ._manifest import canonical_json, to_jsonable

__all__ = ["ChunkStore", "CHECKPOINTS_DIR", "fingerprint"]

CHECKPOINTS_DIR = ".checkpoints"  # inside the runs folder; hidden, so the catalogue never lists it
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}$")


def fingerprint(plan: Mapping[str, Any]) -> str:
    """A short hash of what decides a run's numbers."""
    return hashlib.sha256(canonical_json(to_jsonable(dict(plan))).encode()).hexdigest()[:16]


class ChunkStore:
    """Finished chunks of one run, one file each, under ``root/<name>-<fingerprint>/``.

    >>> store = ChunkStore.for_plan(runs_root, "elaine1", {"scenario": spec, "seed": 1})
    >>> if not store.has("arm0-000000-004096"): store.save("arm0-000000-004096", result)
    """

    def __init__(self, path: str | os.PathLike, plan: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if plan is not None and not (self.path / "plan.json").exists():
            write_text_atomic(self.path / "plan.json", canonical_json(to_jsonable(dict(plan))))
        self.loaded = 0  # chunks served from disk in this session
        self.saved = 0

    @classmethod
    def for_plan(cls, root: str | os.PathLike, name: str, plan: Mapping[str, Any]) -> "ChunkStore":
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"
        return cls(Path(root) / CHECKPOINTS_DIR / f"{slug}-{fingerprint(plan)}", plan)

    def _file(self, key: str) -> Path:
        if not _KEY.match(key):
            raise InputError(f"bad checkpoint key {key!r}", field="key", value=key, valid="letters, digits, '_', '-', '.'")
        return self.path / f"{key}.pkl"

    def has(self, key: str) -> bool:
        return self._file(key).is_file()

    def load(self, key: str) -> Any:
        with open(self._file(key), "rb") as handle:
            value = pickle.load(handle)
        self.loaded += 1
        return value

    def save(self, key: str, value: Any) -> None:
        write_bytes_atomic(self._file(key), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self.saved += 1

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.path.glob("*.pkl"))

    def remove(self) -> None:
        """Delete the checkpoints (once the run they belong to is published)."""
        shutil.rmtree(self.path, ignore_errors=True)
