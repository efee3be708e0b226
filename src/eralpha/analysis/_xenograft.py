"""Xenograft statistics: growth curves, per-animal growth rates, TGI and T/C, mixed models,
terminal tumour weights and ex-vivo metastasis luminescence.

Input schema (one row per animal per measurement day; column names are options):

=========== ================================================================================
animal      animal identifier (unique across the study)
group       treatment group; one per animal
day         study day (day 0 = randomisation / first dose is usual, any origin works)
size        one of: ``volume`` (mm³); ``length`` + ``width`` callipers (mm), volume
            = L·W²/2 with L the longer and W the shorter diameter; ``luminescence``
            (total flux, photons/s)
=========== ================================================================================

Definitions (stated because papers differ):

* **Growth curve**: mean ± SEM of the size in each group on each day, over the animals measured that
  day (``n`` is reported; animals that leave the study are *not* carried forward, so later means
  describe the survivors).
* **Growth rate**: per animal, the OLS slope of ln(size) against day (per day); doubling time
  = ln 2 / slope.
* **TGI %** at day D = 100 · (1 − ΔT/ΔC), ΔX = mean over animals measured at D of (size at D − size at
  that animal's baseline). 100 % = stasis, > 100 % = regression.
* **T/C %** at day D = 100 · mean(T at D) / mean(C at D).
* **Group comparisons** on the log scale, against the control group:
  (a) a linear mixed-effects model ln(size) ~ day · group with a random intercept and (if it can be
  estimated) a random slope per animal (statsmodels ``MixedLM``, REML; R: ``lme4::lmer(log(size) ~
  day * group + (day | animal))`` or ``nlme::lme(..., random = ~ day | animal)``); the ``day:group``
  interaction is the difference in log growth rate from control;
  (b) per-animal slopes compared with Welch's t-test, each group against control, Holm-adjusted
  (R: ``pairwise.t.test(..., pool.sd = FALSE, p.adjust.method = "holm")`` restricted to the
  comparisons with control), plus a one-way ANOVA across all groups (R: ``aov``; Prism: one-way
  ANOVA with Holm–Šídák-style follow-up against control).

Sizes of 0 (complete regression, or signal at background) have no logarithm: for log-scale analyses
they are replaced by half of the smallest positive size in the data (a common limit-of-detection
convention; the count is reported as ``n_floored_``).

:func:`compare_groups_fast` and :func:`log_growth_slopes` are vectorised, MixedLM-free helpers for
the virtual xenograft experiment (thousands of replicate studies).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, UnknownNameError
from ._base import Fitter
from ._data import drop_missing, numeric_column, read_table, require_columns, source_name

__all__ = [
    "XenograftAnalysis",
    "TumourWeightAnalysis",
    "MetastasisAnalysis",
    "compare_groups_fast",
    "compare_to_reference",
    "log_growth_slopes",
    "ALTERNATIVES",
]

ALTERNATIVES = ("two-sided", "less", "greater")


# ---------------------------------------------------------------------------------------------
# Plain vectorised functions (no MixedLM): used by the fitters and by virtual experiments.
# ---------------------------------------------------------------------------------------------
def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise UnknownNameError("alternative", alternative, ALTERNATIVES, field="alternative")


def compare_groups_fast(values_a, values_b, alternative: str = "two-sided", *, equal_var: bool = False):
    """Vectorised two-sample t-test p-value of ``a`` against ``b`` along the last axis.

    Use it on per-animal log growth slopes or end-point log sizes of two groups for many replicate
    studies at once: ``values_a`` of shape ``(..., n_a)``, ``values_b`` of shape ``(..., n_b)``;
    NaN entries (animals lost) are ignored. ``alternative``: ``"two-sided"``; ``"less"`` tests
    mean(a) < mean(b) (e.g. a treated group grows more slowly than control); ``"greater"`` the
    reverse. Welch's test by default (R: ``t.test(a, b, alternative=...)``); ``equal_var=True``
    gives Student's pooled test (``var.equal = TRUE``). Returns p-values of shape ``(...)``
    (NaN where a group has fewer than 2 values or both have zero variance).
    """
    _check_alternative(alternative)
    a = np.asarray(values_a, dtype=float)
    b = np.asarray(values_b, dtype=float)
    if a.ndim == 0 or b.ndim == 0:
        raise InputError("values_a and values_b must be arrays of per-animal values", field="values_a, values_b")
    na = np.sum(~np.isnan(a), axis=-1)
    nb = np.sum(~np.isnan(b), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma, mb = np.nanmean(a, axis=-1), np.nanmean(b, axis=-1)
        va = np.nansum((a - ma[..., None]) ** 2, axis=-1) / (na - 1)
        vb = np.nansum((b - mb[..., None]) ** 2, axis=-1) / (nb - 1)
        if equal_var:
            df = na + nb - 2.0
            pooled = ((na - 1) * va + (nb - 1) * vb) / df
            se = np.sqrt(pooled * (1.0 / na + 1.0 / nb))
        else:
            sa, sb = va / na, vb / nb
            se = np.sqrt(sa + sb)
            df = (sa + sb) ** 2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
        t = (ma - mb) / se
        if alternative == "two-sided":
            p = 2.0 * stats.t.sf(np.abs(t), df)
        elif alternative == "less":
            p = stats.t.cdf(t, df)
        else:
            p = stats.t.sf(t, df)
    p = np.where((na < 2) | (nb < 2) | ~np.isfinite(t), np.nan, p)
    return float(p) if np.ndim(p) == 0 else p


def log_growth_slopes(days, sizes, floor: float | None = None):
    """Vectorised OLS slope of ln(size) against day along the last axis (per day).

    ``days``: shape ``(n_days,)`` or broadcastable to ``sizes``; ``sizes``: ``(..., n_days)`` with
    NaN for missing measurements. Sizes <= 0 become ``floor`` (default: half the smallest positive
    size) before the logarithm. NaN where fewer than 2 measurements remain.
    """
    y_raw = np.asarray(sizes, dtype=float)
    t = np.broadcast_to(np.asarray(days, dtype=float), y_raw.shape)
    if floor is None:
        positive = y_raw[y_raw > 0]
        floor = 0.5 * positive.min() if positive.size else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(np.where(y_raw > 0, y_raw, floor))
    ok = ~np.isnan(y_raw) & ~np.isnan(t)
    n = ok.sum(axis=-1)
    t0 = np.where(ok, t, 0.0)
    y0 = np.where(ok, y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tm = t0.sum(axis=-1) / n
        ym = y0.sum(axis=-1) / n
        dt = np.where(ok, t - tm[..., None], 0.0)
        slope = (dt * np.where(ok, y - ym[..., None], 0.0)).sum(axis=-1) / (dt**2).sum(axis=-1)
    return np.where(n >= 2, slope, np.nan)


def _holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (R: ``p.adjust(p, "holm")``)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def compare_to_reference(
    values: pd.Series, groups: pd.Series, reference: str, *, alternative: str = "two-sided"
) -> pd.DataFrame:
    """Each group against ``reference`` by Welch's t-test, Holm-adjusted over the comparisons.

    Returns one row per non-reference group: n, mean, the reference mean, the difference
    (group − reference), its Welch 95 % CI, t, df, p and the Holm-adjusted p.
    R: ``t.test(x[g == k], x[g == ref])`` for each k, then ``p.adjust(p, "holm")``.
    """
    _check_alternative(alternative)
    ref = values[groups == reference].dropna().to_numpy()
    rows = []
    for g in dict.fromkeys(groups):
        if g == reference:
            continue
        x = values[groups == g].dropna().to_numpy()
        row = {"group": g, "n": x.size, "mean": np.mean(x) if x.size else np.nan,
               "reference_mean": np.mean(ref) if ref.size else np.nan}
        row["difference"] = row["mean"] - row["reference_mean"]
        if x.size >= 2 and ref.size >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # identical values: p is NaN, said below
                res = stats.ttest_ind(x, ref, equal_var=False, alternative=alternative)
            ci = res.confidence_interval(0.95)
            row.update(t=float(res.statistic), df=float(res.df), p=float(res.pvalue),
                       ci_lower=float(ci.low), ci_upper=float(ci.high))
        else:
            row.update(t=np.nan, df=np.nan, p=np.nan, ci_lower=np.nan, ci_upper=np.nan)
        rows.append(row)
    out = pd.DataFrame(rows, columns=["group", "n", "mean", "reference_mean", "difference",
                                      "ci_lower", "ci_upper", "t", "df", "p"])
    out["p_holm"] = _holm(out["p"].to_numpy())
    return out.set_index("group")


def _group_stats(values: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """n, mean, SD and SEM of ``values`` per group (NaN ignored)."""
    g = values.groupby(groups.to_numpy(), sort=False)
    out = pd.DataFrame({"n": g.count(), "mean": g.mean(), "sd": g.std(ddof=1)})
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out.index.name = "group"
    return out


def _as_frame(data) -> pd.DataFrame:
    return read_table(data) if isinstance(data, (str, Path)) else data.copy()


def _resolve_reference(reference: str | None, groups: list[str], src: str, what: str = "control group") -> str:
    if reference is None:
        return groups[0]
    if reference not in groups:
        raise UnknownNameError(what, reference, groups, file=src, field="control")
    return reference


def new_axes(ax, figsize=(6, 4)):
    """``ax`` itself, or fresh axes on a new figure (Agg backend: never opens a window)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# ---------------------------------------------------------------------------------------------
