"""Property: noise-free LL.4 data from random (b, c, d, e) give back those parameters."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eralpha.analysis._doseresponse import MODELS, fit_curve

DOSES = np.repeat(np.geomspace(1e-3, 1e3, 13), 2)  # six decades, as a wide plate dilution series


@settings(max_examples=40, deadline=None)
@given(
    b=st.one_of(st.floats(0.5, 4.0), st.floats(-4.0, -0.5)),
    c=st.floats(-10.0, 10.0),
    span=st.floats(5.0, 200.0),
    log10_e=st.floats(-1.5, 1.5),  # ED50 well inside the tested doses
)
def test_noise_free_ll4_recovers_parameters(b, c, span, log10_e):
    truth = {"b": b, "c": c, "d": c + span, "e": 10.0**log10_e}
    y = MODELS["LL.4"].predict(DOSES, truth)
    cf = fit_curve(DOSES, y, model="LL.4")
    assert cf.status in ("converged", "ambiguous")  # RSS = 0 exactly can make the information degenerate
    for k, v in truth.items():
        assert np.isclose(cf.params[k], v, rtol=1e-4, atol=1e-6 * span), (k, cf.params[k], v)
    assert np.isclose(cf.ic50, truth["e"], rtol=1e-4)
    assert np.isclose(cf.prism["HillSlope"], -b, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(b=st.floats(0.6, 3.0), log10_e=st.floats(-1.0, 1.0), p=st.floats(5.0, 95.0))
def test_ed_inverts_predict(b, log10_e, p):
    truth = {"b": b, "c": 0.0, "d": 100.0, "e": 10.0**log10_e}
    rng = np.random.default_rng(0)
    y = MODELS["LL.4"].predict(DOSES, truth) + rng.normal(0, 1.0, DOSES.size)
    cf = fit_curve(DOSES, y)
    q = cf.params
    expected = q["d"] - p / 100.0 * (q["d"] - q["c"])  # p % of the range, counted from control
    assert np.isclose(cf.predict([cf.ed(p)])[0], expected, rtol=1e-7, atol=1e-7)
