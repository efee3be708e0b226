"""counterfactuals on the selected ELAINE 1 pool under lasofoxifene: pool-level confirmed-PR share among measurable patients"""
import json, sys, pickle, numpy as np
from eralpha.knowledge import knowledge_overrides
from eralpha.trials._schema import load_trial_scenario
from eralpha.trials._run import simulation_days, DEFAULT_CHUNK
from eralpha.trials._chunks import simulate_reads
from eralpha.trials._simulate import arm_regimen
from eralpha.analysis._recist import RecistRules, best_overall_response
d = pickle.load(open("/tmp/orr9/pool_elaine1.pkl", "rb")); base = d["pool"]
s = load_trial_scenario("scenarios/trial_elaine1.yaml"); days = simulation_days(s); sd = s.scan_days()
rules = RecistRules(confirm=True)
def orr(pool, ov={}):
    with knowledge_overrides(ov, origin="cf"):
        out = {}
        for a in s.arms:
            name, _, drugs = a.options[0]
            rd = simulate_reads(a.name, arm_regimen(name, drugs, s.design.follow_up), pool, days, sd, s.seed, chunk=DEFAULT_CHUNK)
            m = rd.measurable
            bor = np.array([best_overall_response(sd, list(rd.responses[p, 1:]), rules) for p in range(pool.n)])
            truth = (rd.burden / rd.burden[:, :1]) ** (1 / 3) - 1
            out[a.name] = dict(orr=round(float(np.isin(bor[m], ["PR", "CR"]).mean()), 3),
                               true_best_diam_pct=round(100 * float(truth[:, 1:].min()), 1),
                               share_true_le_m30=round(float((truth[:, 1:].min(axis=1) <= -0.3).mean()), 3))
        return out
def variant(f):
    p = base.take(np.arange(base.n)); L = p.lesions
    for c in [c for c in L.columns if c.startswith("f_")]: L[c] = 0.0
    L[f] = 1.0; return p
def bio(**kw):
    p = base.take(np.arange(base.n))
    for k, v in kw.items(): p.biology[k] = v
    return p
cases = {"as selected": (base, {}), "all lesions WT": (variant("f_WT"), {}), "all WT, adaptation0 0": (bio(adaptation0=0.0) if False else None, {}),
         }
allwt0 = variant("f_WT"); allwt0.biology["adaptation0"] = 0.0
allwt0_fast = variant("f_WT"); allwt0_fast.biology["adaptation0"] = 0.0; allwt0_fast.biology["tpot_days"] = 12.65
cases = {"as selected": (base, {}), "all lesions WT": (variant("f_WT"), {}), "all WT + adaptation0 0": (allwt0, {}),
         "all WT + adaptation0 0 + Tpot 12.65": (allwt0_fast, {}),
         "all WT + adaptation0 0 + Tpot 12.65 + senescent loss 1": (allwt0_fast, {"human_senescent_loss_share": 1.0}),
         "as selected + senescent loss 1": (base, {"human_senescent_loss_share": 1.0}),
         "adaptation0 0": (bio(adaptation0=0.0), {}), "Tpot 12.65": (bio(tpot_days=12.65), {})}
for k, (p, ov) in cases.items():
    print(k, json.dumps(orr(p, ov)))