# Growth
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SizeMeasure:
    """Which column(s) hold tumour size: a volume, calliper length and width, or luminescence."""

    volume: str | None = None
    length: str | None = None
    width: str | None = None
    luminescence: str | None = None

    def __post_init__(self) -> None:
        chosen = [bool(self.volume), bool(self.length or self.width), bool(self.luminescence)]
        if sum(chosen) != 1 or (bool(self.length) != bool(self.width)):
            raise InputError(
                "give exactly one size measure",
                field="volume / length+width / luminescence",
                value=self,
                valid="volume=COL, or length=COL and width=COL, or luminescence=COL",
            )

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.volume, self.length, self.width, self.luminescence) if c]

    @property
    def label(self) -> str:
        if self.luminescence:
            return "total flux (photons/s)"
        return "tumour volume (mm³)" + (" = L·W²/2" if self.length else "")

    def size(self, df: pd.DataFrame) -> np.ndarray:
        if self.length:
            a = numeric_column(df, self.length, allow_negative=False)
            b = numeric_column(df, self.width, allow_negative=False)
            long, short = np.fmax(a, b), np.fmin(a, b)  # L is the longer diameter whatever the column order
            return long * short**2 / 2.0
        return numeric_column(df, self.volume or self.luminescence, allow_negative=False)


