"""Dose-response fits against R drc's published output, plus the statistics' own consistency.

Expected numbers are drc's printed output for its example datasets, from drc's reference pages as
rendered by pkgdown in the repository hreinwald/drc (maintained fork of DoseResponse/drc):
docs/reference/ryegrass.md, S.alba.md, spinach.md, EDcomp.md (commit 0eb301c400479df7e247803aa1f8205375fb8bbc),
ED.drc.md (commit 088301c373a6a0af59044c7cac7947368ccbf4c6), confint.drc.md
(commit 1960a535a91aded621e5667e674b053c908ed06c). Our numbers are computed here, at test time.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from eralpha.analysis._base import NotFittedError
from eralpha.analysis._doseresponse import MODELS, CurveFit, DoseResponseFitter, fit_curve, relative_potency
from eralpha.errors import InputError, UnknownNameError

DATA = Path(__file__).parent / "data" / "drc"


def sig(a: float, b: float, figures: int = 4) -> bool:
    """Agree to ``figures`` significant figures (relative difference below half a unit in the last)."""
    return abs(a - b) <= 0.5 * 10 ** (np.floor(np.log10(abs(b))) - figures + 1)


@pytest.fixture(scope="module")
def ryegrass() -> CurveFit:
    d = pd.read_csv(DATA / "ryegrass.csv")
    return fit_curve(d["conc"], d["rootl"], model="LL.4")


# ------------------------------------------------------------------------------------ ryegrass (LL.4)
def test_ryegrass_matches_drc_summary_to_4_significant_figures(ryegrass):
    # drc: summary(drm(rootl ~ conc, data = ryegrass, fct = LL.4()))   (ryegrass.md, model m3)
    drc_est = {"b": 2.98222, "c": 0.48141, "d": 7.79296, "e": 3.05795}
    drc_se = {"b": 0.46506, "c": 0.21219, "d": 0.18857, "e": 0.18573}
    assert ryegrass.status == "converged" and ryegrass.reason == ""
    for k in drc_est:
        assert sig(ryegrass.params[k], drc_est[k]), (k, ryegrass.params[k])
        assert sig(ryegrass.std_errors[k], drc_se[k]), (k, ryegrass.std_errors[k])
    assert sig(ryegrass.residual_se, 0.5196256, 6)
    assert ryegrass.df == 20
    assert ryegrass.ic50 == pytest.approx(ryegrass.params["e"])


def test_ryegrass_wald_intervals_match_drc_confint(ryegrass):
    # drc: confint(ryegrass.m1)  (confint.drc.md)
    drc = {"b": (2.01211606, 3.9523221), "c": (0.03878752, 0.9240389), "d": (7.39961398, 8.1863026),
           "e": (2.67052621, 3.4453837)}
    ours = ryegrass.wald_ci(0.95)
    for k, (lo, hi) in drc.items():
        assert sig(ours[k][0], lo, 4) and sig(ours[k][1], hi, 4), (k, ours[k])


def test_ryegrass_effective_doses_match_drc_ED(ryegrass):
    # drc: ED(ryegrass.m1, c(10, 50, 90), interval = "delta")  (ED.drc.md)
    drc = {10: (1.46371, 0.18677, 1.07411, 1.85330), 50: (3.05795, 0.18573, 2.67053, 3.44538),
           90: (6.38864, 0.84510, 4.62580, 8.15148)}
    for p, expected in drc.items():
        got = ryegrass.ed_interval(p)
        for g, e in zip((got.estimate, got.std_error, got.lower, got.upper), expected):
            assert sig(g, e, 4), (p, g, e)


def test_observed_information_differs_from_gauss_newton(ryegrass):
    """drc uses the Hessian of RSS, not J'J; the two give visibly different SEs on ryegrass."""
    d = pd.read_csv(DATA / "ryegrass.csv")
    gn = fit_curve(d["conc"], d["rootl"], se_method="gauss-newton")
    assert gn.params["b"] == pytest.approx(ryegrass.params["b"], rel=1e-6)
    assert abs(gn.std_errors["b"] / ryegrass.std_errors["b"] - 1) > 0.01  # ~1.4 % apart
    assert not sig(gn.std_errors["b"], 0.46506)


