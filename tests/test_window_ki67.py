"""The patient's proliferation against human Ki67 data from window-of-opportunity trials (docs/trials.md, "Human
proliferation: Ki67 in window trials"): every model number is computed here, every published number is read from
the knowledge base (published.yaml), and the comparisons can fail."""

from __future__ import annotations

import numpy as np
import pytest

from eralpha.errors import InputError, UnknownNameError
from eralpha.knowledge import knowledge_overrides
from eralpha.trials import window_checks, window_ki67

#: comparisons that the shipped defaults (human_fate_rate_exponent 0) fail, and why (measured 3 December 2026)
_FLOOR = ("the model's Ki67 floor ki67_basal (3 %, tumour.yaml, assumed) lies above the CCCA cut-off of 2.7 %, "
          "so no tumour can be at CCCA")
_DRIFT = ("at the culture's per-hour fate rates 82 % of the untreated wild-type tumour is senescent on day 0 and "
          "its Ki67 keeps falling without treatment")
FAILS_AT_DEFAULT = {
    "window.untreated_ki67_stability_luminal": _DRIFT + " (mean change -4.6 points over 41 days; luminal tumours: "
                                               "no significant change, |change| <= 1.6)",
    "impact.ki67_fall_2w_anastrozole": "2-week fall 58 % against 76 %: the tumour is mostly senescent and its Ki67 "
                                       "is near the 3 % floor before treatment (baseline 8.2 %)",
    "impact.ki67_fall_2w_tamoxifen": "2-week fall 26 % against 59 % (most of it the untreated drift, 31 %)",
    "impact.ki67_fall_2w_combination": "2-week fall 51 % against 64 %",
    "z1031.ki67_fall_16w_anastrozole": "16-week fall capped at 63 % by the 3 % floor, against 79 %",
    "z1031.ki67_fall_16w_letrozole": "16-week fall capped at 63 % by the 3 % floor, against 82 %",
    "z1031.ki67_fall_16w_exemestane": "16-week fall capped at 63 % by the 3 % floor, against 79 %",
    "neopalana.ccca_c1d1_anastrozole": _FLOOR + " (published 26 %)",
    "neopalana.ccca_c1d15_palbociclib": _FLOOR + " (published 87 %)",
    "neopalana.palbociclib_adds": "palbociclib does not lower Ki67 at C1D15 (ratio 1.00): the tumour is already "
                                  "senescent at the floor",
}


@pytest.fixture(scope="module")
def default_rows():
    return {r["id"]: r for r in window_checks()}


@pytest.fixture(scope="module")
def per_cycle_rows():
    with knowledge_overrides({"human_fate_rate_exponent": 1.0}, origin="sensitivity"):
        return {r["id"]: r for r in window_checks()}


_IDS = ["window.baseline_ki67_median", "window.untreated_ki67_stability_luminal", "impact.ki67_fall_2w_anastrozole",
        "impact.ki67_fall_2w_tamoxifen", "impact.ki67_fall_2w_combination", "z1031.ki67_fall_16w_anastrozole",
        "z1031.ki67_fall_16w_letrozole", "z1031.ki67_fall_16w_exemestane", "impact.anastrozole_beyond_tamoxifen",
        "neopalana.ccca_c1d1_anastrozole", "neopalana.ccca_c1d15_palbociclib", "neopalana.palbociclib_adds"]


def test_the_checks_are_the_documented_ones(default_rows):
    assert list(default_rows) == _IDS


@pytest.mark.parametrize("rid", [
    pytest.param(r, marks=pytest.mark.xfail(strict=True, reason="known gap: " + FAILS_AT_DEFAULT[r])) if r in FAILS_AT_DEFAULT
    else r for r in _IDS])
def test_window_trial_readout_matches_human_data_at_the_defaults(rid, default_rows):
    """The shipped patient (per-hour fate rates) against each published window-trial number."""
    r = default_rows[rid]
    assert r["passed"], f"{rid}: model {r['model']:.2f} vs published {r['published']} ({r['criterion']})"


