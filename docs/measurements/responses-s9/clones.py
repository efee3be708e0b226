"""per-clone fold changes of the ELAINE 1 pool under each arm at 8/16/24 weeks"""
import json, sys, pickle, numpy as np, pandas as pd
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 60); pd.set_option("display.max_rows", 200)
from eralpha.knowledge import knowledge_overrides
from eralpha.trials._schema import load_trial_scenario
from eralpha.trials._run import simulation_days
from eralpha.trials._simulate import arm_regimen, simulate_arm
from eralpha.population import CLONE_TYPES
ov = json.loads(sys.argv[1]); pk = sys.argv[2]
scen = sys.argv[3] if len(sys.argv) > 3 else "scenarios/trial_elaine1.yaml"
d = pickle.load(open(pk, "rb")); pool = d["pool"]
with knowledge_overrides(ov, origin="sensitivity"):
    s = load_trial_scenario(scen)
    days = simulation_days(s)
    for a in s.arms:
        name, _, drugs = a.options[0]
        traj = simulate_arm(arm_regimen(name, drugs, s.design.follow_up), pool, days, seed=s.seed)
        tidx = traj.type_index()
        rows = []
        at = [np.searchsorted(days, w * 7.0) for w in (8, 16, 24)]
        for p in range(pool.n):
            for k, (v, r) in enumerate(CLONE_TYPES):
                m = tidx[p, k]
                if m < 0: continue
                rows.append({"p": p, "clone": v + ("_R" if r else ""), **{f"fold{w}w": traj.fold[m, i] for w, i in zip((8, 16, 24), at)}})
        df = pd.DataFrame(rows)
        bio = pool.biology.reset_index(drop=True)
        df = df.join(bio[["tpot_days", "adaptation0", "esr1_mutant_fraction", "cdk46i_resistant_fraction"]], on="p")
        df["variant"] = pool.covariates["esr1_variant"].to_numpy()[df.p]
        print("==", a.name)
        print(df.groupby("clone")[["fold8w", "fold16w", "fold24w"]].describe(percentiles=[.1, .5, .9]).round(2).T)
        df["tpot_bin"] = pd.cut(df.tpot_days, [0, 15, 25, 32, 45])
        print(df.groupby(["clone", "tpot_bin"], observed=True)["fold16w"].agg(["count", "median", "min"]).round(2))
        df.to_csv(f"/tmp/orr9/clones_{a.name}.csv", index=False)
