"""Western-blot densitometry: band intensities → % ER remaining → DC50 and Dmax.

The bench protocol (seed 001): MCF-7 or T47D cells treated with a SERD at 0.1–1000 nM for 6, 24 and
48 h, lysed, blotted for ERα and a loading control (β-actin or GAPDH), bands quantified by
densitometry. This module does what a scientist does next in ImageJ + Excel + Prism, and it reads the
virtual western-blot experiment's output table unchanged, so simulated and real blots share one
analysis.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..units import check_unit
from ._assays import (
    as_table,
    curve_columns,
    ed_columns,
    fit_parameter,
    new_axes,
    plot_dose_response,
    replicate_stats,
    text_column,
)
from ._base import Fitter
from ._data import drop_missing, numeric_column, require_columns, source_name

__all__ = ["WesternBlotAnalysis", "WesternColumns"]


@dataclass(frozen=True)
class WesternColumns:
    """Column names of a band-intensity table (one row per lane). Optional ones may be absent.

    The virtual western-blot experiment writes exactly the defaults: blot, lane, compound, dose (nM),
    time (h), replicate, target, loading.
    """

    blot: str = "blot"  # gel / membrane: lanes are normalised to the vehicle lanes of their own blot
    lane: str = "lane"
    target: str = "target"  # band intensity of the protein of interest (e.g. ERα)
    loading: str = "loading"  # loading-control intensity (β-actin, GAPDH)
    dose: str = "dose"  # 0 marks a vehicle lane
    time: str | None = "time"  # optional: treatment time; lanes are normalised within blot and time
    replicate: str | None = "replicate"  # optional: biological replicate; lanes sharing one are averaged
    compound: str | None = "compound"  # optional
    background: str | None = "background"  # optional: local background under the target band
    loading_background: str | None = "loading_background"  # optional: background under the loading band


class WesternBlotAnalysis(Fitter):
    """Densitometry of ER degradation blots: ratio, vehicle normalisation, replicate statistics, DC50.

    Per lane: ``ratio = (target − background) / (loading − loading_background)``, divided by the mean
    ratio of the vehicle (dose 0) lanes of the same blot and time point, giving the fold change;
    ``% remaining = 100 · fold change`` and ``% degradation = 100 · (1 − fold change)``. Lanes of one
    replicate at one dose (technical repeats) are averaged first; mean, SD, SEM and n are then taken
    over replicates. This is the ImageJ "Gels" densitometry → Excel ratio → Prism column-statistics
    route.

    DC50 and Dmax per compound and time point come from a drc ``LL.4`` fit of fold change against dose
    (replicate means of each blot's vehicle lanes included at dose 0). By default the top is fixed at
    1 — the vehicle defines it — so the curve falls from 1 to its bottom ``c``: ``Dmax = 100 · (1 − c)``
    % and ``DC50`` is the dose giving half of Dmax, i.e. the fitted ``e`` (drc ``ED(m, 50)``), with its
    delta-method SE and 95 % interval. With ``fix_top=False`` the top is fitted too and DC50 is the
    midpoint between the fitted top and bottom. Prism: "log(inhibitor) vs. response — variable slope"
    with Top constrained to 1.

    Bands at or above ``saturation`` (65535 for 16-bit images; ``None`` turns the check off) are
    flagged ``saturated``: their true intensity is unknown. A target band not above its background is
    flagged ``below_background`` and counted as 0; a loading band not above its background makes the
    lane unusable (``loading_below_background``). ``exclude_flagged=True`` drops every flagged lane.

    Results: ``table_`` (per lane, with ratio, fold_change, pct_remaining, pct_degradation, flag,
    used), ``replicates_`` (mean / SD / SEM / n of % remaining per compound, time, dose), ``fits_``,
    ``dc50_`` and ``dmax_`` (keyed by (compound, time)), ``flags_`` (flagged lanes), ``dropped_``.
    """

    def __init__(
        self,
        *,
        columns: WesternColumns = WesternColumns(),
        saturation: float | None = 65535.0,
        exclude_flagged: bool = False,
        fix_top: bool = True,
        dose_unit: str = "nM",
        time_unit: str = "h",
        target_name: str = "ERα",
    ) -> None:
        self.columns = columns
        self.saturation = saturation
        self.exclude_flagged = exclude_flagged
        self.fix_top = fix_top
        self.dose_unit = check_unit(dose_unit, "concentration", field="dose_unit")
        self.time_unit = check_unit(time_unit, "time", field="time_unit")
        self.target_name = target_name

    # ------------------------------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame | str | Path) -> WesternBlotAnalysis:
        """Read the band table (a frame or a file) and compute everything listed in the class doc."""
        lanes = self._read_lanes(as_table(data))
        lanes = self._normalise_to_vehicle(lanes)
        if not ((lanes["dose"] > 0) & lanes["used"]).any():
            raise InputError("no usable treated lane (dose > 0): there is no degradation to measure",
                             file=lanes.attrs.get("source"), field=self.columns.dose,
                             valid="vehicle lanes (dose 0) and treated lanes (dose > 0) on each blot")
        self.table_ = lanes
        self.flags_ = lanes[lanes["flag"] != ""].reset_index(drop=True)
        used = lanes[lanes["used"]]
        # technical repeats (same replicate, compound, time, dose) are averaged before statistics
        keys = ["compound", "time", "dose", "replicate"]
        per_replicate = used.groupby(keys, sort=True)[["fold_change", "blot"]].agg(
            fold_change=("fold_change", "mean"), blot=("blot", "first")
        ).reset_index()
        per_replicate["pct_remaining"] = 100.0 * per_replicate["fold_change"]
        stats = replicate_stats(per_replicate, ["compound", "time", "dose"], "pct_remaining")
        stats["pct_degradation"] = 100.0 - stats["mean"]
        self.replicates_ = stats
        self._fit_curves(per_replicate, lanes)
        self._fitted = True
        return self

    def _read_lanes(self, df: pd.DataFrame) -> pd.DataFrame:
        cols = self.columns
        require_columns(df, [cols.blot, cols.lane, cols.target, cols.loading, cols.dose])
        _, self.dropped_ = drop_missing(df, [cols.target, cols.loading])

        def present(name: str | None) -> bool:
            return name is not None and name in df.columns

        dose = numeric_column(df, cols.dose, allow_negative=False, allow_missing=False)
        target = numeric_column(df, cols.target)
        loading = numeric_column(df, cols.loading)
        zeros = np.zeros(len(df))
        time = numeric_column(df, cols.time, allow_negative=False, allow_missing=False) if present(cols.time) else zeros
        target_bg = numeric_column(df, cols.background, allow_missing=False) if present(cols.background) else zeros
        loading_bg = (
            numeric_column(df, cols.loading_background, allow_missing=False)
            if present(cols.loading_background) else zeros
        )
        blot = text_column(df, cols.blot, default="")
        lane = text_column(df, cols.lane, default="")
        lanes = pd.DataFrame(
            {
                "row": np.arange(len(df)) + 2,  # as a spreadsheet numbers it, for messages
                "blot": blot,
                "lane": lane,
                "compound": text_column(df, cols.compound, default="compound"),
                "time": time,
                "dose": dose,
                # without a replicate column every lane is its own replicate
                "replicate": text_column(df, cols.replicate, default="") if present(cols.replicate)
                else [f"{b}/{ln}" for b, ln in zip(blot, lane)],
                "target_raw": target,
                "loading_raw": loading,
                "target": target - target_bg,
                "loading": loading - loading_bg,
            }
        )
        # rows without both intensities are left out (reported in dropped_), after every row was checked
        lanes = lanes[lanes["target"].notna() & lanes["loading"].notna()].reset_index(drop=True)
        if lanes.empty:
            raise InputError(f"none of the {len(df)} row(s) has both a target and a loading intensity",
                             file=source_name(df), field=cols.target,
                             valid=f"numbers in '{cols.target}' and '{cols.loading}' for vehicle and treated lanes")
        target, loading = lanes["target_raw"].to_numpy(), lanes["loading_raw"].to_numpy()
        _reject_duplicate_lanes(lanes, source_name(df), cols)
        flags = []
        for raw_t, raw_l, t, ld in zip(target, loading, lanes["target"], lanes["loading"]):
            lane_flags = []
            if self.saturation is not None and (raw_t >= self.saturation or raw_l >= self.saturation):
                lane_flags.append("saturated")
            if not t > 0:
                lane_flags.append("below_background")
            if not ld > 0:
                lane_flags.append("loading_below_background")
            flags.append(";".join(lane_flags))
        lanes["flag"] = flags
        # a target band under its background is below detection: count it as 0, not as a negative amount
        lanes["ratio"] = np.where(lanes["loading"] > 0, lanes["target"].clip(lower=0.0) / lanes["loading"], np.nan)
        lanes["used"] = lanes["ratio"].notna() & ~(self.exclude_flagged & (lanes["flag"] != ""))
        lanes.attrs["source"] = source_name(df)
        return lanes

    def _normalise_to_vehicle(self, lanes: pd.DataFrame) -> pd.DataFrame:
        """Fold change = ratio / mean ratio of the usable vehicle lanes of the same blot and time."""
        vehicle = lanes[(lanes["dose"] == 0) & lanes["used"]]
        reference = vehicle.groupby(["blot", "time"])["ratio"].mean()
        for (blot, time), _ in lanes.groupby(["blot", "time"]):
            if (blot, time) not in reference.index or not reference[(blot, time)] > 0:
                when = f", time {time:g} {self.time_unit}" if self._has_time(lanes) else ""
                raise InputError(
                    f"blot '{blot}'{when}: no usable vehicle lane (dose 0) to normalise to",
                    file=lanes.attrs.get("source"),
                    field=self.columns.dose,
                    valid="at least one unflagged vehicle lane with a positive ratio on every blot and time point",
                )
        ref = pd.Series(list(zip(lanes["blot"], lanes["time"]))).map(reference).to_numpy(float)
        lanes["fold_change"] = lanes["ratio"] / ref
        lanes["pct_remaining"] = 100.0 * lanes["fold_change"]
        lanes["pct_degradation"] = 100.0 - lanes["pct_remaining"]
        return lanes

    def _fit_curves(self, per_replicate: pd.DataFrame, lanes: pd.DataFrame) -> None:
        """LL.4 fit of fold change vs dose per compound and time; vehicle points of its blots at dose 0."""
        from ._doseresponse import fit_curve

        fixed = {"d": 1.0} if self.fix_top else None
        self.fits_: dict[tuple[str, float], Any] = {}
        rows = []
        treated = per_replicate[per_replicate["dose"] > 0]
        for (compound, time), group in treated.groupby(["compound", "time"], sort=True):
            blots = set(lanes.loc[(lanes["compound"] == compound) & (lanes["time"] == time), "blot"])
            controls = per_replicate[
                (per_replicate["dose"] == 0) & (per_replicate["time"] == time) & per_replicate["blot"].isin(blots)
            ]
            points = pd.concat([controls, group])
            cf = fit_curve(points["dose"].to_numpy(float), points["fold_change"].to_numpy(float), model="LL.4", fixed=fixed)
            self.fits_[(compound, time)] = cf
            if cf.status == "not_converged":  # in the summary's status / reason too; said here so it is not missed
                warnings.warn(f"western-blot fit of {compound} at {time:g} {self.time_unit} did not converge: {cf.reason}",
                              RuntimeWarning, stacklevel=3)
            bottom = fit_parameter(cf, "c")
            top = fit_parameter(cf, "d")
            dmax = 100.0 * (1.0 - bottom)
            # flagged lanes among this curve's points: its own lanes and the vehicle lanes of its blots
            in_curve = (lanes["time"] == time) & lanes["blot"].isin(blots) & (
                (lanes["compound"] == compound) | (lanes["dose"] == 0)
            )
            n_flagged = int((in_curve & (lanes["flag"] != "")).sum())
            rows.append(
                {
                    "compound": compound,
                    "time": time,
                    # half of Dmax: the curve's midpoint (drc's relative ED50, e); with the top fixed at
                    # 1 that is exactly the dose where 1 - Dmax/200 remains
                    **ed_columns(cf, "DC50", 50.0),
                    "Dmax_pct": dmax,
                    "Dmax_se": 100.0 * fit_parameter(cf, "c", "std_errors"),
                    "max_observed_degradation_pct": float(
                        self.replicates_.loc[
                            (self.replicates_["compound"] == compound) & (self.replicates_["time"] == time),
                            "pct_degradation",
                        ].max()
                    ),
                    "top_fold_change": top,
                    "dose_unit": self.dose_unit,
                    "n_points": int(len(points)),
                    "n_flagged_lanes": n_flagged,
                    **curve_columns(cf),
                }
            )
        columns = ["compound", "time", "DC50", "DC50_se", "Dmax_pct", "Dmax_se", "status"]
        self._summary = pd.DataFrame(rows, columns=None if rows else columns)
        if rows:
            self._summary = self._summary.set_index(["compound", "time"])
        self.dc50_ = self._summary["DC50"].to_dict() if rows else {}
        self.dmax_ = self._summary["Dmax_pct"].to_dict() if rows else {}

    @staticmethod
    def _has_time(lanes: pd.DataFrame) -> bool:
        return bool(lanes["time"].nunique() > 1 or lanes["time"].iloc[0] != 0)

    # ------------------------------------------------------------------------------------ results
    @property
    def summary(self) -> pd.DataFrame:
        """One row per (compound, time): DC50 (± SE), Dmax (± SE), observed maximum, fit status."""
        self._require_fit()
        return self._summary.copy()

    def plot(self, ax: Any = None, *, compound: str | None = None) -> Any:
        """Paper-style figure: mean ± SEM % remaining vs dose, one colour per time point, fitted curves."""
        self._require_fit()
        ax = new_axes(ax)
        has_time = self._has_time(self.table_)
        markers = "osD^v<>p"
        compounds = sorted({c for c, _ in self.fits_} if compound is None else [compound])
        for k, name in enumerate(compounds):
            for (fit_compound, time), cf in sorted(self.fits_.items()):
                if fit_compound != name:
                    continue
                points = self.replicates_[(self.replicates_["compound"] == name) & (self.replicates_["time"] == time)]
                parts = [name] if len(compounds) > 1 or not has_time else []
                if has_time:
                    parts.append(f"{time:g} {self.time_unit}")
                plot_dose_response(
                    ax, points, cf, dose="dose", label=", ".join(parts), marker=markers[k % len(markers)], scale=100.0
                )
        ax.axhline(100.0, color="0.6", lw=0.8, ls="--")
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"dose ({self.dose_unit})")
        ax.set_ylabel(f"{self.target_name} remaining (% of vehicle)")
        ax.legend(frameon=False, fontsize=8)
        return ax


def _reject_duplicate_lanes(lanes: pd.DataFrame, source: str, cols: WesternColumns) -> None:
    """Two rows for the same lane of the same blot are a copy-paste slip; name both rows."""
    dup = lanes.duplicated(["blot", "lane"], keep=False).to_numpy()
    if dup.any():
        first, second = (lanes.iloc[i] for i in np.flatnonzero(dup)[:2])
        rows = (first["row"], second["row"])
        raise InputError(
            f"rows {rows[0]} and {rows[1]}: blot '{first['blot']}', lane '{first['lane']}' appears twice",
            file=source,
            field=cols.lane,
            value=first["lane"],
            valid="one row per lane of each blot",
        )
