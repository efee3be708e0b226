"""The model as data: species, parameters, expressions and reactions, declared once.

Everything else — the engine's compiled right-hand side and Jacobian, the SBML export, the parameter
table in the docs — is generated from a :class:`Model`. Rate laws are written as infix formulas over
species, parameter and expression names (the SBML Level 3 infix syntax, which sympy also reads).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from ..errors import InputError, UnknownNameError

__all__ = [
    "Provenance",
    "Species",
    "Parameter",
    "Expression",
    "Reaction",
    "Model",
    "measured",
    "calibrated",
    "assumed",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Provenance:
    """Where a number comes from: measured (source), calibrated (to what), or assumed (why)."""

    kind: Literal["measured", "calibrated", "assumed"]
    source: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.source}" + (f" — {self.note}" if self.note else "")


def measured(source: str, note: str = "") -> Provenance:
    return Provenance("measured", source, note)


def calibrated(source: str, note: str = "") -> Provenance:
    return Provenance("calibrated", source, note)


def assumed(source: str, note: str = "") -> Provenance:
    return Provenance("assumed", source, note)


def _check_identifier(kind: str, name: str) -> None:
    if not _IDENT.match(name):
        raise InputError(
            f"{kind} name '{name}' is not a valid identifier",
            value=name,
            valid="letters, digits and underscores, not starting with a digit",
        )


@dataclass(frozen=True)
class Species:
    """A molecular or cellular quantity that changes in time (internal units: nM, or cells)."""

    name: str
    initial: float
    unit: str = "nM"
    description: str = ""
    module: str = ""

    def __post_init__(self) -> None:
        _check_identifier("species", self.name)


@dataclass(frozen=True)
class Parameter:
    """A constant of the model, in internal units, with its provenance."""

    name: str
    value: float
    unit: str
    provenance: Provenance
    description: str = ""
    module: str = ""

    def __post_init__(self) -> None:
        _check_identifier("parameter", self.name)


@dataclass(frozen=True)
class Expression:
    """A named algebraic quantity (SBML assignment rule): an observable or a shared sub-term."""

    name: str
    formula: str
    unit: str = "dimensionless"
    description: str = ""
    module: str = ""

    def __post_init__(self) -> None:
        _check_identifier("expression", self.name)


@dataclass(frozen=True)
class Reaction:
    """A reaction: stoichiometry and a rate law (amount per hour) over names in the model."""

    name: str
    reactants: tuple[tuple[str, float], ...]
    products: tuple[tuple[str, float], ...]
    rate: str
    module: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        _check_identifier("reaction", self.name)


@dataclass(frozen=True)
class Model:
    """An assembled mechanism: immutable; combine modules with ``+``."""

    name: str = "model"
    species: tuple[Species, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    expressions: tuple[Expression, ...] = ()
    reactions: tuple[Reaction, ...] = ()
    observables: tuple[str, ...] = field(default=())  # expression or species names reported by experiments

    # --- construction -------------------------------------------------------------------------
    def __add__(self, other: Model) -> Model:
        return Model(
            name=self.name,
            species=_merge(self.species, other.species, "species"),
            parameters=_merge(self.parameters, other.parameters, "parameter"),
            expressions=_merge(self.expressions, other.expressions, "expression"),
            reactions=_merge(self.reactions, other.reactions, "reaction"),
            observables=tuple(dict.fromkeys(self.observables + other.observables)),
        )

    def with_parameters(self, values: Mapping[str, float]) -> Model:
        """A copy with some parameter values replaced (names checked)."""
        known = self.parameter_index
        for k in values:
            if k not in known:
                raise UnknownNameError("parameter", k, known)
        params = tuple(replace(p, value=float(values[p.name])) if p.name in values else p for p in self.parameters)
        return replace(self, parameters=params)

    def parameter_to_expression(self, expression: Expression) -> Model:
        """Replace the parameter of the same name by an expression.

        How an in-vitro model goes in vivo: ``conc_imlunestrant`` (a medium concentration set by the
        experiment) becomes the free concentration computed from PK species.
        """
        if expression.name not in self.parameter_index:
            raise UnknownNameError("parameter", expression.name, self.parameter_index)
        params = tuple(p for p in self.parameters if p.name != expression.name)
        return replace(self, parameters=params, expressions=self.expressions + (expression,))

    def renamed(self, name: str) -> Model:
        return replace(self, name=name)

    # --- lookup -------------------------------------------------------------------------------
    @property
    def species_index(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self.species)}

    @property
    def parameter_index(self) -> dict[str, int]:
        return {p.name: i for i, p in enumerate(self.parameters)}

    @property
    def expression_names(self) -> list[str]:
        return [e.name for e in self.expressions]

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise UnknownNameError("parameter", name, [p.name for p in self.parameters])

    def validate(self) -> Model:
        """Check that every name used in a rate law or expression is declared; return self."""
        from ._symbolic import free_names

        declared = {s.name for s in self.species} | {p.name for p in self.parameters} | set(self.expression_names)
        for r in self.reactions:
            for sp, _ in r.reactants + r.products:
                if sp not in self.species_index:
                    raise UnknownNameError("species", sp, self.species_index, field=f"reaction {r.name}")
            for n in free_names(r.rate):
                if n not in declared:
                    raise UnknownNameError("name", n, declared, field=f"rate of reaction {r.name}")
        for e in self.expressions:
            for n in free_names(e.formula):
                if n not in declared:
                    raise UnknownNameError("name", n, declared, field=f"expression {e.name}")
        for o in self.observables:
            if o not in declared:
                raise UnknownNameError("observable", o, declared)
        return self


def _merge(a: Iterable, b: Iterable, kind: str) -> tuple:
    """Union by name; an identical re-declaration is fine, a conflicting one is an error."""
    out: dict[str, object] = {x.name: x for x in a}
    for x in b:
        if x.name in out and out[x.name] != x:
            raise InputError(f"{kind} '{x.name}' is declared twice with different definitions")
        out[x.name] = x
    return tuple(out.values())
