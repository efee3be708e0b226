"""The main commands as a user runs them: run (atomic run folder, resume), validate, model show, errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCEN = Path(__file__).resolve().parents[1] / "src" / "eralpha" / "scenarios"


def eralpha(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "eralpha", *args], capture_output=True, text=True, cwd=cwd)


def test_run_writes_a_complete_run_folder_and_resumes(tmp_path):
    runs = tmp_path / "runs"
    r = eralpha("run", str(SCEN / "invitro_hormone_dependence.yaml"), "--runs-dir", str(runs))
    assert r.returncode == 0, r.stderr
    (folder,) = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("eralpha_version", "scenario_sha256", "seed", "started", "finished", "platform"):
        assert any(key in k for k in manifest), key
    assert (folder / "report.html").exists()
    assert list((folder / "tables").glob("*.parquet")) and list((folder / "tables").glob("*.csv"))
    again = eralpha("run", str(SCEN / "invitro_hormone_dependence.yaml"), "--runs-dir", str(runs))
    assert "already finished" in again.stdout
    listing = eralpha("runs", "list", "--root", str(runs), "--format", "json")
    assert folder.name in listing.stdout


def test_validate_json_rows_have_exactly_the_keys():
    r = eralpha("validate", "--only", "hormone", "--format", "json", "--no-report")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows and all(set(row) == {"id", "quantity", "source", "target", "simulated", "tolerance", "kind", "passed"} for row in rows)
    assert {row["kind"] for row in rows} <= {"calibration", "prediction"}


def test_bad_scenario_is_one_line_not_a_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("kind: proliferation\nname: x\ncompounds: [fulvestrent]\nconcentrations: [1 nM]\n")
    r = eralpha("run", str(p), "--runs-dir", str(tmp_path / "runs"))
    assert r.returncode == 2
    assert "did you mean 'fulvestrant'" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "runs").exists() or not any(x for x in (tmp_path / "runs").iterdir() if not x.name.startswith(".") and x.is_dir())


def test_model_show_json_lists_provenance():
    r = eralpha("model", "show", "--cell-line", "MCF7-Y537S", "--ligand", "imlunestrant", "--what", "parameters", "--format", "json")
    assert r.returncode == 0, r.stderr
    params = json.loads(r.stdout)["parameters"]
    assert all(p["kind"] in ("measured", "calibrated", "assumed") and p["source"] for p in params)


#: Rows that fail today, each for a stated reason (also in the README's "Known gaps"). Any other
#: failing row fails this test; a listed row that starts passing should be removed from here.
KNOWN_FAILURES = {
    "pk.elacestrant.accumulation_ratio": "the label's 2-fold accumulation contradicts its own 30-50 h half-life for any "
    "absorption fast enough to give tmax 1-4 h",
    "pk.endoxifen.cmax_ss": "endoxifen is modelled as formed at tamoxifen's slow elimination rate (formation-limited), "
    "so its within-day swing is flat (Cmax 5.9 vs 8.6 ng/mL; trough and AUC match): the published 1.4-fold peak-to-trough "
    "ratio needs fast first-pass formation, which the one-depot model lacks (trials use weekly means)",
    "y537s_imlunestrant_regression": "imlunestrant's mouse exposure and unbound fraction at 10 mg/kg are not in any source "
    "here; at the calibrated fu 0.1 MCF7-Y537S tumours only slow (docs/xenograft.md: at fu 0.3 they regress)",
    "wt_elacestrant": "elacestrant's ERα affinity is a binding IC50 (48 nM) and its mouse dose an assumption",
    # ELAINE 1 (post-CDK4/6i, ESR1-mutant): no objective responses on either arm at the session-9 defaults
    **{f"trial.elaine1.{rid}": "no virtual patient responds (ORR 0 %% against %s): the ESR1-mutant clones double in ~30 days "
       "and every prior-AI patient's wild-type clones start partly escaped (population_prior_ai_adaptation: ERa down, "
       "growth-factor drive up), so lesions that grew on prior therapy stop at best (docs/trials.md)" % pub
       for rid, pub in (("orr_laso", "13.2 %"), ("orr_fulv", "2.9 %"))},
    # PALOMA-2's design (scenarios/trial_paloma2.yaml, beyond the seeds): selected on the letrozole arm's median PFS
    "trial.paloma2.orr_palbociclib": "palbociclib + letrozole ORR in measurable disease 62 % against 55.3 % (PI above it): "
    "per-cycle kinetics make the selected first-line patients' lesions shrink on the combination more often than in PALOMA-2",
    "trial.paloma2.cbr_palbociclib": "palbociclib + letrozole CBR 77 % against 84.9 %: the selection on the letrozole arm's "
    "PFS keeps fast-growing patients whose disease progresses before 24 weeks on either arm",
    # He et al. 2025 experiments held back from the time-course fit (chosen before fitting)
    "mcf7_timecourses.predict.E2020_abema500_7d_E2_10_nM_abemaciclib_500_nM": "abemaciclib at 500 nM (147 nM free) holds the "
    "model's cells (0.27x of the observed day-7 count) while these cells grew 2.8-fold: its KB CDK4/6 IC50s with the "
    "cellular shift learned on palbociclib and the assumed off-target CDK2 make it more potent than in this experiment",
    "mcf7_timecourses.predict.E2020_abema500_7d_E2_10_nM_no_drug": "this experiment's vehicle cells grew 36-fold in 7 days, "
    "faster than any fitted experiment's; the fitted division rate gives 17-fold",
    "mcf7_timecourses.predict.constant_palbo_4week_E2_10_nM_palbociclib_500_nM": "these cells grew 15-fold in 4 weeks on "
    "palbociclib 500 nM (0.21x), like the model's 375 nM, and 3.6-fold more by day 21 than the same condition in the fitted "
    "20190621 experiment (docs/calibration-mcf7.md: a batch potency shift on the steep part of the dose response)",
    # window-trial Ki67 (job trials-window-ki67) at the shipped per-cycle rates: each row's reason is its strict xfail
    # in tests/test_window_ki67.py::FAILS_AT_DEFAULT (docs/trials.md, 'Human proliferation: Ki67 in window trials')
    **{f"ki67.{rid}": "see tests/test_window_ki67.py::FAILS_AT_DEFAULT (2-week falls too small, tamoxifen's "
       "fall too small, 16-week falls just too large and too many tumours at CCCA on anastrozole alone)"
       for rid in ("impact.ki67_fall_2w_anastrozole", "impact.ki67_fall_2w_tamoxifen",
                   "z1031.ki67_fall_16w_anastrozole", "z1031.ki67_fall_16w_exemestane",
                   "neopalana.ccca_c1d1_anastrozole")},
}


@pytest.mark.slow
def test_every_shipped_scenario_and_every_scorecard_row_passes():
    """The main job: every shipped seed scenario runs and each quantitative claim passes."""
    from eralpha.validate import collect_scorecard

    card = collect_scorecard(progress=False)
    failed = card.rows[~card.rows["passed"]]
    assert len(card.rows) > 100
    unexpected = failed[~failed["id"].isin(KNOWN_FAILURES)]
    assert unexpected.empty, unexpected[["id", "target", "simulated"]].to_string()
    fixed = set(KNOWN_FAILURES) - set(failed["id"])
    assert not fixed, f"these rows pass now; remove them from KNOWN_FAILURES: {sorted(fixed)}"
