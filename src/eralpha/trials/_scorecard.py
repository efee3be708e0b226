"""Scorecard rows of the shipped trial scenarios: a published number passes when it lies inside the
model's 95 % prediction interval over replicate virtual trials at the published sample size.

The published number is read at the precision it was reported to: "5.5 months" stands for any
value in [5.45, 5.55]. That matters for medians, which in a trial and in the model alike sit on the
scan grid (24 weeks = 5.52 months): a model interval that starts at 5.52 contains a reported 5.5."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np

__all__ = ["trial_scorecard_rows", "published_rows", "shipped_trial_scenarios", "TRIAL_REPLICATES"]

#: replicate virtual trials per shipped scenario in ``eralpha validate`` (each at the published n)
TRIAL_REPLICATES = 20
_PERCENT = {"percent": 0.01, "%": 0.01}


def reported_half_unit(value: float) -> float:
    """Half a unit in the last reported digit of a published number (5.5 -> 0.05, 0.699 -> 0.0005, 52 -> 0.5):
    the shortest decimal that reads back as the stored float is the number as it was written."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return 0.5 * 10.0 ** min(int(exponent), 0)


def consistent_with_interval(published: float, lo: float, hi: float, scale: float = 1.0) -> bool:
    """Whether a published value, read at its reported precision, meets the interval [lo, hi].

    ``scale`` converts the published value's unit to the interval's (0.01 for a percentage)."""
    h = reported_half_unit(published) * scale
    target = published * scale
    return bool(lo <= target + h and target - h <= hi)


def shipped_trial_scenarios() -> list[Path]:
    from ..scenario._load import SHIPPED_DIR

    return sorted(SHIPPED_DIR.glob("trial_*.yaml"))


def _values(result, row) -> list[float]:
    """The endpoint in every replicate trial."""
    out = []
    for e in result.replicates:
        src = e
        if row.subgroup:
            if row.subgroup not in e["subgroups"]:
                return []
            src = e["subgroups"][row.subgroup]
        if row.endpoint in ("hr", "logrank_p"):
            comp = f"{row.comparison[0]} vs {row.comparison[1]}"
            if comp not in src["comparisons"]:
                # the reference of this comparison is not the trial's reference: fit it
                from ._endpoints import comparison_endpoints

                t = result.tables["all_patients"]
                t = t[t["replicate"] == len(out)]
                if row.subgroup:
                    k, v = row.subgroup.split("=", 1)
                    t = t[t[k].astype(str) == v]
                out.append(comparison_endpoints(t, *row.comparison)[row.endpoint])
                continue
            out.append(src["comparisons"][comp][row.endpoint])
        else:
            out.append(src["arms"][row.arm][row.endpoint])
    return out


def published_rows(result) -> list[dict]:
    """One scorecard row per ``published`` entry of the trial's scenario."""
    from ..knowledge import load_knowledge

    kb = load_knowledge()
    s = result.scenario
    R = len(result.replicates)
    rows = []
    for row in s.published:
        pub = kb.published_result(row.id)
        scale = _PERCENT.get(pub.value.unit, 1.0)
        target = pub.value.value * scale
        if row.subgroup and any(row.subgroup not in e["subgroups"] for e in result.replicates):
            # subgroup endpoints per replicate are only computed for the trial as run: fit them here
            vals = _subgroup_hrs(result, row) if row.endpoint == "hr" else []
        else:
            vals = _values(result, row)
        v = np.asarray([x for x in vals if x is not None and np.isfinite(x)], dtype=float)
        lo, hi = (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) if v.size else (math.nan, math.nan)
        med = float(np.median(v)) if v.size else math.nan
        where = f" in {row.subgroup}" if row.subgroup else ""
        if row.claim == "hr_below_1":
            passed = bool(v.size and hi < 1.0)
            tol = f"claim: upper 95 % PI of the HR{where} < 1 (PI {lo:.3g}-{hi:.3g}); {R} replicate trials at the published n"
            target_text = "HR < 1"
        else:
            passed = bool(v.size) and consistent_with_interval(pub.value.value, lo, hi, scale)
            h = reported_half_unit(pub.value.value) * scale
            tol = (f"inside the 95 % PI {lo:.3g}-{hi:.3g} over {R} replicate trials at the published n{where} "
                   f"(the published value at its reported precision, +/- {h:.3g})")
            target_text = target
        note = f"; {row.note}" if row.note else ""
        rows.append({"id": f"trial.{row.id}", "quantity": pub.quantity, "source": pub.value.source,
                     "target": target_text, "simulated": med, "tolerance": tol + note, "kind": row.kind, "passed": passed})
    return rows


def _subgroup_hrs(result, row) -> list[float]:
    from ._endpoints import comparison_endpoints

    t = result.tables["all_patients"]
    k, v = row.subgroup.split("=", 1)
    out = []
    for r in range(len(result.replicates)):
        sub = t[(t["replicate"] == r) & (t[k].astype(str) == v)]
        out.append(comparison_endpoints(sub, *row.comparison)["hr"])
    return out


def trial_scorecard_rows(replicates: int = TRIAL_REPLICATES) -> list[dict]:
    """Every published row of every shipped trial scenario."""
    from ._run import run_trial
    from ._schema import load_trial_scenario

    rows = []
    for path in shipped_trial_scenarios():
        s = load_trial_scenario(path)
        if s.published:
            rows += published_rows(run_trial(s, replicates=replicates))
    return rows
