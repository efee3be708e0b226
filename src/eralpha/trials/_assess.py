"""Scans, RECIST 1.1 and progression for every patient of an arm (full follow-up; the design censors later).

Per patient and scan: each lesion's longest diameter (a sphere of its viable cells) read with
log-normal noise (below the detection limit: 0 mm); target lesions = up to 5 measurable lesions, at
most 2 per organ, largest first (RECIST 1.1); non-target disease read as unequivocal PD when its
volume has doubled from its nadir; a new lesion appears when the cumulative new-lesion hazard passes
the patient's own exponential threshold: by default (``human_new_lesion_model`` 0) rate x seeding
cells, integrated, seen at the next scan; opt-in (1) occult deposits below the detection limit, sizes
N(>x) ~ x^-beta, made of the patient's clone mix and grown by its clones' fold changes, so the expected
number seen by a scan is D (Gmax^beta - 1) / (2^beta - 1) (:func:`deposit_fold`). Per-visit responses come from :func:`eralpha.analysis.classify_sums` — the code that reads
a real trial's sums — and best overall response from :func:`eralpha.analysis.best_overall_response`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis._recist import classify_sums
from ..errors import InputError
from ..knowledge import load_knowledge
from ..population import CLONE_TYPES, Patients, human
from ._simulate import ArmTrajectories

__all__ = ["ArmReads", "read_scans", "select_targets", "noise_draws", "deposit_fold", "patient_clone_mix"]


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


def patient_clone_mix(patients: Patients, shares: np.ndarray) -> np.ndarray:
    """(patients, clone types) the mean over each patient's lesions of their clone shares (``shares``: lesions x
    clone types)."""
    pid = patients.lesions["patient"].to_numpy()
    mix = np.zeros((patients.n, shares.shape[1]))
    np.add.at(mix, pid, shares)
    return mix / np.maximum(np.bincount(pid, minlength=patients.n), 1)[:, None]


def deposit_fold(patients: Patients, traj: ArmTrajectories, shares: np.ndarray) -> np.ndarray:
    """(patients, days) fold change of each patient's occult deposits: the mean of its lesions' clone shares
    (``shares``, lesions x clone types, resistant types already merged where the arm has no CDK4/6i), each
    clone grown by the fold change its lesions use (plasma-exposed; no extra solve)."""
    P = patients.n
    mix = patient_clone_mix(patients, shares)
    tidx = traj.type_index()
    g = np.zeros((P, len(traj.days)))
    for k in range(shares.shape[1]):
        ok = (tidx[:, k] >= 0) & (mix[:, k] > 0)
        g[ok] += mix[ok, k, None] * traj.fold[tidx[ok, k]]
    return g


def _new_lesions(patients: Patients, traj: ArmTrajectories, shares: np.ndarray, seed_all: np.ndarray,
                 at: np.ndarray) -> np.ndarray:
    """(patients, scans incl. baseline) whether a new lesion has been seen by each scan: the cumulative
    hazard of ``human_new_lesion_model`` against the patient's own exponential threshold."""
    model = human("new_lesion_model").value
    if model == 0:  # seeding clock: rate x seeding cells, trapezoid on the simulated days
        days = traj.days
        cum = np.concatenate([np.zeros((patients.n, 1)), np.cumsum(0.5 * (seed_all[:, 1:] + seed_all[:, :-1]) * np.diff(days)[None, :], axis=1)], axis=1)
        hazard = cum[:, at] * human("new_lesion_rate").value
    elif model == 1:  # occult deposits, N(>x) ~ x^-beta, seen once grown past the detection size at a scan
        beta = human("occult_deposit_exponent").value
        gmax = np.maximum.accumulate(np.maximum(deposit_fold(patients, traj, shares)[:, at], 1.0), axis=1)
        hazard = patients.biology["occult_deposits"].to_numpy()[:, None] * (gmax**beta - 1.0) / (2.0**beta - 1.0)
    else:
        raise InputError(f"human_new_lesion_model = {model:g} is not a new-lesion model", field="human_new_lesion_model",
                         value=model, valid="0 (seeding clock) or 1 (occult deposits that must grow)")
    new = hazard >= patients.biology["new_lesion_e"].to_numpy()[:, None]
    new[:, 0] = False
    return new


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
    # when every viable cell seeds new lesions (the default) the trajectories share one array: seeding = burden
    seeds_are_cells = traj.seed_fold is traj.fold and traj.seed_fold_brain is traj.fold_brain
    cells = np.zeros((len(les), len(days)))
    seeding = None if seeds_are_cells else np.zeros((len(les), len(days)))
    for k in range(len(CLONE_TYPES)):
        m = tidx[:, k]
        ok = (m >= 0) & (shares[:, k] > 0)
        if not ok.any():
            continue
        n_k = (n0[ok] * shares[ok, k])[:, None]
        cells[ok] += n_k * np.where(brain[ok, None], traj.fold_brain[m[ok]], traj.fold[m[ok]])
        if seeding is not None:
            seeding[ok] += n_k * np.where(brain[ok, None], traj.seed_fold_brain[m[ok]], traj.seed_fold[m[ok]])
    P = patients.n
    burden_all = np.zeros((P, len(days)))
    np.add.at(burden_all, pid, cells)
    if seeding is None:
        seed_all = burden_all
    else:
        seed_all = np.zeros((P, len(days)))
        np.add.at(seed_all, pid, seeding)

    new = _new_lesions(patients, traj, shares, seed_all, at)

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
