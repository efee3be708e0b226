"""Generate the compiled right-hand side, Jacobian and observables from a :class:`Model`.

sympy derives the Jacobian and finds common subexpressions; ``_native`` writes the results as LLVM
IR and compiles it (well under a second), and the Rodas5 kernel, compiled by numba once for all
models, calls it. The generated code refers to species and parameters only by index (``y[3]``,
``p[7]``), so two assembled models with the same topology — the same receptor network with a
different drug, say — produce identical IR and share one compiled, disk-cached object.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ..model._core import Model
from ..model._symbolic import parse_formula
from ..store import write_text_atomic
from . import _native

__all__ = ["SymbolicModel", "CompiledModel", "compile_model", "cache_dir"]

_KERNEL = Path(__file__).with_name("_kernel.py")
_lock = threading.Lock()


def cache_dir() -> Path:
    """Where compiled code (the kernel's numba cache, models' objects) lives: ``$ERALPHA_CACHE_DIR`` or ~/.cache."""
    root = os.environ.get("ERALPHA_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "eralpha")
    path = Path(root) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Printer(PythonCodePrinter):
    """Plain Python for the listing: math.* functions, floats for rationals."""

    def _print_Rational(self, expr):  # 1/2 -> 0.5 (no integer division surprises)
        return repr(float(expr))

    def _print_Pow(self, expr, rational=False):
        # a parameter exponent (a Hill coefficient, say) goes through rpow, which multiplies when the
        # value is a small whole number (see _native._rpow)
        if expr.exp.is_Number:
            return super()._print_Pow(expr, rational=rational)
        return f"_rpow({self._print(expr.base)}, {self._print(expr.exp)})"


@dataclass(frozen=True)
class SymbolicModel:
    """The model's rates, right-hand side, Jacobian and observables as sympy expressions."""

    model: Model

    @cached_property
    def symbols(self) -> dict[str, sp.Symbol]:
        sym = {s.name: sp.Symbol(f"y[{i}]", real=True) for i, s in enumerate(self.model.species)}
        sym.update({p.name: sp.Symbol(f"p[{j}]", real=True) for j, p in enumerate(self.model.parameters)})
        return sym

    @cached_property
    def expressions(self) -> dict[str, sp.Expr]:
        """Each expression fully inlined in terms of species and parameter symbols."""
        resolved: dict[str, sp.Expr] = {}
        pending = {e.name: e.formula for e in self.model.expressions}

        def resolve(name: str, stack: tuple[str, ...] = ()) -> sp.Expr:
            if name in resolved:
                return resolved[name]
            if name in stack:
                raise ValueError(f"expression '{name}' depends on itself via {' -> '.join(stack)}")
            formula = pending[name]
            expr = parse_formula(formula)
            subs = {}
            for s in expr.free_symbols:
                n = s.name
                if n in pending:
                    subs[s] = resolve(n, stack + (name,))
                elif n in self.symbols:
                    subs[s] = self.symbols[n]
            resolved[name] = expr.xreplace(subs)
            return resolved[name]

        for n in pending:
            resolve(n)
        return resolved

    def _to_symbols(self, formula: str) -> sp.Expr:
        expr = parse_formula(formula)
        subs = {}
        for s in expr.free_symbols:
            n = s.name
            subs[s] = self.expressions[n] if n in self.expressions else self.symbols[n]
        return expr.xreplace(subs)

    @cached_property
    def rates(self) -> list[sp.Expr]:
        return [self._to_symbols(r.rate) for r in self.model.reactions]

    @cached_property
    def rhs(self) -> list[sp.Expr]:
        idx = self.model.species_index
        f = [sp.Integer(0)] * len(self.model.species)
        for r, v in zip(self.model.reactions, self.rates):
            for name, st in r.reactants:
                f[idx[name]] -= st * v
            for name, st in r.products:
                f[idx[name]] += st * v
        return f

    @cached_property
    def jacobian(self) -> dict[tuple[int, int], sp.Expr]:
        """Non-zero entries of d rhs / d y, built from the sparse rate derivatives."""
        ys = [self.symbols[s.name] for s in self.model.species]
        ypos = {y: j for j, y in enumerate(ys)}
        idx = self.model.species_index
        entries: dict[tuple[int, int], sp.Expr] = {}
        for r, v in zip(self.model.reactions, self.rates):
            for y in v.free_symbols & set(ys):
                dv = sp.diff(v, y)
                if dv == 0:
                    continue
                j = ypos[y]
                for name, st in r.reactants:
                    entries[(idx[name], j)] = entries.get((idx[name], j), 0) - st * dv
                for name, st in r.products:
                    entries[(idx[name], j)] = entries.get((idx[name], j), 0) + st * dv
        return {k: e for k, e in entries.items() if e != 0}

    @cached_property
    def observables(self) -> list[sp.Expr]:
        out = []
        for name in self.model.observables:
            out.append(self.expressions[name] if name in self.expressions else self.symbols[name])
        return out


