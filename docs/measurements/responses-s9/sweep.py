"""usage: sweep.py SCENARIO 'JSON list of [label, overrides, scenario-field-changes]'"""
import json, sys, time, dataclasses
import numpy as np
from eralpha.knowledge import knowledge_overrides
from eralpha.trials import run_trial
from eralpha.trials._schema import load_trial_scenario
scen = sys.argv[1]
for label, ov, sch in json.loads(sys.argv[2]):
    t0 = time.time()
    with knowledge_overrides(ov, origin="sensitivity"):
        s = load_trial_scenario(scen)
        if sch: s = s.model_copy(update=sch)
        r = run_trial(s)
    e = r.endpoints; c = r.endpoints.get("calibration") or {}
    f = lambda x: round(x, 3)
    arms = {a: dict(pfs=f(v["median_pfs_months"]), orr=f(v["orr"]), orr_pi=[f(x) for x in v["orr_pi"]], cbr=f(v["cbr"]), cbr_pi=[f(x) for x in v["cbr_pi"]]) for a, v in e["arms"].items()}
    hr = {k: f(v["hr"]) for k, v in e["comparisons"].items()}
    print(json.dumps({"label": label, "arms": arms, "hr": hr, "accepted": c.get("accepted"), "tpot_sel": f(c["selected_tpot_days_median"]) if c else None, "s": round(time.time() - t0)}))
    sys.stdout.flush()
