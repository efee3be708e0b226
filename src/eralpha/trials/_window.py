"""Window-of-opportunity readout: the Ki67 of a patient's tumour before and during neoadjuvant-style treatment.

Untreated-primary-like patients (ESR1 wild type, PIK3CA at the population's prevalence, postmenopausal
oestradiol with the patient's own factor, Tpot per patient; docs/trials.md "The patient") get a regimen of the
pk layer's human models; the tumour model's ``Ki67`` readout (model/_tumour.py: ki67_basal + (ki67_max -
ki67_basal) x proliferation rate / the patient's maximal rate; for a patient ki67_max is her growth fraction
human_cell_cycle_time / Tpot, and resting cells carry no Ki67, ki67_basal 0) is read at the biopsy days. The summaries are
those that window trials report: the median baseline Ki67, the geometric-mean fall from baseline (IMPACT,
POETIC, Z1031) and the share of tumours at complete cell-cycle arrest (Ki67 <= 2.7 %, NeoPalAna). Day 0 is the
first dose, after the trial layer's drug-free run-in (WARMUP_DAYS), exactly as a trial patient's day 0.

    from eralpha.trials import window_ki67
    w = window_ki67(["anastrozole", "tamoxifen"], patients=100)
    w.summary()["anastrozole"]["geometric_mean_fall"][14.0]   # fall of Ki67 at day 14 (0.63; IMPACT: 0.76)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine._streams import block_rng
from ..errors import InputError, UnknownNameError
from ..knowledge import load_knowledge
from ..population import Patients, PopulationSpec, sample_patients
from ._assess import patient_clone_mix
from ._schema import DrugSpec
from ._simulate import arm_batch, arm_regimen, lesion_clone_shares, solve_members

__all__ = ["WINDOW_REGIMENS", "WindowKi67", "window_ki67", "ccca_ki67"]

#: Window-trial regimens (compound, label regimen): the doses of IMPACT, POETIC, Z1031 and NeoPalAna. NeoPalAna
#: gave anastrozole alone for 4 weeks, then palbociclib 125 mg 3 weeks on / 1 off with it from cycle 1 day 1.
WINDOW_REGIMENS: dict[str, tuple[tuple[str, str], ...]] = {
    "untreated": (),
    "anastrozole": (("anastrozole", "1 mg oral q24h"),),
    "letrozole": (("letrozole", "2.5 mg oral q24h"),),
    "exemestane": (("exemestane", "25 mg oral q24h"),),
    "tamoxifen": (("tamoxifen", "20 mg oral q24h"),),
    "anastrozole + tamoxifen": (("anastrozole", "1 mg oral q24h"), ("tamoxifen", "20 mg oral q24h")),
    "anastrozole + palbociclib": (("anastrozole", "1 mg oral q24h"), ("palbociclib", "125 mg oral q24h 21/7")),
    "anastrozole, palbociclib from day 29": (("anastrozole", "1 mg oral q24h"),
                                            ("palbociclib", "125 mg oral q24h 21/7 from day 29")),
}
_POPULATION = PopulationSpec(line={1: 1.0}, prior_ai=0.0, prior_cdk46i=0.0, prior_fulvestrant=0.0, prior_chemo=0.0,
                             esr1_mutant=0.0, exclude_brain=True)


@dataclass
class WindowKi67:
    """Per regimen the (patients, days) Ki67 fraction, G1-arrested and senescent shares of the tumour."""

    days: np.ndarray
    patients: Patients
    ki67: dict[str, np.ndarray]
    frac_arrested: dict[str, np.ndarray]
    frac_senescent: dict[str, np.ndarray]

    def geometric_mean_fall(self, regimen: str) -> np.ndarray:
        """1 - geometric mean of Ki67(day) / Ki67(day 0) over patients, at every day."""
        k = self.ki67[regimen]
        return 1.0 - np.exp(np.mean(np.log(k / k[:, :1]), axis=0))

    def summary(self) -> dict[str, dict]:
        """Per regimen: median and geometric-mean Ki67, geometric-mean fall, share at CCCA (Ki67 <= 2.7 %),
        and the median senescent / G1-arrested shares — each keyed by day."""
        out = {}
        for name, k in self.ki67.items():
            d = [float(x) for x in self.days]
            out[name] = {
                "median_ki67": dict(zip(d, np.median(k, axis=0).tolist())),
                "geometric_mean_ki67": dict(zip(d, np.exp(np.mean(np.log(k), axis=0)).tolist())),
                "geometric_mean_fall": dict(zip(d, self.geometric_mean_fall(name).tolist())),
                "ccca_share": dict(zip(d, np.mean(k <= ccca_ki67(), axis=0).tolist())),
                "median_frac_senescent": dict(zip(d, np.median(self.frac_senescent[name], axis=0).tolist())),
                "median_frac_arrested": dict(zip(d, np.median(self.frac_arrested[name], axis=0).tolist())),
            }
        return out


def window_patients(n: int, seed: int) -> Patients:
    """``n`` untreated-primary-like patients: first line, no prior therapy, ESR1 wild type, no brain lesion,
    PIK3CA, Tpot and oestradiol factor drawn as the population layer draws them."""
    p = sample_patients(_POPULATION, n, block_rng(seed, "window", 0))
    p.covariates["uid"] = np.arange(p.n)  # keys each patient's PK stream, as in a trial
    return p


def window_ki67(regimens=None, *, patients: int | Patients = 200, days=(0.0, 14.0), seed: int = 20050101) -> WindowKi67:
    """The tumour's Ki67 at ``days`` (day 0: before the first dose) under each regimen.

    ``regimens``: names of :data:`WINDOW_REGIMENS`, or a mapping name -> [(compound, regimen text), ...];
    default: all of :data:`WINDOW_REGIMENS`. ``patients``: a number of :func:`window_patients` or a
    :class:`Patients` table (every clone type it carries is simulated; the Ki67 is that of the patient's cells).
    Human kinetics (``human_fate_rate_exponent`` …) are read from the knowledge base, so
    ``knowledge_overrides`` applies."""
    if regimens is None:
        regimens = dict(WINDOW_REGIMENS)
    elif not isinstance(regimens, dict):
        names = list(regimens)
        for r in names:
            if r not in WINDOW_REGIMENS:
                raise UnknownNameError("window regimen", r, WINDOW_REGIMENS, field="regimens")
        regimens = {r: WINDOW_REGIMENS[r] for r in names}
    days = np.asarray(sorted(set(float(d) for d in days)), dtype=float)
    if days.size < 1 or days[0] != 0.0:
        raise InputError("window days must start at 0 (the baseline biopsy)", field="days", value=days.tolist(),
                         valid="days >= 0 including 0, e.g. (0, 14)")
    pts = window_patients(int(patients), seed) if isinstance(patients, (int, np.integer)) else patients
    horizon = max(float(days[-1]), 1.0)
    times = np.append(days, horizon) if days[-1] < horizon else days
    out = {"Ki67": {}, "frac_arrested": {}, "frac_senescent": {}}
    for name, drugs in regimens.items():
        arm = arm_regimen(name, [DrugSpec(compound=c, regimen=text) for c, text in drugs], horizon)
        b = arm_batch(arm, pts, times, seed=seed, readouts=("Ki67", "frac_arrested"))
        # the baseline biopsy is drug-free: arm_batch starts an aromatase inhibitor's oestradiol suppression at day 0
        res = solve_members(b)
        # a patient's Ki67: the cells of her clones pooled, weighted by each clone's share of her cells
        w = _clone_weights(pts, b.member_patient, b.member_type, res["cells"], arm.has_cdk46i)
        for key in out:
            x = np.asarray(res[key])[:, :days.size]
            pooled = np.zeros((pts.n, days.size))
            np.add.at(pooled, b.member_patient, w[:, :days.size] * x)
            out[key][name] = pooled
    return WindowKi67(days, pts, out["Ki67"], out["frac_arrested"], out["frac_senescent"])


def _clone_weights(pts: Patients, mp: np.ndarray, mt: np.ndarray, cells: np.ndarray, cdk46i: bool) -> np.ndarray:
    """(members, T) each member's share of its patient's cells: her clone shares (mean over lesions) x fold;
    without a CDK4/6 inhibitor a resistant clone is its sensitive twin (as arm_batch merges them)."""
    share = patient_clone_mix(pts, lesion_clone_shares(pts.lesions, cdk46i))
    fold = cells / cells[:, :1]
    raw = share[mp, mt][:, None] * fold
    tot = np.zeros((pts.n, cells.shape[1]))
    np.add.at(tot, mp, raw)
    return raw / tot[mp]


# ------------------------------------------------------------------------------------------ published comparisons
#: Criteria of the comparison (not model numbers): a geometric-mean fall within 10 points of the published one (so that
#: IMPACT's anastrozole and tamoxifen arms, 76 % and 59 %, stay distinguishable); a CCCA share within 15 points (about
#: the 95 % binomial interval at NeoPalAna's 50 patients: 26 % -> 15-40 %, 87 % -> 76-94 %); a baseline median within
#: a factor 2 of the published; palbociclib lowers the geometric-mean Ki67 at C1D15 by at least a fifth.
FALL_TOLERANCE = 0.10
CCCA_TOLERANCE = 0.15
BASELINE_FACTOR = 2.0
PALBOCICLIB_RATIO = 0.8
#: (days, regimens) every check needs: IMPACT at 2 weeks, Gandini's untreated interval (41 days), NeoPalAna's C1D1
#: (day 28) and C1D15 (day 42), Z1031's 16 weeks.
CHECK_DAYS = (0.0, 14.0, 28.0, 41.0, 42.0, 112.0)
CHECK_REGIMENS = ("untreated", "anastrozole", "letrozole", "exemestane", "tamoxifen", "anastrozole + tamoxifen",
                  "anastrozole, palbociclib from day 29")


def _published(result_id: str) -> float:
    return load_knowledge().published_result(result_id).value.value


def ccca_ki67() -> float:
    """Complete cell-cycle arrest: the Ki67 fraction at or below which a tumour counts as arrested (NeoPalAna, Ma CX et
    al. 2017: 2.7 %; the knowledge base's published entry neopalana.ccca_ki67_cutoff)."""
    return _published("neopalana.ccca_ki67_cutoff") / 100


def window_checks(w: WindowKi67 | None = None, *, patients: int = 200, seed: int = 20050101) -> list[dict]:
    """The model's Ki67 readouts against the knowledge base's published window-trial values (published.yaml,
    ``window.*``, ``impact.*``, ``z1031.*``, ``neopalana.*``): one dict per comparison with ``id``, ``quantity``,
    ``published``, ``model``, ``criterion`` and ``passed``. ``w``: a :func:`window_ki67` result holding
    :data:`CHECK_REGIMENS` at :data:`CHECK_DAYS` (default: computed)."""
    if w is None:
        w = window_ki67(CHECK_REGIMENS, patients=patients, days=CHECK_DAYS, seed=seed)
    day = {float(d): i for i, d in enumerate(w.days)}
    missing = [d for d in CHECK_DAYS if d not in day] + [r for r in CHECK_REGIMENS if r not in w.ki67]
    if missing:
        raise InputError(f"the window result lacks {missing}", field="w", valid=f"days {CHECK_DAYS}, regimens {CHECK_REGIMENS}")
    rows = []

    def fall(reg, d):
        return float(w.geometric_mean_fall(reg)[day[d]])

    def row(rid, quantity, published, model, criterion, passed):
        rows.append({"id": rid, "quantity": quantity, "published": published, "model": model, "criterion": criterion,
                     "passed": bool(passed)})

    base = float(np.median(w.ki67["untreated"][:, 0])) * 100
    pub = _published("window.baseline_ki67_median")
    row("window.baseline_ki67_median", "median baseline Ki67, %", pub, base, f"within x{BASELINE_FACTOR:g}",
        pub / BASELINE_FACTOR <= base <= pub * BASELINE_FACTOR)
    k = w.ki67["untreated"]
    change = float(np.mean(k[:, day[41.0]] - k[:, 0])) * 100
    bound = _published("window.untreated_ki67_stability_luminal")
    row("window.untreated_ki67_stability_luminal", "untreated: mean Ki67 change over 41 days, points", 0.0, change,
        f"|change| <= {bound:g}", abs(change) <= bound)
    for rid, reg, d in (("impact.ki67_fall_2w_anastrozole", "anastrozole", 14.0),
                        ("impact.ki67_fall_2w_tamoxifen", "tamoxifen", 14.0),
                        ("impact.ki67_fall_2w_combination", "anastrozole + tamoxifen", 14.0),
                        ("z1031.ki67_fall_16w_anastrozole", "anastrozole", 112.0),
                        ("z1031.ki67_fall_16w_letrozole", "letrozole", 112.0),
                        ("z1031.ki67_fall_16w_exemestane", "exemestane", 112.0)):
        pub, model = _published(rid), fall(reg, d) * 100
        row(rid, f"{reg}: geometric-mean Ki67 fall at day {d:g}, %", pub, model, f"within {FALL_TOLERANCE * 100:g} points",
            abs(model - pub) <= FALL_TOLERANCE * 100)
    row("impact.anastrozole_beyond_tamoxifen", "anastrozole's 2-week fall exceeds tamoxifen's (IMPACT P = 0.004), points",
        _published("impact.ki67_fall_2w_anastrozole") - _published("impact.ki67_fall_2w_tamoxifen"),
        (fall("anastrozole", 14.0) - fall("tamoxifen", 14.0)) * 100, "> 0",
        fall("anastrozole", 14.0) > fall("tamoxifen", 14.0))
    palbo = "anastrozole, palbociclib from day 29"
    for rid, d in (("neopalana.ccca_c1d1_anastrozole", 28.0), ("neopalana.ccca_c1d15_palbociclib", 42.0)):
        pub = _published(rid)
        model = float(np.mean(w.ki67[palbo][:, day[d]] <= ccca_ki67())) * 100
        row(rid, f"{palbo}: share at CCCA (Ki67 <= 2.7 %) on day {d:g}, %", pub, model,
            f"within {CCCA_TOLERANCE * 100:g} points", abs(model - pub) <= CCCA_TOLERANCE * 100)
    gm = {r: float(np.exp(np.mean(np.log(w.ki67[r][:, day[42.0]])))) for r in ("anastrozole", palbo)}
    ratio = gm[palbo] / gm["anastrozole"]
    row("neopalana.palbociclib_adds", "C1D15: geometric-mean Ki67 with / without palbociclib", None, ratio,
        f"<= {PALBOCICLIB_RATIO:g}", ratio <= PALBOCICLIB_RATIO)
    return rows


_DERIVED_SOURCE = {"impact.anastrozole_beyond_tamoxifen": "impact.ki67_fall_2w_anastrozole",
                   "neopalana.palbociclib_adds": "neopalana.ccca_c1d15_palbociclib"}


def window_scorecard_rows() -> list[dict]:
    """:func:`window_checks` at the shipped defaults as scorecard rows (kind prediction: nothing is tuned to them)."""
    kb = load_knowledge()
    rows = []
    for r in window_checks():
        pub = kb.published_result(_DERIVED_SOURCE.get(r["id"], r["id"]))
        target = "CCCA 26 -> 87 %" if r["published"] is None else r["published"]
        rows.append({"id": f"ki67.{r['id']}", "quantity": r["quantity"], "source": pub.value.source,
                     "target": target, "simulated": r["model"],
                     "tolerance": f"{r['criterion']} ({len(CHECK_REGIMENS)} window regimens, 200 untreated-primary-like patients)",
                     "kind": "prediction", "passed": r["passed"]})
    return rows
