"""Turning knowledge-base Values into model Parameters, with their provenance carried along."""

from __future__ import annotations

import math

from ..knowledge._schema import Value
from ._core import Parameter, Provenance, assumed

__all__ = ["from_value", "half_life_to_rate", "param"]

_KIND = {"measured": "measured", "calibrated": "calibrated", "assumed": "assumed"}


def _provenance(v: Value, extra: str = "") -> Provenance:
    note = "; ".join(x for x in (v.note, extra) if x)
    return Provenance(_KIND[v.kind], v.source, note)


def from_value(name: str, v: Value, unit: str, *, description: str = "", module: str = "", scale: float = 1.0) -> Parameter:
    """A Parameter from a knowledge-base Value (converted to ``unit`` with pint when units differ)."""
    from ..units import ureg

    value = v.value
    if v.unit != unit:
        value = float(ureg.Quantity(value, v.unit).to(unit).magnitude)
    return Parameter(name, value * scale, unit, _provenance(v), description, module)


def half_life_to_rate(name: str, v: Value, *, description: str = "", module: str = "") -> Parameter:
    """First-order rate constant ln2 / t½ (1/h) from a half-life Value."""
    from ..units import ureg

    t_half = float(ureg.Quantity(v.value, v.unit).to("hour").magnitude)
    return Parameter(name, math.log(2) / t_half, "1/h", _provenance(v, f"rate = ln2 / {t_half:g} h"), description, module)


def param(name: str, value: float, unit: str, provenance: Provenance | None = None, *, description: str = "", module: str = "") -> Parameter:
    return Parameter(name, float(value), unit, provenance or assumed("eralpha default"), description, module)
