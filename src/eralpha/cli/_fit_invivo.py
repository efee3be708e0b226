"""Commands: ``eralpha fit xenograft | tumour-weight | metastasis | survival | recist``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from ._app import FORMAT_OPTION, OutputFormat, console, fit_app, print_frame, print_json
from ._options import figure_output

_PLOT = typer.Option(None, "--plot", help="Write the figure to this PNG file.", callback=figure_output)
_GROUP = typer.Option("group", "--group", help="Column with the treatment group.")
_ANIMAL = typer.Option("animal", "--animal", help="Column with the animal id.")
_CONTROL = typer.Option(None, "--control", help="Control group (default: first in the file).")


def _save_plot(fitter, path: Optional[Path]) -> None:
    """Draw ``fitter.plot()`` into ``path`` (a clear error, not a traceback, if it cannot be written)."""
    if path is None:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = fitter.plot()
    try:
        ax.figure.savefig(path, dpi=150, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write the figure ({exc})", file=str(path),
                         valid="a writable path ending in .png, .pdf or .svg") from None
    finally:
        plt.close(ax.figure)
    console.print(f"figure written to {path}")


def _show(fmt: OutputFormat, payload: dict, tables: dict, notes: list[str]) -> None:
    if fmt == OutputFormat.json:
        print_json(payload)
        return
    for title, frame in tables.items():
        print_frame(frame, title=title)
    for note in notes:
        console.print(note, highlight=False)


@fit_app.command("xenograft")
def fit_xenograft(
    file: Path = typer.Argument(..., help="Long table: one row per animal per measurement day."),
    group: str = _GROUP,
    time: str = typer.Option("day", "--time", help="Column with the study day."),
    animal: str = _ANIMAL,
    volume: Optional[str] = typer.Option(None, "--volume", help="Column with tumour volume (mm³)."),
    length: Optional[str] = typer.Option(None, "--length", help="Calliper length column (mm); needs --width."),
    width: Optional[str] = typer.Option(None, "--width", help="Calliper width column (mm); volume = L·W²/2."),
    luminescence: Optional[str] = typer.Option(None, "--luminescence", help="Column with total flux (photons/s)."),
    control: Optional[str] = _CONTROL,
    day: Optional[float] = typer.Option(None, "--day", help="Day for TGI and T/C (default: last control day)."),
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Tumour growth: mean ± SEM curves, log growth rates, TGI, T/C, mixed model and Welch tests."""
    from ..analysis._xenograft import XenograftAnalysis

    fit = XenograftAnalysis(animal=animal, group=group, day=time, volume=volume, length=length, width=width,
                            luminescence=luminescence, control=control, day_of_interest=day).fit(file)
    summary = fit.summary.reset_index()
    payload = {
        "control": fit.control_, "day_of_interest": fit.day_of_interest_,
        "definitions": {"tgi_pct": "100*(1 - dT/dC), mean change from each animal's baseline",
                        "t_over_c_pct": "100*mean(T)/mean(C) on day_of_interest",
                        "growth_rate": "OLS slope of ln(size) vs day per animal (1/day)"},
        "summary": summary, "growth": fit.growth_, "slopes": fit.slopes_, "slope_tests": fit.slope_tests_.reset_index(),
        "anova": fit.anova_, "mixed_model": None if fit.mixed_ is None else fit.mixed_.reset_index(),
        "mixed_random_effects": fit.mixed_random_, "n_floored": fit.n_floored_, "dropped": str(fit.drop_report_),
    }
    tables = {"growth by group (rates per day; TGI/T/C on day %g)" % fit.day_of_interest_: summary}
    if fit.mixed_ is not None:
        tables[f"mixed model ln(size) ~ day*group, random {fit.mixed_random_}"] = fit.mixed_.reset_index()
    notes = [f"control: {fit.control_}; TGI% = 100·(1 − ΔT/ΔC); T/C% = 100·mean T / mean C; "
             f"ANOVA of slopes p = {fit.anova_['p']:.3g}; {fit.drop_report_}"]
    _show(fmt, payload, tables, notes)
    _save_plot(fit, plot)


