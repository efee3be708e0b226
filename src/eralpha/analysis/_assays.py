"""Enzyme and receptor assays: aromatase tritiated-water assay and competitive radioligand binding.

Both turn raw counts (dpm / cpm) into a normalised response, fit a four-parameter log-logistic curve
per compound with :func:`eralpha.analysis._doseresponse.fit_curve` (drc ``LL.4``) and convert the IC50
into an inhibition constant with the Cheng–Prusoff equation (Cheng & Prusoff 1973, Biochem Pharmacol
22:3099): ``Ki = IC50 / (1 + [S]/Km)`` for a competitive enzyme inhibitor, ``Ki = IC50 / (1 + [L*]/Kd)``
for a competitor of a radioligand.

This module also holds the small helpers the other lab-assay fitters (western blots, plates) share:
reading a table or frame, checking a category column, replicate statistics, inverting a fitted curve
and drawing a dose-response panel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, suggest
from ..units import check_unit, to_internal
from ._base import Fitter
from ._data import drop_missing, numeric_column, read_table, require_columns, source_name

__all__ = [
    "AromataseAssay",
    "AromataseColumns",
    "BindingAssay",
    "BindingColumns",
    "cheng_prusoff_ki",
]


# --------------------------------------------------------------------------------------------------
# Helpers shared by the lab-assay fitters (_western, _plates import them)
# --------------------------------------------------------------------------------------------------


def as_table(data: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A copy of ``data`` (a frame, or a path read with :func:`read_table`) that keeps its source."""
    if isinstance(data, (str, Path)):
        return read_table(data)
    if not isinstance(data, pd.DataFrame):
        raise InputError(
            f"expected a table, got {type(data).__name__}",
            value=type(data).__name__,
            valid="a pandas DataFrame or the path of a CSV / TSV / Parquet file",
        )
    if data.empty:
        raise InputError("the table has no rows", file=source_name(data))
    out = data.copy()
    out.columns = [str(c).strip() for c in out.columns]
    out.attrs.update(data.attrs)
    return out


def text_column(df: pd.DataFrame, column: str | None, default: str) -> np.ndarray:
    """A label column as stripped strings (empty cells become ''); ``default`` when the column is absent."""
    if column is None or column not in df.columns:
        return np.full(len(df), default, dtype=object)
    raw = df[column]
    return np.array(["" if pd.isna(v) else str(v).strip() for v in raw], dtype=object)


def category_column(df: pd.DataFrame, column: str, allowed: Iterable[str]) -> np.ndarray:
    """A column whose cells must be one of ``allowed`` (case-insensitive); a bad cell names its row."""
    require_columns(df, [column])
    allowed = list(allowed)
    values = np.array([str(v).strip().lower() if not pd.isna(v) else "" for v in df[column]], dtype=object)
    for i, v in enumerate(values):
        if v not in allowed:
            hint = suggest(v, allowed) if v else []
            did_you_mean = (" — did you mean " + " or ".join(f"'{s}'" for s in hint) + "?") if hint else ""
            shown = "(empty)" if v == "" else f"'{df[column].iloc[i]}'"
            raise InputError(
                f"row {i + 2}, column '{column}': {shown} is not a known {column}{did_you_mean}",
                file=source_name(df),
                field=column,
                value=df[column].iloc[i],
                valid=", ".join(allowed),
            )
    return values


def concentration_nM(value: Any, field: str) -> float:
    """A concentration given with its unit (``'50 nM'``, ``'0.05 uM'``) in nM; must be > 0."""
    conc = to_internal(value, "nM", field=field)
    if not conc > 0:
        raise InputError(f"{value} must be positive", field=field, value=value, valid="a concentration > 0, e.g. '50 nM'")
    return conc


def cheng_prusoff_ki(ic50: float, concentration: float, constant: float) -> float:
    """Cheng–Prusoff: ``Ki = IC50 / (1 + concentration / constant)``.

    For a competitive enzyme inhibitor ``concentration`` is the substrate [S] and ``constant`` its Km;
    for a radioligand competition assay they are the radioligand [L*] and its Kd. ``concentration`` and
    ``constant`` must share a unit; Ki comes back in the unit of ``ic50``. (Prism: "One site — Fit Ki".)
    """
    if not (concentration >= 0 and constant > 0):
        raise InputError(
            f"Cheng–Prusoff needs concentration >= 0 and constant > 0, got {concentration:g} and {constant:g}",
            valid="a non-negative substrate / radioligand concentration and a positive Km / Kd",
        )
    return float(ic50) / (1.0 + concentration / constant)


