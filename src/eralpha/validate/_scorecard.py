"""The scorecard: every quantitative claim of the seeds, computed now by the model or the fit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..experiments import ExperimentResult, run_experiment
from ..scenario import SCENARIO_MODELS, load_scenario, read_yaml, shipped_scenarios
from ..store import SCORECARD_FIELDS

__all__ = [
    "Scorecard", "collect_scorecard", "SCORECARD_COLUMNS", "run_scenario_path", "extra_sources", "job_names", "scorecard_jobs",
]

SCORECARD_COLUMNS = list(SCORECARD_FIELDS)  # the store checks rows against the same fields


@dataclass
class Scorecard:
    rows: pd.DataFrame
    results: list[tuple[str, ExperimentResult]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_passed(self) -> int:
        return int(self.rows["passed"].sum())

    @property
    def n_failed(self) -> int:
        return int((~self.rows["passed"]).sum())

    def summary_line(self) -> str:
        kinds = self.rows.groupby("kind")["passed"].agg(["sum", "count"])
        parts = [f"{int(r['sum'])}/{int(r['count'])} {k}" for k, r in kinds.iterrows()]
        return f"{self.n_passed} passed, {self.n_failed} failed ({', '.join(parts)})"


def _as_text(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def normalise_rows(df: pd.DataFrame) -> pd.DataFrame:
    """One type per column whatever layer a row came from: text targets, float simulated values."""
    df = df.copy()
    for col in ("id", "quantity", "source", "target", "tolerance", "kind"):
        df[col] = df[col].map(_as_text)
    df["simulated"] = pd.to_numeric(df["simulated"], errors="coerce")
    df["passed"] = df["passed"].astype(bool)
    return df


def run_scenario_path(path: str | Path) -> tuple[object, ExperimentResult]:
    """Load and run one in-vitro scenario file."""
    scenario = load_scenario(path)
    return scenario, run_experiment(scenario)


def _pk_rows() -> list[dict]:
    from ..pk import pk_scorecard_rows

    return pk_scorecard_rows()


def _xenograft_rows() -> list[dict]:
    from ..experiments import xenograft_scorecard_rows

    return xenograft_scorecard_rows(replicates=XENOGRAFT_REPLICATES)


#: replicate virtual studies per xenograft claim (a claim passes when >= 80% of them are significant)
XENOGRAFT_REPLICATES = 200


def _timecourse_rows() -> list[dict]:
    from ..calibration import timecourse_scorecard_rows

    return timecourse_scorecard_rows()


def _trial_rows() -> list[dict]:
    from ..trials._scorecard import trial_scorecard_rows

    return trial_scorecard_rows()


def _window_rows() -> list[dict]:
    from ..trials._window import window_scorecard_rows

    return window_scorecard_rows()


def extra_sources() -> dict[str, Callable[[], list[dict]]]:
    """Scorecard rows that come from whole layers rather than one scenario file."""
    return {"pk-and-oestrogen": _pk_rows, "xenograft-replicate-studies": _xenograft_rows,
            "invitro-mcf7-timecourses": _timecourse_rows, "trials-replicate-trials": _trial_rows,
            "trials-window-ki67": _window_rows}


def scorecard_jobs() -> list[tuple[str, Callable[[], tuple[list[dict], ExperimentResult | None]]]]:
    """The scorecard's jobs in order, as (name, job): each shipped scenario, then the layer-level checks.
    ``--only`` filters on these names (:func:`job_names`)."""
    paths = [p for p in shipped_scenarios() if read_yaml(p).get("kind") in SCENARIO_MODELS]
    jobs: list[tuple[str, Callable[[], tuple[list[dict], ExperimentResult | None]]]] = []
    for p in paths:
        jobs.append((p.stem, lambda p=p: _scenario_job(p)))
    for name, fn in extra_sources().items():
        jobs.append((name, lambda fn=fn: (fn(), None)))
    return jobs


def job_names() -> list[str]:
    """The names ``collect_scorecard(only=...)`` matches against (a substring of one selects it)."""
    return [name for name, _ in scorecard_jobs()]


def collect_scorecard(
    *, only: str | None = None, progress: bool = True, on_done: Callable[[str, float, int], None] | None = None
) -> Scorecard:
    """Run every shipped seed scenario (and the layer-level checks) and gather their rows.

    ``only``: a substring of scenario / source names to run a subset. ``progress``: report each job
    (:class:`eralpha.report.Progress`: a bar on a terminal, a line per job otherwise).
    ``on_done(name, seconds, rows)`` is called after each job.
    """
    from ..report import Progress

    jobs = scorecard_jobs()
    if only:
        names = [j[0] for j in jobs]
        jobs = [j for j in jobs if only in j[0]]
        if not jobs:
            raise InputError(f"no scorecard job's name contains '{only}'", field="--only", value=only,
                             valid="a part of one of: " + ", ".join(names))
    rows, results, timings = [], [], {}
    with Progress("validate", total=len(jobs), mode=None if progress else "quiet") as bar:
        for name, job in jobs:
            bar.stage(name)
            t0 = time.perf_counter()
            job_rows, result = job()
            timings[name] = time.perf_counter() - t0
            rows += [{**r, "scenario": name} for r in job_rows]
            bar.advance()
            if on_done is not None:
                on_done(name, timings[name], len(job_rows))
            if result is not None:
                results.append((name, result))
    df = normalise_rows(pd.DataFrame(rows, columns=SCORECARD_COLUMNS + ["scenario"]))
    return Scorecard(df, results, timings)


def _scenario_job(path: Path):
    _, result = run_scenario_path(path)
    return result.scorecard, result
