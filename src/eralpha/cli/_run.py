"""``eralpha run SCENARIO.yaml``: run one scenario and write its run folder (atomically)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import InputError
from ._app import app, console, print_frame
from ._options import max_memory_option

SHOWN_TABLES = ("ki", "ic50", "metrics", "summary")  # the headline tables printed after a run


@app.command("run")
def run(
    scenario: Path = typer.Argument(..., help="A scenario YAML (see scenarios/)."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Runs folder (default ./eralpha-runs or $ERALPHA_RUNS)."),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's random seed."),
    force: bool = typer.Option(False, "--force", help="Run again even if this scenario and seed already finished."),
    rows: int = typer.Option(20, "--rows", min=0, help="Rows of each headline table to print (0: all); every row is in the run folder."),
    max_memory: str | None = max_memory_option(),
) -> None:
    """Run a scenario: tables (Parquet + CSV), figures, scorecard rows, manifest and report.html."""
    from ..resources import memory_limit

    with memory_limit(max_memory):
        _run(scenario, runs_dir, seed, force, rows)


def _run(scenario: Path, runs_dir: Path | None, seed: int | None, force: bool, rows: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from ..report import Progress
    from ..scenario import read_yaml
    from ..store import RunWriter, scenario_hash, utc_now

    started = utc_now()  # the manifest's duration_s is the whole run, simulation included

    spec = read_yaml(scenario)
    if seed is not None:
        spec = {**spec, "seed": seed}
    run_seed = _seed(spec.get("seed", 0), scenario)
    done = RunWriter.find_completed(runs_dir, scenario_hash(spec), run_seed)
    if done is not None and not force:
        console.print(f"already finished with this scenario and seed: {done}  (use --force to run again)")
        return
    kind = spec.get("kind")
    if kind == "trial":
        raise InputError("a trial scenario runs with 'eralpha trial run SCENARIO'", file=str(scenario), field="kind",
                         value=kind, valid="eralpha trial run " + str(scenario))
    with Progress(f"run {scenario.name}", total=2) as progress:
        progress.stage(f"simulating ({kind})")
        if kind == "pk":
            tables, figures, checks, notes, name = _run_pk(scenario, spec)
        else:
            tables, figures, checks, notes, name = _run_experiment(scenario, spec)
        progress.advance()
        progress.stage("writing the run folder")
        with RunWriter(root=runs_dir, name=name, kind=str(kind), scenario=spec, scenario_path=scenario, seed=run_seed,
                       started=started) as record:
            for n, t in tables.items():
                record.add_table(n, t)
            for n, f in figures.items():
                record.add_figure(n, f)
            if checks:
                record.add_scorecard(checks)
            for note in notes:
                record.add_note(note)
        progress.advance()
    console.print(f"[bold]run written:[/] {record.path}", highlight=False, soft_wrap=True)
    if checks:
        passed = sum(bool(r["passed"]) for r in checks)
        console.print(f"scorecard: {passed} passed, {len(checks) - passed} failed")
    for n, t in tables.items():
        if n in SHOWN_TABLES:
            print_head(t, n, rows, record.path / "tables" / f"{n}.csv")


def print_head(table, name: str, rows: int, full: Path) -> None:
    """The first ``rows`` rows of a table, saying how many more there are and where the whole table is."""
    shown = table if rows == 0 or len(table) <= rows else table.head(rows)
    print_frame(shown, title=f"{name}: first {len(shown)} of {len(table)} rows" if len(shown) < len(table) else name)
    if len(shown) < len(table):
        console.print(f"… {len(table) - len(shown)} more rows of {name}: {full}  (--rows 0 prints all)",
                      highlight=False, soft_wrap=True)


def _seed(value, scenario: Path) -> int:
    """The run's seed: a whole number >= 0, checked before anything runs."""
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())) \
            or value < 0:
        raise InputError(f"the seed {value!r} is not a whole number >= 0", file=str(scenario), field="seed", value=value,
                         valid="e.g. seed: 11")
    return int(value)


def _run_experiment(path: Path, spec: dict):
    from ..experiments import run_experiment
    from ..scenario import parse_scenario

    scenario = parse_scenario(spec, file=str(path))
    try:
        result = run_experiment(scenario)
    except InputError as exc:  # an error found while running (too big, …) still names the scenario file
        raise exc.anchored(file=str(path)) from None
    tables = dict(result.tables)
    if not result.metrics.empty:
        tables["metrics"] = result.metrics
    return tables, result.figures, result.scorecard, result.notes, scenario.name


def _run_pk(path: Path, spec: dict):
    import matplotlib.pyplot as plt

    from ..pk import load_pk_scenario

    sc = load_pk_scenario(path)
    res = sc.run()
    fig, ax = plt.subplots(figsize=(6, 4))
    res.plot(ax=ax)
    return {"concentrations": res.concentrations, "metrics": res.metrics}, {"concentration_time": fig}, [], [], sc.name
