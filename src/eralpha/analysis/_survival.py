"""Time-to-event analysis of a patient table: Kaplan–Meier, Cox hazard ratio, log-rank (lifelines).

One row per patient: ``time`` (to event or censoring, in ``time_unit``), ``event`` (1 = event seen,
0 = censored), ``arm``; optional numeric covariates for the Cox model.

Defaults match R's survival package, so numbers can be checked against it:

* Kaplan–Meier with Greenwood variance; the pointwise CI uses the **log** transform (R
  ``survfit(conf.type = "log")``, its default). ``ci_method="log-log"`` gives lifelines' (and SAS /
  Prism's) log(−log) interval instead.
* Median survival and its CI follow ``print.survfit``: the first time the curve (or a confidence
  band) drops to 0.5 or below; where the curve sits exactly at 0.5 the median is the midpoint to the
  next drop. NaN means "not reached".
* Cox proportional hazards with Efron ties (R ``coxph`` default), arm as a treatment-coded factor
  against an explicitly chosen reference arm; Wald 95 % CI and p for the hazard ratio.
* Log-rank test (R ``survdiff(rho = 0)``), k-sample when there are more than two arms; with
  ``strata`` it is the stratified test (R ``survdiff(Surv(time, event) ~ arm + strata(s))``: observed
  minus expected and its variance summed over strata, statsmodels ``survdiff(strata=...)``).

Reference output: for R's ``aml`` data the survival package's own test file
(therneau/survival, ``tests/doaml.Rout.save``) gives medians 31 (95 % CI 18–NA) weeks for
Maintained and 23 (8–NA) for Nonmaintained, Efron Cox coefficient 0.916 (HR 2.498, SE 0.512,
p = 0.074) and log-rank χ² = 3.4; ``tests/test_survival.py`` checks all of them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, UnknownNameError
from ._base import Fitter
from ._data import drop_missing, numeric_column, read_table, require_columns, source_name

__all__ = ["SurvivalAnalysis", "km_median", "km_survival_at", "TIME_UNITS", "CI_METHODS"]

TIME_UNITS = ("days", "weeks", "months", "years")
CI_METHODS = ("log", "log-log", "plain")
_TOL = np.sqrt(np.finfo(float).eps)  # R's tolerance for "exactly 0.5"


def _first_below_half(times: np.ndarray, curve: np.ndarray) -> float:
    """R's rule (survival:::survmean): first time ``curve`` <= 0.5; midpoint if it equals 0.5 there."""
    keep = ~np.isnan(curve) & (curve < 0.5 + _TOL)
    if not keep.any():
        return np.nan
    t, y = times[keep], curve[keep]
    if abs(y[0] - 0.5) < _TOL and np.any(y < y[0]):
        return 0.5 * (t[0] + t[np.argmax(y < y[0])])
    return float(t[0])


def _km_curve(time, event):
    """Event times, numbers at risk, events and the Kaplan–Meier curve (product-limit)."""
    t = np.asarray(time, dtype=float)
    d = np.asarray(event, dtype=float)
    times = np.unique(t[d > 0])
    ts = np.sort(t)
    at_risk = (t.size - np.searchsorted(ts, times, side="left")).astype(float)
    deaths = np.bincount(np.searchsorted(times, t[d > 0]), weights=d[d > 0], minlength=times.size)[: times.size]
    surv = np.cumprod(1.0 - deaths / at_risk) if times.size else np.array([])
    return times, at_risk, deaths, surv


def km_survival_at(time, event, at: float) -> float:
    """Kaplan–Meier survival at time ``at`` (landmark); NaN when nobody was followed that long."""
    t = np.asarray(time, dtype=float)
    if t.size == 0 or at > t.max():
        return np.nan
    times, _, _, surv = _km_curve(t, event)
    k = np.searchsorted(times, at, side="right")
    return float(surv[k - 1]) if k > 0 else 1.0


def km_median(time, event, alpha: float = 0.05, ci_method: str = "log") -> tuple[float, float, float]:
    """Kaplan–Meier median and its ``1 - alpha`` CI as R's ``print(survfit(...))`` reports them.

    Returns ``(median, lower, upper)``; NaN where not reached. Works on plain arrays, so the virtual
    trial layer can call it on simulated arms.
    """
    if ci_method not in CI_METHODS:
        raise UnknownNameError("CI method", ci_method, CI_METHODS, field="ci_method")
    times, at_risk, deaths, surv = _km_curve(time, event)
    if times.size == 0:
        return np.nan, np.nan, np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(deaths / (at_risk * (at_risk - deaths)))  # var(log S)
        z = stats.norm.ppf(1 - alpha / 2)
        se_log = np.sqrt(greenwood)
        if ci_method == "log":
            lower, upper = surv * np.exp(-z * se_log), np.minimum(1.0, surv * np.exp(z * se_log))
        elif ci_method == "plain":
            lower, upper = np.maximum(0.0, surv - z * surv * se_log), np.minimum(1.0, surv + z * surv * se_log)
        else:
            theta = se_log / np.log(surv)
            lower, upper = surv ** np.exp(-z * theta), surv ** np.exp(z * theta)
    # Where S = 0 the band is undefined (R prints NA); a NaN band never crosses 0.5.
    lower = np.where(surv > 0, lower, np.nan)
    upper = np.where(surv > 0, upper, np.nan)
    return _first_below_half(times, surv), _first_below_half(times, lower), _first_below_half(times, upper)


