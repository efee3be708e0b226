"""Least-squares engine behind the dose-response fits: one or several curves, shared parameters.

The statistics follow R drc for continuous responses:

* estimates minimise the (weighted) residual sum of squares RSS;
* ``vcov = s^2 * inverse(H / 2)`` with ``s^2 = RSS / df`` and ``H`` the Hessian of RSS at the optimum
  (observed information -- what drc gets from ``optim(hessian = TRUE)``), *not* the Gauss-Newton
  ``J^T J`` that Prism and ``scipy.optimize.curve_fit`` use (available here as ``se_method="gauss-newton"``);
* profile intervals as R's ``confint`` on an ``nls`` fit: the set of values where
  ``RSS_profile(theta_k) - RSS <= s^2 * t(df, 1 - alpha/2)^2``.

A *layout* maps one global vector of free parameters to the full parameter set of each curve, the way
drc's ``pmodels`` does: a shared parameter is one entry used by every curve, a per-curve one has an
entry per curve (labelled ``"b:GROUP"`` like drc's ``b:Bentazone``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from ..errors import PlausibilityError
from ._dr_models import DoseResponseModel

__all__ = ["CurveData", "Layout", "JointFit", "StartRecord", "fit_joint", "profile_interval"]

MAX_NFEV = 2000  # safety cap on residual evaluations per start; a start that creeps is stopped long before
# creeping: the least-squares optimum lies at infinity (a step of unbounded slope, an asymptote or ED50 that
# runs off beyond the doses), so the optimiser keeps buying ever smaller reductions of RSS. A well-posed fit
# converges superlinearly in well under CREEP_AFTER evaluations; one still improving after that, by under
# CREEP_RELATIVE of RSS per CREEP_WINDOW evaluations and at a rate falling by less than CREEP_DECAY-fold a
# window, is creeping and is stopped where it is.
CREEP_AFTER = 100
CREEP_WINDOW = 50
CREEP_RELATIVE = 1e-3
CREEP_DECAY = 10.0
_SHAPE = {"b", "e", "f", "n", "EC50"}  # slope, potency and asymmetry: not the plateaus (c, d; E0, Emax)


@dataclass(frozen=True)
class StartRecord:
    """What the optimiser did from one starting point (the fitter's own diagnostics).

    ``outcome``: "converged" (a least-squares tolerance met), "creeping" (stopped: RSS still falling
    slowly towards a limit at infinity, see ``CREEP_*``), "max_nfev" (the safety cap of ``MAX_NFEV``
    evaluations was hit) or "failed" (the optimiser raised or returned a non-finite point).
    ``moving``: for a creeping start, the parameters still moving when it was stopped.
    """

    nfev: int
    outcome: str
    rss: float
    moving: tuple[str, ...] = ()


@dataclass(frozen=True)
class CurveData:
    """One curve's observations (weights multiply squared residuals, as in R's ``nls``)."""

    group: str
    dose: np.ndarray
    response: np.ndarray
    weights: np.ndarray

    @property
    def n_doses(self) -> int:
        return int(np.unique(self.dose).size)


@dataclass(frozen=True)
class Layout:
    """Which model parameters are fixed, shared or per-curve, and where each lives in the global vector."""

    model: DoseResponseModel
    groups: tuple[str, ...]
    fixed: dict[str, float]
    shared: tuple[str, ...]
    labels: tuple[str, ...] = field(init=False)
    slots: tuple[dict[str, int], ...] = field(init=False)

    def __post_init__(self) -> None:
        labels: list[str] = []
        slots: list[dict[str, int]] = [{} for _ in self.groups]
        single = len(self.groups) == 1
        for name in self.free_names:
            if name in self.shared or single:
                for s in slots:
                    s[name] = len(labels)
                labels.append(name)
            else:
                for gi, g in enumerate(self.groups):
                    slots[gi][name] = len(labels)
                    labels.append(f"{name}:{g}")
        object.__setattr__(self, "labels", tuple(labels))
        object.__setattr__(self, "slots", tuple(slots))

    @property
    def free_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.model.names if n not in self.fixed)

    def curve_params(self, theta: np.ndarray, gi: int) -> dict[str, float]:
        p = dict(self.fixed)
        p.update({name: float(theta[i]) for name, i in self.slots[gi].items()})
        return p

    def is_positive(self) -> np.ndarray:
        """Which global entries are optimised on the log scale (ED50 / EC50 / asymmetry)."""
        base = [lab.split(":", 1)[0] for lab in self.labels]
        return np.array([b in self.model.positive for b in base])


@dataclass
class _Problem:
    layout: Layout
    curves: tuple[CurveData, ...]

    def residuals_and_jacobian(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """sqrt(w) (f - y) stacked over curves, and its Jacobian with respect to ``theta``."""
        blocks_r, blocks_j = [], []
        for gi, cd in enumerate(self.curves):
            y, jac = self.layout.model.evaluate(cd.dose, self.layout.curve_params(theta, gi))
            sw = np.sqrt(cd.weights)
            blocks_r.append(sw * (y - cd.response))
            J = np.zeros((cd.dose.size, theta.size))
            for name, i in self.layout.slots[gi].items():
                J[:, i] = sw * jac[name]
            blocks_j.append(J)
        return np.concatenate(blocks_r), np.vstack(blocks_j)

    def rss(self, theta: np.ndarray) -> float:
        r, _ = self.residuals_and_jacobian(theta)
        return float(r @ r)

    def half_rss_gradient(self, theta: np.ndarray) -> np.ndarray:
        r, J = self.residuals_and_jacobian(theta)
        return J.T @ r

    @property
    def n_obs(self) -> int:
        return sum(cd.dose.size for cd in self.curves)


# ---------------------------------------------------------------------------------------- fitting
def _to_internal(theta: np.ndarray, positive: np.ndarray) -> np.ndarray:
    return np.where(positive, np.log(np.where(positive, theta, 1.0)), theta)


def _to_natural(u: np.ndarray, positive: np.ndarray) -> np.ndarray:
    return np.where(positive, np.exp(np.where(positive, u, 0.0)), u)


def _ll_self_start(cd: CurveData) -> dict[str, float]:
    """Starting values for (b, c, d, e) in the spirit of drc's log-logistic self-starter.

    Limits just outside the observed range; slope and ED50 from the straight line
    log((d - y) / (y - c)) = b log x - b log e over the positive doses.
    """
    x, y = cd.dose, cd.response
    lo, hi = float(np.min(y)), float(np.max(y))
    span = (hi - lo) or max(abs(hi), 1.0)
    c0, d0 = lo - 0.01 * span, hi + 0.01 * span
    pos = x > 0
    b0, e0 = 1.0, float(np.exp(np.median(np.log(x[pos])))) if pos.any() else 1.0
    if np.unique(x[pos]).size >= 2:
        t = np.log((d0 - y[pos]) / (y[pos] - c0))
        slope, intercept = np.polyfit(np.log(x[pos]), t, 1)
        if np.isfinite(slope) and abs(slope) > 1e-8:
            b0 = float(np.clip(slope, -20, 20))
            log_e = -intercept / slope
            lx = np.log(x[pos])
            e0 = float(np.exp(np.clip(log_e, lx.min() - 2.0, lx.max() + 2.0)))
    return {"b": b0, "c": c0, "d": d0, "e": e0}


def _model_start(model: DoseResponseModel, ll: dict[str, float]) -> dict[str, float]:
    if model.name == "Hill":
        return {"E0": ll["c"], "Emax": ll["d"] - ll["c"], "EC50": ll["e"], "n": -ll["b"]}
    return {**ll, "f": 1.0}


def _starting_vectors(problem: _Problem) -> list[np.ndarray]:
    """A few starting points: the self-starter, then variations of slope and ED50 around it."""
    lay = problem.layout
    per_curve = [_model_start(lay.model, _ll_self_start(cd)) for cd in problem.curves]
    base = np.zeros(len(lay.labels))
    for i, lab in enumerate(lay.labels):
        name = lab.split(":", 1)[0]
        users = [gi for gi, s in enumerate(lay.slots) if s.get(name) == i]
        vals = [per_curve[gi][name] for gi in users]
        base[i] = np.exp(np.mean(np.log(vals))) if name in lay.model.positive else float(np.mean(vals))
    starts = [base]
    slope = "n" if lay.model.name == "Hill" else "b"
    potency = "EC50" if lay.model.name == "Hill" else "e"
    base_names = [lab.split(":", 1)[0] for lab in lay.labels]
    all_pos = np.concatenate([cd.dose[cd.dose > 0] for cd in problem.curves])
    mid_dose = float(np.exp(np.mean(np.log(all_pos)))) if all_pos.size else 1.0
    for scale, e_value in ((0.3, None), (3.0, None), (1.0, mid_dose), (-1.0, None)):
        s = base.copy()
        for i, n in enumerate(base_names):
            if n == slope:
                s[i] *= scale
            if n == potency and e_value is not None:
                s[i] = e_value
        starts.append(s)
    return starts


@dataclass(frozen=True)
class JointFit:
    """The joint least-squares solution and its drc-style statistics."""

    layout: Layout
    curves: tuple[CurveData, ...]
    theta: np.ndarray
    rss: float
    n_obs: int
    df: int
    cov: np.ndarray  # NaN-filled when it cannot be computed
    status: str
    reason: str
    se_method: str = "hessian"
    pooled_sigma2: float | None = None  # residual variance pooled over separately fitted curves
    starts: tuple[StartRecord, ...] = ()  # the optimiser's diagnostics, one record per starting point
    # profile intervals are costly and the fit is immutable, so each is computed once
    profiles: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # why a profile bound is open (inf) or NaN: {(index, level): {"lower"|"upper": text}}
    profile_notes: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def profile(self, index: int, level: float = 0.95) -> tuple[float, float]:
        key = (index, level)
        if key not in self.profiles:
            self.profiles[key] = profile_interval(self, index, level)
        return self.profiles[key]

    @property
    def sigma2(self) -> float:
        if self.pooled_sigma2 is not None:
            return self.pooled_sigma2
        return self.rss / self.df if self.df > 0 else float("nan")

    @property
    def residual_se(self) -> float:
        return float(np.sqrt(self.sigma2))

    @property
    def std_errors(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(self.cov))

    def wald_interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """t-based Wald interval with df = n - p, as drc's ``confint`` for continuous responses."""
        t = stats.t.ppf(0.5 + level / 2.0, self.df) if self.df > 0 else np.nan
        se = self.std_errors
        return self.theta - t * se, self.theta + t * se

    def problem(self) -> _Problem:
        return _Problem(self.layout, self.curves)


