"""The QSP toolkit on the command line: ``eralpha calibrate``, ``eralpha sensitivity`` and ``eralpha import petab``
(``eralpha export petab`` lives with the other exports)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app, console, import_app, print_frame


_RUNS = typer.Option(None, "--runs-dir", help="Runs folder (default ./eralpha-runs or $ERALPHA_RUNS).")


def _headline(cal, path: Path) -> None:
    if not hasattr(cal, "ssr_"):  # the cell model's built-in He et al. calibration reports its own way
        print_frame(cal.summary.reset_index(), title="fitted parameters (log-scale least squares, log-normal noise)")
        console.print(f"sigma (ln) = {cal.sigma_:.3f}", highlight=False)
        print_frame(cal.predictions_.groupby(["arm", "day"]).agg(observed=("fold", "mean"), model=("model_fold", "first"))
                    .reset_index(), title="held-back experiments (predictions)")
        console.print(f"[bold]run written:[/] {path}", highlight=False, soft_wrap=True)
        return
    cols = [c for c in ("estimate", "lower_95", "upper_95", "unit", "prior_value", "profile_lower_95", "profile_upper_95",
                        "verdict") if c in cal.summary.columns]
    print_frame(cal.summary[cols].reset_index(), title=f"{cal.name}: estimates (95 % CIs: Wald; profile where run)")
    console.print(f"SSR {cal.ssr_:.4g} over {cal.n_obs_} points, σ = {cal.sigma_:.3g} ({cal.noise}); "
                  f"best of {cal.starts} starts", highlight=False)
    console.print(f"[bold]run written:[/] {path}", highlight=False, soft_wrap=True)


@app.command("calibrate")
def calibrate(
    spec: str = typer.Argument(..., help="A calibration spec (.yaml) or the name of a shipped calibration (mcf7-growth, mcf7-timecourses)."),
    runs_dir: Path | None = _RUNS,
    seed: int | None = typer.Option(None, "--seed", min=0, help="Seed of the Latin-hypercube starts (default: the spec's)."),
    starts: int | None = typer.Option(None, "--starts", min=1, help="Number of optimiser starts (default: the spec's)."),
    profile: bool = typer.Option(True, "--profile/--no-profile", help="Profile likelihoods and identifiability verdicts."),
    write: bool = typer.Option(False, "--write", help="mcf7-timecourses only: write the fitted values into the knowledge base."),
) -> None:
    """Fit named cell-model / knowledge-base parameters to a tidy data file: estimates, CIs, identifiability, figures."""
    import matplotlib

    matplotlib.use("Agg")
    from ..qsp._runs import resolve_calibration

    run = resolve_calibration(spec)
    options = {k: v for k, v in {"seed": seed, "starts": starts}.items() if v is not None}
    if not profile:
        options["profile"] = False
    if write:
        if spec != "mcf7-timecourses":
            from ..errors import InputError

            raise InputError("--write is only for the shipped cell-model calibration 'mcf7-timecourses'", field="--write",
                             value=spec)
        options["write"] = True
    cal, path = run(runs_dir=runs_dir, **options)
    _headline(cal, path)


@app.command("sensitivity")
def sensitivity(
    spec: Path = typer.Argument(..., help="A sensitivity spec (.yaml): parameters with bounds, an output, a method."),
    runs_dir: Path | None = _RUNS,
    method: str | None = typer.Option(None, "--method", help="sobol, morris or fast (default: the spec's)."),
    samples: int | None = typer.Option(None, "--samples", min=4, help="SALib base sample size (default: the spec's)."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Sampling seed (default: the spec's)."),
) -> None:
    """Global sensitivity (SALib Sobol / Morris / eFAST) of a model output to named parameters, with a tornado."""
    import matplotlib

    matplotlib.use("Agg")
    from ..qsp._runs import run_sensitivity

    sa, path = run_sensitivity(spec, runs_dir=runs_dir, seed=seed, samples=samples, method=method)
    print_frame(sa.indices_.reset_index(), title=f"{sa.method} indices: {sa.output_name} ({sa.n_evaluations_} evaluations)")
    console.print(f"[bold]run written:[/] {path}", highlight=False, soft_wrap=True)


@import_app.command("petab")
def import_petab(
    problem: Path = typer.Argument(..., help="A PEtab v1 problem YAML written by 'eralpha export petab'."),
    fit: bool = typer.Option(False, "--fit", help="Fit it with eralpha and write a run folder (as 'eralpha calibrate' does)."),
    runs_dir: Path | None = _RUNS,
    seed: int | None = typer.Option(None, "--seed", min=0, help="Seed of the Latin-hypercube starts (default: the problem's)."),
    starts: int | None = typer.Option(None, "--starts", min=1, help="Number of optimiser starts (default: the problem's)."),
    profile: bool = typer.Option(True, "--profile/--no-profile", help="With --fit: profile likelihoods and identifiability."),
) -> None:
    """Read a PEtab problem back into eralpha (experiments, free parameters, data on eralpha's clock); --fit fits it."""
    if not fit:
        from ..qsp import read_petab

        pc = read_petab(problem)
        print_frame(_parameter_table(pc), title=f"{pc.name}: free parameters ({pc.noise} noise)")
        console.print(f"{len(pc.model.experiments)} experiments, {len(pc.data)} data points (times - {pc.time_shift_h:g} h); "
                      "fit it with --fit", highlight=False)
        return
    import matplotlib

    matplotlib.use("Agg")
    from ..qsp._runs import run_petab_import

    options = {k: v for k, v in {"seed": seed, "starts": starts}.items() if v is not None}
    cal, path = run_petab_import(problem, runs_dir=runs_dir, profile=profile, **options)
    _headline(cal, path)


def _parameter_table(pc):
    import pandas as pd

    return pd.DataFrame([{"parameter": p.name, "lower": p.lower, "upper": p.upper, "scale": p.scale} for p in pc.parameters])
