"""``Calibration``: fit named parameters of the mechanism to a user's time courses.

Multi-start least squares (``scipy.optimize.least_squares``, trust-region reflective, inside the bounds)
from a seeded Latin hypercube over the (log-)box. Residuals follow the noise model: additive
``y - f``, proportional ``(y - f) / f`` and log-normal ``log y - log f``; the noise scale is estimated
at the optimum (σ² = SSR / (n − p)). The Jacobian is by forward finite differences, all p perturbed sets in
one batched engine call (forward sensitivities were not measured against it; finite differences are what
is used). Confidence intervals: Wald (from the Jacobian, on the optimiser's log scale, so asymmetric on
the natural scale) in ``ci_``; :meth:`Calibration.profile` adds profile-likelihood intervals and the
practical-identifiability verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..analysis._base import Fitter
from ..errors import InputError
from ._problem import Problem, tidy_data
from ._spec import NOISE_MODELS, CalibrationSpec, FreeParameter, ModelSpec, load_spec

__all__ = ["Calibration", "FD_STEP", "CHI2_95"]

FD_STEP = 1e-3  # forward-difference step in optimiser coordinates (log10 units on a log scale)
CHI2_95 = float(stats.chi2.ppf(0.95, 1))  # 3.84: the pointwise 95 % threshold of a likelihood profile
_FAILED = 1e3  # residual given to a data point the solver could not simulate (steers the optimiser away)
_FLOOR = 1e-12


def _as_parameters(items) -> tuple[FreeParameter, ...]:
    return tuple(p if isinstance(p, FreeParameter) else FreeParameter(**p) for p in items)


class Calibration(Fitter):
    """Fit free parameters of the cell model to tidy data.

    >>> cal = Calibration(model_spec, parameters=[{"name": "mu_max", "lower": 0.01, "upper": 0.2}], data=df).fit()
    >>> cal.estimates_, cal.ci_, cal.summary
    >>> Calibration.from_spec("examples/calibration/mcf7_growth.yaml").fit()

    ``data`` has the columns experiment, time (h), observable, value (or say which with ``columns``, a
    :class:`~eralpha.qsp.DataSpec`-like dict). ``noise``: additive, proportional or lognormal.
    """

    def __init__(self, model_spec: ModelSpec, parameters: Sequence[FreeParameter | dict], data: pd.DataFrame, *,
                 noise: str = "lognormal", starts: int = 8, seed: int = 0, max_nfev: int = 60,
                 columns: dict | None = None, file: str | None = None, name: str = "calibration") -> None:
        from ._spec import DataSpec

        if noise not in NOISE_MODELS:
            raise InputError(f"unknown noise model '{noise}'", field="noise", value=noise, valid=", ".join(NOISE_MODELS))
        self.model_spec = model_spec if isinstance(model_spec, ModelSpec) else ModelSpec(**model_spec)
        self.parameters = _as_parameters(parameters)
        self.noise, self.starts, self.seed, self.max_nfev, self.name = noise, int(starts), int(seed), int(max_nfev), name
        self.data_spec = DataSpec(file=file or "<data frame>", **(columns or {}))
        self.data = tidy_data(data, self.data_spec, file=file)
        if noise in ("lognormal", "proportional") and (self.data["value"] <= 0).any():
            bad = self.data.loc[self.data["value"] <= 0].iloc[0]
            raise InputError(f"{noise} noise needs positive data; experiment {bad['experiment']} at {bad['time_h']:g} h has {bad['value']:g}",
                             file=file, field="noise", value=noise, valid="additive noise, or drop the non-positive rows")
        self.problem = Problem(self.model_spec, self.parameters, self.data, file=file)

    @classmethod
    def from_spec(cls, spec: CalibrationSpec | str | Path, data: pd.DataFrame | None = None) -> "Calibration":
        """From a YAML spec (or a parsed one); the data file is read relative to the spec's folder."""
        path = None
        if not isinstance(spec, CalibrationSpec):
            path = Path(spec)
            spec = load_spec(path)
        file = spec.data.file
        if data is None:
            data_path = (path.parent / file) if path is not None and not Path(file).is_absolute() else Path(file)
            data = read_table(data_path)
            file = str(data_path)
        columns = spec.data.model_dump(exclude={"file"})
        cal = cls(spec.model, spec.parameters, data, noise=spec.noise, starts=spec.fit.starts, seed=spec.fit.seed,
                  max_nfev=spec.fit.max_nfev, columns=columns, file=file, name=spec.name)
        cal.spec = spec
        return cal

    @classmethod
    def from_petab(cls, path: str | Path) -> "Calibration":
        """From a PEtab v1 problem YAML written by :func:`~eralpha.qsp.to_petab` (times back on eralpha's clock)."""
        from ._petab import from_petab

        return from_petab(path)

    # -- objective --------------------------------------------------------------------------------
    def _values(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.column_stack([p.from_internal(x[:, i]) for i, p in enumerate(self.parameters)])

    def _residuals(self, pred: np.ndarray) -> np.ndarray:
        y = self.data["value"].to_numpy(float)
        if self.noise == "additive":
            r = pred - y
        elif self.noise == "proportional":
            r = (pred - y) / np.maximum(np.abs(pred), _FLOOR)
        else:
            r = np.log(np.maximum(pred, _FLOOR)) - np.log(y)
        return np.where(np.isfinite(r), r, _FAILED)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """(B, n) residuals for optimiser coordinates ``x`` (B, p): one batched simulation."""
        return self._residuals(self.problem.predict(self._values(x)))

    def _jacobian(self, x: np.ndarray, r0: np.ndarray | None = None, free: Sequence[int] | None = None) -> np.ndarray:
        free = list(range(len(x))) if free is None else list(free)
        steps = np.zeros((len(free), len(x)))
        for k, i in enumerate(free):  # step inwards at an upper bound
            h = FD_STEP if x[i] + FD_STEP <= self._hi[i] else -FD_STEP
            steps[k, i] = h
        if r0 is None:  # the unperturbed set rides in the same batch
            r = self.residuals(np.vstack([x[None, :], x + steps]))
            r0, r = r[0], r[1:]
        else:
            r = self.residuals(x + steps)
        return ((r - r0) / steps[np.arange(len(free)), free][:, None]).T

    @property
    def _lo(self) -> np.ndarray:
        return np.array([float(p.to_internal(p.lower)) for p in self.parameters])

    @property
    def _hi(self) -> np.ndarray:
        return np.array([float(p.to_internal(p.upper)) for p in self.parameters])

    def _solve(self, x0: np.ndarray, free: Sequence[int] | None = None, max_nfev: int | None = None):
        """Least squares from ``x0`` over the ``free`` coordinates (the others held at x0)."""
        free = list(range(len(x0))) if free is None else list(free)
        cache: dict[bytes, np.ndarray] = {}

        def full(z):
            x = x0.copy()
            x[free] = z
            return x

        def fun(z):
            r = self.residuals(full(z))[0]
            cache[z.tobytes()] = r
            return r

        def jac(z):
            return self._jacobian(full(z), cache.get(z.tobytes()), free)

        lo, hi = self._lo[free], self._hi[free]
        z0 = np.clip(x0[free], lo + 1e-9, hi - 1e-9)
        sol = optimize.least_squares(fun, z0, jac=jac, bounds=(lo, hi), method="trf", x_scale=1.0,
                                     max_nfev=max_nfev or self.max_nfev, xtol=1e-6, ftol=1e-8)
        return full(sol.x), sol

    # -- fit --------------------------------------------------------------------------------------
    def fit(self) -> "Calibration":
        from scipy.stats import qmc

        lo, hi = self._lo, self._hi
        lhs = qmc.LatinHypercube(d=len(lo), seed=self.seed).random(self.starts)
        starts = lo + lhs * (hi - lo)
        rows, best = [], None
        for k, x0 in enumerate(starts):
            x, sol = self._solve(x0)
            ssr = float(np.sum(sol.fun ** 2))
            rows.append({"start": k + 1, **{f"start_{p.name}": float(v) for p, v in zip(self.parameters, self._values(x0)[0])},
                         **{p.name: float(v) for p, v in zip(self.parameters, self._values(x)[0])},
                         "ssr": ssr, "nfev": int(sol.nfev), "status": int(sol.status), "message": str(sol.message)})
            if best is None or ssr < best[1]:
                best = (x, ssr, sol)
        self.starts_ = pd.DataFrame(rows).sort_values("ssr").reset_index(drop=True)
        self.x_, self.ssr_ = best[0], best[1]
        n, p = len(self.data), len(self.parameters)
        self.n_obs_ = n
        self.sigma_ = float(np.sqrt(self.ssr_ / max(n - p, 1)))
        J = self._jacobian(self.x_)
        self.jacobian_ = J
        with np.errstate(all="ignore"):
            cov = np.linalg.pinv(J.T @ J) * self.sigma_ ** 2
        self.covariance_ = pd.DataFrame(cov, index=self.names, columns=self.names)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
        sd = np.where(se > 0, se, np.nan)
        self.correlation_ = pd.DataFrame(cov / np.outer(sd, sd), index=self.names, columns=self.names)
        z = float(stats.t.ppf(0.975, max(n - p, 1)))
        self.estimates_ = pd.Series(self._values(self.x_)[0], index=self.names, name="estimate")
        lower = [float(q.from_internal(xi - z * s)) for q, xi, s in zip(self.parameters, self.x_, se)]
        upper = [float(q.from_internal(xi + z * s)) for q, xi, s in zip(self.parameters, self.x_, se)]
        self.ci_ = pd.DataFrame({"lower": lower, "upper": upper}, index=pd.Index(self.names, name="parameter"))
        self.se_ = pd.Series(se, index=self.names, name="se_internal")
        pred = self.problem.predict(self._values(self.x_))[0]
        self.predictions_ = self.data.assign(fitted=pred, residual=self._residuals(pred[None, :])[0])
        self.profiles_ = None
        self._fitted = True
        return self

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def neg2_log_likelihood(self, ssr: float) -> float:
        """−2 log L with σ profiled out (σ² = SSR / n), up to a constant: n log(SSR / n)."""
        return float(self.n_obs_ * np.log(max(ssr, _FLOOR) / self.n_obs_))

    @property
    def summary(self) -> pd.DataFrame:
        self._require_fit()
        rows = []
        for rp, q in zip(self.problem.parameters, self.parameters):
            est = float(self.estimates_[q.name])
            rows.append({"parameter": q.name, "estimate": est, "lower_95": float(self.ci_.loc[q.name, "lower"]),
                         "upper_95": float(self.ci_.loc[q.name, "upper"]), "unit": rp.unit, "prior_value": rp.default,
                         "source": rp.route, "scale": q.scale, "lower_bound": q.lower, "upper_bound": q.upper,
                         "at_bound": bool(np.isclose(est, q.lower, rtol=1e-3) or np.isclose(est, q.upper, rtol=1e-3))})
        df = pd.DataFrame(rows).set_index("parameter")
        if self.profiles_ is not None:
            df = df.join(self.identifiability_)
        return df

    # -- identifiability ----------------------------------------------------------------------------
    def profile(self, points: int = 6, span: float = 1.0) -> "Calibration":
        """Profile likelihood of each parameter: ``points`` steps each side of the estimate, up to
        ``span`` (log10 units on a log scale; fraction of the box on a linear one) or the bound, re-fitting
        the others at each step from the neighbouring solution. Adds ``profiles_`` (a tidy table),
        ``identifiability_`` (profile 95 % interval and verdict) and their columns in ``summary``."""
        self._require_fit()
        rows, verdicts = [], []
        base = self.neg2_log_likelihood(self.ssr_)
        for i, q in enumerate(self.parameters):
            width = span if q.scale == "log" else span * (self._hi[i] - self._lo[i])
            others = [j for j in range(len(self.parameters)) if j != i]
            rows.append({"parameter": q.name, "value": float(self.estimates_[q.name]), "delta_neg2_log_l": 0.0})
            ends = {}
            for side, bound in ((-1, self._lo[i]), (1, self._hi[i])):
                x = self.x_.copy()
                grid = self.x_[i] + side * np.linspace(0, width, points + 1)[1:]
                grid = grid[(grid >= self._lo[i]) & (grid <= self._hi[i])]
                if len(grid) < points and not np.isclose(grid[-1] if len(grid) else self.x_[i], bound):
                    grid = np.append(grid, bound)
                crossed = False
                for xi in grid:
                    x[i] = xi
                    if others:
                        x, sol = self._solve(x, free=others, max_nfev=30)
                        ssr = float(np.sum(sol.fun ** 2))
                    else:
                        ssr = float(np.sum(self.residuals(x)[0] ** 2))
                    d = self.neg2_log_likelihood(ssr) - base
                    rows.append({"parameter": q.name, "value": float(q.from_internal(xi)), "delta_neg2_log_l": d})
                    if d > CHI2_95:
                        crossed = True
                        break
                ends[side] = crossed
            verdicts.append({"parameter": q.name, "identifiable": bool(ends[-1] and ends[1]),
                             "verdict": "identifiable" if ends[-1] and ends[1] else
                             ("non-identifiable (flat both ways)" if not (ends[-1] or ends[1]) else
                              "practically non-identifiable (" + ("lower" if not ends[-1] else "upper") + " side open)")})
        prof = pd.DataFrame(rows).sort_values(["parameter", "value"]).reset_index(drop=True)
        ident = pd.DataFrame(verdicts).set_index("parameter")
        lo_ci, hi_ci = [], []
        for q in self.parameters:  # the profile 95 % interval: where Δ(−2 log L) crosses 3.84 (interpolated)
            g = prof[prof["parameter"] == q.name]
            v, d = g["value"].to_numpy(), g["delta_neg2_log_l"].to_numpy()
            k = int(np.argmin(d))
            lo_ci.append(_crossing(v[:k + 1][::-1], d[:k + 1][::-1], q.scale))
            hi_ci.append(_crossing(v[k:], d[k:], q.scale))
        ident.insert(0, "profile_lower_95", lo_ci)
        ident.insert(1, "profile_upper_95", hi_ci)
        self.profiles_, self.identifiability_ = prof, ident
        return self

    # -- plots --------------------------------------------------------------------------------------
    def plot(self, ax=None, points: int = 60):
        """Data (points) and the fitted model (lines) for every experiment and observable."""
        import matplotlib.pyplot as plt

        self._require_fit()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        t_end = float(self.data["time_h"].max())
        times = np.linspace(0.0, t_end, points)
        sims = self.problem.simulate(self._values(self.x_), times)
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, ((exp_id, obs), g) in enumerate(self.data.groupby(["experiment", "observable"], sort=False)):
            c = colours[k % len(colours)]
            ax.plot(g["time_h"] / 24, g["value"], "o", ms=3.5, color=c, alpha=0.75)
            ax.plot(times / 24, sims[exp_id][obs][0], "-", color=c, label=f"{exp_id}" + ("" if obs == "fold_change" else f" ({obs})"))
        ax.set_xlabel("day")
        obs = sorted(self.data["observable"].unique())
        ax.set_ylabel(", ".join(o.replace("_", " ") for o in obs))
        if self.noise == "lognormal":
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2)
        ax.set_title(f"{self.name}: data (points) and fit (lines)")
        return ax

    def plot_waterfall(self, ax=None):
        """Final objective of every start, best first: a plateau of equal values = a reproducible optimum."""
        import matplotlib.pyplot as plt

        self._require_fit()
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        ssr = self.starts_["ssr"].to_numpy()
        ax.plot(np.arange(1, len(ssr) + 1), ssr, "o-")
        ax.set_yscale("log")
        ax.set_xlabel("start (sorted by final objective)")
        ax.set_ylabel("sum of squared residuals")
        ax.set_title("Multi-start waterfall")
        return ax

    def plot_profiles(self, axes=None):
        """Δ(−2 log L) against each parameter with the 95 % threshold."""
        import matplotlib.pyplot as plt

        if self.profiles_ is None:
            raise InputError("no profiles yet: call .profile() first", field="profiles")
        n = len(self.parameters)
        if axes is None:
            _, axes = plt.subplots(1, n, figsize=(3.2 * n, 3), squeeze=False)
            axes = axes[0]
        for ax, q in zip(axes, self.parameters):
            g = self.profiles_[self.profiles_["parameter"] == q.name]
            ax.plot(g["value"], g["delta_neg2_log_l"], "o-", ms=3)
            ax.axhline(CHI2_95, color="grey", ls="--", lw=1)
            ax.axvline(self.estimates_[q.name], color="k", lw=0.8)
            if q.scale == "log":
                ax.set_xscale("log")
            ax.set_xlabel(q.name, fontsize=8)
            ax.set_title(self.identifiability_.loc[q.name, "verdict"], fontsize=7)
        axes[0].set_ylabel("Δ(−2 log L)")
        return axes


def _crossing(v: np.ndarray, d: np.ndarray, scale: str) -> float:
    """Where the profile ``d`` (walking away from the optimum along ``v``) first exceeds 3.84; NaN if never."""
    for a in range(1, len(d)):
        if d[a] > CHI2_95:
            f = (CHI2_95 - d[a - 1]) / (d[a] - d[a - 1])
            if scale == "log":
                return float(10 ** (np.log10(v[a - 1]) + f * (np.log10(v[a]) - np.log10(v[a - 1]))))
            return float(v[a - 1] + f * (v[a] - v[a - 1]))
    return float("nan")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV / TSV / Parquet data file, or one InputError."""
    if not path.exists():
        raise InputError("data file not found", file=str(path), field="data.file", valid="a CSV, TSV or Parquet file (relative to the spec)")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".tab") else ",")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the data ({exc.__class__.__name__})", file=str(path), field="data.file") from None