class XenograftAnalysis(Fitter):
    """Tumour growth by group: curves, per-animal log growth rates, TGI, T/C, mixed model, t-tests.

    Options: column names ``animal``, ``group``, ``day``; at most one of ``volume``,
    ``length`` + ``width``, ``luminescence`` (none given: a column called ``volume``);
    ``control`` (the reference group; default the first group in the table);
    ``day_of_interest`` for TGI and T/C (default the last day on which the control group was
    measured); ``random_slopes`` (try a random slope per animal, falling back to random
    intercepts if it cannot be estimated); ``mixed_model=False`` skips MixedLM.

    Results: ``growth_`` (group × day: n, mean, sd, sem), ``slopes_`` (per animal), ``tgi_``
    (per group: TGI %, T/C %), ``slope_tests_`` (Welch vs control, Holm), ``anova_`` (F, p),
    ``mixed_`` (fixed effects of the mixed model), ``mixed_random_`` ("intercept+slope" or
    "intercept"), ``control_``, ``day_of_interest_``, ``n_floored_``.
    """

    def __init__(
        self,
        *,
        animal: str = "animal",
        group: str = "group",
        day: str = "day",
        volume: str | None = None,
        length: str | None = None,
        width: str | None = None,
        luminescence: str | None = None,
        control: str | None = None,
        day_of_interest: float | None = None,
        random_slopes: bool = True,
        mixed_model: bool = True,
    ) -> None:
        self.animal, self.group, self.day = animal, group, day
        if not (volume or length or width or luminescence):
            volume = "volume"
        self.measure = SizeMeasure(volume=volume, length=length, width=width, luminescence=luminescence)
        self.control, self.day_of_interest = control, day_of_interest
        self.random_slopes, self.mixed_model = random_slopes, mixed_model

    def _read(self, data) -> pd.DataFrame:
        df = _as_frame(data)
        src = source_name(df)
        require_columns(df, [self.animal, self.group, self.day, *self.measure.columns])
        df, self.drop_report_ = drop_missing(df, [self.animal, self.group, self.day, *self.measure.columns],
                                             require_rows=True)
        out = pd.DataFrame({
            "animal": df[self.animal].astype(str).to_numpy(),
            "group": df[self.group].astype(str).to_numpy(),
            "day": numeric_column(df, self.day),
            "size": self.measure.size(df),
        })
        groups_per_animal = out.groupby("animal")["group"].nunique()
        if (groups_per_animal > 1).any():
            a = groups_per_animal[groups_per_animal > 1].index[0]
            raise InputError(
                f"animal '{a}' appears in more than one group "
                f"({', '.join(sorted(out.loc[out['animal'] == a, 'group'].unique()))})",
                file=src, field=self.group, value=a, valid="one group per animal (animal ids unique across groups)",
            )
        dup = out.duplicated(["animal", "day"], keep=False)
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(
                f"row {int(df.index[i]) + 2}: animal '{out['animal'].iloc[i]}' has two measurements on day "
                f"{out['day'].iloc[i]:g}",
                file=src, field=self.day, value=out["day"].iloc[i], valid="one row per animal per day",
            )
        out = out.sort_values(["animal", "day"], kind="stable").reset_index(drop=True)
        out.attrs.update(source=src, groups=list(dict.fromkeys(df[self.group].astype(str))))
        return out

    def fit(self, data) -> "XenograftAnalysis":
        """Analyse a long table (DataFrame or CSV / TSV / Parquet path); see the class docstring."""
        table = self._read(data)
        src = table.attrs["source"]
        groups = self.groups_ = table.attrs["groups"]
        self.control_ = _resolve_reference(self.control, groups, src)
        if len(groups) < 2:
            raise InputError(f"only one group ('{groups[0]}') in the table", file=src, field=self.group,
                             valid="a control group and at least one treated group")
        positive = table.loc[table["size"] > 0, "size"]
        if positive.empty:
            raise InputError("every size is 0: nothing to analyse on a log scale", file=src,
                             field=",".join(self.measure.columns))
        floor = 0.5 * positive.min()
        self.n_floored_ = int((table["size"] <= 0).sum())
        table["log_size"] = np.log(np.where(table["size"] > 0, table["size"], floor))
        self.data_ = table

        self.growth_ = self._in_group_order(self._growth(table))
        self.slopes_ = self._in_group_order(self._slopes(table))
        self.day_of_interest_ = self._choose_day(table, src)
        self.tgi_ = self._tgi(table, self.day_of_interest_)
        self.slope_tests_ = compare_to_reference(self.slopes_["slope"], self.slopes_["group"], self.control_)
        self.anova_ = self._anova(self.slopes_)
        self.mixed_, self.mixed_random_ = (self._mixed(table) if self.mixed_model else (None, None))
        self._fitted = True
        return self

    def _in_group_order(self, df: pd.DataFrame) -> pd.DataFrame:
        """Rows ordered by group as the groups first appear in the user's table (stable otherwise)."""
        rank = df["group"].map({g: i for i, g in enumerate(self.groups_)})
        return df.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)

    @staticmethod
    def _growth(table: pd.DataFrame) -> pd.DataFrame:
        g = table.groupby(["group", "day"], sort=False)["size"]
        out = pd.DataFrame({"n": g.count(), "mean": g.mean(), "sd": g.std(ddof=1)})
        out["sem"] = out["sd"] / np.sqrt(out["n"])
        return out.reset_index().sort_values("day", kind="stable")

    @staticmethod
    def _slopes(table: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for (group, animal), a in table.groupby(["group", "animal"], sort=False):
            n = len(a)
            if n >= 2 and a["day"].nunique() >= 2:
                fit = stats.linregress(a["day"], a["log_size"])
                slope, se = fit.slope, fit.stderr if n > 2 else np.nan
            else:
                slope = se = np.nan
            rows.append({"animal": animal, "group": group, "n_days": n, "first_day": a["day"].min(),
                         "last_day": a["day"].max(), "slope": slope, "slope_se": se,
                         "doubling_time": np.log(2) / slope if slope and slope > 0 else np.nan})
        return pd.DataFrame(rows)

    def _choose_day(self, table: pd.DataFrame, src: str) -> float:
        control_days = sorted(table.loc[table["group"] == self.control_, "day"].unique())
        if self.day_of_interest is None:
            return float(control_days[-1])
        if self.day_of_interest not in control_days:
            raise InputError(
                f"the control group '{self.control_}' was not measured on day {self.day_of_interest:g}",
                file=src, field="day", value=self.day_of_interest,
                valid=", ".join(f"{d:g}" for d in control_days),
            )
        return float(self.day_of_interest)

    def _tgi(self, table: pd.DataFrame, day: float) -> pd.DataFrame:
        baseline = table.sort_values("day").groupby("animal").first()["size"]
        at_day = table[table["day"] == day].set_index("animal")
        at_day = at_day.assign(change=at_day["size"] - baseline.reindex(at_day.index))
        stats_day = at_day.groupby("group", sort=False).agg(n=("size", "count"), mean_size=("size", "mean"),
                                                            mean_change=("change", "mean"))
        stats_day = stats_day.reindex(self.groups_)
        c = stats_day.loc[self.control_]
        with np.errstate(divide="ignore", invalid="ignore"):
            stats_day["tgi_pct"] = 100.0 * (1.0 - stats_day["mean_change"] / c["mean_change"])
            stats_day["t_over_c_pct"] = 100.0 * stats_day["mean_size"] / c["mean_size"]
        stats_day.index.name = "group"
        stats_day.insert(0, "day", day)
        return stats_day

    @staticmethod
    def _anova(slopes: pd.DataFrame) -> dict:
        samples = [s.dropna().to_numpy() for _, s in slopes.groupby("group", sort=False)["slope"]]
        samples = [s for s in samples if s.size >= 1]
        if len(samples) < 2 or sum(s.size for s in samples) <= len(samples):
            return {"F": np.nan, "p": np.nan}
        res = stats.f_oneway(*samples)
        return {"F": float(res.statistic), "p": float(res.pvalue)}

    def _mixed(self, table: pd.DataFrame) -> tuple[pd.DataFrame | None, str | None]:
        import statsmodels.formula.api as smf

        # Time rescaled to [0, 1] for the optimiser (slope variances in day units are ~1e-5 and
        # make L-BFGS stall); day-based estimates are restored below.
        span = float(table["day"].max() - table["day"].min()) or 1.0
        df = table.assign(t=(table["day"] - table["day"].min()) / span)
        control = self.control_.replace("'", "\\'")
        formula = f"log_size ~ t * C(group, Treatment(reference='{control}'))"
        for re_formula in (["~t", "1"] if self.random_slopes else ["1"]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence is judged from the result below
                try:
                    res = smf.mixedlm(formula, df, groups=df["animal"], re_formula=re_formula).fit(
                        reml=True, method=["lbfgs", "powell"])
                except (np.linalg.LinAlgError, ValueError):
                    continue
            if not (res.converged and np.all(np.isfinite(res.bse_fe))):
                continue
            names = res.fe_params.index
            ci = res.conf_int().loc[names]
            fe = pd.DataFrame({"estimate": res.fe_params, "se": res.bse_fe, "z": res.tvalues[names],
                               "p": res.pvalues[names], "ci_lower": ci[0], "ci_upper": ci[1]})
            per_day = [n == "t" or n.startswith("t:") for n in names]
            fe.loc[per_day, ["estimate", "se", "ci_lower", "ci_upper"]] /= span
            fe.index = [self._term_name(i) for i in names]
            fe.index.name = "term"
            return fe, ("intercept+slope" if re_formula == "~t" else "intercept")
        warnings.warn("the mixed model could not be fitted; only per-animal slope tests are reported",
                      stacklevel=3)
        return None, None

    @staticmethod
    def _term_name(term: str) -> str:
        """Readable names: ``t:C(group, Treatment(...))[T.A]`` -> ``day:group=A`` (R-like ``groupA``)."""
        if "[T." in term:
            level = term.split("[T.", 1)[1][:-1]
            return ("day:group=" if term.startswith("t:") else "group=") + level
        return {"t": "day", "Intercept": "intercept"}.get(term, term)

    @property
    def summary(self) -> pd.DataFrame:
        """Per group: n animals, mean log growth rate (/day), doubling time, TGI %, T/C %, tests vs control."""
        self._require_fit()
        slopes = _group_stats(self.slopes_["slope"], self.slopes_["group"])
        out = pd.DataFrame({
            "n_animals": self.slopes_.groupby("group", sort=False)["animal"].count(),
            "growth_rate": slopes["mean"], "growth_rate_sem": slopes["sem"],
        })
        out["doubling_time"] = np.where(out["growth_rate"] > 0, np.log(2) / out["growth_rate"], np.nan)
        out = out.join(self.tgi_[["day", "tgi_pct", "t_over_c_pct"]])
        out = out.join(self.slope_tests_[["difference", "p", "p_holm"]].rename(
            columns={"difference": "rate_diff_vs_control", "p": "p_welch", "p_holm": "p_welch_holm"}))
        if self.mixed_ is not None:
            inter = self.mixed_[self.mixed_.index.str.startswith("day:group=")]
            mixed = pd.DataFrame({"mixed_rate_diff": inter["estimate"].to_numpy(), "p_mixed": inter["p"].to_numpy()},
                                 index=[i[len("day:group="):] for i in inter.index])
            out = out.join(mixed)
        out.index.name = "group"
        return out

    def print_summary(self, decimals: int = 4) -> None:
        super().print_summary(decimals)
        print(f"control: {self.control_}; TGI / T/C on day {self.day_of_interest_:g}; "
              f"TGI% = 100·(1 − ΔT/ΔC), T/C% = 100·mean T / mean C; "
              f"one-way ANOVA of slopes: F = {self.anova_['F']:.4g}, p = {self.anova_['p']:.4g}; "
              f"mixed model random effects: {self.mixed_random_ or 'not fitted'}")

    def plot(self, ax=None, *, log: bool | None = None):
        """Growth curves: mean ± SEM per group (log y axis for luminescence by default)."""
        self._require_fit()
        ax = new_axes(ax)
        for group, g in self.growth_.groupby("group", sort=False):
            ax.errorbar(g["day"], g["mean"], yerr=g["sem"].fillna(0), marker="o", ms=4, capsize=3,
                        label=f"{group} (n={int(g['n'].max())})")
        if log if log is not None else bool(self.measure.luminescence):
            ax.set_yscale("log")
        ax.set_xlabel("day")
        ax.set_ylabel(self.measure.label)
        ax.set_title("tumour growth (mean ± SEM)")
        ax.legend(fontsize=8)
        return ax


# ---------------------------------------------------------------------------------------------
# End-point readouts
# ---------------------------------------------------------------------------------------------
class TumourWeightAnalysis(Fitter):
    """Terminal tumour weights by group: mean, SEM, and Welch's t-test of each group vs control (Holm).

    R: ``t.test(weight ~ group)`` per pair with ``p.adjust(..., "holm")``; Prism: unpaired t-test
    with Welch's correction. Results: ``groups_`` (n, mean, sd, sem), ``tests_``, ``control_``.
    """

    def __init__(self, *, group: str = "group", weight: str = "weight", control: str | None = None) -> None:
        self.group, self.weight, self.control = group, weight, control

    def fit(self, data) -> "TumourWeightAnalysis":
        df = _as_frame(data)
        src = source_name(df)
        require_columns(df, [self.group, self.weight])
        df, self.drop_report_ = drop_missing(df, [self.group, self.weight], require_rows=True)
        weights = pd.Series(numeric_column(df, self.weight, allow_negative=False), index=df.index)
        groups = df[self.group].astype(str)
        self.control_ = _resolve_reference(self.control, list(dict.fromkeys(groups)), src)
        self.groups_ = _group_stats(weights, groups)
        self.tests_ = compare_to_reference(weights, groups, self.control_)
        self._fitted = True
        return self

    @property
    def summary(self) -> pd.DataFrame:
        self._require_fit()
        return self.groups_.join(self.tests_[["difference", "ci_lower", "ci_upper", "p", "p_holm"]])

    def plot(self, ax=None):
        """Bar (mean ± SEM) with the individual weights."""
        self._require_fit()
        ax = new_axes(ax, (4, 4))
        x = np.arange(len(self.groups_))
        ax.bar(x, self.groups_["mean"], yerr=self.groups_["sem"], capsize=4, color="#cccccc")
        ax.set_xticks(x, self.groups_.index, rotation=30, ha="right")
        ax.set_ylabel("tumour weight")
        return ax


class MetastasisAnalysis(Fitter):
    """Ex-vivo metastasis luminescence per organ: log10-scale comparison and fraction positive.

    Long table: one row per animal per organ (``animal``, ``group``, ``organ``, ``signal`` in
    photons/s), or a wide table with one column per organ (``organs=("lung", "liver", ...)``).
    For each organ and group: n, geometric mean, mean log10 signal; Welch's t-test of log10 signal
    vs control (Holm over groups, within organ); with a ``threshold`` (background flux of the imager,
    photons/s) the number and fraction of animals above it with a Clopper–Pearson CI and Fisher's
    exact test vs control (R: ``fisher.test``). Zero signals are floored as in :class:`XenograftAnalysis`.
    """

    def __init__(
        self,
        *,
        animal: str = "animal",
        group: str = "group",
        organ: str = "organ",
        signal: str = "signal",
        organs: tuple[str, ...] | None = None,
        control: str | None = None,
        threshold: float | None = None,
    ) -> None:
        self.animal, self.group, self.organ, self.signal = animal, group, organ, signal
        self.organs, self.control, self.threshold = organs, control, threshold

    def _long(self, data) -> pd.DataFrame:
        df = _as_frame(data)
        src = source_name(df)
        if self.organs:
            require_columns(df, [self.animal, self.group, *self.organs])
            for col in self.organs:
                numeric_column(df, col, allow_negative=False)
            df = df.melt(id_vars=[self.animal, self.group], value_vars=list(self.organs),
                         var_name="organ", value_name="signal")
            organ_col, signal_col = "organ", "signal"
            df.attrs["source"] = src
        else:
            require_columns(df, [self.animal, self.group, self.organ, self.signal])
            organ_col, signal_col = self.organ, self.signal
        df, self.drop_report_ = drop_missing(df, [self.group, organ_col, signal_col], require_rows=True)
        out = pd.DataFrame({
            "animal": df[self.animal].astype(str).to_numpy(),
            "group": df[self.group].astype(str).to_numpy(),
            "organ": df[organ_col].astype(str).to_numpy(),
            "signal": numeric_column(df, signal_col, allow_negative=False),
        })
        out.attrs["source"] = src
        return out

    def fit(self, data) -> "MetastasisAnalysis":
        from ._recist import clopper_pearson, fisher_vs_reference

        table = self._long(data)
        src = table.attrs["source"]
        if self.threshold is not None and not (np.isfinite(self.threshold) and self.threshold >= 0):
            raise InputError(f"threshold must be a flux >= 0 (got {self.threshold})", field="threshold",
                             value=self.threshold)
        self.control_ = _resolve_reference(self.control, list(dict.fromkeys(table["group"])), src)
        positive = table.loc[table["signal"] > 0, "signal"]
        floor = 0.5 * positive.min() if len(positive) else 1.0
        table["log10_signal"] = np.log10(np.where(table["signal"] > 0, table["signal"], floor))
        self.data_ = table
        rows = []
        for organ, o in table.groupby("organ", sort=False):
            tests = compare_to_reference(o["log10_signal"], o["group"], self.control_)
            for group, g in o.groupby("group", sort=False):
                row = {"organ": organ, "group": group, "n": len(g),
                       "mean_log10": g["log10_signal"].mean(),
                       "sem_log10": g["log10_signal"].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else np.nan,
                       "geometric_mean": 10 ** g["log10_signal"].mean()}
                row["p_vs_control"] = tests.loc[group, "p"] if group in tests.index else np.nan
                row["p_holm"] = tests.loc[group, "p_holm"] if group in tests.index else np.nan
                if self.threshold is not None:
                    k = int((g["signal"] > self.threshold).sum())
                    lo, hi = clopper_pearson(k, len(g))
                    row.update(n_positive=k, fraction_positive=k / len(g), positive_lower=lo, positive_upper=hi)
                    if group != self.control_:
                        c = o[o["group"] == self.control_]
                        k_control = int((c["signal"] > self.threshold).sum())
                        row["p_fisher"] = fisher_vs_reference(k, len(g), k_control, len(c))
                rows.append(row)
        self.organs_ = pd.DataFrame(rows).set_index(["organ", "group"])
        self._fitted = True
        return self

    @property
    def summary(self) -> pd.DataFrame:
        self._require_fit()
        return self.organs_

    def plot(self, ax=None):
        """Dot plot: log10 signal per animal, organs side by side, groups offset; threshold dashed."""
        self._require_fit()
        ax = new_axes(ax, (7, 4))
        organs = list(dict.fromkeys(self.data_["organ"]))
        groups = list(dict.fromkeys(self.data_["group"]))
        width = 0.8 / max(len(groups), 1)
        rng = np.random.default_rng(0)  # fixed jitter: the same figure every time
        for j, group in enumerate(groups):
            colour = f"C{j}"
            for i, organ in enumerate(organs):
                v = self.data_.loc[(self.data_["organ"] == organ) & (self.data_["group"] == group), "log10_signal"]
                x0 = i - 0.4 + width * (j + 0.5)
                ax.scatter(x0 + rng.uniform(-width / 4, width / 4, len(v)), v, s=14, color=colour,
                           label=group if i == 0 else None)
                if len(v):
                    ax.hlines(v.mean(), x0 - width / 3, x0 + width / 3, color=colour, lw=2)
        if self.threshold:
            ax.axhline(np.log10(self.threshold), ls="--", c="grey", lw=0.8, label="threshold")
        ax.set_xticks(range(len(organs)), organs)
        ax.set_ylabel("log10 ex-vivo flux (photons/s)")
        ax.set_title("metastasis by organ")
        ax.legend(fontsize=8)
        return ax
