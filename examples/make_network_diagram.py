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

# the table of every parameter's kind, with counts per module (pasted into docs/model-and-engine.md)
import pandas as pd

rows = pd.DataFrame([{"module": p.module, "kind": p.provenance.kind} for p in model.parameters])
table = rows.pivot_table(index="module", columns="kind", aggfunc="size", fill_value=0)
table.loc["total"] = table.sum()
kinds = list(table.columns)
md = ["| module | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
md += [f"| {m} | " + " | ".join(str(int(v)) for v in row) + " |" for m, row in table.iterrows()]
(root / "docs/parameter_kinds.md").write_text("\n".join(md) + "\n", encoding="utf-8")
print("\n".join(md))
