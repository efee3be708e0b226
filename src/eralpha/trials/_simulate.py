"""The patient's tumour under an arm's regimen: one batched engine solve per (patient, clone type).

How the xenograft layer's model becomes a patient (same ``assemble_tumour_model``, same cell biology):

* **Human PK.** Each drug's plasma profile is computed per patient by the pk layer (the human model
  of pk.yaml with its between-subject variability, solved exactly between doses), and enters the
  tumour model as the window-mean free concentration: the model's ``plasma_<drug>`` species, with
  unit volume, unit free fraction and no clearance, holds the free nM, set by an exact engine event
  at the start of every exposure window (weekly for 16 weeks — loading phases — then every 4 weeks).
  Within-day fluctuation is averaged out; the tumour responds over weeks.
  A prodrug's active metabolites (pk.yaml ``formed_from``: tamoxifen -> endoxifen, 4-OHT) get their own
  profile from the parent's regimen and act on the receptor as ligands in their own right.
* **Oestradiol.** Postmenopausal plasma E2 (pk layer's baseline) x free fraction x the tumour-to-
  plasma ratio x the patient's own factor, times an aromatase inhibitor's residual (the pk layer's
  whole-body suppression at the regimen's dose) from day 0 when the arm gives one (the run-in is drug-free).
* **Human kinetics.** The maximal proliferation rate is ln2 / Tpot (the patient's potential doubling
  time); death keeps the xenograft layer's in-vivo ratio of cell loss to maximal proliferation (x
  ``human_cell_loss_scale``, calibrated on the untreated doubling of human breast cancers), and
  senescent cells die at ``human_senescent_loss_share`` of the basal loss (patient.yaml: 0.2, they
  persist as in the dish; the mice clear them at 1 — docs/trials-measurements.md measures both). The dish's fate
  rates (G1 arrest, release, senescence) and the xenograft layer's escape from oestrogen deprivation
  act per cell cycle (``human_fate_rate_exponent``, ``human_adaptation_rate_exponent``); a patient
  after an aromatase inhibitor starts partly escaped (its ``adaptation0``).
* **Clones.** A member's ERα allele mix (WT, WT+Y537S, WT+D538G) and CDK4/6-inhibitor shift are
  parameters; PIK3CA gain is the patient's. Growth is linear in cell number (carrying capacities far
  above any patient's burden), so one solve per clone type serves every lesion of the patient:
  lesion size = Σ clones (cells at baseline x that clone's fold change). Brain lesions use the model's
  brain copy of the cell biology at Kp,uu x free plasma exposure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..engine import Event, SolverOptions, compile_model, simulate
from ..knowledge import active_overrides, load_knowledge
from ..model._cell import ligand_id
from ..model._tumour import TumourContext, assemble_tumour_model
from ..pk import (PostmenopausalOestrogen, Regimen, metabolites_of, molecular_weight, oestrogen_suppression,
                  pk_model)
from ..engine._streams import member_draws
from ..errors import InputError
from ..pk._compartmental import AUC, PKParameters, sample_parameters, simulate_amounts
from ..population import CLONE_TYPES, Patients, clone_type, human

__all__ = ["ArmRegimen", "arm_regimen", "simulate_arm", "ArmTrajectories", "TEMPLATE_LINE", "exposure_windows",
           "tumour_compounds", "SOLVER", "WARMUP_DAYS", "arm_batch", "ArmBatch", "ExposurePlan", "exposure_plan",
           "lesion_clone_shares", "solve_members"]

TEMPLATE_LINE = "mBC-patient"
SOLVER = SolverOptions(rtol=1e-3, atol=1e-8, initial_step=1e-2)  # fold changes to 0.1 %: far below reading noise
WARMUP_DAYS = 28.0  # drug-free run-in so signalling sits at its pre-treatment steady state on day 0
_ALLELES = {"WT": {"WT": 1.0}, "Y537S": {"WT": 0.5, "Y537S": 0.5}, "D538G": {"WT": 0.5, "D538G": 0.5}}
_HUGE = 1e15  # carrying capacity far above any patient's burden: growth linear in cell number


def _is_aromatase_inhibitor(compound: str) -> bool:
    c = load_knowledge().compound(compound)
    return "CYP19A1" in c.inhibition and not c.er_binding


def _is_cdk46i(compound: str) -> bool:
    return "CDK4" in load_knowledge().compound(compound).inhibition


def tumour_compounds(compounds) -> tuple[str, ...]:
    """Species that act on the tumour cell: the drugs and their active metabolites (tamoxifen ->
    4-hydroxytamoxifen, endoxifen); aromatase inhibitors act on the host's oestradiol instead."""
    kb = load_knowledge()
    names = dict.fromkeys(kb.compound(c).name for c in compounds)
    names = dict.fromkeys(x for c in names for x in (c, *metabolites_of(c)))
    return tuple(c for c in names if not _is_aromatase_inhibitor(c))


