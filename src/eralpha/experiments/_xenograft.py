"""The virtual MIND xenograft laboratory (seed 000 protocol; seeds 001 and 003 studies).

A study: luciferase-tagged cells (250,000) injected intraductally into NSG mice; 2–3 weeks to
establish; randomisation into arms of 6–10 mice; drugs dosed by exact PK events for up to 70 days;
weekly whole-body luminescence (log-normal imaging noise), calipers, humane end-point (tumour volume
> 1500 mm³: the mouse is removed at that imaging session); at the end (or removal) terminal tumour
weight, Ki67, ERα / pS2 / growth-factor signalling (IHC-like, noisy) and ex-vivo luminescence of lung,
liver, bone and brain.

Every mouse of every arm of every replicate study is one member of ONE batched ``simulate`` call
(one compiled model per study design). Claims ("lasofoxifene inhibits growth more than fulvestrant")
are checked as the fraction of replicate studies in which the effect is significant (one-sided Welch
test, p < 0.05) on per-animal values; a claim passes at >= 80 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import MetastasisAnalysis, TumourWeightAnalysis, XenograftAnalysis, compare_groups_fast, log_growth_slopes
from ..engine import Event, SolverOptions, compile_model, simulate
from ..errors import InputError
from ..knowledge import load_knowledge
from ..knowledge._schema import Value
from ..model._adaptation import ADAPTED_LINES
from ..model._tumour import ORGANS, TumourContext, assemble_tumour_model, pk_parameter_names, split_compounds
from ..model._cell import ligand_id
from ..pk import Regimen, molecular_weight, mouse_oestradiol, parse_dose, pk_model
from ..pk._compartmental import sample_parameters
from ..pk._regimen import parse_route
from ..resources import check_memory
from ._base import ExperimentResult, lognormal_noise, metric_rows

__all__ = ["run_xenograft", "simulate_studies", "build_studies", "StudyBatch", "SOLVER", "StudyData", "replicate_claims", "xenograft_scorecard_rows",
           "shipped_xenograft_scenarios", "InVivo", "in_vivo", "PASS_FRACTION", "mouse_free_fraction",
           "settled", "STAGE_REPLICATES"]

PASS_FRACTION = 0.8
ALPHA = 0.05
# rtol 1e-3: every observable within 1.8 % of an rtol-1e-7 solve (0.18 % at 1e-4) with ~30 % fewer steps, below
# caliper and luminescence noise (10-20 %); every xenograft row unchanged (tests/test_xenograft_lab.py, docs/sbml-and-speed.md)
SOLVER = SolverOptions(rtol=1e-3, atol=1e-6, initial_step=1e-2)


@dataclass(frozen=True)
class InVivo:
    """In-vivo constants of the virtual lab; values, units and provenance live in the knowledge base
    (``knowledge/data/parameters/xenograft.yaml``), so a scenario's ``knowledge_overrides`` reach them."""

    proliferation_scale: Value
    cell_loss_rate: Value
    senescent_loss_share: Value
    body_weight: Value
    fu_oestradiol_mouse: Value
    take_cv: Value
    growth_cv: Value
    seeding_cv: Value
    photons_per_cell: Value
    background_whole_body: Value
    background_ex_vivo: Value
    background_cv: Value
    caliper_cv: Value
    tumour_density: Value
    weight_cv: Value
    ihc_cv: Value
    ki67_nuclei: Value

    @classmethod
    def from_knowledge(cls) -> "InVivo":
        kb = load_knowledge()
        return cls(**{f.name: kb.parameter(f.name) for f in fields(cls)})


def in_vivo() -> InVivo:
    """The in-vivo constants as the knowledge base holds them now (overrides included)."""
    return InVivo.from_knowledge()


def mouse_free_fraction(compound: str) -> Value | None:
    """The mouse plasma free fraction the xenograft lab uses instead of pk.yaml's, where one is set
    (``fu_mouse_<compound>``, calibrated: see its note), else None."""
    return load_knowledge().parameters.get(f"fu_mouse_{compound}")


# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArmPlan:
    name: str
    cell_line: str
    group_size: int
    regimens: tuple[tuple[str, Regimen], ...]  # (compound, regimen from randomisation)


