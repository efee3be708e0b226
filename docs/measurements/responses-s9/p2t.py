import numpy as np, time
from eralpha.trials import run_trial
from eralpha.trials._schema import load_trial_scenario
t0 = time.time()
r = run_trial(load_trial_scenario("scenarios/trial_paloma2.yaml"))
ap = r.tables["all_patients"]
for arm, g in ap.groupby("arm"):
    m = g[g.measurable]
    nob = g[~g.clinical_benefit]
    print(arm, "n", len(g), "ORR", round(m.objective_response.mean(), 3), "best<=-30", round((m.best_pct_change <= -30).mean(), 3),
          "CBR", round(g.clinical_benefit.mean(), 3), "no-benefit BOR", nob.best_overall_response.value_counts().to_dict(),
          "no-benefit measurable w/ best<=-30:", round((nob[nob.measurable].best_pct_change <= -30).mean(), 3),
          "nonresponders measurable best<=-30:", round((m[~m.objective_response].best_pct_change <= -30).mean(), 3),
          "death w/o PD", int(g.death_without_progression.sum()), "pfs<5.5mo", round(((g.pfs_months < 24*7/30.4375) & (g.event == 1)).mean(), 3))
print(round(time.time() - t0), "s")
