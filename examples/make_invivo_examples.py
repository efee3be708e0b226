"""Generate the SYNTHETIC example tables for the in-vivo and clinical analyses (fixed seed).

Nothing here is real data. The designs follow the seed protocols (an MCF7-Y537S MIND xenograft:
vehicle, fulvestrant 5 mg/mouse weekly, lasofoxifene 5 and 10 mg/kg, n = 8, weekly imaging to day 70;
a two-arm trial shaped like ELAINE 1, 52 vs 51 patients, scans every 8 weeks) so the examples look
familiar, but every number is drawn from simple distributions with invented parameters. They exist
to show the file formats and the commands, not to reproduce any result.

    python examples/make_invivo_examples.py                 # writes examples/data/*.csv
    python examples/make_invivo_examples.py --figures docs/img   # also draws the doc figures
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
DATA = Path(__file__).resolve().parent / "data"

# Invented log growth rates (per day) and humane-endpoint volume: illustration only.
XENOGRAFT_GROUPS = {"vehicle": 0.045, "fulvestrant": 0.030, "lasofoxifene_5": 0.015, "lasofoxifene_10": 0.008}
ANIMAL_PREFIX = {"vehicle": "V", "fulvestrant": "F", "lasofoxifene_5": "L5", "lasofoxifene_10": "L10"}
ENDPOINT_MM3 = 1500.0


def xenograft(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    growth, terminal, metastasis = [], [], []
    for g, rate in XENOGRAFT_GROUPS.items():
        for i in range(8):
            animal = f"{ANIMAL_PREFIX[g]}-{i + 1:02d}"
            v0 = np.exp(rng.normal(np.log(120.0), 0.25))
            k = rate + rng.normal(0, 0.006)
            last = None
            for day in range(0, 71, 7):
                v = v0 * np.exp(k * day + rng.normal(0, 0.08))
                width = (v * 2 / 1.4) ** (1 / 3)  # L = 1.4 W, so V = L·W²/2
                length = 1.4 * width
                flux = 2.0e5 * v * np.exp(rng.normal(0, 0.25))
                growth.append({"animal": animal, "group": g, "day": day, "length_mm": round(length, 2),
                               "width_mm": round(width, 2), "flux": float(f"{flux:.4g}")})
                last = v
                if v > ENDPOINT_MM3:  # humane end point: the animal leaves the study
                    break
            weight = last * 1.05 * np.exp(rng.normal(0, 0.1))  # ~1.05 mg per mm³, invented
            terminal.append({"animal": animal, "group": g, "tumour_weight_mg": round(weight, 1)})
            burden = np.exp(k * 70)  # more growth, more spread (invented link)
            row = {"animal": animal, "group": g}
            for organ, base in {"lung": 3e4, "liver": 1e4, "bone": 5e3, "brain": 1e3}.items():
                row[organ] = float(f"{base * burden * np.exp(rng.normal(0, 1.0)):.4g}")
            metastasis.append(row)
    return pd.DataFrame(growth), pd.DataFrame(terminal), pd.DataFrame(metastasis)


def survival(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for arm, n, median in (("lasofoxifene", 52, 5.6), ("fulvestrant", 51, 3.7)):
        t_event = rng.exponential(median / np.log(2), n)
        t_censor = rng.uniform(6.0, 24.0, n)  # staggered accrual, administrative censoring
        for i in range(n):
            t = min(t_event[i], t_censor[i])
            rows.append({"patient": f"{arm[:3].upper()}{i + 1:03d}", "arm": arm, "pfs_months": round(t, 2),
                         "progressed": int(t_event[i] <= t_censor[i]), "age": int(rng.normal(60, 9))})
    return pd.DataFrame(rows)


def recist(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for arm, n, shrink in (("lasofoxifene", 30, -0.06), ("fulvestrant", 30, 0.08)):
        for i in range(n):
            pid = f"{arm[:3].upper()}-{i + 1:02d}"
            n_target = rng.integers(1, 4)
            sizes = rng.uniform(12, 45, n_target)
            is_node = rng.random(n_target) < 0.2
            trend = shrink + rng.normal(0, 0.2)  # per-patient relative change per scan, invented
            new_at = rng.integers(2, 8) if rng.random() < 0.35 else None
            for visit in range(0, 8):
                day = visit * 56
                factor = max(0.0, 1.0 + trend * visit / 2) if trend < 0 else (1.0 + trend) ** visit
                for j in range(n_target):
                    d = 0.0 if factor == 0 else max(0.0, sizes[j] * factor + rng.normal(0, 1.0))
                    if d < 5 and not is_node[j]:
                        d = 0.0
                    rows.append({"patient": pid, "arm": arm, "day": day, "lesion": f"T{j + 1}", "type": "target",
                                 "diameter_mm": round(d, 1), "node": int(is_node[j]), "status": ""})
                rows.append({"patient": pid, "arm": arm, "day": day, "lesion": "NT1", "type": "non-target",
                             "diameter_mm": np.nan, "node": 0, "status": "present"})
                if new_at is not None and visit == new_at:
                    rows.append({"patient": pid, "arm": arm, "day": day, "lesion": "N1", "type": "new",
                                 "diameter_mm": np.nan, "node": 0, "status": ""})
                    break  # progression: off study
                if visit > 0 and factor > 1.6:
                    break
    return pd.DataFrame(rows)


def figures(out: Path) -> None:
    """Draw the documentation figures from the example tables."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eralpha.analysis._recist import RecistAssessment
    from eralpha.analysis._survival import SurvivalAnalysis
    from eralpha.analysis._xenograft import MetastasisAnalysis, XenograftAnalysis

    out.mkdir(parents=True, exist_ok=True)
    fits = {
        "invivo_growth.png": XenograftAnalysis(luminescence="flux", control="vehicle")
        .fit(DATA / "xenograft_growth.csv"),
        "invivo_metastasis.png": MetastasisAnalysis(organs=("lung", "liver", "bone", "brain"), control="vehicle",
                                                    threshold=1e4).fit(DATA / "xenograft_metastasis.csv"),
        "invivo_km.png": SurvivalAnalysis(time="pfs_months", event="progressed", reference="fulvestrant")
        .fit(DATA / "survival_trial.csv"),
        "invivo_waterfall.png": RecistAssessment(diameter="diameter_mm", node="node", status="status", arm="arm",
                                                 reference="fulvestrant").fit(DATA / "recist_lesions.csv"),
    }
    for name, fit in fits.items():
        ax = fit.plot()
        ax.figure.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=Path, default=None, help="folder for the documentation figures")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    DATA.mkdir(parents=True, exist_ok=True)
    growth, terminal, metastasis = xenograft(rng)
    growth.to_csv(DATA / "xenograft_growth.csv", index=False)
    terminal.to_csv(DATA / "xenograft_terminal.csv", index=False)
    metastasis.to_csv(DATA / "xenograft_metastasis.csv", index=False)
    survival(rng).to_csv(DATA / "survival_trial.csv", index=False)
    recist(rng).to_csv(DATA / "recist_lesions.csv", index=False)
    if args.figures:
        figures(args.figures)


if __name__ == "__main__":
    main()