def _bounds_vectors(layout: Layout, lower: dict[str, float], upper: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    positive = layout.is_positive()
    lo = np.full(len(layout.labels), -np.inf)
    hi = np.full(len(layout.labels), np.inf)
    for i, lab in enumerate(layout.labels):
        name = lab.split(":", 1)[0]
        if name in lower:
            lo[i] = np.log(lower[name]) if positive[i] and lower[name] > 0 else (-np.inf if positive[i] else lower[name])
        if name in upper:
            hi[i] = np.log(upper[name]) if positive[i] else upper[name]
    return lo, hi


class _Creeping(Exception):
    """Raised inside the residual function to stop a start that creeps (see ``CREEP_*``)."""


def _solve(problem: _Problem, start: np.ndarray, lo: np.ndarray, hi: np.ndarray, frozen: dict[int, float] | None = None):
    """Minimise RSS from ``start`` (natural scale); ``frozen`` pins global entries (for profiling).

    Returns (theta, rss, ok, StartRecord).
    """
    positive = problem.layout.is_positive()
    frozen = frozen or {}
    free = np.array([i not in frozen for i in range(start.size)])
    u0 = _to_internal(start, positive)
    # least_squares wants a start strictly inside finite bounds
    margin = 1e-9 * (np.abs(u0) + 1.0)
    u0 = np.where(np.isfinite(lo), np.maximum(u0, lo + margin), u0)
    u0 = np.where(np.isfinite(hi), np.minimum(u0, hi - margin), u0)

    def full(u_free: np.ndarray) -> np.ndarray:
        u = u0.copy()
        u[free] = u_free
        with np.errstate(over="ignore"):  # a log-scale entry run off to +inf is reported as inf
            theta = _to_natural(u, positive)
        for i, v in frozen.items():
            theta[i] = v
        return theta

    last: list = [None, None, None]  # (u_free bytes, theta, residuals and Jacobian or None): the optimiser asks
    # for the Jacobian at the point whose residuals it just evaluated, so each point is computed once
    trail: list = []  # (best RSS so far, its u_free) after each residual evaluation, for the creep test

    def evaluate(u_free):
        key = u_free.tobytes()
        if last[0] != key:
            theta = full(u_free)
            try:
                out = problem.residuals_and_jacobian(theta)
            except (ZeroDivisionError, OverflowError):
                out = None
            last[:] = [key, theta, out]
        return last[1], last[2]

    def fun(u_free):
        _, out = evaluate(u_free)
        r = np.full(problem.n_obs, 1e100) if out is None else np.where(np.isfinite(out[0]), out[0], 1e100)
        # (an overflowing trial point is a bad step, not a crash: it is made to look terrible)
        rss = float(r @ r)
        trail.append((rss, u_free.copy()) if not trail or rss < trail[-1][0] else trail[-1])
        if _creeping(trail):
            raise _Creeping
        return r

    def jac(u_free):
        theta, out = evaluate(u_free)
        if out is None:
            return np.zeros((problem.n_obs, int(free.sum())))
        J = out[1]
        J = J * np.where(positive, theta, 1.0)  # chain rule for the log-scale entries
        return np.where(np.isfinite(J), J, 0.0)[:, free]

    try:
        with np.errstate(all="ignore"):
            res = optimize.least_squares(
                fun, u0[free], jac=jac, bounds=(lo[free], hi[free]), method="trf", x_scale="jac",
                xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=MAX_NFEV,
            )
    except _Creeping:
        rss, u_best = trail[-1]
        then = trail[len(trail) - 1 - CREEP_WINDOW][1]
        free_labels = [lab for lab, f in zip(problem.layout.labels, free) if f]
        moving = tuple(lab for lab, a, b in zip(free_labels, then, u_best) if abs(b - a) > 1e-3 * (abs(a) + 1.0))
        return full(u_best), rss, False, StartRecord(len(trail), "creeping", rss, moving)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError, OverflowError):
        # a start that overflows the curve (e.g. an absurd slope) is just a failed start
        return start, float("nan"), False, StartRecord(len(trail), "failed", float("nan"))
    theta = full(res.x)
    rss = float(2.0 * res.cost)
    ok = bool(res.success and np.all(np.isfinite(theta)))
    outcome = "converged" if ok else ("max_nfev" if res.status == 0 else "failed")
    return theta, rss, ok, StartRecord(int(res.nfev), outcome, rss)


