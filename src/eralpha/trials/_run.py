"""Run a virtual trial: pool of virtual patients -> every arm simulated once -> replicate trials -> endpoints.

1. **Virtual patients.** Eligible patients from the declared population. With a ``calibration``
   block, plausible patients (wide priors) are screened under the control regimen and selected so
   that their PFS follows the published control median (:mod:`._calibrate`); otherwise the
   population's own priors are used.
2. **Arms.** Every arm's regimen is given to every patient of the pool (one batched engine solve per
   arm; members = patients x clone types), scanned, and read by RECIST 1.1 at full follow-up.
3. **Replicate trials** at the real sample size: patients drawn from the pool (with replacement when
   the pool is smaller than replicates x sample size: a bootstrap of the virtual population), allocated by
   stratified permuted blocks (or paired: every arm the same patients), accrued uniformly, censored
   by drop-out and the data cut-off (calendar or event-driven); BOR from the scans before censoring.
4. **Endpoints** per replicate (:mod:`._endpoints`) and 95 % prediction intervals across replicates.

Random draws: one explicit seed; every stream is keyed by (seed, purpose, member) — the population in
fixed blocks of candidates, each patient's PK per drug and reading noise by its uid, each replicate's
design by its index (:mod:`eralpha.engine._streams`) — so chunk size, executor (in-process or Dask),
worker and thread count never change results. Arms run in chunks of patients (:mod:`._chunks`),
checkpointed when asked so a killed run resumes.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis._recist import RecistRules, best_overall_response, clinical_benefit
from ..engine._streams import STREAM_BLOCK, block_rng
from ..errors import InputError
from ..population import Patients, apply_eligibility, sample_patients
from ._assess import ArmReads
from ._chunks import simulate_reads
from ._endpoints import trial_endpoints
from ._mortality import death_days
from ._schema import TrialScenario
from ._simulate import arm_regimen

__all__ = ["run_trial", "TrialResult", "simulation_days", "eligible_patients", "DAYS_PER_MONTH", "checkpoint_plan"]

DAYS_PER_MONTH = 30.4375
DEFAULT_CHUNK = 2048  # patients per task: small enough to checkpoint often, large enough to batch well


def simulation_days(s: TrialScenario) -> np.ndarray:
    """Output days: every two weeks (the new-lesion hazard integral), plus every scan day, to the end of follow-up."""
    fu = s.design.follow_up
    return np.unique(np.concatenate([np.arange(0.0, fu + 1e-9, 14.0), s.scan_days(), [fu]]))


def eligible_patients(s: TrialScenario, n: int, seed: int, *, plausible: bool = False) -> Patients:
    """The first ``n`` eligible patients of the population's candidate stream.

    Candidates come in blocks of ``STREAM_BLOCK``, block ``b`` drawn from its own stream
    (seed, "population" or "plausible", b); a patient's ``uid`` is its candidate index, and keys its
    own streams (PK, reading noise). So the pool of ``n`` is a prefix of the pool of ``n + 1``, and any
    block can be drawn alone."""
    purpose = "plausible" if plausible else "population"
    got: list[Patients] = []
    have = 0
    max_blocks = 200 + 100 * math.ceil(n / STREAM_BLOCK)
    for b in range(max_blocks):
        p = sample_patients(s.population, STREAM_BLOCK, block_rng(seed, purpose, b), plausible=plausible)
        p.covariates["uid"] = b * STREAM_BLOCK + np.arange(p.n)
        keep = apply_eligibility(p, s.eligibility)
        got.append(p.take(keep))
        have += keep.size
        if have >= n:
            break
    else:
        raise InputError(f"eligibility admits too few patients ({have} of {max_blocks * STREAM_BLOCK} sampled)", field="eligibility")
    out = _concat(got)
    return out.take(np.arange(n))


def _concat(parts: list[Patients]) -> Patients:
    covs, less, bios, off = [], [], [], 0
    for p in parts:
        c, l_ = p.covariates.copy(), p.lesions.copy()
        c["patient"] += off
        l_["patient"] += off
        covs.append(c), less.append(l_), bios.append(p.biology)
        off += p.n
    return Patients(pd.concat(covs, ignore_index=True), pd.concat(less, ignore_index=True), pd.concat(bios, ignore_index=True))


@dataclass
class PatientOutcomes:
    """Per arm, per pool patient: the scan series at full follow-up (BOR is computed per replicate)."""

    reads: dict[str, ArmReads]


@dataclass
class TrialResult:
    scenario: TrialScenario
    endpoints: dict  # stable JSON: arms / comparisons / subgroups (+ *_pi with replicates), calibration
    replicates: list[dict]  # endpoints of every replicate trial
    patients: pd.DataFrame  # replicate 0: one row per randomised patient
    lesions: pd.DataFrame  # replicate 0: one row per patient x scan (target sum, response)
    pool: Patients
    calibration: dict | None
    wall_s: float
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scorecard: list[dict] = field(default_factory=list)
    checkpoint: object = None  # the ChunkStore of the run (chunks loaded / saved), when checkpointed


# ----------------------------------------------------------------------------------------------
def _allocate(s: TrialScenario, cov: pd.DataFrame, ns: list[int], rng: np.random.Generator) -> np.ndarray:
    """Arm index per patient: stratified permuted blocks in the ratio of the arms' sizes."""
    total = sum(ns)
    # the design's ratio in small whole numbers (52 vs 51 is 1:1; 200 vs 100 is 2:1); exact sizes below
    ratio = [max(1, round(n / min(ns))) for n in ns]
    block = [a for a, r in enumerate(ratio) for _ in range(r)]
    while len(block) < s.design.block_size and len(block) * 2 <= max(s.design.block_size, len(block)):
        block = block * 2
    strata = cov[s.design.stratify].astype(str).agg("|".join, axis=1) if s.design.stratify else pd.Series([""] * total)
    arm = np.empty(total, dtype=int)
    for _, idx in strata.groupby(strata).groups.items():
        idx = np.asarray(list(idx))
        seq = np.concatenate([rng.permutation(block) for _ in range(len(idx) // len(block) + 1)])[: len(idx)]
        arm[idx] = seq
    # the arms' exact sizes: move surplus patients (last randomised first) to arms short of theirs
    counts = np.bincount(arm, minlength=len(ns))
    for a in range(len(ns)):
        while counts[a] > ns[a]:
            short = int(np.argmax(np.array(ns) - counts))
            j = np.flatnonzero(arm == a)[-1]
            arm[j] = short
            counts[a] -= 1
            counts[short] += 1
    return arm


def _observed_visits(s: TrialScenario, entry: np.ndarray, pfs_day_full: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Follow-up (days) of each patient after drop-out and the data cut-off; the cut-off (days)."""
    d = s.design
    follow = np.full(entry.size, d.follow_up)
    if d.dropout > 0:
        follow = np.minimum(follow, rng.exponential(DAYS_PER_MONTH / d.dropout, entry.size))
    if d.cutoff_events is not None:
        ev_cal = np.where(np.isfinite(pfs_day_full) & (pfs_day_full <= follow), entry + pfs_day_full, np.inf)
        ordered = np.sort(ev_cal[np.isfinite(ev_cal)])
        cut = float(ordered[d.cutoff_events - 1]) if ordered.size >= d.cutoff_events else float(np.max(entry + follow))
    else:
        cut = d.cutoff if d.cutoff is not None else d.accrual + d.follow_up
    return np.clip(np.minimum(follow, cut - entry), 0.0, None), cut


def _replicate(s: TrialScenario, r: int, seed: int, pool: Patients, reads: dict[str, ArmReads], ns: list[int],
               rules: RecistRules, bor_cache: dict, bootstrap: bool, death_day: np.ndarray) -> pd.DataFrame:
    """One replicate trial. ``bootstrap``: patients drawn with replacement (the pool is smaller than the
    replicates need, so drawing without replacement would understate between-trial variability)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1000 + r]))
    arms = [a.name for a in s.arms]
    V = pool.n
    if s.design.allocation == "paired":
        n = ns[0]
        pick = rng.choice(V, size=n, replace=bootstrap or n > V)
        who = np.tile(pick, len(arms))
        arm_idx = np.repeat(np.arange(len(arms)), n)
        entry = np.tile(rng.uniform(0.0, s.design.accrual, n), len(arms))
    else:
        total = sum(ns)
        who = rng.choice(V, size=total, replace=bootstrap or total > V)
        arm_idx = _allocate(s, pool.covariates.iloc[who].reset_index(drop=True), ns, rng)
        entry = rng.uniform(0.0, s.design.accrual, total)
    scan_days = reads[arms[0]].scan_days
    first_pd = np.array([reads[arms[a]].first_pd[p] for a, p in zip(arm_idx, who)])
    pd_day = np.where(first_pd >= 0, scan_days[np.maximum(first_pd, 0)], np.inf)
    death = death_day[who]
    follow, _ = _observed_visits(s, entry, np.minimum(pd_day, death), rng)
    k = np.searchsorted(scan_days, np.minimum(follow, death), side="right")  # scans seen before censoring or death
    progressed = (first_pd >= 0) & (first_pd < k)
    died = ~progressed & (death <= follow)  # death without progression is a PFS event at the day of death
    event = progressed | died
    last_seen = np.where(k > 0, scan_days[np.maximum(k - 1, 0)], 0.0)
    pfs = np.where(progressed, pd_day, np.where(died, death, last_seen))
    # each scan happens within the protocol's visit window, on the patient's own day, the same in every paired arm
    # (drawn last: no earlier draw moves)
    rows = who.size // len(arms) if s.design.allocation == "paired" else who.size
    visit = rng.uniform(-s.scan_window, s.scan_window, (rows, scan_days.size))
    visit = np.tile(visit, (who.size // rows, 1))
    read = np.where(progressed, first_pd, k - 1)  # the scan that ends the patient's PFS
    offset = visit[np.arange(who.size), np.clip(read, 0, scan_days.size - 1)]
    pfs = np.where(died | (read < 0), pfs, np.minimum(pfs + offset, np.where(progressed, death, np.inf)))
    bor, benefit = [], []
    for a, p, kk in zip(arm_idx, who, k):
        key = (a, int(p), int(kk))
        if key not in bor_cache:
            rd = reads[arms[a]]
            resp = list(rd.responses[p, 1 : kk + 1])
            b = best_overall_response(scan_days[:kk], resp, rules) if kk else "NE"
            bor_cache[key] = (b, clinical_benefit(scan_days[:kk], resp, b, rules) if kk else False)
        bor.append(bor_cache[key][0])
        benefit.append(bor_cache[key][1])
    cov = pool.covariates.iloc[who].reset_index(drop=True)
    table = pd.DataFrame({
        "replicate": r, "pool_patient": who, "arm": np.array(arms)[arm_idx], "entry_months": entry / DAYS_PER_MONTH,
        "pfs_months": pfs / DAYS_PER_MONTH, "event": event.astype(int), "death_without_progression": died, "scans_seen": k,
        "measurable": np.array([reads[arms[a]].measurable[p] for a, p in zip(arm_idx, who)]),
        "best_overall_response": bor, "clinical_benefit": benefit,
    })
    table["objective_response"] = table["best_overall_response"].isin(["CR", "PR"])
    table["best_pct_change"] = [np.nanmin(reads[arms[a]].pct_change[p, 1 : kk + 1]) if kk and reads[arms[a]].measurable[p] else np.nan
                                for a, p, kk in zip(arm_idx, who, k)]
    for c in ("esr1", "prior_cdk46i", "visceral", "pik3ca", "bone_only", "esr1_variant", "line", "age", "baseline_sld_mm"):
        table[c] = cov[c].to_numpy()
    return table


def _interval(values: list[float]) -> list[float]:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return [math.nan, math.nan]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]


def _median(values: list[float]) -> float:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    return float(np.median(v)) if v.size else math.nan


def _aggregate(reps: list[dict]) -> dict:
    """Median over replicates for every scalar endpoint, and its 95 % prediction interval (``*_pi``)."""
    def walk(template: dict, getters: list) -> dict:
        out = {}
        for k, v in template.items():
            if isinstance(v, dict):
                out[k] = walk(v, [g[k] for g in getters])
            elif isinstance(v, list) or k in ("n", "events", "n_measurable"):
                if k in ("n", "n_measurable", "events"):
                    out[k] = int(round(_median([g[k] for g in getters])))
                    if k == "events":
                        out[f"{k}_pi"] = _interval([g[k] for g in getters])
                else:
                    out[k] = [_median([g[k][0] for g in getters]), _median([g[k][1] for g in getters])]
            else:
                out[k] = _median([g[k] for g in getters])
                out[f"{k}_pi"] = _interval([g[k] for g in getters])
        return out

    return walk(reps[0], reps)


def run_trial(s: TrialScenario, *, replicates: int | None = None, patients_per_arm: int | None = None,
              seed: int | None = None, chunk: int = DEFAULT_CHUNK, progress: bool = False, executor=None,
              checkpoint: str | Path | None = None) -> TrialResult:
    """Run ``replicates`` virtual trials of scenario ``s`` (default: the scenario's own numbers).

    ``chunk``: patients per task (one batched solve each); ``executor``: where tasks run (default
    in-process; :func:`eralpha.engine.make_executor` for Dask); ``checkpoint``: a runs folder whose
    ``.checkpoints/`` keeps finished chunks, so the same call after a kill resumes. None of the three
    changes a number. The scenario's ``knowledge_overrides`` hold for the whole run (patient constants
    included)."""
    from ..knowledge import knowledge_overrides

    with knowledge_overrides(s.knowledge_overrides, origin=f"scenario {s.name}"):
        return _run_trial(s, replicates=replicates, patients_per_arm=patients_per_arm, seed=seed, chunk=chunk,
                          progress=progress, executor=executor, checkpoint=checkpoint)


def _run_trial(s: TrialScenario, *, replicates, patients_per_arm, seed, chunk, progress, executor,
               checkpoint) -> TrialResult:
    from ._calibrate import select_virtual_patients

    t0 = time.perf_counter()
    seed = s.seed if seed is None else int(seed)
    R = int(replicates or s.replicates)
    if R < 1:
        raise InputError(f"replicates must be >= 1 (got {R})", field="replicates", value=R)
    if patients_per_arm is not None and patients_per_arm < 1:
        raise InputError(f"patients per arm must be >= 1 (got {patients_per_arm})", field="patients_per_arm", value=patients_per_arm)
    ns = [patients_per_arm or a.n for a in s.arms]
    per_rep = ns[0] if s.design.allocation == "paired" else sum(ns)
    pool_n = max(per_rep, min(R * per_rep, s.pool))
    days = simulation_days(s)
    scan_days = s.scan_days()
    bar = _Progress(progress)
    store = None
    if checkpoint is not None:
        from ..store._checkpoint import ChunkStore

        store = ChunkStore.for_plan(checkpoint, s.name, checkpoint_plan(s, seed, R, ns))

    def reads_of(label, arm, patients):
        return simulate_reads(label, arm, patients, days, scan_days, seed, chunk=chunk, executor=executor, store=store,
                              progress=bar.advance)

    calibration = None
    reads: dict[str, ArmReads] = {}
    if s.calibration is not None:
        pool, calibration, cal_reads = select_virtual_patients(s, pool_n, seed, reads_of)
    else:
        pool, cal_reads = eligible_patients(s, pool_n, seed), None
    treatment: dict[str, np.ndarray] = {}  # arm -> the regimen (choice name) each pool patient is given
    for i, a in enumerate(s.arms):
        parts = []
        for j, (name, _, drugs) in enumerate(a.options):
            if cal_reads is not None and _same_regimen(drugs, s.calibration.drugs):
                parts.append(cal_reads)
                continue
            label = f"arm{i}" if len(a.options) == 1 else f"arm{i}.{j}"
            parts.append(reads_of(label, arm_regimen(name, drugs, s.design.follow_up), pool))
        which = _investigators_choice(a, pool, seed)
        reads[a.name] = parts[0] if len(parts) == 1 else _chosen_reads(parts, which)
        treatment[a.name] = np.array([name for name, _, _ in a.options])[which]
    rules = RecistRules(confirm=s.confirm_response, cbr_days=s.cbr_weeks * 7.0)
    arms = [a.name for a in s.arms]
    strata = tuple(s.design.stratify) if s.design.allocation == "randomised" else ()
    reps, tables, cache = [], [], {}
    death_day = death_days(pool, seed)
    for r in range(R):
        table = _replicate(s, r, seed, pool, reads, ns, rules, cache, bootstrap=pool.n < R * per_rep, death_day=death_day)
        table["treatment"] = [treatment[a][p] for a, p in zip(table["arm"], table["pool_patient"])]
        tables.append(table)
        # subgroup HRs for the trial as run (replicate 0); Cox fits per subgroup per replicate are the slow part
        reps.append(trial_endpoints(table, arms, s.reference_arm, strata=strata, subgroups=tuple(s.subgroups) if r == 0 else ()))
    endpoints = reps[0] if R == 1 else {**_aggregate([{k: e[k] for k in ("arms", "comparisons")} for e in reps]),
                                        "subgroups": reps[0]["subgroups"]}
    endpoints = {"trial": s.name, "replicates": R, "seed": seed, "reference": s.reference_arm, **endpoints}
    if calibration is not None:
        endpoints["calibration"] = calibration
    first = tables[0]
    visits = _visit_table(first, reads, scan_days)
    result = TrialResult(s, endpoints, reps, first, visits, pool, calibration, time.perf_counter() - t0)
    result.checkpoint = store
    result.tables = {"patients": first, "visits": visits, "replicate_endpoints": _replicate_frame(reps),
                     "all_patients": pd.concat(tables, ignore_index=True)}
    bar.close()
    return result


def _investigators_choice(arm, pool: Patients, seed: int) -> np.ndarray:
    """Index into ``arm.options`` of the regimen each pool patient is given (all 0 for a plain arm): drawn
    with the choice's shares from a stream keyed by the seed, the arm's name and the patient's uid."""
    shares = np.array([share for _, share, _ in arm.options])
    if shares.size == 1:
        return np.zeros(pool.n, dtype=int)
    uid = pool.covariates["uid"].to_numpy(int)
    u = np.random.default_rng(np.random.SeedSequence([seed, 6, zlib.crc32(arm.name.encode())])).random(int(uid.max()) + 1)[uid]
    return np.minimum(np.searchsorted(np.cumsum(shares), u, side="right"), shares.size - 1)


def _chosen_reads(parts: list[ArmReads], which: np.ndarray) -> ArmReads:
    """One arm's reads where patient p's come from ``parts[which[p]]`` (the regimen it was given)."""
    rows = np.arange(which.size)

    def pick(field_name: str) -> np.ndarray:
        return np.stack([getattr(p, field_name) for p in parts])[which, rows]

    return ArmReads(scan_days=parts[0].scan_days, sums=pick("sums"), responses=pick("responses"),
                    pct_change=pick("pct_change"), measurable=pick("measurable"), first_pd=pick("first_pd"),
                    burden=pick("burden"))


def checkpoint_plan(s: TrialScenario, seed: int, replicates: int, ns: list[int]) -> dict:
    """Everything that decides a trial's numbers (the checkpoint folder's fingerprint)."""
    from .. import __version__

    return {"scenario": s.model_dump(mode="json"), "seed": seed, "replicates": replicates, "patients_per_arm": ns,
            "stream_block": STREAM_BLOCK, "eralpha": __version__}


def _same_regimen(a, b) -> bool:
    return [d.model_dump() for d in a] == [d.model_dump() for d in b]


def _visit_table(first: pd.DataFrame, reads: dict[str, ArmReads], scan_days: np.ndarray) -> pd.DataFrame:
    """One row per patient and scan seen (baseline included) of the trial as run."""
    parts = []
    days = np.concatenate([[0.0], scan_days])
    for arm, g in first.groupby("arm", sort=False):
        rd = reads[arm]
        p = g["pool_patient"].to_numpy()
        seen = g["scans_seen"].to_numpy()
        j = np.arange(days.size)
        mask = j[None, :] <= seen[:, None]
        rows, cols = np.nonzero(mask)
        parts.append(pd.DataFrame({
            "patient": g.index.to_numpy()[rows], "arm": arm, "day": days[cols],
            "sum_mm": np.where(rd.measurable[p][rows], rd.sums[p[rows], cols], np.nan),
            "pct_change": rd.pct_change[p[rows], cols], "response": rd.responses[p[rows], cols]}))
    return pd.concat(parts, ignore_index=True).sort_values(["patient", "day"], kind="stable").reset_index(drop=True)


def _replicate_frame(reps: list[dict]) -> pd.DataFrame:
    rows = []
    for r, e in enumerate(reps):
        for arm, v in e["arms"].items():
            rows.append({"replicate": r, "arm": arm, **{k: x for k, x in v.items() if not isinstance(x, list)}})
        for comp, v in e["comparisons"].items():
            rows.append({"replicate": r, "comparison": comp, "hr": v["hr"], "logrank_p": v["logrank_p"]})
    return pd.DataFrame(rows)


class _Progress:
    """A progress bar over simulated members (only at a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from ..report._progress import progress_enabled

            if progress_enabled():
                from rich.console import Console
                from rich.progress import Progress

                self._bar = Progress(console=Console(stderr=True), transient=True)
                self._bar.start()
                self._task = self._bar.add_task("simulating patients", total=None)

    def advance(self, k: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, k)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
