"""Regenerate the figures of docs/virtual-assays.md from the shipped scenarios (deterministic seeds).

    python examples/make_doc_figures.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from eralpha.experiments import run_experiment  # noqa: E402
from eralpha.scenario import SHIPPED_DIR, load_scenario  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
FIGURES = {
    "invitro_western_imlunestrant.yaml": ("degradation_MCF7", "virtual_western.png"),
    "invitro_hormone_dependence.yaml": ("growth", "virtual_hormone_dependence.png"),
    "invitro_proliferation_serds.yaml": ("dose_response", "virtual_proliferation.png"),
    "invitro_transcription_esr1.yaml": ("er_activity", "virtual_transcription.png"),
    "invitro_binding_er_ligands.yaml": ("displacement_curves", "virtual_binding.png"),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for scenario, (figure, filename) in FIGURES.items():
        result = run_experiment(load_scenario(SHIPPED_DIR / scenario))
        result.figures[figure].savefig(OUT / filename, dpi=110, bbox_inches="tight")
        print("wrote", OUT / filename)


if __name__ == "__main__":
    main()
