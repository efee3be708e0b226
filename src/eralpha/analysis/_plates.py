"""Proliferation plates: plate layout + reader output → % viability, IC50 and GR metrics.

The bench protocol (seed 001): ER+ cells seeded in 96-well plates, treated the next day with a
dilution series, read 5–7 days later (crystal violet absorbance or CellTiter-Glo luminescence). A
*layout* file says what each well holds; the *readout* is either a long table (well → signal) or the
plate matrix a reader exports (rows A–H or A–P, columns 1–12 or 1–24).

Growth-rate inhibition (GR) metrics follow Hafner, Niepel, Chung & Sorger (2016) Nat Methods 13:521,
"Growth rate inhibition metrics correct for confounders in measuring sensitivity to cancer drugs":
``GR(c) = 2^(log2(x(c)/x0) / log2(x_ctrl/x0)) − 1`` with x0 the signal at the time of treatment. GR
curves are fitted to ``GRinf + (1 − GRinf) / (1 + (c/GEC50)^h)`` (drc ``LL.4`` with the top fixed at
1); GR50 is where that curve crosses 0.5, GRmax and GR_AOC are taken from the data as the Bioconductor
package GRmetrics does (``.GRlogisticFit``): GRmax is the lower of the mean GR values at the two
highest concentrations, GR_AOC the trapezoid area of ``1 − GR`` over log10 concentration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..units import check_unit
from ._assays import (
    as_table,
    category_column,
    curve_columns,
    ed_columns,
    fit_parameter,
    new_axes,
    plot_dose_response,
    replicate_stats,
    require_treated_wells,
    text_column,
)
from ._base import Fitter
from ._data import numeric_column, require_columns, source_name

__all__ = ["PlateAnalysis", "PlateColumns", "read_plate_readout", "PLATE_FORMATS"]

#: wells → (rows, columns) of the plate formats eralpha reads
PLATE_FORMATS: dict[int, tuple[int, int]] = {96: (8, 12), 384: (16, 24)}
_WELL = re.compile(r"^\s*([A-Za-z])\s*0*(\d{1,2})\s*$")
ROLES = ("blank", "vehicle", "treated")


@dataclass(frozen=True)
class PlateColumns:
    """Column names of the layout file and of a long-format readout."""

    well: str = "well"  # "A1", "A01" and "a1" all name the same well
    role: str = "role"  # blank (medium only) | vehicle (cells + solvent) | treated
    compound: str = "compound"
    concentration: str = "concentration"
    signal: str = "signal"  # readout: absorbance, luminescence, cell count …


def _parse_well(name: Any) -> tuple[int, int] | None:
    """``"B07"`` → (1, 7): zero-based row, one-based column; None when it is not a well name."""
    match = _WELL.match(str(name))
    if not match:
        return None
    return ord(match.group(1).upper()) - ord("A"), int(match.group(2))


def _well_name(row: int, col: int) -> str:
    return f"{chr(ord('A') + row)}{col}"


def _plate_size(positions: list[tuple[int, int]], plate: int | None) -> int:
    """The plate format: the one asked for, else the smallest that holds every well."""
    if plate is not None:
        if plate not in PLATE_FORMATS:
            raise InputError(f"unknown plate format {plate}", field="plate", value=plate, valid="96 or 384")
        return plate
    for size, (rows, cols) in PLATE_FORMATS.items():
        if all(r < rows and 1 <= c <= cols for r, c in positions):
            return size
    return 384  # the caller's range check names the well that fits no plate


def _check_on_plate(wells: pd.DataFrame, size: int, source: str, column: str, row_label: str = "row") -> None:
    rows, cols = PLATE_FORMATS[size]
    for (r, c), where in zip(wells["position"], wells["where"]):
        if not (0 <= r < rows and 1 <= c <= cols):
            raise InputError(
                f"{where}: well '{_well_name(r, c)}' is outside a {size}-well plate",
                file=source, field=column, value=_well_name(r, c),
                valid=f"wells A1–{_well_name(rows - 1, cols)}",
            )


def _reject_duplicates(wells: pd.DataFrame, source: str, column: str) -> None:
    dup = wells["well"].duplicated(keep=False).to_numpy()
    if dup.any():
        first, second = np.flatnonzero(dup)[:2]
        raise InputError(
            f"{wells['where'].iloc[first]} and {wells['where'].iloc[second]}: well '{wells['well'].iloc[first]}' "
            "appears twice",
            file=source, field=column, value=wells["well"].iloc[first], valid="each well once",
        )


def _long_wells(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Parse a column of well names; a cell that is no well name is an error naming its row."""
    require_columns(df, [column])
    positions = []
    for i, name in enumerate(df[column]):
        pos = _parse_well(name)
        if pos is None:
            raise InputError(
                f"row {i + 2}, column '{column}': '{name}' is not a well name",
                file=source_name(df), field=column, value=name, valid="a letter and a number, e.g. A1, B07, P24",
            )
        positions.append(pos)
    return pd.DataFrame(
        {
            "well": [_well_name(r, c) for r, c in positions],
            "position": positions,
            "where": [f"row {i + 2}" for i in range(len(df))],
        }
    )


