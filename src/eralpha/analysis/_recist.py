"""RECIST 1.1 response assessment, best overall response, ORR / CBR with exact intervals.

The rules follow RECIST 1.1 (Eisenhauer et al., *Eur J Cancer* 2009;45:228–247):

* **CR** — all target lesions gone; every pathological lymph node (target or not) has a short axis
  < 10 mm. Nodes are measured by their short axis, so the sum of diameters need not reach 0 at CR.
* **PR** — sum of target diameters at least 30 % below the *baseline* sum.
* **PD** — sum at least 20 % above the *nadir* (the smallest sum on study, baseline included) **and**
  at least 5 mm larger in absolute terms; or any new lesion; or unequivocal progression of
  non-target disease.
* **SD** — neither PR nor PD.

Overall response per visit combines target, non-target and new-lesion status (RECIST 1.1 Table 1):
target CR with non-target disease still present (non-CR/non-PD) or not evaluated is a PR.

Best overall response (BOR) with confirmation (RECIST 1.1 §4.4): a CR/PR counts only when a repeat
assessment at least ``confirm_days`` later (4 weeks by default) shows the same or a better response;
unconfirmed responses fall back to SD if the SD minimum-duration rule is met. SD needs an assessment
at least ``min_sd_days`` after baseline (the protocol chooses it; 6–8 weeks is usual; default 42 days).

Objective response rate (ORR) = CR + PR; clinical benefit rate (CBR) = CR + PR + SD lasting at least
24 weeks (``cbr_days`` = 168), each with an exact Clopper–Pearson interval (R: ``binom.test``; Prism's
"exact" binomial CI).

Two plain functions serve the virtual-trial layer: :func:`clopper_pearson` and the vectorised
per-visit classifier :func:`classify_sums`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, UnknownNameError
from ._base import Fitter
from ._data import drop_missing, numeric_column, read_table, require_columns, source_name

__all__ = [
    "clopper_pearson",
    "classify_sums",
    "best_overall_response",
    "RecistRules",
    "RecistAssessment",
    "RESPONSES",
    "fisher_vs_reference",
    "clinical_benefit",
]

#: Response categories, best first (the order BOR uses).
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
_RANK = {r: i for i, r in enumerate(RESPONSES)}
_EPS = 1e-9  # "at least 20 %" must include exactly 20 % despite floating-point rounding


def clopper_pearson(k, n, alpha: float = 0.05):
    """Exact (Clopper–Pearson) two-sided ``1 - alpha`` interval for a binomial proportion k/n.

    Vectorised over ``k`` and ``n``. Same as R's ``binom.test(k, n)$conf.int`` and Prism's exact
    ("Clopper–Pearson") interval. 0/10 gives [0, 0.3085]; 5/10 gives [0.1871, 0.8129].

    Returns ``(lower, upper)`` as floats (scalars in, scalars out) or arrays.
    """
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    if np.any(n_arr <= 0) or np.any(k_arr < 0) or np.any(k_arr > n_arr) or np.any(k_arr != np.round(k_arr)):
        raise InputError(
            f"clopper_pearson needs whole numbers 0 <= k <= n and n >= 1 (got k={k}, n={n})",
            field="k, n",
            value=(k, n),
            valid="0 <= k <= n, n >= 1",
        )
    if not 0 < alpha < 1:
        raise InputError(f"alpha must lie between 0 and 1 (got {alpha})", field="alpha", value=alpha)
    with np.errstate(invalid="ignore"):
        lower = np.where(k_arr == 0, 0.0, stats.beta.ppf(alpha / 2, k_arr, n_arr - k_arr + 1))
        upper = np.where(k_arr == n_arr, 1.0, stats.beta.ppf(1 - alpha / 2, k_arr + 1, n_arr - k_arr))
    if lower.ndim == 0:
        return float(lower), float(upper)
    return lower, upper


def fisher_vs_reference(k: int, n: int, k_ref: int, n_ref: int) -> float:
    """Two-sided Fisher's exact p for k/n against k_ref/n_ref (R: ``fisher.test(matrix(...))``)."""
    return float(stats.fisher_exact([[k, n - k], [k_ref, n_ref - k_ref]])[1])


