"""Rodas5 (Di Marzo 1993; Hairer & Wanner) for a batch of parameter sets, compiled with numba once.

The kernel knows nothing of any model: it calls the model's generated functions — ``derived(p, q)``,
``rhs(y, p, q, dy)``, ``jac(y, p, q, J)``, ``observe(y, p, q, out)`` and the sparse LU pair
``factor(J, E, fac)`` / ``solve(E, b)``, compiled from LLVM IR by ``_native`` — through the machine
addresses in ``fns``. So numba compiles (and caches on disk) this file once for every model structure,
and a new structure costs only the LLVM compilation of its straight-line code (well under a second),
instead of numba typing and optimising the whole solver again for each one (11-40 s).

Rodas5 is a stiffly accurate, L-stable Rosenbrock method of order 5 with an embedded order-4 error
estimate: one Jacobian and one LU factorisation per step, eight right-hand-side evaluations, no
Newton iterations — a good fit for small, stiff signalling models where binding is far faster than
growth. Against Rodas4 (order 4(3)) it takes ~45 % fewer steps at rtol 1e-6 on the in-vitro panel
(benchmarks/bench_invitro_panel.py), which more than pays for its two extra stages.
Events (drug additions, wash-outs, doses) stop the integrator exactly at their times.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# Tableau in the transformed ("a, C") form that needs no matrix products at run time:
#   stage i:  (I/(h*gamma) - J) k_i = f(y + sum_j A[i, j] k_j) + sum_j (C[i, j] / h) k_j
#   new y  =  y + sum_j A[7, j] k_j + k_8 (stiffly accurate: the last stage is the solution);
#   error  =  k_8 (the difference to the embedded order-4 solution).
# Coefficients of RODAS5(4): G. A. Di Marzo, "RODAS5(4) - Methodes de Rosenbrock d'ordre 5(4)
# adaptees aux problemes differentiels-algebriques", Universite de Geneve 1993, in the transformed
# variables of Hairer & Wanner, Solving ODEs II, IV.7 (a = alpha Gamma^-1, C = diag(1/gamma) - Gamma^-1);
# the values as tabulated in OrdinaryDiffEq.jl's Rodas5 tableau (MIT licence).
# tests/test_engine_order.py checks the orders (5 and 4) numerically, so a mistyped digit fails.
_GAMMA = 0.19
_A6 = (-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405, 24.13215229196062)
_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.040894194418781, 1.041747909077569, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.576417536461461, 1.622083060776640, -0.9089668560264532, 0.0, 0.0, 0.0, 0.0, 0.0],
    [2.760842080225597, 1.446624659844071, -0.3036980084553738, 0.2877498600325443, 0.0, 0.0, 0.0, 0.0],
    [*_A6, 0.0, 0.0, 0.0],
    [*_A6, 1.0, 0.0, 0.0],  # stages 7 and 8 build on the stage-6 solution (stiffly accurate)
    [*_A6, 1.0, 1.0, 0.0],
])
_C = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [-10.31323885133993, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [-21.04823117650003, -7.234992135176716, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [32.22751541853323, -4.943732386540191, 19.44922031041879, 0.0, 0.0, 0.0, 0.0, 0.0],
    [-20.69865579590063, -8.816374604402768, 1.260436877740897, -0.7495647613787146, 0.0, 0.0, 0.0, 0.0],
    [-46.22004352711257, -17.49534862857472, -289.6389582892057, 93.60855400400906, 318.3822534212147, 0.0, 0.0, 0.0],
    [34.20013733472935, -14.15535402717690, 57.82335640988400, 25.83362985412365, 1.408950972071624,
     -6.551835421242162, 0.0, 0.0],
    [42.57076742291101, -13.80770672017997, 93.98938432427124, 18.77919633714503, -31.58359187223370,
     -6.685968952921985, -5.810979938412932, 0.0],
])
_STAGES = 8
_ORDER = 5  # of the solution; the error estimate is of order 4, so steps scale with err ** (1/5)

STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_STEP_TOO_SMALL = 2
STATUS_NOT_FINITE = 3
STATUS_SINGULAR = 4

# slots of ``fns``, the model's compiled functions (the order _native.FUNCTIONS lists them in)
DERIVED, RHS, JAC, OBSERVE, FACTOR, SOLVE = range(6)


def _native_call(context, builder, sig, args, restype):
    """Call the function at address args[0] with the data pointers of array arguments (C ABI)."""
    values, argtys = [], []
    for ty, v in zip(sig.args[1:], args[1:]):
        if isinstance(ty, types.Array):
            values.append(context.make_array(ty)(context, builder, v).data)
            argtys.append(values[-1].type)
        else:
            values.append(v)
            argtys.append(ir.DoubleType())
    fnty = ir.FunctionType(restype, argtys)
    return builder.call(builder.inttoptr(args[0], fnty.as_pointer()), values)


@intrinsic
def _call2(typingctx, fn, a, b):
    return types.void(fn, a, b), lambda c, bld, sig, args: _native_call(c, bld, sig, args, ir.VoidType())


@intrinsic
def _call4(typingctx, fn, a, b, c, d):
    return types.void(fn, a, b, c, d), lambda c, bld, sig, args: _native_call(c, bld, sig, args, ir.VoidType())


@intrinsic
def _call_factor(typingctx, fn, J, E, fac):
    def codegen(c, bld, sig, args):
        ok = _native_call(c, bld, sig, args, ir.IntType(32))
        return bld.icmp_signed("!=", ok, ir.Constant(ir.IntType(32), 0))
    return types.boolean(fn, J, E, types.float64), codegen


@njit(cache=True, error_model="numpy")
def _lu_factor(A, piv):
    n = A.shape[0]
    for k in range(n):
        p = k
        amax = abs(A[k, k])
        for i in range(k + 1, n):
            if abs(A[i, k]) > amax:
                amax = abs(A[i, k])
                p = i
        piv[k] = p
        if amax == 0.0:
            return False
        if p != k:
            for j in range(n):
                tmp = A[k, j]
                A[k, j] = A[p, j]
                A[p, j] = tmp
        inv = 1.0 / A[k, k]
        for i in range(k + 1, n):
            A[i, k] *= inv
            f = A[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    A[i, j] -= f * A[k, j]
    return True


@njit(cache=True, error_model="numpy")
def _lu_solve(LU, piv, b):
    n = LU.shape[0]
    for k in range(n):
        p = piv[k]
        if p != k:
            tmp = b[k]
            b[k] = b[p]
            b[p] = tmp
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= LU[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= LU[i, j] * b[j]
        b[i] = s / LU[i, i]


# The two stage sums of a step, written out stage by stage so that each stage is one loop over the
# species with a fixed number of terms: LLVM vectorises it (each K[j] is contiguous) and both sums share
# the loads of K[j]. The terms are added left to right in the order of a running sum over j, so the
# results have the same bits as ``acc = y[i]; for j < s: acc += A[s, j] * K[j, i]`` (and likewise for
# C, from 0.0). (A loop over j inside a loop over i is not vectorised; a loop over i inside a loop
# over j stores and reloads the partial sums for every j.)
@njit(cache=True, error_model="numpy")
def _stage_sums(s, y, K, out):
    """out = y + sum_{j<s} A[s, j] K[j], the state at which stage s evaluates the right-hand side, and
    K[s] = sum_{j<s} C[s, j] K[j], its coupling term (``_stage_k`` completes K[s] once f is known)."""
    n = y.shape[0]
    if s == 0:
        for i in range(n):
            out[i] = y[i]
            K[0, i] = 0.0
    elif s == 1:
        a0, c0 = _A[1, 0], _C[1, 0]
        for i in range(n):
            k0 = K[0, i]
            out[i] = y[i] + a0 * k0
            K[1, i] = 0.0 + c0 * k0
    elif s == 2:
        a0, a1 = _A[2, 0], _A[2, 1]
        c0, c1 = _C[2, 0], _C[2, 1]
        for i in range(n):
            k0, k1 = K[0, i], K[1, i]
            out[i] = y[i] + a0 * k0 + a1 * k1
            K[2, i] = 0.0 + c0 * k0 + c1 * k1
    elif s == 3:
        a0, a1, a2 = _A[3, 0], _A[3, 1], _A[3, 2]
        c0, c1, c2 = _C[3, 0], _C[3, 1], _C[3, 2]
        for i in range(n):
            k0, k1, k2 = K[0, i], K[1, i], K[2, i]
            out[i] = y[i] + a0 * k0 + a1 * k1 + a2 * k2
            K[3, i] = 0.0 + c0 * k0 + c1 * k1 + c2 * k2
    elif s == 4:
        a0, a1, a2, a3 = _A[4, 0], _A[4, 1], _A[4, 2], _A[4, 3]
        c0, c1, c2, c3 = _C[4, 0], _C[4, 1], _C[4, 2], _C[4, 3]
        for i in range(n):
            k0, k1, k2, k3 = K[0, i], K[1, i], K[2, i], K[3, i]
            out[i] = y[i] + a0 * k0 + a1 * k1 + a2 * k2 + a3 * k3
            K[4, i] = 0.0 + c0 * k0 + c1 * k1 + c2 * k2 + c3 * k3
    elif s == 5:
        a0, a1, a2, a3, a4 = _A[5, 0], _A[5, 1], _A[5, 2], _A[5, 3], _A[5, 4]
        c0, c1, c2, c3, c4 = _C[5, 0], _C[5, 1], _C[5, 2], _C[5, 3], _C[5, 4]
        for i in range(n):
            k0, k1, k2, k3, k4 = K[0, i], K[1, i], K[2, i], K[3, i], K[4, i]
            out[i] = y[i] + a0 * k0 + a1 * k1 + a2 * k2 + a3 * k3 + a4 * k4
            K[5, i] = 0.0 + c0 * k0 + c1 * k1 + c2 * k2 + c3 * k3 + c4 * k4
    elif s == 6:
        # stages 7 and 8 (s = 6, 7) build on the previous stage's state: A[s] = A[s - 1] + e_{s-1},
        # and ``out`` still holds that state (the right-hand side only reads it)
        c0, c1, c2, c3, c4, c5 = _C[6, 0], _C[6, 1], _C[6, 2], _C[6, 3], _C[6, 4], _C[6, 5]
        for i in range(n):
            out[i] += K[5, i]
            K[6, i] = 0.0 + c0 * K[0, i] + c1 * K[1, i] + c2 * K[2, i] + c3 * K[3, i] + c4 * K[4, i] + c5 * K[5, i]
    else:
        c0, c1, c2, c3, c4, c5, c6 = _C[7, 0], _C[7, 1], _C[7, 2], _C[7, 3], _C[7, 4], _C[7, 5], _C[7, 6]
        for i in range(n):
            out[i] += K[6, i]
            K[7, i] = (0.0 + c0 * K[0, i] + c1 * K[1, i] + c2 * K[2, i] + c3 * K[3, i] + c4 * K[4, i]
                       + c5 * K[5, i] + c6 * K[6, i])


@njit(cache=True, error_model="numpy")
def _stage_k(s, dy, ih, K):
    """K[s] = f + K[s] / h: the right-hand side of stage s's linear system (K[s] from ``_stage_sums``)."""
    for i in range(dy.shape[0]):
        K[s, i] = dy[i] + K[s, i] * ih


