"""Why no ELAINE 1 virtual patient reaches a confirmed partial response, and why PALOMA-2's combination responds too
often (docs/trials-measurements.md, "Why no ELAINE 1 patient responds"; the known failures trial.elaine1.orr_laso / orr_fulv / paloma2.orr_palbociclib / cbr_palbociclib
of tests/test_cli_core.py::KNOWN_FAILURES): the measurements behind it.

ELAINE 1: a clone shrinks at most at its cell-loss rate (the patient's share of ln2 / Tpot), senescent cells at
human_senescent_loss_share of it, so even the best clone (ESR1 wild type, not escaped) of a typical patient falls
short of -30 % in diameter by week 24; a clone that has escaped on the prior aromatase inhibitor (adaptation0 ~0.3,
the selected patients' median) does not shrink at all, and the Y537S clone grows on lasofoxifene almost as if
untreated. The control-arm selection then keeps slow patients (fast ESR1-mutant clones make most plausible patients
progress by the first scan), whose cell loss is slower still."""

from __future__ import annotations

import numpy as np
import pytest

from eralpha.knowledge import knowledge_overrides
from test_trials import _typical_patients

_LASOFOXIFENE = [("lasofoxifene", "5 mg oral q24h")]
_DAYS = np.arange(0.0, 169.0, 7.0)  # weekly to week 24
_PR_FOLD = 0.7**3  # volume fold change of a -30 % diameter change (a sphere)


def _clone_folds(drugs, *, tpot: float | None = None, adaptation0: float = 0.0, **overrides) -> dict[str, np.ndarray]:
    """Volume fold change (at ``_DAYS``; the median over 10 PK draws) of a typical patient's ESR1 wild-type, Y537S and D538G clones on ``drugs``
    (as tests/test_trials.py::_typical_patients, with ``tpot`` days and escape state ``adaptation0``)."""
    import eralpha.trials._simulate as sim
    from eralpha.population import CLONE_TYPES
    from eralpha.trials._schema import DrugSpec

    with knowledge_overrides(overrides, origin="test"):
        s, patients = _typical_patients(10)
        if tpot is not None:
            patients.biology["tpot_days"] = tpot
        patients.biology["adaptation0"] = adaptation0
        arm = sim.arm_regimen("arm", [DrugSpec(compound=c, regimen=r) for c, r in drugs], float(_DAYS[-1]))
        traj = sim.simulate_arm(arm, patients, _DAYS, seed=s.seed)
    out = {}
    for v in ("WT", "Y537S", "D538G"):
        fold = traj.fold[traj.member_type == CLONE_TYPES.index((v, False))]
        assert fold.size
        out[v] = np.median(fold, axis=0)  # the typical patients differ only in their PK draws
    return out


def test_no_clone_of_a_typical_patient_shrinks_30_percent_on_lasofoxifene():
    """Lasofoxifene 5 mg, a typical patient (Tpot 12.65 days): the best clone, ESR1 wild type and not escaped, reaches
    at most -27 % in diameter by week 24 (measured volume fold 0.39; a PR needs 0.343, and a confirmed one two scans
    below it); escaped to 0.33 (the selected ELAINE 1 patients' median adaptation0) it does not shrink (fold >= 1); the
    Y537S clone grows 11.3-fold by week 16 (untreated: ~13, doubling in 30 days); the D538G clone holds (1.02)."""
    f = _clone_folds(_LASOFOXIFENE)
    assert _PR_FOLD < f["WT"].min() < 0.6
    assert _clone_folds(_LASOFOXIFENE, adaptation0=0.33)["WT"].min() > 0.95
    assert f["Y537S"][_DAYS == 112.0][0] > 8.0


def test_slow_patients_shrink_slower():
    """At the selected ELAINE 1 patients' median Tpot (26.3 days, against 12.7 among the plausible ones) the
    wild-type clone's best is -22 % in diameter by week 24 (fold 0.48, against 0.39 at 12.65 days): the cell-loss
    rate scales with ln2 / Tpot."""
    slow, fast = _clone_folds(_LASOFOXIFENE, tpot=26.3)["WT"], _clone_folds(_LASOFOXIFENE)["WT"]
    assert fast.min() < slow.min() < 0.6


def test_persisting_senescent_cells_cap_the_wild_type_clones_shrinkage():
    """With senescent cells cleared at the basal loss rate (human_senescent_loss_share 1, the mice's value) the same
    typical wild-type clone passes -30 % (fold 0.14 by week 24, -49 % in diameter): the persisting senescent cells
    (0.2, shipped) are what keeps an arrested clone from a partial response."""
    f = _clone_folds(_LASOFOXIFENE, human_senescent_loss_share=1.0)
    assert f["WT"].min() < _PR_FOLD


@pytest.mark.slow
def test_elaine1_selection_keeps_few_slow_patients():
    """The control-arm selection (fulvestrant, median 3.7 months): most plausible patients progress by the first scan
    (measured 81 % by week 8), so few are accepted (56 of 2000) and they are slow (median Tpot 26.3 days against 12.7);
    no virtual patient has a confirmed response on fulvestrant."""
    from eralpha.trials import run_trial
    from eralpha.trials._schema import load_trial_scenario
    from eralpha.scenario._load import resolve_scenario

    r = run_trial(load_trial_scenario(resolve_scenario("trial_elaine1")), replicates=2)
    cal = r.endpoints["calibration"]
    assert cal["plausible_share"][0] > 0.7
    assert cal["accepted"] < 100
    assert cal["selected_tpot_days_median"] > 1.5 * cal["plausible_tpot_days_median"]
    assert r.endpoints["arms"]["fulvestrant"]["orr"] == 0.0


@pytest.mark.slow
def test_paloma2_nearly_every_measurable_patient_shrinks_30_percent():
    """PALOMA-2 (4 replicates): 92 % / 87 % (combination / letrozole) of measurable patients read >= 30 % shrinkage at
    some scan, against an ORR of 0.61 / 0.51: responses are lost to progression (mostly new lesions, the seeding clock,
    while the tumour shrinks) before confirmation, not to tumours that fail to shrink; most measurable patients without
    clinical benefit had shrunk by >= 30 % (0.73 / 0.66)."""
    from eralpha.trials import run_trial
    from eralpha.trials._schema import load_trial_scenario
    from eralpha.scenario._load import resolve_scenario

    ap = run_trial(load_trial_scenario(resolve_scenario("trial_paloma2")), replicates=4).tables["all_patients"]
    for _, g in ap.groupby("arm"):
        m = g[g["measurable"]]
        assert (m["best_pct_change"] <= -30).mean() > 0.8
        assert m["objective_response"].mean() < 0.7
        nob = m[~m["clinical_benefit"]]
        assert (nob["best_pct_change"] <= -30).mean() > 0.5