def _listing(name: str, args: str, targets: list[str], exprs: list[sp.Expr]) -> str:
    """What one generated function computes, as Python: common subexpressions, then the targets."""
    printer = _Printer({"fully_qualified_modules": True})
    lines = [f"def {name}({args}):"]
    if exprs:
        subexprs, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("x"), optimizations=None)
        lines += [f"    {sym} = {printer.doprint(e)}" for sym, e in subexprs]
        lines += [f"    {tgt} = {printer.doprint(e)}" for tgt, e in zip(targets, reduced)]
    else:
        lines.append("    pass")
    return "\n".join(lines) + "\n"


def _hoist_parameter_terms(exprs: list[sp.Expr], n_params: int) -> tuple[list[sp.Expr], list[sp.Expr]]:
    """Replace every maximal parameter-only subexpression by q[k].

    Parameters only change at events, so terms such as a coactivator occupancy C/(C + Kd) or K^n of
    a Hill function are computed once per member (and after each event) by ``derived(p, q)`` rather
    than at every right-hand-side evaluation.
    """
    params = {sp.Symbol(f"p[{j}]", real=True) for j in range(n_params)}
    table: dict[sp.Expr, sp.Symbol] = {}
    done: dict[sp.Expr, tuple[sp.Expr, bool]] = {}  # node -> (rewritten, parameter-only); shared subtrees once

    def visit(e: sp.Expr) -> tuple[sp.Expr, bool]:
        if e.is_Atom:
            return e, (e in params) if e.is_Symbol else None  # a number alone is neither
        if e in done:
            return done[e]
        parts = [visit(a) for a in e.args]
        kinds = [k for _, k in parts]
        if all(k is not False for k in kinds) and any(kinds):  # parameters and numbers only
            out = e, True
        else:
            args = [table.setdefault(a, sp.Symbol(f"q[{len(table)}]", real=True)) if k and not a.is_Atom else a
                    for a, k in parts]
            out = (e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e), False
        done[e] = out
        return out

    def top(e: sp.Expr) -> sp.Expr:
        r, k = visit(e)
        if k and not r.is_Atom:
            return table.setdefault(r, sp.Symbol(f"q[{len(table)}]", real=True))
        return r

    return [top(e) for e in exprs], list(table)


@dataclass(frozen=True)
class _Generated:
    """A model's functions as expressions over y[i], p[j] and q[k] (q: hoisted parameter-only terms)."""

    n: int
    rhs: list[sp.Expr]
    jac: dict[tuple[int, int], sp.Expr]
    observables: list[sp.Expr]
    derived: list[sp.Expr]


def _generate(model: Model) -> _Generated:
    sym = SymbolicModel(model)
    n = len(model.species)
    jac_items = sorted(sym.jacobian.items())
    hoisted, derived_terms = _hoist_parameter_terms(
        list(sym.rhs) + [e for _, e in jac_items] + list(sym.observables), len(model.parameters))
    jac = {ij: e for (ij, _), e in zip(jac_items, hoisted[n:n + len(jac_items)])}
    return _Generated(n, hoisted[:n], jac, hoisted[n + len(jac_items):], derived_terms)


def generate_source(model: Model) -> str:
    """LLVM IR of the model's derived, rhs, jac, observe and sparse LU functions (index-based)."""
    return _source(_generate(model))


def _source(g: _Generated) -> str:
    return _native.module_ir("eralpha_model", g.n, g.rhs, g.jac, g.observables, g.derived)


