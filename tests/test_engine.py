"""The engine: exact against analytic solutions, exact events, batch = singles, failures named."""

import numpy as np
import pytest

from eralpha.engine import Event, SolverOptions, simulate
from eralpha.errors import SolverError, UnknownNameError
from eralpha.model import Expression, Model, Parameter, Species, assumed, bind_fixed_ligand, degrade, synthesise


def _p(name, value, unit="1/h"):
    return Parameter(name, value, unit, assumed("test"))


@pytest.fixture(scope="module")
def receptor():
    m = Model(
        "receptor",
        species=(Species("R", 100.0), Species("RL", 0.0)),
        parameters=(_p("ksyn", 20.0, "nM/h"), _p("kdeg", 0.2), _p("kdegL", 1.0), _p("kon", 10.0, "1/nM/h"), _p("Kd", 0.5, "nM"), _p("L", 0.0, "nM")),
        expressions=(Expression("Rtot", "R + RL", "nM"),),
        observables=("Rtot",),
    )
    return m + synthesise("R", "ksyn") + degrade("R", "kdeg") + degrade("RL", "kdegL") + bind_fixed_ligand("R", "L", "RL", kon="kon", kd="Kd")


def _steady_total(L, ksyn=20.0, kdeg=0.2, kdegL=1.0, kon=10.0, Kd=0.5):
    a = kon * L / (kdegL + kon * Kd)  # RL / R at steady state
    R = ksyn / (kdeg + kon * L - kon * Kd * a)
    return R * (1 + a)


def test_steady_state_matches_algebra(receptor):
    L = np.array([0.0, 0.5, 5.0, 500.0])
    res = simulate(receptor, [0.0, 200.0], parameters={"L": L}, options=SolverOptions(rtol=1e-10, atol=1e-12))
    np.testing.assert_allclose(res["Rtot"][:, -1], [_steady_total(x) for x in L], rtol=1e-7)


def test_first_order_decay_is_exact():
    m = Model("decay", species=(Species("x", 1.0),), parameters=(_p("k", 0.3),), observables=("x",)) + degrade("x", "k")
    t = np.linspace(0, 10, 11)
    res = simulate(m, t, options=SolverOptions(rtol=1e-10, atol=1e-14))
    np.testing.assert_allclose(res["x"][0], np.exp(-0.3 * t), rtol=1e-8)


def test_events_act_at_exact_times_whatever_the_output_grid():
    m = Model("bolus", species=(Species("x", 0.0),), parameters=(_p("k", 0.5),), observables=("x",)) + degrade("x", "k")
    events = [Event(1.0, "x", 10.0, "add"), Event(2.5, "x", 10.0, "add")]
    t = np.array([0.0, 0.3, 3.7, 5.0])  # no output at either dose time
    res = simulate(m, t, events=events, options=SolverOptions(rtol=1e-10, atol=1e-12))
    expected = [0, 0, 10 * np.exp(-0.5 * 2.7) + 10 * np.exp(-0.5 * 1.2), 10 * np.exp(-0.5 * 4) + 10 * np.exp(-0.5 * 2.5)]
    np.testing.assert_allclose(res["x"][0], expected, rtol=1e-7, atol=1e-12)


def test_events_that_change_nothing_do_not_stop_a_member():
    """A dose of 0 (an animal of another arm) or a parameter set to its own value costs no restart:
    that member integrates as if the event were not there, the dosed member exactly as before."""
    m = Model("bolus", species=(Species("x", 1.0),), parameters=(_p("k", 0.5),), observables=("x",)) + degrade("x", "k")
    t = np.array([0.0, 10.0])
    doses = [Event(float(d), "x", np.array([1.0, 0.0]), "add") for d in range(1, 10)]
    same_k = [Event(float(d) + 0.5, "k", 0.5) for d in range(1, 10)]
    res = simulate(m, t, events=doses + same_k)
    plain = simulate(m, t)
    dosed = simulate(m, t, events=[Event(e.time, "x", 1.0, "add") for e in doses])
    np.testing.assert_array_equal(res.states[1], plain.states[0])
    assert res.steps[1] == plain.steps[0] < res.steps[0]
    np.testing.assert_array_equal(res.states[0], dosed.states[0])


def test_batch_equals_single_runs(receptor):
    L = np.logspace(-2, 2, 7)
    t = [0.0, 1.0, 6.0, 24.0]
    batch = simulate(receptor, t, parameters={"L": L})["Rtot"]
    for i, x in enumerate(L):
        np.testing.assert_allclose(simulate(receptor, t, parameters={"L": x})["Rtot"][0], batch[i], rtol=1e-12)


