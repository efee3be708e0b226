"""usage: measure.py 'JSON overrides' [--no-window] [--no-first]"""
import json, sys, time
sys.path.insert(0, "tests")
from eralpha.knowledge import knowledge_overrides
from eralpha.trials._scorecard import trial_scorecard_rows
from eralpha.trials import window_checks, run_trial
from eralpha.scenario import load_scenario

ov = json.loads(sys.argv[1])
t0 = time.time()
out = {"overrides": ov}
with knowledge_overrides(ov, origin="sensitivity"):
    rows = trial_scorecard_rows()
    out["rows"] = f"{sum(r['passed'] for r in rows)}/{len(rows)}"
    out["failing"] = {r["id"].replace("trial.", ""): (round(r["simulated"], 3), r["target"]) for r in rows if not r["passed"]}
    out["paloma2"] = {r["id"].replace("trial.paloma2.", ""): round(r["simulated"], 3) for r in rows if "paloma2" in r["id"]}
    if "--no-window" not in sys.argv:
        w = window_checks()
        out["ki67"] = f"{sum(r['passed'] for r in w)}/{len(w)}"
        out["ki67_fail"] = {r["id"]: (round(r["model"], 1), r.get("target")) for r in w if not r["passed"]}
    if "--no-first" not in sys.argv:
        r = run_trial(load_scenario("scenarios/trial_letrozole_palbociclib_first_line.yaml"), replicates=10, seed=20161117)
        e = r.endpoints
        out["first_line"] = {a: (round(v["median_pfs_months"], 2), round(v["orr"], 3)) for a, v in e["arms"].items()}
        out["first_line_hr"] = {k: (round(v["hr"], 3), [round(x, 3) for x in v.get("hr_pi", [])]) for k, v in e["comparisons"].items()}
    try:
        from test_trials import _untreated_clone_doubling_days
        out["untreated_td"] = {v: round(_untreated_clone_doubling_days(v), 1) for v in ("WT", "Y537S", "D538G")}
    except Exception as ex:
        out["untreated_td"] = repr(ex)[:200]
out["seconds"] = round(time.time() - t0)
print(json.dumps(out, default=str, indent=1))