def _dosed_as(compound: str) -> str:
    """The compound whose regimen gives ``compound``'s exposure: itself, or the parent of a metabolite."""
    parent = pk_model(compound, "human").formed_from
    return load_knowledge().compound(parent).name if parent else compound


@dataclass(frozen=True)
class ArmRegimen:
    """An arm's drugs as pk-layer regimens: (compound, regimen for most patients, reduced regimen, share reduced)."""

    name: str
    drugs: tuple[tuple[str, Regimen, Regimen | None, float], ...]

    @property
    def compounds(self) -> tuple[str, ...]:
        return tuple(c for c, *_ in self.drugs)

    @property
    def has_cdk46i(self) -> bool:
        return any(_is_cdk46i(c) for c in self.compounds)


def arm_regimen(name: str, drugs, horizon_days: float) -> ArmRegimen:
    """pk-layer regimens from an arm's drug specs (holds and reductions applied)."""
    kb = load_knowledge()
    out = []
    for i, d in enumerate(drugs):
        reg = Regimen.parse(d.regimen, until_day=int(np.ceil(horizon_days)) + 1,
                            field=f"{name}.drugs[{i}].regimen").stop(horizon_days)
        if d.hold is not None:
            reg = reg.hold(*d.hold)
        reduced = reg.reduce(d.reduce_to, d.reduce_from_day) if d.reduce_to else None
        out.append((kb.compound(d.compound).name, reg, reduced, d.reduce_fraction if reduced else 0.0))
    return ArmRegimen(name, tuple(out))


def exposure_windows(horizon_days: float) -> np.ndarray:
    """Window edges (days): weekly for 16 weeks (loading doses, PK build-up), then every 4 weeks."""
    edges = list(np.arange(0.0, min(112.0, horizon_days), 7.0))
    edges += list(np.arange(112.0, horizon_days, 28.0))
    return np.array(sorted(set(edges)) + [horizon_days])


def _patient_pk(pkm, compound: str, uid: np.ndarray, seed: int):
    """Each patient's PK parameters of a drug and its reduced-dose uniform, from the stream of
    (trial seed, drug, the patient's uid block): the same in every arm (paired arms) and every chunk."""
    names: list[str] = []

    def draw(rng, n):
        p = sample_parameters(pkm, 70.0, n, rng).as_dict()
        names[:] = list(p)
        return np.column_stack([*p.values(), rng.random(n)])

    x = member_draws(seed, f"pk:{compound}", uid, draw)
    return PKParameters(**{k: x[:, i] for i, k in enumerate(names)}), x[:, -1]


