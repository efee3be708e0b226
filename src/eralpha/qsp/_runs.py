"""Calibrations and sensitivity analyses as run folders (manifest with seed, Parquet/CSV tables, figures, atomic).

``SHIPPED_CALIBRATIONS`` maps a name to a callable that runs a shipped calibration and returns its run
folder, so ``eralpha calibrate NAME`` works like ``eralpha calibrate SPEC.yaml``; other built-in
calibrations register themselves with :func:`register_calibration`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import InputError

__all__ = ["run_calibration", "fit_and_write", "run_petab_import", "run_sensitivity", "SHIPPED_CALIBRATIONS", "register_calibration", "resolve_calibration",
           "DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parent / "data"


def run_calibration(spec_path: str | Path, *, runs_dir: str | Path | None = None, seed: int | None = None,
                    starts: int | None = None, profile: bool = True, profile_points: int = 6):
    """Fit the spec, profile the likelihood and write the run folder; returns (calibration, run path)."""
    from ..scenario import read_yaml
    from ..store import utc_now
    from ._calibration import Calibration

    started = utc_now()
    spec_path = Path(spec_path)
    raw = read_yaml(spec_path)
    cal = Calibration.from_spec(spec_path)
    return fit_and_write(cal, scenario=raw, scenario_path=spec_path, started=started, runs_dir=runs_dir, seed=seed,
                         starts=starts, profile=profile, profile_points=profile_points)


def fit_and_write(cal, *, scenario: dict, scenario_path: Path | None, started, runs_dir: str | Path | None = None,
                  seed: int | None = None, starts: int | None = None, profile: bool = True, profile_points: int = 6,
                  notes: tuple[str, ...] = ()):
    """Fit a :class:`~eralpha.qsp.Calibration` (and profile it), write its run folder; returns (calibration, run path).

    What ``eralpha calibrate SPEC`` and ``eralpha import petab PROBLEM --fit`` share: ``scenario`` is what the
    manifest records as the input (the spec, or what a PEtab problem was read as)."""
    import matplotlib.pyplot as plt

    from ..store import RunWriter

    if seed is not None:
        cal.seed = int(seed)
    if starts is not None:
        cal.starts = int(starts)
    cal.fit()
    if profile:
        cal.profile(points=profile_points)
    with RunWriter(root=runs_dir, name=cal.name, kind="calibration", scenario=scenario, scenario_path=scenario_path,
                   seed=cal.seed, started=started, title=f"Calibration {cal.name}") as run:
        run.add_table("estimates", cal.summary.reset_index())
        run.add_table("starts", cal.starts_)
        run.add_table("predictions", cal.predictions_)
        run.add_table("correlation", cal.correlation_.reset_index(names="parameter"))
        if cal.profiles_ is not None:
            run.add_table("profiles", cal.profiles_)
        ax = cal.plot()
        run.add_figure("fit", ax.figure, caption="Data (points) and the fitted model (lines)")
        ax = cal.plot_waterfall()
        run.add_figure("waterfall", ax.figure, caption="Final objective of every start, best first")
        if cal.profiles_ is not None:
            axes = cal.plot_profiles()
            axes[0].figure.tight_layout()
            run.add_figure("profiles", axes[0].figure, caption="Profile likelihoods with the 95 % threshold (3.84)")
        run.add_summary({"ssr": cal.ssr_, "sigma": cal.sigma_, "n_data": cal.n_obs_, "noise": cal.noise,
                         "starts": cal.starts, **{f"estimate.{k}": float(v) for k, v in cal.estimates_.items()}})
        run.add_note(f"Multi-start least squares ({cal.starts} seeded Latin-hypercube starts, seed {cal.seed}); "
                     f"{cal.noise} noise; Jacobian by forward finite differences (one batched engine call per evaluation).")
        run.add_note("Calibration, not prediction: every estimate here is tuned to the data of this spec.")
        for note in notes:
            run.add_note(note)
    plt.close("all")
    return cal, run.path


def run_petab_import(problem_path: str | Path, **options):
    """Read a PEtab problem written by ``eralpha export petab``, fit it with eralpha and write the run folder."""
    from ..store import utc_now
    from ._petab import read_petab

    started = utc_now()
    pc = read_petab(problem_path)
    scenario = {"petab_problem": str(problem_path), "name": pc.name, "noise": pc.noise,
                "model": pc.model.model_dump(mode="json"), "parameters": [p.model_dump(mode="json") for p in pc.parameters],
                "fit": pc.fit.model_dump()}
    return fit_and_write(pc.calibration(), scenario=scenario, scenario_path=Path(problem_path), started=started,
                         notes=(f"Read from the PEtab v1 problem {problem_path}: measurement times minus "
                                f"{pc.time_shift_h:g} h (the SBML model's pre-equilibration).",), **options)


def run_sensitivity(spec_path: str | Path, *, runs_dir: str | Path | None = None, seed: int | None = None,
                    samples: int | None = None, method: str | None = None):
    """Run a sensitivity spec and write the run folder; returns (analysis, run path)."""
    import matplotlib.pyplot as plt

    from ..scenario import read_yaml
    from ..store import RunWriter, utc_now
    from ._sensitivity import SensitivitySpec, sensitivity_from_spec
    from ._spec import load_spec

    started = utc_now()
    spec_path = Path(spec_path)
    raw = read_yaml(spec_path)
    spec = load_spec(spec_path, SensitivitySpec)
    changes = {k: v for k, v in {"seed": seed, "samples": samples, "method": method}.items() if v is not None}
    if changes:
        from ._spec import parse_spec

        spec = parse_spec({**spec.model_dump(mode="json"), **changes}, str(spec_path), SensitivitySpec)
    sa = sensitivity_from_spec(spec, spec_path.parent)
    sa.fit()
    tornado = sa.tornado()
    with RunWriter(root=runs_dir, name=spec.name, kind="sensitivity", scenario={**raw, **changes}, scenario_path=spec_path,
                   seed=spec.seed, started=started, title=f"Sensitivity {spec.name}") as run:
        run.add_table("indices", sa.summary.reset_index())
        run.add_table("tornado", tornado)
        run.add_table("samples", sa.samples_)
        run.add_figure("indices", sa.plot().figure, caption=f"{spec.method} indices")
        ax = sa.plot_tornado(table=tornado)
        ax.figure.tight_layout()
        run.add_figure("tornado", ax.figure, caption="One-at-a-time swing between the bounds")
        run.add_summary({"method": spec.method, "samples": spec.samples, "evaluations": sa.n_evaluations_,
                         "output": sa.output_name})
        run.add_note(f"SALib {spec.method}, base sample size {spec.samples} ({sa.n_evaluations_} model evaluations), seed {spec.seed}.")
    plt.close("all")
    return sa, run.path


def _mcf7_growth(**options):
    return run_calibration(DATA_DIR / "mcf7_growth.yaml", **options)


def _mcf7_timecourses(*, runs_dir=None, seed: int | None = None, starts: int | None = None, profile: bool = True,
                      write: bool = False, max_nfev: int = 50):
    """The cell model's own calibration to the He et al. 2025 counts (eralpha.calibration), as a run folder;
    ``write`` puts the fitted values back into the knowledge base files that define them."""
    import matplotlib.pyplot as plt

    from ..calibration import MCF7TimecourseCalibration
    from ..store import RunWriter, utc_now

    started = utc_now()
    options = {"n_starts": starts or 3, "seed": 20250 if seed is None else int(seed), "max_nfev": int(max_nfev)}
    cal = MCF7TimecourseCalibration(**options).fit()
    with RunWriter(root=runs_dir, name="mcf7-timecourses", kind="calibration", scenario=options, seed=options["seed"],
                   started=started, title="Calibration of the cell model to the He et al. 2025 MCF7 counts") as run:
        run.add_table("estimates", cal.summary.reset_index())
        run.add_table("starts", cal.starts_)
        run.add_table("residuals", cal.residuals_)
        run.add_table("predictions", cal.predictions_)
        axes = cal.plot()
        run.add_figure("fit", axes.flat[0].figure, caption="Counts (points) and the fitted model; held-back arms dashed")
        run.add_summary({"sigma": cal.sigma_, "starts": options["n_starts"],
                         **{f"estimate.{k}": float(v) for k, v in cal.params_.items()}})
        if write:
            written = cal.write_knowledge(command=f"eralpha calibrate mcf7-timecourses --starts {options['n_starts']} "
                                                  f"--seed {options['seed']} --write")
            run.add_note("fitted values written into " + ", ".join(str(w) for w in written))
    plt.close("all")
    return cal, run.path


#: name -> callable(runs_dir=..., seed=..., ...) -> (result, run folder)
SHIPPED_CALIBRATIONS: dict[str, Callable] = {"mcf7-growth": _mcf7_growth, "mcf7-timecourses": _mcf7_timecourses}


def register_calibration(name: str, fn: Callable) -> None:
    """Make ``eralpha calibrate NAME`` run ``fn(runs_dir=..., seed=...)``."""
    SHIPPED_CALIBRATIONS[name] = fn


def resolve_calibration(target: str) -> Callable:
    """A spec path or a shipped name -> the callable that runs it (one clear error otherwise)."""
    path = Path(target)
    if path.is_file():
        return lambda **options: run_calibration(path, **options)
    if target in SHIPPED_CALIBRATIONS:
        return SHIPPED_CALIBRATIONS[target]
    raise not_a_calibration(target, SHIPPED_CALIBRATIONS)


def not_a_calibration(target, shipped_names) -> InputError:
    """The error for a target that is neither a spec file nor a shipped name, with the closest names."""
    from ..errors import suggest

    close = suggest(str(target), shipped_names)
    hint = f" — did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return InputError(f"neither a calibration spec file nor a shipped calibration{hint}", file=str(target),
                      valid="a .yaml calibration spec, or one of: " + ", ".join(sorted(shipped_names)))
