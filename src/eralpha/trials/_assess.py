"""Scans, RECIST 1.1 and progression for every patient of an arm (full follow-up; the design censors later).

Per patient and scan: each lesion's longest diameter (a sphere of its viable cells) read with
log-normal noise (below the detection limit: 0 mm); target lesions = up to 5 measurable lesions, at
most 2 per organ, largest first (RECIST 1.1); non-target disease read as unequivocal PD when its
volume has doubled from its nadir; a new lesion appears when the cumulative new-lesion hazard
(rate x viable cells, integrated) passes the patient's own exponential threshold, and is seen at the
next scan. Per-visit responses come from :func:`eralpha.analysis.classify_sums` — the code that reads
a real trial's sums — and best overall response from :func:`eralpha.analysis.best_overall_response`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis._recist import classify_sums
from ..knowledge import load_knowledge
from ..population import CLONE_TYPES, Patients, human
from ._simulate import ArmTrajectories

__all__ = ["ArmReads", "read_scans", "select_targets", "noise_draws"]


def select_targets(lesions: pd.DataFrame) -> np.ndarray:
    """Boolean per lesion: a RECIST target (<= 5 measurable, <= 2 per organ, largest first)."""
    target = np.zeros(len(lesions), dtype=bool)
    order = lesions.sort_values(["patient", "diameter_mm"], ascending=[True, False], kind="stable")
    counts: dict[int, int] = {}
    per_organ: dict[tuple[int, str], int] = {}
    for i, (p, site, meas) in zip(order.index, order[["patient", "site", "measurable"]].itertuples(index=False)):
        if not meas or counts.get(p, 0) >= 5 or per_organ.get((p, site), 0) >= 2:
            continue
        target[i] = True
        counts[p] = counts.get(p, 0) + 1
        per_organ[(p, site)] = per_organ.get((p, site), 0) + 1
    return target


def noise_draws(patients: Patients, n_scans: int, seed: int) -> np.ndarray:
    """(lesions, scans incl. baseline) standard-normal reading noise: each patient's own stream (keyed
    by its uid), so it is the same in every arm (paired) and whichever set the patient is part of."""
    out = np.empty((len(patients.lesions), n_scans))
    les_patient = patients.lesions["patient"].to_numpy()
    uid = patients.covariates["uid"].to_numpy()
    starts = np.searchsorted(les_patient, np.arange(patients.n))
    counts = np.bincount(les_patient, minlength=patients.n)
    for p in range(patients.n):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 7, int(uid[p])]))
        out[starts[p]: starts[p] + counts[p]] = rng.standard_normal((counts[p], n_scans))
    return out


@dataclass
class ArmReads:
    """Every patient's scan series under one arm (scan 0 = baseline)."""

    scan_days: np.ndarray  # (S,) follow-up scan days (baseline excluded)
    sums: np.ndarray  # (P, S + 1) sum of target diameters read (mm); 1 for patients without targets
    responses: np.ndarray  # (P, S + 1) 'BL', CR, PR, SD, PD
    pct_change: np.ndarray  # (P, S + 1) % change of the target sum from baseline (NaN without targets)
    measurable: np.ndarray  # (P,) has a target lesion
    first_pd: np.ndarray  # (P,) index into scan_days of the first PD, -1 if none
    burden: np.ndarray  # (P, S + 1) viable tumour cells (truth)

    def take(self, idx) -> "ArmReads":
        idx = np.asarray(idx, dtype=int)
        return ArmReads(self.scan_days, self.sums[idx], self.responses[idx], self.pct_change[idx],
                        self.measurable[idx], self.first_pd[idx], self.burden[idx])


