"""``eralpha fit western | aromatase | binding | plate``: the lab-assay analyses from the command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import InputError, UnknownNameError
from ..units import check_unit
from ._app import FORMAT_OPTION, OutputFormat, console, fit_app, print_frame, print_json
from ._options import figure_output

# options every lab-assay command shares
_UNIT = typer.Option("nM", "--unit", help="Unit of the concentration column (nM, uM, ng/mL …).",
                     callback=lambda u: check_unit(u, "concentration", field="--unit"))
_COLUMN = typer.Option([], "--column", help="Rename an input column, KEY=NAME (repeatable), e.g. --column target=ERa.")
_PLOT = typer.Option(None, "--plot", help="Write a PNG of the data and fitted curves here.", callback=figure_output)


def _columns(defaults: Any, items: list[str]) -> Any:
    """Apply ``KEY=NAME`` overrides to a frozen column-name dataclass."""
    valid = [f.name for f in dataclasses.fields(defaults)]
    changes = {}
    for item in items:
        key, sep, name = item.partition("=")
        key = key.strip()
        if not sep or not name.strip():
            raise InputError(f"cannot read '{item}'", field="--column", value=item,
                             valid=f"KEY=NAME with KEY in {', '.join(valid)}")
        if key not in valid:
            raise UnknownNameError("column key", key, valid, field="--column")
        changes[key] = name.strip()
    return dataclasses.replace(defaults, **changes)


def _save_plot(ax: Any, path: Path | None) -> None:
    if path is None:
        return
    try:
        ax.figure.savefig(path, dpi=150)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot write the plot ({exc})", field="--plot", value=str(path),
                         valid="a writable path ending in .png") from None


def _report(
    title: str,
    fitter: Any,
    shown: list[str],
    fmt: OutputFormat,
    plot: Path | None,
    extra: dict[str, Any],
    tables: dict[str, Any],
) -> None:
    """Print a fitter's summary as a table (selected columns) or as JSON (everything)."""
    summary = fitter.summary.reset_index()
    dropped = getattr(fitter, "dropped_", None)
    if fmt == OutputFormat.json:
        print_json({
            **extra,
            "summary": summary,
            **tables,
            "dropped_rows": {"count": dropped.n_dropped, "rows": dropped.rows} if dropped else None,
            "plot": str(plot) if plot else None,
        })
        return
    console.print(f"[bold]{title}[/]")
    for key, value in extra.items():
        if key != "file":
            console.print(f"  {key}: {value}")
    print_frame(_with_intervals(summary, shown))
    for _, row in summary.iterrows():
        if row["status"] != "converged":
            console.print(f"  note: {row.iloc[0]} — {row['status']}: {row['reason']}")
    if dropped is not None and dropped.n_dropped:
        console.print(f"  {dropped}")
    if plot:
        console.print(f"plot written to {plot}")


def _with_intervals(summary: Any, shown: list[str]) -> Any:
    """The shown columns, each estimate with a ``_lower``/``_upper`` pair written as 'x [lo–hi]'."""
    out = summary[[c for c in shown if c in summary.columns]].copy()
    for name in shown:
        lo, hi = f"{name}_lower", f"{name}_upper"
        if name in out and lo in summary and hi in summary:
            out[name] = [f"{v:.4g} [{a:.3g}–{b:.3g}]" for v, a, b in zip(summary[name], summary[lo], summary[hi])]
            out = out.rename(columns={name: f"{name} [95% CI]"})
    return out


def _saturation(text: str) -> float | None:
    if text.strip().lower() in {"none", "off", "no"}:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"cannot read '{text}' as a number", field="--saturation", value=text,
                         valid="a band intensity, e.g. 65535 (16-bit) or 255 (8-bit), or 'none'") from None