def _event_column(df: pd.DataFrame, column: str, src: str) -> np.ndarray:
    raw = df[column]
    mapping = {"1": 1, "0": 0, "true": 1, "false": 0, "1.0": 1, "0.0": 0, "yes": 1, "no": 0,
               "event": 1, "censored": 0}
    out = np.empty(len(raw), dtype=int)
    for i, value in enumerate(raw):
        key = str(value).strip().lower()
        if key not in mapping:
            raise InputError(
                f"row {i + 2}, column '{column}': '{value}' is not an event indicator",
                file=src, field=column, value=value, valid="1 = event, 0 = censored (or true/false)",
            )
        out[i] = mapping[key]
    return out


def _logrank(table: pd.DataFrame, strata: tuple[str, ...]) -> dict:
    """Log-rank chi2, df, p across arms; stratified (sums over the strata's combined levels) when ``strata``."""
    if not strata:
        from lifelines.statistics import multivariate_logrank_test

        lr = multivariate_logrank_test(table["time"], table["arm"], table["event"])
        return {"chi2": float(lr.test_statistic), "df": int(lr.degrees_of_freedom), "p": float(lr.p_value)}
    from statsmodels.duration.survfunc import survdiff

    stratum = table[list(strata)].astype(str).agg("|".join, axis=1).to_numpy()
    chi2, p = survdiff(table["time"].to_numpy(float), table["event"].to_numpy(float), table["arm"].to_numpy(), strata=stratum)
    return {"chi2": float(chi2), "df": int(table["arm"].nunique() - 1), "p": float(p)}


