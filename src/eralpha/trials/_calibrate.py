"""Plausible patients and virtual-patient selection on a control arm (Allen et al. 2016, CPT Pharmacometrics Syst Pharmacol 5:140; Rieger et al. 2018, Prog Biophys Mol Biol 139:15).

Procedure (documented in docs/trials.md):

1. Draw ``calibration.plausible`` eligible *plausible* patients: covariates from the declared
   population, patient-level biology (potential doubling time, ESR1-mutant and CDK4/6i-resistant
   clone shares) from wide priors (log-uniform / uniform over the knowledge base's ranges).
2. Give every plausible patient the control regimen and read its PFS at full follow-up, on the
   trial's scan schedule (PD at scan j, or none by the end of follow-up).
3. Target: the published control median PFS with an exponential PFS distribution (the usual
   assumption behind a reported median; Collett, Modelling Survival Data). Its probability of PD in
   each scan interval is compared with the plausible patients' share; each plausible patient is
   accepted with probability w_j / max(w), w_j = target share / plausible share of its interval
   (Allen 2016's acceptance step, on the trial's discrete scan grid).
4. Reported: VP yield (accepted / plausible), the Kish effective sample size of the weights, and
   any target probability no plausible patient could cover.

Only the population is selected — the cell biology, PK and human scaling are untouched — and only
on the control arm, so every experimental arm's outcome (HR, ORR difference) is a prediction.
"""

from __future__ import annotations

import numpy as np

from ..engine._streams import member_draws
from ._simulate import arm_regimen

__all__ = ["select_virtual_patients", "acceptance_weights"]


def acceptance_weights(first_pd: np.ndarray, scan_days: np.ndarray, median_days: float) -> tuple[np.ndarray, dict]:
    """Per plausible patient: the acceptance weight of its PFS interval, and diagnostics."""
    S = len(scan_days)
    bucket = np.where(first_pd >= 0, first_pd, S)  # S = no progression by the end of follow-up
    lam = np.log(2.0) / median_days
    surv = np.exp(-lam * np.concatenate([[0.0], scan_days]))
    target = np.concatenate([surv[:-1] - surv[1:], [surv[-1]]])
    observed = np.bincount(bucket, minlength=S + 1) / bucket.size
    with np.errstate(divide="ignore", invalid="ignore"):
        w_bucket = np.where(observed > 0, target / observed, 0.0)
    w = w_bucket[bucket]
    uncovered = float(target[observed == 0].sum())
    ess = float(w.sum() ** 2 / np.sum(w**2)) if np.any(w > 0) else 0.0
    return w, {"target_share": target.tolist(), "plausible_share": observed.tolist(), "uncovered_target": uncovered,
               "effective_sample_size": ess}


def select_virtual_patients(s, pool_n: int, seed: int, reads_of):
    """(virtual-patient pool, calibration report, the pool's control-arm reads).

    ``reads_of(label, arm regimen, patients)`` simulates and reads patients (chunked, anywhere)."""
    from ._run import eligible_patients

    cal = s.calibration
    plausible = eligible_patients(s, cal.plausible, seed, plausible=True)
    scan_days = s.scan_days()
    reg = arm_regimen("calibration", cal.drugs, s.design.follow_up)
    reads = reads_of("calibration", reg, plausible)
    w, diag = acceptance_weights(reads.first_pd, scan_days, cal.median_pfs)
    # each plausible patient's acceptance draw is its own (keyed by uid): chunking cannot move it
    u = member_draws(seed, "vp-acceptance", plausible.covariates["uid"].to_numpy(), lambda rng, n: rng.random(n))
    accepted = np.flatnonzero(u < w / w.max())
    if accepted.size > pool_n:
        accepted = accepted[:pool_n]
    bio = plausible.biology.iloc[accepted]
    report = {
        "procedure": "plausible patients + acceptance on the control arm's PFS (Allen 2016), exponential target",
        "control_drugs": [f"{d.compound} {d.regimen}" for d in cal.drugs],
        "target_median_pfs_months": cal.median_pfs / 30.4375, "source": cal.source,
        "plausible": int(plausible.n), "accepted": int(accepted.size),
        "vp_yield": float(np.mean(u < w / w.max())), **diag,
        "selected_tpot_days_median": float(bio["tpot_days"].median()),
        "plausible_tpot_days_median": float(plausible.biology["tpot_days"].median()),
    }
    return plausible.take(accepted), report, reads.take(accepted)
