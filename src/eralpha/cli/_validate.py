"""``eralpha validate``: the main job — run every shipped seed scenario and print the scorecard."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..store import to_jsonable
from ._app import FORMAT_OPTION, OutputFormat, app, console, err_console


@app.command("validate")
def validate(
    format: OutputFormat = FORMAT_OPTION,
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 if any row fails."),
    only: str | None = typer.Option(None, "--only", help="Run only scenarios whose name contains this text."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Where the run folder with report.html goes (default ./eralpha-runs or $ERALPHA_RUNS)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the run folder / HTML report."),
) -> None:
    """Run every shipped seed scenario; one row per quantitative claim (id, quantity, source, target,
    simulated, tolerance, kind, passed). Exit status 0 even when rows fail, unless --strict."""
    import matplotlib

    matplotlib.use("Agg")
    from ..validate import SCORECARD_COLUMNS, collect_scorecard

    from ..report._progress import progress_enabled

    def log(name: str, seconds: float, n_rows: int) -> None:  # long runs say what they are doing
        err_console.print(f"scorecard: {name} — {n_rows} rows in {seconds:.1f} s", highlight=False)

    import os

    interactive = format == OutputFormat.table and progress_enabled()
    quiet = os.environ.get("ERALPHA_QUIET", "").strip() not in ("", "0")
    card = collect_scorecard(only=only, progress=interactive, on_done=None if (interactive or quiet) else log)
    rows = card.rows[SCORECARD_COLUMNS]
    report_path = None
    if not no_report:
        report_path = _write_report(card, runs_dir)
    if format == OutputFormat.json:
        print(json.dumps(to_jsonable(rows), indent=2))
    else:
        _print_table(rows)
        console.print(f"[bold]{card.summary_line()}[/]")
        if report_path:
            console.print(f"report: {report_path}")
    if strict and card.n_failed:
        raise typer.Exit(1)


def _print_table(rows) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="eralpha scorecard", show_lines=False)
    for col in ["id", "quantity", "target", "simulated", "tolerance", "kind", "passed", "source"]:
        table.add_column(col, overflow="fold", max_width={"quantity": 42, "source": 36, "id": 34}.get(col))
    for _, r in rows.iterrows():
        sim = r["simulated"]
        sim_text = f"{sim:.4g}" if isinstance(sim, float) else str(sim)
        ok = "[green]✓[/]" if r["passed"] else "[red]✗[/]"
        table.add_row(escape(str(r["id"])), escape(str(r["quantity"])), escape(str(r["target"])), sim_text,
                      escape(str(r["tolerance"])), str(r["kind"]), ok, escape(str(r["source"])))
    console.print(table)


def _write_report(card, runs_dir: Path | None) -> Path:
    from ..store import RunWriter

    with RunWriter(root=runs_dir, name="validate", kind="validate", scenario={"validate": sorted(card.timings)}, seed=0,
                   title="eralpha scorecard") as run:
        run.add_scorecard(card.rows.drop(columns=["scenario"]).to_dict(orient="records"))
        run.add_summary({"passed": card.n_passed, "failed": card.n_failed, "seconds_per_scenario": card.timings})
        for name, result in card.results:
            for fig_name, fig in result.figures.items():
                run.add_figure(f"{name}--{fig_name}", fig, caption=f"{name}: {fig_name.replace('_', ' ')}")
            for note in result.notes:
                run.add_note(f"{name}: {note}")
        run.add_note(card.summary_line())
    return run.path / "report.html"
