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
