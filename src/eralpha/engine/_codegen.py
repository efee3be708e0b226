"""Generate the compiled right-hand side, Jacobian and observables from a :class:`Model`.

The generated source refers to species and parameters only by index (``y[3]``, ``p[7]``), so two
assembled models with the same topology — the same receptor network with a different drug, say —
produce identical source and share one compiled, disk-cached module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from ..model._core import Model
from ..model._symbolic import parse_formula

__all__ = ["SymbolicModel", "CompiledModel", "compile_model", "cache_dir"]

_TEMPLATE = Path(__file__).with_name("_rodas_template.py")
_lock = threading.Lock()
_compiled: dict[str, ModuleType] = {}


def cache_dir() -> Path:
    """Where generated modules (and numba's caches of them) live: ``$ERALPHA_CACHE_DIR`` or ~/.cache."""
    root = os.environ.get("ERALPHA_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "eralpha")
    path = Path(root) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Printer(PythonCodePrinter):
    """Plain Python for numba: math.* functions, floats for rationals."""

    def _print_Rational(self, expr):  # 1/2 -> 0.5 (no integer division surprises)
        return repr(float(expr))


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


def _emit(name: str, args: str, targets: list[str], exprs: list[sp.Expr], prologue: str = "") -> str:
    printer = _Printer({"fully_qualified_modules": True})
    lines = [f"@njit(cache=True, fastmath=False)", f"def {name}({args}):"]
    if prologue:
        lines.append(f"    {prologue}")
    if exprs:
        subexprs, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_x"), optimizations=None)
        for sym, e in subexprs:
            lines.append(f"    {sym} = {printer.doprint(e)}")
        for tgt, e in zip(targets, reduced):
            lines.append(f"    {tgt} = {printer.doprint(e)}")
    lines.append("    return None")
    return "\n".join(lines) + "\n"


def generate_source(model: Model) -> str:
    """Python/numba source for rhs, jac and observe (index-based), followed by the solver template."""
    sym = SymbolicModel(model)
    n = len(model.species)
    rhs = _emit("rhs", "y, p, dy", [f"dy[{i}]" for i in range(n)], sym.rhs)
    jac_items = sorted(sym.jacobian.items())
    jac = _emit("jac", "y, p, J", [f"J[{i}, {j}]" for (i, j), _ in jac_items], [e for _, e in jac_items], prologue="J[:, :] = 0.0")
    obs = _emit("observe", "y, p, out", [f"out[{k}]" for k in range(len(sym.observables))], sym.observables)
    header = "# Generated by eralpha.engine._codegen — do not edit.\nimport math\nfrom numba import njit\n\n"
    return header + rhs + "\n" + jac + "\n" + obs + "\n" + _TEMPLATE.read_text()


def _load(source: str) -> ModuleType:
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    with _lock:
        if digest in _compiled:
            return _compiled[digest]
        modname = f"eralpha_generated_{digest}"
        path = cache_dir() / f"{modname}.py"
        if not path.exists() or path.read_text() != source:
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(source)
            os.replace(tmp, path)  # atomic: concurrent processes never see half a module
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
        _compiled[digest] = module
        return module


@dataclass(frozen=True)
class CompiledModel:
    """A model with its generated, numba-compiled functions."""

    model: Model
    module: ModuleType
    source: str

    @property
    def species_names(self) -> list[str]:
        return [s.name for s in self.model.species]

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.model.parameters]

    @property
    def observable_names(self) -> list[str]:
        return list(self.model.observables)


_by_model: dict[int, CompiledModel] = {}


def compile_model(model: Model) -> CompiledModel:
    """Generate and compile (or fetch from the caches) the numerical functions of ``model``."""
    key = hash(model)
    hit = _by_model.get(key)
    if hit is not None and hit.model == model:
        return hit
    model.validate()
    source = generate_source(model)
    compiled = CompiledModel(model, _load(source), source)
    if len(_by_model) > 256:
        _by_model.clear()
    _by_model[key] = compiled
    return compiled