def _arm_plans(s) -> tuple[ArmPlan, ...]:
    kb = load_knowledge()
    plans = []
    for arm in s.arms:
        regs = []
        for d in arm.drugs:
            name = kb.compound(d.compound).name
            reg = Regimen.repeated(parse_dose(d.dose), parse_route(d.route), every=f"{d.every} h",
                                   start=f"{(d.start_day - 1) * 24.0} h", until=f"{s.duration} h",
                                   days_on=d.days_on, days_off=d.days_off)
            regs.append((name, reg))
        plans.append(ArmPlan(arm.name, arm.cell_line or s.cell_line, arm.group_size, tuple(regs)))
    return tuple(plans)


def _study_context(s, plans) -> TumourContext:
    kb = load_knowledge()
    lines = {p.cell_line for p in plans}
    base = kb.cell_line(s.cell_line)
    for line in lines:
        other = kb.cell_line(line)
        if other.er_variants != base.er_variants or other.aromatase_transfected != base.aromatase_transfected:
            raise InputError(f"arm cell line '{line}' differs in structure from '{s.cell_line}' (ER variants or aromatase); "
                             "run it as its own study", field="arms.cell_line", value=line)
    adaptation = s.adaptation if s.adaptation is not None else bool(base.aromatase_transfected)
    if any(line in ADAPTED_LINES for line in lines) and not adaptation:
        raise InputError("LTLT-Ca arms need the adaptation module (adaptation: true)", field="adaptation")
    compounds = tuple(dict.fromkeys(c for p in plans for c, _ in p.regimens))
    return TumourContext(cell_line=s.cell_line, compounds=compounds, adaptation=adaptation)


@dataclass
class StudyData:
    """Everything measured in ``replicates`` virtual studies (members ordered replicate, arm, animal)."""

    labels: pd.DataFrame  # replicate, arm, animal, cell_line
    days: np.ndarray  # imaging days from randomisation (T,)
    luminescence: np.ndarray  # (B, T) whole-body flux, NaN after removal
    volume: np.ndarray  # (B, T) caliper volume (mm³), NaN after removal
    terminal: pd.DataFrame  # one row per member: weight_mg, Ki67, ER, pS2, growth_factor, met_<organ>, removed_day
    truth: dict[str, np.ndarray]  # noiseless trajectories (B, T)
    arms: tuple[str, ...]
    group_sizes: tuple[int, ...]
    replicates: int
    wall_s: float = 0.0

    def index(self, arm: str) -> np.ndarray:
        """(replicates, n_arm) member indices of one arm."""
        a = self.arms.index(arm)
        per_rep = sum(self.group_sizes)
        off = sum(self.group_sizes[:a])
        return (np.arange(self.replicates)[:, None] * per_rep + off + np.arange(self.group_sizes[a])[None, :])


@dataclass
class StudyBatch:
    """The inputs of one batched simulation of ``replicates`` studies: what the engine (or any other
    simulator, e.g. libRoadRunner in the benchmark) needs, member by member."""

    model: object  # eralpha Model
    times: np.ndarray
    parameters: dict
    initial: dict
    events: list
    labels: pd.DataFrame
    days: np.ndarray
    plans: tuple
    ctx: TumourContext
    rng: np.random.Generator
    replicates: int


# states + observables the engine keeps per member and imaging session (the tumour model has ~50),
# with the measurement arrays derived from them: an over-estimate for the guard below
_VALUES_PER_MEMBER_TIME = 96


def check_study_size(s, replicates: int) -> None:
    """Refuse, before building anything, studies that would not fit in memory: members (replicates ×
    mice) × imaging sessions × values, plus one per-member dose vector per dose time."""
    mice = sum(a.group_size for a in s.arms)
    members = replicates * mice
    # the establishment phase is simulated too (and imaged in the luminescence read-outs)
    sessions = int((s.establish + s.duration) / s.imaging_every) + 1
    dose_times = sum(int(s.duration / d.every) + 1 for a in s.arms for d in a.drugs)
    needed = 8.0 * members * (sessions * _VALUES_PER_MEMBER_TIME + dose_times)
    # name the field to change: the study's length when the time axis is what is huge
    if sessions + dose_times > members:
        field, value = ("establish", s.establish / 24.0) if s.establish > s.duration else ("duration", s.duration / 24.0)
    else:
        field, value = ("replicates", replicates)
    check_memory(needed, f"{replicates} replicate studies of {mice} mice × {sessions} imaging sessions "
                         f"and {dose_times} dose times", field=field, value=value)