def test_threads_do_not_change_the_numbers(receptor):
    """Chunks of the batch run on several threads; each member's result is the same on one."""
    import numba

    L = np.logspace(-3, 3, 41)  # more members than chunks, and unequal work per member
    k = np.linspace(0.1, 2.0, 41)
    t = [0.0, 0.5, 6.0, 48.0]
    events = [Event(12.0, "L", 0.0)]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(receptor, t, parameters={"L": L, "kdegL": k}, events=events)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = simulate(receptor, t, parameters={"L": L, "kdegL": k}, events=events)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.states, many.states)
    np.testing.assert_array_equal(one.steps, many.steps)


def test_parameter_event_is_a_wash_in_and_wash_out(receptor):
    res = simulate(receptor, [0.0, 10.0, 200.0], events=[Event(5.0, "L", 100.0), Event(20.0, "L", 0.0)])
    assert res["Rtot"][0, 1] < 50  # drug present: bound receptor degraded fast
    assert res["Rtot"][0, 2] == pytest.approx(100.0, rel=1e-4)  # washed out: recovered


def test_solver_failure_names_member_and_time():
    m = Model("blowup", species=(Species("x", 1.0),), parameters=(_p("k", 1.0),), observables=("x",)) + synthesise("x", "k * x^2")
    with pytest.raises(SolverError) as err:
        simulate(m, [0.0, 5.0], parameters={"k": [0.0, 1.0]})
    assert err.value.members == [1]
    assert 0.9 < err.value.times[0] < 1.1  # finite-time blow-up at t = 1/(k x0)
    marked = simulate(m, [0.0, 5.0], parameters={"k": [0.0, 1.0]}, on_failure="mark")
    assert marked.status[0] == 0 and marked.status[1] != 0 and np.isnan(marked["x"][1, -1])
    # a failing member among many, whichever thread runs it, is named the same way
    with pytest.raises(SolverError) as err:
        simulate(m, [0.0, 5.0], parameters={"k": np.r_[np.zeros(30), 1.0, np.zeros(9)]})
    assert err.value.members == [30]


def test_unknown_names_get_suggestions(receptor):
    with pytest.raises(UnknownNameError, match="did you mean 'kdeg'"):
        simulate(receptor, [0.0, 1.0], parameters={"kdegg": 1.0})


def _decay_in_child(_):
    m = Model("decay", species=(Species("x", 1.0),), parameters=(_p("k", 0.3),), observables=("x",)) + degrade("x", "k")
    return float(simulate(m, [0.0, 1.0], parameters={"k": np.linspace(0.1, 1.0, 20)})["x"][-1, -1])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_can_still_simulate():
    """multiprocessing with fork after a batch ran: the child must not wait on the parent's threads."""
    import multiprocessing

    expected = _decay_in_child(0)  # the parent's thread pool now exists
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map_async(_decay_in_child, range(2)).get(timeout=120)
    assert got == [expected, expected]


# --- compiled once: the kernel is shared; each structure is native code generated from its math --------
def _every_function_model():
    """Rate laws using each function a formula may use, a Hill exponent whole and fractional."""
    from eralpha.model import Reaction

    rates = {
        "r_exp": "k1 * exp(-a / (1 + b)) * a",
        "r_log": "k2 * log(1 + a * b)",
        "r_sqrt": "k3 * sqrt(a) * pow(b, 0.5)",
        "r_absminmax": "k4 * abs(a - b) + min(a, K) - max(b - K, 0) * 0.1",
        "r_hill": "Vmax * a^n / (K^n + a^n) + Vmax * b^m / (K^m + b^m)",
        "r_quot": "k1 * a * b^2 / (K + a)^3 - k2 * (1 / (a + 1)) ^ (-2) * 1e-3",
    }
    m = Model(
        "functions",
        species=(Species("a", 2.0), Species("b", 0.5)),
        parameters=tuple(_p(n, v) for n, v in (("k1", 0.4), ("k2", 0.3), ("k3", 0.2), ("k4", 0.1), ("K", 1.3),
                                                ("Vmax", 0.7), ("n", 2.0), ("m", 1.7))),
        expressions=(Expression("total", "a + b"),),
        observables=("total", "a"),
    )
    for i, (name, rate) in enumerate(rates.items()):
        prod = (("b", 1),) if i % 2 == 0 else (("a", 1),)
        reac = (("a", 1),) if i % 2 == 0 else (("b", 1),)
        m = m + Model(reactions=(Reaction(name, reac, prod, rate),))
    return m