@fit_app.command("tumour-weight")
def fit_tumour_weight(
    file: Path = typer.Argument(..., help="One row per animal with its terminal tumour weight."),
    group: str = _GROUP,
    weight: str = typer.Option("weight", "--weight", help="Column with the tumour weight."),
    control: Optional[str] = _CONTROL,
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Terminal tumour weights: mean ± SEM per group, Welch's t-test vs control (Holm)."""
    from ..analysis._xenograft import TumourWeightAnalysis

    fit = TumourWeightAnalysis(group=group, weight=weight, control=control).fit(file)
    summary = fit.summary.reset_index()
    _show(fmt, {"control": fit.control_, "summary": summary}, {"terminal tumour weight": summary},
          [f"control: {fit.control_}; Welch t-test, Holm-adjusted over groups"])
    _save_plot(fit, plot)


@fit_app.command("metastasis")
def fit_metastasis(
    file: Path = typer.Argument(..., help="One row per animal per organ (or one column per organ, see --organs)."),
    group: str = _GROUP,
    animal: str = _ANIMAL,
    organ: str = typer.Option("organ", "--organ", help="Column with the organ name (long table)."),
    signal: str = typer.Option("signal", "--signal", help="Column with ex-vivo flux, photons/s (long table)."),
    organs: Optional[str] = typer.Option(None, "--organs", help="Wide table: comma-separated organ columns."),
    control: Optional[str] = _CONTROL,
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Background flux: above it, positive."),
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Ex-vivo metastasis: log10 flux per organ vs control, fraction of animals positive."""
    from ..analysis._xenograft import MetastasisAnalysis

    organ_cols = tuple(o.strip() for o in organs.split(",")) if organs else None
    fit = MetastasisAnalysis(animal=animal, group=group, organ=organ, signal=signal, organs=organ_cols,
                             control=control, threshold=threshold).fit(file)
    summary = fit.summary.reset_index()
    _show(fmt, {"control": fit.control_, "threshold": threshold, "summary": summary},
          {"metastasis by organ (log10 photons/s)": summary},
          [f"control: {fit.control_}; Welch t-test on log10 flux, Holm within organ"])
    _save_plot(fit, plot)


@fit_app.command("survival")
def fit_survival(
    file: Path = typer.Argument(..., help="One row per patient: time, event (1/0), arm."),
    time: str = typer.Option("time", "--time", help="Column with time to event or censoring."),
    event: str = typer.Option("event", "--event", help="Column with 1 = event, 0 = censored."),
    arm: str = typer.Option("arm", "--arm", help="Column with the treatment arm."),
    reference: Optional[str] = typer.Option(None, "--reference", help="Reference arm for the hazard ratio."),
    covariate: Optional[list[str]] = typer.Option(None, "--covariate", help="Numeric Cox covariate (repeatable)."),
    time_unit: str = typer.Option("months", "--time-unit", help="days, weeks, months or years (a label)."),
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Kaplan–Meier medians (95% CI), Cox hazard ratio vs the reference arm, log-rank test."""
    from ..analysis._survival import SurvivalAnalysis

    fit = SurvivalAnalysis(time=time, event=event, arm=arm, reference=reference,
                           covariates=tuple(covariate or ()), time_unit=time_unit).fit(file)
    summary = fit.summary.reset_index()
    payload = {"reference": fit.reference_, "time_unit": time_unit, "summary": summary,
               "cox": fit.hazard_ratios_.reset_index(), "logrank": fit.logrank_, "dropped": str(fit.drop_report_)}
    notes = [f"reference arm: {fit.reference_}; log-rank chi2 = {fit.logrank_['chi2']:.4g} "
             f"({fit.logrank_['df']} df), p = {fit.logrank_['p']:.4g}; {fit.drop_report_}"]
    _show(fmt, payload, {f"survival ({time_unit})": summary, "Cox model": fit.hazard_ratios_.reset_index()}, notes)
    _save_plot(fit, plot)


@fit_app.command("recist")
def fit_recist(
    file: Path = typer.Argument(..., help="One row per lesion per visit."),
    patient: str = typer.Option("patient", "--patient", help="Column with the patient id."),
    day: str = typer.Option("day", "--day", help="Column with the visit day (earliest = baseline)."),
    lesion: str = typer.Option("lesion", "--lesion", help="Column with the lesion id."),
    lesion_type: str = typer.Option("type", "--type", help="Column with target / non-target / new."),
    diameter: str = typer.Option("diameter", "--diameter", help="Column with the diameter in mm."),
    node: Optional[str] = typer.Option(None, "--node", help="Column flagging lymph nodes (1/0)."),
    status: Optional[str] = typer.Option(None, "--status", help="Column with non-target status (present/absent/PD)."),
    arm: Optional[str] = typer.Option(None, "--arm", help="Column with the treatment arm."),
    reference: Optional[str] = typer.Option(None, "--reference", help="Reference arm for Fisher's exact tests."),
    confirm: bool = typer.Option(True, "--confirm/--no-confirm", help="Require confirmation of CR/PR."),
    confirm_days: float = typer.Option(28.0, "--confirm-days", help="Minimum days to the confirming scan."),
    min_sd_days: float = typer.Option(42.0, "--min-sd-days", help="Minimum days from baseline for SD."),
    cbr_days: float = typer.Option(168.0, "--cbr-days", help="Minimum SD duration for clinical benefit."),
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """RECIST 1.1: per-visit response, best overall response, ORR and CBR with exact 95% CIs."""
    from ..analysis._recist import RecistAssessment, RecistRules

    rules = RecistRules(confirm=confirm, confirm_days=confirm_days, min_sd_days=min_sd_days, cbr_days=cbr_days)
    fit = RecistAssessment(patient=patient, day=day, lesion=lesion, lesion_type=lesion_type, diameter=diameter,
                           node=node, status=status, arm=arm, reference=reference, rules=rules).fit(file)
    summary = fit.summary.reset_index()
    payload = {"rules": rules.__dict__, "rates": summary, "patients": fit.patients_, "visits": fit.visits_}
    _show(fmt, payload, {"ORR and CBR (Clopper–Pearson 95% CI)": summary,
                         "best overall response": fit.patients_[["patient", "arm", "best_overall_response",
                                                                 "best_pct_change", "ttp_days", "clinical_benefit"]]},
          [f"RECIST 1.1; confirmation {'required' if confirm else 'not required'} (≥ {confirm_days:g} d); "
           f"SD ≥ {min_sd_days:g} d; CBR = CR + PR + SD ≥ {cbr_days:g} d"])
    _save_plot(fit, plot)