def classify_sums(
    sums,
    *,
    target_cr=None,
    new_lesion=None,
    nontarget_pd=None,
    nontarget_present=None,
    pr_threshold: float = 0.30,
    pd_threshold: float = 0.20,
    pd_min_mm: float = 5.0,
) -> np.ndarray:
    """Vectorised RECIST 1.1 per-visit response from sums of target diameters.

    ``sums`` has shape ``(..., n_visits)``; column 0 is the baseline sum (mm), the others follow-up
    visits in time order (NaN = not evaluable). Optional boolean arrays of the same shape:

    * ``target_cr`` — all target lesions resolved (nodes < 10 mm short axis); default ``sums == 0``.
    * ``new_lesion`` — a new lesion at that visit (PD).
    * ``nontarget_pd`` — unequivocal non-target progression at that visit (PD).
    * ``nontarget_present`` — non-target disease still present (so target CR is only a PR).

    Returns a string array of the same shape: ``"BL"`` in column 0, then one of CR, PR, SD, PD, NE.
    The nadir for PD is the smallest evaluable sum *before* the visit (baseline included).
    """
    s = np.asarray(sums, dtype=float)
    if s.ndim == 0 or s.shape[-1] < 1:
        raise InputError("sums must have a baseline column (shape (..., n_visits))", field="sums", value=s.shape)
    if np.any(s < 0):
        raise InputError("sums of diameters cannot be negative", field="sums", valid="values >= 0 mm")

    def flag(x, default):
        return default if x is None else np.broadcast_to(np.asarray(x, dtype=bool), s.shape)

    target_cr = flag(target_cr, s == 0)
    new_lesion = flag(new_lesion, np.zeros(s.shape, bool))
    nontarget_pd = flag(nontarget_pd, np.zeros(s.shape, bool))
    nontarget_present = flag(nontarget_present, np.zeros(s.shape, bool))

    baseline = s[..., :1]
    # Running minimum of the evaluable sums seen before each visit (NaN visits do not reset it).
    filled = np.where(np.isnan(s), np.inf, s)
    nadir_incl = np.minimum.accumulate(filled, axis=-1)
    nadir = np.concatenate([baseline, nadir_incl[..., :-1]], axis=-1)

    with np.errstate(invalid="ignore"):
        rise = s - nadir
        target_pd = (rise >= pd_threshold * nadir - _EPS) & (rise >= pd_min_mm - _EPS)
        target_pr = (s - baseline) <= -pr_threshold * baseline + _EPS
    evaluable = ~np.isnan(s)

    out = np.full(s.shape, "SD", dtype="<U2")
    out[target_pr & evaluable] = "PR"
    out[target_cr & evaluable & ~nontarget_present] = "CR"
    out[target_cr & evaluable & nontarget_present] = "PR"  # RECIST 1.1 Table 1
    out[~evaluable] = "NE"
    out[(target_pd & evaluable) | new_lesion | nontarget_pd] = "PD"
    out[..., 0] = "BL"
    return out


