"""Dose-response curves with R drc's statistics and Prism's vocabulary.

``fit_curve(dose, response)`` fits one curve; ``DoseResponseFitter`` fits one curve per group with
optionally shared parameters (drc's ``pmodels``) and compares potencies (drc's ``EDcomp``).

R equivalents: ``drm(resp ~ dose, fct = LL.4())`` -> ``fit_curve``; ``summary()`` -> ``CurveFit.summary``;
``confint()`` -> ``CurveFit.wald_ci()``; ``ED()`` -> ``CurveFit.ed()`` / ``ed_interval()``;
``drm(resp ~ dose, group, pmodels = data.frame(group, 1, 1, group))`` ->
``DoseResponseFitter(share=("c", "d"))``; ``EDcomp(m, c(50, 50), interval = "delta")`` ->
``relative_potency``. Prism: "log(inhibitor) vs. response -- Variable slope"; see ``CurveFit.prism``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, UnknownNameError
from ._base import Fitter
from ._data import drop_missing, numeric_column, read_table, require_columns, source_name
from ._dr_engine import CurveData, JointFit, Layout, fit_joint, unidentified_curves
from ._dr_models import MODELS, DoseResponseModel, ed_absolute, ed_relative

__all__ = [
    "MODELS",
    "CurveFit",
    "EffectiveDose",
    "RelativePotency",
    "fit_curve",
    "relative_potency",
    "DoseResponseFitter",
]

# ---------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class EffectiveDose:
    """An effective dose with its delta-method standard error and t-based interval (drc's ``ED``)."""

    p: float
    type: str
    estimate: float
    std_error: float
    lower: float
    upper: float
    level: float


@dataclass(frozen=True)
class RelativePotency:
    """ED_a / ED_b on the dose scale, as drc's ``EDcomp(..., interval = "delta")``.

    ``lower``/``upper`` is the delta-method interval on the ratio scale (drc's default);
    ``log_lower``/``log_upper`` is the interval computed for log(ratio) and back-transformed
    (always positive; drc's ``"fls"``-style). ``t_value``/``p_value`` test ratio = 1.
    """

    curve_a: str
    curve_b: str
    p: tuple[float, float]
    estimate: float
    std_error: float
    lower: float
    upper: float
    log_lower: float
    log_upper: float
    t_value: float
    p_value: float
    df: int
    level: float


@dataclass(frozen=True)
class CurveFit:
    """One fitted curve. Parameters use the model's names (drc's b, c, d, e(, f); Hill: E0, Emax, EC50, n).

    When the curve was fitted jointly with others (shared parameters, or pooled variance), standard
    errors, ``residual_se`` and ``df`` are those of the joint model, exactly as drc reports them.
    """

    model: DoseResponseModel
    group: str
    dose: np.ndarray
    response: np.ndarray
    weights: np.ndarray
    status: str
    reason: str
    joint: JointFit | None = None
    index: int = 0  # this curve's position in ``joint``
    one_of_many: bool = False  # fitted alone but reported beside other curves: label as "b:GROUP"

    # ------------------------------------------------------------------ parameters
    @property
    def _slots(self) -> dict[str, int]:
        return self.joint.layout.slots[self.index] if self.joint is not None else {}

    @property
    def fitted(self) -> bool:
        return self.status in ("converged", "ambiguous")

    @property
    def params(self) -> dict[str, float]:
        """Every parameter of the model (fixed ones included), NaN when the fit failed."""
        if self.joint is None or not self.fitted:
            return {n: float("nan") for n in self.model.names}
        return self.joint.layout.curve_params(self.joint.theta, self.index)

    @property
    def fixed(self) -> dict[str, float]:
        return dict(self.joint.layout.fixed) if self.joint is not None else {}

    @property
    def std_errors(self) -> dict[str, float]:
        """Standard errors of the estimated parameters (fixed ones absent)."""
        if self.joint is None:
            return {}
        se = self.joint.std_errors if self.fitted else np.full(len(self.joint.theta), np.nan)
        return {name: float(se[i]) for name, i in self._slots.items()}

    @property
    def labels(self) -> dict[str, str]:
        """Parameter name -> label in the joint model (``"b:GROUP"`` when per-curve, ``"c"`` when shared)."""
        if self.joint is None:
            return {}
        if self.one_of_many:
            return {name: f"{name}:{self.group}" for name in self._slots}
        return {name: self.joint.layout.labels[i] for name, i in self._slots.items()}

    @property
    def residual_se(self) -> float:
        return self.joint.residual_se if (self.joint is not None and self.fitted) else float("nan")

    @property
    def df(self) -> int:
        return int(self.joint.df) if self.joint is not None else 0

    @property
    def rss(self) -> float:
        """Residual sum of squares of this curve's own points (weighted)."""
        if not self.fitted:
            return float("nan")
        r = self.response - self.predict(self.dose)
        return float(np.sum(self.weights * r * r))

    @property
    def prism(self) -> dict[str, float]:
        """Prism's names: Bottom, Top, LogIC50 (log10 of the relative ED50), HillSlope (= -b)."""
        return self.model.prism(self.params)

    @property
    def prism_std_errors(self) -> dict[str, float]:
        """Delta-method standard errors of the Prism parameters (exact reparameterisation of drc's)."""
        fixed = set(self.fixed)
        out = {}
        for key in self.prism:
            g = self._gradient(lambda th, k=key: self.model.prism(self._params_at(th))[k])
            value = self._se_from_gradient(g)
            if key in ("Bottom", "Top") and {"Bottom": "c", "Top": "d"}.get(key) in fixed and self.model.name != "Hill":
                continue  # a fixed limit has no standard error
            out[key] = value
        return out

    @property
    def ic50(self) -> float:
        """The inflection point e (LL.4 / LL.3), EC50 (Hill) or computed relative ED50 (LL.5)."""
        return self.model.inflection_ed50(self.params) if self.fitted else float("nan")

    # ------------------------------------------------------------------ predictions and effective doses
    def predict(self, dose) -> np.ndarray:
        """Fitted mean response at ``dose`` (dose 0 gives the curve's limit)."""
        dose = np.asarray(dose, dtype=float)
        if not self.fitted:
            return np.full(dose.shape, np.nan)
        return self.model.predict(dose, self.params)

    def ed(self, p: float, type: str = "relative") -> float:
        """drc's ``ED``: ``"relative"``: dose giving p % of the response range, counted from control;
        ``"absolute"``: dose at which the curve reaches the response level ``p``."""
        return self._ed_at(self.joint.theta if self.joint is not None else None, p, type)

    def ed_interval(self, p: float, type: str = "relative", level: float = 0.95) -> EffectiveDose:
        """ED with delta-method SE and t interval, like ``ED(m, p, interval = "delta")``."""
        est = self.ed(p, type)
        se = self._se_from_gradient(self._gradient(lambda th: self._ed_at(th, p, type)))
        t = _t_quantile(level, self.df)
        return EffectiveDose(p, type, est, se, est - t * se, est + t * se, level)

    def _ed_at(self, theta, p: float, type: str) -> float:
        if theta is None or not self.fitted:
            return float("nan")
        q = self.model.as_ll5(self._params_at(theta))
        if type == "relative":
            if not 0.0 < p < 100.0:
                raise InputError("a relative effective dose needs 0 < p < 100", field="p", value=p, valid="0 < p < 100")
            return ed_relative(q, p)
        if type == "absolute":
            return ed_absolute(q, p)
        raise InputError(f"unknown ED type '{type}'", field="type", value=type, valid="relative, absolute")

    # ------------------------------------------------------------------ intervals
    def wald_ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """t-based Wald intervals (df = n - p), as drc's ``confint``."""
        if self.joint is None or not self.fitted:
            return {n: (float("nan"), float("nan")) for n in self._slots}
        lo, hi = self.joint.wald_interval(level)
        return {name: (float(lo[i]), float(hi[i])) for name, i in self._slots.items()}

    def profile_ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Profile-likelihood intervals (R ``confint`` on an ``nls`` fit: F/t cutoff on the profile RSS)."""
        if self.joint is None:
            return {}
        return {name: self._profile(i, level) for name, i in self._slots.items()}

    def _profile(self, index: int, level: float) -> tuple[float, float]:
        return self.joint.profile(index, level)

    def profile_notes(self, level: float = 0.95) -> dict[str, dict[str, str]]:
        """Why a profile bound is open (inf, 0 for a positive parameter) or NaN: {name: {side: text}}."""
        if self.joint is None or self.status != "converged":
            return {}
        self.profile_ci(level)
        notes = {name: self.joint.profile_notes.get((i, level)) for name, i in self._slots.items()}
        return {name: dict(n) for name, n in notes.items() if n}

    @property
    def summary(self) -> pd.DataFrame:
        """drc's summary table: estimate, SE, t, p, Wald and profile intervals, one row per parameter."""
        return _parameter_table([self])

    # ------------------------------------------------------------------ delta method helpers
    def _params_at(self, theta: np.ndarray) -> dict[str, float]:
        return self.joint.layout.curve_params(theta, self.index)

    def _gradient(self, fn) -> np.ndarray:
        """Central-difference gradient of ``fn(theta)`` over the joint parameter vector."""
        if self.joint is None or not self.fitted:
            return np.full(0, np.nan)
        theta = self.joint.theta
        se = self.joint.std_errors
        g = np.zeros(theta.size)
        for i in range(theta.size):
            h = 1e-5 * (se[i] if np.isfinite(se[i]) and se[i] > 0 else max(abs(theta[i]), 1e-8))
            tp, tm = theta.copy(), theta.copy()
            with np.errstate(all="ignore"):  # wildly uncertain parameters may overflow; SE is then NaN/inf
                tp[i] += h
                tm[i] -= h
                g[i] = (fn(tp) - fn(tm)) / (2 * h)
        return g

    def _se_from_gradient(self, g: np.ndarray) -> float:
        if self.joint is None or g.size == 0 or not np.all(np.isfinite(self.joint.cov)):
            return float("nan")
        return float(np.sqrt(max(g @ self.joint.cov @ g, 0.0)))


def _t_quantile(level: float, df: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2.0, df)) if df > 0 else float("nan")


