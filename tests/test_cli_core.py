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
    # after the cell-cycle rewrite (issue 9): G1 arrest and fates changed growth; the in-vivo retune
    # (knowledge/data/parameters/xenograft.yaml, proliferation_scale) kept all xenograft rows but these
    "proliferation.combination.Y537S.beats_either": "with the E2F switch, imlunestrant 1 nM alone already arrests most "
    "MCF7-Y537S cells over the 7-day plate; abemaciclib at its free medium level (fu_medium 0.29) adds nothing (-0.3 points)",
    # after the free medium concentration of CDK4/6 inhibitors (issue 8): abemaciclib's nominal cellular potency
    # is ~2-fold lower than with the shift fitted on nominal levels (fu_medium 0.29 vs palbociclib's 0.64)
    "proliferation.combination.WT.beats_either": "abemaciclib at its free medium level adds 4.2 points to imlunestrant in "
    "MCF7 plates, not >= 5",
    # He et al. 2025 experiments held back from the time-course fit (chosen before fitting)
    "mcf7_timecourses.predict.E2020_abema500_7d_E2_10_nM_abemaciclib_500_nM": "abemaciclib at 500 nM (147 nM free) holds the "
    "model's cells (0.27x of the observed day-7 count) while these cells grew 2.8-fold: its KB CDK4/6 IC50s with the "
    "cellular shift learned on palbociclib and the assumed off-target CDK2 make it more potent than in this experiment",
    "mcf7_timecourses.predict.E2020_abema500_7d_E2_10_nM_no_drug": "this experiment's vehicle cells grew 36-fold in 7 days, "
    "faster than any fitted experiment's; the fitted division rate gives 17-fold",
    "mcf7_timecourses.predict.constant_palbo_4week_E2_10_nM_palbociclib_500_nM": "the cells escape palbociclib 500 nM over 4 "
    "weeks (15-fold) faster than the model's adaptive cyclin E-CDK2 route (0.21x of that)",
    # virtual trials (docs/trials.md, 'What the mechanism lacks')
    "trial.ember3.esr1m.pfs_median_imlu": "imlunestrant's human PK is a placeholder (pk.yaml; no numeric human PK was "
    "retrievable, docs/trials.md lists the sources searched): the published 5.5 months sits just below the model's 95 % "
    "interval (5.52-9.2, on the 8-week scan grid); a 4-fold lower free exposure would pass it, a 2-fold lower one not",
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