def read_plate_readout(data: pd.DataFrame | str | Path, *, columns: PlateColumns = PlateColumns()) -> pd.DataFrame:
    """Reader output as a long table (well, signal, position, where), from either accepted shape.

    * long: a ``well`` column and a ``signal`` column, one row per well;
    * plate matrix, as readers export it: the first column holds the row letters (A–H or A–P), the
      other columns are headed 1–12 (or 1–24). Empty cells are wells that were not read.
    """
    df = as_table(data)
    src = source_name(df)
    if columns.well in df.columns:
        wells = _long_wells(df, columns.well)
        wells["signal"] = numeric_column(df, columns.signal)
    else:
        wells = _matrix_wells(df, columns)
    wells.attrs["source"] = src
    _reject_duplicates(wells, src, columns.well)
    return wells


def _matrix_wells(df: pd.DataFrame, columns: PlateColumns) -> pd.DataFrame:
    src = source_name(df)
    letters = [str(v).strip().upper() for v in df.iloc[:, 0]]
    numbers = [str(c).strip() for c in df.columns[1:]]
    is_matrix = all(re.fullmatch(r"[A-Z]", v) for v in letters) and all(re.fullmatch(r"\d{1,2}", c) for c in numbers)
    if not is_matrix or not numbers:
        raise InputError(
            f"the readout is neither a long table with a '{columns.well}' column nor a plate matrix",
            file=src, field=columns.well,
            valid=f"columns '{columns.well}' and '{columns.signal}', or a matrix: first column row letters A–H "
            "(A–P), header 1–12 (1–24)",
        )
    records = []
    for col_label in df.columns[1:]:
        values = numeric_column(df, col_label)
        for i, (letter, value) in enumerate(zip(letters, values)):
            if not np.isnan(value):
                pos = (ord(letter) - ord("A"), int(str(col_label).strip()))
                records.append((_well_name(*pos), pos, f"row {letter} (line {i + 2}), column {col_label}", value))
    return pd.DataFrame(records, columns=["well", "position", "where", "signal"])


