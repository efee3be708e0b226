"""Can every scorecard row fail? Each row's pass rule as a function, and each expectation's falsifier run.

A row that cannot fail is not a test. Two checks, both cheap enough to run in the test suite:

* :func:`row_check` rebuilds the pass rule of any scorecard row from its printed target and tolerance
  (``±5%`` of a value, a range, a bound, ">= 80 % of replicate studies"), so a test can confirm that
  the rule reproduces ``passed`` for the simulated value and rejects a value beyond the tolerance;
* :func:`falsify` re-runs an in-vitro scenario with the knowledge-base change an expectation declares
  (``falsified_by``: the value the row rests on) and returns that row, which must then fail.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

__all__ = ["row_check", "outside_value", "falsify", "expectation_falsifiers"]

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"


def row_check(row: dict) -> Callable[[float], bool]:
    """The pass rule of a scorecard row, from its ``target`` and ``tolerance`` text."""
    target, tol = str(row["target"]).strip(), str(row["tolerance"])
    m = re.fullmatch(rf">= ({_NUM}) ?%.*replicate studies.*", target)
    if m:  # xenograft claims: the fraction of replicate studies in which the effect is significant
        lo = float(m.group(1)) / 100
        return lambda x: x is not None and math.isfinite(x) and x >= lo
    m = re.fullmatch(rf"\[({_NUM}), ({_NUM})\]", target)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return lambda x: x is not None and math.isfinite(x) and lo <= x <= hi
    m = re.fullmatch(rf"(>=|<=) ({_NUM})", target)
    if m:
        bound = float(m.group(2))
        if m.group(1) == ">=":
            return lambda x: x is not None and math.isfinite(x) and x >= bound
        return lambda x: x is not None and math.isfinite(x) and x <= bound
    m = re.fullmatch(_NUM, target)
    rel = re.match(rf"±({_NUM})%", tol)
    if m and rel:
        value, r = float(target), float(rel.group(1)) / 100
        return lambda x: x is not None and math.isfinite(x) and abs(x - value) <= r * abs(value) * (1 + 1e-9)
    raise ValueError(f"row {row.get('id')}: cannot read the pass rule from target {target!r}, tolerance {tol!r}")


def outside_value(row: dict) -> float:
    """A simulated value just beyond the row's tolerance (on the side away from the simulated value)."""
    target = str(row["target"]).strip()
    sim = row.get("simulated")
    nums = [float(x) for x in re.findall(_NUM, target)]
    if target.startswith(">="):
        lo = nums[0] / 100 if "%" in target else nums[0]
        return lo - 0.1 * max(abs(lo), 1e-3) - 1e-9
    if target.startswith("<="):
        return nums[0] + 0.1 * max(abs(nums[0]), 1e-3) + 1e-9
    if target.startswith("["):
        lo, hi = nums
        return hi * 1.5 + 1e-9 if sim is None or sim <= math.sqrt(abs(lo * hi)) or lo <= 0 else lo / 1.5
    value = nums[0]
    rel = float(re.match(rf"±({_NUM})%", str(row["tolerance"])).group(1)) / 100
    return value * (1 + 2 * rel) if value else 1.0


def expectation_falsifiers(scenario) -> list:
    """The scenario's expectations that declare ``falsified_by``."""
    return [e for e in scenario.expect if e.falsified_by is not None]


def falsify(scenario, expectation_id: str) -> dict:
    """Re-run ``scenario`` with its expectation's declared knowledge-base change; returns that row."""
    from ..experiments import run_experiment
    from ..knowledge import load_knowledge

    (e,) = [x for x in scenario.expect if x.id == expectation_id]
    f = e.falsified_by
    if f is None:
        raise ValueError(f"expectation '{expectation_id}' declares no falsified_by")
    from ..knowledge._loader import value_at

    kb = load_knowledge()
    base = {k: value_at(kb, k).value for k in (f.parameter, *f.also)}
    changed = scenario.model_copy(update={"knowledge_overrides": {**scenario.knowledge_overrides, **f.override(base)},
                                          "expect": [e]})
    (row,) = [r for r in run_experiment(changed).scorecard if r["id"] == expectation_id]
    return row
