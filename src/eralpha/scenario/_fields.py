"""Scenario field types: quantities with units, checked before anything runs."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator

from ..units import ureg

__all__ = ["Conc", "Hours", "ConcList", "HoursList", "to_unit"]


def to_unit(value: Any, unit: str, *, allow_zero: bool = True) -> float:
    """'10 nM' -> 10.0 (in ``unit``); bare numbers are rejected (units at the edges)."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit — write it with one, e.g. '{value} {unit}'")
    if not isinstance(value, str):
        raise ValueError(f"expected a quantity such as '10 {unit}', got {value!r}")
    try:
        q = ureg.Quantity(value.replace("µ", "u").replace("μ", "u"))
    except Exception:
        raise ValueError(f"cannot read {value!r} as a quantity; write e.g. '10 {unit}'") from None
    if not hasattr(q, "to") or getattr(q, "dimensionless", False):
        raise ValueError(f"{value!r} has no unit — write it with one, e.g. '{value} {unit}'")
    try:
        x = float(q.to(unit).magnitude)
    except Exception:
        raise ValueError(f"{value!r} is not convertible to {unit} (wrong dimension); write e.g. '10 {unit}'") from None
    if not math.isfinite(x):
        raise ValueError(f"{value!r} is not a finite quantity; write e.g. '10 {unit}'")
    if x < 0:
        raise ValueError(f"{value!r} is negative; it must be >= 0")
    if not allow_zero and x == 0:
        raise ValueError(f"{value!r} must be greater than zero")
    return x


def _series(unit: str):
    def parse(value: Any) -> list[float]:
        # either a list of quantities ['0.1 nM', '1 nM'] or {values: [...], unit: nM}
        if isinstance(value, dict):
            if set(value) != {"values", "unit"} or not isinstance(value["values"], list) or not value["values"]:
                raise ValueError(f"write a series as {{values: [...], unit: {unit}}} or as a list of quantities")
            return [to_unit(f"{v} {value['unit']}", unit) for v in value["values"]]
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError("the list is empty")
            return [to_unit(v, unit) for v in value]
        return [to_unit(value, unit)]

    return parse


Conc = Annotated[float, BeforeValidator(lambda v: to_unit(v, "nM"))]
Hours = Annotated[float, BeforeValidator(lambda v: to_unit(v, "hour"))]
ConcList = Annotated[list[float], BeforeValidator(_series("nM"))]
HoursList = Annotated[list[float], BeforeValidator(_series("hour"))]