class SurvivalAnalysis(Fitter):
    """Kaplan–Meier per arm, Cox hazard ratio vs a reference arm, and the log-rank test.

    Options: column names ``time``, ``event``, ``arm``; ``covariates`` (extra numeric Cox terms);
    ``strata`` (columns the Cox baseline hazard and the log-rank test are stratified by, R
    ``strata()``, as a trial stratified at randomisation is analysed);
    ``reference`` (the comparator arm; default the first arm in the table, and the summary says
    which); ``time_unit`` (days / weeks / months / years: labels only, no conversion); ``alpha``;
    ``ci_method`` for the KM band and median CI (``"log"`` = R default).

    R equivalents: ``survfit(Surv(time, event) ~ arm)``, ``coxph(Surv(time, event) ~ arm + ...)``
    with ``relevel(arm, ref = reference)``, ``survdiff(Surv(time, event) ~ arm)``.
    Prism: "Survival" analysis (Prism's median CI uses a different method, so its limits can differ).

    Results: ``km_`` (arm -> lifelines ``KaplanMeierFitter``), ``medians_``, ``cox_`` (the
    lifelines ``CoxPHFitter``), ``hazard_ratios_``, ``logrank_`` (chi2, df, p), ``reference_``.
    """

    def __init__(
        self,
        *,
        time: str = "time",
        event: str = "event",
        arm: str = "arm",
        covariates: tuple[str, ...] = (),
        strata: tuple[str, ...] = (),
        reference: str | None = None,
        time_unit: str = "months",
        alpha: float = 0.05,
        ci_method: str = "log",
    ) -> None:
        if time_unit not in TIME_UNITS:
            raise UnknownNameError("time unit", time_unit, TIME_UNITS, field="time_unit")
        if ci_method not in CI_METHODS:
            raise UnknownNameError("CI method", ci_method, CI_METHODS, field="ci_method")
        if not 0 < alpha < 1:
            raise InputError(f"alpha must lie between 0 and 1 (got {alpha})", field="alpha", value=alpha)
        self.time, self.event, self.arm = time, event, arm
        self.covariates, self.reference, self.strata = tuple(covariates), reference, tuple(strata)
        self.time_unit, self.alpha, self.ci_method = time_unit, alpha, ci_method

    def _read(self, data) -> pd.DataFrame:
        df = read_table(data) if isinstance(data, (str, Path)) else data.copy()
        src = source_name(df)
        cols = [self.time, self.event, self.arm, *self.covariates, *self.strata]
        require_columns(df, cols)
        df, self.drop_report_ = drop_missing(df, cols, require_rows=True)
        out = pd.DataFrame({
            "time": numeric_column(df, self.time, allow_negative=False),
            "event": _event_column(df, self.event, src),
            "arm": df[self.arm].astype(str).to_numpy(),
        })
        for c in self.covariates:
            out[c] = numeric_column(df, c)
        for c in self.strata:
            out[c] = df[c].astype(str).to_numpy()
        out.attrs["source"] = src
        return out

    def fit(self, data) -> "SurvivalAnalysis":
        """Fit from a patient table (DataFrame or CSV / TSV / Parquet path)."""
        from lifelines import CoxPHFitter, KaplanMeierFitter
        table = self._read(data)
        src = table.attrs["source"]
        arms = list(dict.fromkeys(table["arm"]))
        if self.reference is not None and self.reference not in arms:
            raise UnknownNameError("arm", self.reference, arms, file=src, field="reference")
        self.reference_ = self.reference if self.reference is not None else arms[0]
        self.arms_ = [self.reference_] + [a for a in arms if a != self.reference_]
        self.data_ = table

        self.km_, rows = {}, []
        for arm in self.arms_:
            g = table[table["arm"] == arm]
            km = KaplanMeierFitter(alpha=self.alpha).fit(g["time"], g["event"], label=arm)
            self.km_[arm] = km
            median, lo, hi = km_median(g["time"], g["event"], self.alpha, self.ci_method)
            rows.append({"arm": arm, "n": len(g), "events": int(g["event"].sum()),
                         "median": median, "median_lower": lo, "median_upper": hi})
        self.medians_ = pd.DataFrame(rows).set_index("arm")

        if len(self.arms_) < 2:
            raise InputError(f"only one arm ('{self.arms_[0]}') in the table", file=src, field=self.arm,
                             valid="two or more arms to compare")
        if table["event"].sum() == 0:
            raise InputError("no events in the table: hazard ratios and log-rank need events", file=src,
                             field=self.event, valid="at least one row with event = 1")
        self.logrank_ = _logrank(table, self.strata)

        design = table[["time", "event", *self.covariates, *self.strata]].copy()
        for arm in self.arms_[1:]:
            design[f"arm={arm}"] = (table["arm"] == arm).astype(float)  # treatment coding vs reference
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines warns on separation; reported via the CI instead
            try:
                self.cox_ = CoxPHFitter(alpha=self.alpha).fit(design, "time", "event", strata=list(self.strata) or None)
            except Exception as exc:  # lifelines raises ConvergenceError and plain LinAlgErrors
                raise InputError(f"the Cox model could not be fitted ({exc})", file=src, field=self.time,
                                 valid="times and covariates of ordinary size (look for extreme or constant values)") from None
        s = self.cox_.summary
        pct = f"{100 * (1 - self.alpha):g}%"
        self.hazard_ratios_ = pd.DataFrame({
            "coef": s["coef"], "se": s["se(coef)"], "hazard_ratio": s["exp(coef)"],
            "hr_lower": s[f"exp(coef) lower {pct}"], "hr_upper": s[f"exp(coef) upper {pct}"],
            "z": s["z"], "p": s["p"],
        })
        self.hazard_ratios_.index.name = "term"
        self._fitted = True
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Per arm: n, events, KM median (CI), hazard ratio vs reference (CI, Wald p), log-rank p."""
        self._require_fit()
        out = self.medians_.copy()
        hr = self.hazard_ratios_.rename(index=lambda t: t[len("arm="):] if t.startswith("arm=") else t)
        out = out.join(hr[["hazard_ratio", "hr_lower", "hr_upper", "p"]].rename(columns={"p": "p_cox"}))
        out.loc[self.reference_, "hazard_ratio"] = 1.0
        out["logrank_p"] = self.logrank_["p"]
        out.insert(0, "time_unit", self.time_unit)
        return out

    def print_summary(self, decimals: int = 4) -> None:
        super().print_summary(decimals)
        print(f"reference arm: {self.reference_}; hazard ratio < 1 favours the other arm; "
              f"log-rank chi2 = {self.logrank_['chi2']:.4g} on {self.logrank_['df']} df, "
              f"p = {self.logrank_['p']:.4g}; median CI: {self.ci_method} transform")

    def plot(self, ax=None, *, at_risk: bool = True):
        """Kaplan–Meier curves (censoring ticks) with the number-at-risk table underneath."""
        from lifelines.plotting import add_at_risk_counts

        from ._xenograft import new_axes

        self._require_fit()
        ax = new_axes(ax, (7, 5))
        for km in self.km_.values():
            km.plot_survival_function(ax=ax, show_censors=True, ci_show=False,
                                      censor_styles={"ms": 5, "marker": "|"})
        ax.set_xlabel(f"time ({self.time_unit})")
        ax.set_ylabel("survival probability")
        ax.set_ylim(0, 1.05)
        if len(self.arms_) == 2:
            hr = self.hazard_ratios_.iloc[0]
            ax.set_title(f"{self.arms_[1]} vs {self.reference_}: HR {hr['hazard_ratio']:.2f} "
                         f"({hr['hr_lower']:.2f}–{hr['hr_upper']:.2f}), log-rank p = {self.logrank_['p']:.3g}",
                         fontsize=10)
        if at_risk:
            add_at_risk_counts(*self.km_.values(), ax=ax, rows_to_show=["At risk"])
            ax.figure.tight_layout()
        return ax
