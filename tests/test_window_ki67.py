"""The patient's proliferation against human Ki67 data from window-of-opportunity trials (docs/trials.md, "Human
proliferation: Ki67 in window trials"): every model number is computed here, every published number is read from
the knowledge base (published.yaml), and the comparisons can fail."""

from __future__ import annotations

import numpy as np
import pytest

from eralpha.errors import InputError, UnknownNameError
from eralpha.knowledge import knowledge_overrides
from eralpha.trials import window_checks, window_ki67

#: comparisons that the shipped defaults (fate and escape rates per cell cycle, since session 9; Ki67 at maximal drive the
#: growth fraction human_cell_cycle_time / Tpot and no Ki67 in resting cells, ki67_basal 0) fail, and why
#: (measured 3 December 2026)
FAILS_AT_DEFAULT = {
    "impact.ki67_fall_2w_anastrozole": "2-week fall 63 % against 76 %: the E2F drive falls ~57 % within a day, but per "
                                       "cycle cells leave the cycle slowly",
    "impact.ki67_fall_2w_tamoxifen": "tamoxifen lowers Ki67 17 % against a 59 % fall: with 70 % of the receptor bound, "
                                     "the ER drive falls only ~30 % (docs/trials-measurements.md, 'Tamoxifen in patients')",
    "z1031.ki67_fall_16w_anastrozole": "16-week fall 89 % against 79 % (10.4 points): with no Ki67 in arrested and senescent "
                                       "cells the residual cycling share keeps falling as cells senesce",
    "z1031.ki67_fall_16w_exemestane": "16-week fall 90 % against 79 % (10.7 points), as anastrozole",
    "neopalana.ccca_c1d1_anastrozole": "67 % of tumours at CCCA (Ki67 <= 2.7 %) after 4 weeks of anastrozole against 26 %: "
                                       "from a 7 % median baseline the 4-week fall brings most below the cut-off",
}
#: the same at the earlier defaults (fate rates per hour, no escape, cell loss scale 1)
PER_HOUR = {"human_fate_rate_exponent": 0.0, "human_tumour_adaptation": 0, "human_cell_loss_scale": 1.0}


@pytest.fixture(scope="module")
def default_rows():
    return {r["id"]: r for r in window_checks()}


@pytest.fixture(scope="module")
def per_hour_rows():
    with knowledge_overrides(PER_HOUR, origin="sensitivity"):
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
    """The shipped patient (fate and escape rates per cell cycle) against each published window-trial number."""
    r = default_rows[rid]
    assert r["passed"], f"{rid}: model {r['model']:.2f} vs published {r['published']} ({r['criterion']})"


def test_per_cycle_rates_with_the_growth_fraction_fit_baseline_stability_and_palbociclib(default_rows):
    """docs/trials-measurements.md, 'Session 9: Ki67 is the growth fraction': per cycle, the untreated tumour is cycling (its Ki67 stable within Gandini's
    bound), its baseline Ki67 is the growth fraction (Tc / Tpot x the E2F drive: ~7 % against BIG 1-98's 11 %),
    palbociclib brings nearly every tumour to CCCA; the 2-week falls are too small, the 16-week falls of anastrozole and
    exemestane just too large, tamoxifen lowers Ki67 too little and too many tumours reach CCCA on anastrozole alone."""
    r = default_rows
    assert {k for k, v in r.items() if v["passed"]} == set(_IDS) - set(FAILS_AT_DEFAULT)
    assert 11 / 2 < r["window.baseline_ki67_median"]["model"] < 11  # measured 7.4 %
    assert abs(r["window.untreated_ki67_stability_luminal"]["model"]) < 1.6  # measured -1.0 points (per hour: -1.7)
    assert 5 < r["impact.ki67_fall_2w_tamoxifen"]["model"] < 30  # measured 17.3 % (-7.3 % before the SERMs' tumour
    # partitioning and weak residual agonism)
    assert r["impact.ki67_fall_2w_anastrozole"]["model"] < 70  # measured 62.8 %


def test_per_hour_fate_rates_overshoot(per_hour_rows):
    """The earlier defaults (culture fate rates per hour): 4 of 12 rows; most of the tumour is senescent on day 0, its
    baseline Ki67 is 1.5 % and anastrozole stops nearly every tumour's cycle (2-week fall 92 %, 16-week falls 100 %);
    tamoxifen's 2-week fall passes (64 % against 59 %)."""
    r = per_hour_rows
    assert {k for k, v in r.items() if v["passed"]} == {"impact.anastrozole_beyond_tamoxifen", "neopalana.ccca_c1d15_palbociclib",
                                                       "neopalana.palbociclib_adds", "impact.ki67_fall_2w_tamoxifen"}
    assert r["window.baseline_ki67_median"]["model"] < 11 / 2  # measured 1.5 %
    assert r["z1031.ki67_fall_16w_letrozole"]["model"] > 95  # measured 100 %


def test_per_cycle_rates_keep_the_untreated_tumour_cycling_while_per_hour_rates_drift(default_rows, per_hour_rows):
    drift1 = default_rows["window.untreated_ki67_stability_luminal"]["model"]
    drift0 = per_hour_rows["window.untreated_ki67_stability_luminal"]["model"]
    assert drift0 < -1.5 and abs(drift1) < abs(drift0) / 1.5  # measured -1.70 and -1.01 points


def test_growth_fraction_sets_the_patients_ki67_scale():
    """A patient's Ki67 at maximal drive is the growth fraction human_cell_cycle_time / Tpot (parameters/patient.yaml):
    her baseline Ki67 scales with the cycle time (below the cap of 1)."""
    base = window_ki67(["untreated"], patients=6, days=(0,)).ki67["untreated"][:, 0]
    with knowledge_overrides({"human_cell_cycle_time": 4.48}, origin="sensitivity"):
        twice = window_ki67(["untreated"], patients=6, days=(0,)).ki67["untreated"][:, 0]
    assert np.allclose(twice, 2 * base, rtol=1e-6)


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
    with knowledge_overrides({"ki67_basal": 0.03}, origin="sensitivity"):
        after = window_ki67(["untreated"], patients=4, days=(0,)).ki67["untreated"][:, 0]
    assert np.all(after > before + 0.01)  # measured ~0.015 higher


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
    code, out, _ = cli("trial", "ki67", "--check", "--patients", "6", "--fate-rate-exponent", "0", "--format", "json")
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
