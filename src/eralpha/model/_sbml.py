"""SBML Level 3 Version 2 export of a :class:`Model` (python-libsbml), generated from the same declaration.

What is written, and how eralpha's conventions map onto SBML:

* one compartment ``cell`` of size 1 L — eralpha's species are concentrations (nM; fractions and cell
  counts for the cell-cycle and growth modules), so with a unit volume every amount equals its
  concentration and each reaction rate (amount per hour) equals eralpha's rate (concentration per hour);
* species with ``initialConcentration`` and ``hasOnlySubstanceUnits="false"``;
* parameters, ``constant="true"`` unless an event changes them; each carries its unit, its provenance
  (measured / calibrated / assumed, source, note) both as XHTML notes for people and as an
  ``eralpha:provenance`` annotation for programs (:func:`read_provenance` reads it back), so nothing
  from the parameter table is lost;
* expressions as assignment rules on non-constant parameters (they may reference one another);
* reactions with kinetic laws parsed from the rate formulas by ``libsbml.parseL3Formula`` (``log`` is
  the natural logarithm, as in sympy and the engine);
* unit definitions derived with eralpha's pint registry (time in hours, concentrations in nM);
* optionally SBML events for eralpha :class:`~eralpha.engine.Event` objects (a value is a number, or a
  formula string over the model's ids such as a dose parameter): trigger ``time >= t``
  (initial value false, so an event at t = 0 fires at the start, like the engine), persistent,
  ``useValuesFromTriggerTime="false"``, priorities keeping the engine's order for simultaneous events.

>>> from eralpha.model import assemble_cell_model
>>> xml = to_sbml(assemble_cell_model(cell_line="MCF7", ligands=("imlunestrant",)))
"""

from __future__ import annotations

import html
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EralphaError, InputError, UnknownNameError
from ._core import Model, Provenance
from ._symbolic import parse_formula

if TYPE_CHECKING:  # the engine sits above the model layer; events are only read duck-typed
    from ..engine import Event

__all__ = ["to_sbml", "to_sbml_document", "write_sbml", "checked_sbml_string", "write_text_atomic", "read_provenance", "sbml_id", "SBMLExportError", "PROVENANCE_NS", "COMPARTMENT"]

PROVENANCE_NS = "https://eralpha.dev/sbml/provenance/1"
COMPARTMENT = "cell"
_XHTML = "http://www.w3.org/1999/xhtml"
_LEVEL, _VERSION = 3, 2
_SBML_KIND = {"mole": "mole", "second": "second", "kilogram": "kilogram", "cells": "item", "meter": "metre"}


class SBMLExportError(EralphaError):
    """libsbml rejected something while the document was being built (names the element)."""


def _libsbml():
    try:
        import libsbml
    except ImportError:  # pragma: no cover - an optional dependency
        raise InputError("SBML export needs python-libsbml", valid="pip install 'eralpha[sbml]'") from None
    return libsbml