def _window_free_nM(compound: str, regimen: Regimen, patients: Patients, edges_days: np.ndarray, seed: int,
                    reduced: Regimen | None, reduced_share: float) -> np.ndarray:
    """(patients, windows) mean free concentration at the tumour cell: free plasma (exact, ΔAUC / Δt of the pk
    layer's solution) times the compound's ``tumour_to_plasma`` (pk.yaml; 1 where absent)."""
    pkm = pk_model(compound, "human")
    # who gets the reduced dose: the same patients in every arm giving this drug
    params, u = _patient_pk(pkm, compound, patients.covariates["uid"].to_numpy(), seed)
    fu = pkm.fraction_unbound_plasma.value if pkm.fraction_unbound_plasma else 1.0
    fu *= _tumour_to_plasma(compound)  # what the tumour cell sees, as for oestradiol (_free_e2_nM)
    nM_per_mg_L = 1e6 / molecular_weight(compound)
    times = edges_days * 24.0
    out = np.empty((patients.n, len(edges_days) - 1))
    groups = [(u >= reduced_share, regimen)] + ([(u < reduced_share, reduced)] if reduced is not None else [])
    for mask, reg in groups:
        if not mask.any():
            continue
        sub = type(params)(**{k: v[mask] for k, v in params.as_dict().items()})
        doses = [(e.time, e.dose.mg(70.0), e.route) for e in reg.events]
        auc = simulate_amounts(sub, doses, times)[:, :, AUC]  # mg·h/L
        out[mask] = np.diff(auc, axis=1) / np.diff(times)[None, :] * nM_per_mg_L * fu
    return out


def _changing_windows(free: dict[str, np.ndarray], edges: np.ndarray, tol: float = 0.02) -> list[int]:
    """Windows whose exposure differs from the one last set by more than ``tol`` (relative) for some
    patient and drug: at steady state the engine is not restarted for nothing. The merged windows
    keep the exposure of the window that started the run (at most a 2 % difference)."""
    keep = [0]
    for w in range(1, len(edges) - 1):
        last = keep[-1]
        for x in free.values():
            ref = np.maximum(np.abs(x[:, last]), 1e-12)
            if np.any(np.abs(x[:, w] - x[:, last]) > tol * ref):
                keep.append(w)
                break
    return keep


def _tumour_to_plasma(compound: str) -> float:
    pkm = pk_model(compound, "human")
    return pkm.tumour_to_plasma.value if pkm.tumour_to_plasma else 1.0


def _kpuu(compound: str) -> float:
    """The brain copy's concentration over the tumour's: Kp,uu (brain over free plasma) less the tumour's partitioning."""
    pkm = pk_model(compound, "human")
    return (pkm.brain_to_plasma_unbound.value if pkm.brain_to_plasma_unbound else 1.0) / _tumour_to_plasma(compound)


@lru_cache(maxsize=32)
def _e2_residual(compound: str, dose_mg: float) -> float:
    return oestrogen_suppression(compound, f"{dose_mg:g} mg")["e2_residual"]


def _free_e2_nM(arm: ArmRegimen, patients: Patients) -> np.ndarray:
    base = PostmenopausalOestrogen.from_knowledge().baseline_e2.value * 1e-3  # pmol/L -> nM
    e2 = base * human("e2_free_fraction").value * human("tumour_to_plasma_e2").value * patients.biology["e2_factor"].to_numpy()
    for c, reg, _, _ in arm.drugs:
        if _is_aromatase_inhibitor(c):
            e2 = e2 * _e2_residual(c, reg.events[0].dose.mg(70.0))
    return e2


def _adaptation() -> bool:
    """Whether patients' clones carry the xenograft layer's escape from oestrogen deprivation (patient.yaml switch)."""
    value = human("tumour_adaptation").value
    if value not in (0, 1):
        raise InputError(f"human_tumour_adaptation = {value:g} is not a switch", field="human_tumour_adaptation",
                         value=value, valid="1 (the xenograft layer's escape state, shipped) or 0 (no adaptive escape)")
    return bool(value)


def _compiled(compounds: tuple[str, ...], brain: bool, readouts: tuple[str, ...] = ()):
    # keyed on the knowledge overrides in force: the model's parameter values are read when it is assembled
    return _compiled_for(compounds, brain, tuple(readouts), _adaptation(), active_overrides())


@lru_cache(maxsize=16)
def _compiled_for(compounds: tuple[str, ...], brain: bool, readouts: tuple[str, ...], adaptation: bool, _overrides: tuple):
    # the brain copy of the cell biology only when some patient has a brain lesion (it doubles the species)
    ctx = TumourContext(cell_line=TEMPLATE_LINE, compounds=compounds, organs=("brain",) if brain else (), adaptation=adaptation)
    model = assemble_tumour_model(ctx)
    # a trial reads back only the cell counts and their senescent shares (new-lesion seeding); ``readouts``
    # adds more of the model's quantities (the window-trial readout: Ki67, frac_arrested)
    obs = ("cells", "frac_senescent") + (("met_brain", "frac_senescent_brain") if brain else ())
    obs += tuple(r for r in readouts if r not in obs)
    return compile_model(replace(model, observables=obs))