class PlateAnalysis(Fitter):
    """Proliferation / viability plates: % of vehicle, IC50 per compound and, with time zero, GR metrics.

    ``viability = 100 · (signal − blank) / (vehicle − blank)`` using the plate's mean blank (medium
    only; 0 if the plate has none) and mean vehicle wells — Prism's "Normalize" with 0 % = blank and
    100 % = vehicle. Each compound's viability is fitted with drc ``LL.4`` (all four parameters free,
    vehicle wells included at concentration 0): Prism's "log(inhibitor) vs. response — variable slope
    (four parameters)". ``IC50`` is the relative one (the curve's midpoint, drc ``e``);
    ``IC50_absolute`` the concentration giving 50 % of vehicle.

    With ``time_zero`` (a readout at the time of treatment: a file, a frame or a blank-subtracted
    number) GR values and metrics (Hafner et al. 2016) are added: GR50, GRmax, GRinf, GEC50, h_GR and
    GR_AOC. x0 is the mean blank-subtracted time-zero signal of the wells the layout marks vehicle or
    treated. A well whose signal is at or below 0 after blank subtraction is set to 1e-6 · x0 before
    the log, as the reference GR tools do.

    The plate quality score Z' = 1 − 3 (SD_vehicle + SD_blank) / |mean_vehicle − mean_blank| (Zhang,
    Chung & Oldenburg 1999, J Biomol Screen 4:67) is reported when the plate has ≥ 2 blank and vehicle
    wells; above 0.5 is an excellent assay window.

    Results: ``table_`` (per well), ``replicates_`` (viability per compound and concentration),
    ``gr_replicates_``, ``fits_``, ``gr_fits_``, ``ic50_``, ``gr50_``, ``z_prime_``, ``x0_``,
    ``plate_``, ``unassigned_wells_`` (read but not in the layout, ignored).
    """

    def __init__(
        self,
        *,
        columns: PlateColumns = PlateColumns(),
        plate: int | None = None,
        concentration_unit: str = "nM",
    ) -> None:
        self.columns = columns
        self.plate = plate
        self.concentration_unit = check_unit(concentration_unit, "concentration", field="concentration_unit")

    # ------------------------------------------------------------------------------------------ fit
    def fit(
        self,
        layout: pd.DataFrame | str | Path,
        readout: pd.DataFrame | str | Path,
        time_zero: pd.DataFrame | str | Path | float | None = None,
    ) -> PlateAnalysis:
        """Join layout and readout, normalise, fit every compound; GR metrics when ``time_zero`` is given."""
        plan = self._read_layout(layout)
        reads = read_plate_readout(readout, columns=self.columns)
        t0 = None if time_zero is None or isinstance(time_zero, (int, float)) else read_plate_readout(
            time_zero, columns=self.columns
        )
        everything = [*plan["position"], *reads["position"], *([] if t0 is None else t0["position"])]
        self.plate_ = _plate_size(everything, self.plate)
        _check_on_plate(plan, self.plate_, plan.attrs["source"], self.columns.well)
        _check_on_plate(reads, self.plate_, reads.attrs["source"], self.columns.well)
        if t0 is not None:
            _check_on_plate(t0, self.plate_, t0.attrs["source"], self.columns.well)

        wells = plan.merge(reads[["well", "signal"]], on="well", how="left")
        unread = wells[wells["signal"].isna()]
        if len(unread):
            first = unread.iloc[0]
            raise InputError(
                f"layout {first['where']}: well '{first['well']}' has no reading in the readout",
                file=reads.attrs["source"], field=self.columns.signal, value=first["well"],
                valid="a signal for every well the layout lists (leave unused wells out of the layout)",
            )
        self.unassigned_wells_ = sorted(set(reads["well"]) - set(plan["well"]))
        self._normalise(wells, reads.attrs["source"])
        if time_zero is not None:
            self.x0_ = self._time_zero_signal(time_zero, t0, plan)
            self._growth_rates(wells)
        else:
            self.x0_ = None
        self.table_ = wells.drop(columns=["position"])
        self._fit_all()
        self._fitted = True
        return self

    def _read_layout(self, layout: pd.DataFrame | str | Path) -> pd.DataFrame:
        cols = self.columns
        df = as_table(layout)
        require_columns(df, [cols.well, cols.role, cols.concentration, cols.compound])
        src = source_name(df)
        plan = _long_wells(df, cols.well)
        plan["role"] = category_column(df, cols.role, ROLES)
        plan["compound"] = text_column(df, cols.compound, default="")
        plan["concentration"] = numeric_column(df, cols.concentration, allow_negative=False)
        treated = (plan["role"] == "treated").to_numpy()
        require_treated_wells(
            df, treated, plan["concentration"].to_numpy(float), plan["compound"].to_numpy(),
            conc_column=cols.concentration, compound_column=cols.compound,
        )
        plan.loc[~treated, "concentration"] = 0.0
        if not (plan["role"] == "vehicle").any():
            raise InputError("the layout has no vehicle wells to normalise to", file=src, field=cols.role,
                             valid="some wells with role 'vehicle'")
        if not treated.any():
            raise InputError("the layout has no treated wells", file=src, field=cols.role, valid="some wells with role 'treated'")
        _reject_duplicates(plan, src, cols.well)
        plan.attrs["source"] = src
        return plan

    def _normalise(self, wells: pd.DataFrame, source: str) -> None:
        blank = wells.loc[wells["role"] == "blank", "signal"]
        vehicle = wells.loc[wells["role"] == "vehicle", "signal"]
        self.blank_signal_ = float(blank.mean()) if len(blank) else 0.0
        self.vehicle_signal_ = float(vehicle.mean())
        window = self.vehicle_signal_ - self.blank_signal_
        if not window > 0:
            raise InputError(
                f"vehicle wells ({self.vehicle_signal_:g}) do not exceed blank wells ({self.blank_signal_:g})",
                file=source, field=self.columns.signal, valid="vehicle signal above blank (check the layout roles)",
            )
        spread = vehicle.std() + blank.std()
        self.z_prime_ = float(1.0 - 3.0 * spread / window) if len(blank) > 1 and len(vehicle) > 1 else float("nan")
        wells["net_signal"] = wells["signal"] - self.blank_signal_
        wells["viability_pct"] = 100.0 * wells["net_signal"] / window

    def _time_zero_signal(self, time_zero: Any, t0: pd.DataFrame | None, plan: pd.DataFrame) -> float:
        if t0 is None:
            x0 = float(time_zero)
            where = "time_zero"
        else:
            joined = plan[["well", "role"]].merge(t0[["well", "signal"]], on="well")
            cells = joined.loc[joined["role"] != "blank", "signal"]
            blank = joined.loc[joined["role"] == "blank", "signal"]
            if cells.empty:
                raise InputError(
                    "no time-zero reading of a vehicle or treated well of the layout",
                    file=t0.attrs["source"], field=self.columns.well,
                    valid="time-zero readings of wells that held cells",
                )
            # a time-zero plate without blanks shares the endpoint plate's background
            x0 = float(cells.mean() - (blank.mean() if len(blank) else self.blank_signal_))
            where = t0.attrs["source"]
        control = self.vehicle_signal_ - self.blank_signal_
        if not 0 < x0 < control:
            raise InputError(
                f"time-zero signal {x0:g} must be above 0 and below the vehicle's endpoint signal {control:g} "
                "(the control population has to grow for GR values to exist)",
                file=where, field=self.columns.signal if t0 is not None else "time_zero", valid="a blank-subtracted time-zero signal between 0 and the vehicle signal",
            )
        return x0

    def _growth_rates(self, wells: pd.DataFrame) -> None:
        x_ctrl = self.vehicle_signal_ - self.blank_signal_
        fold = np.maximum(wells["net_signal"].to_numpy(float) / self.x0_, 1e-6)
        wells["GR"] = 2.0 ** (np.log2(fold) / np.log2(x_ctrl / self.x0_)) - 1.0

    def _fit_all(self) -> None:
        from ._doseresponse import fit_curve

        cells = self.table_[self.table_["role"] != "blank"]
        treated = cells[cells["role"] == "treated"]
        vehicle = cells[cells["role"] == "vehicle"]
        self.fits_: dict[str, Any] = {}
        self.gr_fits_: dict[str, Any] = {}
        rows = []
        viability_points = []
        for compound, group in treated.groupby("compound", sort=True):
            points = pd.concat([vehicle.assign(compound=compound), group])
            viability_points.append(points)
            cf = fit_curve(points["concentration"].to_numpy(float), points["viability_pct"].to_numpy(float), model="LL.4")
            self.fits_[compound] = cf
            row = {
                "compound": compound,
                **ed_columns(cf, "IC50", 50.0),
                **ed_columns(cf, "IC50_absolute", 50.0, type="absolute"),
                "unit": self.concentration_unit,
                "n_wells": int(len(group)),
                **curve_columns(cf),
            }
            if "GR" in group:
                row.update(self._gr_metrics(compound, group))
            rows.append(row)
        self.replicates_ = replicate_stats(pd.concat(viability_points), ["compound", "concentration"], "viability_pct")
        if "GR" in treated:
            self.gr_replicates_ = replicate_stats(treated, ["compound", "concentration"], "GR")
        else:
            self.gr_replicates_ = None
        self._summary = pd.DataFrame(rows).set_index("compound")
        self.ic50_ = self._summary["IC50"].to_dict()
        self.gr50_ = self._summary["GR50"].to_dict() if "GR50" in self._summary else {}

    def _gr_metrics(self, compound: str, group: pd.DataFrame) -> dict[str, Any]:
        """GR50, GRmax, GRinf, GEC50, h_GR and GR_AOC of one compound (treated wells only, as GRmetrics)."""
        from ._doseresponse import fit_curve

        cf = fit_curve(group["concentration"].to_numpy(float), group["GR"].to_numpy(float), model="LL.4", fixed={"d": 1.0})
        self.gr_fits_[compound] = cf
        gr_inf = fit_parameter(cf, "c")
        gr50 = float(cf.ed(0.5, type="absolute"))
        if np.isnan(gr50) and gr_inf >= 0.5:
            gr50 = float("inf")  # the curve never falls to 0.5 (GRmetrics reports Inf as well)
        means = group.groupby("concentration")["GR"].mean().sort_index()
        log_c = np.log10(means.index.to_numpy(float))
        return {
            "GR50": gr50,
            "GRmax": float(means.iloc[-2:].min()),
            "GRinf": gr_inf,
            "GEC50": fit_parameter(cf, "e"),
            "h_GR": fit_parameter(cf, "b"),
            "GR_AOC": float(np.trapezoid(1.0 - means.to_numpy(float), log_c)) if len(means) > 1 else np.nan,
            "GR_status": cf.status,
        }

    # ------------------------------------------------------------------------------------ results
    @property
    def summary(self) -> pd.DataFrame:
        """One row per compound: IC50 (relative, absolute), the viability curve and, with time zero, GR metrics."""
        self._require_fit()
        return self._summary.copy()

    def plot(self, ax: Any = None, *, metric: str = "viability") -> Any:
        """Mean ± SEM per concentration and fitted curves: ``metric`` is "viability" (%) or "GR"."""
        self._require_fit()
        if metric not in {"viability", "GR"}:
            raise InputError(f"unknown metric '{metric}'", field="metric", value=metric, valid="viability, GR")
        if metric == "GR" and self.gr_replicates_ is None:
            raise InputError("GR values need a time-zero reading", field="time_zero", valid="fit(..., time_zero=FILE)")
        ax = new_axes(ax)
        points, fits = (self.replicates_, self.fits_) if metric == "viability" else (self.gr_replicates_, self.gr_fits_)
        for compound, group in points.groupby("compound", sort=True):
            plot_dose_response(ax, group, fits.get(compound), dose="concentration", label=compound)
        ax.axhline(100.0 if metric == "viability" else 0.0, color="0.6", lw=0.8, ls="--")
        ax.set_xlabel(f"concentration ({self.concentration_unit})")
        ax.set_ylabel("viability (% of vehicle)" if metric == "viability" else "GR value")
        ax.legend(frameon=False, fontsize=8)
        return ax