@fit_app.command("western")
def western(
    file: Path = typer.Argument(
        ..., help="Band-intensity table: blot, lane, target, loading, dose (+ time, replicate, compound, background)."
    ),
    saturation: str = typer.Option("65535", "--saturation", help="Flag bands at/above this intensity ('none' turns it off)."),
    exclude_flagged: bool = typer.Option(False, "--exclude-flagged", help="Leave flagged lanes out of statistics and fits."),
    free_top: bool = typer.Option(False, "--free-top", help="Fit the curve's top instead of fixing it at the vehicle (1)."),
    target_name: str = typer.Option("ERα", "--target-name", help="Protein name for the plot's axis."),
    column: list[str] = _COLUMN,
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Western-blot densitometry: target/loading, fold change vs vehicle per blot, % degradation, DC50, Dmax."""
    from ..analysis._western import WesternBlotAnalysis, WesternColumns

    fitter = WesternBlotAnalysis(
        columns=_columns(WesternColumns(), column), saturation=_saturation(saturation),
        exclude_flagged=exclude_flagged, fix_top=not free_top, target_name=target_name,
    ).fit(file)
    if plot:
        _save_plot(fitter.plot(), plot)
    flags = fitter.flags_[["blot", "lane", "compound", "time", "dose", "flag"]]
    _report(
        f"Western-blot densitometry of {file}",
        fitter,
        ["compound", "time", "DC50", "Dmax_pct", "Dmax_se", "status", "n_flagged_lanes"],
        fmt, plot,
        {"file": str(file), "dose_unit": fitter.dose_unit, "flagged_lanes": len(flags)},
        {"replicates": fitter.replicates_, "flags": flags},
    )
    if fmt == OutputFormat.table and len(flags):
        print_frame(flags, title="flagged lanes")


_INHIBITION_COLUMNS = ["compound", "IC50", "HillSlope", "Ki", "status"]


@fit_app.command("aromatase")
def aromatase(
    file: Path = typer.Argument(..., help="Well table: role (blank|vehicle|drug), concentration, dpm (+ compound)."),
    substrate: str = typer.Option(..., "--substrate", help="Androstenedione concentration with unit, e.g. '50 nM'."),
    km: str = typer.Option(..., "--km", help="Km of aromatase for the substrate with unit, e.g. '40 nM'."),
    free_limits: bool = typer.Option(False, "--free-limits", help="Fit top and bottom instead of fixing them at 100 and 0 %."),
    unit: str = _UNIT,
    column: list[str] = _COLUMN,
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Aromatase tritiated-water assay: % inhibition, IC50 and Ki = IC50 / (1 + S/Km)."""
    from ..analysis._assays import AromataseAssay, AromataseColumns

    limits = {"top": None, "bottom": None} if free_limits else {}
    fitter = AromataseAssay(substrate, km, columns=_columns(AromataseColumns(), column),
                            concentration_unit=unit, **limits).fit(file)
    if plot:
        _save_plot(fitter.plot(), plot)
    _report(
        f"Aromatase assay of {file}", fitter, _INHIBITION_COLUMNS, fmt, plot,
        {"file": str(file), "substrate_nM": fitter.substrate_nM, "km_nM": fitter.km_nM,
         "blank_dpm": fitter.blank_dpm_, "vehicle_dpm": fitter.vehicle_dpm_},
        {"replicates": fitter.replicates_},
    )


@fit_app.command("binding")
def binding(
    file: Path = typer.Argument(..., help="Table: concentration, total, nonspecific (+ compound); counts in cpm or dpm."),
    radioligand: str = typer.Option(..., "--radioligand", help="Radioligand concentration with unit, e.g. '1 nM'."),
    kd: str = typer.Option(..., "--kd", help="Kd of the radioligand with unit, e.g. '0.26 nM'."),
    one_site: bool = typer.Option(False, "--one-site", help="Fix the Hill slope at 1 (strict one-site competition)."),
    unit: str = _UNIT,
    column: list[str] = _COLUMN,
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Competitive radioligand binding: specific binding, IC50 and Ki = IC50 / (1 + [L*]/Kd)."""
    from ..analysis._assays import BindingAssay, BindingColumns

    fitter = BindingAssay(radioligand, kd, columns=_columns(BindingColumns(), column),
                          concentration_unit=unit, one_site=one_site).fit(file)
    if plot:
        _save_plot(fitter.plot(), plot)
    _report(
        f"Competitive binding of {file}", fitter, _INHIBITION_COLUMNS, fmt, plot,
        {"file": str(file), "radioligand_nM": fitter.radioligand_nM, "kd_nM": fitter.kd_nM, "one_site": one_site},
        {"replicates": fitter.replicates_},
    )


@fit_app.command("plate")
def plate(
    layout: Path = typer.Argument(..., help="Plate layout: well, role (blank|vehicle|treated), compound, concentration."),
    readout: Path = typer.Argument(..., help="Reader output: a well/signal table or the reader's plate matrix."),
    time_zero: Optional[Path] = typer.Option(None, "--time-zero", help="Readout at the time of treatment (enables GR metrics)."),
    plate_size: Optional[int] = typer.Option(None, "--plate", help="96 or 384 (default: the smallest that fits)."),
    unit: str = _UNIT,
    column: list[str] = _COLUMN,
    metric: str = typer.Option("viability", "--plot-metric", help="What to plot: viability or GR."),
    fmt: OutputFormat = FORMAT_OPTION,
    plot: Optional[Path] = _PLOT,
) -> None:
    """Proliferation plate: % of vehicle, IC50 per compound and, with --time-zero, GR50 / GRmax / GR_AOC."""
    from ..analysis._plates import PlateAnalysis, PlateColumns

    fitter = PlateAnalysis(columns=_columns(PlateColumns(), column), plate=plate_size,
                           concentration_unit=unit).fit(layout, readout, time_zero)
    if plot:
        _save_plot(fitter.plot(metric=metric), plot)
    tables = {"replicates": fitter.replicates_}
    if fitter.gr_replicates_ is not None:
        tables["gr_replicates"] = fitter.gr_replicates_
    _report(
        f"Plate {readout} (layout {layout})",
        fitter,
        ["compound", "IC50", "HillSlope", "Bottom", "status", "GR50", "GRmax", "GR_AOC"],
        fmt, plot,
        {"file": str(readout), "plate": fitter.plate_, "z_prime": fitter.z_prime_, "x0": fitter.x0_,
         "unassigned_wells": len(fitter.unassigned_wells_)},
        tables,
    )
