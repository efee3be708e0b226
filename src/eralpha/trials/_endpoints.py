"""Trial endpoints from a patient table, with the analysis layer's survival and RECIST statistics.

One row per randomised patient: ``arm``, ``pfs_months``, ``event``, ``measurable``,
``objective_response``, ``clinical_benefit`` and the subgroup / stratification covariates. The same
table shape a real trial's analysis dataset has, so the same code reads both.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..analysis import SurvivalAnalysis, clopper_pearson, km_median, km_survival_at
from ..analysis._cox import cox_ph, logrank
from ..errors import InputError

__all__ = ["arm_endpoints", "comparison_endpoints", "trial_endpoints", "ARM_KEYS", "COMPARISON_KEYS"]

ARM_KEYS = ("n", "events", "median_pfs_months", "median_pfs_ci", "pfs_6m", "pfs_12m", "orr", "orr_ci", "cbr", "cbr_ci")
COMPARISON_KEYS = ("hr", "hr_ci", "logrank_p")


def _rate(k: int, n: int) -> tuple[float, list[float]]:
    if n == 0:
        return math.nan, [math.nan, math.nan]
    lo, hi = clopper_pearson(k, n)
    return k / n, [lo, hi]


def arm_endpoints(g: pd.DataFrame) -> dict:
    """n, events, KM median PFS (95 % CI), landmark PFS at 6 / 12 months, ORR (measurable) and CBR with exact CIs."""
    t, e = g["pfs_months"].to_numpy(float), g["event"].to_numpy(int)
    med, lo, hi = km_median(t, e) if len(g) else (math.nan, math.nan, math.nan)
    meas = g[g["measurable"]]
    orr, orr_ci = _rate(int(meas["objective_response"].sum()), len(meas))
    cbr, cbr_ci = _rate(int(g["clinical_benefit"].sum()), len(g))
    return {"n": int(len(g)), "events": int(e.sum()), "median_pfs_months": med, "median_pfs_ci": [lo, hi],
            "pfs_6m": km_survival_at(t, e, 6.0), "pfs_12m": km_survival_at(t, e, 12.0),
            "n_measurable": int(len(meas)), "orr": orr, "orr_ci": orr_ci, "cbr": cbr, "cbr_ci": cbr_ci}


def _fast_comparison(sub: pd.DataFrame, experimental: str, strata: tuple[str, ...]) -> dict | None:
    """HR (Efron, stratified Cox) and log-rank p on NumPy arrays (:mod:`eralpha.analysis._cox`), the same
    statistics SurvivalAnalysis gets from lifelines to its convergence tolerance (~1e-7 on HR), ~50x
    faster; None where that path has to decide (a fit that does not converge, missing or odd values)."""
    try:
        t = sub["pfs_months"].to_numpy(float)
        e = sub["event"].to_numpy(float)
    except (TypeError, ValueError):  # text event codes ("yes", "censored"): SurvivalAnalysis reads those
        return None
    if not (np.all(np.isfinite(t)) and np.all(t >= 0) and np.all((e == 0) | (e == 1))):
        return None
    if strata and sub[list(strata)].isna().to_numpy().any():
        return None
    s = sub[list(strata)].astype(str).to_numpy() if strata else None
    x = (sub["arm"] == experimental).to_numpy(float)
    cox = cox_ph(t, e, x, strata=s)
    if cox is None:
        return None
    return {"hr": float(cox["hazard_ratio"][0]), "hr_ci": [float(cox["hr_lower"][0]), float(cox["hr_upper"][0])],
            "logrank_p": float(logrank(t, e, x, strata=s)["p"])}


def comparison_endpoints(table: pd.DataFrame, experimental: str, reference: str, strata: tuple[str, ...] = ()) -> dict:
    """Cox HR (95 % CI; stratified by ``strata``) of ``experimental`` vs ``reference`` and the log-rank p."""
    sub = table[table["arm"].isin([experimental, reference])]
    nan = {"hr": math.nan, "hr_ci": [math.nan, math.nan], "logrank_p": math.nan}
    if sub["arm"].nunique() < 2 or sub["event"].sum() == 0:
        return nan
    strata = tuple(c for c in strata if sub[c].nunique() > 1)
    fast = _fast_comparison(sub, experimental, strata)
    if fast is not None:
        return fast
    try:  # the lifelines path: what the fast fit could not do (separation, unusual values) is decided as before
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = SurvivalAnalysis(time="pfs_months", event="event", arm="arm", reference=reference, strata=strata).fit(sub)
    except InputError:
        return nan
    hr = fit.hazard_ratios_.loc[f"arm={experimental}"]
    return {"hr": float(hr["hazard_ratio"]), "hr_ci": [float(hr["hr_lower"]), float(hr["hr_upper"])],
            "logrank_p": float(fit.logrank_["p"])}


def trial_endpoints(table: pd.DataFrame, arms: list[str], reference: str, *, strata: tuple[str, ...] = (),
                    subgroups: tuple[str, ...] = ()) -> dict:
    """Every endpoint of one trial: per arm, per comparison (each arm vs the reference), per subgroup."""
    out = {"arms": {a: arm_endpoints(table[table["arm"] == a]) for a in arms}, "comparisons": {}, "subgroups": {}}
    others = [a for a in arms if a != reference]
    for a in others:
        out["comparisons"][f"{a} vs {reference}"] = comparison_endpoints(table, a, reference, strata)
    for sg in subgroups:
        for level in sorted(table[sg].astype(str).unique()):
            sub = table[table[sg].astype(str) == level]
            entry = {"arms": {a: {k: v for k, v in arm_endpoints(sub[sub["arm"] == a]).items()
                                  if k in ("n", "events", "median_pfs_months", "median_pfs_ci")} for a in arms}}
            entry["comparisons"] = {f"{a} vs {reference}": comparison_endpoints(sub, a, reference) for a in others}
            out["subgroups"][f"{sg}={level}"] = entry
    return out
