# ruff: noqa
"""Rodas4 (Hairer & Wanner, rodas.f, METH=1) for a batch of parameter sets, compiled with numba.

TEMPLATE: this file's source is appended to each generated model module, after the model's own
``rhs(y, p, q, dy)``, ``jac(y, p, q, J)``, ``observe(y, p, q, out)`` and the sparse LU pair
``lu_factor_sparse(E, fac)`` / ``lu_solve_sparse(E, b)``; it never runs on its own. Keeping it a
real Python file lets linters and readers treat it as code.

Rodas4 is a stiffly accurate, L-stable Rosenbrock method of order 4 with an embedded order-3 error
estimate: one Jacobian and one LU factorisation per step, six right-hand-side evaluations, no Newton
iterations — a good fit for small, stiff signalling models where binding is far faster than growth.
Events (drug additions, wash-outs, doses) stop the integrator exactly at their times.
"""
import math

import numpy as np
from numba import njit, prange

# Tableau (E. Hairer, G. Wanner, Solving ODEs II, 1996; rodas.f coefficients for METH = 1).
_GAMMA = 0.25
_A21 = 1.544
_A31 = 0.9466785280815826
_A32 = 0.2557011698983284
_A41 = 3.314825187068521
_A42 = 2.896124015972201
_A43 = 0.9986419139977817
_A51 = 1.221224509226641
_A52 = 6.019134481288629
_A53 = 12.53708332932087
_A54 = -0.6878860361058950
_C21 = -5.6688
_C31 = -2.430093356833875
_C32 = -0.2063599157091915
_C41 = -0.1073529058151375
_C42 = -9.594562251023355
_C43 = -20.47028614809616
_C51 = 7.496443313967647
_C52 = -10.24680431464352
_C53 = -33.99990352819905
_C54 = 11.70890893206160
_C61 = 8.083246795921522
_C62 = -7.981132988064893
_C63 = -31.52159432874371
_C64 = 16.31930543123136
_C65 = -6.058818238834054

STATUS_OK = 0
STATUS_MAX_STEPS = 1
STATUS_STEP_TOO_SMALL = 2
STATUS_NOT_FINITE = 3
STATUS_SINGULAR = 4


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _solve(E, piv, b, sparse):
    if sparse:
        lu_solve_sparse(E, b)
    else:
        _lu_solve(E, piv, b)


@njit(cache=True)
def _integrate(y, p, q, t0, t1, h, rtol, atol, max_steps, steps_used, J, E, piv, K, ynew, dy):
    """Advance ``y`` in place from t0 to exactly t1. Returns (status, t_reached, h_next, steps).

    Work arrays come from the caller (allocated once per batch member): J must start zeroed, since
    the generated ``jac`` writes only its sparsity pattern.
    """
    n = y.shape[0]
    k1 = K[0]; k2 = K[1]; k3 = K[2]; k4 = K[3]; k5 = K[4]; k6 = K[5]
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
        jac(y, p, q, J)
        fac = 1.0 / (h * _GAMMA)
        # generated sparse LU first; dense partial pivoting only if a pivot is too small
        build_iteration_matrix(J, E, fac)
        sparse = lu_factor_sparse(E, fac)
        if not sparse:
            for i in range(n):
                for j in range(n):
                    E[i, j] = -J[i, j]
                E[i, i] += fac
            if not _lu_factor(E, piv):
                return STATUS_SINGULAR, t, h, steps
        # stage 1
        rhs(y, p, q, dy)
        for i in range(n):
            k1[i] = dy[i]
        _solve(E, piv, k1, sparse)
        # stage 2
        for i in range(n):
            ynew[i] = y[i] + _A21 * k1[i]
        rhs(ynew, p, q, dy)
        for i in range(n):
            k2[i] = dy[i] + _C21 * k1[i] / h
        _solve(E, piv, k2, sparse)
        # stage 3
        for i in range(n):
            ynew[i] = y[i] + _A31 * k1[i] + _A32 * k2[i]
        rhs(ynew, p, q, dy)
        for i in range(n):
            k3[i] = dy[i] + (_C31 * k1[i] + _C32 * k2[i]) / h
        _solve(E, piv, k3, sparse)
        # stage 4
        for i in range(n):
            ynew[i] = y[i] + _A41 * k1[i] + _A42 * k2[i] + _A43 * k3[i]
        rhs(ynew, p, q, dy)
        for i in range(n):
            k4[i] = dy[i] + (_C41 * k1[i] + _C42 * k2[i] + _C43 * k3[i]) / h
        _solve(E, piv, k4, sparse)
        # stage 5
        for i in range(n):
            ynew[i] = y[i] + _A51 * k1[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i]
        rhs(ynew, p, q, dy)
        for i in range(n):
            k5[i] = dy[i] + (_C51 * k1[i] + _C52 * k2[i] + _C53 * k3[i] + _C54 * k4[i]) / h
        _solve(E, piv, k5, sparse)
        # stage 6: the embedded solution, then the error estimate k6
        for i in range(n):
            ynew[i] = ynew[i] + k5[i]
        rhs(ynew, p, q, dy)
        for i in range(n):
            k6[i] = dy[i] + (_C61 * k1[i] + _C62 * k2[i] + _C63 * k3[i] + _C64 * k4[i] + _C65 * k5[i]) / h
        _solve(E, piv, k6, sparse)
        err = 0.0
        for i in range(n):
            ynew[i] += k6[i]
            sk = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            r = k6[i] / sk
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
        shrink = max(0.2, min(6.0, err ** 0.25 / 0.9)) if err > 0.0 else 0.2
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