def _creeping(trail: list) -> bool:
    """Is the optimiser creeping (see ``CREEP_*``)? Checked at every ``CREEP_WINDOW``-th evaluation."""
    n = len(trail)
    if n < CREEP_AFTER or n % CREEP_WINDOW:
        return False
    now, one, two = (trail[max(n - 1 - k * CREEP_WINDOW, 0)][0] for k in (0, 1, 2))
    recent, before = one - now, two - one
    return 0.0 < recent < CREEP_RELATIVE * now and recent * CREEP_DECAY > before


def _hessian_half_rss(problem: _Problem, theta: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Hessian of RSS/2 by central differences of the analytic gradient, Richardson-extrapolated."""
    k = theta.size
    H = np.zeros((k, k))
    for i in range(k):
        h = scale[i]

        def diff(step: float) -> np.ndarray:
            tp, tm = theta.copy(), theta.copy()
            tp[i] += step
            tm[i] -= step
            return (problem.half_rss_gradient(tp) - problem.half_rss_gradient(tm)) / (2.0 * step)

        H[:, i] = (4.0 * diff(h / 2.0) - diff(h)) / 3.0
    return 0.5 * (H + H.T)


def _covariance(problem: _Problem, theta: np.ndarray, rss: float, df: int, se_method: str) -> tuple[np.ndarray, str]:
    """drc's vcov, or NaNs and the reason when the data do not determine the parameters."""
    try:
        return _covariance_unguarded(problem, theta, rss, df, se_method)
    except (np.linalg.LinAlgError, ZeroDivisionError, OverflowError, FloatingPointError):
        k = theta.size
        return np.full((k, k), np.nan), "the information matrix is singular (the data do not determine all parameters)"


def _covariance_unguarded(problem: _Problem, theta: np.ndarray, rss: float, df: int, se_method: str) -> tuple[np.ndarray, str]:
    k = theta.size
    nan = np.full((k, k), np.nan)
    if df <= 0:
        return nan, "no residual degrees of freedom"
    s2 = rss / df
    _, J = problem.residuals_and_jacobian(theta)
    jtj = J.T @ J
    d = np.sqrt(np.diag(jtj))
    if np.any(d == 0) or not np.all(np.isfinite(jtj)):
        return nan, "the response does not depend on every parameter (flat curve or parameter at a limit)"
    if se_method == "gauss-newton":
        info = jtj
    else:
        with np.errstate(all="ignore"):
            gn_scale = np.sqrt(np.abs(np.diag(np.linalg.pinv(jtj))) * max(s2, 1e-300))
        scale = np.where(np.isfinite(gn_scale) & (gn_scale > 0), 1e-3 * gn_scale, 1e-6 * np.maximum(np.abs(theta), 1.0))
        info = _hessian_half_rss(problem, theta, scale)
    if not np.all(np.isfinite(info)):
        return nan, "the information matrix could not be computed (curve overflows near the optimum)"
    scaled = info / np.outer(d, d)
    eig = np.linalg.eigvalsh(scaled)
    if eig.min() <= 1e-10 * eig.max():
        return nan, "the data do not determine all parameters (singular or indefinite information matrix)"
    return s2 * np.linalg.inv(info), ""


def _is_singular(info: np.ndarray) -> bool:
    d = np.sqrt(np.abs(np.diag(info)))
    if not np.all(np.isfinite(info)) or np.any(d == 0):
        return True
    eig = np.linalg.eigvalsh(info / np.outer(d, d))
    return bool(eig.min() <= 1e-10 * eig.max())


def unidentified_curves(fit: JointFit) -> list[int]:
    """Curves whose own (non-shared) parameters the data do not determine, e.g. a flat curve.

    Used to drop such curves from a shared-parameter fit so that they cannot spoil the others.
    """
    if not np.all(np.isfinite(fit.theta)):
        return []
    problem = fit.problem()
    _, J = problem.residuals_and_jacobian(fit.theta)
    scale = 1e-6 * np.maximum(np.abs(fit.theta), 1e-3)
    info = _hessian_half_rss(problem, fit.theta, scale)
    bad = []
    for gi, slots in enumerate(fit.layout.slots):
        own = [i for name, i in slots.items() if name not in fit.layout.shared]
        if own and (_is_singular(info[np.ix_(own, own)]) or _is_singular((J.T @ J)[np.ix_(own, own)])):
            bad.append(gi)
    return bad


def fit_joint(
    layout: Layout,
    curves: tuple[CurveData, ...],
    *,
    lower: dict[str, float] | None = None,
    upper: dict[str, float] | None = None,
    se_method: str = "hessian",
    start: np.ndarray | None = None,
) -> JointFit:
    """Fit all curves at once (multi-start least squares) and compute drc's statistics."""
    problem = _Problem(layout, curves)
    lo, hi = _bounds_vectors(layout, lower or {}, upper or {})
    n, k = problem.n_obs, len(layout.labels)
    df = n - k
    best = crept = None
    records = []
    for s in [start] if start is not None else _starting_vectors(problem):
        theta, rss, ok, record = _solve(problem, s, lo, hi)
        records.append(record)
        if not np.isfinite(rss):
            continue
        if ok and (best is None or rss < best[1] - 1e-12 * max(best[1], 1e-300)):
            best = (theta, rss)
        elif record.outcome == "creeping" and (crept is None or rss < crept[1]):
            crept = (theta, rss, record)
    records = tuple(records)
    # creeping from a start to a lower RSS than any converged start reached: the least-squares optimum is
    # a limit at infinity, so no reported point is the fit; say so (the values are where the creep stopped)
    creep_note = ""
    if crept is not None and (best is None or crept[1] < best[1] - 1e-9 * max(best[1], 1e-300)):
        n_creep = sum(r.outcome == "creeping" for r in records)
        moving = crept[2].moving
        creep_note = (
            f"no finite best fit: from {n_creep} of {len(records)} starts the optimiser creeps towards a limit of the "
            f"curve at infinity ({', '.join(moving) or 'parameters'} running off while RSS still falls), so the data "
            "do not determine the parameters"
        )
        if best is not None:
            creep_note += "; the values are the best converged start's"
        elif all(lab.split(":", 1)[0] in _SHAPE for lab in moving):
            # only the slope / potency run off (a step between two doses): the plateaus, and so the curve at
            # the doses, are determined; report the point where the creep stopped
            creep_note += "; the values are where it was stopped (the plateaus are determined, the step is not)"
            best = crept[:2]
    if best is None:
        nan = np.full(k, np.nan)
        outcomes = ", ".join(f"{sum(r.outcome == o for r in records)} {o}" for o in dict.fromkeys(r.outcome for r in records))
        why = creep_note or f"the optimiser failed from every starting point ({outcomes})"
        return JointFit(layout, curves, nan, float("nan"), n, df, np.full((k, k), np.nan), "not_converged", why,
                        se_method, starts=records)
    theta, rss = _canonical_orientation(problem, best[0], lo, hi)
    rss = problem.rss(theta)
    cov, why = _covariance(problem, theta, rss, df, se_method)
    if creep_note:
        why = f"{creep_note}; {why}" if why else creep_note
    status = "ambiguous" if why else "converged"
    if status == "converged":
        check_fitted_mean(problem, theta, lo, hi)
    return JointFit(layout, curves, theta, rss, n, df, cov, status, why, se_method, starts=records)


def check_fitted_mean(problem: _Problem, theta: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Where the model implies it, the fitted values' weighted mean equals the data's — so it lies
    inside the data's range — or the reported optimum is not one (:class:`PlausibilityError`).

    The implication: when both asymptotes c and d are free and unbounded and moving them together
    shifts the curve by the same amount (df/dc + df/dd = 1, as for every log-logistic and Hill
    curve), the least-squares normal equations for c and d add up to sum w·(f - y) = 0.
    """
    layout = problem.layout
    groups: dict[tuple[int, int], list[int]] = {}
    for gi, slots in enumerate(layout.slots):
        if "c" in slots and "d" in slots:
            groups.setdefault((slots["c"], slots["d"]), []).append(gi)
    for (ic, id_), members in groups.items():
        if np.isfinite([lo[ic], hi[ic], lo[id_], hi[id_]]).any():
            continue
        sum_wr = sum_w = 0.0
        ys, resid = [], []
        for gi in members:
            cd = problem.curves[gi]
            f, jac = layout.model.evaluate(cd.dose, layout.curve_params(theta, gi))
            if not np.allclose(jac["c"] + jac["d"], 1.0, atol=1e-8):
                break  # this model's asymptotes do not shift it rigidly: nothing is implied
            sum_wr += float(np.sum(cd.weights * (f - cd.response)))
            sum_w += float(np.sum(cd.weights))
            ys.append(cd.response)
            resid.append(f - cd.response)
        else:
            y, r = np.concatenate(ys), np.concatenate(resid)
            spread = max(float(np.std(r)), 1e-6 * float(np.ptp(y)), 1e-12 * float(np.max(np.abs(y), initial=1.0)))
            if abs(sum_wr / sum_w) > 1e-3 * spread:
                names = ", ".join(str(problem.layout.groups[g]) for g in members)
                mean_y = float(np.sum([np.sum(problem.curves[g].weights * problem.curves[g].response) for g in members]) / sum_w)
                raise PlausibilityError(
                    f"curve(s) {names}: the fitted values' weighted mean ({mean_y + sum_wr / sum_w:.6g}) differs from "
                    f"the data's ({mean_y:.6g}), which a least-squares fit with free asymptotes c and d cannot do; "
                    "the optimiser did not reach the optimum",
                    quantity="mean fitted response", where={"curves": names}, value=mean_y + sum_wr / sum_w,
                )


def _canonical_orientation(problem: _Problem, theta: np.ndarray, lo, hi) -> tuple[np.ndarray, float]:
    """LL.4 is unchanged by (b, c, d) -> (-b, d, c); report drc's orientation with c the lower limit."""
    lay = problem.layout
    if lay.model.name != "LL.4" or "c" in lay.fixed or "d" in lay.fixed:
        return theta, problem.rss(theta)
    if ("c" in lay.shared) != ("d" in lay.shared):
        return theta, problem.rss(theta)
    flipped = theta.copy()
    changed = False
    groups = [0] if ("c" in lay.shared or len(lay.groups) == 1) else range(len(lay.groups))
    for gi in groups:
        s = lay.slots[gi]
        if theta[s["c"]] > theta[s["d"]]:
            flipped[s["c"]], flipped[s["d"]] = theta[s["d"]], theta[s["c"]]
            targets = [sl["b"] for sl in lay.slots] if ("c" in lay.shared or len(lay.groups) == 1) else [s["b"]]
            for i in set(targets):
                flipped[i] = -theta[i]
            changed = True
    if not changed:
        return theta, problem.rss(theta)
    polished, rss, ok, _ = _solve(problem, flipped, lo, hi)
    return (polished, rss) if ok else (theta, problem.rss(theta))


# ---------------------------------------------------------------------------------------- profiles
def profile_interval(fit: JointFit, index: int, level: float = 0.95, max_doublings: int = 12) -> tuple[float, float]:
    """Profile-likelihood interval for one global parameter (R's ``confint`` on an ``nls`` fit).

    Bounds where the profile never crosses the cutoff inside the search range come back as
    -inf / +inf (or 0 for a positive parameter), the way an open-ended profile is reported; a bound
    that cannot be located (the profile is not monotone there, or the refits fail) is NaN. Either
    way the reason is in ``fit.profile_notes[(index, level)][side]``. Never an exception.
    """
    key = (index, level)
    if fit.status != "converged":
        return float("nan"), float("nan")
    problem = fit.problem()
    lo, hi = _bounds_vectors(fit.layout, {}, {})
    t = stats.t.ppf(0.5 + level / 2.0, fit.df)
    target = fit.rss + fit.sigma2 * t * t
    est, se = float(fit.theta[index]), float(fit.std_errors[index])
    if not (np.isfinite(se) and se > 0 and np.isfinite(target)):
        fit.profile_notes[key] = {s: "no finite standard error to scale the profile search; NaN" for s in ("lower", "upper")}
        return float("nan"), float("nan")
    positive = bool(fit.layout.is_positive()[index])
    solved: dict[float, tuple[np.ndarray, float]] = {est: (fit.theta.copy(), fit.rss)}

    def excess(value: float) -> float:
        # the profile RSS is a minimum over the other parameters: take the best of local solves started
        # at the optimum and at the nearest profiled points on either side (one start alone can land in
        # a worse local minimum and make the profile look non-monotone)
        if value in solved:
            return solved[value][1] - target
        starts = [fit.theta]
        below = [v for v in solved if v < value]
        above = [v for v in solved if v > value]
        starts += [solved[max(below)][0]] if below else []
        starts += [solved[min(above)][0]] if above else []
        best_theta, best_rss = fit.theta, float("inf")
        for start in starts:
            theta, rss, _, _ = _solve(problem, start, lo, hi, frozen={index: value})
            if np.isfinite(rss) and rss < best_rss:
                best_theta, best_rss = theta, rss
        if not np.isfinite(best_rss):
            return float("nan")
        solved[value] = (best_theta, best_rss)
        return best_rss - target

    def point(m: float) -> float:
        with np.errstate(over="ignore"):
            return est * float(np.exp(m * se / est)) if positive else est + m * se

    def locate(direction: float) -> float:
        side = "lower" if direction < 0 else "upper"
        open_end = (0.0 if positive else -np.inf) if direction < 0 else np.inf
        inner, m = est, 0.5
        for _ in range(max_doublings):
            v = point(direction * m)
            if not np.isfinite(v) or (positive and v <= 0.0):
                break
            f = excess(v)
            if f > 0:
                return _root(inner, v, side)
            if np.isfinite(f):
                inner = v
            m *= 2.0
        note(side, f"open: the profile stays under the cutoff out to {inner:.6g}, so the interval is "
                   f"unbounded on this side (reported as {open_end:g}, as R's confint reports an open profile)")
        return open_end

    def note(side: str, text: str) -> None:
        fit.profile_notes.setdefault(key, {})[side] = text

    def _root(a: float, b: float, side: str) -> float:
        fa = excess(a)
        if not fa < 0:  # a worse local minimum at the inner point: fall back on a scan from the optimum
            grid = np.linspace(est, b, 17)[1:]
            fs = [excess(float(v)) for v in grid]
            a = est
            for v, f in zip(grid, fs):
                if f > 0:
                    b = float(v)
                    break
                if np.isfinite(f):
                    a = float(v)
        try:
            return float(optimize.brentq(excess, min(a, b), max(a, b), xtol=1e-10 * max(abs(est), 1e-12), rtol=1e-10))
        except (ValueError, RuntimeError) as exc:
            note(side, f"not located between {min(a, b):.6g} and {max(a, b):.6g} (the profile is not monotone "
                       f"there: {exc}); reported as NaN")
            return float("nan")

    return locate(-1.0), locate(1.0)