@njit(cache=True, error_model="numpy")
def _integrate(fns, y, p, q, t0, t1, h, rtol, atol, max_steps, steps_used, J, E, piv, K, ynew, dy):
    """Advance ``y`` in place from t0 to exactly t1. Returns (status, t_reached, h_next, steps).

    Work arrays come from the caller (allocated once per batch member): J must start zeroed, since
    the generated ``jac`` writes only its sparsity pattern; K holds one row per stage.
    """
    n = y.shape[0]
    t = t0
    steps = steps_used
    reject = False
    span = t1 - t0
    if span <= 0.0:
        return STATUS_OK, t, h, steps
    h = min(h, span)
    while t < t1:
        if steps >= max_steps:
            return STATUS_MAX_STEPS, t, h, steps
        last = False
        if t + 1.0001 * h >= t1:  # also avoids leaving a sliver of a step before t1
            h = t1 - t
            last = True
        if h < 1e-13 * max(1.0, abs(t)):
            return STATUS_STEP_TOO_SMALL, t, h, steps
        steps += 1
        _call4(fns[JAC], y, p, q, J)
        fac = 1.0 / (h * _GAMMA)
        # generated sparse LU of I*fac - J first; dense partial pivoting only if a pivot is too small
        sparse = _call_factor(fns[FACTOR], J, E, fac)
        if not sparse:
            for i in range(n):
                for j in range(n):
                    E[i, j] = -J[i, j]
                E[i, i] += fac
            if not _lu_factor(E, piv):
                return STATUS_SINGULAR, t, h, steps
        ih = 1.0 / h
        for s in range(_STAGES):
            # the stage's state, then its right-hand side plus the C-coupling, then one LU solve
            _stage_sums(s, y, K, ynew)
            _call4(fns[RHS], ynew, p, q, dy)
            _stage_k(s, dy, ih, K)
            if sparse:
                _call2(fns[SOLVE], E, K[s])
            else:
                _lu_solve(E, piv, K[s])
        err = 0.0
        last_stage = _STAGES - 1
        for i in range(n):
            ynew[i] += K[last_stage, i]
            sk = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            r = K[last_stage, i] / sk
            err += r * r
        if not math.isfinite(err):  # NaN or inf anywhere in the new state shows up here
            # treat as a rejected step with a much smaller h
            h *= 0.1
            reject = True
            if h < 1e-13 * max(1.0, abs(t)):
                return STATUS_NOT_FINITE, t, h, steps
            continue
        err = math.sqrt(err / n)
        # step-size controller (Hairer: safety 0.9, growth in [0.2, 6])
        shrink = max(0.2, min(6.0, err ** (1.0 / _ORDER) / 0.9)) if err > 0.0 else 0.2
        hnew = h / shrink
        if err <= 1.0:
            t = t1 if last else t + h
            for i in range(n):
                y[i] = ynew[i]
            if reject:
                hnew = min(hnew, h)
            reject = False
            h = hnew
        else:
            reject = True
            h = hnew
    return STATUS_OK, t, h, steps


