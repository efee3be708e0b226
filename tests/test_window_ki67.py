"""The patient's proliferation against human Ki67 data from window-of-opportunity trials (docs/trials.md, "Human
proliferation: Ki67 in window trials"): every model number is computed here, every published number is read from
the knowledge base (published.yaml), and the comparisons can fail."""

from __future__ import annotations

import numpy as np
import pytest

from eralpha.errors import InputError, UnknownNameError
from eralpha.knowledge import knowledge_overrides
from eralpha.trials import window_checks, window_ki67

#: comparisons that the shipped defaults (fate and escape rates per cell cycle, since session 9) fail, and why
#: (measured 3 December 2026)
_FLOOR = ("the model's Ki67 floor ki67_basal (3 %, tumour.yaml, assumed) lies above the CCCA cut-off of 2.7 %, "
          "so no tumour can be at CCCA")
FAILS_AT_DEFAULT = {
    "window.baseline_ki67_median": "baseline Ki67 27 % against a median of 11 %: the cycling untreated tumour's Ki67 "
                                   "is the dish's (the model has no human Ki67 scaling)",
    "window.untreated_ki67_stability_luminal": "mean change -2.4 points over 41 days (luminal tumours: no significant "
                                               "change, |change| <= 1.6)",
    "impact.ki67_fall_2w_anastrozole": "2-week fall 55 % against 76 %: per cycle, cells leave the cycle slowly",
    "impact.ki67_fall_2w_tamoxifen": "tamoxifen lowers Ki67 15 % against a 59 % fall (SERM_NOTES.md: with the SERMs' "
                                     "tumour partitioning and weak residual agonism; -6 % before)",
    "impact.ki67_fall_2w_combination": "2-week fall 53 % against 64 % (30 % before the SERM change)",
    "neopalana.ccca_c1d1_anastrozole": _FLOOR + " (published 26 %)",
    "neopalana.ccca_c1d15_palbociclib": _FLOOR + " (published 87 %)",
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


def test_per_cycle_rates_fit_the_16_week_falls_and_palbociclib_but_not_baseline_or_tamoxifen(default_rows):
    """docs/trials.md, why per-cycle rates are the default: the untreated tumour is cycling (its Ki67 nearly stable), the
    aromatase inhibitors' 16-week falls match Z1031 (the escape at its per-cycle pace has not started by week 16) and
    palbociclib adds at C1D15; the baseline Ki67 is too high, the 2-week falls too small (tamoxifen's too), and no
    tumour reaches CCCA."""
    r = default_rows
    assert {k for k, v in r.items() if v["passed"]} == set(_IDS) - set(FAILS_AT_DEFAULT)
    assert r["window.baseline_ki67_median"]["model"] > 2 * 11  # measured 27 %
    assert abs(r["window.untreated_ki67_stability_luminal"]["model"]) < 3  # measured -2.4 points (per hour: -4.6)
    assert 5 < r["impact.ki67_fall_2w_tamoxifen"]["model"] < 30  # measured 15.1 % (-6.3 % at efficacy 0.05, no partitioning)


def test_per_hour_fate_rates_pass_only_the_baseline_the_anastrozole_edge_and_the_combination(per_hour_rows):
    """The earlier defaults (culture fate rates per hour): 3 of 12 rows (the combination's 2-week fall, 57.7 % against
    64 %, since the SERM change of SERM_NOTES.md; 2 of 12 before); most of the tumour is senescent on day 0, its
    Ki67 drifts down untreated and sits near the 3 % floor, so the 16-week falls are capped at 64 % and palbociclib adds
    nothing at C1D15."""
    r = per_hour_rows
    assert {k for k, v in r.items() if v["passed"]} == {"window.baseline_ki67_median", "impact.anastrozole_beyond_tamoxifen",
                                                        "impact.ki67_fall_2w_combination"}
    assert r["neopalana.palbociclib_adds"]["model"] > 0.95  # measured 1.00


def test_per_cycle_rates_keep_the_untreated_tumour_cycling_while_per_hour_rates_drift(default_rows, per_hour_rows):
    drift1 = default_rows["window.untreated_ki67_stability_luminal"]["model"]
    drift0 = per_hour_rows["window.untreated_ki67_stability_luminal"]["model"]
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
    assert np.all(after < before - 0.005)  # measured ~0.010 lower (0.02 of the cycling share x ~0.5)


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