def test_native_rhs_and_jacobian_equal_the_math():
    """The LLVM IR emitted for rhs and jac computes what sympy says, for every supported function."""
    import ctypes

    import sympy as sp

    from eralpha.engine import compile_model
    from eralpha.engine._codegen import SymbolicModel

    m = _every_function_model()
    cm = compile_model(m)
    sym = SymbolicModel(m)
    ys = [sym.symbols[s.name] for s in m.species]
    ps = [sym.symbols[p.name] for p in m.parameters]
    f_rhs = sp.lambdify(ys + ps, sym.rhs, "math")
    f_jac = {ij: sp.lambdify(ys + ps, e, "math") for ij, e in sym.jacobian.items()}
    dbl = ctypes.POINTER(ctypes.c_double)
    proto = ctypes.CFUNCTYPE(None, dbl, dbl, dbl, dbl)
    derived = ctypes.CFUNCTYPE(None, dbl, dbl)(int(cm.native.addresses[0]))
    rhs = proto(int(cm.native.addresses[1]))
    jac = proto(int(cm.native.addresses[2]))
    rng = np.random.default_rng(3)
    ptr = lambda a: a.ctypes.data_as(dbl)  # noqa: E731
    for _ in range(20):
        y = rng.uniform(0.05, 3.0, 2)
        p = cm.default_parameters * rng.uniform(0.5, 1.5, len(m.parameters))
        p[m.parameter_index["n"]] = rng.choice([1.0, 2.0, 3.0, 2.5])  # whole (multiplied) and not (pow)
        q, dy, J = np.empty(cm.n_derived), np.empty(2), np.zeros((2, 2))
        derived(ptr(p), ptr(q))
        rhs(ptr(y), ptr(p), ptr(q), ptr(dy))
        jac(ptr(y), ptr(p), ptr(q), ptr(J))
        np.testing.assert_allclose(dy, f_rhs(*y, *p), rtol=1e-12, atol=1e-14)
        for (i, j), f in f_jac.items():
            np.testing.assert_allclose(J[i, j], f(*y, *p), rtol=1e-12, atol=1e-14)


def test_one_compiled_kernel_serves_every_structure(receptor):
    """A new model structure compiles only its own code: the numba kernel keeps one signature."""
    from eralpha.engine import compile_model
    from eralpha.engine._codegen import kernel

    other = _every_function_model()
    for model in (receptor, other):
        # (the made-up rate laws of `other` may leave the positive orthant: only the compiling matters)
        simulate(model, [0.0, 1.0, 2.0], events=[Event(1.5, "a" if model is other else "R", 1.0, "add")], on_failure="mark")
        simulate(model, np.arange(5.0)[::2], on_failure="mark")  # a strided, read-only or list input must not re-specialise
    assert len(kernel().solve_range.signatures) == 1
    assert compile_model(receptor).native is not compile_model(other).native
    # same structure, other values: the same native code
    assert compile_model(receptor.with_parameters({"ksyn": 5.0})).native is compile_model(receptor).native


def test_sparse_lu_in_minimum_degree_order_solves_the_step_system():
    """factor/solve (LU without pivoting, eliminated in minimum-degree order) solve (I·fac − J) x = b
    as a dense solve does, for a real cell model's Jacobian pattern, and the order cuts the fill-in."""
    import ctypes

    from eralpha.engine import compile_model
    from eralpha.engine._native import elimination_order, symbolic_fill
    from eralpha.model import assemble_cell_model

    cm = compile_model(assemble_cell_model(cell_line="MCF7", ligands=("fulvestrant",), inhibitors=("abemaciclib",)))
    n = len(cm.species_names)
    dbl = ctypes.POINTER(ctypes.c_double)
    ptr = lambda a: a.ctypes.data_as(dbl)  # noqa: E731
    derived = ctypes.CFUNCTYPE(None, dbl, dbl)(int(cm.native.addresses[0]))
    jac = ctypes.CFUNCTYPE(None, dbl, dbl, dbl, dbl)(int(cm.native.addresses[2]))
    factor = ctypes.CFUNCTYPE(ctypes.c_int32, dbl, dbl, ctypes.c_double)(int(cm.native.addresses[4]))
    solve = ctypes.CFUNCTYPE(None, dbl, dbl)(int(cm.native.addresses[5]))
    p, q = cm.default_parameters.copy(), np.empty(cm.n_derived)
    derived(ptr(p), ptr(q))
    y = cm.default_initial + 0.5
    J = np.zeros((n, n))
    jac(ptr(y), ptr(p), ptr(q), ptr(J))
    pattern = {(int(i), int(j)) for i, j in zip(*np.nonzero(J))}
    order = elimination_order(pattern, n)
    assert sorted(order) == list(range(n)) and order != list(range(n))
    where = {s: k for k, s in enumerate(order)}
    assert len(symbolic_fill({(where[i], where[j]) for i, j in pattern}, n)) <= len(symbolic_fill(pattern, n))
    rng = np.random.default_rng(5)
    for fac in (1e-2, 1.0, 1e4):
        E = np.zeros((n, n))
        fac_eff = fac + np.abs(J).sum(axis=1).max()  # diagonally dominant: the sparse path must accept it
        assert factor(ptr(J), ptr(E), ctypes.c_double(fac_eff)) == 1
        b = rng.normal(size=n)
        x = b.copy()
        solve(ptr(E), ptr(x))
        np.testing.assert_allclose(x, np.linalg.solve(fac_eff * np.eye(n) - J, b), rtol=1e-10, atol=1e-14)

