"""Units at the edges, floats inside: one pint registry for all of eralpha.

Users write ``"5 mg/kg"``, ``"500 mg"`` or ``"0.64 nM"``; :func:`to_internal` converts once, when a
model or experiment is assembled, to eralpha's internal unit system (hours, nM, cells, mg, L, kg).
"""

from __future__ import annotations

import math
from typing import Any

import pint

from .errors import InputError

__all__ = ["ureg", "Q_", "to_internal", "parse_quantity", "check_unit", "INTERNAL_UNITS"]

ureg = pint.UnitRegistry()
ureg.define("cells = [cell_count] = cell")
ureg.define("dpm = 1 / minute = disintegrations_per_minute")
Q_ = ureg.Quantity

#: The internal unit of each physical dimension the engine sees.
INTERNAL_UNITS: dict[str, str] = {
    "time": "hour",
    "concentration": "nM",
    "amount": "nmol",
    "mass": "mg",
    "volume": "L",
    "dose_per_weight": "mg/kg",
    "rate": "1/hour",
    "second_order_rate": "1/nM/hour",
}


def parse_quantity(value: Any, *, field: str | None = None, file: str | None = None) -> pint.Quantity:
    """Parse ``"5 mg/kg"`` (or a pint Quantity) into a Quantity; a bare number is an error."""
    if isinstance(value, pint.Quantity):
        return value
    if isinstance(value, (int, float)):
        raise InputError(
            f"the number {value} has no unit",
            file=file,
            field=field,
            value=value,
            valid="a quantity with its unit, e.g. '10 nM', '5 mg/kg', '24 h'",
        )
    try:
        q = ureg.Quantity(str(value).replace("µ", "u").replace("μ", "u"))
    except Exception as exc:  # pint raises several unrelated exception types
        raise InputError(
            f"cannot read '{value}' as a quantity ({exc.__class__.__name__})",
            file=file,
            field=field,
            value=value,
            valid="a number and a unit, e.g. '10 nM', '2.5 mg', '72 h'",
        ) from None
    if not isinstance(q, pint.Quantity) or q.dimensionless and not str(value).strip().endswith("%"):
        if isinstance(q, (int, float)) or getattr(q, "dimensionless", False):
            raise InputError(
                f"'{value}' has no unit",
                file=file,
                field=field,
                value=value,
                valid="a quantity with its unit, e.g. '10 nM', '5 mg/kg', '24 h'",
            )
    magnitude = getattr(q, "magnitude", q)
    if isinstance(magnitude, (int, float)) and not math.isfinite(magnitude):
        raise InputError(f"'{value}' is not a finite quantity", file=file, field=field, value=value,
                         valid="a finite number and a unit, e.g. '10 nM', '2.5 mg', '72 h'")
    return q


def to_internal(value: Any, unit: str, *, field: str | None = None, file: str | None = None) -> float:
    """Convert ``value`` (string or Quantity) to a float in ``unit``; wrong dimensions are an error."""
    q = parse_quantity(value, field=field, file=file)
    try:
        return float(q.to(unit).magnitude)
    except pint.DimensionalityError:
        raise InputError(
            f"'{value}' has the wrong dimension: it is {q.dimensionality}, expected something convertible to {unit}",
            file=file,
            field=field,
            value=value,
            valid=f"a quantity in units of {ureg.Unit(unit).dimensionality}, e.g. '1 {unit}'",
        ) from None


#: what a unit label of each kind may be, as pint dimensionalities, with examples for the message
_UNIT_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "concentration": (("[substance] / [length] ** 3", "[mass] / [length] ** 3"), "nM, uM, pM, mM, M, ng/mL, mg/L"),
    "time": (("[time]",), "h, min, day, week, month, year"),
}


def check_unit(unit: str, kind: str, *, field: str | None = None, file: str | None = None) -> str:
    """``unit`` if the registry knows it as a unit of ``kind`` (``"concentration"`` or ``"time"``);
    otherwise an :class:`InputError` — a unit is never accepted as a mere label."""
    dims, examples = _UNIT_KINDS[kind]
    text = str(unit).strip()
    try:
        parsed = ureg.Unit(text.replace("µ", "u").replace("μ", "u"))
    except Exception:
        parsed = None
    if parsed is None or not text or not any(parsed.dimensionality == ureg.get_dimensionality(d) for d in dims):
        what = "is not a unit" if parsed is None or not text else f"is not a {kind} unit (it is {parsed.dimensionality})"
        raise InputError(f"'{unit}' {what}", file=file, field=field, value=unit, valid=f"a {kind} unit, e.g. {examples}")
    return text