@dataclass(frozen=True)
class RecistRules:
    """The protocol choices for best overall response (RECIST 1.1 leaves them to the protocol).

    confirm: require confirmation of CR/PR (RECIST 1.1 asks for it in non-randomised trials where
        response is the primary end point; randomised trials often do not).
    confirm_days: minimum interval between a response and its confirming assessment (4 weeks).
    min_sd_days: minimum time from baseline for an SD assessment to count as BOR SD.
    cbr_days: minimum duration of SD for clinical benefit (24 weeks = 168 days).
    """

    confirm: bool = True
    confirm_days: float = 28.0
    min_sd_days: float = 42.0
    cbr_days: float = 168.0

    def __post_init__(self) -> None:
        for name in ("confirm_days", "min_sd_days", "cbr_days"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise InputError(f"{name} must be a number of days >= 0 (got {value})", field=name, value=value)


def best_overall_response(days, responses, rules: RecistRules = RecistRules()) -> str:
    """Best overall response for one patient from follow-up visit days and per-visit responses.

    Only assessments up to and including the first PD count. With ``rules.confirm``, a CR (PR) needs
    a later assessment at least ``confirm_days`` on showing CR (PR or CR); intervening SD is allowed.
    An unconfirmed response, or SD, counts as SD only if it was seen at least ``min_sd_days`` after
    baseline; otherwise BOR is PD if progression followed, else NE.
    """
    days = np.asarray(days, dtype=float)
    responses = list(responses)
    if "PD" in responses:
        cut = responses.index("PD") + 1
        days, responses = days[:cut], responses[:cut]
    best = "PD" if "PD" in responses else "NE"
    for i, (day, resp) in enumerate(zip(days, responses)):
        if resp in ("CR", "PR"):
            if rules.confirm:
                later = [r for d, r in zip(days[i + 1 :], responses[i + 1 :]) if d - day >= rules.confirm_days - _EPS]
                ok = {"CR"} if resp == "CR" else {"CR", "PR"}
                confirmed = any(r in ok for r in later)
            else:
                confirmed = True
            if confirmed:
                candidate = resp
            elif day >= rules.min_sd_days - _EPS:
                candidate = "SD"
            else:
                continue
        elif resp == "SD" and day >= rules.min_sd_days - _EPS:
            candidate = "SD"
        else:
            continue
        if _RANK[candidate] < _RANK[best]:
            best = candidate
    return best


def clinical_benefit(days, responses, bor: str, rules: RecistRules = RecistRules()) -> bool:
    """Clinical benefit: BOR CR/PR, or SD with a non-PD assessment at least ``cbr_days`` after baseline."""
    days = np.asarray(days, dtype=float)
    responses = list(responses)
    upto = responses.index("PD") if "PD" in responses else len(responses)
    non_pd_days = days[:upto]
    return bool(bor in ("CR", "PR") or (bor == "SD" and len(non_pd_days) > 0
                                         and non_pd_days.max() >= rules.cbr_days - _EPS))


_TYPE_ALIASES = {
    "target": "target",
    "t": "target",
    "non-target": "non-target",
    "nontarget": "non-target",
    "non_target": "non-target",
    "non target": "non-target",
    "nt": "non-target",
    "new": "new",
    "new lesion": "new",
}
_NONTARGET_PD = {"pd", "progression", "unequivocal progression", "progressed"}
_NONTARGET_GONE = {"cr", "absent", "gone", "resolved", "disappeared", "0"}
_NONTARGET_PRESENT = {"present", "non-cr/non-pd", "noncr/nonpd", "non-cr", "stable", "1"}
_NONTARGET_NE = {"ne", "not evaluated", "unknown", "nan", ""}


def _yes_no(value, *, file: str, column: str, row: int) -> bool:
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "node", "1.0"}:
        return True
    if text in {"0", "false", "no", "n", "", "nan", "0.0"}:
        return False
    raise InputError(
        f"row {row}, column '{column}': '{value}' is not yes/no",
        file=file,
        field=column,
        value=value,
        valid="1/0, true/false, yes/no",
    )