def sbml_id(text: str) -> str:
    """A valid SBML SId made from any text (``cell[MCF7; ...]`` -> ``cell_MCF7_...``)."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_") or "model"
    return out if re.match(r"[A-Za-z_]", out) else f"_{out}"


def _check(rc: int, what: str) -> None:
    libsbml = _libsbml()
    if rc != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SBMLExportError(f"libsbml refused {what}: {libsbml.OperationReturnValue_toString(rc)}")


# --- units ------------------------------------------------------------------------------------
class _Units:
    """Unit definitions for the unit strings of a model, derived with eralpha's pint registry."""

    def __init__(self, sbml_model) -> None:
        self.model = sbml_model
        self.ids: dict[str, str] = {}

    def id(self, unit: str, *, times_volume: bool = False) -> str:
        """The SBML unit id of ``unit`` (``times_volume``: the amount unit of a concentration)."""
        key = f"{unit}*L" if times_volume else unit
        if key in self.ids:
            return self.ids[key]
        from ..units import ureg

        try:
            q = ureg.Quantity(1.0, unit)
            if times_volume:
                q = q * ureg.Quantity(1.0, "L")
            base = q.to_base_units()
        except Exception as exc:  # pint raises several unrelated types
            raise InputError(f"cannot read unit '{unit}' ({exc.__class__.__name__})", field="unit", value=unit) from None
        dims = {str(k): float(v) for k, v in base.units._units.items()}
        if not dims and base.magnitude == 1.0:
            self.ids[key] = "dimensionless"
            return "dimensionless"
        ident = self._define(key, float(base.magnitude), dims)
        self.ids[key] = ident
        return ident

    def _define(self, label: str, magnitude: float, dims: dict[str, float]) -> str:
        ident = "u_" + sbml_id(label.replace("/", "_per_").replace("*", "_").replace("^", "_pow_"))
        ud = self.model.createUnitDefinition()
        _check(ud.setId(ident), f"unit id '{ident}'")
        ud.setName(label)
        factors: list[tuple[str, float]] = []
        for kind, exp in dims.items():
            if kind == "meter" and exp % 3 == 0:  # volumes in litres: m^3 = 1000 L
                magnitude *= 1000.0 ** (exp / 3)
                factors.append(("litre", exp / 3))
            elif kind in _SBML_KIND:
                factors.append((_SBML_KIND[kind], exp))
            else:
                raise InputError(f"unit '{label}' has a dimension ({kind}) SBML cannot express", field="unit", value=label)
        if not factors:
            factors.append(("dimensionless", 1.0))
        factors.sort(key=lambda f: f[0] != "mole")  # the magnitude reads best on the amount
        for i, (kind, exp) in enumerate(factors):
            u = ud.createUnit()
            u.setKind(_libsbml().UnitKind_forName(kind))
            u.setExponent(exp)
            u.setScale(0)
            u.setMultiplier(1.0)
            if i == 0 and magnitude != 1.0:
                mult = magnitude ** (1.0 / exp)
                scale = math.log10(mult)
                if abs(scale - round(scale)) < 1e-12:
                    u.setScale(int(round(scale)))
                else:
                    u.setMultiplier(mult)
        return ident