def build_studies(s, replicates: int | None = None, seed: int | None = None) -> StudyBatch:
    """Animals, PK, tumour variability and dose events of ``replicates`` studies (nothing simulated)."""
    R = int(replicates or s.replicates)
    check_study_size(s, R)
    rng = np.random.default_rng(s.seed if seed is None else seed)
    plans = _arm_plans(s)
    ctx = _study_context(s, plans)
    model = assemble_tumour_model(ctx)
    iv = in_vivo()
    bw = iv.body_weight.value
    rows = [(r, p.name, k, p.cell_line) for r in range(R) for p in plans for k in range(p.group_size)]
    labels = pd.DataFrame(rows, columns=["replicate", "arm", "animal", "cell_line"])
    B = len(labels)
    arm_of = labels["arm"].to_numpy()

    # --- host oestrogens ------------------------------------------------------------------------
    pellet = parse_dose(s.host.oestradiol_pellet).mg(bw) if s.host.oestradiol_pellet else None
    e2_pM = float(mouse_oestradiol(np.array([0.0]), pellet_mg=pellet, pellet_days=s.host.pellet_days)["e2_pM"].iloc[0])
    params: dict[str, object] = {"conc_E2": e2_pM / 1000.0 * iv.fu_oestradiol_mouse.value, "conc_A4": s.host.androstenedione}

    # --- animals: tumour take, growth, seeding --------------------------------------------------
    def ln(cv: float, size) -> np.ndarray:
        return lognormal_noise(rng, size, cv)

    growth = ln(iv.growth_cv.value, B)
    params["mu_max"] = model.parameter("mu_max").value * iv.proliferation_scale.value * growth
    params["death_rate"] = iv.cell_loss_rate.value * growth
    # in a tumour, senescent cells are cleared by the host's innate immune cells (in a dish they persist)
    params["senescent_death_share"] = iv.senescent_loss_share.value
    for organ in ORGANS:
        params[f"seed_{organ}"] = model.parameter(f"seed_{organ}").value * ln(iv.seeding_cv.value, B)
    initial = {"cells": s.cells_injected * ln(iv.take_cv.value, B)}
    if ctx.adaptation:
        adapted = labels["cell_line"].isin(ADAPTED_LINES).to_numpy()
        initial["adaptation"] = np.where(adapted, 1.0, 0.0)
        if "adaptation_brain" in model.species_index:
            initial["adaptation_brain"] = initial["adaptation"]

    # --- PK per drug, per animal (log-normal from pk.yaml CVs) and the dose events ----------------
    t_rand = s.establish
    doses: dict[tuple[str, float], np.ndarray] = {}
    for compound in ctx.compounds:
        pkm = pk_model(compound, "mouse")
        pk = sample_parameters(pkm, bw, B, rng)
        L = ligand_id(compound)
        for fieldname, pname in pk_parameter_names(compound, pkm.compartments == 2).items():
            params[pname] = getattr(pk, fieldname)
        fu = mouse_free_fraction(compound)
        fu = pkm.fraction_unbound_plasma if fu is None else fu
        params[f"fu_{L}"] = fu.value if fu is not None else 1.0
        params[f"kpuu_{L}"] = pkm.brain_to_plasma_unbound.value if pkm.brain_to_plasma_unbound else 1.0
        nmol_per_mg = 1e6 / molecular_weight(compound)
        for p in plans:
            mask = arm_of == p.name
            for c, reg in p.regimens:
                if c != compound:
                    continue
                for ev in reg.events:
                    target = f"plasma_{L}" if ev.route == "iv" else f"depot_{L}"
                    f = 1.0 if ev.route == "iv" else pk.bioavailability
                    key = (target, t_rand + ev.time)
                    vec = doses.setdefault(key, np.zeros(B))
                    vec += np.where(mask, ev.dose.mg(bw) * f * nmol_per_mg, 0.0)
    events = [Event(t, target, vec, action="add") for (target, t), vec in sorted(doses.items(), key=lambda kv: kv[0][1])]

    days = np.arange(0.0, s.duration / 24.0 + 1e-9, s.imaging_every / 24.0)
    times = t_rand + days * 24.0
    return StudyBatch(model, times, params, initial, events, labels, days, plans, ctx, rng, R)


def simulate_studies(s, replicates: int | None = None, seed: int | None = None) -> StudyData:
    """Run ``replicates`` virtual studies of scenario ``s`` in ONE batched simulation."""
    import time

    b = build_studies(s, replicates, seed)
    cm = compile_model(b.model)
    t0 = time.perf_counter()
    res = simulate(cm, b.times, start=0.0, parameters=b.parameters, initial=b.initial, events=b.events,
                   options=SOLVER, labels=b.labels)
    wall = time.perf_counter() - t0
    return _measure(s, res, b.labels, b.days, b.plans, b.rng, b.replicates, wall, b.ctx)


