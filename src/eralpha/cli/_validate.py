"""``eralpha validate``: the main job — run every shipped seed scenario and print the scorecard."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import FORMAT_OPTION, OutputFormat, app, console, output_style, print_frame, print_json

# the printed columns: what a person reads first, the long source last
_SHOWN = ["id", "quantity", "target", "simulated", "tolerance", "kind", "passed", "source"]


@app.command("validate")
def validate(
    format: OutputFormat = FORMAT_OPTION,
    strict: bool = typer.Option(False, "--strict", help="Exit with status 1 if any row fails."),
    only: str | None = typer.Option(None, "--only", help="Run only scenarios whose name contains this text."),
    all_rows: bool = typer.Option(False, "--all", help="Print every row (default: the summary and the failing rows)."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Where the run folder with report.html goes (default ./eralpha-runs or $ERALPHA_RUNS)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the run folder / HTML report."),
) -> None:
    """Run every shipped seed scenario; one row per quantitative claim (id, quantity, source, target,
    simulated, tolerance, kind, passed). Prints a summary and the failing rows (--all: every row;
    --format json: every row as JSON). Exit status 0 even when rows fail, unless --strict."""
    import matplotlib

    matplotlib.use("Agg")
    from ..store import utc_now
    from ..validate import SCORECARD_COLUMNS, collect_scorecard

    _check_only(only)
    started = utc_now()
    card = collect_scorecard(only=only, progress=True)
    rows = card.rows[SCORECARD_COLUMNS]
    report_path = None if no_report else _write_report(card, runs_dir, started)
    if format is OutputFormat.json:  # every row, as scripts expect
        print_json(rows)
    else:
        for line in summary_lines(card.rows):
            console.print(line, highlight=False)
        failing = rows[~rows["passed"]]
        if all_rows:
            _print_rows(rows, f"all {len(rows)} rows")
        elif len(failing):
            _print_rows(failing, f"failing rows ({len(failing)} of {len(rows)}; --all prints every row)")
        else:
            console.print(f"no failing rows (--all prints all {len(rows)})", highlight=False)
        if report_path:
            console.print(f"report: {report_path}", highlight=False, soft_wrap=True)
    if strict and card.n_failed:
        raise typer.Exit(1)


def _check_only(only: str | None) -> None:
    """--only that selects nothing is an error naming what it could select (not an empty table)."""
    if only is None:
        return
    from ..errors import InputError
    from ..validate import job_names

    names = job_names()
    if not any(only in name for name in names):
        raise InputError(f"'{only}' is in no scenario's name", field="--only", value=only,
                         valid="a part of one of " + ", ".join(names))


def summary_lines(rows) -> list[str]:
    """'eralpha scorecard: N rows — P passed, F failed', then one line per kind (calibration, prediction)."""
    n, passed = len(rows), int(rows["passed"].sum())
    lines = [f"eralpha scorecard: {n} rows — {passed} passed, {n - passed} failed"]
    for kind in ("calibration", "prediction"):
        of_kind = rows[rows["kind"] == kind]
        ok = int(of_kind["passed"].sum())
        lines.append(f"  {kind}: {len(of_kind)} rows, {ok} passed, {len(of_kind) - ok} failed")
    return lines


def _print_rows(rows, title: str) -> None:
    if output_style() != "table":
        print_frame(rows[_SHOWN], title=title)
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), show_lines=False)
    for col in _SHOWN:  # cells fold onto more lines; nothing is cut short
        table.add_column(col, overflow="fold", max_width={"quantity": 42, "source": 36, "id": 34}.get(col))
    for _, r in rows.iterrows():
        sim = r["simulated"]
        sim_text = f"{sim:.4g}" if isinstance(sim, float) else str(sim)
        ok = "[green]✓[/]" if r["passed"] else "[red]✗[/]"
        table.add_row(escape(str(r["id"])), escape(str(r["quantity"])), escape(str(r["target"])), sim_text,
                      escape(str(r["tolerance"])), str(r["kind"]), ok, escape(str(r["source"])))
    console.print(table)


def _write_report(card, runs_dir: Path | None, started) -> Path:
    from ..store import RunWriter

    with RunWriter(root=runs_dir, name="validate", kind="validate", scenario={"validate": sorted(card.timings)}, seed=0,
                   title="eralpha scorecard", started=started) as run:
        run.add_scorecard(card.rows.drop(columns=["scenario"]).to_dict(orient="records"))
        run.add_summary({"passed": card.n_passed, "failed": card.n_failed, "seconds_per_scenario": card.timings})
        for name, result in card.results:
            for fig_name, fig in result.figures.items():
                run.add_figure(f"{name}--{fig_name}", fig, caption=f"{name}: {fig_name.replace('_', ' ')}")
            for note in result.notes:
                run.add_note(f"{name}: {note}")
        run.add_note(card.summary_line())
    return run.path / "report.html"