def replicate_stats(df: pd.DataFrame, by: list[str], value: str) -> pd.DataFrame:
    """Mean, SD, SEM and n of ``value`` per group (SD with n − 1, as Prism and R's ``sd``)."""
    grouped = df.groupby(by, sort=True, dropna=False)[value]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    return out[[*by, "mean", "sd", "sem", "n"]]


def fit_parameter(cf: Any, name: str, what: str = "params") -> float:
    """One parameter (or its standard error) from a curve fit; NaN when absent or not estimated."""
    values = getattr(cf, what, None) or {}
    value = values.get(name, np.nan)
    return float("nan") if value is None else float(value)


def ed_columns(cf: Any, name: str, p: float, type: str = "relative", level: float = 0.95) -> dict[str, float]:
    """An effective dose with its delta-method SE and t interval, as drc ``ED(m, p, interval = "delta")``.

    Columns ``name``, ``name_se``, ``name_lower``, ``name_upper``; NaN when the curve was not fitted
    or never reaches the response.
    """
    missing = {name: np.nan, f"{name}_se": np.nan, f"{name}_lower": np.nan, f"{name}_upper": np.nan}
    try:
        est = float(cf.ed(p, type=type))
        if not np.isfinite(est) or not cf.fitted:
            return {**missing, name: est}
        interval = cf.ed_interval(p, type=type, level=level)
    except (OverflowError, ZeroDivisionError):  # a degenerate (flat) curve has no usable effective dose
        return missing
    return {name: est, f"{name}_se": interval.std_error, f"{name}_lower": interval.lower, f"{name}_upper": interval.upper}


def curve_columns(cf: Any) -> dict[str, Any]:
    """The columns every fitted curve reports in a summary (Prism names; HillSlope = −b)."""
    prism = dict(getattr(cf, "prism", None) or {})
    return {
        "status": cf.status,
        "Bottom": prism.get("Bottom", np.nan),
        "Top": prism.get("Top", np.nan),
        "HillSlope": prism.get("HillSlope", np.nan),
        "LogIC50": prism.get("LogIC50", np.nan),
        "residual_se": getattr(cf, "residual_se", np.nan),
        "df": getattr(cf, "df", np.nan),
        "reason": cf.reason or "",
    }


