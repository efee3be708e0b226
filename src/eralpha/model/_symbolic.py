"""Parsing rate-law formulas (SBML L3 infix) into sympy, safely.

Every identifier becomes a plain Symbol — so a species called ``E`` or ``S`` never turns into a sympy
constant — except the few math functions a rate law may use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import sympy as sp

from ..errors import InputError

__all__ = ["FUNCTIONS", "free_names", "parse_formula"]

FUNCTIONS: dict[str, object] = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "pow": sp.Pow,
    "abs": sp.Abs,
    "min": sp.Min,
    "max": sp.Max,
}
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_EXP = re.compile(r"\d[eE][+-]?\d")


def free_names(formula: str) -> set[str]:
    """The identifiers a formula refers to (function names and exponent markers excluded)."""
    cleaned = _NUMBER_EXP.sub("0", formula)
    return {t for t in _TOKEN.findall(cleaned) if t not in FUNCTIONS}


@lru_cache(maxsize=4096)
def _parse(formula: str) -> sp.Expr:
    names = free_names(formula)
    local = {n: sp.Symbol(n, real=True) for n in names}
    local.update(FUNCTIONS)
    try:
        return sp.sympify(formula.replace("^", "**"), locals=local, rational=False)
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise InputError(f"cannot parse formula '{formula}' ({exc})", value=formula) from None


def parse_formula(formula: str, substitutions: Mapping[str, sp.Expr] | None = None) -> sp.Expr:
    """Parse ``formula``; replace named symbols by ``substitutions`` (e.g. inlined expressions)."""
    expr = _parse(formula)
    if substitutions:
        expr = expr.xreplace({sp.Symbol(k, real=True): v for k, v in substitutions.items() if k in free_names(formula)})
    return expr