@njit(cache=True)
def _initial_step(y, p, q, rtol, atol, h_fallback, f0, y1, f1):
    """Starting step size (Hairer, Norsett & Wanner, Solving ODEs I, II.4), for order 4.

    Used at the start and after every event: a dose into a depot or a drug added to the medium starts
    a transient whose time scale this estimates from ||f|| and a finite-difference ||f'||, instead of
    restarting from a tiny fixed step and climbing back up by a factor of 6 per step.
    """
    n = y.shape[0]
    rhs(y, p, q, f0)
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
    rhs(y1, p, q, f1)
    d2 = 0.0
    for i in range(n):
        sk = atol + rtol * abs(y[i])
        d2 += ((f1[i] - f0[i]) / sk) ** 2
    d2 = math.sqrt(d2 / n) / h0
    m = max(d1, d2)
    h1 = (0.01 / m) ** 0.2 if m > 1e-15 else max(1e-6, h0 * 1e-3)
    h = min(100.0 * h0, h1)
    if not (h > 0.0 and math.isfinite(h)):
        h = h_fallback
    return h


@njit(cache=True)
def _apply_event(y, p, kind, index, value):
    if kind == 0:      # set species
        y[index] = value
    elif kind == 1:    # add to species (a dose)
        y[index] += value
    elif kind == 2:    # set parameter (a drug added to, or washed out of, the medium)
        p[index] = value
    else:              # multiply species (e.g. a passage / dilution)
        y[index] *= value


@njit(parallel=True, cache=True)
def solve_batch(Y0, P, t0, t_out, ev_t, ev_kind, ev_index, ev_val, rtol, atol, h0, max_steps,
                states_out, obs_out, status, fail_t, steps_out):
    """Integrate every member b of the batch from t0, recording states and observables at t_out.

    Events (sorted by time) act at their exact times; an output at an event time shows the state
    after the event. Each member keeps its own adaptive step.
    """
    B = Y0.shape[0]
    T = t_out.shape[0]
    n_events = ev_t.shape[0]
    for b in prange(B):
        y = Y0[b].copy()
        p = P[b].copy()
        n = y.shape[0]
        J = np.zeros((n, n))
        E = np.zeros((n, n))
        piv = np.empty(n, dtype=np.int64)
        K = np.empty((6, n))
        ynew = np.empty(n)
        dy = np.empty(n)
        q = np.empty(N_DERIVED)
        derived(p, q)
        t = t0
        h = _initial_step(y, p, q, rtol, atol, h0, dy, ynew, K[0])
        steps = 0
        ie = 0
        st = STATUS_OK
        for k in range(T):
            target = t_out[k]
            while True:
                # next stop: the next event before (or at) the target, else the target
                stop = target
                if ie < n_events and ev_t[ie] <= target:
                    stop = ev_t[ie]
                if stop > t:
                    st, t, h, steps = _integrate(y, p, q, t, stop, h, rtol, atol, max_steps, steps, J, E, piv, K, ynew, dy)
                    if st != STATUS_OK:
                        break
                if ie < n_events and ev_t[ie] <= target and ev_t[ie] <= t:
                    while ie < n_events and ev_t[ie] <= t:
                        _apply_event(y, p, ev_kind[ie], ev_index[ie], ev_val[b, ie])
                        ie += 1
                    derived(p, q)  # an event may have changed parameters
                    h = _initial_step(y, p, q, rtol, atol, h0, dy, ynew, K[0])  # a discontinuity: re-estimate
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
            observe(y, p, q, obs_out[b, k])
        steps_out[b] = steps
