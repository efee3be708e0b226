"""The curated knowledge base: compounds, targets, cell lines, assay systems and published results.

Every number is a :class:`Value` carrying its unit, source and a note on the assay, and whether it
was measured, calibrated or assumed::

    from eralpha.knowledge import load_knowledge
    kb = load_knowledge()
    kb.compound("LY3484356").er_binding["ERa_WT"]     # imlunestrant Ki, 0.64 nM (seed 001, Table 1)
    kb.parameter("coactivator")                       # a model parameter (knowledge/data/parameters/*.yaml)
    kb.values()                                       # every value as one tidy DataFrame
    with knowledge_overrides({"coactivator": 20}):    # every model assembled inside sees the new value
        ...
"""

from ._loader import DATA_DIR, TISSUES, KnowledgeBase, active_overrides, knowledge_overrides, load_knowledge
from ._schema import AssaySystem, CellLine, Compound, ModelParameter, PKModel, PublishedResult, Target, Value

__all__ = [
    "load_knowledge",
    "knowledge_overrides",
    "active_overrides",
    "ModelParameter",
    "KnowledgeBase",
    "DATA_DIR",
    "TISSUES",
    "Value",
    "PKModel",
    "Compound",
    "Target",
    "CellLine",
    "AssaySystem",
    "PublishedResult",
]