def _mouse_proliferation() -> float:
    """Maximal proliferation of the xenograft layer's tumour cells (1/h): the culture mu_max x the in-vivo scale."""
    from ..experiments._xenograft import in_vivo
    from ..model._cell import assemble_cell_model

    return assemble_cell_model(cell_line="MCF7").parameter("mu_max").value * in_vivo().proliferation_scale.value


@dataclass
class ArmTrajectories:
    """Fold change of every clone type of every patient at ``days`` (plasma-exposed and brain)."""

    days: np.ndarray  # (T,)
    member_patient: np.ndarray  # (M,)
    member_type: np.ndarray  # (M,) index into CLONE_TYPES
    fold: np.ndarray  # (M, T)
    fold_brain: np.ndarray  # (M, T)
    seed_fold: np.ndarray  # (M, T) new-lesion seeding cells (senescent ones at human_senescent_seeding_share), / cells at day 0
    seed_fold_brain: np.ndarray  # (M, T)
    steps: np.ndarray  # (M,) solver steps
    n_patients: int

    def type_index(self) -> np.ndarray:
        """(patients, clone types) member index, -1 where the patient has no such clone."""
        idx = -np.ones((self.n_patients, len(CLONE_TYPES)), dtype=int)
        idx[self.member_patient, self.member_type] = np.arange(len(self.member_patient))
        return idx


@dataclass
class ArmBatch:
    """Everything one arm's batched solve needs, member by member (the engine, or libRoadRunner in the benchmark)."""

    compiled: object
    parameters: dict
    initial: dict
    events: list  # (time h, target, values per member)
    times: np.ndarray  # output times (h)
    member_patient: np.ndarray
    member_type: np.ndarray
    brain: bool


@dataclass(frozen=True)
class ExposurePlan:
    """What one arm's solves share across the whole pool, so that a chunk of patients gives the same
    numbers alone as within the pool: whether the model carries the brain copy of the cell biology,
    and the exposure windows at which the engine is restarted (decided on every patient)."""

    brain: bool
    windows: tuple[int, ...]