def generate_listing(model: Model) -> str:
    """The same functions as readable Python (what the IR computes; for people, never compiled)."""
    g = _generate(model)
    items = sorted(g.jac.items())
    parts = [
        _listing("derived", "p, q", [f"q[{k}]" for k in range(len(g.derived))], g.derived),
        _listing("rhs", "y, p, q, dy", [f"dy[{i}]" for i in range(g.n)], g.rhs),
        _listing("jac", "y, p, q, J", [f"J[{i}, {j}]" for (i, j), _ in items], [e for _, e in items]),
        _listing("observe", "y, p, q, out", [f"out[{k}]" for k in range(len(g.observables))], g.observables),
    ]
    return "\n\n".join(parts)


_kernel_module: list[ModuleType] = []


def kernel() -> ModuleType:
    """The Rodas5 kernel, one for every model; numba caches it under ``cache_dir()`` (cold = deleted)."""
    with _lock:
        if not _kernel_module:
            source = _KERNEL.read_text()
            digest = hashlib.sha256(source.encode()).hexdigest()[:20]
            modname = f"eralpha_kernel_{digest}"
            path = cache_dir() / f"{modname}.py"
            if not path.exists() or path.read_text() != source:
                write_text_atomic(path, source)  # concurrent processes never see half a module
            spec = importlib.util.spec_from_file_location(modname, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[modname] = module
            spec.loader.exec_module(module)
            _kernel_module.append(module)
        return _kernel_module[0]


@dataclass(frozen=True)
class CompiledModel:
    """A model with its generated functions compiled to native code (``source``: their LLVM IR)."""

    model: Model
    native: _native.NativeCode
    source: str
    n_derived: int  # length of the table q of parameter-only terms (at least 1)

    def listing(self) -> str:
        """The generated functions as readable Python: what ``source`` computes."""
        return generate_listing(self.model)

    @property
    def species_names(self) -> list[str]:
        return [s.name for s in self.model.species]

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.model.parameters]

    @property
    def observable_names(self) -> list[str]:
        return list(self.model.observables)

    @cached_property
    def default_parameters(self) -> np.ndarray:
        """The model's parameter values, in the order the generated code indexes them."""
        return _read_only(np.array([p.value for p in self.model.parameters], dtype=float))

    @cached_property
    def default_initial(self) -> np.ndarray:
        """The model's initial amounts, in species order."""
        return _read_only(np.array([s.initial for s in self.model.species], dtype=float))


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


_by_model: dict[int, CompiledModel] = {}
_by_structure: dict[str, tuple[str, int]] = {}
# what the generated code depends on besides the model's structure: the generator itself
_GENERATOR = hashlib.sha256(b"".join(Path(__file__).with_name(f).read_bytes() for f in ("_codegen.py", "_native.py"))
                            + Path(parse_formula.__code__.co_filename).read_bytes()).hexdigest()[:12]


def structure_key(model: Model) -> str:
    """A digest of what the generated code depends on: names and order of species and parameters,
    expressions, reactions, observables — not values, units or provenance — and the generator."""
    structure = (
        [s.name for s in model.species], [p.name for p in model.parameters],
        [(e.name, e.formula) for e in model.expressions],
        [(r.reactants, r.products, r.rate) for r in model.reactions], list(model.observables), _GENERATOR,
    )
    return hashlib.sha256(json.dumps(structure).encode()).hexdigest()[:24]


def _structure_source(model: Model) -> tuple[str, int]:
    """(IR, length of q) of the model's structure: sympy runs once per structure, ever (disk cache)."""
    key = structure_key(model)
    if key in _by_structure:
        return _by_structure[key]
    path = cache_dir() / f"structure_{key}.json"
    try:
        entry = json.loads(path.read_text())
        hit = (entry["source"], int(entry["n_derived"]))
    except (OSError, ValueError, KeyError):
        generated = _generate(model)
        hit = (_source(generated), max(1, len(generated.derived)))
        write_text_atomic(path, json.dumps({"source": hit[0], "n_derived": hit[1]}))
    _by_structure[key] = hit
    return hit


def compile_model(model: Model) -> CompiledModel:
    """Generate and compile (or fetch from the caches) the numerical functions of ``model``."""
    key = hash(model)
    hit = _by_model.get(key)
    if hit is not None and hit.model == model:
        return hit
    model.validate()
    source, n_derived = _structure_source(model)
    compiled = CompiledModel(model, _native.load(source, cache_dir()), source, n_derived)
    if len(_by_model) > 256:
        _by_model.clear()
    _by_model[key] = compiled
    return compiled