def _measure(s, res, labels, days, plans, rng, R, wall, ctx) -> StudyData:
    iv = in_vivo()
    B, T = res.batch_size, len(days)
    cells = res["cells"]
    mets = {o: res[f"met_{o}"] for o in ORGANS}
    burden = cells + sum(mets.values())
    ppc = iv.photons_per_cell.value
    lum = burden * ppc * lognormal_noise(rng, (B, T), s.luminescence_cv) + iv.background_whole_body.value * lognormal_noise(rng, (B, T), iv.background_cv.value)
    volume_true = res["tumour_volume"]
    volume = volume_true * lognormal_noise(rng, (B, T), iv.caliper_cv.value)
    over = volume > s.humane_endpoint_mm3
    removed = np.where(over.any(axis=1), over.argmax(axis=1), T - 1)  # index of the last session
    after = np.arange(T)[None, :] > removed[:, None]
    lum = np.where(after, np.nan, lum)
    volume = np.where(after, np.nan, volume)
    at = (np.arange(B), removed)

    def ihc(x):
        return x * lognormal_noise(rng, B, iv.ihc_cv.value)

    terminal = pd.DataFrame({
        "removed_day": np.where(over.any(axis=1), days[removed], np.nan),
        "last_day": days[removed],
        "weight_mg": volume_true[at] * iv.tumour_density.value * lognormal_noise(rng, B, iv.weight_cv.value),
        "Ki67": rng.binomial(int(iv.ki67_nuclei.value), np.clip(res["Ki67"][at], 0, 1)) / iv.ki67_nuclei.value,
        "ER": ihc(res["ER_total"][at] / 100.0),
        "pS2": ihc(res["TFF1"][at]),
    })
    if "growth_factor_signal" in res.observable_names:
        terminal["growth_factor"] = ihc(res["growth_factor_signal"][at])
    for o in ORGANS:
        terminal[f"met_{o}"] = mets[o][at] * ppc * lognormal_noise(rng, B, s.luminescence_cv) \
            + iv.background_ex_vivo.value * lognormal_noise(rng, B, iv.background_cv.value)
    truth = {"cells": cells, "tumour_volume": volume_true, "ER_total": res["ER_total"], "TFF1": res["TFF1"],
             "net_growth_rate": res["net_growth_rate"]}
    for name in ("adaptation", "growth_factor_signal"):
        if name in res.observable_names:
            truth[name] = res[name]
    return StudyData(labels, days, lum, volume, terminal, truth, tuple(p.name for p in plans),
                     tuple(p.group_size for p in plans), R, wall)


# ----------------------------------------------------------------------------------------------
def _per_animal(data: StudyData, readout: str, day: float | None = None) -> np.ndarray:
    """Per-animal values (B,) on the analysis scale of a claim's readout."""
    if readout == "growth":
        return log_growth_slopes(data.days, data.luminescence)
    if readout == "luminescence":
        last = data.terminal["last_day"].to_numpy()
        idx = np.searchsorted(data.days, last)
        return np.log10(data.luminescence[np.arange(len(idx)), idx])
    if readout in ("tumour_weight", "ER", "pS2", "growth_factor") or readout.startswith("met_"):
        col = {"tumour_weight": "weight_mg"}.get(readout, readout)
        if col not in data.terminal:
            raise InputError(f"readout '{readout}' needs the adaptation module (growth-factor signalling)", field="claims.readout")
        return np.log10(np.maximum(data.terminal[col].to_numpy(), 1e-12))
    if readout == "Ki67":
        return data.terminal["Ki67"].to_numpy()
    raise InputError(f"unknown readout '{readout}'", field="claims.readout")


def _lum_at(data: StudyData, day: float) -> np.ndarray:
    k = int(np.argmin(np.abs(data.days - day / 24.0)))
    return np.log10(data.luminescence[:, k])


def claim_pvalues(data: StudyData, claim) -> np.ndarray:
    """One-sided p-value of a claim in each replicate study (R,)."""
    idx = data.index(claim.arm)
    if claim.readout == "regression":  # the arm's tumours shrink from randomisation to `day`
        return compare_groups_fast(_lum_at(data, claim.day)[idx], _lum_at(data, 0.0)[idx], "less")
    if claim.readout == "regrowth":  # ... and regrow from `day` to the end
        last = _per_animal(data, "luminescence")  # the last session (end, or humane end-point)
        return compare_groups_fast(last[idx], _lum_at(data, claim.day)[idx], "greater")
    values = _per_animal(data, claim.readout)
    return compare_groups_fast(values[idx], values[data.index(claim.than)], claim.alternative)