# --- notes and annotations --------------------------------------------------------------------
def _notes(*paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    return f'<body xmlns="{_XHTML}">{body}</body>'


def _provenance_node(prov: Provenance, unit: str, module: str, description: str):
    libsbml = _libsbml()
    attrs = libsbml.XMLAttributes()
    for k, v in (("kind", prov.kind), ("source", prov.source), ("note", prov.note), ("unit", unit),
                 ("module", module), ("description", description)):
        attrs.add(k, v)
    ns = libsbml.XMLNamespaces()
    ns.add(PROVENANCE_NS, "eralpha")
    return libsbml.XMLNode(libsbml.XMLTriple("provenance", PROVENANCE_NS, "eralpha"), attrs, ns)


def _set_notes(element, *paragraphs: str) -> None:
    if any(paragraphs):
        _check(element.setNotes(_notes(*paragraphs)), f"the notes of '{element.getId()}'")


# --- formulas -----------------------------------------------------------------------------------
def _math(formula: str, settings, where: str):
    libsbml = _libsbml()
    ast = libsbml.parseL3FormulaWithSettings(formula, settings)
    if ast is None:
        raise InputError(f"libsbml cannot parse {where}: {libsbml.getLastParseL3Error()}", value=formula)
    return ast


def _may_be_negative(formula: str) -> bool:
    """A net rate written as forward minus reverse (the reaction is reversible)."""
    import sympy as sp

    return any(t.could_extract_minus_sign() for t in sp.Add.make_args(sp.expand(parse_formula(formula))))


# --- the document -------------------------------------------------------------------------------
def _event_targets(model: Model, events: Sequence[Event]) -> set[str]:
    known = set(model.species_index) | set(model.parameter_index)
    for e in events:
        if e.target not in known:
            raise UnknownNameError("event target", e.target, known, field="events")
    return {e.target for e in events}


def _scalar(value: Any, where: str) -> float:
    import numpy as np

    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    flat = arr.reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return float(flat[0])
    raise InputError(f"{where} has one value per batch member; an SBML model is one member — export them one at a time",
                     field="events", value=list(flat[:5]))


def to_sbml_document(model: Model, *, events: Sequence[Event] = (), parameters: Mapping[str, float] | None = None):
    """The ``libsbml.SBMLDocument`` of ``model`` (see :func:`to_sbml`)."""
    libsbml = _libsbml()
    from .. import __version__

    model = (model.with_parameters(parameters) if parameters else model).validate()
    changed = _event_targets(model, events)
    doc = libsbml.SBMLDocument(_LEVEL, _VERSION)
    m = doc.createModel()
    _check(m.setId(sbml_id(model.name)), "the model id")
    m.setName(model.name)
    _set_notes(m, f"Generated by eralpha {__version__} from the model declaration '{model.name}'.",
               "Conventions: one compartment 'cell' of 1 L; species are concentrations (nM, or fractions / cell counts "
               "as their units say), so amounts equal concentrations; time in hours.",
               "Every parameter carries its provenance (measured / calibrated / assumed, with its source) in its notes "
               f"and in an annotation in the namespace {PROVENANCE_NS}.")
    units = _Units(m)
    m.setTimeUnits(units.id("h"))
    m.setVolumeUnits("litre")
    m.setSubstanceUnits(units.id("nM", times_volume=True))
    m.setExtentUnits(units.id("nM", times_volume=True))

    c = m.createCompartment()
    c.setId(COMPARTMENT)
    c.setName("the cell (unit volume; concentrations equal amounts)")
    c.setSpatialDimensions(3.0)
    c.setSize(1.0)
    c.setUnits("litre")
    c.setConstant(True)

    settings = libsbml.L3ParserSettings()
    settings.setModel(m)  # names in the model win over built-ins such as 'pi' or 'time'
    settings.setParseLog(libsbml.L3P_PARSE_LOG_AS_LN)
    settings.setParseUnits(False)

    for s in model.species:
        sp = m.createSpecies()
        _check(sp.setId(s.name), f"species id '{s.name}'")
        sp.setCompartment(COMPARTMENT)
        sp.setInitialConcentration(float(s.initial))
        sp.setHasOnlySubstanceUnits(False)
        sp.setBoundaryCondition(False)
        sp.setConstant(False)
        concentration = _is_concentration(s.unit)
        sp.setSubstanceUnits(units.id(s.unit, times_volume=concentration))
        _set_notes(sp, s.description, f"unit: {s.unit}", f"module: {s.module}" if s.module else "")

    for p in model.parameters:
        par = m.createParameter()
        _check(par.setId(p.name), f"parameter id '{p.name}'")
        par.setValue(float(p.value))
        par.setConstant(p.name not in changed)
        par.setUnits(units.id(p.unit))
        _set_notes(par, p.description, f"unit: {p.unit}", f"provenance: {p.provenance}",
                   f"module: {p.module}" if p.module else "")
        _check(par.appendAnnotation(_provenance_node(p.provenance, p.unit, p.module, p.description)),
               f"the provenance of '{p.name}'")

    for e in model.expressions:
        par = m.createParameter()
        _check(par.setId(e.name), f"expression id '{e.name}'")
        par.setConstant(False)
        par.setUnits(units.id(e.unit))
        _set_notes(par, e.description, f"unit: {e.unit}", f"assignment rule: {e.name} = {e.formula}",
                   f"module: {e.module}" if e.module else "")
    for e in model.expressions:  # after every id exists, so the parser resolves them all
        rule = m.createAssignmentRule()
        rule.setVariable(e.name)
        _check(rule.setMath(_math(e.formula, settings, f"expression {e.name}")), f"the rule of '{e.name}'")

    for r in model.reactions:
        rx = m.createReaction()
        _check(rx.setId(r.name), f"reaction id '{r.name}'")
        rx.setReversible(_may_be_negative(r.rate))
        for name, st in r.reactants:
            ref = rx.createReactant()
            ref.setSpecies(name)
            ref.setStoichiometry(float(st))
            ref.setConstant(True)
        for name, st in r.products:
            ref = rx.createProduct()
            ref.setSpecies(name)
            ref.setStoichiometry(float(st))
            ref.setConstant(True)
        listed = {name for name, _ in r.reactants + r.products}
        for name in sorted(_species_used(r.rate, model) - listed):
            mod = rx.createModifier()
            mod.setSpecies(name)
        law = rx.createKineticLaw()
        _check(law.setMath(_math(r.rate, settings, f"the rate of reaction {r.name}")), f"the rate of '{r.name}'")
        _set_notes(rx, r.description, f"rate: {r.rate}", f"module: {r.module}" if r.module else "")

    _add_events(m, model, events, settings)
    return doc


def _species_used(formula: str, model: Model) -> set[str]:
    """Species a formula depends on, directly or through expressions (the reaction's modifiers)."""
    from ._symbolic import free_names

    exprs = {e.name: e.formula for e in model.expressions}
    species = model.species_index
    seen: set[str] = set()
    todo = list(free_names(formula))
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in exprs:
            todo.extend(free_names(exprs[n]))
    return {n for n in seen if n in species}


def _is_concentration(unit: str) -> bool:
    from ..units import ureg

    try:
        return ureg.Quantity(1.0, unit).check("[substance]/[length]**3")
    except Exception:
        return False


_ACTION = {"set": "{value}", "add": "{target} + {value}", "multiply": "{target} * {value}"}


def _add_events(m, model: Model, events: Sequence[Event], settings) -> None:
    ordered = sorted(events, key=lambda e: e.time)  # stable: the engine's order at equal times
    params = model.parameter_index
    for i, e in enumerate(ordered):
        if e.action not in _ACTION:
            raise InputError(f"unknown event action '{e.action}'", field="events", valid=", ".join(_ACTION))
        if e.target in params and e.action != "set":
            raise InputError(f"parameters can only be set by an event, not '{e.action}'", field=f"event {e.target}")
        # a string value is an SBML formula over the model's ids (e.g. a condition-specific dose parameter)
        value = e.value if isinstance(e.value, str) else _scalar(e.value, f"event {e.target} at {e.time:g} h")
        shown = value if isinstance(value, str) else f"{value:g}"
        ev = m.createEvent()
        ev.setId(f"event_{i}_{e.target}")
        ev.setName(f"{e.action} {e.target} to {shown} at t = {e.time:g} h" if e.action == "set"
                   else f"{e.action} {e.target} by {shown} at t = {e.time:g} h")
        ev.setUseValuesFromTriggerTime(False)
        trig = ev.createTrigger()
        trig.setInitialValue(False)  # an event at the start time fires at the start, as in the engine
        trig.setPersistent(True)
        trig.setMath(_math(f"time >= {float(e.time)!r}", settings, f"the trigger of event {i}"))
        prio = ev.createPriority()
        prio.setMath(_math(repr(float(len(ordered) - i)), settings, f"the priority of event {i}"))
        asg = ev.createEventAssignment()
        asg.setVariable(e.target)
        formula = _ACTION[e.action].format(target=e.target, value=f"({value})" if isinstance(value, str) else repr(value))
        _check(asg.setMath(_math(formula, settings, f"the assignment of event {i}")), f"event {i}")


def to_sbml(model: Model, *, events: Sequence[Event] = (), parameters: Mapping[str, float] | None = None) -> str:
    """``model`` as an SBML Level 3 Version 2 document (a string), checked with libsbml.

    ``parameters`` replaces parameter values first (e.g. ``{"conc_E2": 0.1}``); ``events`` (eralpha
    :class:`~eralpha.engine.Event` objects with one value each) become SBML events. Raises
    :class:`SBMLExportError` if libsbml's consistency check finds an error.
    """
    return checked_sbml_string(to_sbml_document(model, events=events, parameters=parameters), model.name)


def checked_sbml_string(doc, name: str) -> str:
    """The document as a string after libsbml's consistency check (:class:`SBMLExportError` on an error)."""
    libsbml = _libsbml()
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:
        shown = "; ".join(f"line {e.getLine()}: {e.getShortMessage()} — {e.getMessage().strip()}" for e in errors[:3])
        raise SBMLExportError(f"the exported SBML of '{name}' is inconsistent ({len(errors)} errors): {shown}")
    return libsbml.writeSBMLToString(doc)


def write_sbml(model: Model, path: str | os.PathLike, *, events: Sequence[Event] = (),
               parameters: Mapping[str, float] | None = None) -> Path:
    """Write :func:`to_sbml` to ``path`` atomically (a temporary file in the same folder, then rename)."""
    return write_text_atomic(to_sbml(model, events=events, parameters=parameters), path)


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then rename)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"folder '{folder}' does not exist", field="output", value=str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_provenance(sbml: str) -> dict[str, Provenance]:
    """The provenance of every parameter of an SBML document written by :func:`to_sbml`."""
    libsbml = _libsbml()
    doc = libsbml.readSBMLFromString(sbml)
    if doc.getModel() is None:
        raise InputError("not an SBML model (libsbml read no <model>)", field="sbml")
    out: dict[str, Provenance] = {}
    for par in doc.getModel().getListOfParameters():
        ann = par.getAnnotation()
        if ann is None:
            continue
        for i in range(ann.getNumChildren()):
            node = ann.getChild(i)
            if node.getName() == "provenance" and node.getURI() == PROVENANCE_NS:
                a = node.getAttributes()
                out[par.getId()] = Provenance(a.getValue("kind"), a.getValue("source"), a.getValue("note"))
    return out
