"""Survival: Kaplan–Meier, Cox and log-rank against lifelines and against R's survival package."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from eralpha.analysis._survival import SurvivalAnalysis, km_median
from eralpha.errors import InputError, UnknownNameError

# R's `aml` data (survival package; Miller 1997): weeks to relapse, 1 = relapse, by maintenance.
AML = pd.DataFrame({
    "time": [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45],
    "status": [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1],
    "x": ["Maintained"] * 11 + ["Nonmaintained"] * 12,
})


@pytest.fixture(scope="module")
def aml_fit():
    return SurvivalAnalysis(time="time", event="status", arm="x", reference="Maintained", time_unit="weeks").fit(AML)


def test_aml_matches_r_survival_reference_output(aml_fit):
    # Reference: therneau/survival, tests/doaml.Rout.save (R survival's own regression output):
    #   survfit:  Maintained 11 n, 7 events, median 31 (0.95LCL 18, UCL NA)
    #             Nonmaintained 12 n, 11 events, median 23 (8, NA)
    #   coxph(method = "efron"): coef 0.916, exp(coef) 2.498, se 0.512, p 0.074
    #   survdiff: Chisq = 3.4 on 1 df
    m = aml_fit.medians_
    assert m.loc["Maintained", ["n", "events"]].tolist() == [11, 7]
    assert m.loc["Nonmaintained", ["n", "events"]].tolist() == [12, 11]
    assert m.loc["Maintained", "median"] == 31 and m.loc["Maintained", "median_lower"] == 18
    assert np.isnan(m.loc["Maintained", "median_upper"])
    assert m.loc["Nonmaintained", "median"] == 23 and m.loc["Nonmaintained", "median_lower"] == 8
    assert np.isnan(m.loc["Nonmaintained", "median_upper"])
    hr = aml_fit.hazard_ratios_.loc["arm=Nonmaintained"]
    assert hr["coef"] == pytest.approx(0.916, abs=5e-4)
    assert hr["hazard_ratio"] == pytest.approx(2.498, abs=5e-4)
    assert hr["se"] == pytest.approx(0.512, abs=5e-4)
    assert hr["p"] == pytest.approx(0.074, abs=5e-4)
    assert aml_fit.logrank_["chi2"] == pytest.approx(3.4, abs=0.05)
    assert aml_fit.logrank_["df"] == 1


def test_agrees_with_lifelines_directly(aml_fit):
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    for arm, g in AML.groupby("x"):
        km = KaplanMeierFitter().fit(g["time"], g["status"])
        assert aml_fit.medians_.loc[arm, "median"] == km.median_survival_time_
    design = AML.assign(non=(AML["x"] == "Nonmaintained").astype(float))[["time", "status", "non"]]
    cox = CoxPHFitter().fit(design, "time", "status")
    assert aml_fit.hazard_ratios_["hazard_ratio"].iloc[0] == pytest.approx(cox.hazard_ratios_["non"], rel=1e-10)
    m, n = AML[AML.x == "Maintained"], AML[AML.x == "Nonmaintained"]
    lr = logrank_test(m.time, n.time, m.status, n.status)
    assert aml_fit.logrank_["p"] == pytest.approx(lr.p_value, rel=1e-10)


def test_reference_arm_flips_the_hazard_ratio():
    other = SurvivalAnalysis(time="time", event="status", arm="x", reference="Nonmaintained").fit(AML)
    assert other.reference_ == "Nonmaintained"
    assert other.hazard_ratios_["hazard_ratio"].iloc[0] == pytest.approx(1 / 2.4981, rel=1e-3)


def test_km_median_midpoint_rule_when_curve_sits_at_half():
    # 4 patients, events at 1, 2, 3, 4: S = 0.75, 0.5, 0.25, 0 -> R prints median 2.5 (midpoint).
    assert km_median([1, 2, 3, 4], [1, 1, 1, 1])[0] == pytest.approx(2.5)
    # Not reached: nobody progresses.
    assert np.isnan(km_median([5, 6, 7], [0, 0, 0])[0])


def test_km_median_ci_methods_differ_and_log_log_matches_lifelines():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    t = AML.time[AML.x == "Nonmaintained"].to_numpy()
    e = AML.status[AML.x == "Nonmaintained"].to_numpy()
    km = KaplanMeierFitter().fit(t, e)
    ci = median_survival_times(km.confidence_interval_)
    _, lo, hi = km_median(t, e, ci_method="log-log")
    assert lo == pytest.approx(ci.iloc[0, 0]) and hi == pytest.approx(ci.iloc[0, 1])
    assert km_median(t, e, ci_method="log")[1:] != (lo, hi)


def test_summary_plot_and_covariates(aml_fit, tmp_path):
    s = aml_fit.summary
    assert s.loc["Maintained", "hazard_ratio"] == 1.0 and (s["time_unit"] == "weeks").all()
    ax = aml_fit.plot()
    assert "time (weeks)" == ax.get_xlabel()
    ax.figure.savefig(tmp_path / "km.png")
    rng = np.random.default_rng(0)
    fit = SurvivalAnalysis(time="time", event="status", arm="x", covariates=("age",)).fit(
        AML.assign(age=rng.normal(60, 8, len(AML))))
    assert "age" in fit.hazard_ratios_.index


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.assign(status=["maybe"] + d.status.tolist()[1:]), "row 2, column 'status': 'maybe'"),
        (lambda d: d.assign(time=[-1] + d.time.tolist()[1:]), "negative"),
        (lambda d: d.assign(x="Maintained"), "only one arm"),
        (lambda d: d.assign(status=0), "no events"),
    ],
)
def test_bad_input_gives_clear_errors(change, match):
    with pytest.raises(InputError, match=match):
        SurvivalAnalysis(time="time", event="status", arm="x").fit(change(AML))


def test_unknown_names_are_suggested():
    with pytest.raises(UnknownNameError, match="did you mean 'status'"):
        SurvivalAnalysis(time="time", event="statsu", arm="x").fit(AML)
    with pytest.raises(UnknownNameError, match="did you mean 'Maintained'"):
        SurvivalAnalysis(time="time", event="status", arm="x", reference="Maintaned").fit(AML)
    with pytest.raises(UnknownNameError, match="time unit"):
        SurvivalAnalysis(time_unit="fortnights")


def test_cli_survival_json_and_error(tmp_path, capsys):
    from eralpha.cli import main

    path = tmp_path / "aml.csv"
    AML.to_csv(path, index=False)
    main(["fit", "survival", str(path), "--time", "time", "--event", "status", "--arm", "x",
          "--reference", "Maintained", "--time-unit", "weeks", "--format", "json", "--plot", str(tmp_path / "km.png")])
    out = capsys.readouterr().out
    payload = json.loads(out[: out.rindex("}") + 1])
    assert payload["reference"] == "Maintained"
    assert payload["summary"][1]["hazard_ratio"] == pytest.approx(2.498, abs=1e-3)
    assert (tmp_path / "km.png").stat().st_size > 0
    with pytest.raises(SystemExit) as exc:
        main(["fit", "survival", str(path), "--event", "sttus", "--arm", "x"])
    assert exc.value.code == 2
    assert "did you mean 'status'" in capsys.readouterr().err


def _two_group_logrank_by_hand(df: pd.DataFrame, strata: str | None) -> float:
    """(O - E)^2 / V for the second group, O - E and the hypergeometric V summed over strata (Mantel 1966)."""
    groups = sorted(df["x"].unique())
    o_e = v = 0.0
    for _, s in (df.groupby(strata) if strata else [(None, df)]):
        for t in np.unique(s.loc[s["status"] == 1, "time"]):
            at_risk = s[s["time"] >= t]
            n, n1 = len(at_risk), int((at_risk["x"] == groups[1]).sum())
            died = at_risk[(at_risk["time"] == t) & (at_risk["status"] == 1)]
            d, d1 = len(died), int((died["x"] == groups[1]).sum())
            o_e += d1 - d * n1 / n
            v += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1) if n > 1 else 0.0
    return o_e**2 / v


def test_stratified_logrank_sums_over_strata():
    # a stratum that both shortens survival and is over-represented in one arm: the stratified test
    # (R survdiff(... + strata(s))) removes what the unstratified one attributes to the arm
    df = AML.assign(s=["a", "b"] * 11 + ["a"])
    fit = SurvivalAnalysis(time="time", event="status", arm="x", strata=("s",)).fit(df)
    assert fit.logrank_["chi2"] == pytest.approx(_two_group_logrank_by_hand(df, "s"), rel=1e-9)
    assert fit.logrank_["df"] == 1
    plain = SurvivalAnalysis(time="time", event="status", arm="x").fit(df)
    assert plain.logrank_["chi2"] == pytest.approx(_two_group_logrank_by_hand(df, None), rel=1e-9)
    assert fit.logrank_["chi2"] != pytest.approx(plain.logrank_["chi2"], rel=1e-3)


# --- the NumPy Cox / log-rank used by the trial layer, against lifelines and statsmodels (the oracle) ---
def _survival_data(n: int, seed: int, ties: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    t = rng.exponential(10 / np.exp(0.4 * arm))
    t = np.ceil(t) if ties else t  # whole months: many tied event times (Efron matters)
    c = rng.exponential(15, n)
    return pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "x": np.where(arm, "B", "A"),
                         "s": rng.integers(0, 3, n).astype(str)})


@pytest.mark.parametrize("n,seed,ties", [(40, 1, True), (200, 2, False), (500, 3, True), (1000, 4, False)])
@pytest.mark.parametrize("strata", [(), ("s",)])
def test_numpy_cox_and_logrank_match_lifelines(n, seed, ties, strata):
    from eralpha.analysis._cox import cox_ph, logrank

    df = _survival_data(n, seed, ties)
    ref = SurvivalAnalysis(time="time", event="event", arm="x", reference="A", strata=strata).fit(df)
    s = df[list(strata)].to_numpy() if strata else None
    x = (df["x"] == "B").to_numpy(float)
    fit = cox_ph(df["time"], df["event"], x, strata=s)
    hr = ref.hazard_ratios_.iloc[0]
    # lifelines stops at its own tolerance (Newton decrement < 1e-7): agreement to ~1e-7, not 1e-15
    for mine, theirs in [("hazard_ratio", "hazard_ratio"), ("hr_lower", "hr_lower"), ("hr_upper", "hr_upper"), ("se", "se")]:
        assert fit[mine][0] == pytest.approx(hr[theirs], rel=1e-6)
    assert fit["p"][0] == pytest.approx(hr["p"], rel=1e-4)
    lr = logrank(df["time"], df["event"], x, strata=s)
    assert lr["chi2"] == pytest.approx(ref.logrank_["chi2"], rel=1e-9)
    assert lr["p"] == pytest.approx(ref.logrank_["p"], rel=1e-9)


def test_numpy_cox_reproduces_r_on_aml_and_refuses_separation():
    from eralpha.analysis._cox import cox_ph

    x = (AML["x"] == "Nonmaintained").to_numpy(float)
    fit = cox_ph(AML["time"], AML["status"], x)
    # R survival, tests/doaml.Rout.save: coef 0.916, exp(coef) 2.498, se 0.512, p 0.074
    assert fit["coef"][0] == pytest.approx(0.916, abs=5e-4)
    assert fit["hazard_ratio"][0] == pytest.approx(2.498, abs=5e-4)
    assert fit["se"][0] == pytest.approx(0.512, abs=5e-4)
    assert fit["p"][0] == pytest.approx(0.074, abs=5e-4)
    # every event in one arm: the MLE runs off to infinity; the fit says so instead of returning a number
    assert cox_ph([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0]) is None


def test_trial_comparison_fast_path_equals_the_lifelines_path():
    from eralpha.trials._endpoints import comparison_endpoints

    df = _survival_data(600, 7, True).rename(columns={"time": "pfs_months", "x": "arm"})
    fast = comparison_endpoints(df, "B", "A", strata=("s",))
    ref = SurvivalAnalysis(time="pfs_months", event="event", arm="arm", reference="A", strata=("s",)).fit(df)
    hr = ref.hazard_ratios_.loc["arm=B"]
    assert fast["hr"] == pytest.approx(hr["hazard_ratio"], rel=1e-6)
    assert fast["hr_ci"] == pytest.approx([hr["hr_lower"], hr["hr_upper"]], rel=1e-6)
    assert fast["logrank_p"] == pytest.approx(ref.logrank_["p"], rel=1e-9)
    # text event codes are not numbers: the lifelines path reads them, with the same answer
    text = df.assign(event=df["event"].map({1: "yes", 0: "no"}))
    assert comparison_endpoints(text, "B", "A", strata=("s",))["hr"] == pytest.approx(fast["hr"], rel=1e-6)