def _claim_text(c) -> str:
    if c.readout in ("regression", "regrowth"):
        return f"{c.arm}: {c.readout} by day {c.day / 24:g}"
    return f"{c.readout}: {c.arm} {'<' if c.alternative == 'less' else '>'} {c.than}"


def claim_rows(s, data: StudyData) -> list[dict]:
    """Scorecard rows: the fraction of replicate studies in which each claim is significant."""
    return _rows_from_pvalues(s, {c.id: claim_pvalues(data, c) for c in s.claims}, data.replicates)


def _rows_from_pvalues(s, pvalues: dict[str, np.ndarray], replicates: int, design: str = "") -> list[dict]:
    rows = []
    for c in s.claims:
        frac = float(np.mean(np.nan_to_num(pvalues[c.id], nan=1.0) < ALPHA))
        rows.append({
            "id": c.id, "quantity": c.quantity, "source": c.source,
            "target": f">= {PASS_FRACTION:.0%} of replicate studies significant",
            "simulated": frac,
            "tolerance": f"one-sided Welch p < {ALPHA} ({_claim_text(c)}); {replicates} replicate studies{design} — the seed "
                         "claims a direction, not a size, so the row asks for a significant difference in most studies",
            "kind": c.kind, "passed": bool(frac >= PASS_FRACTION),
        })
    return rows


#: replicate studies are simulated in stages of this many (one batched engine call each) ...
STAGE_REPLICATES = 50
#: ... and a scenario stops early once, for every claim, the exact (Clopper–Pearson) interval of its
#: significant fraction at this confidence lies wholly above or below PASS_FRACTION: more studies
#: could no longer move the row across the line (four looks at 0.1 % each: < 0.4 % in all)
SETTLED_CONFIDENCE = 0.999


def settled(p: np.ndarray) -> bool:
    """Is the pass/fail of a claim with these per-study p-values beyond doubt (see SETTLED_CONFIDENCE)?"""
    from ..analysis import clopper_pearson

    k = int(np.sum(np.nan_to_num(p, nan=1.0) < ALPHA))
    lo, hi = clopper_pearson(k, len(p), alpha=1.0 - SETTLED_CONFIDENCE)
    return bool(lo > PASS_FRACTION or hi < PASS_FRACTION)


def _stage_seed(seed: int, stage: int) -> int:
    # stage 0 is the plain seed (a run of <= STAGE_REPLICATES studies is what it always was); later
    # stages get their own independent stream, derived from (seed, stage)
    return seed if stage == 0 else int(np.random.SeedSequence([seed, stage]).generate_state(1)[0])


def replicate_claims(s, replicates: int = 200, seed: int | None = None, stage: int = STAGE_REPLICATES) -> list[dict]:
    """Score the claims of ``s`` over up to ``replicates`` virtual studies, simulated ``stage`` at a time
    (one batched simulation per stage), stopping early once every claim is settled (:func:`settled`)."""
    from ..knowledge import knowledge_overrides

    seed = s.seed if seed is None else int(seed)
    stage = max(1, min(stage, replicates))
    pvalues: dict[str, list[np.ndarray]] = {c.id: [] for c in s.claims}
    done = k = 0
    with knowledge_overrides(s.knowledge_overrides, origin=f"scenario {s.name}"):
        while done < replicates:
            data = simulate_studies(s, min(stage, replicates - done), _stage_seed(seed, k))
            for c in s.claims:
                pvalues[c.id].append(claim_pvalues(data, c))
            done, k = done + data.replicates, k + 1
            if all(settled(np.concatenate(v)) for v in pvalues.values()):
                break
    design = "" if stage >= replicates else (
        f" (in stages of {stage}, up to {replicates}, until every claim's {SETTLED_CONFIDENCE:.1%} "
        f"Clopper–Pearson interval excluded {PASS_FRACTION:.0%})")
    return _rows_from_pvalues(s, {i: np.concatenate(v) for i, v in pvalues.items()}, done, design)


def shipped_xenograft_scenarios() -> list[Path]:
    from ..scenario._load import SHIPPED_DIR

    return sorted(SHIPPED_DIR.glob("xenograft_*.yaml"))


