"""What a run records about itself: the scenario's fingerprint, the seed, the software, the clock."""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import InputError

__all__ = [
    "MANIFEST_NAME",
    "SUMMARY_NAME",
    "canonical_json",
    "dumps_json",
    "environment",
    "git_commit",
    "read_json",
    "scenario_hash",
    "threads",
    "to_jsonable",
    "utc_now",
    "iso_utc",
]

MANIFEST_NAME = "manifest.json"
SUMMARY_NAME = "summary.json"
_RECORDED_PACKAGES = ("numpy", "scipy", "pandas", "numba")


def to_jsonable(obj: Any) -> Any:
    """Plain JSON values for ``obj``: numpy scalars and arrays, paths, dates; NaN and inf become null."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(key): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(value) for value in obj]
    if isinstance(obj, (set, frozenset)):  # sorted: set order changes between processes, hashes must not
        return sorted((to_jsonable(value) for value in obj), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, (Path, _dt.date, _dt.datetime)):
        return str(obj) if isinstance(obj, Path) else obj.isoformat()
    if hasattr(obj, "columns") and hasattr(obj, "to_dict"):  # a DataFrame: one object per row
        return to_jsonable(obj.to_dict(orient="records"))
    # numpy / pandas values know how to become Python values; anything else is shown as text.
    for convert in ("tolist", "item"):
        if hasattr(obj, convert):
            return to_jsonable(getattr(obj, convert)())
    return str(obj)


def dumps_json(obj: Any, *, indent: int | None = 2) -> str:
    """Strict JSON (no NaN) with sorted keys, so equal content gives equal text."""
    return json.dumps(to_jsonable(obj), indent=indent, sort_keys=True, allow_nan=False, ensure_ascii=False)


def canonical_json(spec: Any) -> str:
    """The one text of a scenario that does not depend on key order or whitespace."""
    return json.dumps(to_jsonable(spec), sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def scenario_hash(spec: Any) -> str:
    """SHA-256 (hex) of the scenario's canonical JSON: the same spec in any key order hashes the same."""
    return hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


def read_json(path: Path) -> dict:
    """A JSON file as a dict; a clear error if it is missing or damaged."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc})", file=str(path)) from None


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def iso_utc(moment: _dt.datetime) -> str:
    """ISO-8601 in UTC with a 'Z', to the millisecond (e.g. 2026-11-22T02:15:00.123Z)."""
    return moment.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the repository eralpha is installed from, or None outside a git checkout."""
    package_dir = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=package_dir,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """The software a run used, for the manifest (read from package metadata: nothing is imported)."""
    return {
        "eralpha_version": __version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {name: _package_version(name) for name in _RECORDED_PACKAGES},
    }


def threads() -> dict:
    """The solver's thread count now (numba's, which the engine's batch uses) and the machine's cores."""
    try:
        import numba

        engine = int(numba.get_num_threads())
    except Exception:  # numba missing or its threading layer unavailable: say so rather than fail the run
        engine = None
    return {"engine_threads": engine, "cpu_count": os.cpu_count()}
