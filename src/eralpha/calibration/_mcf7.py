"""Calibrating the cell model to the He et al. 2025 MCF7 Coulter-counter time courses.

Data: ``knowledge/data/reference/mcf7_timecourses/`` (shipped with the package) (He W, Demas DM, Kraikivski P, Shajahan-Haq AN, Baumann WT,
npj Syst Biol Appl 11:128, 2025; MIT licence; read its README for every caveat). Each dish is counted three
times; the mean of the three reads is one observation. Fold change is taken against the same replicate's
T = 0 count (the 6-day dose response has no T = 0 count: the plated 50 000 cells are used, as the authors do).

**Held back before fitting (predictions, never seen by the fit):**

* ``E2020_abema500_7d`` — abemaciclib 500 nM vs vehicle, 7 days (a drug the fit never sees: its effect
  follows from its KB CDK4/CDK6 IC50s, the calibrated cellular shift learned on palbociclib, and its
  off-target CDK2 activity);
* the 4-week constant palbociclib 250 / 500 nM arms (``cellcounts_20191115_20191217_...``): a separate
  experiment; week 4 is beyond any fitted time point.

**Excluded:** the ``+E2+ICI100 (uncertain)`` arm (its identity is uncertain, README caveat 1), the
confluent day-14 control dishes (README), the long-term-treated cell lines of the dose response (other cell
states), AZD1775 (WEE1 is not in the model).

**Objective.** Log-normal counting and plating noise: residual = (ln model fold − ln observed fold) / σ,
one per dish, σ common (its maximum-likelihood value is the RMS of the log residuals); each experiment is
weighted equally (a dish's residual is divided by √(its experiment's dishes / mean dishes per experiment)),
because experiments differ in passage, density and batch more than dishes within one do. Free parameters
are fitted on a log scale inside bounds with ``scipy.optimize.least_squares`` (trust-region reflective)
from several starts drawn (Latin hypercube, seeded) inside the bounds; every objective evaluation is one
batched engine call (the forward-difference Jacobian too: one call with every perturbed parameter set).

Protocol in the model: cells pre-equilibrate 300 h in 10 nM oestradiol (the stock culture), then at t = 0
the arm's medium is set (oestradiol 10 nM, 10 pM, or charcoal-stripped serum = a fitted residual level) and
its drugs added (CDK4/6 inhibitors at their free concentration in 10 % serum, ``model/_medium.py``, so that
``cdk_cellular_shift`` is learned on the free levels patients see); the dish's own T = 0 count is the initial number; the carrying capacity scales with the
vessel's growth area.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["MCF7TimecourseCalibration", "load_mcf7_timecourses", "FREE_PARAMETERS", "HELD_BACK", "DATA_DIR_DEFAULT",
           "timecourse_scorecard_rows", "reference_data_dir"]

#: the packaged copy of the He et al. 2025 export (provenance README and licence alongside)
DATA_DIR_DEFAULT = Path(__file__).resolve().parents[1] / "knowledge" / "data" / "reference" / "mcf7_timecourses"

#: experiments held back as predictions (chosen before fitting; see the module docstring)
HELD_BACK = ("E2020_abema500_7d", "constant_palbo_4week")

#: parameters fitted (knowledge-base parameters of kind calibrated, parameters/*.yaml) and their bounds
FREE_PARAMETERS: dict[str, tuple[float, float]] = {
    "mu_max": (0.015, 0.08),
    "K_pRb": (0.15, 0.8),
    "n_pRb": (4.0, 8.0),  # at least the switch-like 4 (Yao 2008): shallower switches leak vehicle cells into arrest
    "k_arrest": (0.005, 0.5),
    "cdk_cellular_shift": (1.0, 100.0),
    "k_senescence": (1e-4, 0.05),
    "k_CDK2_adapt": (1e-4, 0.05),
    "cyce_adapt_gain": (0.3, 20.0),
    "death_rate": (1e-4, 0.01),
    "e2_residual_stripped_serum": (1e-5, 0.05),
}

#: growth area of the vessels (cm²; Corning / Falcon product specifications) — the carrying capacity scales with it
VESSEL_AREA_CM2 = {"60 mm dish": 21.0, "10cm2 dish": 55.0, "6-well plate well": 9.5}
_CAPACITY_VESSEL = "60 mm dish"  # the knowledge base's capacity (parameters/fate.yaml) is given for this vessel
_PRE_EQUILIBRATION_H = 300.0
_STOCK_E2_NM = 10.0


def reference_data_dir() -> Path:
    return Path(os.environ.get("ERALPHA_MCF7_TIMECOURSES", DATA_DIR_DEFAULT))


def _vessel(v: str) -> str:
    v = str(v)
    for k in VESSEL_AREA_CM2:
        if k.split()[0] in v:
            return k
    if "10" in v:
        return "10cm2 dish"
    raise InputError(f"unknown culture vessel '{v}'", field="vessel", valid=", ".join(VESSEL_AREA_CM2))


def load_mcf7_timecourses(folder: str | Path | None = None) -> pd.DataFrame:
    """One row per dish (mean of its Coulter reads): arm, medium, drugs, day, fold vs T = 0, role."""
    folder = Path(folder) if folder is not None else reference_data_dir()
    if not folder.is_dir():
        raise InputError("the MCF7 time-course folder does not exist", file=str(folder),
                         valid="the He et al. 2025 export (set ERALPHA_MCF7_TIMECOURSES)")
    frames = []
    for f in sorted(folder.glob("cellcounts_*.csv")) + sorted(folder.glob("doseresponse_20220623_*.csv")):
        d = pd.read_csv(f)
        d["file"] = f.name
        frames.append(d)
    raw = pd.concat(frames, ignore_index=True)
    keys = ["file", "experiment_id", "condition", "replicate", "day", "day_actual", "plate", "cell_line"]
    raw["drug"] = raw["drug"].fillna("")
    raw["conc_nM"] = raw["conc_nM"].fillna(0.0)
    dish = raw.groupby(keys + ["e2_nM", "drug", "conc_nM", "vessel", "seeding_cells"], dropna=False)["cell_count"].mean().reset_index()
    is_t0 = dish["condition"].str.contains("T0|T=0", regex=True)
    t0 = dish[is_t0].groupby(["file", "replicate"])["cell_count"].mean()
    rows = dish[~is_t0].copy()
    # week-1 dishes common to both constant arms count for both
    common = rows["condition"].str.startswith("week-1")
    rows.loc[common, "condition"] = "constant"
    rows["t0"] = [t0.get((f, r), np.nan) for f, r in zip(rows["file"], rows["replicate"])]
    dr = rows["file"].str.startswith("doseresponse")
    rows.loc[dr, "t0"] = rows.loc[dr, "seeding_cells"]
    rows = rows[~(dr & ~rows["cell_line"].str.startswith("MCF7 parental"))]
    # the abemaciclib vehicle dishes of days 6-7 were seeded lower than the T = 0 dish (README): scale T = 0
    abema = rows["experiment_id"].eq("E2020_abema500_7d")
    seeded = rows.groupby("file")["seeding_cells"].transform("max")
    rows.loc[abema, "t0"] = rows.loc[abema, "t0"] * rows.loc[abema, "seeding_cells"] / seeded[abema]
    rows = rows[~rows["condition"].str.contains("uncertain")]
    rows = rows[~(rows["experiment_id"].str.contains("control_proliferation") & (rows["day"] >= 14))]
    rows["fold"] = rows["cell_count"] / rows["t0"]
    rows["time_h"] = 24.0 * rows["day_actual"].fillna(rows["day"]).astype(float)
    rows["vessel"] = rows["vessel"].map(_vessel)
    rows["drug"] = rows["drug"].replace({"vehicle": "", "vehicle (0.04% DMSO)": ""})
    rows.loc[rows["drug"] == "", "conc_nM"] = 0.0
    rows["experiment"] = np.where(rows["file"].str.contains("constant_palbo"), "constant_palbo_4week", rows["experiment_id"])
    rows["role"] = np.where(rows["experiment"].isin(HELD_BACK), "prediction", "calibration")
    rows["arm"] = rows["experiment"] + " | " + rows["e2_nM"].map("E2 {:g} nM".format) + " | " + np.where(
        rows["drug"] == "", "no drug", rows["drug"] + " " + rows["conc_nM"].map("{:g}".format) + " nM")
    rows = rows[np.isfinite(rows["fold"]) & (rows["fold"] > 0)]
    cols = ["experiment", "arm", "role", "replicate", "e2_nM", "drug", "conc_nM", "day", "time_h", "vessel", "t0", "cell_count", "fold"]
    return rows[cols].sort_values(["experiment", "arm", "replicate", "time_h"]).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
@dataclass
class MCF7TimecourseCalibration:
    """Fit the cell model's free parameters to the calibration dishes (``fit(...) -> self``).

    >>> cal = MCF7TimecourseCalibration(n_starts=3, seed=1).fit()
    >>> cal.summary            # parameter, start (KB), fitted, bounds
    >>> cal.predictions_       # held-back arms: observed vs model fold
    """

    n_starts: int = 3
    seed: int = 20250
    max_nfev: int = 50
    parameters: tuple[str, ...] = tuple(FREE_PARAMETERS)
    data_dir: str | None = None
    data_: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        bad = [p for p in self.parameters if p not in FREE_PARAMETERS]
        if bad:
            raise InputError(f"not a free parameter of this calibration: {bad}", field="parameters", valid=", ".join(FREE_PARAMETERS))
        self._compiled = None

    # --- model -------------------------------------------------------------------------------
    def _model(self):
        if self._compiled is None:
            from ..engine import compile_model
            from ..model._cell import assemble_cell_model

            self._compiled = compile_model(assemble_cell_model(cell_line="MCF7", ligands=("fulvestrant",),
                                                               inhibitors=("palbociclib", "abemaciclib")))
        return self._compiled

    def _arms(self, data: pd.DataFrame) -> pd.DataFrame:
        return data.groupby("arm").agg(e2_nM=("e2_nM", "first"), drug=("drug", "first"), conc_nM=("conc_nM", "first"),
                                       vessel=("vessel", "first"), t0=("t0", "mean")).reset_index()

    def simulate_arms(self, data: pd.DataFrame, values: dict[str, np.ndarray] | None = None, *, reps: int = 1):
        """Model fold change for every arm of ``data`` at its time points, for ``reps`` parameter sets each.

        ``values``: parameter -> (reps,) array. Returns (arms table, times (T,), fold (reps, arms, T)).
        """
        from ..engine import Event, SolverOptions, simulate
        from ..knowledge import load_knowledge
        from ..model._medium import free_in_medium

        kb = load_knowledge()
        arms = self._arms(data)
        A = len(arms)
        times = np.unique(np.concatenate([[0.0], data["time_h"].to_numpy()]))
        values = {k: np.asarray(v, float) for k, v in (values or {}).items()}
        residual = values.pop("e2_residual_stripped_serum", None)
        if residual is None:
            residual = np.full(reps, kb.parameter("e2_residual_stripped_serum").value)
        rep = lambda a: np.repeat(np.asarray(a, float)[None, :], reps, axis=0).ravel()  # noqa: E731  (reps, A) -> B
        e2_arm = np.where(arms["e2_nM"].to_numpy() > 0, arms["e2_nM"].to_numpy(), np.nan)
        e2 = np.where(np.isnan(rep(e2_arm)), np.repeat(residual, A), rep(np.nan_to_num(e2_arm)))
        capacity = kb.parameter("capacity").value * arms["vessel"].map(VESSEL_AREA_CM2).to_numpy() / VESSEL_AREA_CM2[_CAPACITY_VESSEL]
        params = {k: np.repeat(v, A) for k, v in values.items()}
        params["conc_E2"] = np.full(reps * A, _STOCK_E2_NM)
        params["capacity"] = rep(capacity)
        events = [Event(0.0, "conc_E2", e2), Event(0.0, "cells", rep(arms["t0"].to_numpy()))]
        for drug in ("palbociclib", "fulvestrant", "abemaciclib"):
            conc = np.where(arms["drug"].to_numpy() == drug, free_in_medium(drug, arms["conc_nM"].to_numpy()), 0.0)
            events.append(Event(0.0, f"conc_{drug}", rep(conc)))
        res = simulate(self._model(), times, start=-_PRE_EQUILIBRATION_H, parameters=params, events=events,
                       options=SolverOptions(rtol=1e-5, atol=1e-8))
        cells = res["cells"].reshape(reps, A, len(times))
        return arms, times, cells / rep(arms["t0"].to_numpy()).reshape(reps, A)[:, :, None]

    def _log_residuals(self, data: pd.DataFrame, values: dict[str, np.ndarray], reps: int) -> np.ndarray:
        arms, times, fold = self.simulate_arms(data, values, reps=reps)
        ai = arms.reset_index().set_index("arm")["index"].loc[data["arm"]].to_numpy()
        ti = np.searchsorted(times, data["time_h"].to_numpy())
        model = np.maximum(fold[:, ai, ti], 1e-12)
        return np.log(model) - np.log(data["fold"].to_numpy())[None, :]

    # --- fitting -----------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame | None = None) -> "MCF7TimecourseCalibration":
        from scipy.optimize import least_squares
        from scipy.stats import qmc

        from ..knowledge import load_knowledge

        kb = load_knowledge()
        all_data = data if data is not None else load_mcf7_timecourses(self.data_dir)
        self.data_ = all_data
        cal = all_data[all_data["role"] == "calibration"].reset_index(drop=True)
        names = list(self.parameters)
        lo = np.log([FREE_PARAMETERS[n][0] for n in names])
        hi = np.log([FREE_PARAMETERS[n][1] for n in names])
        x_kb = np.clip(np.log([kb.parameter(n).value for n in names]), lo, hi)
        starts = [x_kb]
        if self.n_starts > 1:
            lhs = qmc.LatinHypercube(d=len(names), seed=self.seed).random(self.n_starts - 1)
            starts += list(lo + lhs * (hi - lo))
        h = 1e-3
        # every experiment weighs the same whatever its number of dishes (experiments differ in batch, passage
        # and density more than dishes within one): residual / sqrt(dishes in its experiment)
        n_exp = cal["experiment"].nunique()
        weight = 1.0 / np.sqrt(cal.groupby("experiment")["fold"].transform("size").to_numpy() * n_exp / len(cal))

        def fun(x):
            return weight * self._log_residuals(cal, dict(zip(names, np.exp(x)[:, None])), 1)[0]

        def jac(x):  # forward differences, every perturbed set in one batched call
            X = np.repeat(x[None, :], len(x) + 1, axis=0)
            X[1:] += np.eye(len(x)) * h
            r = weight[None, :] * self._log_residuals(cal, {n: np.exp(X[:, i]) for i, n in enumerate(names)}, len(x) + 1)
            return ((r[1:] - r[0]) / h).T

        runs = []
        for k, x0 in enumerate(starts):
            try:
                sol = least_squares(fun, x0, jac=jac, bounds=(lo, hi), method="trf", x_scale=1.0, max_nfev=self.max_nfev)
                runs.append((float(np.sum(sol.fun ** 2)), k, sol))
            except Exception as exc:  # a start the solver cannot integrate is skipped, and said so
                runs.append((np.inf, k, exc))
        finite = [r for r in runs if np.isfinite(r[0])]
        if not finite:
            raise InputError("no start of the MCF7 calibration converged", field="n_starts", value=self.n_starts)
        best = min(finite, key=lambda r: r[0])[2]
        self.starts_ = pd.DataFrame([{"start": k, "sse": s, **({n: float(np.exp(v)) for n, v in zip(names, r.x)} if np.isfinite(s) else {})}
                                     for s, k, r in runs])
        self.params_ = {n: float(np.exp(v)) for n, v in zip(names, best.x)}
        self.sigma_ = float(np.sqrt(np.mean((best.fun / weight) ** 2)))  # unweighted RMS of the ln residuals
        # approximate standard errors on the log scale from the Gauss-Newton Hessian
        J = best.jac
        try:
            cov = np.linalg.inv(J.T @ J) * self.sigma_ ** 2
            se = np.sqrt(np.clip(np.diag(cov), 0, None))
        except np.linalg.LinAlgError:
            se = np.full(len(names), np.nan)
        self.summary = pd.DataFrame({
            "parameter": names,
            "start_kb": [float(np.exp(v)) for v in x_kb],
            "fitted": [self.params_[n] for n in names],
            "fold_se": np.exp(se),
            "lower": [FREE_PARAMETERS[n][0] for n in names],
            "upper": [FREE_PARAMETERS[n][1] for n in names],
            "at_bound": [bool(np.isclose(v, a) or np.isclose(v, b)) for v, a, b in zip(best.x, lo, hi)],
        })
        self.residuals_ = self.table(all_data, self.params_)
        self.predictions_ = self.residuals_[self.residuals_["role"] == "prediction"]
        return self

    def table(self, data: pd.DataFrame, values: dict[str, float] | None = None) -> pd.DataFrame:
        """``data`` with the model's fold change and the log10 residual at each dish."""
        r = self._log_residuals(data, {k: np.array([v]) for k, v in (values or {}).items()}, 1)[0]
        out = data.copy()
        out["model_fold"] = np.exp(np.log(out["fold"]) + r)
        out["log10_residual"] = r / np.log(10)
        return out

    def print_summary(self) -> None:
        print(self.summary.to_string(index=False))
        print(f"sigma (log-normal, natural log) = {self.sigma_:.3f}")

    def plot(self, table: pd.DataFrame | None = None, ax=None):
        """Data (dishes) vs model (lines) per arm, log scale; held-back arms dashed."""
        import matplotlib.pyplot as plt

        t = table if table is not None else self.residuals_
        arms = list(dict.fromkeys(t["arm"]))
        n = len(arms)
        cols = 4
        if ax is None:
            fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(14, 2.6 * np.ceil(n / cols)), squeeze=False)
        else:
            axes = np.atleast_2d(ax)
            fig = axes.flat[0].figure
        values = {k: np.array([v]) for k, v in getattr(self, "params_", {}).items()}
        arm_table, times, fold = self.simulate_arms(t, values) if len(t) else (None, None, None)
        dense_t = times
        for i, arm in enumerate(arms):
            a = axes.flat[i]
            d = t[t["arm"] == arm]
            pred = d["role"].iloc[0] == "prediction"
            j = list(arm_table["arm"]).index(arm)
            a.plot(dense_t / 24, fold[0, j], "--" if pred else "-", color="C3" if pred else "C0", label="model")
            a.plot(d["time_h"] / 24, d["fold"], "o", ms=3, color="k", label="dishes")
            a.set_yscale("log")
            a.set_title(arm.replace(" | ", "\n", 1) + (" (prediction)" if pred else ""), fontsize=7)
            a.tick_params(labelsize=7)
        for k in range(n, axes.size):
            axes.flat[k].axis("off")
        fig.supxlabel("day")
        fig.supylabel("fold change vs T = 0")
        fig.tight_layout()
        return axes

    def write_knowledge(self, folder: str | Path | None = None, command: str = "eralpha calibrate mcf7-timecourses") -> list[Path]:
        """Write the fitted values into the ``parameters/*.yaml`` files that define them (value only), and
        record the command in the first line of each file changed."""
        from ..knowledge import DATA_DIR
        from ..knowledge._loader import PARAMETERS_DIR
        from ..store._atomic import write_text_atomic

        root = Path(folder) if folder is not None else DATA_DIR / PARAMETERS_DIR
        texts = {p: p.read_text(encoding="utf-8") for p in sorted(root.glob("*.yaml"))}
        changed: set[Path] = set()
        for name, v in self.params_.items():
            pat = re.compile(rf"(^{re.escape(name)}:\n  value: )([^\n]+)", re.M)
            where = [p for p, t in texts.items() if pat.search(t)]
            if not where:
                raise InputError(f"no parameter '{name}' to update", file=str(root), field=name, valid="a name defined in parameters/*.yaml")
            texts[where[0]] = pat.sub(lambda m: m.group(1) + f"{v:.4g}", texts[where[0]])
            changed.add(where[0])
        stamp = f"# last calibration: `{command}` (seed {self.seed}, {self.n_starts} starts), sigma {self.sigma_:.3f}\n"
        for p in sorted(changed):
            write_text_atomic(p, stamp + re.sub(r"^# last calibration: .*\n", "", texts[p], flags=re.M))
        return sorted(changed)


