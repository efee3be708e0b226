"""The network diagram of a model, generated from its declaration (never drawn by hand).

Nodes are species and expressions; an edge ``a → b`` means that ``a`` appears in the rate law of a
reaction that changes ``b`` (or in the formula of expression ``b``). Nodes are grouped by module.
Two renderings: Mermaid text (``flowchart LR`` with one subgraph per module, for Markdown) and a
matplotlib figure (modules as columns), so no graphviz is needed.
"""

from __future__ import annotations

from ._core import Model
from ._symbolic import free_names

__all__ = ["network_graph", "to_mermaid", "plot_network"]


def network_graph(model: Model, *, skip_modules: tuple[str, ...] = ()) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """``(nodes {name: module}, edges [(source, target)])`` from the model's reactions and expressions."""
    nodes = {s.name: s.module for s in model.species if s.module not in skip_modules}
    nodes.update({e.name: e.module for e in model.expressions if e.module not in skip_modules})
    edges: set[tuple[str, str]] = set()
    for r in model.reactions:
        used = [n for n in free_names(r.rate) if n in nodes]
        for target, _ in r.products + r.reactants:
            if target in nodes:
                edges.update((u, target) for u in used if u != target)
    for e in model.expressions:
        if e.name in nodes:
            edges.update((u, e.name) for u in free_names(e.formula) if u in nodes and u != e.name)
    return nodes, sorted(edges)


def to_mermaid(model: Model, **kwargs) -> str:
    """Mermaid ``flowchart LR`` text: one subgraph per module, species as rounded boxes."""
    nodes, edges = network_graph(model, **kwargs)
    species = {s.name for s in model.species}
    lines = ["flowchart LR"]
    for module in dict.fromkeys(nodes.values()):
        lines.append(f"  subgraph {module or 'model'}")
        for n, m in nodes.items():
            if m == module:
                lines.append(f"    {n}({n})" if n in species else f"    {n}[{n}]")
        lines.append("  end")
    lines += [f"  {a} --> {b}" for a, b in edges]
    return "\n".join(lines) + "\n"


def plot_network(model: Model, ax=None, **kwargs):
    """Modules as columns (in declaration order), species bold, expressions plain; returns the axes."""
    import matplotlib.pyplot as plt

    nodes, edges = network_graph(model, **kwargs)
    species = {s.name for s in model.species}
    modules = list(dict.fromkeys(nodes.values()))
    pos = {}
    height = max(sum(1 for m in nodes.values() if m == mod) for mod in modules)
    for i, mod in enumerate(modules):
        members = [n for n, m in nodes.items() if m == mod]
        for j, n in enumerate(members):
            pos[n] = (i * 3.0, height - j * (height / max(len(members), 1)))
    if ax is None:
        _, ax = plt.subplots(figsize=(3.0 * len(modules) + 1, 0.42 * height + 2))
    for a, b in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", lw=0.5, alpha=0.35, color="C0" if a in species else "0.4",
                                    connectionstyle="arc3,rad=0.15", shrinkA=14, shrinkB=14))
    for n, (x, y) in pos.items():
        ax.text(x, y, n, ha="center", va="center", fontsize=6.5, fontweight="bold" if n in species else "normal",
                bbox=dict(boxstyle="round,pad=0.25", fc="#dde8f5" if n in species else "white", ec="0.6", lw=0.5))
    for i, mod in enumerate(modules):
        ax.text(i * 3.0, height + 1.2, mod, ha="center", fontsize=9, fontweight="bold")
    ax.set_xlim(-1.6, 3.0 * (len(modules) - 1) + 1.6)
    ax.set_ylim(-1, height + 2)
    ax.axis("off")
    ax.set_title(model.name, fontsize=8)
    return ax
