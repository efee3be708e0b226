"""Xenograft growth statistics, end-point readouts and the fast comparison for virtual studies."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from eralpha.analysis._xenograft import (
    MetastasisAnalysis,
    TumourWeightAnalysis,
    XenograftAnalysis,
    _holm,
    compare_groups_fast,
    compare_to_reference,
    log_growth_slopes,
)
from eralpha.errors import InputError, UnknownNameError


def simulate(rates, n=8, days=range(0, 57, 7), slope_sd=0.004, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for group, rate in rates.items():
        for i in range(n):
            b, k = np.log(100) + rng.normal(0, 0.3), rate + rng.normal(0, slope_sd)
            for d in days:
                rows.append({"animal": f"{group}-{i}", "group": group, "day": d,
                             "volume": np.exp(b + k * d + rng.normal(0, 0.1))})
    return pd.DataFrame(rows)


# A table small enough to check by hand: two animals per group, days 0 and 10.
HAND = pd.DataFrame({
    "animal": ["c1", "c1", "c2", "c2", "t1", "t1", "t2", "t2"],
    "group": ["ctrl", "ctrl", "ctrl", "ctrl", "trt", "trt", "trt", "trt"],
    "day": [0, 10] * 4,
    "volume": [100, 500, 100, 700, 100, 200, 100, 300],
})


def test_tgi_and_t_over_c_arithmetic():
    fit = XenograftAnalysis(volume="volume", control="ctrl", mixed_model=False).fit(HAND)
    tgi = fit.tgi_.loc["trt"]
    # ΔC = mean(400, 600) = 500; ΔT = mean(100, 200) = 150 -> TGI = 100·(1 − 150/500) = 70 %
    assert tgi["tgi_pct"] == pytest.approx(70.0)
    # T/C = 100 · mean(200, 300) / mean(500, 700) = 100 · 250 / 600
    assert tgi["t_over_c_pct"] == pytest.approx(100 * 250 / 600)
    assert fit.tgi_.loc["ctrl", "tgi_pct"] == pytest.approx(0.0)
    assert fit.day_of_interest_ == 10
    # per-animal slope of ln(size): ln(5)/10 for c1
    assert fit.slopes_.set_index("animal").loc["c1", "slope"] == pytest.approx(np.log(5) / 10)


def test_calliper_volume_is_l_w2_over_2_whatever_the_column_order():
    t = pd.DataFrame({"animal": ["a", "a", "b", "b"], "group": ["c", "c", "t", "t"], "day": [0, 7, 0, 7],
                      "L": [10.0, 12.0, 4.0, 5.0], "W": [4.0, 5.0, 10.0, 12.0]})
    fit = XenograftAnalysis(length="L", width="W", mixed_model=False).fit(t)
    sizes = fit.data_.set_index(["animal", "day"])["size"]
    assert sizes[("a", 0)] == pytest.approx(10 * 4**2 / 2)
    assert sizes[("b", 7)] == pytest.approx(12 * 5**2 / 2)  # columns swapped: L is still the longer


def test_mixed_model_recovers_a_simulated_slope_difference():
    data = simulate({"vehicle": 0.05, "drug": 0.02})
    fit = XenograftAnalysis(volume="volume", control="vehicle").fit(data)
    assert fit.mixed_random_ == "intercept+slope"
    term = fit.mixed_.loc["day:group=drug"]
    assert term["ci_lower"] < -0.03 < term["ci_upper"]
    assert abs(term["estimate"] + 0.03) < 0.006
    assert term["p"] < 1e-4
    # Per-animal slopes tell the same story, and Welch agrees with scipy directly.
    s = fit.slopes_
    direct = stats.ttest_ind(s.slope[s.group == "drug"], s.slope[s.group == "vehicle"], equal_var=False)
    assert fit.slope_tests_.loc["drug", "p"] == pytest.approx(direct.pvalue)
    assert fit.summary.loc["drug", "mixed_rate_diff"] == pytest.approx(term["estimate"])


def test_no_difference_is_not_called_significant():
    data = simulate({"vehicle": 0.04, "same": 0.04}, seed=11)
    fit = XenograftAnalysis(volume="volume", control="vehicle").fit(data)
    assert fit.mixed_.loc["day:group=same", "ci_lower"] < 0 < fit.mixed_.loc["day:group=same", "ci_upper"]


def test_animals_leaving_the_study_reduce_n_and_are_not_carried_forward():
    data = simulate({"vehicle": 0.05, "drug": 0.02}, n=4)
    gone = (data.animal == "vehicle-0") & (data.day > 28)
    fit = XenograftAnalysis(volume="volume", control="vehicle").fit(data[~gone])
    g = fit.growth_.set_index(["group", "day"])
    assert g.loc[("vehicle", 28), "n"] == 4 and g.loc[("vehicle", 56), "n"] == 3
    kept = data[~gone & (data.group == "vehicle") & (data.day == 56)]
    assert g.loc[("vehicle", 56), "mean"] == pytest.approx(kept.volume.mean())
    assert g.loc[("vehicle", 56), "sem"] == pytest.approx(kept.volume.std() / np.sqrt(3))


def test_zero_sizes_are_floored_for_logs_and_counted():
    t = HAND.copy()
    t.loc[7, "volume"] = 0.0
    fit = XenograftAnalysis(volume="volume", control="ctrl", mixed_model=False).fit(t)
    assert fit.n_floored_ == 1
    assert np.isfinite(fit.slopes_.slope).all()


def test_compare_to_reference_matches_scipy_and_holm():
    values = pd.Series([1.0, 1.2, 0.9, 1.1, 2.0, 2.2, 1.9, 0.5, 0.6, 0.4])
    groups = pd.Series(["c"] * 4 + ["a"] * 3 + ["b"] * 3)
    out = compare_to_reference(values, groups, "c", alternative="greater")
    ref_a = stats.ttest_ind(values[4:7], values[:4], equal_var=False, alternative="greater")
    assert out.loc["a", "p"] == pytest.approx(ref_a.pvalue)
    assert out.loc["a", "difference"] == pytest.approx(6.1 / 3 - 1.05)
    assert out.loc["b", "p"] > 0.9  # b is lower than control: no evidence for "greater"
    assert out["p_holm"].tolist() == pytest.approx(_holm(out["p"].to_numpy()).tolist())


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.01, 0.04, 0.03, 0.20])
    assert _holm(p) == pytest.approx(multipletests(p, method="holm")[1])


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_compare_groups_fast_matches_scipy_welch(alternative):
    rng = np.random.default_rng(5)
    a = rng.normal(0.02, 0.01, (50, 8))
    b = rng.normal(0.03, 0.012, (50, 7))
    a[3, 2] = np.nan  # an animal lost in one replicate study
    p = compare_groups_fast(a, b, alternative)
    assert p.shape == (50,)
    for i in (0, 3, 49):
        ref = stats.ttest_ind(a[i][~np.isnan(a[i])], b[i], equal_var=False, alternative=alternative).pvalue
        assert p[i] == pytest.approx(ref, rel=1e-9)
    student = compare_groups_fast(a[0], b[0], alternative, equal_var=True)
    assert student == pytest.approx(stats.ttest_ind(a[0], b[0], alternative=alternative).pvalue, rel=1e-9)


def test_compare_groups_fast_edge_cases():
    assert np.isnan(compare_groups_fast([1.0], [2.0, 3.0]))
    with pytest.raises(UnknownNameError, match="did you mean 'less'"):
        compare_groups_fast([1, 2], [3, 4], alternative="lesser")


def test_log_growth_slopes_vectorised_matches_polyfit():
    rng = np.random.default_rng(2)
    days = np.arange(0, 50, 7.0)
    sizes = np.exp(4 + 0.03 * days + rng.normal(0, 0.1, (20, days.size)))
    sizes[4, -2:] = np.nan
    slopes = log_growth_slopes(days, sizes)
    assert slopes[0] == pytest.approx(np.polyfit(days, np.log(sizes[0]), 1)[0])
    assert slopes[4] == pytest.approx(np.polyfit(days[:-2], np.log(sizes[4, :-2]), 1)[0])


def test_terminal_weights_and_metastasis():
    w = pd.DataFrame({"group": ["v"] * 4 + ["d"] * 4, "weight": [900, 1000, 1100, 1000, 300, 400, 500, 400]})
    fit = TumourWeightAnalysis(control="v").fit(w)
    assert fit.summary.loc["d", "mean"] == 400
    assert fit.summary.loc["v", "sem"] == pytest.approx(np.std([900, 1000, 1100, 1000], ddof=1) / 2)
    assert fit.summary.loc["d", "p"] == pytest.approx(
        stats.ttest_ind([300, 400, 500, 400], [900, 1000, 1100, 1000], equal_var=False).pvalue)

    wide = pd.DataFrame({"animal": list("abcdef"), "group": ["v"] * 3 + ["d"] * 3,
                         "lung": [1e6, 2e6, 5e5, 1e4, 3e3, 0.0], "bone": [1e5, 1e5, 1e5, 1e5, 1e5, 1e5]})
    met = MetastasisAnalysis(organs=("lung", "bone"), control="v", threshold=5e3).fit(wide)
    lung = met.summary.loc[("lung", "d")]
    assert lung["n_positive"] == 1 and lung["fraction_positive"] == pytest.approx(1 / 3)
    assert met.summary.loc[("lung", "v"), "fraction_positive"] == 1.0
    long = wide.melt(id_vars=["animal", "group"], var_name="organ", value_name="signal")
    met_long = MetastasisAnalysis(control="v", threshold=5e3).fit(long)
    pd.testing.assert_frame_equal(met.summary, met_long.summary)
    assert met.plot().get_ylabel().startswith("log10")


@pytest.mark.parametrize(
    "options, edit, match",
    [
        ({"volume": "volume"}, lambda t: t.assign(group=["ctrl", "trt"] + t.group.tolist()[2:]),
         "animal 'c1' appears in more than one group"),
        ({"volume": "volume"}, lambda t: t.assign(day=[0, 0] + t.day.tolist()[2:]), "two measurements on day 0"),
        ({"volume": "volume"}, lambda t: t.assign(volume=["big"] + t.volume.tolist()[1:]),
         "row 2, column 'volume': 'big'"),
        ({"volume": "volume", "control": "ctrl", "day_of_interest": 7}, lambda t: t, "not measured on day 7"),
        ({"volume": "volume"}, lambda t: t.assign(group="ctrl", animal=t.animal), "only one group"),
        ({"length": "volume"}, lambda t: t, "exactly one size measure"),
    ],
)
def test_bad_input_gives_clear_errors(options, edit, match):
    with pytest.raises(InputError, match=match):
        XenograftAnalysis(mixed_model=False, **options).fit(edit(HAND))


def test_unknown_control_and_column_are_suggested():
    with pytest.raises(UnknownNameError, match="did you mean 'ctrl'"):
        XenograftAnalysis(volume="volume", control="ctl").fit(HAND)
    with pytest.raises(UnknownNameError, match="did you mean 'volume'"):
        XenograftAnalysis(volume="volme").fit(HAND)


def test_plot_and_summary_shape():
    fit = XenograftAnalysis(volume="volume", control="ctrl", mixed_model=False).fit(HAND)
    assert list(fit.summary.index) == ["ctrl", "trt"]
    ax = fit.plot()
    assert ax.get_xlabel() == "day" and len(ax.get_legend().get_texts()) == 2


def test_cli_xenograft(tmp_path, capsys):
    from eralpha.cli import main

    path = tmp_path / "growth.csv"
    simulate({"vehicle": 0.05, "drug": 0.02}, n=4).to_csv(path, index=False)
    main(["fit", "xenograft", str(path), "--group", "group", "--time", "day", "--animal", "animal",
          "--volume", "volume", "--control", "vehicle", "--day", "28", "--format", "json",
          "--plot", str(tmp_path / "g.png")])
    out = capsys.readouterr().out
    payload = json.loads(out[: out.rindex("}") + 1])
    assert payload["day_of_interest"] == 28 and payload["control"] == "vehicle"
    assert (tmp_path / "g.png").exists()
    with pytest.raises(SystemExit) as exc:
        main(["fit", "xenograft", str(path), "--length", "volume"])
    assert exc.value.code == 2
    assert "exactly one size measure" in capsys.readouterr().err