# ----------------------------------------------------------------------------------------------
def timecourse_scorecard_rows() -> list[dict]:
    """Scorecard rows of the fit (calibration) and of the held-back experiments (prediction), from the KB's
    calibrated values and the data read now from the reference folder."""
    folder = reference_data_dir()
    if not folder.is_dir():
        return []
    data = load_mcf7_timecourses(folder)
    cal = MCF7TimecourseCalibration()
    t = cal.table(data)
    src = "He W et al. 2025 npj Syst Biol Appl 11:128 (reference-data/mcf7-timecourses)"
    rows = []

    def row(id_, quantity, simulated, target, tol, kind, passed):
        rows.append(dict(id=id_, quantity=quantity, source=src, target=target, simulated=float(simulated), tolerance=tol,
                         kind=kind, passed=bool(passed)))

    c = t[t["role"] == "calibration"]
    rms = float(np.sqrt(np.mean(c["log10_residual"] ** 2)))
    row("mcf7_timecourses.fit.rms_log10", "RMS log10 error of model vs every calibration dish (fold change vs T = 0)",
        rms, "<= 0.3", "0.3 log10 = a factor of 2: the day-to-day scatter of replicate dishes is ~0.1-0.2 log10", "calibration", rms <= 0.3)
    for exp, g in c.groupby("experiment"):
        last = g[g["time_h"] == g.groupby("arm")["time_h"].transform("max")]
        err = float(np.sqrt(np.mean(last["log10_residual"] ** 2)))
        row(f"mcf7_timecourses.fit.{exp}", f"{exp}: RMS log10 error at each arm's last count", err, "<= 0.4",
            "a factor of 2.5 at the end point of each fitted experiment", "calibration", err <= 0.4)
    p = t[t["role"] == "prediction"]
    for arm, g in p.groupby("arm"):
        last = g[g["time_h"] == g["time_h"].max()]
        obs, sim = float(np.exp(np.mean(np.log(last["fold"])))), float(last["model_fold"].iloc[0])
        ratio = sim / obs
        key = re.sub(r"[^A-Za-z0-9]+", "_", arm).strip("_")
        row(f"mcf7_timecourses.predict.{key}", f"held back: {arm}, fold change at day {last['day'].iloc[0]:g} (model / observed)",
            ratio, f"[0.5, 2] (observed {obs:.3g}x)", "a factor of 2 either way, as for the fitted arms' end points", "prediction",
            0.5 <= ratio <= 2.0)
    if "E2020_abema500_7d" in set(p["experiment"]):
        g = p[p["experiment"] == "E2020_abema500_7d"]
        day = g["time_h"].max()
        last = g[g["time_h"] == day]
        drug = last["drug"] == "abemaciclib"
        obs = float(np.exp(np.mean(np.log(last.loc[drug, "fold"]))) / np.exp(np.mean(np.log(last.loc[~drug, "fold"]))))
        sim = float(last.loc[drug, "model_fold"].iloc[0] / last.loc[~drug, "model_fold"].iloc[0])
        row("mcf7_timecourses.predict.abemaciclib_vs_vehicle", f"held back: abemaciclib 500 nM / vehicle cell number at day {day / 24:g}",
            sim, f"[{obs / 2:.3g}, {obs * 2:.3g}] (observed {obs:.3g})", "a factor of 2 around the observed ratio", "prediction",
            obs / 2 <= sim <= obs * 2)
    return rows
