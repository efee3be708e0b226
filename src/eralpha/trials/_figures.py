"""Figures of a virtual trial (the trial as run, replicate 0): KM with numbers at risk, forest plot of
subgroup hazard ratios, waterfall of best response, spider plot of target-lesion sums."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import SurvivalAnalysis

__all__ = ["trial_figures"]

_BOR_COLOURS = {"CR": "#1b7837", "PR": "#5aae61", "SD": "#9e9ac8", "PD": "#d6604d", "NE": "#bdbdbd"}


def _km(result):
    import matplotlib.pyplot as plt

    t = result.patients
    fig, ax = plt.subplots(figsize=(7, 5))
    if t["arm"].nunique() >= 2 and t["event"].sum() > 0:
        SurvivalAnalysis(time="pfs_months", event="event", arm="arm", reference=result.scenario.reference_arm).fit(t).plot(ax=ax)
    else:
        from lifelines import KaplanMeierFitter
        from lifelines.plotting import add_at_risk_counts

        kms = [KaplanMeierFitter().fit(g["pfs_months"], g["event"], label=a) for a, g in t.groupby("arm")]
        for km in kms:
            km.plot_survival_function(ax=ax, show_censors=True, ci_show=True)
        add_at_risk_counts(*kms, ax=ax, rows_to_show=["At risk"])
        ax.set_xlabel("time (months)")
        ax.set_ylabel("progression-free survival")
        fig.tight_layout()
    ax.set_title(f"{result.scenario.name}: PFS (virtual trial as run)", fontsize=10)
    return fig


def _forest(result):
    import matplotlib.pyplot as plt

    rows = []
    e = result.replicates[0]
    for comp, v in e["comparisons"].items():
        rows.append(("all patients", comp, v["hr"], *v["hr_ci"]))
    for sg, entry in e["subgroups"].items():
        for comp, v in entry["comparisons"].items():
            rows.append((sg, comp, v["hr"], *v["hr_ci"]))
    df = pd.DataFrame(rows, columns=["subgroup", "comparison", "hr", "lo", "hi"])
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(df), 2) + 1.2))
    y = np.arange(len(df))[::-1]
    ok = np.isfinite(df["hr"]) & (df["hr"] > 0)
    ax.errorbar(df["hr"][ok], y[ok], xerr=[df["hr"][ok] - df["lo"][ok], df["hi"][ok] - df["hr"][ok]], fmt="s", color="k", capsize=3)
    ax.axvline(1.0, ls="--", c="grey")
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{s}  ({c})" if df["comparison"].nunique() > 1 else s for s, c in zip(df["subgroup"], df["comparison"])], fontsize=8)
    ax.set_xlabel("hazard ratio (95 % CI), < 1 favours the experimental arm")
    ax.set_title("subgroup hazard ratios (trial as run)", fontsize=10)
    fig.tight_layout()
    return fig


def _waterfall(result):
    import matplotlib.pyplot as plt

    t = result.patients[result.patients["measurable"]]
    arms = list(dict.fromkeys(t["arm"]))
    fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(4 * max(1, len(arms)), 3.8), sharey=True, squeeze=False)
    for ax, arm in zip(axes[0], arms):
        p = t[t["arm"] == arm].sort_values("best_pct_change", ascending=False, na_position="first")
        ax.bar(np.arange(len(p)), p["best_pct_change"].fillna(0), color=[_BOR_COLOURS[b] for b in p["best_overall_response"]])
        for level in (20, -30):
            ax.axhline(level, ls="--", c="k", lw=0.8)
        ax.set_title(arm, fontsize=9)
        ax.set_xticks([])
    axes[0][0].set_ylabel("best change in target sum (%)")
    for r, c in _BOR_COLOURS.items():
        axes[0][-1].bar([np.nan], [np.nan], color=c, label=r)
    axes[0][-1].legend(fontsize=7, ncol=5)
    fig.suptitle("waterfall of best response (RECIST 1.1, measurable disease)", fontsize=10)
    fig.tight_layout()
    return fig


def _spider(result):
    import matplotlib.pyplot as plt

    v = result.lesions.dropna(subset=["pct_change"])
    arms = list(dict.fromkeys(result.patients["arm"]))
    fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(4 * max(1, len(arms)), 3.8), sharey=True, squeeze=False)
    for ax, arm in zip(axes[0], arms):
        for _, g in v[v["arm"] == arm].groupby("patient"):
            ax.plot(g["day"] / 7.0, g["pct_change"], lw=0.7, alpha=0.6)
        ax.axhline(20, ls="--", c="k", lw=0.8)
        ax.axhline(-30, ls="--", c="k", lw=0.8)
        ax.set_title(arm, fontsize=9)
        ax.set_xlabel("weeks")
    axes[0][0].set_ylabel("change in target sum (%)")
    fig.suptitle("spider plot of target-lesion sums", fontsize=10)
    fig.tight_layout()
    return fig


def trial_figures(result) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    return {"km": _km(result), "forest": _forest(result), "waterfall": _waterfall(result), "spider": _spider(result)}
