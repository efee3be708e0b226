"""Turning knowledge-base Values into model Parameters, with their provenance carried along."""

from __future__ import annotations

import math

from ..knowledge._schema import Value
from ._core import Parameter, Provenance, assumed

__all__ = ["from_value", "half_life_to_rate", "param", "kb_param", "kb_value", "kb_param_native"]

_KIND = {"measured": "measured", "calibrated": "calibrated", "assumed": "assumed"}


def _provenance(v: Value, extra: str = "") -> Provenance:
    note = "; ".join(x for x in (v.note, extra) if x)
    return Provenance(_KIND[v.kind], v.source, note)


# model unit -> the pint-readable unit the knowledge base stores it in
_KB_UNIT = {"1": "dimensionless", "cells": "count", "cells/mm^3": "count/mm^3"}


def _convert(value: float, from_unit: str, to_unit: str) -> float:
    from ..units import ureg

    target = _KB_UNIT.get(to_unit, to_unit)
    if from_unit in (to_unit, target):
        return value
    return float(ureg.Quantity(value, from_unit).to(target).magnitude)


def kb_value(name: str) -> Value:
    """A model / experiment parameter's Value from the knowledge base (``knowledge/data/parameters/``)."""
    from ..knowledge import load_knowledge

    return load_knowledge().parameter(name)


def kb_param(name: str, unit: str, *, module: str | None = None, description: str | None = None, model_name: str | None = None) -> Parameter:
    """A Parameter whose value, unit and provenance are the knowledge base's parameter ``name``."""
    v = kb_value(name)
    return Parameter(model_name or name, _convert(v.value, v.unit, unit), unit, _provenance(v),
                     v.description if description is None else description, v.module if module is None else module)


#: the knowledge base's unit -> the model's name for it
_MODEL_UNIT = {kb: model for model, kb in _KB_UNIT.items()}


def kb_param_native(name: str, *, module: str | None = None, description: str | None = None, model_name: str | None = None) -> Parameter:
    """:func:`kb_param` in the unit the knowledge base stores it in (dimensionless -> "1", count -> "cells")."""
    v = kb_value(name)
    return kb_param(name, _MODEL_UNIT.get(v.unit, v.unit), module=module, description=description or None, model_name=model_name)


def from_value(name: str, v: Value, unit: str, *, description: str = "", module: str = "", scale: float = 1.0) -> Parameter:
    """A Parameter from a knowledge-base Value (converted to ``unit`` with pint when units differ)."""
    value = _convert(v.value, v.unit, unit)
    return Parameter(name, value * scale, unit, _provenance(v), description, module)


def half_life_to_rate(name: str, v: Value, *, description: str = "", module: str = "") -> Parameter:
    """First-order rate constant ln2 / t½ (1/h) from a half-life Value."""
    from ..units import ureg

    t_half = float(ureg.Quantity(v.value, v.unit).to("hour").magnitude)
    return Parameter(name, math.log(2) / t_half, "1/h", _provenance(v, f"rate = ln2 / {t_half:g} h"), description, module)


def param(name: str, value: float, unit: str, provenance: Provenance | None = None, *, description: str = "", module: str = "") -> Parameter:
    return Parameter(name, float(value), unit, provenance or assumed("eralpha default"), description, module)