def xenograft_scorecard_rows(replicates: int = 200, seed: int = 20250101) -> list[dict]:
    """Every claim of every shipped xenograft scenario, over ``replicates`` replicate studies each."""
    from ..scenario._xenograft_schema import load_xenograft_scenario

    from ..report import Progress

    rows = []
    paths = shipped_xenograft_scenarios()
    with Progress("xenograft studies", total=len(paths)) as progress:  # minutes in all: say which study runs
        for i, path in enumerate(paths):
            s = load_xenograft_scenario(path)
            if s.claims:
                progress.stage(f"{path.stem} ({replicates} replicates)")
                rows += replicate_claims(s, replicates, seed + i)
            progress.advance()
    return rows


# ----------------------------------------------------------------------------------------------
def study_tables(data: StudyData, replicate: int = 0) -> dict[str, pd.DataFrame]:
    """The tidy tables a lab would record for one study (growth, terminal, metastasis)."""
    sel = np.flatnonzero(data.labels["replicate"].to_numpy() == replicate)
    lab = data.labels.iloc[sel].reset_index(drop=True)
    animal = lab["arm"] + "#" + (lab["animal"] + 1).astype(str)
    T = len(data.days)
    growth = pd.DataFrame({
        "animal": np.repeat(animal.to_numpy(), T), "group": np.repeat(lab["arm"].to_numpy(), T),
        "day": np.tile(data.days, len(sel)),
        "luminescence": data.luminescence[sel].ravel(), "volume": data.volume[sel].ravel(),
    }).dropna(subset=["luminescence"])
    terminal = data.terminal.iloc[sel].reset_index(drop=True)
    terminal.insert(0, "group", lab["arm"].to_numpy())
    terminal.insert(0, "animal", animal.to_numpy())
    met = terminal.melt(id_vars=["animal", "group"], value_vars=[f"met_{o}" for o in ORGANS], var_name="organ", value_name="signal")
    met["organ"] = met["organ"].str.removeprefix("met_")
    return {"growth": growth, "terminal": terminal, "metastasis": met}


def run_xenograft(s) -> ExperimentResult:
    """Run one virtual study (tables, analyses, figures, metrics) and score its claims over replicates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = simulate_studies(s, 1, s.seed)
    tables = study_tables(data)
    control = s.arms[0].name
    xa = XenograftAnalysis(luminescence="luminescence", control=control, mixed_model=False).fit(tables["growth"])
    wa = TumourWeightAnalysis(weight="weight_mg", control=control).fit(tables["terminal"])
    ma = MetastasisAnalysis(control=control, threshold=in_vivo().background_ex_vivo.value * 3).fit(tables["metastasis"])
    figures = {}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xa.plot(ax=ax)
    ax.set_title(f"{s.name}: whole-body luminescence (mean ± SEM)")
    figures["growth"] = fig
    fig2, ax2 = plt.subplots(figsize=(7, 4.5))
    ma.plot(ax=ax2)
    figures["metastasis"] = fig2
    summary = xa.summary
    metrics = []
    for arm, row in summary.iterrows():
        metrics.append(metric_rows("growth_rate_per_day", row["growth_rate"], arm=arm))
        metrics.append(metric_rows("tgi_pct", row["tgi_pct"], arm=arm))
    term = tables["terminal"].groupby("group", sort=False)
    for arm, g in term:
        metrics.append(metric_rows("tumour_weight_mg", g["weight_mg"].mean(), arm=arm))
        metrics.append(metric_rows("Ki67", g["Ki67"].mean(), arm=arm))
        metrics.append(metric_rows("removed_fraction", g["removed_day"].notna().mean(), arm=arm))
        for o in ORGANS:
            metrics.append(metric_rows("met_log10_flux", np.log10(g[f"met_{o}"]).mean(), arm=arm, organ=o))
    result = ExperimentResult(
        name=s.name, kind="xenograft",
        tables={**tables, "growth_summary": summary.reset_index(), "tumour_weight": wa.summary.reset_index(),
                "metastasis_summary": ma.summary.reset_index()},
        figures=figures, metrics=pd.DataFrame(metrics),
        notes=[f"host: ovariectomised NSG mouse" + (f" with a {s.host.oestradiol_pellet} oestradiol pellet" if s.host.oestradiol_pellet else "")
               + (f", androstenedione {s.host.androstenedione:g} nM" if s.host.androstenedione else ""),
               f"simulation wall time {data.wall_s:.2f} s"],
    )
    if s.claims:
        result.scorecard = replicate_claims(s, s.replicates, s.seed + 1)
    result.summary = {"arms": list(data.arms), "replicates_for_claims": s.replicates}
    return result
