import pickle, sys, numpy as np, pandas as pd
pd.set_option("display.width", 250)
d = pickle.load(open(sys.argv[1], "rb")); pool, reads, cal = d["pool"], d["reads"], d["cal"]
sd = d["scan_days"]
print("accepted", cal["accepted"], "tpot sel", round(cal["selected_tpot_days_median"], 1), "plausible", round(cal["plausible_tpot_days_median"], 1), "scan days", sd[:4])
bio = pool.biology; cov = pool.covariates
for arm, rd in reads.items():
    m = rd.measurable
    pc = rd.pct_change
    sums = rd.sums
    nadir = np.minimum.accumulate(sums, axis=1)
    fp = rd.first_pd
    early = (fp >= 0) & (fp <= 1)  # PD at week 12 or 24: no clinical benefit
    # cause of the first PD: target growth >= 20 % over nadir (and >= 5 mm) or other (new lesion / non-target)
    cause = np.full(len(fp), "", dtype=object)
    for p in np.flatnonzero(fp >= 0):
        j = fp[p] + 1
        tg = m[p] and sums[p, j] >= 1.2 * nadir[p, j - 1] and sums[p, j] - nadir[p, j - 1] >= 5
        cause[p] = "target" if tg else "new/nontarget"
    best = np.nanmin(np.where(np.arange(pc.shape[1])[None, :] >= 1, pc, np.nan), axis=1)
    resp = (rd.responses[:, 1:] == "PR") | (rd.responses[:, 1:] == "CR")
    print(f"== {arm}: n {len(fp)}, measurable {m.sum()}, PD by wk24 {early.mean():.3f} (scan1 {(fp==0).mean():.3f}, scan2 {(fp==1).mean():.3f})")
    print("  cause of PD by wk24:", pd.Series(cause[early]).value_counts().to_dict(), " of which measurable:", m[early].sum())
    print("  PR/CR at >=1 scan among measurable:", round(resp[m].any(axis=1).mean(), 3), " best <= -30 %:", round(np.mean(best[m] <= -30), 3),
          " best median", round(np.nanmedian(best[m]), 1))
    print("  early-PD patients: tpot median", round(bio.tpot_days[early].median(), 1), "vs rest", round(bio.tpot_days[~early].median(), 1),
          "| cdk46i_R frac", round(bio.cdk46i_resistant_fraction[early].median(), 3), "vs", round(bio.cdk46i_resistant_fraction[~early].median(), 3),
          "| esr1 mutant", cov.esr1[early].value_counts().to_dict(), "| bone_only", cov.bone_only[early].mean().round(3), "vs", cov.bone_only[~early].mean().round(3))
    print("  occult/new_lesion_e early", round(bio.new_lesion_e[early].median(), 3), "vs", round(bio.new_lesion_e[~early].median(), 3), " occult", round(bio.occult_deposits[early].median(), 2), round(bio.occult_deposits[~early].median(), 2))
    # burden truth at the first PD of early-PD patients with new/nontarget cause
    nl = early & (cause == "new/nontarget")
    print("  new/nontarget early PD: true burden fold at PD scan median", round(np.median(rd.burden[nl, fp[nl] + 1] / rd.burden[nl, 0]), 3) if nl.any() else None)
    print("  first PD scan distribution", np.bincount(fp[fp >= 0])[:10], "none", (fp < 0).sum())
