"""``eralpha calibrate``: fit the cell model's calibrated parameters to measured time courses."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..store import to_jsonable
from ._app import FORMAT_OPTION, OutputFormat, app, console, print_frame

calibrate_app = typer.Typer(help="Calibrate the cell model to measured time courses (kept apart from validation).",
                            no_args_is_help=True)
app.add_typer(calibrate_app, name="calibrate")


@calibrate_app.command("mcf7-timecourses")
def mcf7_timecourses(
    data_dir: Path | None = typer.Option(None, "--data", help="The He et al. 2025 export (default $ERALPHA_MCF7_TIMECOURSES "
                                                             "or the copy shipped in eralpha/knowledge/data/reference/mcf7_timecourses)."),
    starts: int = typer.Option(3, "--starts", min=1, help="Multi-start: the knowledge-base values plus this many minus one Latin-hypercube starts."),
    seed: int = typer.Option(20250, "--seed", help="Seed of the Latin-hypercube starts."),
    max_nfev: int = typer.Option(50, "--max-nfev", min=1, help="Least-squares evaluations per start."),
    write: bool = typer.Option(False, "--write", help="Write the fitted values into knowledge/data/parameters/*.yaml."),
    plot: Path | None = typer.Option(None, "--plot", help="Save data vs model (every arm; held-back arms dashed) to this image."),
    format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Fit mu_max, K_pRb, the CDK4/6-inhibitor cellular shift, senescence, adaptive CDK2, death and the
    residual oestradiol of stripped serum to the MCF7 Coulter counts; the abemaciclib 7-day course and the
    4-week constant-palbociclib arms are held back and reported as predictions."""
    from ..calibration import MCF7TimecourseCalibration

    cal = MCF7TimecourseCalibration(n_starts=starts, seed=seed, max_nfev=max_nfev,
                                    data_dir=str(data_dir) if data_dir else None).fit()
    pred = cal.predictions_.groupby(["arm", "day"]).agg(observed=("fold", "mean"), model=("model_fold", "first")).reset_index()
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        axes = cal.plot()
        axes.flat[0].figure.savefig(plot, dpi=110)
    written = [str(p) for p in cal.write_knowledge(command=f"eralpha calibrate mcf7-timecourses --starts {starts} --seed {seed} "
                                                          f"--max-nfev {max_nfev} --write")] if write else None
    if format == OutputFormat.json:
        print(json.dumps(to_jsonable({"parameters": cal.summary, "sigma": cal.sigma_, "predictions": pred, "written": written}), indent=2))
        return
    print_frame(cal.summary, title="fitted parameters (log-scale least squares, log-normal noise)")
    console.print(f"sigma (ln) = {cal.sigma_:.3f}")
    print_frame(pred, title="held-back experiments (predictions)")
    if written:
        console.print(f"written: {', '.join(written)}")
