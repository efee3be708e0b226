"""``eralpha trial run SCENARIO``: a virtual clinical trial, replicate trials and their endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..store import to_jsonable
from ._app import FORMAT_OPTION, OutputFormat, console, err_console, print_frame, trial_app


@trial_app.command("run")
def trial_run(
    scenario: Path = typer.Argument(..., help="A trial scenario YAML (kind: trial; see scenarios/trial_*.yaml)."),
    replicates: int | None = typer.Option(None, "--replicates", help="Replicate trials at the sample size (default: the scenario's)."),
    patients_per_arm: int | None = typer.Option(None, "--patients-per-arm", help="Override every arm's n."),
    seed: int | None = typer.Option(None, "--seed", help="Override the scenario's random seed."),
    format: OutputFormat = FORMAT_OPTION,
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Runs folder (default ./eralpha-runs or $ERALPHA_RUNS)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the run folder (tables, figures, report.html)."),
    dask: str | None = typer.Option(None, "--dask", help="Run the chunks on Dask: 'local' (a LocalCluster here) or a scheduler address (tcp://scheduler:8786). Needs the dask extra: pip install 'eralpha\\[dask]'."),
    dask_workers: int | None = typer.Option(None, "--dask-workers", help="Workers of --dask local (default: one per core)."),
    chunk: int | None = typer.Option(None, "--chunk", help="Patients per chunk (one batched solve each; default 2048). Never changes a number."),
    no_checkpoint: bool = typer.Option(False, "--no-checkpoint", help="Do not keep finished chunks; by default a killed run resumes when the same command is run again."),
) -> None:
    """Enrol virtual patients, treat them per arm, scan per protocol, and report PFS, HR, ORR and CBR.

    Finished chunks are checkpointed under RUNS_DIR/.checkpoints/ (keyed by scenario, seed and sizes):
    after a kill, the same command resumes from them; they are removed once the run is written."""
    from ..engine import make_executor
    from ..scenario import read_yaml
    from ..store import default_runs_root
    from ..trials import load_trial_scenario, run_trial
    from ..trials._run import DEFAULT_CHUNK
    from ..trials._scorecard import published_rows

    s = load_trial_scenario(scenario)
    if dask_workers is not None and (dask != "local" or dask_workers < 1):
        from ..errors import InputError

        raise InputError("--dask-workers needs --dask local and a positive number", field="--dask-workers", value=dask_workers,
                         valid="a number >= 1, with --dask local")
    root = None if no_checkpoint else (runs_dir or default_runs_root())
    with make_executor(dask, workers=dask_workers) as executor:
        result = run_trial(s, replicates=replicates, patients_per_arm=patients_per_arm, seed=seed,
                           chunk=chunk or DEFAULT_CHUNK, progress=format == OutputFormat.table, executor=executor,
                           checkpoint=root)
    rows = published_rows(result) if s.published and patients_per_arm is None else []
    path = None
    if not no_report:
        path = _write_run(result, read_yaml(scenario), scenario, rows, runs_dir)
    if result.checkpoint is not None:
        cp = result.checkpoint
        if cp.loaded:
            err_console.print(f"resumed from {cp.path}: {cp.loaded} chunks loaded, {cp.saved} computed")
        cp.remove()  # the run (or the printed result) now holds what the chunks held
    if format == OutputFormat.json:
        out = dict(result.endpoints)
        if path is not None:
            out["run"] = str(path)
        print(json.dumps(to_jsonable(out), indent=2))
        return
    _print(result)
    if rows:
        passed = sum(r["passed"] for r in rows)
        console.print(f"published numbers inside the model's 95 % prediction interval: {passed} of {len(rows)}")
    if path is not None:
        console.print(f"[bold]run written:[/] {path}")


def _print(result) -> None:
    import pandas as pd

    e = result.endpoints
    pi = e["replicates"] > 1

    def fmt(v, ci=None):
        text = f"{v:.3g}" if isinstance(v, float) else str(v)
        return text + (f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci is not None else "")

    rows = []
    for arm, v in e["arms"].items():
        rows.append({"arm": arm, "n": v["n"], "events": v["events"],
                     "median PFS (mo)": fmt(v["median_pfs_months"], v.get("median_pfs_months_pi") if pi else v["median_pfs_ci"]),
                     "PFS 6 mo": fmt(v["pfs_6m"]), "PFS 12 mo": fmt(v["pfs_12m"]),
                     "ORR": fmt(v["orr"], v.get("orr_pi") if pi else v["orr_ci"]),
                     "CBR": fmt(v["cbr"], v.get("cbr_pi") if pi else v["cbr_ci"])})
    what = f"median over {e['replicates']} replicate trials [95 % prediction interval]" if pi else "one trial [95 % CI]"
    print_frame(pd.DataFrame(rows), title=f"{e['trial']}: per arm — {what}")
    comps = [{"comparison": c, "HR": fmt(v["hr"], v.get("hr_pi") if pi else v["hr_ci"]),
              "log-rank p": fmt(v["logrank_p"], v.get("logrank_p_pi") if pi else None)} for c, v in e["comparisons"].items()]
    if comps:
        print_frame(pd.DataFrame(comps), title="comparisons")
    if "calibration" in e:
        c = e["calibration"]
        console.print(f"virtual patients: {c['accepted']} selected of {c['plausible']} plausible "
                      f"(yield {c['vp_yield']:.1%}, effective sample size {c['effective_sample_size']:.0f}) on "
                      f"{', '.join(c['control_drugs'])} median PFS {c['target_median_pfs_months']:g} months")


def _write_run(result, spec: dict, path: Path, rows, runs_dir):
    import matplotlib.pyplot as plt

    from ..store import RunWriter
    from ..trials._figures import trial_figures

    spec = {**spec, "seed": result.endpoints["seed"], "replicates": result.endpoints["replicates"]}
    with RunWriter(root=runs_dir, name=result.scenario.name, kind="trial", scenario=spec, scenario_path=path,
                   seed=int(result.endpoints["seed"])) as record:
        for name, t in result.tables.items():
            record.add_table(name, t)
        for name, fig in trial_figures(result).items():
            record.add_figure(name, fig)
            plt.close(fig)
        record.add_summary(to_jsonable(result.endpoints))
        if rows:
            record.add_scorecard(rows)
        record.add_note(f"wall time {result.wall_s:.1f} s; {result.pool.n} virtual patients simulated per arm")
        if result.checkpoint is not None and result.checkpoint.loaded:
            record.add_note(f"resumed: {result.checkpoint.loaded} chunks loaded from the checkpoint of a killed run, "
                            f"{result.checkpoint.saved} computed")
    return record.path


@trial_app.command("ki67")
def trial_ki67(
    regimen: list[str] | None = typer.Option(None, "--regimen", help="A window regimen (repeatable): untreated, anastrozole, letrozole, exemestane, tamoxifen, 'anastrozole + tamoxifen', 'anastrozole + palbociclib', 'anastrozole, palbociclib from day 29' (default: all)."),
    patients: int = typer.Option(200, "--patients", help="Untreated-primary-like patients (ESR1 wild type, PIK3CA per population)."),
    days: str = typer.Option("0,14", "--days", help="Biopsy days, comma-separated, starting at 0 (before the first dose)."),
    seed: int = typer.Option(20050101, "--seed", help="Random seed of the patients and their PK."),
    fate_rate_exponent: float | None = typer.Option(None, "--fate-rate-exponent", help="Override patient.yaml human_fate_rate_exponent (1: per cell cycle, shipped; 0: the culture's per-hour fate rates)."),
    check: bool = typer.Option(False, "--check", help="Compare with the published window-trial values instead (BIG 1-98 baseline, untreated stability, IMPACT, Z1031, NeoPalAna; published.yaml)."),
    format: OutputFormat = FORMAT_OPTION,
) -> None:
    """The tumour's Ki67 in a window-of-opportunity trial: baseline and on-treatment biopsies (docs/trials.md,
    'Human proliferation: Ki67 in window trials')."""
    import contextlib

    import pandas as pd

    from ..errors import InputError
    from ..knowledge import knowledge_overrides
    from ..trials import window_checks, window_ki67

    try:
        day_list = [float(d) for d in days.split(",") if d.strip()]
    except ValueError:
        raise InputError("biopsy days must be numbers separated by commas", field="--days", value=days,
                         valid="e.g. 0,14 or 0,14,112") from None
    ov = {"human_fate_rate_exponent": fate_rate_exponent} if fate_rate_exponent is not None else None
    with knowledge_overrides(ov, origin="--fate-rate-exponent") if ov else contextlib.nullcontext():
        if check:
            rows = window_checks(patients=patients, seed=seed)
        else:
            summary = window_ki67(regimen or None, patients=patients, days=day_list, seed=seed).summary()
    if check:
        if format == OutputFormat.json:
            print(json.dumps(to_jsonable(rows), indent=2))
            return
        print_frame(pd.DataFrame(rows), title="window-trial Ki67: model vs published")
        console.print(f"passed: {sum(r['passed'] for r in rows)} of {len(rows)}")
        return
    if format == OutputFormat.json:
        print(json.dumps(to_jsonable(summary), indent=2))
        return
    table = [{"regimen": name, "day": d, "median Ki67 %": 100 * s["median_ki67"][d],
              "geometric-mean Ki67 %": 100 * s["geometric_mean_ki67"][d], "geometric-mean fall %": 100 * s["geometric_mean_fall"][d],
              "CCCA (Ki67 <= 2.7 %) %": 100 * s["ccca_share"][d], "median senescent %": 100 * s["median_frac_senescent"][d]}
             for name, s in summary.items() for d in s["median_ki67"]]
    print_frame(pd.DataFrame(table), title=f"tumour Ki67 of {patients} untreated-primary-like patients", decimals=3)
