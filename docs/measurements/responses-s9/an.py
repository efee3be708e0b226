import pickle, sys, numpy as np, pandas as pd
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 60); pd.set_option("display.max_rows", 200)
d = pickle.load(open(sys.argv[1], "rb"))
pool, reads, cal = d["pool"], d["reads"], d["cal"]
if cal: print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in cal.items() if not isinstance(v, list)})
cov, bio = pool.covariates, pool.biology
print(bio.describe().T.round(3))
print(cov[["esr1_variant", "measurable", "visceral", "line"]].apply(lambda c: c.value_counts().to_dict()))
for arm, rd in reads.items():
    pc = rd.pct_change
    m = rd.measurable
    best = np.nanmin(np.where(np.arange(pc.shape[1])[None, :] >= 1, pc, np.nan), axis=1)
    print(arm, "measurable", m.sum(), "of", len(m), "best<=-30", np.sum(best <= -30), "PR visits per patient", (rd.responses == "PR").sum(axis=1)[best <= -30])
    truth = 100 * (rd.burden / rd.burden[:, :1]) ** (1/3) - 100  # true diameter change (approx, whole burden)
    print(" true-burden diameter change at scans 1..4, median", np.round(np.median(truth[:, 1:5], axis=0), 1), "min", np.round(truth[:, 1:5].min(axis=0), 1))
    print(" read pct change at scans 1..4 median", np.round(np.nanmedian(pc[:, 1:5], axis=0), 1), "min", np.round(np.nanmin(pc[:, 1:5], axis=0), 1))
    print(" first_pd scan index dist", np.bincount(rd.first_pd + 1)[:8])