@njit(cache=True, error_model="numpy")
def _initial_step(fns, y, p, q, rtol, atol, h_fallback, f0, y1, f1):
    """Starting step size (Hairer, Norsett & Wanner, Solving ODEs I, II.4), for the method's order.

    Used at the start and after every event: a dose into a depot or a drug added to the medium starts
    a transient whose time scale this estimates from ||f|| and a finite-difference ||f'||, instead of
    restarting from a tiny fixed step and climbing back up by a factor of 6 per step.
    """
    n = y.shape[0]
    _call4(fns[RHS], y, p, q, f0)
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        d0 += (y[i] / sk) ** 2
        d1 += (f0[i] / sk) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 0.01 * d0 / d1 if (d0 > 1e-5 and d1 > 1e-5) else h_fallback
    for i in range(n):
        y1[i] = y[i] + h0 * f0[i]
    _call4(fns[RHS], y1, p, q, f1)
    d2 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        d2 += ((f1[i] - f0[i]) / sk) ** 2
    d2 = math.sqrt(d2 / n) / h0
    m = max(d1, d2)
    h1 = (0.01 / m) ** (1.0 / (_ORDER + 1)) if m > 1e-15 else max(1e-6, h0 * 1e-3)
    h = min(100.0 * h0, h1)
    if not (h > 0.0 and math.isfinite(h)):
        h = h_fallback
    return h


