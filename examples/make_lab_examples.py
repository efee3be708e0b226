"""Write the synthetic lab-assay example tables in examples/data/ (fixed seed: reruns give the same files).

These are *synthetic* data made by the eralpha project to show the analyses; they are not
measurements. Each generator starts from a mechanism (competitive Michaelis–Menten kinetics, one-site
competitive binding, exponential growth, a degradation curve), so the analyses have something real to
recover:

* ``western_degradation.csv`` — ERα / β-actin band intensities, imlunestrant and fulvestrant
  0.1–1000 nM at 6, 24 and 48 h, three replicate blots per time point (seed 001 protocol);
* ``aromatase_inhibition.csv`` — tritiated-water assay dpm, letrozole and anastrozole, [S] = 50 nM,
  Km = 40 nM; Ki chosen so that IC50 = Ki (1 + S/Km) falls in seed 003's placental-microsome ranges;
* ``binding_competition.csv`` — [3H]-oestradiol (1 nM, Kd 0.26 nM) displaced by imlunestrant
  (Ki 0.64 nM, seed 001) and 4-hydroxytamoxifen (Ki 1.82 nM, public LBD value quoted in DESIGN.md);
* ``plate_layout.csv``, ``plate_readout.csv`` (reader matrix), ``plate_time_zero.csv`` (long table) —
  a 96-well, 5-day proliferation assay with a time-zero read for GR metrics.

Run: ``python examples/make_lab_examples.py`` (add ``--figures`` to redraw docs/img/lab_*.png from them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "data"
IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
SEED = 20240601


def degradation_curve(dose: np.ndarray, dc50: float, dmax_pct: float, hill: float) -> np.ndarray:
    """Fraction of ER remaining: falls from 1 to 1 − Dmax with midpoint DC50."""
    bottom = 1.0 - dmax_pct / 100.0
    return bottom + (1.0 - bottom) / (1.0 + (dose / dc50) ** hill)


# illustrative truths (not literature values): potency rises and degradation deepens with time
WESTERN_TRUTH = {
    ("imlunestrant", 6.0): (3.0, 60.0, 1.2),
    ("imlunestrant", 24.0): (1.0, 85.0, 1.2),
    ("imlunestrant", 48.0): (0.8, 90.0, 1.2),
    ("fulvestrant", 6.0): (8.0, 50.0, 1.0),
    ("fulvestrant", 24.0): (3.0, 75.0, 1.0),
    ("fulvestrant", 48.0): (2.5, 80.0, 1.0),
}
WESTERN_DOSES = (0.1, 1.0, 10.0, 100.0, 1000.0)


def western(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for time in (6.0, 24.0, 48.0):
        for rep in (1, 2, 3):
            blot = f"B{int(time)}h-{rep}"
            exposure = rng.uniform(0.6, 1.4)  # blots differ in exposure: why lanes are normalised per blot
            lanes = [("vehicle", 0.0), ("vehicle", 0.0)]
            lanes += [(c, d) for c in ("imlunestrant", "fulvestrant") for d in WESTERN_DOSES]
            for lane, (compound, dose) in enumerate(lanes, start=1):
                loading = 20000.0 * exposure * rng.uniform(0.85, 1.15)
                fraction = 1.0 if dose == 0 else degradation_curve(np.array(dose), *WESTERN_TRUTH[(compound, time)])
                target = 30000.0 * exposure * (loading / (20000.0 * exposure)) * fraction
                background = rng.uniform(800.0, 1200.0)
                rows.append(
                    {
                        "blot": blot,
                        "lane": lane,
                        "compound": compound,
                        "dose": dose,
                        "time": time,
                        "replicate": rep,
                        "target": round(min(65535.0, (target * rng.normal(1.0, 0.06)) + background), 1),
                        "loading": round(loading * rng.normal(1.0, 0.03) + background, 1),
                        "background": round(background, 1),
                    }
                )
    df = pd.DataFrame(rows)
    # two planted artefacts for the flags: a vehicle band that hit the 16-bit cap (a smear made it glow;
    # it inflates that blot's vehicle mean) and a band lost in the background
    saturated = (df["blot"] == "B24h-2") & (df["lane"] == 1)
    df.loc[saturated, "target"] = 65535.0
    faint = (df["blot"] == "B48h-1") & (df["compound"] == "fulvestrant") & (df["dose"] == 1000.0)
    df.loc[faint, "target"] = df.loc[faint, "background"] - 40.0
    return df


S_NM, KM_NM = 50.0, 40.0
AROMATASE_KI = {"letrozole": 2.0, "anastrozole": 7.0}  # nM; IC50 = Ki (1 + S/Km) = 4.5 and 15.75 nM


def aromatase(rng: np.random.Generator) -> pd.DataFrame:
    blank, vehicle = 150.0, 12000.0
    rows = [{"role": "blank", "compound": "", "concentration": 0.0, "dpm": blank} for _ in range(3)]
    rows += [{"role": "vehicle", "compound": "", "concentration": 0.0, "dpm": vehicle} for _ in range(3)]
    for compound, ki in AROMATASE_KI.items():
        for conc in np.geomspace(0.1, 1000.0, 9):
            # competitive inhibition: v/v0 = (Km + S) / (Km (1 + I/Ki) + S)
            activity = (KM_NM + S_NM) / (KM_NM * (1.0 + conc / ki) + S_NM)
            for _ in range(3):
                rows.append({"role": "drug", "compound": compound, "concentration": round(conc, 4),
                             "dpm": blank + (vehicle - blank) * activity})
    df = pd.DataFrame(rows)
    df["dpm"] = np.round(df["dpm"] * rng.normal(1.0, 0.03, len(df)), 0)
    return df


L_NM, KD_NM = 1.0, 0.26
BINDING_KI = {"imlunestrant": 0.64, "4-hydroxytamoxifen": 1.82}  # nM


def binding(rng: np.random.Generator) -> pd.DataFrame:
    bmax, nsb = 8000.0, 400.0  # cpm
    rows = []
    for compound, ki in BINDING_KI.items():
        for conc in [0.0, *np.geomspace(0.01, 1000.0, 11)]:
            # one-site competition at equilibrium, no ligand depletion
            specific = bmax * L_NM / (L_NM + KD_NM * (1.0 + conc / ki))
            for _ in range(2):
                rows.append({"compound": compound, "concentration": round(conc, 5),
                             "total": round((specific + nsb) * rng.normal(1.0, 0.03)),
                             "nonspecific": round(nsb * rng.normal(1.0, 0.05))})
    return pd.DataFrame(rows)


DOUBLING_H, ASSAY_H, X0 = 30.0, 120.0, 2000.0
# growth-rate inhibition: k(c) = k0 (1 − Imax c^h / (c^h + IC50_k^h)); Imax > 1 kills cells
PLATE_TRUTH = {"imlunestrant": (0.9, 2.0, 1.0), "palbociclib": (1.0, 80.0, 1.2)}  # (Imax, nM, h)
PLATE_CONCS = np.geomspace(0.01, 1000.0, 10)


def cells_at_end(conc: np.ndarray, imax: float, ic50: float, hill: float) -> np.ndarray:
    k0 = np.log(2.0) / DOUBLING_H
    k = k0 * (1.0 - imax * conc**hill / (conc**hill + ic50**hill))
    return X0 * np.exp(k * ASSAY_H)


def plate(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    background, per_cell = 300.0, 1.0
    layout, signal = [], {}
    for col in range(1, 13):
        layout.append({"well": f"A{col}", "role": "blank", "compound": "", "concentration": ""})
        layout.append({"well": f"H{col}", "role": "vehicle", "compound": "DMSO", "concentration": ""})
    for row in "BCDEFG":
        for col in (1, 12):
            layout.append({"well": f"{row}{col}", "role": "vehicle", "compound": "DMSO", "concentration": ""})
    for compound, rows in (("imlunestrant", "BCD"), ("palbociclib", "EFG")):
        for row in rows:
            for col, conc in zip(range(2, 12), PLATE_CONCS):
                layout.append({"well": f"{row}{col}", "role": "treated", "compound": compound,
                               "concentration": round(float(conc), 5)})
    layout = pd.DataFrame(layout)
    for _, w in layout.iterrows():
        if w["role"] == "blank":
            cells = 0.0
        elif w["role"] == "vehicle":
            cells = float(cells_at_end(np.array(0.0), 0.0, 1.0, 1.0))
        else:
            cells = float(cells_at_end(np.array(w["concentration"]), *PLATE_TRUTH[w["compound"]]))
        signal[w["well"]] = (background + per_cell * cells) * rng.normal(1.0, 0.04)
    matrix = pd.DataFrame(
        [[row] + [round(signal[f"{row}{col}"], 1) for col in range(1, 13)] for row in "ABCDEFGH"],
        columns=[""] + [str(c) for c in range(1, 13)],
    )
    time_zero = [{"well": f"A{c}", "signal": round((background) * rng.normal(1.0, 0.04), 1)} for c in range(1, 13)]
    time_zero += [{"well": f"H{c}", "signal": round((background + per_cell * X0) * rng.normal(1.0, 0.04), 1)}
                  for c in range(1, 13)]
    return layout.sort_values("well", key=lambda s: s.str[0] + s.str[1:].str.zfill(2)), matrix, pd.DataFrame(time_zero)


def figures() -> None:
    """The documentation figures: each analysis run on the example files, plotted as the CLI does."""
    from matplotlib.figure import Figure

    from eralpha.analysis._assays import AromataseAssay, BindingAssay
    from eralpha.analysis._plates import PlateAnalysis
    from eralpha.analysis._western import WesternBlotAnalysis

    IMG.mkdir(parents=True, exist_ok=True)
    western_fit = WesternBlotAnalysis().fit(OUT / "western_degradation.csv")
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    for ax, compound in zip(fig.subplots(1, 2), ("imlunestrant", "fulvestrant")):
        western_fit.plot(ax=ax, compound=compound)
        ax.set_title(compound)
    fig.savefig(IMG / "lab_western.png", dpi=110)
    panels = [
        ("lab_aromatase.png", AromataseAssay("50 nM", "40 nM").fit(OUT / "aromatase_inhibition.csv").plot()),
        ("lab_binding.png", BindingAssay("1 nM", "0.26 nM").fit(OUT / "binding_competition.csv").plot()),
    ]
    plate_fit = PlateAnalysis().fit(OUT / "plate_layout.csv", OUT / "plate_readout.csv", OUT / "plate_time_zero.csv")
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    plate_fit.plot(ax=left)
    plate_fit.plot(ax=right, metric="GR")
    fig.savefig(IMG / "lab_plate.png", dpi=110)
    for name, ax in panels:
        ax.figure.savefig(IMG / name, dpi=110)


def write_examples(out: Path = OUT) -> None:
    """Write every example table into ``out`` (the tests regenerate them into a temporary folder)."""
    rng = np.random.default_rng(SEED)
    out.mkdir(parents=True, exist_ok=True)
    western(rng).to_csv(out / "western_degradation.csv", index=False)
    aromatase(rng).to_csv(out / "aromatase_inhibition.csv", index=False)
    binding(rng).to_csv(out / "binding_competition.csv", index=False)
    layout, readout, time_zero = plate(rng)
    layout.to_csv(out / "plate_layout.csv", index=False)
    readout.to_csv(out / "plate_readout.csv", index=False)
    time_zero.to_csv(out / "plate_time_zero.csv", index=False)


def main() -> None:
    write_examples()
    if "--figures" in sys.argv[1:]:
        figures()


if __name__ == "__main__":
    main()
