"""``eralpha fit dose-response``: drc-grade log-logistic fits of a plate-reader style table."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from ._app import FORMAT_OPTION, OutputFormat, console, fit_app, print_frame, print_json
from ._options import figure_output


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


def _parse_fixed(text: str) -> dict[str, float]:
    out = {}
    for item in _parse_list(text):
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"cannot read '{item}'", field="--fixed", value=item, valid="NAME=NUMBER pairs, e.g. c=0,d=100")
    return out


def _pairs(d: dict) -> dict:
    return {k: [lo, hi] for k, (lo, hi) in d.items()}


def _curve_json(f, fitter) -> dict:
    return {
        "status": f.status,
        "reason": f.reason,
        "n": int(f.dose.size),
        "estimates": f.params,
        "std_errors": f.std_errors,
        "labels": f.labels,
        "shared": [n for n in f.labels if n in fitter.share],
        "prism_estimates": f.prism if f.fitted else {},
        "prism_std_errors": f.prism_std_errors if f.fitted else {},
        "ic50": f.ic50,
        "ci": {"level": fitter.level, "wald": _pairs(f.wald_ci(fitter.level)),
               "profile": _pairs(f.profile_ci(fitter.level)) if f.status == "converged" else {},
               # JSON has no inf: an open side prints as null, and says so here
               "profile_notes": f.profile_notes(fitter.level)},
        "residual_se": f.residual_se,
        "df": f.df,
    }


def _potency_pairs(text: str) -> list[tuple[str, str]]:
    if not text:
        return []
    out = []
    for item in _parse_list(text):
        a, sep, b = item.partition("/")
        if not sep:
            raise InputError(f"cannot read '{item}'", field="--potency", value=item, valid="pairs A/B separated by commas")
        out.append((a.strip(), b.strip()))
    return out


@fit_app.command("dose-response")
def dose_response(
    file: Path = typer.Argument(..., help="CSV / TSV / Parquet table, one row per well or observation."),
    dose: str = typer.Option(..., "--dose", help="Column with the dose / concentration (>= 0; 0 = control)."),
    response: str = typer.Option(..., "--response", help="Column with the measured response."),
    group: Optional[str] = typer.Option(None, "--group", help="Column naming the curve (drug, cell line ...)."),
    share: str = typer.Option("", "--share", help="Parameters common to all curves, e.g. c,d (drc pmodels)."),
    model: str = typer.Option("LL.4", "--model", help="LL.4, LL.3, LL.5, Hill (= Emax)."),
    fixed: str = typer.Option("", "--fixed", help="Fixed parameters, e.g. c=0 or c=0,d=100."),
    weights: Optional[str] = typer.Option(None, "--weights", help="Column of weights (1/variance)."),
    pool: bool = typer.Option(True, "--pool/--no-pool", help="Pool residual variance over curves (drc)."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
    potency: str = typer.Option("", "--potency", help="Relative potencies to report, e.g. A/B,A/C (ED50 ratios)."),
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG of data and fitted curves here.", callback=figure_output),
) -> None:
    """Fit dose-response curves (R drc's LL.4 by default) with drc's standard errors and Prism's names."""
    from ..analysis._doseresponse import DoseResponseFitter

    if not 0.0 < level < 1.0:
        raise InputError("the confidence level must lie between 0 and 1", field="--level", value=level, valid="e.g. 0.95")
    fitter = DoseResponseFitter(model, share=_parse_list(share), fixed=_parse_fixed(fixed), pool=pool, level=level)
    fitter.fit(file, dose=dose, response=response, group=group, weights=weights)
    curves = fitter.curves_
    if all(f.status == "insufficient_data" for f in curves.values()):
        reasons = "; ".join(f"{g}: {f.reason}" for g, f in curves.items())
        raise InputError(f"too few doses to fit a {fitter.model.name} curve ({reasons})", file=str(file), field=dose)
    potencies = [fitter.relative_potency(a, b) for a, b in _potency_pairs(potency)]
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        ax = fitter.plot()
        ax.figure.tight_layout()
        ax.figure.savefig(plot, dpi=150)
    if fmt == OutputFormat.json:
        table = fitter.summary
        print_json({
            "file": str(file),
            "model": fitter.model.name,
            "share": list(fitter.share),
            "pooled_variance": bool(fitter.pool and not fitter.share),
            "dropped_rows": {"count": fitter.drop_report_.n_dropped, "rows": fitter.drop_report_.rows},
            "parameters": {
                label: {"estimate": r.estimate, "std_error": r.std_error, "wald": [r.wald_lower, r.wald_upper],
                        "profile": [r.profile_lower, r.profile_upper]}
                for label, r in table.iterrows()
            },
            "curves": {g: _curve_json(f, fitter) for g, f in curves.items()},
            "relative_potency": [p.__dict__ for p in potencies],
            "plot": str(plot) if plot else None,
        })
        return
    console.print(f"[bold]{fitter.model.name}[/] fit of {file} ({fitter.model.r_equivalent})")
    if fitter.drop_report_.n_dropped:
        console.print(str(fitter.drop_report_))
    print_frame(fitter.curve_table.reset_index(), title="curves")
    cols = ["estimate", "std_error", "p_value", "wald_lower", "wald_upper", "profile_lower", "profile_upper"]
    print_frame(fitter.summary[cols].reset_index(), title=f"parameters (intervals at {level:.0%})")
    for g, f in curves.items():
        for name, sides in f.profile_notes(level).items():
            for side, text in sides.items():
                console.print(f"  note: {g} {name}, profile {side} bound {text}", highlight=False)
    for p in potencies:
        console.print(
            f"relative potency ED50 {p.curve_a}/{p.curve_b}: {p.estimate:.4g} (SE {p.std_error:.3g}; "
            f"{level:.0%} CI {p.lower:.4g} to {p.upper:.4g}; p = {p.p_value:.3g} for ratio = 1)"
        )
    if plot is not None:
        console.print(f"plot written to {plot}")