def new_axes(ax: Any = None) -> Any:
    """``ax``, or a fresh axes on a figure that needs no GUI backend (Agg), so scripts never block."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=(5.0, 3.8), layout="constrained").add_subplot()


def plot_dose_response(
    ax: Any,
    points: pd.DataFrame,
    cf: Any = None,
    *,
    dose: str,
    label: str,
    color: Any = None,
    marker: str = "o",
    scale: float = 1.0,
) -> None:
    """Mean ± SEM points (``points`` has ``dose``, mean, sem) and the fitted curve on a log dose axis.

    Zero doses cannot sit on a log axis and are left out, as in Prism. ``scale`` multiplies the
    fitted curve (e.g. 100 to draw a fold-change fit as percent).
    """
    shown = points[points[dose] > 0]
    bars = ax.errorbar(
        shown[dose], shown["mean"], yerr=shown["sem"].fillna(0.0), fmt=marker, color=color,
        capsize=3, label=label, markersize=5,
    )
    colour = bars[0].get_color()
    if cf is not None and shown[dose].size and cf.status in {"converged", "ambiguous"}:
        lo, hi = float(shown[dose].min()), float(shown[dose].max())
        grid = np.geomspace(lo / 2.0, hi * 2.0, 200)
        ax.plot(grid, scale * np.asarray(cf.predict(grid), dtype=float), "-", color=colour, lw=1.5)
    ax.set_xscale("log")


# --------------------------------------------------------------------------------------------------
# Inhibition assays: one fit per compound, then Cheng–Prusoff
# --------------------------------------------------------------------------------------------------


class _InhibitionAssay(Fitter):
    """Common machinery: per-well table → per-compound LL.4 fit → IC50 → Ki by Cheng–Prusoff."""

    #: label of the response axis and of the response column in ``table_``
    _response: str = "response"
    _response_label: str = "response"

    def __init__(self, *, concentration_unit: str, fixed: Mapping[str, float]) -> None:
        self.concentration_unit = check_unit(concentration_unit, "concentration", field="concentration_unit")
        self._fixed = {k: float(v) for k, v in fixed.items() if v is not None}

    def _cheng_prusoff_terms(self) -> tuple[float, float, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_compounds(self, points: pd.DataFrame) -> None:
        """Fit every compound in ``points`` (columns compound, concentration, response); set results.

        Control rows (concentration 0) take part in the fit, as in drc, where they pin the upper limit.
        """
        from ._doseresponse import fit_curve

        conc, constant, ratio_name = self._cheng_prusoff_terms()
        self.replicates_ = replicate_stats(points, ["compound", "concentration"], self._response)
        self.fits_: dict[str, Any] = {}
        rows = []
        for compound, group in points.groupby("compound", sort=True):
            cf = fit_curve(
                group["concentration"].to_numpy(float),
                group[self._response].to_numpy(float),
                model="LL.4",
                fixed=self._fixed or None,
            )
            self.fits_[compound] = cf
            ic50 = ed_columns(cf, "IC50", 50.0)
            factor = 1.0 + conc / constant
            rows.append(
                {
                    "compound": compound,
                    **ic50,
                    "Ki": cheng_prusoff_ki(ic50["IC50"], conc, constant),
                    "Ki_se": ic50["IC50_se"] / factor,
                    "Ki_lower": ic50["IC50_lower"] / factor,
                    "Ki_upper": ic50["IC50_upper"] / factor,
                    ratio_name: conc / constant,
                    "unit": self.concentration_unit,
                    "n_points": int(len(group)),
                    **curve_columns(cf),
                }
            )
        self._summary = pd.DataFrame(rows).set_index("compound")
        self.ic50_ = self._summary["IC50"].to_dict()
        self.ki_ = self._summary["Ki"].to_dict()
        self._fitted = True

    @property
    def summary(self) -> pd.DataFrame:
        """One row per compound: IC50 (± SE), Ki (± SE), the Cheng–Prusoff ratio and the curve."""
        self._require_fit()
        return self._summary.copy()

    def plot(self, ax: Any = None) -> Any:
        """Mean ± SEM response per concentration and the fitted curve, one colour per compound."""
        self._require_fit()
        ax = new_axes(ax)
        for compound, points in self.replicates_.groupby("compound", sort=True):
            cf = self.fits_.get(compound)
            ki = self.ki_.get(compound, np.nan)
            plot_dose_response(
                ax, points, cf, dose="concentration",
                label=f"{compound} (Ki {ki:.3g} {self.concentration_unit})",
            )
        ax.set_xlabel(f"concentration ({self.concentration_unit})")
        ax.set_ylabel(self._response_label)
        ax.legend(frameon=False, fontsize=8)
        return ax


@dataclass(frozen=True)
class AromataseColumns:
    """Column names of an aromatase-assay table (one row per well)."""

    role: str = "role"  # blank | vehicle | drug
    concentration: str = "concentration"  # inhibitor concentration (0 or empty for blank / vehicle)
    dpm: str = "dpm"  # 3H2O released, disintegrations per minute
    compound: str | None = "compound"  # optional: which inhibitor a drug well holds


class AromataseAssay(_InhibitionAssay):
    """Aromatase (CYP19A1) tritiated-water assay: dpm → % inhibition → IC50 → Ki (Cheng–Prusoff).

    [1β-³H]-androstenedione releases ³H₂O when aromatised; the water is counted in dpm. Per well,
    ``activity = 100 · (dpm − blank) / (vehicle − blank)`` (blank: no enzyme or fully inhibited; vehicle:
    no inhibitor, means over their wells) and ``% inhibition = 100 − activity`` (the assay and formula
    as seed 003 and DESIGN.md describe them). The remaining activity is fitted per
    compound with drc ``LL.4``; by default the top is fixed at 100 and the bottom at 0 because the
    vehicle and the blank define them — Prism's "log(inhibitor) vs. normalized response — variable
    slope". Pass ``top=None`` / ``bottom=None`` to fit them. ``Ki = IC50 / (1 + S/Km)`` for a
    competitive inhibitor such as letrozole or anastrozole.

    Parameters
    ----------
    substrate, km:
        Androstenedione concentration in the assay and its Km, with units (``"50 nM"``, ``"0.04 uM"``).
    columns:
        :class:`AromataseColumns` naming the table's columns.
    concentration_unit:
        Unit of the concentration column; IC50 and Ki are reported in it.

    Results: ``table_`` (per well), ``replicates_`` (mean, SD, SEM, n per concentration), ``fits_``
    (curve fit per compound), ``ic50_``, ``ki_``, ``blank_dpm_``, ``vehicle_dpm_``, ``dropped_``.
    """

    _response = "activity_pct"
    _response_label = "aromatase activity (% of vehicle)"
    ROLES = ("blank", "vehicle", "drug")

    def __init__(
        self,
        substrate: Any,
        km: Any,
        *,
        columns: AromataseColumns = AromataseColumns(),
        concentration_unit: str = "nM",
        top: float | None = 100.0,
        bottom: float | None = 0.0,
    ) -> None:
        super().__init__(concentration_unit=concentration_unit, fixed={"d": top, "c": bottom})
        self.substrate_nM = concentration_nM(substrate, "substrate")
        self.km_nM = concentration_nM(km, "km")
        self.columns = columns
        self.top, self.bottom = top, bottom

    def _cheng_prusoff_terms(self) -> tuple[float, float, str]:
        return self.substrate_nM, self.km_nM, "S/Km"

    def fit(self, data: pd.DataFrame | str | Path) -> AromataseAssay:
        """Read the well table (a frame or a file), normalise to blank and vehicle, fit each compound."""
        cols = self.columns
        df = as_table(data)
        require_columns(df, [cols.role, cols.concentration, cols.dpm])
        # parse the whole table first, so that an error names the row as the file numbers it
        role = category_column(df, cols.role, self.ROLES)
        dpm = numeric_column(df, cols.dpm, allow_negative=False)
        conc = numeric_column(df, cols.concentration, allow_negative=False)
        compound = text_column(df, cols.compound, default="drug")
        src = source_name(df)
        _, self.dropped_ = drop_missing(df, [cols.dpm])
        counted = ~np.isnan(dpm)
        require_treated_wells(df, (role == "drug") & counted, conc, compound,
                              conc_column=cols.concentration, compound_column=cols.compound)
        role, dpm, conc, compound = role[counted], dpm[counted], conc[counted], compound[counted]
        for needed in ("blank", "vehicle"):
            if not (role == needed).any():
                raise InputError(
                    f"no '{needed}' wells: the assay needs them to normalise",
                    file=src, field=cols.role, valid="at least one blank, one vehicle and some drug wells",
                )
        drug = role == "drug"
        self.blank_dpm_ = float(dpm[role == "blank"].mean())
        self.vehicle_dpm_ = float(dpm[role == "vehicle"].mean())
        window = self.vehicle_dpm_ - self.blank_dpm_
        if not window > 0:
            raise InputError(
                f"vehicle wells ({self.vehicle_dpm_:g} dpm) do not exceed blank wells ({self.blank_dpm_:g} dpm)",
                file=src, field=cols.dpm, valid="vehicle dpm above blank dpm (check the role column)",
            )
        activity = 100.0 * (dpm - self.blank_dpm_) / window
        wells = pd.DataFrame(
            {
                "role": role,
                "compound": np.where(drug, compound, ""),
                "concentration": np.where(drug, conc, 0.0),
                "dpm": dpm,
                "activity_pct": activity,
                "inhibition_pct": 100.0 - activity,
            }
        )
        self.table_ = wells
        # the shared vehicle wells are every compound's control points (concentration 0)
        vehicle = wells[wells["role"] == "vehicle"]
        points = [wells[drug]] + [vehicle.assign(compound=name) for name in np.unique(compound[drug])]
        self._fit_compounds(pd.concat(points, ignore_index=True))
        return self


@dataclass(frozen=True)
class BindingColumns:
    """Column names of a competitive-binding table (one row per tube / well)."""

    concentration: str = "concentration"  # unlabelled competitor (0 for total binding without competitor)
    total: str = "total"  # total bound counts (cpm or dpm)
    nonspecific: str = "nonspecific"  # non-specific binding counts (excess cold ligand); may be empty
    compound: str | None = "compound"  # optional: which competitor


class BindingAssay(_InhibitionAssay):
    """Competitive radioligand binding: total − non-specific → specific binding → IC50 → Ki.

    Per row, ``specific = total − nonspecific``; an empty non-specific cell takes the mean of that
    compound's non-specific values (NSB is often measured in a few tubes only). Specific binding is
    fitted against competitor concentration with drc ``LL.4``, top and bottom free — Prism's
    "log(inhibitor) vs. response — variable slope"; ``one_site=True`` fixes the slope at 1 (Prism
    HillSlope −1), Prism's "One site — Fit logIC50". ``Ki = IC50 / (1 + [L*]/Kd)`` (Cheng & Prusoff 1973).
    Rows without competitor (concentration 0) give B0, the specific binding the ``pct_of_B0`` column
    is relative to; like drc, the fit uses them at the curve's upper limit (the plot leaves them out:
    they cannot sit on a log axis).

    Parameters
    ----------
    radioligand, kd:
        Radioligand concentration and its Kd, with units (``"1 nM"``, ``"0.26 nM"`` for [³H]-E2 at ERα).
    columns:
        :class:`BindingColumns` naming the table's columns.
    concentration_unit:
        Unit of the concentration column; IC50 and Ki are reported in it.
    one_site:
        Fix the Hill slope at 1 (a strict one-site competition model).

    Results: ``table_``, ``replicates_``, ``fits_``, ``ic50_``, ``ki_``, ``b0_`` (per compound), ``dropped_``.
    """

    _response = "specific"
    _response_label = "specific binding (counts)"

    def __init__(
        self,
        radioligand: Any,
        kd: Any,
        *,
        columns: BindingColumns = BindingColumns(),
        concentration_unit: str = "nM",
        one_site: bool = False,
    ) -> None:
        super().__init__(concentration_unit=concentration_unit, fixed={"b": 1.0 if one_site else None})
        self.radioligand_nM = concentration_nM(radioligand, "radioligand")
        self.kd_nM = concentration_nM(kd, "kd")
        self.columns = columns
        self.one_site = one_site

    def _cheng_prusoff_terms(self) -> tuple[float, float, str]:
        return self.radioligand_nM, self.kd_nM, "L/Kd"

    def fit(self, data: pd.DataFrame | str | Path) -> BindingAssay:
        """Read the binding table (a frame or a file), subtract NSB, fit each competitor."""
        cols = self.columns
        df = as_table(data)
        require_columns(df, [cols.concentration, cols.total, cols.nonspecific])
        conc = numeric_column(df, cols.concentration, allow_negative=False)
        total = numeric_column(df, cols.total, allow_negative=False)
        nsb = numeric_column(df, cols.nonspecific, allow_negative=False)
        compound = text_column(df, cols.compound, default="competitor")
        _, self.dropped_ = drop_missing(df, [cols.concentration, cols.total])
        wells = pd.DataFrame({"compound": compound, "concentration": conc, "total": total, "nonspecific": nsb})
        wells = wells[wells["concentration"].notna() & wells["total"].notna()]
        src = source_name(df)
        if wells.empty:
            raise InputError(
                f"no row has both a concentration and a total count (every row misses '{cols.concentration}' or "
                f"'{cols.total}')", file=src, field=cols.total,
                valid="rows with a competitor concentration and its total bound counts",
            )
        for name, group in wells.groupby("compound", sort=True):
            if group["nonspecific"].notna().sum() == 0:
                raise InputError(
                    f"compound '{name}' has no non-specific binding value",
                    file=src, field=cols.nonspecific, valid="at least one NSB count per compound",
                )
            if not (group["concentration"] > 0).any():
                raise InputError(
                    f"compound '{name}' has no row with competitor (concentration > 0)",
                    file=src, field=cols.concentration, valid="a concentration series above 0",
                )
        mean_nsb = wells.groupby("compound")["nonspecific"].transform("mean")
        wells["nonspecific"] = wells["nonspecific"].fillna(mean_nsb)
        wells["specific"] = wells["total"] - wells["nonspecific"]
        b0 = wells[wells["concentration"] == 0].groupby("compound")["specific"].mean()
        self.b0_ = b0.to_dict()
        wells["pct_of_B0"] = 100.0 * wells["specific"] / wells["compound"].map(b0)
        self.table_ = wells
        self._fit_compounds(wells)
        return self


def require_treated_wells(
    df: pd.DataFrame,
    treated: np.ndarray,
    conc: np.ndarray,
    compound: np.ndarray,
    *,
    conc_column: str,
    compound_column: str | None,
) -> None:
    """Treated / drug rows need a compound name and a concentration above 0; name the first bad row."""
    src = source_name(df)
    for i in np.flatnonzero(treated):
        if not conc[i] > 0:
            raise InputError(
                f"row {i + 2}, column '{conc_column}': a treated well needs a concentration above 0, got "
                f"{'nothing' if np.isnan(conc[i]) else f'{conc[i]:g}'}",
                file=src, field=conc_column, value=conc[i],
                valid="a concentration > 0 (mark untreated wells as 'vehicle')",
            )
        if compound_column is not None and compound_column in df.columns and not compound[i]:
            raise InputError(
                f"row {i + 2}, column '{compound_column}' is empty for a treated well",
                file=src, field=compound_column, valid="the compound's name",
            )