@njit(cache=True, error_model="numpy")
def _apply_event(y, p, kind, index, value):
    if kind == 0:      # set species
        y[index] = value
    elif kind == 1:    # add to species (a dose)
        y[index] += value
    elif kind == 2:    # set parameter (a drug added to, or washed out of, the medium)
        p[index] = value
    else:              # multiply species (e.g. a passage / dilution)
        y[index] *= value


@njit(cache=True, error_model="numpy")
def _is_noop(y, p, kind, index, value):
    """Does the event leave this member unchanged whatever its state? (A dose of 0 to an animal of
    another arm, a parameter set to the value it has.) Such events are skipped: no stop, no step-size
    restart. Parameters change only by events, so ``p`` now is ``p`` at the event's time."""
    if kind == 0:  # setting a species: depends on the state at the event, not known yet
        return False
    if kind == 1:
        return value == 0.0
    if kind == 2:
        return p[index] == value
    return value == 1.0


@njit(nogil=True, cache=True, error_model="numpy")
def solve_range(lo, hi, fns, n_derived, Y0, P, t0, t_out, ev_t, ev_kind, ev_index, ev_val, rtol, atol, h0, max_steps,
                states_out, obs_out, status, fail_t, steps_out):
    """Integrate members lo..hi-1 of the batch from t0, recording states and observables at t_out.

    ``fns`` holds the addresses of the model's compiled functions (slots DERIVED ... SOLVE) and
    ``n_derived`` the length of its table q of parameter-only terms.

    Events (sorted by time) act at their exact times; an output at an event time shows the state
    after the event. Events that leave a member unchanged (``_is_noop``) do not stop its integration.
    Each member keeps its own adaptive step. Without the GIL: the caller runs
    disjoint ranges on several threads (a serial function compiles in a fraction of the time of a
    numba ``prange`` loop, and the caller can balance the load).
    """
    T = t_out.shape[0]
    n_events = ev_t.shape[0]
    for b in range(lo, hi):
        y = Y0[b].copy()
        p = P[b].copy()
        n = y.shape[0]
        J = np.zeros((n, n))
        E = np.zeros((n, n))
        piv = np.empty(n, dtype=np.int64)
        K = np.empty((_STAGES, n))
        ynew = np.empty(n)
        dy = np.empty(n)
        q = np.empty(n_derived)
        _call2(fns[DERIVED], p, q)
        t = t0
        h = _initial_step(fns, y, p, q, rtol, atol, h0, dy, ynew, K[0])
        steps = 0
        ie = 0
        st = STATUS_OK
        for k in range(T):
            target = t_out[k]
            while True:
                while ie < n_events and _is_noop(y, p, ev_kind[ie], ev_index[ie], ev_val[b, ie]):
                    ie += 1
                # next stop: the next event before (or at) the target, else the target
                stop = target
                if ie < n_events and ev_t[ie] <= target:
                    stop = ev_t[ie]
                if stop > t:
                    st, t, h, steps = _integrate(fns, y, p, q, t, stop, h, rtol, atol, max_steps, steps, J, E, piv, K, ynew, dy)
                    if st != STATUS_OK:
                        break
                if ie < n_events and ev_t[ie] <= target and ev_t[ie] <= t:
                    while ie < n_events and ev_t[ie] <= t:
                        _apply_event(y, p, ev_kind[ie], ev_index[ie], ev_val[b, ie])
                        ie += 1
                    _call2(fns[DERIVED], p, q)  # an event may have changed parameters
                    h = _initial_step(fns, y, p, q, rtol, atol, h0, dy, ynew, K[0])  # a discontinuity: re-estimate
                    continue
                break
            if st != STATUS_OK:
                status[b] = st
                fail_t[b] = t
                for kk in range(k, T):
                    for i in range(y.shape[0]):
                        states_out[b, kk, i] = np.nan
                    for i in range(obs_out.shape[2]):
                        obs_out[b, kk, i] = np.nan
                break
            for i in range(y.shape[0]):
                states_out[b, k, i] = y[i]
            _call4(fns[OBSERVE], y, p, q, obs_out[b, k])
        steps_out[b] = steps