class RecistAssessment(Fitter):
    """RECIST 1.1 from a lesion-level table: per-visit response, BOR, TTP, ORR and CBR per arm.

    One row per lesion per visit. Columns (names configurable):

    ========== =========================================================================
    patient    patient identifier
    day        days since baseline / randomisation; the earliest day per patient is baseline
    lesion     lesion identifier (the same lesion keeps its id across visits)
    type       ``target`` / ``non-target`` / ``new``
    diameter   target lesions: longest diameter in mm (short axis for lymph nodes); 0 = gone
    node       optional: 1 if the lesion is a lymph node (CR then needs short axis < 10 mm)
    status     optional: non-target status: ``present`` (non-CR/non-PD), ``absent`` (CR),
               ``PD`` (unequivocal progression); empty = not evaluated
    arm        optional: treatment arm (rates are reported per arm)
    ========== =========================================================================

    Equivalents: there is no single R function; this reproduces what clinical-trial SAS macros and
    the ``{admiralonco}`` R package derive as BOR (``derive_extreme_event``) with RECIST 1.1 rules;
    rates use R's ``binom.test`` exact interval.

    Results: ``visits_`` (per visit), ``patients_`` (BOR, TTP, clinical benefit), ``rates_``
    (ORR, CBR per arm with Clopper–Pearson CI and Fisher's exact test against ``reference``).
    """

    def __init__(
        self,
        *,
        patient: str = "patient",
        day: str = "day",
        lesion: str = "lesion",
        lesion_type: str = "type",
        diameter: str = "diameter",
        node: str | None = None,
        status: str | None = None,
        arm: str | None = None,
        reference: str | None = None,
        rules: RecistRules = RecistRules(),
        alpha: float = 0.05,
    ) -> None:
        self.patient, self.day, self.lesion, self.lesion_type = patient, day, lesion, lesion_type
        self.diameter, self.node, self.status, self.arm = diameter, node, status, arm
        self.reference, self.rules, self.alpha = reference, rules, alpha

    # -- reading -------------------------------------------------------------------------------
    def _read(self, data) -> pd.DataFrame:
        df = read_table(data) if isinstance(data, (str, Path)) else data.reset_index(drop=True)
        src = source_name(df)
        require_columns(df, [self.patient, self.day, self.lesion, self.lesion_type, self.diameter,
                             self.node, self.status, self.arm])
        df, self.drop_report_ = drop_missing(df, [self.patient, self.day, self.lesion, self.lesion_type],
                                             require_rows=True)
        df.attrs["source"] = src
        out = pd.DataFrame({
            "patient": df[self.patient].astype(str).to_numpy(),
            "day": numeric_column(df, self.day, allow_missing=False),
            "lesion": df[self.lesion].astype(str).to_numpy(),
            "diameter": numeric_column(df, self.diameter, allow_negative=False),
            "arm": df[self.arm].astype(str).to_numpy() if self.arm else "all",
            "row": df.index.to_numpy() + 2,
        })
        types = []
        for row, value in zip(out["row"], df[self.lesion_type]):
            key = str(value).strip().lower()
            if key not in _TYPE_ALIASES:
                raise InputError(
                    f"row {row}, column '{self.lesion_type}': unknown lesion type '{value}'",
                    file=src, field=self.lesion_type, value=value, valid="target, non-target, new",
                )
            types.append(_TYPE_ALIASES[key])
        out["type"] = types
        out["node"] = (
            [_yes_no(v, file=src, column=self.node, row=r) for r, v in zip(out["row"], df[self.node])]
            if self.node else False
        )
        out["status"] = self._nontarget_status(df, out, src)
        bad = out[(out["type"] == "target") & out["diameter"].isna()]
        if len(bad):
            r = int(bad["row"].iloc[0])
            raise InputError(
                f"row {r}, column '{self.diameter}': a target lesion needs a diameter (0 if it has gone)",
                file=src, field=self.diameter, valid="a diameter in mm >= 0",
            )
        dup = out[out["type"] != "new"].duplicated(["patient", "day", "lesion"], keep=False)
        if dup.any():
            r = int(out.loc[dup[dup].index[0], "row"])
            raise InputError(
                f"row {r}: lesion '{out.loc[dup[dup].index[0], 'lesion']}' of patient "
                f"'{out.loc[dup[dup].index[0], 'patient']}' appears twice on the same day",
                file=src, field=self.lesion, valid="one row per lesion per visit",
            )
        arms = out.groupby("patient")["arm"].nunique()
        if (arms > 1).any():
            raise InputError(
                f"patient '{arms[arms > 1].index[0]}' is listed in more than one arm",
                file=src, field=self.arm, valid="one arm per patient",
            )
        return out

    def _nontarget_status(self, df: pd.DataFrame, out: pd.DataFrame, src: str) -> list[str]:
        if not self.status:
            return ["present"] * len(out)
        labels = []
        for row, kind, value in zip(out["row"], out["type"], df[self.status]):
            key = "" if pd.isna(value) else str(value).strip().lower()
            if key in _NONTARGET_PD:
                labels.append("PD")
            elif key in _NONTARGET_GONE:
                labels.append("absent")
            elif key in _NONTARGET_PRESENT:
                labels.append("present")
            elif key in _NONTARGET_NE:
                labels.append("present" if kind == "non-target" and key == "" else "NE")
            else:
                raise InputError(
                    f"row {row}, column '{self.status}': unknown non-target status '{value}'",
                    file=src, field=self.status, value=value, valid="present, absent, PD (or empty)",
                )
        return labels

    # -- per patient ---------------------------------------------------------------------------
    def _patient_visits(self, pid: str, rows: pd.DataFrame, src: str) -> pd.DataFrame:
        days = np.sort(rows["day"].unique())
        base = rows[rows["day"] == days[0]]
        targets = base.loc[base["type"] == "target", "lesion"].tolist()
        if not targets:
            raise InputError(
                f"patient '{pid}' has no target lesion at baseline (day {days[0]:g})",
                file=src, field=self.lesion_type, valid="at least one measurable target lesion at baseline",
            )
        nodes = set(base.loc[(base["type"] == "target") & base["node"], "lesion"])
        has_nontarget = bool((base["type"] == "non-target").any())
        records = []
        for day in days:
            visit = rows[rows["day"] == day]
            tgt = visit[visit["type"] == "target"].set_index("lesion")["diameter"]
            missing = [t for t in targets if t not in tgt.index]
            total = np.nan if missing else float(tgt.loc[targets].sum())
            cr = (not missing) and all(
                (tgt[t] < 10.0) if t in nodes else (tgt[t] == 0.0) for t in targets
            )
            nt = visit.loc[visit["type"] == "non-target", "status"]
            nt_pd = bool((nt == "PD").any())
            # Non-target disease counts as present unless every baseline non-target lesion is absent.
            nt_present = has_nontarget and not (len(nt) > 0 and bool((nt == "absent").all()))
            records.append({
                "patient": pid, "arm": rows["arm"].iloc[0], "day": float(day), "sum_mm": total,
                "target_cr": cr, "new_lesion": bool((visit["type"] == "new").any()) and day != days[0],
                "nontarget_pd": nt_pd and day != days[0], "nontarget_present": nt_present,
            })
        visits = pd.DataFrame(records)
        visits["response"] = classify_sums(
            visits["sum_mm"].to_numpy(),
            target_cr=visits["target_cr"].to_numpy(),
            new_lesion=visits["new_lesion"].to_numpy(),
            nontarget_pd=visits["nontarget_pd"].to_numpy(),
            nontarget_present=visits["nontarget_present"].to_numpy(),
        )
        base_sum = visits["sum_mm"].iloc[0]
        nadir = np.minimum.accumulate(visits["sum_mm"].fillna(np.inf).to_numpy())
        visits["pct_from_baseline"] = 100.0 * (visits["sum_mm"] - base_sum) / base_sum if base_sum > 0 else np.nan
        prior_nadir = np.concatenate([[base_sum], nadir[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            visits["pct_from_nadir"] = 100.0 * (visits["sum_mm"] - prior_nadir) / prior_nadir
        return visits

    def _patient_outcome(self, visits: pd.DataFrame) -> dict:
        follow = visits.iloc[1:]
        days = follow["day"].to_numpy() - visits["day"].iloc[0]
        resp = follow["response"].tolist()
        bor = best_overall_response(days, resp, self.rules)
        progressed = "PD" in resp
        upto = resp.index("PD") if progressed else len(resp)
        ttp = days[upto] if progressed else (days[-1] if len(days) else 0.0)
        benefit = clinical_benefit(days, resp, bor, self.rules)
        best_pct = follow["pct_from_baseline"].min() if len(follow) else np.nan
        return {
            "patient": visits["patient"].iloc[0], "arm": visits["arm"].iloc[0],
            "baseline_sum_mm": visits["sum_mm"].iloc[0], "best_pct_change": best_pct,
            "best_overall_response": bor, "objective_response": bor in ("CR", "PR"),
            "clinical_benefit": bool(benefit), "progressed": progressed, "ttp_days": float(ttp),
            "n_assessments": len(follow),
        }

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, data) -> "RecistAssessment":
        """Assess every patient. ``data``: a DataFrame or a CSV / TSV / Parquet path."""
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha must lie between 0 and 1 (got {self.alpha})", field="alpha", value=self.alpha)
        table = self._read(data)
        src = source_name(data)
        visits = [self._patient_visits(pid, rows, src) for pid, rows in table.groupby("patient", sort=False)]
        self.visits_ = pd.concat(visits, ignore_index=True)
        self.patients_ = pd.DataFrame([self._patient_outcome(v) for v in visits])
        self.rates_ = self._rates(self.patients_, src)
        self._fitted = True
        return self

    def _rates(self, patients: pd.DataFrame, src: str) -> pd.DataFrame:
        arms = list(dict.fromkeys(patients["arm"]))
        reference = self.reference
        if reference is not None and reference not in arms:
            raise UnknownNameError("arm", reference, arms, file=src, field="reference")
        rows = []
        for arm in arms:
            p = patients[patients["arm"] == arm]
            n = len(p)
            row = {"arm": arm, "n": n}
            for label, col in (("ORR", "objective_response"), ("CBR", "clinical_benefit")):
                k = int(p[col].sum())
                lo, hi = clopper_pearson(k, n, self.alpha)
                row.update({f"{label}_k": k, label: k / n, f"{label}_lower": lo, f"{label}_upper": hi})
                if reference is not None and arm != reference:
                    q = patients[patients["arm"] == reference]
                    row[f"{label}_p_fisher"] = fisher_vs_reference(k, n, int(q[col].sum()), len(q))
            for r in RESPONSES:
                row[r] = int((p["best_overall_response"] == r).sum())
            rows.append(row)
        return pd.DataFrame(rows).set_index("arm")

    @property
    def summary(self) -> pd.DataFrame:
        """ORR and CBR per arm (proportions) with Clopper–Pearson limits and BOR counts."""
        self._require_fit()
        return self.rates_

    def plot(self, ax=None):
        """Waterfall plot of the best % change of the target sum, coloured by BOR (−30 % and +20 % lines)."""
        from ._xenograft import new_axes

        self._require_fit()
        ax = new_axes(ax, (8, 4))
        colours = {"CR": "#1b7837", "PR": "#5aae61", "SD": "#9e9ac8", "PD": "#d6604d", "NE": "#bdbdbd"}
        p = self.patients_.sort_values("best_pct_change", ascending=False, na_position="first")
        x = np.arange(len(p))
        ax.bar(x, p["best_pct_change"].fillna(0), color=[colours[b] for b in p["best_overall_response"]])
        ax.axhline(20, ls="--", c="k", lw=0.8)
        ax.axhline(-30, ls="--", c="k", lw=0.8)
        ax.axhline(0, c="k", lw=0.6)
        for r in RESPONSES:
            if (p["best_overall_response"] == r).any():
                ax.bar([np.nan], [np.nan], color=colours[r], label=r)
        ax.legend(title="BOR", ncol=5, fontsize=8, loc="upper right")
        ax.set_xticks([])
        ax.set_xlabel("patients")
        ax.set_ylabel("best change in sum of target diameters (%)")
        ax.set_title("RECIST 1.1 waterfall")
        return ax
