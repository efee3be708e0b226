"""share of first progressions (pool, full follow-up) that come with target growth (>= 20 % and 5 mm over nadir) vs only new lesions / non-target"""
import pickle, sys, numpy as np
for pk in sys.argv[1:]:
    d = pickle.load(open(pk, "rb"))
    for arm, rd in d["reads"].items():
        fp, m, sums = rd.first_pd, rd.measurable, rd.sums
        nadir = np.minimum.accumulate(sums, axis=1)
        pdp = np.flatnonzero(fp >= 0)
        tg = np.array([m[p] and sums[p, fp[p] + 1] >= 1.2 * nadir[p, fp[p]] and sums[p, fp[p] + 1] - nadir[p, fp[p]] >= 5 for p in pdp])
        print(pk.split("/")[-1], arm, "PDs", pdp.size, "with target growth", round(tg.mean(), 3), "measurable PDs with target growth", round(tg[m[pdp]].mean(), 3))
