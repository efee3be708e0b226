"""A model's straight-line numerical code as LLVM IR, compiled with llvmlite into native functions.

The Rodas5 kernel (``_kernel``) is compiled by numba once and calls these functions through their
addresses, so a new model structure costs the LLVM compilation of a few hundred arithmetic
instructions (tens of milliseconds, measured in benchmarks/bench_compile.py) rather than numba typing
and optimising the whole solver again. Every function takes plain ``double*`` arguments (the data of
C-contiguous NumPy arrays; matrices row-major, n × n) and follows the C calling convention:

    void derived(double* p, double* q)                 parameter-only terms, once per member and event
    void rhs(double* y, double* p, double* q, double* dy)
    void jac(double* y, double* p, double* q, double* J)   writes only the sparsity pattern
    void observe(double* y, double* p, double* q, double* out)
    i32  factor(double* J, double* E, double fac)      E = LU of I·fac − J (in elimination order), no pivoting; 0 if a pivot is small
    void solve(double* E, double* b)                    b ← E⁻¹ b with that LU

Values are named after what they hold (``%"y3"`` is y[3], ``%"x12"`` the 12th common subexpression),
so ``CompiledModel.source`` reads line by line against ``CompiledModel.listing()``. No fast-math
flags: the arithmetic is done in the order written, as IEEE doubles, as numba would without fastmath.
The compiled object code is cached on disk next to the IR's digest.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
import sympy as sp
from llvmlite import ir

from ..store import write_bytes_atomic

__all__ = ["FUNCTIONS", "NativeCode", "module_ir", "load"]

# the order of the function addresses handed to the kernel (its DERIVED ... SOLVE slots)
FUNCTIONS = ("derived", "rhs", "jac", "observe", "factor", "solve")

_D = ir.DoubleType()
_I32 = ir.IntType(32)
_PTR = ir.PointerType()
_SYMBOL = re.compile(r"^(\w+)\[(\d+)\]$")


def _const(v: float) -> ir.Constant:
    return ir.Constant(_D, float(v))


class _Function:
    """One IR function being emitted: lazily loaded array elements, sympy expressions to values."""

    def __init__(self, module: ir.Module, name: str, args: tuple[str, ...], ret: ir.Type = ir.VoidType(), scalars: tuple[str, ...] = ()):
        types = [_D if a in scalars else _PTR for a in args]
        self.fn = ir.Function(module, ir.FunctionType(ret, types), name)
        self.args = {}
        for a, v in zip(args, self.fn.args):
            v.name = a
            self.args[a] = v
        self.b = ir.IRBuilder(self.fn.append_basic_block("entry"))
        self.loaded: dict[tuple[str, int], ir.Value] = {}
        self.values: dict[sp.Basic, ir.Value] = {}
        self.module = module

    # --- memory -----------------------------------------------------------------------------
    def _addr(self, array: str, index: int) -> ir.Value:
        return self.b.gep(self.args[array], [ir.Constant(ir.IntType(64), index)], source_etype=_D, name=f"{array}{index}.at")

    def load(self, array: str, index: int) -> ir.Value:
        key = (array, index)
        if key not in self.loaded:
            self.loaded[key] = self.b.load(self._addr(array, index), typ=_D, name=f"{array}{index}")
        return self.loaded[key]

    def store(self, array: str, index: int, value: ir.Value) -> None:
        self.b.store(value, self._addr(array, index))
        self.loaded[(array, index)] = value

    # --- expressions ------------------------------------------------------------------------
    def bind(self, symbol: sp.Symbol, value: ir.Value) -> None:
        self.values[symbol] = value

    def value(self, e: sp.Basic, name: str = "") -> ir.Value:
        if e in self.values:
            return self.values[e]
        v = self._emit(e, name)
        self.values[e] = v
        return v

    def _intrinsic(self, name: str, *args: ir.Value, name_out: str = "") -> ir.Value:
        f = self.module.declare_intrinsic(name, [_D])
        return self.b.call(f, list(args), name=name_out)

    def _libm(self, name: str, *args: ir.Value, name_out: str = "") -> ir.Value:
        f = self.module.globals.get(name) or ir.Function(self.module, ir.FunctionType(_D, [_D] * len(args)), name)
        return self.b.call(f, list(args), name=name_out)

    def _emit(self, e: sp.Basic, name: str) -> ir.Value:
        b = self.b
        if e.is_Symbol:
            m = _SYMBOL.match(e.name)
            if m is None:
                raise ValueError(f"unbound symbol {e} in generated code")
            return self.load(m.group(1), int(m.group(2)))
        if e.is_Number or e in (sp.pi, sp.E):
            return _const(float(e))
        if e.is_Add:
            terms = [self.value(a) for a in e.args]
            acc = terms[0]
            for i, t in enumerate(terms[1:]):
                acc = b.fadd(acc, t, name=name if i == len(terms) - 2 else "")
            return acc
        if e.is_Mul:
            return self._mul(e, name)
        if e.is_Pow:
            return self._pow(self.value(e.base), e.exp, name)
        f = e.func
        if f is sp.exp:
            return self._intrinsic("llvm.exp", self.value(e.args[0]), name_out=name)
        if f is sp.log:
            return self._intrinsic("llvm.log", self.value(e.args[0]), name_out=name)
        if f is sp.Abs:
            return self._intrinsic("llvm.fabs", self.value(e.args[0]), name_out=name)
        if f in (sp.Max, sp.Min):
            # Python's max/min of two floats: keep the first unless the other compares greater/less
            op = ">" if f is sp.Max else "<"
            acc = self.value(e.args[0])
            for a in e.args[1:]:
                v = self.value(a)
                acc = b.select(b.fcmp_ordered(op, v, acc), v, acc, name=name)
            return acc
        if f is sp.sign:
            x = self.value(e.args[0])
            pos = b.uitofp(b.fcmp_ordered(">", x, _const(0.0)), _D)
            neg = b.uitofp(b.fcmp_ordered("<", x, _const(0.0)), _D)
            return b.fsub(pos, neg, name=name)
        if f is sp.Heaviside:  # d max(a, x)/dx; the value at 0 as sympy's default (1/2)
            x = self.value(e.args[0])
            half = _const(float(e.args[1])) if len(e.args) > 1 else _const(0.5)
            at0 = b.select(b.fcmp_ordered("==", x, _const(0.0)), half, _const(0.0))
            return b.select(b.fcmp_ordered(">", x, _const(0.0)), _const(1.0), at0, name=name)
        raise NotImplementedError(f"the engine cannot compile '{f.__name__}' (in {e}); rate laws may use "
                                  "+ - * / ^, exp, log, sqrt, abs, min, max")

    def _mul(self, e: sp.Mul, name: str) -> ir.Value:
        """Numerator terms multiplied, divided once by the product of the denominator terms."""
        b = self.b
        num, den, sign = [], [], 1.0
        for a in e.args:
            if a.is_Number:
                if a == -1:
                    sign = -sign
                else:
                    num.insert(0, a)
            elif a.is_Pow and a.exp.is_Number and a.exp < 0:
                den.append(a.base if a.exp == -1 else sp.Pow(a.base, -a.exp, evaluate=False))
            else:
                num.append(a)
        acc = None
        for a in num:
            v = self.value(a)
            acc = v if acc is None else b.fmul(acc, v)
        if den:
            d = None
            for a in den:
                v = self.value(a)
                d = v if d is None else b.fmul(d, v)
            acc = b.fdiv(acc if acc is not None else _const(1.0), d)
        if sign < 0:
            acc = b.fneg(acc) if acc is not None else _const(-1.0)
        if name and hasattr(acc, "name") and not isinstance(acc, ir.Constant):
            acc.name = name
        return acc

    def _pow(self, x: ir.Value, n: sp.Basic, name: str) -> ir.Value:
        b = self.b
        if n.is_Integer:
            k = abs(int(n))
            r, base = None, x
            while k:  # by squaring, as numba does for a literal integer exponent
                if k & 1:
                    r = base if r is None else b.fmul(r, base)
                k >>= 1
                if k:
                    base = b.fmul(base, base)
            r = r if r is not None else _const(1.0)
            return b.fdiv(_const(1.0), r, name=name) if n < 0 else r
        if n == sp.Rational(1, 2):
            return self._intrinsic("llvm.sqrt", x, name_out=name)
        if n == sp.Rational(-1, 2):
            return b.fdiv(_const(1.0), self._intrinsic("llvm.sqrt", x), name=name)
        exponent = self.value(n)
        if n.is_Number:
            return self._intrinsic("llvm.pow", x, exponent, name_out=name)
        return b.call(_rpow(self.module), [x, exponent], name=name)


def _rpow(module: ir.Module) -> ir.Function:
    """x ** n, multiplying when n is a whole number from 1 to 16 (a Hill coefficient): libm's pow costs
    ~10 ns, a fifth of a right-hand side. Inlined into its callers."""
    if "rpow" in module.globals:
        return module.globals["rpow"]
    f = ir.Function(module, ir.FunctionType(_D, [_D, _D]), "rpow")
    f.linkage = "internal"
    f.attributes.add("alwaysinline")
    x, n = f.args
    x.name, n.name = "x", "n"
    entry, pre, loop, body, done, general = (f.append_basic_block(s) for s in ("entry", "whole", "loop", "body", "done", "general"))
    b = ir.IRBuilder(entry)
    floor = b.call(module.declare_intrinsic("llvm.floor", [_D]), [n])
    whole = b.and_(b.and_(b.fcmp_ordered(">=", n, _const(1.0)), b.fcmp_ordered("<=", n, _const(16.0))),
                   b.fcmp_ordered("==", n, floor))
    b.cbranch(whole, pre, general)
    b.position_at_end(pre)
    count = b.fptosi(n, _I32)
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(_I32, "i")
    r = b.phi(_D, "r")
    b.cbranch(b.icmp_signed(">=", i, count), done, body)
    b.position_at_end(body)
    r_next = b.fmul(r, x)
    i_next = b.add(i, ir.Constant(_I32, 1))
    b.branch(loop)
    i.add_incoming(ir.Constant(_I32, 1), pre)
    i.add_incoming(i_next, body)
    r.add_incoming(x, pre)
    r.add_incoming(r_next, body)
    b.position_at_end(done)
    b.ret(r)
    b.position_at_end(general)
    b.ret(b.call(module.declare_intrinsic("llvm.pow", [_D]), [x, n]))
    return f


def _assign(fn: _Function, targets: list[tuple[str, int]], exprs: list[sp.Expr]) -> None:
    """Common subexpressions first (named x0, x1, ...), then each target stored."""
    if exprs:
        subexprs, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("x"), optimizations=None)
        for sym, e in subexprs:
            fn.bind(sym, fn.value(e, name=sym.name))
        for (array, index), e in zip(targets, reduced):
            fn.store(array, index, fn.value(e, name=f"{array}{index}.new"))
    fn.b.ret_void()


def _lu(module: ir.Module, pattern: set[tuple[int, int]], filled: set[tuple[int, int]], n: int,
        order: list[int] | None = None) -> None:
    """factor(J, E, fac) and solve(E, b): straight-line LU without pivoting over the filled pattern.

    ``order`` is the elimination order (:func:`elimination_order`): row and column k of the factored
    matrix are species ``order[k]``, so ``pattern`` and ``filled`` are in those permuted indices; E
    is stored permuted (only ``solve`` reads it) and ``solve`` maps b in and out. A symmetric
    permutation keeps the diagonal on the diagonal, so the argument below holds in any order.

    W = I/(h·γ) − J is diagonally dominant for these reaction networks (degradation and binding make
    J's diagonal negative), so elimination in the natural order is stable; a pivot that is small
    relative to 1/(h·γ) makes ``factor`` return 0 and the kernel falls back to its dense, partially
    pivoted LU (which rebuilds E from J, so what factor left in E then does not matter). The
    diagonal of U is stored inverted: the eight solves of a step then multiply, not divide.
    """
    order = list(range(n)) if order is None else list(order)
    f = _Function(module, "factor", ("J", "E", "fac"), ret=_I32, scalars=("fac",))
    b = f.b
    fac = f.args["fac"]
    cur: dict[tuple[int, int], ir.Value] = {}
    for (i, j) in sorted(filled):
        at = order[i] * n + order[j]  # where J holds this entry (J is in species order)
        if i == j:
            cur[i, j] = b.fsub(fac, f.load("J", at), name=f"E{i}_{j}") if (i, j) in pattern else fac
        elif (i, j) in pattern:
            cur[i, j] = b.fneg(f.load("J", at), name=f"E{i}_{j}")
        else:
            cur[i, j] = _const(0.0)  # a fill-in position
    ok = ir.Constant(ir.IntType(1), 1)
    small = b.fmul(_const(1e-8), fac, name="tiny")
    for k in range(n):
        ok = b.and_(ok, b.fcmp_ordered(">", b.call(module.declare_intrinsic("llvm.fabs", [_D]), [cur[k, k]]), small))
        cur[k, k] = b.fdiv(_const(1.0), cur[k, k], name=f"U{k}_{k}.inv")
        rows = [i for i in range(k + 1, n) if (i, k) in filled]
        cols = [j for j in range(k + 1, n) if (k, j) in filled]
        for i in rows:
            cur[i, k] = b.fmul(cur[i, k], cur[k, k], name=f"L{i}_{k}")
            for j in cols:
                cur[i, j] = b.fsub(cur[i, j], b.fmul(cur[i, k], cur[k, j]), name=f"E{i}_{j}")
    for (i, j) in sorted(filled):
        f.store("E", i * n + j, cur[i, j])
    b.ret(b.zext(ok, _I32))

    s = _Function(module, "solve", ("E", "b"))
    x = [s.load("b", order[i]) for i in range(n)]

    def dot(i: int, cols: range) -> ir.Value | None:
        acc = None
        for j in cols:
            if (i, j) in filled:
                t = s.b.fmul(s.load("E", i * n + j), x[j])
                acc = t if acc is None else s.b.fadd(acc, t)
        return acc

    for i in range(n):  # forward: L has a unit diagonal
        if (acc := dot(i, range(i))) is not None:
            x[i] = s.b.fsub(x[i], acc, name=f"z{i}")
    for i in reversed(range(n)):  # backward, multiplying by the inverted diagonal
        if (acc := dot(i, range(i + 1, n))) is not None:
            x[i] = s.b.fsub(x[i], acc)
        x[i] = s.b.fmul(x[i], s.load("E", i * n + i), name=f"x{i}.sol")
    for i in range(n):
        s.store("b", order[i], x[i])
    s.b.ret_void()


def elimination_order(pattern: set[tuple[int, int]], n: int) -> list[int]:
    """A minimum-degree elimination order (the classic greedy heuristic on the symmetrised pattern;
    ties to the lowest index, so it is deterministic): at each step eliminate the species with the
    fewest remaining neighbours. It cuts the LU's fill-in — for the 37–53-species tumour models the
    factor's multiplications by 50–60 % and each of a step's eight solves by 20–30 % against the
    natural order (measured in the commit that introduced it)."""
    adj: dict[int, set[int]] = {i: set() for i in range(n)}
    for i, j in pattern:
        if i != j:
            adj[i].add(j)
            adj[j].add(i)
    order, left = [], set(range(n))
    while left:
        k = min(left, key=lambda v: (len(adj[v] & left), v))
        neighbours = adj[k] & left
        for a in neighbours:
            adj[a] |= neighbours - {a}
        order.append(k)
        left.remove(k)
    return order


def symbolic_fill(pattern: set[tuple[int, int]], n: int) -> set[tuple[int, int]]:
    """The pattern with its diagonal and the fill-in positions of LU without pivoting."""
    filled = set(pattern) | {(i, i) for i in range(n)}
    for k in range(n):
        rows = [i for i in range(k + 1, n) if (i, k) in filled]
        cols = [j for j in range(k + 1, n) if (k, j) in filled]
        for i in rows:
            for j in cols:
                filled.add((i, j))
    return filled


def module_ir(name: str, n: int, rhs: list[sp.Expr], jac: dict[tuple[int, int], sp.Expr],
              observables: list[sp.Expr], derived: list[sp.Expr]) -> str:
    """The IR text of the six functions (expressions over symbols y[i], p[j] and q[k])."""
    module = ir.Module(name=name)
    _assign(_Function(module, "derived", ("p", "q")), [("q", k) for k in range(len(derived))], derived)
    _assign(_Function(module, "rhs", ("y", "p", "q", "dy")), [("dy", i) for i in range(n)], rhs)
    items = sorted(jac.items())  # only the pattern is written: the kernel allocates J zeroed
    _assign(_Function(module, "jac", ("y", "p", "q", "J")), [("J", i * n + j) for (i, j), _ in items], [e for _, e in items])
    _assign(_Function(module, "observe", ("y", "p", "q", "out")), [("out", k) for k in range(len(observables))], observables)
    order = elimination_order(set(jac), n)
    where = {species: k for k, species in enumerate(order)}
    permuted = {(where[i], where[j]) for i, j in jac}
    _lu(module, permuted, symbolic_fill(permuted, n), n, order)
    return str(module)


# --- compilation --------------------------------------------------------------------------------
_lock = threading.Lock()
_loaded: dict[str, NativeCode] = {}
_target: list[llvm.TargetMachine] = []


@dataclass(frozen=True, eq=False)
class NativeCode:
    """The compiled functions of one model structure; holds its execution engine (the code's owner)."""

    digest: str
    addresses: np.ndarray  # int64, in FUNCTIONS order
    engine: object


def _target_machine() -> llvm.TargetMachine:
    if not _target:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        target = llvm.Target.from_default_triple()
        _target.append(target.create_target_machine(cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
                                                    opt=3, reloc="default", codemodel="jitdefault"))
    return _target[0]


def load(source: str, cache: Path) -> NativeCode:
    """Compile ``source`` (IR text) or load its object code from ``cache``; addresses of FUNCTIONS."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    with _lock:
        if digest in _loaded:
            return _loaded[digest]
        tm = _target_machine()
        obj_path = cache / f"native_{digest}_{llvm.get_host_cpu_name()}.o"
        module = llvm.parse_assembly(source)
        module.triple, module.data_layout = tm.triple, str(tm.target_data)
        cached = obj_path.read_bytes() if obj_path.exists() else None
        if cached is None:  # optimise only what will be compiled, not what comes from the cache
            pto = llvm.create_pipeline_tuning_options(speed_level=2)
            pb = llvm.create_pass_builder(tm, pto)
            pb.getModulePassManager().run(module, pb)

        def notify(_mod, buffer: bytes) -> None:
            write_bytes_atomic(obj_path, buffer)  # concurrent processes never read half an object

        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
        engine.set_object_cache(notify_func=None if cached is not None else notify, getbuffer_func=lambda _mod: cached)
        engine.add_module(module)
        engine.finalize_object()
        addresses = np.array([engine.get_function_address(f) for f in FUNCTIONS], dtype=np.int64)
        if not addresses.all():
            raise RuntimeError(f"native code {digest}: a function has no address ({dict(zip(FUNCTIONS, addresses))})")
        addresses.flags.writeable = False
        code = NativeCode(digest, addresses, engine)
        _loaded[digest] = code
        return code
