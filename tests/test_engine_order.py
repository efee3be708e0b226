"""The Rodas5 tableau in the solver kernel has the orders it claims (5, with an order-4 estimate).

A mistyped coefficient would still integrate, only less accurately — and the adaptive step would hide
it behind extra steps. So the orders are measured: the kernel's own coefficients drive a fixed-step
NumPy Rosenbrock stepper (the same stage equations as ``_integrate``) on a nonlinear system, the
global error must fall by 2^5 per halving of the step, and the error estimate (local error of the
embedded order-4 solution) by 2^5 per halving of one step.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from eralpha.engine import _kernel as tableau

# Brusselator (A = 1, B = 3): nonlinear, oscillating, a mildly stiff Jacobian
A_, B_ = 1.0, 3.0


def f(y):
    x, z = y
    return np.array([A_ + x * x * z - (B_ + 1.0) * x, B_ * x - x * x * z])


def jac(y):
    x, z = y
    return np.array([[2.0 * x * z - (B_ + 1.0), x * x], [B_ - 2.0 * x * z, -x * x]])


def stages(y, h):
    """The eight stage increments k_s of one Rodas5 step from y (the kernel's coefficients)."""
    A, C, gamma, n_stages = tableau._A, tableau._C, tableau._GAMMA, tableau._STAGES
    W = np.eye(2) / (h * gamma) - jac(y)
    K = np.zeros((n_stages, 2))
    for s in range(n_stages):
        K[s] = np.linalg.solve(W, f(y + A[s, :s] @ K[:s]) + (C[s, :s] @ K[:s]) / h)
    return K


def integrate(y0, t_end, n_steps):
    """Fixed-step Rodas5: the new state is the last stage's input plus its increment."""
    h = t_end / n_steps
    y = np.array(y0, dtype=float)
    for _ in range(n_steps):
        K = stages(y, h)
        y = y + tableau._A[-1, :-1] @ K[:-1] + K[-1]
    return y


def test_solution_is_fifth_order():
    y0, t_end = (1.5, 3.0), 1.0
    ref = solve_ivp(lambda t, y: f(y), (0.0, t_end), y0, method="DOP853", rtol=1e-13, atol=1e-14).y[:, -1]
    err = {n: np.max(np.abs(integrate(y0, t_end, n) - ref)) for n in (10, 20, 40)}
    orders = [np.log2(err[n] / err[2 * n]) for n in (10, 20)]
    assert all(4.6 < p < 5.6 for p in orders), orders


def test_error_estimate_is_the_local_error_of_an_order_4_solution():
    # k_8 is the difference to the embedded order-4 solution: O(h^5) per step, hence err ** (1/5)
    size = {h: np.max(np.abs(stages(np.array([1.5, 3.0]), h)[-1])) for h in (0.025, 0.0125)}
    p = np.log2(size[0.025] / size[0.0125])
    assert 4.6 < p < 5.6, p


def test_stiffly_accurate_rows():
    # stages 7 and 8 start from the stage-6 and stage-7 solutions: their A rows extend row 6 by ones
    A = tableau._A
    assert np.array_equal(A[6, :5], A[5, :5]) and A[6, 5] == 1.0
    assert np.array_equal(A[7, :6], A[6, :6]) and A[7, 6] == 1.0


def test_unrolled_stage_sums_have_the_bits_of_the_running_sums():
    """The kernel writes the stage sums out stage by stage (so that they vectorise); they must equal,
    bit for bit, the running sums over the tableau's rows that they replace, stage after stage (the
    last two stages build on the state left in the buffer by the one before)."""
    from eralpha.engine._codegen import kernel

    k = kernel()
    rng = np.random.default_rng(3)
    n = 37
    y = rng.normal(size=n) * 10.0 ** rng.integers(-6, 3, size=n)
    K = rng.normal(size=(tableau._STAGES, n))
    K[:, ::7] = 0.0
    K[2, 5] = -0.0
    ih = 1.0 / 0.37
    out = np.empty(n)
    for s in range(tableau._STAGES):
        want = y.copy()
        acc = np.zeros(n)
        for j in range(s):
            want = want + tableau._A[s, j] * K[j]
            acc = acc + tableau._C[s, j] * K[j]
        k._stage_sums(s, y, K, out)
        assert np.array_equal(out.view(np.int64), want.view(np.int64)), s
        dy = rng.normal(size=n)
        want_k = dy + acc * ih
        k._stage_k(s, dy, ih, K)
        assert np.array_equal(K[s].view(np.int64), want_k.view(np.int64)), s
