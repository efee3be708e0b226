"""Global sensitivity analysis with SALib (Sobol, Morris, eFAST) over any model output.

A problem is written in SALib's vocabulary — names, bounds, distributions — with one addition: a
parameter may be sampled on a log scale (``scale: log``: uniform in log10 of the value). The output is
any function from a batch of parameter sets (N, p) to numbers (N,) or (N, k):

* :class:`CellModelOutput` — an observable of a calibration-style experiment at a time (fold change at
  day 21 under palbociclib, ER remaining at 72 h, ...), every sample in one batched engine call per chunk;
* :class:`ScenarioOutput` — any metric a scenario reports (an IC50, a xenograft's tumour volume at day
  28, a trial's median PFS), the scenario re-run per sample with the sample's knowledge-base values in force;
* a plain Python function (the Ishigami test function goes through exactly the same path).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from ..errors import InputError
from ._spec import FreeParameter, ModelSpec, _Frozen

__all__ = ["SensitivityAnalysis", "CellModelOutput", "ScenarioOutput", "SensitivitySpec", "ishigami", "ISHIGAMI_INDICES",
           "METHODS", "sensitivity_from_spec"]

METHODS = ("sobol", "morris", "fast")
_CHUNK = 512  # samples per engine call: bounded memory, still one call for typical sizes


class SensitivityParameter(FreeParameter):
    """A sampled parameter: bounds and scale like a free parameter, plus SALib's distribution name."""

    scale: Literal["log", "linear"] = "log"
    dist: Literal["unif"] = "unif"


class OutputSpec(_Frozen):
    experiment: str | None = None  # a cell-model output ...
    observable: str = "fold_change"
    time: float | None = Field(None, ge=0)
    time_unit: Literal["h", "day"] = "h"
    scenario: str | None = None  # ... or a scenario metric
    metric: str | None = None
    where: dict[str, Any] = Field(default_factory=dict)
    transform: Literal["none", "log10"] = "none"  # log10 for outputs spanning decades (cell numbers)


class SensitivitySpec(_Frozen):
    name: str = Field(min_length=1)
    description: str = ""
    model: ModelSpec | None = None
    parameters: tuple[SensitivityParameter, ...] = Field(min_length=1)
    output: OutputSpec
    method: Literal["sobol", "morris", "fast"] = "sobol"
    samples: int = Field(256, ge=4)
    seed: int = Field(0, ge=0)


class CellModelOutput:
    """``observable`` of ``experiment`` at ``time`` (h) for every parameter set: batched through the engine."""

    def __init__(self, model: ModelSpec, parameters: Sequence[FreeParameter], experiment: str, observable: str, time: float) -> None:
        from ._problem import Problem

        data = pd.DataFrame({"experiment": [experiment], "time_h": [float(time)], "observable": [observable], "value": [np.nan]})
        self.problem = Problem(model, parameters, data)
        self.name = f"{observable} of {experiment} at {time:g} h"
        self.defaults = self.problem.defaults

    def __call__(self, values: np.ndarray) -> np.ndarray:
        out = [self.problem.predict(values[i:i + _CHUNK])[:, 0] for i in range(0, len(values), _CHUNK)]
        return np.concatenate(out)


class ScenarioOutput:
    """A scenario's metric (``metric`` with key columns matching ``where``), re-running the scenario per
    parameter set with the set's knowledge-base values in force (``knowledge_overrides``)."""

    def __init__(self, scenario: str | Path, metric: str, parameters: Sequence[FreeParameter], where: Mapping[str, Any] | None = None) -> None:
        from ..knowledge import load_knowledge
        from ..knowledge._loader import value_at
        from ..scenario import load_scenario

        self.path, self.metric, self.where = str(scenario), metric, dict(where or {})
        self.scenario = load_scenario(scenario)
        self.names = [p.name for p in parameters]
        kb = load_knowledge()
        self.defaults = np.array([value_at(kb, n).value for n in self.names])  # names must be knowledge-base keys
        self.name = f"{metric} of {self.scenario.name}" + "".join(f", {k}={v}" for k, v in self.where.items())

    def _one(self, row: np.ndarray) -> float:
        from ..experiments import run_experiment
        from ..knowledge import knowledge_overrides

        with knowledge_overrides(dict(zip(self.names, map(float, row))), origin="sensitivity sample"):
            m = run_experiment(self.scenario).metrics
        sel = m[m["metric"] == self.metric]
        for k, v in self.where.items():
            if k not in sel.columns:
                raise InputError(f"the metric table has no column '{k}'", field="output.where", value=k,
                                 valid=", ".join(c for c in m.columns if c not in ("metric", "value")))
            sel = sel[sel[k].astype(str) == str(v)]
        if len(sel) != 1:
            raise InputError(f"{len(sel)} rows of metric '{self.metric}' match {self.where} in scenario {self.path}",
                             field="output.where", valid="keys that pick exactly one row (see the run's metrics table)")
        return float(sel["value"].iloc[0])

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return np.array([self._one(r) for r in values])