def test_hessian_agrees_with_finite_differences_of_rss(ryegrass):
    """Independent check of vcov = s^2 (H/2)^-1 using second differences of the RSS itself."""
    x, y = ryegrass.dose, ryegrass.response
    theta = np.array([ryegrass.params[k] for k in "bcde"])

    def rss(t):
        return float(np.sum((MODELS["LL.4"].predict(x, dict(zip("bcde", t))) - y) ** 2))

    h = 1e-4 * np.maximum(np.abs(theta), 1e-2)
    H = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            H[i, j] = (rss(theta + ei + ej) - rss(theta + ei - ej) - rss(theta - ei + ej) + rss(theta - ei - ej)) / (4 * h[i] * h[j])
    cov = ryegrass.residual_se**2 * np.linalg.inv(H / 2)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), [ryegrass.std_errors[k] for k in "bcde"], rtol=1e-4)


def test_profile_interval_is_where_profile_rss_reaches_the_t_cutoff(ryegrass):
    """Re-derive the profile bounds for e with an independent optimiser (Nelder-Mead)."""
    from scipy import stats

    x, y = ryegrass.dose, ryegrass.response
    rss_min = ryegrass.rss
    cutoff = rss_min + ryegrass.residual_se**2 * stats.t.ppf(0.975, ryegrass.df) ** 2
    p0 = ryegrass.params

    def profile_rss(e: float) -> float:
        def rss(v):
            return np.sum((MODELS["LL.4"].predict(x, {"b": v[0], "c": v[1], "d": v[2], "e": e}) - y) ** 2)

        res = optimize.minimize(rss, [p0["b"], p0["c"], p0["d"]], method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        return float(res.fun)

    lo, hi = ryegrass.profile_ci()["e"]
    assert lo < p0["e"] < hi
    assert profile_rss(lo) == pytest.approx(cutoff, rel=1e-5)
    assert profile_rss(hi) == pytest.approx(cutoff, rel=1e-5)
    wald = ryegrass.wald_ci()["e"]
    assert hi - p0["e"] > p0["e"] - lo  # profile interval is asymmetric, Wald is not
    assert wald[1] - p0["e"] == pytest.approx(p0["e"] - wald[0])


def test_prism_names_are_a_reparameterisation(ryegrass):
    p, pr, se = ryegrass.params, ryegrass.prism, ryegrass.prism_std_errors
    assert pr["HillSlope"] == -p["b"] and pr["Bottom"] == p["c"] and pr["Top"] == p["d"]
    assert pr["LogIC50"] == pytest.approx(np.log10(p["e"]))
    assert se["LogIC50"] == pytest.approx(ryegrass.std_errors["e"] / (p["e"] * np.log(10)), rel=1e-6)
    assert se["HillSlope"] == pytest.approx(ryegrass.std_errors["b"], rel=1e-6)


def test_predict_and_dose_zero_limit(ryegrass):
    p = ryegrass.params
    assert ryegrass.predict([0.0])[0] == pytest.approx(p["d"])  # b > 0: control level is d
    assert ryegrass.predict([p["e"]])[0] == pytest.approx((p["c"] + p["d"]) / 2)
    assert ryegrass.predict([1e12])[0] == pytest.approx(p["c"], abs=1e-6)
    assert ryegrass.ed(50) == pytest.approx(p["e"])
    level = 0.25 * p["c"] + 0.75 * p["d"]
    assert ryegrass.predict([ryegrass.ed(level, type="absolute")])[0] == pytest.approx(level)
    assert np.isnan(ryegrass.ed(p["d"] + 1, type="absolute"))  # never reached


# ------------------------------------------------------------------------------------ S.alba (shared limits)
def test_s_alba_shared_limits_match_drc_within_1_percent():
    # drc: drm(DryMatter ~ Dose, Herbicide, data = S.alba, fct = LL.4(),
    #          pmodels = data.frame(Herbicide, 1, 1, Herbicide))   (S.alba.md, model S.alba.LL.4.1)
    drc = {
        "b:Bentazone": (5.046141, 1.040135), "b:Glyphosate": (2.390218, 0.495959),
        "c": (0.716559, 0.089245), "d": (3.854861, 0.076255),
        "e:Bentazone": (28.632355, 2.038098), "e:Glyphosate": (66.890545, 5.968819),
    }
    fitter = DoseResponseFitter("LL.4", share=("c", "d")).fit(DATA / "S.alba.csv", dose="Dose", response="DryMatter", group="Herbicide")
    assert set(fitter.estimates_.index) == set(drc)
    for label, (est, se) in drc.items():
        assert fitter.estimates_[label] == pytest.approx(est, rel=0.01), label
        assert fitter.std_errors_[label] == pytest.approx(se, rel=0.01), label
    ct = fitter.curve_table
    assert (ct["status"] == "converged").all()
    assert ct["residual_se"].iloc[0] == pytest.approx(0.3705151, rel=1e-3)
    assert (ct["df"] == 62).all()
    # the shared limits really are shared
    cb, cg = fitter.curves_["Bentazone"], fitter.curves_["Glyphosate"]
    assert cb.params["c"] == cg.params["c"] and cb.params["d"] == cg.params["d"]


# ------------------------------------------------------------------------------------ spinach
def test_spinach_per_herbicide_matches_drc_within_1_percent():
    # drc: summary(drm(SLOPE ~ DOSE, HERBICIDE, data = spinach, fct = LL.4()))  (spinach.md)
    drc = {
        "b:bentazon": (0.508817, 0.161880), "b:diuron": (1.750572, 0.334200),
        "c:bentazon": (0.033202, 0.159736), "c:diuron": (0.036149, 0.080884),
        "d:bentazon": (1.298217, 0.067350), "d:diuron": (1.979936, 0.055804),
        "e:bentazon": (1.599804, 1.000457), "e:diuron": (0.203161, 0.022802),
    }
    fitter = DoseResponseFitter("LL.4").fit(DATA / "spinach.csv", dose="DOSE", response="SLOPE", group="HERBICIDE")
    for label, (est, se) in drc.items():
        assert fitter.estimates_[label] == pytest.approx(est, rel=0.01), label
        assert fitter.std_errors_[label] == pytest.approx(se, rel=0.01), label
    assert fitter.curves_["diuron"].residual_se == pytest.approx(0.2022188, rel=1e-4)
    assert fitter.curves_["diuron"].df == 97


def test_spinach_relative_potency_matches_drc_EDcomp():
    # drc: EDcomp(drm(SLOPE ~ DOSE, CURVE, data = spinach, fct = LL.4()), c(50, 50))  (EDcomp.md)
    drc = {("1", "2"): (1.8983586, 0.7118489, 0.2103980), ("1", "4"): (9.0963785, 2.4686586, 0.0015076),
           ("4", "5"): (0.9361120, 0.0781402, 0.4158677), ("2", "3"): (0.6886484, 0.2908078, 0.2873603)}
    fitter = DoseResponseFitter("LL.4").fit(DATA / "spinach.csv", dose="DOSE", response="SLOPE", group="CURVE")
    for (a, b), (est, se, pval) in drc.items():
        rp = fitter.relative_potency(a, b)
        assert rp.estimate == pytest.approx(est, rel=0.01)
        assert rp.std_error == pytest.approx(se, rel=0.01)
        assert rp.p_value == pytest.approx(pval, rel=0.02)
        assert rp.log_lower > 0 and rp.lower < rp.estimate < rp.upper
    # EDcomp(spinach.LL.4, c(10, 50)): ED10 of curve 1 over ED50 of curve 2
    rp = fitter.relative_potency("1", "2", p=(10, 50))
    assert rp.estimate == pytest.approx(2.7644e-02, rel=0.01)
    assert rp.std_error == pytest.approx(1.5249e-02, rel=0.01)


def test_relative_potency_with_shared_parameters_uses_the_joint_covariance():
    fitter = DoseResponseFitter("LL.4", share=("c", "d")).fit(DATA / "S.alba.csv", dose="Dose", response="DryMatter", group="Herbicide")
    a, b = fitter.curves_["Glyphosate"], fitter.curves_["Bentazone"]
    rp = fitter.relative_potency("Glyphosate", "Bentazone")
    assert rp.estimate == pytest.approx(a.ic50 / b.ic50)
    ja, jb = a.labels["e"], b.labels["e"]
    labels = list(a.joint.layout.labels)
    ia, ib = labels.index(ja), labels.index(jb)
    cov = a.joint.cov
    r = rp.estimate
    by_hand = r * np.sqrt(cov[ia, ia] / a.ic50**2 + cov[ib, ib] / b.ic50**2 - 2 * cov[ia, ib] / (a.ic50 * b.ic50))
    assert rp.std_error == pytest.approx(by_hand, rel=1e-4)
    standalone = relative_potency(a, b)
    assert standalone.estimate == rp.estimate


# ------------------------------------------------------------------------------------ models
def _synthetic(model: str, truth: dict, doses=(0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100), reps=3, noise=0.0, seed=0):
    x = np.repeat(np.asarray(doses, float), reps)
    y = MODELS[model].predict(x, truth)
    y = y + np.random.default_rng(seed).normal(0, noise, x.size)
    return x, y


@pytest.mark.parametrize(
    "model, truth",
    [
        ("LL.4", {"b": 1.2, "c": 5.0, "d": 100.0, "e": 0.8}),
        ("LL.4", {"b": -1.5, "c": 2.0, "d": 60.0, "e": 3.0}),  # rising curve
        ("LL.3", {"b": 0.9, "c": 0.0, "d": 80.0, "e": 2.0}),
        ("LL.5", {"b": 1.4, "c": 10.0, "d": 90.0, "e": 1.5, "f": 0.5}),
        ("Hill", {"E0": 3.0, "Emax": 50.0, "EC50": 0.5, "n": 1.3}),
    ],
)
def test_every_model_recovers_its_parameters_from_noisy_data(model, truth):
    x, y = _synthetic(model, truth, noise=0.5)
    cf = fit_curve(x, y, model=model)
    assert cf.status == "converged", cf.reason
    for k, v in truth.items():
        if k in cf.std_errors:
            assert abs(cf.params[k] - v) < 4 * cf.std_errors[k] + 1e-9, (k, cf.params[k], v)
    assert set(cf.prism) >= {"Bottom", "Top", "LogIC50", "HillSlope"}
    assert cf.residual_se == pytest.approx(0.5, rel=0.35)


def test_ll5_ed50_is_not_e():
    truth = {"b": 1.4, "c": 10.0, "d": 90.0, "e": 1.5, "f": 0.5}
    x, y = _synthetic("LL.5", truth)
    cf = fit_curve(x, y, model="LL.5")
    assert cf.predict([cf.ic50])[0] == pytest.approx(50.0, rel=1e-6)
    assert cf.ic50 != pytest.approx(cf.params["e"], rel=0.01)
    assert cf.prism["LogXb"] == pytest.approx(np.log10(cf.params["e"]))


def test_hill_and_ll4_describe_the_same_curve():
    truth = {"E0": 100.0, "Emax": -90.0, "EC50": 2.0, "n": 1.1}
    x, y = _synthetic("Hill", truth, noise=1.0, seed=3)
    hill, ll4 = fit_curve(x, y, model="Hill"), fit_curve(x, y, model="LL.4")
    assert hill.rss == pytest.approx(ll4.rss, rel=1e-6)
    assert hill.ic50 == pytest.approx(ll4.ic50, rel=1e-5)
    assert hill.ed_interval(50).std_error == pytest.approx(ll4.ed_interval(50).std_error, rel=1e-3)
    assert MODELS["Emax"] is MODELS["Hill"]


def test_fixed_parameters_and_ll3():
    x, y = _synthetic("LL.4", {"b": 1.0, "c": 0.0, "d": 100.0, "e": 1.0}, noise=2.0)
    ll3 = fit_curve(x, y, model="LL.3")
    fixed = fit_curve(x, y, model="LL.4", fixed={"c": 0.0})
    assert "c" not in ll3.std_errors and ll3.params["c"] == 0.0
    assert ll3.params["e"] == pytest.approx(fixed.params["e"], rel=1e-6)
    assert ll3.df == fixed.df == x.size - 3
    top = fit_curve(x, y, fixed={"d": 100.0})
    assert top.params["d"] == 100.0 and "d" not in top.std_errors


def test_weights_follow_nls_convention():
    x, y = _synthetic("LL.4", {"b": 1.0, "c": 0.0, "d": 100.0, "e": 1.0}, noise=2.0, seed=5)
    w = np.where(x > 1, 4.0, 1.0)
    cf = fit_curve(x, y, weights=w)
    r = y - cf.predict(x)
    assert cf.rss == pytest.approx(np.sum(w * r * r))
    # duplicating every point is the same as weight 2: same estimates
    doubled = fit_curve(np.concatenate([x, x]), np.concatenate([y, y]))
    twice = fit_curve(x, y, weights=np.full(x.size, 2.0))
    assert twice.params["e"] == pytest.approx(doubled.params["e"], rel=1e-6)


def test_bounds_are_respected():
    x, y = _synthetic("LL.4", {"b": 1.0, "c": -5.0, "d": 100.0, "e": 1.0}, noise=1.0)
    cf = fit_curve(x, y, lower={"c": 0.0})
    assert cf.params["c"] >= 0.0


# ------------------------------------------------------------------------------------ bad curves
def test_insufficient_data_flat_and_failed_curves_get_a_status_not_an_exception():
    rng = np.random.default_rng(1)
    few = fit_curve([0, 1, 1, 10, 10], [100, 50, 52, 5, 6])
    assert few.status == "insufficient_data" and "distinct dose" in few.reason
    assert np.isnan(few.ic50) and np.isnan(few.predict([1.0])).all()
    flat = fit_curve(np.repeat([0, 0.1, 1, 10, 100], 3), np.full(15, 7.0))
    assert flat.status in ("ambiguous", "not_converged") and flat.reason
    noisy_flat = fit_curve(np.repeat([0.1, 1, 10, 100, 1000], 3), 50 + rng.normal(0, 1, 15))
    assert noisy_flat.status in ("ambiguous", "not_converged", "converged")
    assert noisy_flat.status != "insufficient_data"


def test_batch_fit_survives_one_bad_curve():
    good_x, good_y = _synthetic("LL.4", {"b": 1.0, "c": 0.0, "d": 100.0, "e": 1.0}, noise=2.0)
    df = pd.concat([
        pd.DataFrame({"conc": good_x, "resp": good_y, "drug": "good"}),
        pd.DataFrame({"conc": [0, 0, 10, 10], "resp": [100, 98, 5, 6], "drug": "two-doses"}),
        pd.DataFrame({"conc": np.repeat([0, 0.1, 1, 10, 100], 2), "resp": np.full(10, 3.0), "drug": "flat"}),
    ])
    for share in ((), ("c", "d")):
        fitter = DoseResponseFitter(share=share).fit(df, dose="conc", response="resp", group="drug")
        ct = fitter.curve_table
        assert ct.loc["good", "status"] == "converged"
        assert fitter.ic50_["good"] == pytest.approx(1.0, rel=0.2)
        # alone, 2 doses cannot carry 4 parameters; with shared limits b and e are still not determined
        assert ct.loc["two-doses", "status"] == ("insufficient_data" if not share else "ambiguous")
        assert ct.loc["two-doses", "reason"]
        assert ct.loc["flat", "status"] in ("ambiguous", "not_converged")
        assert ct.loc["flat", "reason"]


# ------------------------------------------------------------------------------------ input errors
def test_bad_input_gives_clear_errors(tmp_path):
    with pytest.raises(UnknownNameError, match="did you mean 'LL.4'"):
        fit_curve([1, 2, 3], [1, 2, 3], model="LL4")
    with pytest.raises(InputError, match="negative"):
        fit_curve([-1, 1, 2, 3, 4], [1, 2, 3, 4, 5])
    with pytest.raises(InputError, match="values but response"):
        fit_curve([1, 2, 3], [1, 2])
    with pytest.raises(UnknownNameError, match="parameter 'g'"):
        fit_curve([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], fixed={"g": 1.0})
    with pytest.raises(InputError, match="cannot also be shared"):
        DoseResponseFitter("LL.3", share=("c",))
    path = tmp_path / "plate.csv"
    path.write_text("conc,resp\n0,100\n1,abc\n10,5\n")
    with pytest.raises(InputError, match=r"row 3, column 'resp': 'abc' is not a number"):
        DoseResponseFitter().fit(path, dose="conc", response="resp")
    with pytest.raises(UnknownNameError, match="did you mean 'resp'"):
        DoseResponseFitter().fit(path, dose="conc", response="rsp")
    with pytest.raises(NotFittedError):
        DoseResponseFitter().summary


def test_missing_rows_are_dropped_and_counted(tmp_path):
    x, y = _synthetic("LL.4", {"b": 1.0, "c": 0.0, "d": 100.0, "e": 1.0}, noise=1.0)
    df = pd.DataFrame({"conc": x, "resp": y})
    df.loc[[2, 7], "resp"] = np.nan
    fitter = DoseResponseFitter().fit(df, dose="conc", response="resp")
    assert fitter.drop_report_.n_dropped == 2 and fitter.drop_report_.rows == [4, 9]
    assert fitter.curves_["all"].dose.size == x.size - 2


# ------------------------------------------------------------------------------------ fitter shape
def test_fitter_shape_summary_and_plot():
    fitter = DoseResponseFitter().fit(DATA / "ryegrass.csv", dose="conc", response="rootl")
    assert list(fitter.estimates_.index) == ["b", "c", "d", "e"]
    assert {"wald_lower", "wald_upper", "profile_lower", "profile_upper"} <= set(fitter.ci_.columns)
    assert fitter.ic50_["all"] == pytest.approx(3.05795, rel=1e-4)
    assert {"estimate", "std_error", "t_value", "p_value"} <= set(fitter.summary.columns)
    fitter.print_summary()
    ax = fitter.plot()
    assert ax.get_xscale() == "log"
    assert len(ax.lines) >= 1 and len(ax.collections) >= 1
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
