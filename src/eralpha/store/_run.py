"""One run's folder, written all-or-nothing.

Everything a run produces goes into a hidden temporary sibling folder; on a clean exit from the
``with`` block the manifest and report are written and the folder is moved into place with a single
``os.replace``. On any exception (KeyboardInterrupt included) the temporary folder is removed, so a
run either exists completely or not at all.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import EralphaError, InputError
from ..report import close_figure, figure_to_png, render_report
from ._atomic import fsync_directory, write_bytes_atomic, write_text_atomic
from ._catalogue import TEMP_PREFIX, Catalogue, default_runs_root
from ._manifest import (
    MANIFEST_NAME,
    SUMMARY_NAME,
    dumps_json,
    environment,
    iso_utc,
    scenario_hash,
    threads,
    utc_now,
)

__all__ = ["RunWriter", "SCORECARD_FIELDS", "SCORECARD_KINDS"]

SCORECARD_FIELDS = ("id", "quantity", "source", "target", "simulated", "tolerance", "kind", "passed")
SCORECARD_KINDS = ("calibration", "prediction")
FIGURE_DPI = 120
_OWNER_FILE = ".owner.json"
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_ORPHAN_AGE_S = 600.0  # a temporary folder without an owner file older than this was abandoned
_FOREIGN_AGE_S = 86400.0  # another host's folder: we cannot ask whether its process lives


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "run"


def _check_item_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name) or ".." in name:
        raise InputError(
            f"bad {what} name {name!r}",
            field="name",
            value=name,
            valid="letters, digits, '_', '-', '.'; starting with a letter or digit; at most 100 characters",
        )
    return name


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _is_abandoned(temp_dir: Path) -> bool:
    """True for a temporary run folder whose writer is gone (killed, crashed, power cut)."""
    try:
        owner = json.loads((temp_dir / _OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        try:
            return time.time() - temp_dir.stat().st_mtime > _ORPHAN_AGE_S
        except OSError:
            return False
    if owner.get("host") == socket.gethostname():
        return not _process_alive(int(owner.get("pid", -1)))
    return time.time() - float(owner.get("created", 0)) > _FOREIGN_AGE_S


def clean_abandoned(root: Path) -> list[Path]:
    """Remove temporary folders left by writers that were killed; returns what was removed."""
    removed = []
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if entry.name.startswith(TEMP_PREFIX) and entry.is_dir() and _is_abandoned(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


class RunWriter:
    """Record one run — tables, figures, summary, scorecard, notes — and publish it atomically.

    >>> with RunWriter(name="binding-imlunestrant", kind="binding", scenario=spec, seed=123) as run:
    ...     run.add_table("curves", df)
    ...     run.add_figure("curves", fig, caption="Competitive binding")
    ...     run.add_summary({"ic50_nM": 0.63})
    >>> run.path          # the published folder, e.g. eralpha-runs/20261122T021500Z-binding-imlunestrant-1a2b3c

    ``root``: the runs folder (default :func:`default_runs_root`). ``seed``: recorded in the manifest;
    if None a fresh one is drawn and exposed as ``run.seed`` — use it to seed your generators.
    ``started``: when the run's work began (e.g. before the simulation, so ``duration_s`` in the
    manifest is the whole run's wall time); default: when the ``with`` block is entered.
    ``run.path`` is where the run will live once the block ends; to add a file of your own inside the
    block use :meth:`add_file` (it goes to the temporary folder and is published with the rest).
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        name: str = "run",
        kind: str = "run",
        scenario: Mapping[str, Any] | None = None,
        scenario_path: str | os.PathLike | None = None,
        seed: int | None = None,
        title: str | None = None,
        started: _dt.datetime | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InputError("a run needs a non-empty name", field="name", value=name)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InputError("the seed must be a non-negative integer", field="seed", value=seed)
        if scenario is not None and not isinstance(scenario, Mapping):
            raise InputError("the scenario must be a mapping (the parsed YAML)", field="scenario", value=type(scenario).__name__)
        try:
            self.scenario_hash = scenario_hash(scenario)
        except (TypeError, ValueError) as exc:
            raise InputError(f"the scenario cannot be written as JSON ({exc})", field="scenario") from None
        self.root = (Path(root) if root is not None else default_runs_root()).absolute()
        self.name, self.kind, self.title = name, str(kind), title or name
        self.scenario = dict(scenario) if scenario is not None else None
        self.scenario_path = Path(scenario_path) if scenario_path is not None else None
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.run_id: str | None = None
        self._work_dir: Path | None = None
        if started is not None and (not isinstance(started, _dt.datetime) or started.tzinfo is None):
            raise InputError("started must be a timezone-aware datetime (e.g. eralpha.store.utc_now())", field="started", value=started)
        self._work_started = started
        self._started = None
        self._entered = None
        self._tables: dict[str, pd.DataFrame] = {}
        self._figures: dict[str, bytes] = {}
        self._captions: dict[str, str] = {}
        self._summary: dict[str, Any] = {}
        self._scorecard: list[dict] = []
        self._notes: list[str] = []
        self._extra_files: list[str] = []
        self._published = False

    # -- where things are -------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The run's folder (it exists once the ``with`` block has ended without an error)."""
        if self.run_id is None:
            raise EralphaError("a run has no folder before its 'with' block starts")
        return self.root / self.run_id

    @property
    def published(self) -> bool:
        return self._published

    @staticmethod
    def find_completed(root: str | os.PathLike | None, scenario_hash: str, seed: int) -> Path | None:
        """The newest finished run of this scenario (by hash) and seed, or None: lets a re-run skip."""
        listing = Catalogue(root).list()
        hits = listing[(listing["scenario_hash"] == scenario_hash) & (listing["seed"] == seed)]
        return Path(hits["path"].iloc[-1]) if len(hits) else None

    # -- the with-block ---------------------------------------------------------------------------
    def __enter__(self) -> RunWriter:
        if self._work_dir is not None:
            raise EralphaError("this RunWriter has already been used; create a new one for each run")
        self.root.mkdir(parents=True, exist_ok=True)
        clean_abandoned(self.root)
        self._entered = utc_now()
        self._started = self._work_started or self._entered
        self._reserve_run_id()
        return self

    def _reserve_run_id(self) -> None:
        base = f"{self._started:%Y%m%dT%H%M%SZ}-{_slug(self.name)}-{self.scenario_hash[:6]}"
        for attempt in range(1, 1000):
            candidate = base if attempt == 1 else f"{base}-{attempt}"
            work_dir = self.root / f"{TEMP_PREFIX}{candidate}"
            try:
                work_dir.mkdir()  # atomic: two writers cannot both get the same name
            except FileExistsError:
                continue
            # Checked after mkdir so a run published meanwhile under this name is seen.
            if (self.root / candidate).exists():
                work_dir.rmdir()
                continue
            owner = {"pid": os.getpid(), "host": socket.gethostname(), "created": time.time()}
            (work_dir / _OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
            self.run_id, self._work_dir = candidate, work_dir
            return
        raise EralphaError(f"could not find a free run id for {base} in {self.root}")

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._discard()
            return False
        try:
            self._publish()
        except BaseException:
            self._discard()
            raise
        return False

    def _discard(self) -> None:
        if self._work_dir is not None and self._work_dir.exists():
            shutil.rmtree(self._work_dir, ignore_errors=True)

    def _require_started(self) -> Path:
        if self._work_dir is None:
            raise EralphaError("use RunWriter in a 'with' block: with RunWriter(...) as run: run.add_table(...)")
        if self._published:
            raise EralphaError(f"run {self.run_id} is already published; its folder can no longer change")
        return self._work_dir

    # -- adding results -----------------------------------------------------------------------------
    def add_table(self, name: str, table: pd.DataFrame) -> None:
        """Save ``table`` as ``tables/<name>.parquet`` and ``tables/<name>.csv``."""
        _check_item_name(name, "table")
        if name == "scorecard":
            raise InputError("'scorecard' is reserved; use add_scorecard(rows)", field="name", value=name)
        self._write_table(name, table)

    def _write_table(self, name: str, table: pd.DataFrame) -> None:
        work_dir = self._require_started()
        if not isinstance(table, pd.DataFrame):
            raise InputError(f"table '{name}' must be a pandas DataFrame", field="table", value=type(table).__name__)
        if name in self._tables and name != "scorecard":
            raise InputError(f"table '{name}' was already added to this run", field="name", value=name)
        frame = table if isinstance(table.index, pd.RangeIndex) else table.reset_index()
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        buffer = io.BytesIO()
        try:
            frame.to_parquet(buffer, index=False)
        except (ValueError, TypeError, ImportError) as exc:
            raise InputError(f"table '{name}' cannot be saved as Parquet: {exc}", field="table") from None
        write_bytes_atomic(work_dir / "tables" / f"{name}.parquet", buffer.getvalue())
        write_text_atomic(work_dir / "tables" / f"{name}.csv", frame.to_csv(index=False))
        self._tables[name] = frame

    def add_figure(self, name: str, figure: Any, caption: str = "") -> None:
        """Save a matplotlib figure as ``figures/<name>.png`` (dpi 120) and close it."""
        work_dir = self._require_started()
        _check_item_name(name, "figure")
        if not hasattr(figure, "savefig"):
            raise InputError(f"figure '{name}' must be a matplotlib Figure", field="figure", value=type(figure).__name__)
        if name in self._figures:
            raise InputError(f"figure '{name}' was already added to this run", field="name", value=name)
        png = figure_to_png(figure, dpi=FIGURE_DPI)
        close_figure(figure)
        write_bytes_atomic(work_dir / "figures" / f"{name}.png", png)
        self._figures[name] = png
        self._captions[name] = caption

    def add_summary(self, values: Mapping[str, Any]) -> None:
        """Merge headline numbers into ``summary.json`` (later calls overwrite equal keys)."""
        self._require_started()
        if not isinstance(values, Mapping):
            raise InputError("a summary must be a mapping of name -> value", field="summary", value=type(values).__name__)
        self._summary.update({str(k): v for k, v in values.items()})

    def add_scorecard(self, rows: Sequence[Mapping[str, Any]] | pd.DataFrame) -> None:
        """Add checks against published numbers; written to ``tables/scorecard.{parquet,csv}``.

        Each row has ``id, quantity, source, target, simulated, tolerance, kind, passed`` with ``kind``
        'calibration' (the model was tuned to it) or 'prediction' (it was not). Calls accumulate.
        """
        self._require_started()
        records = rows.to_dict(orient="records") if isinstance(rows, pd.DataFrame) else list(rows)
        checked = [self._check_scorecard_row(i, row) for i, row in enumerate(records)]
        self._scorecard.extend(checked)

    @staticmethod
    def _check_scorecard_row(index: int, row: Any) -> dict:
        if not isinstance(row, Mapping):
            raise InputError(f"scorecard row {index} must be a mapping", field="scorecard", value=row)
        missing = [f for f in SCORECARD_FIELDS if f not in row]
        if missing:
            raise InputError(
                f"scorecard row {index} lacks {', '.join(missing)}",
                field="scorecard",
                valid=", ".join(SCORECARD_FIELDS),
            )
        if row["kind"] not in SCORECARD_KINDS:
            raise InputError(
                f"scorecard row {index} has kind {row['kind']!r}",
                field="kind",
                value=row["kind"],
                valid=" | ".join(SCORECARD_KINDS),
            )
        return {**dict(row), "passed": bool(row["passed"])}

    def add_note(self, text: str) -> None:
        """A paragraph for the report (and the manifest's ``notes``)."""
        self._require_started()
        self._notes.append(str(text))

    def add_file(self, relative_path: str, content: bytes | str) -> Path:
        """Write an extra file into the run (e.g. ``inputs/plate.csv``); returns its final path."""
        work_dir = self._require_started()
        relative = Path(relative_path)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts or relative.name.startswith("."):
            raise InputError("a run file must be a relative path inside the run", field="path", value=relative_path)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        write_bytes_atomic(work_dir / relative, data)
        self._extra_files.append(relative.as_posix())
        return self.root / self.run_id / relative

    # -- publishing ---------------------------------------------------------------------------------
    def _publish(self) -> None:
        work_dir = self._require_started()
        if self._scorecard:
            self._write_table("scorecard", pd.DataFrame(self._scorecard))
        write_text_atomic(work_dir / SUMMARY_NAME, dumps_json(self._summary) + "\n")
        if self.scenario is not None:
            write_text_atomic(work_dir / "scenario.json", dumps_json(self.scenario) + "\n")
        if self.scenario_path is not None and self.scenario_path.is_file():
            write_bytes_atomic(work_dir / f"scenario-source{self.scenario_path.suffix}", self.scenario_path.read_bytes())

        manifest = self._manifest(work_dir)
        report = render_report(
            self.title,
            tables={k: v for k, v in self._tables.items() if k != "scorecard"},
            figures=self._figures,
            captions=self._captions,
            scorecard=self._scorecard or None,
            notes=self._notes,
            manifest=manifest,
        )
        write_text_atomic(work_dir / "report.html", report)
        write_text_atomic(work_dir / MANIFEST_NAME, dumps_json(manifest) + "\n")
        (work_dir / _OWNER_FILE).unlink()

        os.replace(work_dir, self.root / self.run_id)  # the one step that makes the run exist
        fsync_directory(self.root)
        self._published = True
        try:
            Catalogue(self.root).register(self.root / self.run_id)
        except Exception:  # the index is a convenience: list() re-indexes from the manifest
            pass

    def _manifest(self, work_dir: Path) -> dict:
        finished = utc_now()
        n_passed = sum(row["passed"] for row in self._scorecard)
        scorecard = None
        if self._scorecard:
            scorecard = {"n_passed": n_passed, "n_failed": len(self._scorecard) - n_passed}
            for kind in SCORECARD_KINDS:
                rows = [r for r in self._scorecard if r["kind"] == kind]
                scorecard[kind] = {"n": len(rows), "n_passed": sum(r["passed"] for r in rows)}
        files = sorted(
            str(p.relative_to(work_dir).as_posix()) for p in work_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
        return {
            "run_id": self.run_id,
            "name": self.name,
            "kind": self.kind,
            "title": self.title,
            "seed": self.seed,
            "scenario_sha256": self.scenario_hash,
            "scenario_path": str(self.scenario_path.resolve()) if self.scenario_path is not None else None,
            "started": iso_utc(self._started),
            "finished": iso_utc(finished),
            # the whole run's wall time (from ``started``), and the part spent writing this folder
            "duration_s": round((finished - self._started).total_seconds(), 3),
            "writing_s": round((finished - self._entered).total_seconds(), 3),
            **environment(),
            **threads(),
            "tables": sorted(self._tables),
            "figures": sorted(self._figures),
            "scorecard": scorecard,
            "notes": list(self._notes),
            "files": sorted({*files, "report.html", MANIFEST_NAME}),
        }