def _arm_free(arm: ArmRegimen, patients: Patients, edges: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    free = {}
    for c in tumour_compounds(arm.compounds):
        _, reg, red, share = next(d for d in arm.drugs if d[0] == _dosed_as(c))
        free[c] = _window_free_nM(c, reg, patients, edges, seed, red, share)
    return free


def exposure_plan(arm: ArmRegimen, patients: Patients, horizon_days: float, *, seed: int) -> ExposurePlan:
    """The arm's :class:`ExposurePlan` over ``patients`` (the whole pool)."""
    edges = exposure_windows(horizon_days)
    return _plan(patients, _arm_free(arm, patients, edges, seed), edges)


def _plan(patients: Patients, free: dict[str, np.ndarray], edges: np.ndarray) -> ExposurePlan:
    return ExposurePlan(bool(patients.covariates["brain"].any()), tuple(_changing_windows(free, edges)))


def lesion_clone_shares(lesions, has_cdk46i: bool) -> np.ndarray:
    """(lesions, clone types) each lesion's clone shares; without a CDK4/6 inhibitor in the arm a resistant type is
    its sensitive twin (merged into it, so one solve serves both)."""
    shares = np.stack([lesions[f"f_{clone_type(v, r)}"].to_numpy() for v, r in CLONE_TYPES], axis=1)
    if not has_cdk46i:
        for k, (v, r) in enumerate(CLONE_TYPES):
            if r:
                shares[:, k - 1] += shares[:, k]
                shares[:, k] = 0.0
    return shares


def arm_batch(arm: ArmRegimen, patients: Patients, days: np.ndarray, *, seed: int,
              plan: ExposurePlan | None = None, readouts: tuple[str, ...] = ()) -> ArmBatch:
    """Members (patients x clone types present), their parameters, initial states and exposure events.

    ``plan``: the pool's (when ``patients`` is a chunk of it); default: decided on ``patients``.
    ``readouts``: model quantities read back besides cells and frac_senescent (e.g. ``("Ki67",)``)."""
    days = np.asarray(days, dtype=float)
    horizon = float(days[-1])
    compounds = tumour_compounds(arm.compounds)
    edges = exposure_windows(horizon)
    free = _arm_free(arm, patients, edges, seed)
    if plan is None:
        plan = _plan(patients, free, edges)
    brain = plan.brain
    cm = _compiled(compounds, brain, tuple(readouts))
    shift0 = cm.model.parameter("cdk_cellular_shift").value

    # ---- members: the clone types present in each patient (R collapses to S without a CDK4/6i) ----
    les = patients.lesions
    shares = lesion_clone_shares(les, arm.has_cdk46i)
    present = np.zeros((patients.n, len(CLONE_TYPES)), dtype=bool)
    np.logical_or.at(present, les["patient"].to_numpy(), shares > 0)
    mp, mt = np.nonzero(present)

    # ---- per-member parameters ----------------------------------------------------------------
    tpot_h = patients.biology["tpot_days"].to_numpy() * 24.0
    mu = np.log(2.0) / tpot_h
    # fate transitions (G1 arrest, release, senescence) at the culture's rates (exponent 0) or slowed with
    # the patient's proliferation, (mu / culture mu_max)^exponent (1: per cell cycle, not per hour)
    slow = (mu[mp] / cm.model.parameter("mu_max").value) ** human("fate_rate_exponent").value
    # death keeps the xenograft layer's in-vivo ratio of cell loss to maximal proliferation (one biology)
    from ..experiments._xenograft import in_vivo

    mouse_mu = _mouse_proliferation()
    death_to_proliferation = in_vivo().cell_loss_rate.value / mouse_mu
    params: dict[str, object] = {
        "mu_max": mu[mp], "death_rate": (mu * death_to_proliferation * human("cell_loss_scale").value
                       * patients.biology["cell_loss_factor"].to_numpy())[mp],
        **{k: cm.model.parameter(k).value * slow for k in ("k_arrest", "k_release", "k_senescence")},
        "capacity": _HUGE,
        # Ki67 at maximal drive: the growth fraction Tc / Tpot (cells in an active cycle phase are Ki67-positive, resting
        # cells are not; human tumour cells cycle in ~1-5 days while the tumour's cell production is ln2 / Tpot)
        "ki67_max": np.minimum(1.0, human("cell_cycle_time").value * 24.0 / tpot_h)[mp],
        # drug-free oestradiol through the run-in; an aromatase inhibitor's suppression from the first dose (day 0)
        "conc_E2": _free_e2_nM(ArmRegimen("run-in", ()), patients)[mp],
        "pik3ca_gain": np.where(patients.covariates["pik3ca"].to_numpy() == "mutant", human("pik3ca_gain").value, 1.0)[mp],
        # senescent tumour cells: persisting (patient.yaml, default 0.2) or cleared by the host as in mice (1)
        "senescent_death_share": human("senescent_loss_share").value,
        "cdk_cellular_shift": shift0 * np.where(np.array([r for _, r in CLONE_TYPES])[mt], human("cdk46i_resistance_shift").value, 1.0),
    }
    if "k_adapt" in cm.model.parameter_index:
        # the escape state's rates were calibrated in mice; per cell cycle (exponent 1) they follow the patient's
        # proliferation: the self-reinforcing escape is the expansion of pre-adapted cells (model/_adaptation.py)
        pace = (mu[mp] / mouse_mu) ** human("adaptation_rate_exponent").value
        params.update({k: cm.model.parameter(k).value * pace for k in ("k_adapt", "k_revert")})
    initial: dict[str, object] = {"cells": 1.0}
    if brain:
        params.update({"capacity_met": _HUGE, "seed_brain": 0.0})
        initial["met_brain"] = 1.0
    if "adaptation" in cm.model.species_index:
        # a tumour that progressed on an aromatase inhibitor starts partly escaped (population_prior_ai_adaptation)
        a0 = patients.biology["adaptation0"].to_numpy()[mp]
        initial.update({"adaptation": a0, **({"adaptation_brain": a0} if brain else {})})
    for allele in ("WT", "Y537S", "D538G"):
        frac = np.array([_ALLELES[v].get(allele, 0.0) for v, _ in CLONE_TYPES])[mt]
        # with the escape state the allele shares are the parent's, lowered by adaptation (model/_adaptation.py)
        params[f"frac_{allele}_parent" if f"frac_{allele}_parent" in cm.model.parameter_index else f"frac_{allele}"] = frac
        initial[f"ER_{allele}"] = 100.0 * frac
        if brain:
            initial[f"ER_{allele}_brain"] = 100.0 * frac

    # ---- exposure: window-mean free concentration per patient, set at each window start ----------
    for c in compounds:
        L = ligand_id(c)
        params.update({f"fu_{L}": 1.0, f"Vc_{L}": 1.0, f"CL_{L}": 0.0, f"ka_{L}": 0.0, f"kpuu_{L}": _kpuu(c)})
    events: list[tuple[float, str, np.ndarray]] = []
    e2 = _free_e2_nM(arm, patients)[mp]
    if not np.array_equal(e2, params["conc_E2"]):
        events.append((0.0, "conc_E2", e2))
    for w in plan.windows:
        for c in compounds:
            events.append((edges[w] * 24.0, f"plasma_{ligand_id(c)}", free[c][mp, w]))

    return ArmBatch(cm, params, initial, events, np.asarray(days, dtype=float) * 24.0, mp, mt, brain)


def solve_members(batch: ArmBatch, members=slice(None)):
    """The engine's solve of ``batch``'s ``members`` (a slice or index array; default all) from the start of the
    drug-free run-in, at ``batch.times``."""
    def part(v):
        return v[members] if isinstance(v, np.ndarray) and v.ndim else v

    return simulate(batch.compiled, batch.times, start=-WARMUP_DAYS * 24.0,
                    parameters={k: part(v) for k, v in batch.parameters.items()},
                    initial={k: part(v) for k, v in batch.initial.items()},
                    events=[Event(t, target, part(v)) for t, target, v in batch.events], options=SOLVER)


def simulate_arm(arm: ArmRegimen, patients: Patients, days: np.ndarray, *, seed: int, chunk: int = 4096,
                 progress=None, plan: ExposurePlan | None = None) -> ArmTrajectories:
    """Every patient's clones under ``arm`` (one compiled model; members = patients x clone types)."""
    b = arm_batch(arm, patients, np.asarray(days, dtype=float), seed=seed, plan=plan)
    brain, mp, mt = b.brain, b.member_patient, b.member_type
    M = mp.size
    lost = 1.0 - human("senescent_seeding_share").value  # senescent cells seed new lesions at this share
    # the same array where two quantities are equal: without a brain lesion nobody reads the brain copy, and when
    # every viable cell seeds (share 1, the default) the seeding cells are the cells
    fold = np.empty((M, len(days)))
    fold_brain = np.empty((M, len(days))) if brain else fold
    seed_fold = np.empty((M, len(days))) if lost else fold
    seed_fold_brain = (np.empty((M, len(days))) if brain else seed_fold) if lost else fold_brain
    steps = np.empty(M, dtype=np.int64)
    for lo in range(0, M, chunk):
        hi = min(M, lo + chunk)
        sl = slice(lo, hi)
        res = solve_members(b, sl)
        cells = res["cells"]
        fold[sl] = cells / cells[:, :1]
        if lost:
            seed_fold[sl] = fold[sl] * (1.0 - lost * res["frac_senescent"])
        if brain:
            fold_brain[sl] = res["met_brain"] / res["met_brain"][:, :1]
            if lost:
                seed_fold_brain[sl] = fold_brain[sl] * (1.0 - lost * res["frac_senescent_brain"])
        steps[sl] = res.steps
        if progress is not None:
            progress(hi - lo)
    return ArmTrajectories(np.asarray(days, dtype=float), mp, mt, fold, fold_brain, seed_fold, seed_fold_brain, steps, patients.n)
