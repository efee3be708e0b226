"""``eralpha run SCENARIO.yaml``: run one scenario and write its run folder (atomically)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app, console, print_frame


@app.command("run")
def run(
    scenario: Path = typer.Argument(..., help="A scenario YAML (see scenarios/)."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Runs folder (default ./eralpha-runs or $ERALPHA_RUNS)."),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's random seed."),
    force: bool = typer.Option(False, "--force", help="Run again even if this scenario and seed already finished."),
) -> None:
    """Run a scenario: tables (Parquet + CSV), figures, scorecard rows, manifest and report.html."""
    import matplotlib

    matplotlib.use("Agg")
    from ..scenario import read_yaml
    from ..store import RunWriter, scenario_hash

    spec = read_yaml(scenario)
    if seed is not None:
        spec = {**spec, "seed": seed}
    run_seed = int(spec.get("seed", 0))
    done = RunWriter.find_completed(runs_dir, scenario_hash(spec), run_seed)
    if done is not None and not force:
        console.print(f"already finished with this scenario and seed: {done}  (use --force to run again)")
        return
    kind = spec.get("kind")
    if kind == "trial":
        from ..errors import InputError

        raise InputError("a trial scenario runs with 'eralpha trial run SCENARIO'", file=str(scenario), field="kind",
                         value=kind, valid="eralpha trial run " + str(scenario))
    with console.status(f"running {scenario.name} …"):
        if kind == "pk":
            tables, figures, rows, notes, name = _run_pk(scenario, spec)
        else:
            tables, figures, rows, notes, name = _run_experiment(scenario, spec)
        with RunWriter(root=runs_dir, name=name, kind=str(kind), scenario=spec, scenario_path=scenario, seed=run_seed) as record:
            for n, t in tables.items():
                record.add_table(n, t)
            for n, f in figures.items():
                record.add_figure(n, f)
            if rows:
                record.add_scorecard(rows)
            for note in notes:
                record.add_note(note)
    console.print(f"[bold]run written:[/] {record.path}")
    if rows:
        passed = sum(bool(r["passed"]) for r in rows)
        console.print(f"scorecard: {passed} passed, {len(rows) - passed} failed")
    for n, t in tables.items():
        if n in ("ki", "ic50", "metrics", "summary"):
            print_frame(t.head(30), title=n)


def _run_experiment(path: Path, spec: dict):
    from ..experiments import run_experiment
    from ..scenario import parse_scenario

    scenario = parse_scenario(spec, file=str(path))
    result = run_experiment(scenario)
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
