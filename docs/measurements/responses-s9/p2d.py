import sys, json, numpy as np
from eralpha.knowledge import knowledge_overrides
from eralpha.trials import run_trial
from eralpha.trials._schema import load_trial_scenario
from eralpha.trials._scorecard import published_rows
for dropout in (0.01, 0.0):
    s = load_trial_scenario("scenarios/trial_paloma2.yaml")
    s = s.model_copy(update={"design": s.design.model_copy(update={"dropout": dropout})})
    r = run_trial(s)
    rows = published_rows(r)
    print("dropout", dropout, {x["id"].replace("paloma2.", ""): (round(x["simulated"], 3), x["passed"]) for x in rows})
    ap = r.tables["all_patients"]
    for arm, g in ap.groupby("arm"):
        nob = g[~g.clinical_benefit]
        print("  ", arm, "no benefit", round(1 - g.clinical_benefit.mean(), 3), "of which PFS event < 24 wk", round(((nob.event == 1) & (nob.pfs_months < 168 / 30.4375 + 0.25)).sum() / len(g), 3),
              "censored/NE before wk 24", round(((nob.event == 0)).sum() / len(g), 3), "death w/o PD", round(nob.death_without_progression.sum() / len(g), 3))
