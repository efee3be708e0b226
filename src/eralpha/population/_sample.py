"""Virtual patients: covariates, metastatic lesions made of clones, and between-patient biology.

A patient's disease is a set of lesions (site, longest diameter, measurable or not); each lesion is
a mix of clone types — ESR1 wild type / Y537S / D538G, each CDK4/6-inhibitor sensitive or resistant
— and every clone grows by the same cell biology at the patient's own drug exposure. PIK3CA status
is truncal (every clone of a PIK3CA-mutant patient carries it). Lesion-to-lesion heterogeneity: each
lesion's clone shares scatter around the patient's on the logit scale.

``plausible=True`` draws the patient-level biology from the wide plausible-patient priors (uniform /
log-uniform over the knowledge base's ranges) that calibration then selects from (Allen 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from ._constants import human, population_value
from ._spec import SITES, VISCERAL_SITES, Eligibility, PopulationSpec

__all__ = ["Patients", "sample_patients", "CLONE_TYPES", "clone_type", "apply_eligibility"]

#: (ESR1 allele, CDK4/6-inhibitor resistant) of every clone type, in column order.
CLONE_TYPES: tuple[tuple[str, bool], ...] = tuple((v, r) for v in ("WT", "Y537S", "D538G") for r in (False, True))


def clone_type(variant: str, resistant: bool) -> str:
    return f"{variant}{'_R' if resistant else ''}"


@dataclass
class Patients:
    """Sampled patients: ``covariates`` (one row each), ``lesions`` (one row per lesion with clone
    shares ``f_<type>``), and patient-level biology arrays (``biology``: tpot_days, e2_factor, ...)."""

    covariates: pd.DataFrame
    lesions: pd.DataFrame
    biology: pd.DataFrame

    @property
    def n(self) -> int:
        return len(self.covariates)

    def take(self, idx) -> "Patients":
        """The patients at positions ``idx`` (renumbered 0..k-1, lesions following)."""
        idx = np.asarray(idx, dtype=int)
        remap = -np.ones(self.n, dtype=int)
        remap[idx] = np.arange(idx.size)
        order = np.argsort(remap[self.lesions["patient"].to_numpy()], kind="stable")
        les = self.lesions.iloc[order]
        les = les[remap[les["patient"].to_numpy()] >= 0].copy()
        # a patient taken twice (resampling) needs its lesions twice
        if len(np.unique(idx)) != idx.size:
            parts = []
            for new, old in enumerate(idx):
                p = self.lesions[self.lesions["patient"] == old].copy()
                p["patient"] = new
                parts.append(p)
            les = pd.concat(parts, ignore_index=True)
        else:
            les["patient"] = remap[les["patient"].to_numpy()]
            les = les.sort_values(["patient", "lesion"], kind="stable").reset_index(drop=True)
        cov = self.covariates.iloc[idx].reset_index(drop=True)
        cov["patient"] = np.arange(idx.size)
        bio = self.biology.iloc[idx].reset_index(drop=True)
        return Patients(cov, les, bio)


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lognormal(rng, median: float, cv: float, size) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, np.sqrt(np.log1p(cv**2)), size))


def _span(p) -> tuple[float, float]:
    """A prior's (low, high); a knowledge override sets one value, and then every patient has it (the draws are still
    made, so no other draw moves)."""
    return (p.low, p.high) if p.low is not None and p.high is not None else (p.value, p.value)


def sample_patients(spec: PopulationSpec, n: int, rng: np.random.Generator, *, plausible: bool = False) -> Patients:
    """``n`` patients from the declared joint distribution (before eligibility)."""
    if n < 1:
        raise InputError(f"cannot sample {n} patients", field="n", value=n, valid="n >= 1")
    pv = population_value
    lines = np.array(sorted(spec.line))
    line = rng.choice(lines, size=n, p=np.array([spec.line[k] for k in lines]))
    mean_line = float(np.sum(lines * np.array([spec.line[k] for k in lines])))
    prior_ai = rng.random(n) < spec.prior_ai
    prior_cdk = rng.random(n) < spec.prior_cdk46i
    cdk_months = np.where(prior_cdk, _lognormal(rng, spec.prior_cdk46i_months_median, spec.prior_cdk46i_months_cv, n), 0.0)
    prior_fulv = rng.random(n) < spec.prior_fulvestrant
    prior_chemo = rng.random(n) < np.clip(spec.prior_chemo * line / max(mean_line, 1.0), 0, 1)
    # ESR1: odds raised after prior AI (acquired under oestrogen deprivation)
    base_odds = spec.esr1_mutant / max(1e-12, 1 - spec.esr1_mutant) if spec.esr1_mutant < 1 else np.inf
    odds = np.where(prior_ai, base_odds * spec.esr1_odds_ratio_prior_ai, base_odds)
    p_mut = np.where(np.isinf(odds), 1.0, odds / (1 + odds)) if spec.esr1_mutant < 1 else np.ones(n)
    esr1_mut = rng.random(n) < p_mut
    y_share, poly = pv("y537s_share").value, pv("polyclonal_esr1").value
    u = rng.random(n)
    variant = np.where(~esr1_mut, "none", np.where(u < poly, "both", np.where(rng.random(n) < y_share, "Y537S", "D538G")))
    p_pik = spec.pik3ca_mutant if spec.pik3ca_mutant is not None else pv("pik3ca_mutant").value
    pik3ca = rng.random(n) < p_pik
    visceral = rng.random(n) < spec.visceral
    bone_only = ~visceral & (rng.random(n) < spec.bone_only_given_nonvisceral)
    lesions_mean = spec.lesions_mean or pv("lesions_mean").value
    n_les = 1 + rng.poisson(lesions_mean - 1.0, n)
    age = np.clip(rng.normal(spec.age_median or pv("age_median").value, pv("age_sd").value, n), 25, 90)
    weight = _lognormal(rng, pv("weight_median").value, pv("weight_cv").value, n)

    # ---- lesions: sites respect visceral / bone-only; diameters log-normal ----------------------
    w = {s: pv(f"site_{s}").value for s in SITES}
    if spec.exclude_brain:
        w["brain"] = 0.0
    nonvisc = [s for s in SITES if s not in VISCERAL_SITES]
    d_med, d_cv = pv("diameter_median").value, pv("diameter_cv").value
    # every lesion's site drawn at once from its patient's allowed sites (visceral: all; else non-visceral)
    pid = np.repeat(np.arange(n), n_les)
    L = pid.size
    site_ix = {s: i for i, s in enumerate(SITES)}
    p_all = np.array([w[s] for s in SITES])
    p_nonv = np.array([w[s] if s in nonvisc else 0.0 for s in SITES])
    cum_all, cum_nonv = np.cumsum(p_all / p_all.sum()), np.cumsum(p_nonv / p_nonv.sum())
    u = rng.random(L)
    site = np.where(visceral[pid], np.searchsorted(cum_all, u, side="right"), np.searchsorted(cum_nonv, u, side="right"))
    site = np.minimum(site, len(SITES) - 1)
    site = np.where(bone_only[pid], site_ix["bone"], site)
    first = np.concatenate([[0], np.cumsum(n_les)[:-1]])
    is_visc = np.isin(site, [site_ix[s] for s in VISCERAL_SITES])
    any_visc = np.zeros(n, dtype=bool)
    np.logical_or.at(any_visc, pid, is_visc)
    all_bone = np.ones(n, dtype=bool)
    np.logical_and.at(all_bone, pid, site == site_ix["bone"])
    pv_ = np.array([w[s] for s in VISCERAL_SITES])
    visc_pick = np.array([site_ix[s] for s in VISCERAL_SITES])[np.searchsorted(np.cumsum(pv_ / pv_.sum()), rng.random(n), side="right").clip(0, len(pv_) - 1)]
    other_pick = np.where(rng.random(n) < 0.5, site_ix["lymph_node"], site_ix["soft_tissue"])
    fix_v = visceral & ~any_visc  # visceral disease needs a visceral lesion
    fix_b = ~visceral & ~bone_only & all_bone  # not bone-only, so something else
    site[first[fix_v]] = visc_pick[fix_v]
    site[first[fix_b]] = other_pick[fix_b]
    lesion = np.arange(L) - first[pid]
    les = pd.DataFrame({"patient": pid, "lesion": lesion, "site": np.array(SITES)[site]})
    les["diameter_mm"] = _lognormal(rng, d_med, d_cv, L)
    # RECIST 1.1: >= 10 mm (nodes >= 15 mm short axis); lytic bone without soft-tissue mass is not measurable
    limit = np.where(les["site"] == "lymph_node", 15.0, 10.0)
    les["measurable"] = (les["diameter_mm"] >= limit) & (les["site"] != "bone")

    # ---- patient-level biology -----------------------------------------------------------------
    tp = human("potential_doubling_time")
    tp_low, tp_high = _span(tp)
    if plausible:
        tpot = np.exp(rng.uniform(np.log(tp_low), np.log(tp_high), n))
    else:
        tpot = tp.value * np.exp(rng.normal(0.0, np.log(tp_high / tp_low) / 4.0, n))
    fm, fr = pv("esr1_mutant_clone_fraction"), pv("cdk46i_resistant_fraction")
    mut_frac = np.where(esr1_mut, rng.uniform(*_span(fm), n), 0.0)
    res_frac = np.where(prior_cdk, rng.uniform(*_span(fr), n), 0.0)
    e2_factor = _lognormal(rng, 1.0, human("e2_cv").value, n)
    new_lesion_e = rng.exponential(1.0, n)  # the patient's own threshold of the new-lesion cumulative hazard

    # ---- clone shares per lesion (patient share scattered per lesion on the logit scale) ---------
    sd_l = pv("lesion_logit_sd").value
    m_l = np.where(mut_frac[pid] > 0, _expit(_logit(mut_frac[pid]) + rng.normal(0, sd_l, L)), 0.0)
    r_l = np.where(res_frac[pid] > 0, _expit(_logit(res_frac[pid]) + rng.normal(0, sd_l, L)), 0.0)
    var_l = variant[pid]
    y_of_mut = np.where(var_l == "Y537S", 1.0, np.where(var_l == "D538G", 0.0, rng.uniform(0.2, 0.8, L)))
    allele = {"WT": 1 - m_l, "Y537S": m_l * y_of_mut, "D538G": m_l * (1 - y_of_mut)}
    for v, r in CLONE_TYPES:
        les[f"f_{clone_type(v, r)}"] = allele[v] * (r_l if r else 1 - r_l)

    # baseline sum of diameters: the (up to) five largest measurable lesions of each patient
    pid_all = les["patient"].to_numpy()
    meas = les["measurable"].to_numpy()
    order = np.lexsort((-les["diameter_mm"].to_numpy(), pid_all))
    rank = np.empty(L, dtype=int)
    m_sorted = meas[order]
    p_sorted = pid_all[order]
    # rank among the patient's measurable lesions (cumulative count within patient)
    cnt = np.cumsum(m_sorted)
    first = np.searchsorted(p_sorted, p_sorted, side="left")
    before = np.where(first > 0, cnt[first - 1], 0)
    rank[order] = np.where(m_sorted, cnt - before - 1, 10**9)
    meas_sum = np.zeros(n)
    top = meas & (rank < 5)
    np.add.at(meas_sum, pid_all[top], les["diameter_mm"].to_numpy()[top])
    has_brain = np.zeros(n, dtype=bool)
    np.logical_or.at(has_brain, pid_all, (les["site"] == "brain").to_numpy())
    has_meas = np.zeros(n, dtype=bool)
    np.logical_or.at(has_meas, pid_all, meas)
    cov = pd.DataFrame({
        "patient": np.arange(n), "age": age, "weight_kg": weight, "line": line,
        "prior_ai": prior_ai, "prior_cdk46i": prior_cdk, "prior_cdk46i_months": cdk_months,
        "prior_fulvestrant": prior_fulv, "prior_chemo": prior_chemo,
        "esr1": np.where(esr1_mut, "mutant", "not_detected"), "esr1_variant": variant,
        "pik3ca": np.where(pik3ca, "mutant", "WT"), "visceral": visceral, "bone_only": bone_only,
        "n_lesions": n_les, "brain": has_brain, "measurable": has_meas, "baseline_sld_mm": meas_sum,
    })
    # occult deposits (new lesions that must grow, human_new_lesion_model 1): drawn last, so no earlier draw moves
    od = pv("occult_deposits")
    occult = np.exp(rng.uniform(*np.log(_span(od)), n))
    # the patient's own cell loss (net growth at a given proliferation), around human_cell_loss_scale by a factor of
    # up to human_cell_loss_spread (1: every patient alike); drawn after every other draw, so none of them moves
    spread = np.log(human("cell_loss_spread").value)
    loss_z = rng.uniform(-1.0, 1.0, n) if plausible else np.clip(rng.normal(0.0, 0.5, n), -1.0, 1.0)
    # escape from oestrogen deprivation already reached on a prior aromatase inhibitor (human_tumour_adaptation 1)
    pa = pv("prior_ai_adaptation")
    adaptation0 = np.where(prior_ai, rng.uniform(*_span(pa), n), 0.0)
    bio = pd.DataFrame({"tpot_days": tpot, "esr1_mutant_fraction": mut_frac, "cdk46i_resistant_fraction": res_frac,
                        "e2_factor": e2_factor, "new_lesion_e": new_lesion_e, "occult_deposits": occult,
                        "cell_loss_factor": np.exp(spread * loss_z), "adaptation0": adaptation0})
    return Patients(cov, les, bio)


def apply_eligibility(patients: Patients, elig: Eligibility, *, file: str | None = None) -> np.ndarray:
    """Positions of the eligible patients; an error naming the criterion if it admits no one."""
    c = patients.covariates
    keep = np.ones(len(c), dtype=bool)
    checks = []
    if elig.esr1 != "any":
        checks.append(("esr1", c["esr1"].to_numpy() == elig.esr1))
    for name in ("prior_cdk46i", "prior_ai", "prior_fulvestrant", "prior_chemo"):
        want = getattr(elig, name)
        if want is not None:
            checks.append((name, c[name].to_numpy() == want))
    if elig.max_line is not None:
        checks.append(("max_line", c["line"].to_numpy() <= elig.max_line))
    if elig.min_line is not None:
        checks.append(("min_line", c["line"].to_numpy() >= elig.min_line))
    if elig.measurable_disease:
        checks.append(("measurable_disease", c["measurable"].to_numpy()))
    if not elig.brain_metastases:
        checks.append(("brain_metastases", ~c["brain"].to_numpy()))
    checks.append(("min_age", c["age"].to_numpy() >= elig.min_age))
    checks.append(("max_age", c["age"].to_numpy() <= elig.max_age))
    for name, ok in checks:
        if not ok.any() or not (keep & ok).any():
            raise InputError(
                f"eligibility admits no one: no sampled patient meets '{name}' together with the criteria before it",
                file=file, field=f"eligibility.{name}", value=getattr(elig, name),
                valid="a criterion the population can meet (check the population's probabilities, e.g. esr1_mutant > 0)")
        keep &= ok
    return np.flatnonzero(keep)
