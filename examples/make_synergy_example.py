"""Make the synergy example: a simulated 7 x 7 dose-matrix plate and the figures in docs/img.

The data are SIMULATED (the drug names end in ``_sim``), not measured: triplicate wells of viability
(% of vehicle) with Gaussian noise (SD 3 %), in two blocks.

* ``serd_cdk46i`` — an ER degrader with a CDK4/6 inhibitor (vertical blockade): each drug makes the
  other more potent (EC50 falls by ``1 + 1.5 x_other / EC50_other``), so every model should call it
  synergistic.
* ``serd_serd`` — two ER degraders acting on the same target: the plate follows one curve of the
  summed equipotent dose (a sham combination), so Loewe should be near 0.

Run ``python examples/make_synergy_example.py`` from the repository root to regenerate
``examples/data/synergy_example.csv`` and ``docs/img/synergy_*.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SERD_NM = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
CDK46I_NM = np.array([0.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0])
SERD_EC50, CDK46I_EC50, SERD2_EC50 = 1.5, 100.0, 4.5
NOISE_SD, REPLICATES, SEED = 3.0, 3, 20240601


def _inhibition(x, ec50, slope, top):
    """% inhibition of one agent (Hill curve)."""
    return top * x**slope / (x**slope + ec50**slope)


def _vertical_blockade(x1, x2):
    # Potency shift both ways, then Bliss-independent combination of the shifted agents.
    serd = _inhibition(x1, SERD_EC50 / (1.0 + 1.5 * x2 / CDK46I_EC50), 1.0, 85.0)
    cdk = _inhibition(x2, CDK46I_EC50 / (1.0 + 1.5 * x1 / SERD_EC50), 1.2, 90.0)
    return serd + cdk - serd * cdk / 100.0


def _same_target(x1, x2):
    # One curve of the equipotent summed dose: the second SERD is a diluted copy of the first.
    return _inhibition(x1 + x2 * SERD_EC50 / SERD2_EC50, SERD_EC50, 1.0, 85.0)


def simulate_plate(seed: int = SEED) -> pd.DataFrame:
    """The example plate as a SynergyFinder long table (viability in % of vehicle)."""
    rng = np.random.default_rng(seed)
    blocks = [
        ("serd_cdk46i", "imlunestrant_sim", "abemaciclib_sim", SERD_NM, CDK46I_NM, _vertical_blockade),
        ("serd_serd", "imlunestrant_sim", "fulvestrant_sim", SERD_NM, SERD_NM * SERD2_EC50 / SERD_EC50, _same_target),
    ]
    frames = []
    for block_id, drug1, drug2, conc1, conc2, surface in blocks:
        x1, x2 = (np.repeat(g.ravel(), REPLICATES) for g in np.meshgrid(conc1, conc2, indexing="ij"))
        viability = 100.0 - surface(x1, x2) + rng.normal(0.0, NOISE_SD, x1.size)
        frames.append(
            pd.DataFrame(
                {"block_id": block_id, "drug1": drug1, "drug2": drug2, "conc1": x1, "conc2": x2,
                 "response": viability.round(2), "conc_unit": "nM"}
            )
        )
    return pd.concat(frames, ignore_index=True)


def main(data_dir: Path = ROOT / "examples" / "data", img_dir: Path | None = ROOT / "docs" / "img") -> Path:
    """Write the CSV (and, when ``img_dir`` is given, the doc figures); return the CSV path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "synergy_example.csv"
    simulate_plate().to_csv(path, index=False)
    if img_dir is not None:
        _figures(path, img_dir)
    return path


def _figures(path: Path, img_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eralpha.analysis._synergy import SynergyAnalysis

    img_dir.mkdir(parents=True, exist_ok=True)
    for model in ("bliss", "zip"):
        ax = SynergyAnalysis(model, response="viability").fit(path).plot(block="serd_cdk46i")
        ax.figure.savefig(img_dir / f"synergy_{model}_heatmap.png", dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
    ax = SynergyAnalysis("loewe", response="viability").fit(path).plot(block="serd_serd")
    ax.figure.savefig(img_dir / "synergy_loewe_sham_heatmap.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    ax = SynergyAnalysis("zip", response="viability").fit(path).plot(kind="surface", block="serd_cdk46i")
    ax.figure.savefig(img_dir / "synergy_zip_surface.png", dpi=120, bbox_inches="tight")
    plt.close(ax.figure)


if __name__ == "__main__":
    print(main(img_dir=None if "--no-figures" in sys.argv else ROOT / "docs" / "img"))
