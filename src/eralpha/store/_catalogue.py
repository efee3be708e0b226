"""The catalogue of finished runs: an embedded DuckDB index over the run folders on disk.

The run folders (each with its ``manifest.json``) are the truth; ``catalogue.duckdb`` is an index that
makes listing fast and lets people query runs with SQL. Whenever the index is missing, damaged, locked
by another process or out of step with the folders, :meth:`Catalogue.list` answers from the manifests
and rebuilds the index when it can, so nothing recorded on disk is ever hidden.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from ..errors import InputError, UnknownNameError
from ._manifest import MANIFEST_NAME, SUMMARY_NAME, read_json

__all__ = ["Catalogue", "default_runs_root", "CATALOGUE_NAME", "TEMP_PREFIX", "COLUMNS"]

CATALOGUE_NAME = "catalogue.duckdb"
TEMP_PREFIX = ".tmp-"  # unfinished runs: hidden, so listing never sees them
COLUMNS = (
    "run_id", "name", "kind", "started", "finished", "seed", "scenario_hash", "path",
    "n_tables", "n_figures", "n_passed", "n_failed",
)  # fmt: skip
_SQL_TYPES = {"seed": "BIGINT", "n_tables": "INTEGER", "n_figures": "INTEGER", "n_passed": "INTEGER", "n_failed": "INTEGER"}
_STORED = tuple(c for c in COLUMNS if c != "path")  # the path follows from the root, so folders can move
_LOCK_WAIT_S = 5.0
_BUSY = object()

T = TypeVar("T")


def default_runs_root() -> Path:
    """Where runs are kept: ``$ERALPHA_RUNS`` if set, else ``./eralpha-runs``."""
    configured = os.environ.get("ERALPHA_RUNS", "").strip()
    return Path(configured) if configured else Path.cwd() / "eralpha-runs"


def _row_from_manifest(manifest: dict) -> dict[str, Any]:
    scorecard = manifest.get("scorecard") or {}
    return {
        "run_id": manifest["run_id"],
        "name": manifest.get("name"),
        "kind": manifest.get("kind"),
        "started": manifest.get("started"),
        "finished": manifest.get("finished"),
        "seed": manifest.get("seed"),
        "scenario_hash": manifest.get("scenario_sha256"),
        "n_tables": len(manifest.get("tables", [])),
        "n_figures": len(manifest.get("figures", [])),
        "n_passed": scorecard.get("n_passed"),
        "n_failed": scorecard.get("n_failed"),
    }


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "already open" in text


class Catalogue:
    """The runs kept under one root folder.

    >>> cat = Catalogue("eralpha-runs")
    >>> cat.list()                 # one row per finished run, oldest first
    >>> cat.show("20261122T0215")  # manifest, files and summary of one run (a unique prefix is enough)
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = (Path(root) if root is not None else default_runs_root()).absolute()
        self.db_path = self.root / CATALOGUE_NAME

    # -- the folders on disk (the truth) ---------------------------------------------------------
    def run_dirs(self) -> dict[str, Path]:
        """Finished run folders by run id: visible folders that hold a manifest."""
        if not self.root.is_dir():
            return {}
        found = {}
        for entry in self.root.iterdir():
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            if (entry / MANIFEST_NAME).is_file():
                found[entry.name] = entry
        return dict(sorted(found.items()))

    def _rows_from_disk(self, run_dirs: dict[str, Path]) -> list[dict]:
        rows = []
        for run_id, folder in run_dirs.items():
            try:
                manifest = read_json(folder / MANIFEST_NAME)
                rows.append({**_row_from_manifest(manifest), "run_id": run_id})
            except (InputError, KeyError, TypeError, AttributeError):
                continue  # a damaged manifest hides that one run, never the catalogue
        return rows

    # -- the DuckDB index --------------------------------------------------------------------------
    def _with_db(self, action: Callable[[Any], T]) -> T:
        """Run ``action(connection)``, retrying while another process holds the database lock."""
        import duckdb

        deadline = time.monotonic() + _LOCK_WAIT_S
        pause = 0.02
        while True:
            try:
                with duckdb.connect(str(self.db_path)) as connection:
                    return action(connection)
            except duckdb.Error as exc:
                if not _is_lock_error(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)

    @staticmethod
    def _ensure_table(connection) -> None:
        columns = ", ".join(f"{c} {_SQL_TYPES.get(c, 'VARCHAR')}" for c in _STORED)
        connection.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns}, PRIMARY KEY (run_id))")

    @staticmethod
    def _upsert(connection, rows: list[dict]) -> None:
        placeholders = ", ".join("?" for _ in _STORED)
        connection.executemany(
            f"INSERT OR REPLACE INTO runs ({', '.join(_STORED)}) VALUES ({placeholders})",
            [[row.get(c) for c in _STORED] for row in rows],
        )

    def register(self, run_dir: str | os.PathLike) -> bool:
        """Add one finished run to the index. Returns False (and keeps the run) if the index is busy."""
        import duckdb

        manifest = read_json(Path(run_dir) / MANIFEST_NAME)
        row = _row_from_manifest(manifest)

        def insert(connection) -> None:
            self._ensure_table(connection)
            self._upsert(connection, [row])

        try:
            self._with_db(insert)
        except duckdb.Error:
            return False  # list() finds the run from its manifest and re-indexes it later
        return True

    def _read_index(self) -> list[dict] | None | object:
        """The indexed rows; None when there is no usable index; ``_BUSY`` while another process holds it."""
        import duckdb

        if not self.db_path.is_file():
            return None

        def select(connection) -> list[dict]:
            cursor = connection.execute(f"SELECT {', '.join(_STORED)} FROM runs")
            return [dict(zip(_STORED, values)) for values in cursor.fetchall()]

        try:
            return self._with_db(select)
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                return _BUSY
            self._set_aside_damaged_index()
            return None

    def _set_aside_damaged_index(self) -> None:
        # Kept, not deleted: it is only an index, but nothing is thrown away silently.
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for suffix in ("", ".wal"):
            source = self.db_path.with_name(CATALOGUE_NAME + suffix)
            if source.exists():
                try:
                    os.replace(source, self.root / f".{CATALOGUE_NAME}{suffix}.damaged-{stamp}")
                except OSError:
                    pass

    def rebuild(self) -> pd.DataFrame:
        """Re-create the index from the manifests on disk; returns the listing."""
        import duckdb

        rows = self._rows_from_disk(self.run_dirs())

        def replace_all(connection) -> None:
            connection.execute("DROP TABLE IF EXISTS runs")
            self._ensure_table(connection)
            if rows:
                self._upsert(connection, rows)

        if self.root.is_dir():
            try:
                self._with_db(replace_all)
            except duckdb.Error:
                pass  # busy or unwritable: the listing below still comes from the manifests
        return self._frame(rows)

    # -- public views ------------------------------------------------------------------------------
    def list(self) -> pd.DataFrame:
        """One row per finished run (oldest first) with the columns in :data:`COLUMNS`.

        ``n_passed`` / ``n_failed`` are empty for runs without a scorecard.
        """
        run_dirs = self.run_dirs()
        indexed = self._read_index()
        if indexed is _BUSY:  # another process is writing it: answer from the manifests, rebuild later
            return self._frame(self._rows_from_disk(run_dirs))
        if indexed is not None:
            by_id = {row["run_id"]: row for row in indexed}
            if set(by_id) == set(run_dirs):
                return self._frame([by_id[run_id] for run_id in run_dirs])
        if not run_dirs and indexed is None:
            return self._frame([])
        return self.rebuild()

    def _frame(self, rows: list[dict]) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "path"])
        frame.insert(COLUMNS.index("path"), "path", [str(self.root / r) for r in frame["run_id"]])
        for column in ("seed", "n_tables", "n_figures", "n_passed", "n_failed"):
            frame[column] = frame[column].astype("Int64")
        return frame.sort_values("run_id", kind="stable").reset_index(drop=True)

    def resolve(self, run_id: str) -> Path:
        """The folder of a run given its id or a unique prefix of it."""
        run_dirs = self.run_dirs()
        if run_id in run_dirs:
            return run_dirs[run_id]
        matches = [known for known in run_dirs if run_id and known.startswith(run_id)]
        if len(matches) == 1:
            return run_dirs[matches[0]]
        if len(matches) > 1:
            shown = ", ".join(matches[:10]) + (" …" if len(matches) > 10 else "")
            raise InputError(
                f"run id prefix '{run_id}' matches {len(matches)} runs: {shown}",
                field="run_id",
                value=run_id,
                valid="a longer prefix or the full run id",
            )
        raise UnknownNameError("run", run_id, run_dirs, file=str(self.root))

    def show(self, run_id: str) -> dict:
        """Everything about one run: ``run_id``, ``path``, ``manifest``, ``summary`` and ``files``."""
        folder = self.resolve(run_id)
        summary_path = folder / SUMMARY_NAME
        return {
            "run_id": folder.name,
            "path": str(folder),
            "manifest": read_json(folder / MANIFEST_NAME),
            "summary": read_json(summary_path) if summary_path.is_file() else {},
            "files": sorted(str(p.relative_to(folder)) for p in _walk_files(folder)),
        }


def _walk_files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            yield path
