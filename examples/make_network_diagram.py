"""Regenerate docs/img/network_cell.png and docs/network_cell.mmd from the model declaration.

    .venv/bin/python examples/make_network_diagram.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from eralpha.model import assemble_cell_model
from eralpha.model._diagram import plot_network, to_mermaid

root = Path(__file__).resolve().parents[1]
model = assemble_cell_model(cell_line="MCF7-Y537S", ligands=("imlunestrant",),
                            inhibitors=("abemaciclib", "alpelisib", "everolimus"))
ax = plot_network(model, skip_modules=("drugs",))
ax.figure.savefig(root / "docs/img/network_cell.png", dpi=130, bbox_inches="tight")
(root / "docs/network_cell.mmd").write_text(to_mermaid(model, skip_modules=("drugs",)), encoding="utf-8")
print("wrote docs/img/network_cell.png and docs/network_cell.mmd")