def test_per_cycle_fate_rates_fit_the_16_week_falls_and_palbociclib_but_not_baseline_or_tamoxifen(per_cycle_rows):
    """docs/trials.md, the verdict: with human_fate_rate_exponent 1 the untreated tumour is cycling (its Ki67 is
    nearly stable), the aromatase inhibitors' 16-week falls match Z1031 and palbociclib adds at C1D15; the
    baseline Ki67 is too high, the 2-week falls too small, tamoxifen does not lower Ki67 and no tumour reaches CCCA."""
    r = per_cycle_rows
    passed = {k for k, v in r.items() if v["passed"]}
    assert passed == {"z1031.ki67_fall_16w_anastrozole", "z1031.ki67_fall_16w_letrozole", "z1031.ki67_fall_16w_exemestane",
                      "impact.anastrozole_beyond_tamoxifen", "neopalana.palbociclib_adds"}
    assert r["window.baseline_ki67_median"]["model"] > 2 * 11  # measured 29 %
    assert abs(r["window.untreated_ki67_stability_luminal"]["model"]) < 3  # measured -2.7 points (defaults: -4.6)
    assert r["impact.ki67_fall_2w_tamoxifen"]["model"] < 0  # measured -5.5 %: tamoxifen raises Ki67


def test_per_cycle_rates_keep_the_untreated_tumour_cycling_while_per_hour_rates_drift(default_rows, per_cycle_rows):
    drift0 = default_rows["window.untreated_ki67_stability_luminal"]["model"]
    drift1 = per_cycle_rows["window.untreated_ki67_stability_luminal"]["model"]
    assert drift0 < -4 and abs(drift1) < abs(drift0) / 1.5


def test_baseline_biopsy_is_drug_free_for_every_regimen():
    """An aromatase inhibitor lowers oestradiol from day 0, not through the run-in (trials._simulate.arm_batch, the
    trial layer's own member set-up): every arm shares the baseline."""
    w = window_ki67(["untreated", "letrozole", "anastrozole + palbociclib", "tamoxifen"], patients=8, days=(0, 14))
    base = np.stack([k[:, 0] for k in w.ki67.values()])
    assert np.allclose(base, base[0], rtol=2e-3)  # the solver tolerance (rtol 1e-3); before: AI arms started 30-60 % lower
    assert w.summary()["letrozole"]["geometric_mean_fall"][14.0] > 0.3


def test_model_parameter_overrides_reach_the_patient_after_a_first_solve():
    """The trial layer's compiled model is keyed on the knowledge overrides in force (before: an override of a cell or
    tumour parameter after a first solve in the same process was silently ignored)."""
    before = window_ki67(["untreated"], patients=4, days=(0,)).ki67["untreated"][:, 0]
    with knowledge_overrides({"ki67_basal": 0.01}, origin="sensitivity"):
        after = window_ki67(["untreated"], patients=4, days=(0,)).ki67["untreated"][:, 0]
    assert np.all(after < before - 0.01)


def test_bad_inputs_name_the_field():
    with pytest.raises(UnknownNameError, match="did you mean 'letrozole'") as exc:
        window_ki67(["letrozol"], patients=2)
    assert exc.value.field == "regimens"
    with pytest.raises(InputError, match="start at 0") as exc:
        window_ki67(["untreated"], patients=2, days=(14,))
    assert exc.value.field == "days"


def test_cli_prints_the_time_course_and_the_checks(cli):
    import json

    code, out, _ = cli("trial", "ki67", "--regimen", "letrozole", "--patients", "6", "--days", "0,14", "--format", "json")
    assert code == 0
    s = json.loads(out)["letrozole"]
    assert s["geometric_mean_fall"]["14.0"] > 0.3 and s["geometric_mean_fall"]["0.0"] == 0.0
    code, out, _ = cli("trial", "ki67", "--check", "--patients", "6", "--fate-rate-exponent", "1", "--format", "json")
    assert code == 0
    assert {r["id"] for r in json.loads(out)} == set(_IDS)
    code, _, err = cli("trial", "ki67", "--days", "0,two")
    assert code != 0 and "--days" in err


def test_scorecard_rows_are_the_checks_at_the_defaults(default_rows):
    from eralpha.trials._window import window_scorecard_rows

    rows = window_scorecard_rows()
    assert [r["id"] for r in rows] == [f"ki67.{i}" for i in _IDS]
    assert {r["id"] for r in rows if not r["passed"]} == {f"ki67.{i}" for i in FAILS_AT_DEFAULT}
    assert all(r["kind"] == "prediction" and r["source"] for r in rows)