# ---------------------------------------------------------------------------------------- validation
def _resolve_model(model: str | DoseResponseModel) -> DoseResponseModel:
    if isinstance(model, DoseResponseModel):
        return model
    if model not in MODELS:
        raise UnknownNameError("dose-response model", str(model), MODELS, field="model")
    return MODELS[model]


def _check_names(model: DoseResponseModel, names, what: str) -> None:
    for n in names:
        if n not in model.names:
            raise UnknownNameError(f"{model.name} parameter", str(n), model.names, field=what)


def _as_array(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be numbers", field=name, value=values) from None
    return arr


def _curve_data(group: str, dose, response, weights=None) -> CurveData:
    x, y = _as_array(dose, "dose"), _as_array(response, "response")
    if x.size != y.size:
        raise InputError(f"dose has {x.size} values but response has {y.size}", field="response")
    w = np.ones_like(x) if weights is None else _as_array(weights, "weights")
    if w.size != x.size:
        raise InputError(f"weights has {w.size} values but dose has {x.size}", field="weights")
    for name, arr in (("dose", x), ("response", y), ("weights", w)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"value {i} of '{name}' is {arr[i]}", field=name, value=arr[i], valid="finite numbers")
    if (x < 0).any():
        i = int(np.flatnonzero(x < 0)[0])
        raise InputError(f"value {i} of 'dose' is negative ({x[i]:g})", field="dose", value=x[i], valid="doses >= 0")
    if (w <= 0).any():
        i = int(np.flatnonzero(w <= 0)[0])
        raise InputError(f"value {i} of 'weights' is {w[i]:g}", field="weights", value=w[i], valid="weights > 0")
    return CurveData(str(group), x, y, w)


def _data_problem(cd: CurveData, n_params: int) -> str:
    """Why a curve cannot be fitted with ``n_params`` free per-curve parameters ('' if it can)."""
    if cd.n_doses < n_params:
        return f"{cd.n_doses} distinct dose(s) for {n_params} free parameters (need at least {n_params})"
    if cd.dose.size <= n_params:
        return f"{cd.dose.size} observation(s) for {n_params} free parameters leave no residual degrees of freedom"
    return ""


def _range_problem(fit: CurveFit) -> str:
    """Prism-style ambiguity: an ED50 far outside the doses tested is not determined by the data."""
    pos = fit.dose[fit.dose > 0]
    ic50 = fit.ic50
    if pos.size and np.isfinite(ic50) and not (pos.min() / 10.0 <= ic50 <= pos.max() * 10.0):
        return f"the ED50 ({ic50:.3g}) lies more than 10-fold outside the tested doses ({pos.min():.3g}-{pos.max():.3g})"
    if not np.isfinite(ic50):
        return "the ED50 is not finite"
    return ""


def _finish(fit: CurveFit) -> CurveFit:
    if fit.status == "converged":
        why = _range_problem(fit)
        if why:
            return dataclasses.replace(fit, status="ambiguous", reason=why)
    return fit


# ---------------------------------------------------------------------------------------- single curve
def fit_curve(
    dose,
    response,
    model: str | DoseResponseModel = "LL.4",
    fixed: Mapping[str, float] | None = None,
    weights=None,
    *,
    lower: Mapping[str, float] | None = None,
    upper: Mapping[str, float] | None = None,
    se_method: str = "hessian",
) -> CurveFit:
    """Fit one dose-response curve by (weighted) least squares; never raises for data that cannot be fitted.

    R: ``drm(response ~ dose, fct = LL.4(fixed = ...), weights = ...)``. Weights multiply the squared
    residuals (``nls`` convention, w = 1/variance); drc instead divides residuals by its weights, so drc's
    ``weights = s`` equals ``weights = 1 / s**2`` here. ``fixed`` pins parameters (e.g. ``{"c": 0}``);
    ``lower``/``upper`` bound them. ``se_method="gauss-newton"`` gives Prism's J'J standard errors
    instead of drc's observed-information ones.
    """
    m = _resolve_model(model)
    cd = _curve_data("curve", dose, response, weights)
    return _fit_single(m, cd, dict(fixed or {}), dict(lower or {}), dict(upper or {}), se_method)


def _fit_single(m, cd, fixed, lower, upper, se_method) -> CurveFit:
    _check_names(m, [*fixed, *lower, *upper], "fixed")
    if se_method not in ("hessian", "gauss-newton"):
        raise InputError(f"unknown se_method '{se_method}'", field="se_method", value=se_method, valid="hessian, gauss-newton")
    layout = Layout(m, (cd.group,), {**m.defaults, **fixed}, ())
    why = _data_problem(cd, len(layout.labels))
    if why:
        return CurveFit(m, cd.group, cd.dose, cd.response, cd.weights, "insufficient_data", why, None)
    joint = fit_joint(layout, (cd,), lower=lower, upper=upper, se_method=se_method)
    return _finish(CurveFit(m, cd.group, cd.dose, cd.response, cd.weights, joint.status, joint.reason, joint, 0))


# ---------------------------------------------------------------------------------------- potency
def relative_potency(
    a: CurveFit, b: CurveFit, p: float | tuple[float, float] = 50.0, *, type: str = "relative", level: float = 0.95
) -> RelativePotency:
    """ED_a(p_a) / ED_b(p_b) with a delta-method SE, as drc's ``EDcomp(m, c(p_a, p_b), interval = "delta")``.

    Curves from the same joint fit use its full covariance (including shared parameters); curves from
    different fits are independent. The ratio is on the dose scale: > 1 means curve b is more potent.
    """
    pa, pb = (p, p) if np.isscalar(p) else tuple(p)
    ea, eb = a.ed(pa, type), b.ed(pb, type)
    ratio = ea / eb
    if a.joint is not None and a.joint is b.joint and a.fitted:
        g = a._gradient(lambda th: a._ed_at(th, pa, type) / b._ed_at(th, pb, type))
        se = a._se_from_gradient(g)
        df = a.df
    else:
        sa, sb = a.ed_interval(pa, type).std_error, b.ed_interval(pb, type).std_error
        se = float(abs(ratio) * np.sqrt((sa / ea) ** 2 + (sb / eb) ** 2))
        df = min(a.df, b.df)  # conservative when the two variances were estimated separately
    t = _t_quantile(level, df)
    t_value = (ratio - 1.0) / se if se > 0 else float("nan")
    p_value = float(2 * stats.t.sf(abs(t_value), df)) if df > 0 and np.isfinite(t_value) else float("nan")
    log_se = se / ratio if ratio > 0 else float("nan")
    return RelativePotency(
        a.group, b.group, (pa, pb), float(ratio), se, ratio - t * se, ratio + t * se,
        float(ratio * np.exp(-t * log_se)), float(ratio * np.exp(t * log_se)), float(t_value), p_value, int(df), level,
    )


# ---------------------------------------------------------------------------------------- tables
def _parameter_table(fits: Sequence[CurveFit], level: float = 0.95, profile: bool = True) -> pd.DataFrame:
    """One row per joint-model parameter (shared ones once), like drc's ``summary`` + ``confint``."""
    rows: dict[str, dict] = {}
    for f in fits:
        if f.joint is None:
            continue
        se, wald = f.std_errors, f.wald_ci(level)
        prof = f.profile_ci(level) if (profile and f.status == "converged") else {}
        for name, value in f.params.items():
            if name not in f.labels:
                continue
            label = f.labels[name]
            if label in rows:
                continue
            est = value
            t_val = est / se[name] if se[name] > 0 else float("nan")
            rows[label] = {
                "curve": f.group if (":" in label or len(fits) == 1) else "(shared)",
                "parameter": name,
                "estimate": est,
                "std_error": se[name],
                "t_value": t_val,
                "p_value": float(2 * stats.t.sf(abs(t_val), f.df)) if f.df > 0 and np.isfinite(t_val) else float("nan"),
                "wald_lower": wald[name][0],
                "wald_upper": wald[name][1],
                "profile_lower": prof.get(name, (np.nan, np.nan))[0],
                "profile_upper": prof.get(name, (np.nan, np.nan))[1],
                "status": f.status,
            }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "label"
    return df


def _group_order(values: pd.Series) -> list:
    """drc's curve order: numeric ids numerically, names alphabetically."""
    uniq = list(pd.unique(values))
    try:
        return sorted(uniq, key=lambda v: float(v))
    except (TypeError, ValueError):
        return sorted(uniq, key=str)


# ---------------------------------------------------------------------------------------- fitter
class DoseResponseFitter(Fitter):
    """Fit one dose-response curve per group, optionally sharing parameters between curves.

    R: ``drm(response ~ dose, group, data, fct = LL.4(), pmodels = ...)``; ``share=("c", "d")`` is
    ``pmodels = data.frame(group, 1, 1, group)`` (common lower and upper limits). Without sharing, each
    curve is fitted on its own (one bad curve cannot spoil the others) and, with ``pool=True`` (drc's
    behaviour: one model, one residual variance), standard errors use the residual variance pooled over
    the curves that converged. ``pool=False`` gives each curve its own variance, like separate fits.
    Prism: "log(inhibitor) vs. response -- Variable slope", with "share" = Prism's "shared value for all
    data sets" constraint.
    """

    def __init__(
        self,
        model: str | DoseResponseModel = "LL.4",
        share: Sequence[str] = (),
        fixed: Mapping[str, float] | None = None,
        *,
        pool: bool = True,
        lower: Mapping[str, float] | None = None,
        upper: Mapping[str, float] | None = None,
        se_method: str = "hessian",
        level: float = 0.95,
        profile: bool = True,
    ) -> None:
        self.model = _resolve_model(model)
        self.share = tuple(share)
        self.fixed = dict(fixed or {})
        _check_names(self.model, self.share, "share")
        _check_names(self.model, self.fixed, "fixed")
        for name in self.share:
            if name in self.fixed or name in self.model.defaults:
                raise InputError(f"parameter '{name}' is fixed, so it cannot also be shared", field="share", value=name)
        self.pool, self.lower, self.upper = pool, dict(lower or {}), dict(upper or {})
        self.se_method, self.level, self.profile = se_method, level, profile

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: pd.DataFrame | str | Path,
        dose: str = "dose",
        response: str = "response",
        group: str | None = None,
        weights: str | None = None,
    ) -> DoseResponseFitter:
        """Fit the table ``data`` (a DataFrame or a CSV/TSV/Parquet path); returns ``self``."""
        df = read_table(data) if isinstance(data, (str, Path)) else data
        require_columns(df, [dose, response, group, weights])
        used = [c for c in (dose, response, group, weights) if c is not None]
        numeric_column(df, dose, allow_negative=False)  # names file, row and column of a bad cell
        numeric_column(df, response)
        if weights is not None:
            numeric_column(df, weights, allow_negative=False)
        df, self.drop_report_ = drop_missing(df, used, require_rows=True)
        self.source_ = source_name(df)
        self.columns_ = {"dose": dose, "response": response, "group": group, "weights": weights}
        curves = []
        if group is None:
            curves.append(self._curve(df, "all", dose, response, weights))
        else:
            for g in _group_order(df[group]):
                curves.append(self._curve(df[df[group] == g], g, dose, response, weights))
        if len(curves) == 1 and self.share:
            self.share = ()  # sharing needs two curves; one curve is just a curve
        fits = self._fit_joint(curves) if self.share else self._fit_separately(curves)
        self.curves_: dict[str, CurveFit] = {f.group: f for f in fits}
        self._tables: dict[bool, pd.DataFrame] = {}
        self._fitted = True
        return self

    def _curve(self, df, g, dose, response, weights) -> CurveData:
        w = None if weights is None else df[weights].to_numpy(float)
        return _curve_data(str(g), df[dose].to_numpy(float), df[response].to_numpy(float), w)

    def _fit_separately(self, curves: list[CurveData]) -> list[CurveFit]:
        fits = [_fit_single(self.model, cd, self.fixed, self.lower, self.upper, self.se_method) for cd in curves]
        if len(fits) > 1:
            fits = [dataclasses.replace(f, one_of_many=True) for f in fits]
        ok = [f for f in fits if f.status == "converged" and f.joint.df > 0 and f.joint.sigma2 > 0]
        if not self.pool or len(ok) < 2:
            return fits
        rss = sum(f.joint.rss for f in ok)
        df = sum(f.joint.df for f in ok)
        s2 = rss / df
        pooled = []
        for f in fits:
            if f in ok:
                ratio = s2 / f.joint.sigma2
                joint = dataclasses.replace(f.joint, cov=f.joint.cov * ratio, df=df, pooled_sigma2=s2)
                f = dataclasses.replace(f, joint=joint)
            pooled.append(f)
        return pooled

    def _fit_joint(self, curves: list[CurveData]) -> list[CurveFit]:
        fixed = {**self.model.defaults, **self.fixed}
        per_curve = len([n for n in self.model.names if n not in fixed and n not in self.share])
        usable, failed = [], {}
        for cd in curves:
            why = _data_problem(cd, per_curve) if per_curve else ""
            if why:
                failed[cd.group] = CurveFit(self.model, cd.group, cd.dose, cd.response, cd.weights, "insufficient_data", why)
            else:
                usable.append(cd)
        out: dict[str, CurveFit] = dict(failed)
        for attempt in range(len(curves)):
            if not usable:
                break
            layout = Layout(self.model, tuple(cd.group for cd in usable), fixed, self.share)
            n = sum(cd.dose.size for cd in usable)
            if n <= len(layout.labels):
                why = f"{n} observations for {len(layout.labels)} parameters leave no residual degrees of freedom"
                for cd in usable:
                    out[cd.group] = CurveFit(self.model, cd.group, cd.dose, cd.response, cd.weights, "insufficient_data", why)
                break
            joint = fit_joint(layout, tuple(usable), lower=self.lower, upper=self.upper, se_method=self.se_method)
            bad = unidentified_curves(joint) if joint.status == "ambiguous" else []
            if bad and len(bad) < len(usable):
                # one flat or uninformative curve must not spoil the shared fit of the others
                for gi in bad:
                    cd = usable[gi]
                    why = "the data do not determine this curve's own parameters; left out of the shared fit"
                    out[cd.group] = CurveFit(self.model, cd.group, cd.dose, cd.response, cd.weights, "ambiguous", why)
                usable = [cd for gi, cd in enumerate(usable) if gi not in bad]
                continue
            alone = len(usable) == 1 and len(curves) > 1  # label "b:GROUP" even if the others dropped out
            for gi, cd in enumerate(usable):
                fit = CurveFit(self.model, cd.group, cd.dose, cd.response, cd.weights, joint.status, joint.reason,
                               joint, gi, one_of_many=alone)
                out[cd.group] = _finish(fit)
            break
        return [out[cd.group] for cd in curves]

    # ------------------------------------------------------------------ results
    @property
    def estimates_(self) -> pd.Series:
        """Estimates keyed by joint-model label: shared ``"c"``, per-curve ``"b:GROUP"``."""
        self._require_fit()
        return self._table(False)["estimate"]

    @property
    def std_errors_(self) -> pd.Series:
        self._require_fit()
        return self._table(False)["std_error"]

    @property
    def ci_(self) -> pd.DataFrame:
        """Wald (t, df = n - p) and profile-likelihood intervals at ``level``."""
        self._require_fit()
        return self.summary[["wald_lower", "wald_upper", "profile_lower", "profile_upper"]]

    @property
    def ic50_(self) -> pd.Series:
        """Each curve's relative ED50 (e for LL.4/LL.3), NaN for curves that failed."""
        self._require_fit()
        return pd.Series({g: f.ic50 for g, f in self.curves_.items()}, name="ic50")

    def _table(self, profile: bool) -> pd.DataFrame:
        # profiles cost a few refits per parameter; estimates alone do not need them
        cache = self.__dict__.setdefault("_tables", {})
        if profile not in cache:
            cache[profile] = _parameter_table(list(self.curves_.values()), self.level, profile)
        return cache[profile]

    @property
    def summary(self) -> pd.DataFrame:
        """One row per parameter of the joint model (drc's ``summary`` with ``confint`` columns)."""
        self._require_fit()
        return self._table(self.profile)

    @property
    def curve_table(self) -> pd.DataFrame:
        """One row per curve: status, reason, ED50 with its delta-method SE, residual SE and df."""
        self._require_fit()
        rows = []
        for g, f in self.curves_.items():
            ed50 = f.ed_interval(50.0, level=self.level) if f.fitted else None
            rows.append({
                "curve": g, "status": f.status, "reason": f.reason, "n": int(f.dose.size),
                "ic50": f.ic50, "ic50_se": ed50.std_error if ed50 else np.nan,
                "residual_se": f.residual_se, "df": f.df,
            })
        return pd.DataFrame(rows).set_index("curve")

    def relative_potency(self, a: str, b: str, p: float | tuple[float, float] = 50.0, **kwargs) -> RelativePotency:
        """ED_a / ED_b with a delta-method interval (drc ``EDcomp``); see :func:`relative_potency`."""
        self._require_fit()
        for name in (a, b):
            if str(name) not in self.curves_:
                raise UnknownNameError("curve", str(name), self.curves_, field="group")
        return relative_potency(self.curves_[str(a)], self.curves_[str(b)], p, **kwargs)

    def plot(self, ax=None):
        """Data points and fitted curves on a log-dose axis; dose 0 drawn at a break left of the data."""
        from ._dr_plot import plot_curves

        self._require_fit()
        return plot_curves(list(self.curves_.values()), ax=ax, xlabel=self.columns_["dose"], ylabel=self.columns_["response"])