def read_scans(patients: Patients, traj: ArmTrajectories, scan_days: np.ndarray, noise: np.ndarray) -> ArmReads:
    les = patients.lesions
    days = traj.days
    at = np.searchsorted(days, np.concatenate([[0.0], scan_days]))
    if not np.allclose(days[at], np.concatenate([[0.0], scan_days])):
        raise ValueError("scan days must be among the simulated days")
    rho = load_knowledge().parameter("cells_per_mm3").value  # the tumour model's own density
    pid = les["patient"].to_numpy()
    brain = (les["site"] == "brain").to_numpy()
    n0 = np.pi / 6.0 * les["diameter_mm"].to_numpy() ** 3 * rho  # cells at baseline
    tidx = traj.type_index()[pid]  # (L, K)
    shares = np.stack([les[f"f_{v}{'_R' if r else ''}"].to_numpy() for v, r in CLONE_TYPES], axis=1)
    # without a CDK4/6 inhibitor in the arm the resistant types were merged into the sensitive ones
    for k, (v, r) in enumerate(CLONE_TYPES):
        if r:
            merged = tidx[:, k] < 0
            shares[merged, k - 1] += shares[merged, k]
            shares[merged, k] = 0.0
    cells = np.zeros((len(les), len(days)))
    seeding = np.zeros((len(les), len(days)))
    for k in range(len(CLONE_TYPES)):
        m = tidx[:, k]
        ok = (m >= 0) & (shares[:, k] > 0)
        if not ok.any():
            continue
        n_k = (n0[ok] * shares[ok, k])[:, None]
        cells[ok] += n_k * np.where(brain[ok, None], traj.fold_brain[m[ok]], traj.fold[m[ok]])
        seeding[ok] += n_k * np.where(brain[ok, None], traj.seed_fold_brain[m[ok]], traj.seed_fold[m[ok]])
    P = patients.n
    burden_all = np.zeros((P, len(days)))
    np.add.at(burden_all, pid, cells)
    seed_all = np.zeros((P, len(days)))
    np.add.at(seed_all, pid, seeding)

    # new lesions: cumulative hazard rate x seeding cells, trapezoid on the simulated days
    rate = human("new_lesion_rate").value
    cum = np.concatenate([np.zeros((P, 1)), np.cumsum(0.5 * (seed_all[:, 1:] + seed_all[:, :-1]) * np.diff(days)[None, :], axis=1)], axis=1) * rate
    new = cum[:, at] >= patients.biology["new_lesion_e"].to_numpy()[:, None]
    new[:, 0] = False

    # reads: diameter of a sphere, log-normal noise, detection limit
    cv = human("measurement_cv").value
    sd = np.sqrt(np.log1p(cv**2))
    true_d = (6.0 * cells[:, at] / (np.pi * rho)) ** (1.0 / 3.0)
    read = true_d * np.exp(sd * noise[:, : len(at)] - 0.5 * sd**2)
    read = np.where(read < human("detection_limit_mm").value, 0.0, read)
    target = select_targets(les)
    node = (les["site"] == "lymph_node").to_numpy()
    sums = np.zeros((P, len(at)))
    np.add.at(sums, pid[target], read[target])
    # CR: every target gone (nodes < 10 mm short axis)
    not_cr = np.zeros((P, len(at)), dtype=bool)
    np.logical_or.at(not_cr, pid[target], np.where(node[target, None], read[target] >= 10.0, read[target] > 0.0))
    measurable = np.zeros(P, dtype=bool)
    measurable[pid[target]] = True
    # non-target disease: present while any is seen; unequivocal PD when its volume doubles from nadir
    nt = ~target
    nt_vol = np.zeros((P, len(at)))
    np.add.at(nt_vol, pid[nt], read[nt] ** 3)
    has_nt = np.zeros(P, dtype=bool)
    has_nt[pid[nt]] = True
    nt_present = nt_vol > 0
    nadir = np.minimum.accumulate(nt_vol, axis=1)
    prior_nadir = np.concatenate([nt_vol[:, :1], nadir[:, :-1]], axis=1)
    ratio = human("nontarget_pd_volume_ratio").value
    nt_pd = has_nt[:, None] & (nt_vol >= ratio * np.maximum(prior_nadir, 1e-9)) & (nt_vol > 0)
    nt_pd[:, 0] = False

    s = np.where(measurable[:, None], sums, 1.0)  # no target lesion: the target sum never changes
    target_cr = np.where(measurable[:, None], ~not_cr, False)
    resp = classify_sums(s, target_cr=target_cr, new_lesion=new, nontarget_pd=nt_pd,
                         nontarget_present=nt_present | ~measurable[:, None])
    is_pd = resp[:, 1:] == "PD"
    first_pd = np.where(is_pd.any(axis=1), is_pd.argmax(axis=1), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(measurable[:, None], 100.0 * (sums - sums[:, :1]) / sums[:, :1], np.nan)
    return ArmReads(np.asarray(scan_days), s, resp, pct, measurable, first_pd, burden_all[:, at])
