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

import numpy as np
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

    def _print_Pow(self, expr, rational=False):
        # a parameter exponent (a Hill coefficient, say) goes through _rpow, which multiplies when the
        # value is a small whole number: libm's pow costs ~10 ns, a fifth of a right-hand side
        if expr.exp.is_Number:
            return super()._print_Pow(expr, rational=rational)
        return f"_rpow({self._print(expr.base)}, {self._print(expr.exp)})"


_RPOW = '''@njit(cache=True, error_model="numpy", inline="always")
def _rpow(x, n):
    if 1.0 <= n <= 16.0 and n == math.floor(n):
        r = x
        for _ in range(int(n) - 1):
            r *= x
        return r
    return x ** n

'''


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


def _emit(name: str, args: str, targets: list[str], exprs: list[sp.Expr], prologue: str = "", inline: bool = False) -> str:
    """One numba function assigning ``exprs`` to ``targets``; ``inline`` for those called every stage.

    Inlining the right-hand side into the integrator removes a call (and its array reference
    counting) per stage; it is not worth its compile time for functions called once per step.
    """
    printer = _Printer({"fully_qualified_modules": True})
    inlined = ', inline="always"' if inline else ""
    lines = [f'@njit(cache=True, fastmath=False, error_model="numpy"{inlined})', f"def {name}({args}):"]
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


def _sparse_lu_source(pattern: set[tuple[int, int]], n: int) -> str:
    """Straight-line LU (no pivoting) and triangular solves over the Jacobian's sparsity pattern.

    W = I/(h·γ) − J is diagonally dominant for these reaction networks (degradation and binding make
    J's diagonal negative), so elimination in the natural order is stable; a pivot that is small
    relative to 1/(h·γ) makes ``lu_factor_sparse`` return False and the step falls back to the
    dense, partially pivoted LU. Fill-in is worked out here, once, symbolically.
    """
    filled = set(pattern) | {(i, i) for i in range(n)}
    _symbolic_fill(filled, n)
    build = ["@njit(cache=True, error_model=\"numpy\")", "def build_iteration_matrix(J, E, fac):"]
    for (i, j) in sorted(filled):
        if i == j:
            build.append(f"    E[{i}, {i}] = fac - J[{i}, {i}]")
        elif (i, j) in pattern:
            build.append(f"    E[{i}, {j}] = -J[{i}, {j}]")
        else:
            build.append(f"    E[{i}, {j}] = 0.0")  # fill-in position: reset before each factorisation
    build.append("    return None")
    # the diagonal of U is stored inverted: the eight solves of a step then multiply, not divide
    fac_lines = ["@njit(cache=True, error_model=\"numpy\")", "def lu_factor_sparse(E, fac):"]
    for k in range(n):
        fac_lines.append(f"    if not (abs(E[{k}, {k}]) > 1e-8 * fac):")
        fac_lines.append("        return False")
        fac_lines.append(f"    E[{k}, {k}] = 1.0 / E[{k}, {k}]")
        rows = [i for i in range(k + 1, n) if (i, k) in filled]
        cols = [j for j in range(k + 1, n) if (k, j) in filled]
        for i in rows:
            fac_lines.append(f"    E[{i}, {k}] *= E[{k}, {k}]")
            for j in cols:
                filled.add((i, j))
                fac_lines.append(f"    E[{i}, {j}] -= E[{i}, {k}] * E[{k}, {j}]")
    fac_lines.append("    return True")
    sol = ["@njit(cache=True, error_model=\"numpy\", inline=\"always\")", "def lu_solve_sparse(E, b):"]
    for i in range(n):
        terms = [f"E[{i}, {j}] * b[{j}]" for j in range(i) if (i, j) in filled]
        if terms:
            sol.append(f"    b[{i}] -= " + " + ".join(terms))
    for i in reversed(range(n)):
        terms = [f"E[{i}, {j}] * b[{j}]" for j in range(i + 1, n) if (i, j) in filled]
        sol.append(f"    b[{i}] = (b[{i}]" + (" - (" + " + ".join(terms) + ")" if terms else "") + f") * E[{i}, {i}]")
    sol.append("    return None")
    return "\n".join(build) + "\n\n\n" + "\n".join(fac_lines) + "\n\n\n" + "\n".join(sol) + "\n"


def _symbolic_fill(filled: set[tuple[int, int]], n: int) -> None:
    """Add the fill-in positions of LU without pivoting (in place)."""
    for k in range(n):
        rows = [i for i in range(k + 1, n) if (i, k) in filled]
        cols = [j for j in range(k + 1, n) if (k, j) in filled]
        for i in rows:
            for j in cols:
                filled.add((i, j))


def _hoist_parameter_terms(exprs: list[sp.Expr], n_params: int) -> tuple[list[sp.Expr], list[sp.Expr]]:
    """Replace every maximal parameter-only subexpression by q[k].

    Parameters only change at events, so terms such as a coactivator occupancy C/(C + Kd) or K^n of
    a Hill function are computed once per member (and after each event) by ``derived(p, q)`` rather
    than at every right-hand-side evaluation.
    """
    params = {sp.Symbol(f"p[{j}]", real=True) for j in range(n_params)}
    table: dict[sp.Expr, sp.Symbol] = {}

    def visit(e: sp.Expr) -> sp.Expr:
        if e.is_Atom:
            return e
        if e.free_symbols and e.free_symbols <= params:
            if e not in table:
                table[e] = sp.Symbol(f"q[{len(table)}]", real=True)
            return table[e]
        return e.func(*[visit(a) for a in e.args])

    return [visit(e) for e in exprs], list(table)


def generate_source(model: Model) -> str:
    """Python/numba source for derived, rhs, jac and observe (index-based), then the solver template."""
    sym = SymbolicModel(model)
    n = len(model.species)
    jac_items = sorted(sym.jacobian.items())
    k_obs = len(sym.observables)
    hoisted, derived_terms = _hoist_parameter_terms(
        list(sym.rhs) + [e for _, e in jac_items] + list(sym.observables), len(model.parameters))
    rhs_e, jac_e, obs_e = hoisted[:n], hoisted[n:n + len(jac_items)], hoisted[n + len(jac_items):]
    n_derived = max(1, len(derived_terms))
    derived = _emit("derived", "p, q", [f"q[{k}]" for k in range(len(derived_terms))], derived_terms)
    rhs = _emit("rhs", "y, p, q, dy", [f"dy[{i}]" for i in range(n)], rhs_e, inline=True)
    # only the pattern is written: J starts zeroed (the solver allocates it with np.zeros)
    jac = _emit("jac", "y, p, q, J", [f"J[{i}, {j}]" for (i, j), _ in jac_items], jac_e)
    obs = _emit("observe", "y, p, q, out", [f"out[{k}]" for k in range(k_obs)], obs_e)
    rhs = f"N_DERIVED = {n_derived}\n\n\n" + derived + "\n" + rhs
    lu = _sparse_lu_source(set(sym.jacobian), n)
    header = "# Generated by eralpha.engine._codegen — do not edit.\nimport math\nfrom numba import njit\n\n\n" + _RPOW + "\n"
    return header + rhs + "\n" + jac + "\n" + obs + "\n" + lu + "\n" + _TEMPLATE.read_text()


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