def ishigami(values: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """The Ishigami function on [-π, π]³ (Ishigami & Homma 1990), whose Sobol indices are known exactly."""
    x1, x2, x3 = values[:, 0], values[:, 1], values[:, 2]
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3 ** 4 * np.sin(x1)


def _ishigami_indices(a: float = 7.0, b: float = 0.1) -> pd.DataFrame:
    """Analytic first-order and total Sobol indices of :func:`ishigami`."""
    pi = np.pi
    v1 = 0.5 * (1 + b * pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * pi ** 8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return pd.DataFrame({"S1": [v1 / var, v2 / var, 0.0], "ST": [(v1 + v13) / var, v2 / var, v13 / var]},
                        index=pd.Index(["x1", "x2", "x3"], name="parameter"))


ISHIGAMI_INDICES = _ishigami_indices()


class SensitivityAnalysis:
    """Sample, evaluate (batched), analyse. ``fit() -> self``; ``indices_``, ``summary``, ``plot``, ``plot_tornado``.

    >>> sa = SensitivityAnalysis(parameters, output, method="sobol", samples=1024, seed=1).fit()
    >>> sa.indices_            # S1, S1_conf, ST, ST_conf per parameter (Morris: mu_star, sigma; eFAST: S1, ST)

    ``samples`` is SALib's base sample size N (Sobol: N(2p + 2) evaluations; Morris: N trajectories,
    N(p + 1); eFAST: N per parameter).
    """

    def __init__(self, parameters: Sequence[FreeParameter | dict], output: Callable[[np.ndarray], np.ndarray], *,
                 method: str = "sobol", samples: int = 256, seed: int = 0, output_name: str | None = None,
                 baseline: Sequence[float] | None = None, transform: str = "none") -> None:
        if method not in METHODS:
            raise InputError(f"unknown sensitivity method '{method}'", field="method", value=method, valid=", ".join(METHODS))
        self.parameters = tuple(p if isinstance(p, FreeParameter) else SensitivityParameter(**p) for p in parameters)
        self.output, self.method, self.samples, self.seed = output, method, int(samples), int(seed)
        self.output_name = output_name or getattr(output, "name", "output")
        if transform not in ("none", "log10"):
            raise InputError(f"unknown output transform '{transform}'", field="output.transform", value=transform, valid="none, log10")
        self.transform = transform
        if transform == "log10":
            self.output_name = f"log10 {self.output_name}"
        base = baseline if baseline is not None else getattr(output, "defaults", None)
        self.baseline = None if base is None else np.asarray(base, dtype=float)
        self._fitted = False

    @property
    def problem(self) -> dict:
        """The SALib problem: names, bounds (log10 of the value on a log scale) and distributions."""
        return {"num_vars": len(self.parameters), "names": [p.name for p in self.parameters],
                "bounds": [[float(p.to_internal(p.lower)), float(p.to_internal(p.upper))] for p in self.parameters],
                "dists": ["unif"] * len(self.parameters)}

    def _values(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([p.from_internal(x[:, i]) for i, p in enumerate(self.parameters)])

    def _evaluate(self, x: np.ndarray) -> np.ndarray:
        y = np.asarray(self.output(self._values(x)), dtype=float)
        if self.transform == "log10":
            with np.errstate(all="ignore"):
                y = np.log10(y)
        if y.shape[0] != len(x):
            raise InputError(f"the output gave {y.shape[0]} values for {len(x)} parameter sets", field="output")
        if not np.all(np.isfinite(y)):
            bad = int(np.flatnonzero(~np.isfinite(y))[0])
            raise InputError(f"the output is not finite for sample {bad}: "
                             + ", ".join(f"{n}={v:.4g}" for n, v in zip(self.problem["names"], self._values(x[bad:bad + 1])[0])),
                             field="parameters", valid="narrower bounds where the model can be simulated")
        return y

    def fit(self) -> "SensitivityAnalysis":
        from SALib.analyze import fast as fast_a
        from SALib.analyze import morris as morris_a
        from SALib.analyze import sobol as sobol_a
        from SALib.sample import fast_sampler, morris as morris_s, sobol as sobol_s

        prob = self.problem
        if self.method == "sobol":
            x = sobol_s.sample(prob, self.samples, calc_second_order=False, seed=self.seed)
            y = self._evaluate(x)
            res = sobol_a.analyze(prob, y, calc_second_order=False, seed=self.seed)
            cols = ["S1", "S1_conf", "ST", "ST_conf"]
        elif self.method == "morris":
            x = morris_s.sample(prob, self.samples, seed=self.seed)
            y = self._evaluate(x)
            res = morris_a.analyze(prob, x, y, seed=self.seed)
            cols = ["mu", "mu_star", "sigma", "mu_star_conf"]
        else:
            x = fast_sampler.sample(prob, self.samples, seed=self.seed)
            y = self._evaluate(x)
            import warnings

            with warnings.catch_warnings():  # SALib warns its eFAST bootstrap intervals are indicative only: docs say so
                warnings.filterwarnings("ignore", message="FAST confidence intervals")
                res = fast_a.analyze(prob, y, seed=self.seed)
            cols = ["S1", "S1_conf", "ST", "ST_conf"]
        self.samples_ = pd.DataFrame(self._values(x), columns=prob["names"]).assign(output=y)
        self.indices_ = pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in cols},
                                     index=pd.Index(prob["names"], name="parameter"))
        self.n_evaluations_ = len(x)
        self._fitted = True
        return self

    @property
    def summary(self) -> pd.DataFrame:
        if not self._fitted:
            raise InputError("not run yet: call .fit() first", field="sensitivity")
        return self.indices_.assign(method=self.method, output=self.output_name)

    def tornado(self) -> pd.DataFrame:
        """One at a time: the output with each parameter at its lower and upper bound, the others at
        the baseline (the values in force; the box centre where there are none). One batched evaluation."""
        p = len(self.parameters)
        lo = np.array([float(q.to_internal(q.lower)) for q in self.parameters])
        hi = np.array([float(q.to_internal(q.upper)) for q in self.parameters])
        if self.baseline is not None:
            centre = np.array([float(q.to_internal(v)) for q, v in zip(self.parameters, self.baseline)])
            centre = np.clip(centre, lo, hi)
        else:
            centre = (lo + hi) / 2
        x = np.tile(centre, (2 * p + 1, 1))
        for i in range(p):
            x[1 + 2 * i, i], x[2 + 2 * i, i] = lo[i], hi[i]
        y = self._evaluate(x)
        df = pd.DataFrame({"parameter": [q.name for q in self.parameters], "baseline_value": self._values(centre[None, :])[0],
                           "output_at_lower": y[1::2], "output_at_upper": y[2::2], "baseline_output": y[0]})
        df["swing"] = (df["output_at_upper"] - df["output_at_lower"]).abs()
        return df.sort_values("swing", ascending=False).reset_index(drop=True)

    def plot(self, ax=None):
        """Bar chart of the indices (Sobol / eFAST: S1 and ST with their confidence; Morris: μ* and σ)."""
        import matplotlib.pyplot as plt

        if not self._fitted:
            raise InputError("not run yet: call .fit() first", field="sensitivity")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        df = self.indices_
        pos = np.arange(len(df))
        if self.method == "morris":
            ax.bar(pos - 0.2, df["mu_star"], 0.4, yerr=df["mu_star_conf"], label="μ*")
            ax.bar(pos + 0.2, df["sigma"], 0.4, label="σ")
            ax.set_ylabel("elementary effect")
        else:
            ax.bar(pos - 0.2, df["S1"], 0.4, yerr=df["S1_conf"], label="first order S1")
            ax.bar(pos + 0.2, df["ST"], 0.4, yerr=df["ST_conf"], label="total ST")
            ax.set_ylabel("Sobol index")
        ax.set_xticks(pos, df.index, fontsize=7, rotation=15)
        ax.legend(fontsize=7)
        ax.set_title(f"{self.method}: {self.output_name}", fontsize=9)
        return ax

    def plot_tornado(self, ax=None, table: pd.DataFrame | None = None):
        import matplotlib.pyplot as plt

        t = self.tornado() if table is None else table
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.5 * len(t) + 1.5))
        t = t.iloc[::-1]
        base = float(t["baseline_output"].iloc[0])
        pos = np.arange(len(t))
        ax.barh(pos, t["output_at_lower"] - base, left=base, color="#4477aa", label="parameter at lower bound")
        ax.barh(pos, t["output_at_upper"] - base, left=base, color="#ee6677", label="parameter at upper bound")
        ax.axvline(base, color="k", lw=0.8)
        ax.set_yticks(pos, t["parameter"], fontsize=7)
        ax.set_xlabel(self.output_name)
        ax.legend(fontsize=7)
        ax.set_title("One-at-a-time swing (tornado)", fontsize=9)
        return ax


def sensitivity_from_spec(spec: SensitivitySpec, base: Path | None = None) -> SensitivityAnalysis:
    """The analysis a sensitivity spec describes (a scenario path is read relative to the spec)."""
    out = spec.output
    if out.scenario:
        if not out.metric:
            raise InputError("a scenario output needs a metric", field="output.metric", valid="a metric of the scenario's run, e.g. ic50_nM")
        path = Path(out.scenario)
        if base is not None and not path.is_absolute() and not path.exists():
            path = base / path
        fn = ScenarioOutput(path, out.metric, spec.parameters, out.where)
    else:
        if spec.model is None or out.experiment is None or out.time is None:
            raise InputError("a cell-model output needs model, output.experiment and output.time", field="output",
                             valid="{experiment: ID, observable: fold_change, time: 504} with a model block, or {scenario: FILE, metric: NAME}")
        fn = CellModelOutput(spec.model, spec.parameters, out.experiment, out.observable,
                             out.time * (24.0 if out.time_unit == "day" else 1.0))
    return SensitivityAnalysis(spec.parameters, fn, method=spec.method, samples=spec.samples, seed=spec.seed,
                               transform=out.transform)
