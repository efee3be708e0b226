"""a typical/slow ELAINE 1 patient's clones under each arm: fold of every clone type over time (grid of Tpot x adaptation0)"""
import json, sys, pickle, itertools, numpy as np, pandas as pd
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 60); pd.set_option("display.max_rows", 200)
from eralpha.knowledge import knowledge_overrides
from eralpha.trials._schema import load_trial_scenario
from eralpha.trials._run import simulation_days
from eralpha.trials._simulate import arm_regimen, simulate_arm
from eralpha.population import CLONE_TYPES
ov = json.loads(sys.argv[1])
d = pickle.load(open("/tmp/orr9/pool_elaine1.pkl", "rb")); pool = d["pool"]
# one template patient (a 'both' variant patient has every clone type), repeated over the grid
tmpl = int(np.flatnonzero(pool.covariates["esr1_variant"].to_numpy() == "both")[0])
grid = list(itertools.product([12.65, 26.3, 39.0], [0.05, 0.33, 0.9]))
P = pool.take([tmpl] * len(grid))
P.biology["tpot_days"] = [g[0] for g in grid]; P.biology["adaptation0"] = [g[1] for g in grid]
P.biology["e2_factor"] = 1.0; P.biology["cell_loss_factor"] = 1.0
P.covariates["pik3ca"] = "WT"
with knowledge_overrides(ov, origin="sensitivity"):
    s = load_trial_scenario("scenarios/trial_elaine1.yaml")
    days = simulation_days(s)
    rows = []
    for a in s.arms:
        name, _, drugs = a.options[0]
        traj = simulate_arm(arm_regimen(name, drugs, s.design.follow_up), P, days, seed=s.seed)
        tidx = traj.type_index()
        for p, (tp, a0) in enumerate(grid):
            for k, (v, r) in enumerate(CLONE_TYPES):
                m = tidx[p, k]
                if m < 0 or r: continue
                f = traj.fold[m]
                at = lambda w: f[np.searchsorted(days, w * 7.0)]
                rows.append({"arm": a.name, "tpot": tp, "adapt0": a0, "clone": v, "f8w": at(8), "f16w": at(16), "f24w": at(24),
                             "min_fold": f[days <= 24 * 7].min(), "min_diam_pct": 100 * (f[days <= 24 * 7].min() ** (1 / 3) - 1)})
    df = pd.DataFrame(rows)
    print(df.round(3).to_string(index=False))
