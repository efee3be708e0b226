"""Regenerate the figure of docs/trials.md from a shipped trial scenario (deterministic seed).

    python examples/make_trial_figures.py

Draws docs/img/trial_paloma2_km.png: the Kaplan-Meier curves of PALOMA-2's two arms with numbers at risk, the
trial as run (replicate 0) of ``scenarios/trial_paloma2.yaml`` at its own seed and 20 replicates — the same figure
``eralpha trial run scenarios/trial_paloma2.yaml`` puts in report.html (``eralpha.trials._figures.trial_figures``).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from eralpha.scenario import SHIPPED_DIR, load_scenario  # noqa: E402
from eralpha.trials import run_trial  # noqa: E402
from eralpha.trials._figures import trial_figures  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
FIGURES = {"trial_paloma2.yaml": ("km", "trial_paloma2_km.png")}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for scenario, (figure, filename) in FIGURES.items():
        result = run_trial(load_scenario(SHIPPED_DIR / scenario))
        trial_figures(result)[figure].savefig(OUT / filename, dpi=110, bbox_inches="tight")
        t = result.patients
        print("wrote", OUT / filename, "| trial as run:", {a: int(len(g)) for a, g in t.groupby("arm")},
              "events", {a: int(g["event"].sum()) for a, g in t.groupby("arm")})
        for arm, e in result.endpoints["arms"].items():
            print(f"  {arm}: median PFS {e['median_pfs_months']:.3g} (PI {e.get('median_pfs_months_pi')})")
        for name, c in result.endpoints["comparisons"].items():
            print(f"  {name}: HR {c['hr']:.3g} (PI {c.get('hr_pi')})")


if __name__ == "__main__":
    main()
