"""The virtual patient's sourced constants, read through the knowledge base (``parameters/patient.yaml``).

They are ordinary knowledge-base parameters, so the kind check, ``eralpha kb list``, docs/knowledge.md
and a scenario's ``knowledge_overrides:`` (``human_potential_doubling_time: 20``) cover them.
"""

from __future__ import annotations

from ..knowledge import load_knowledge
from ..knowledge._schema import ModelParameter

__all__ = ["human", "population_value", "population_values", "HUMAN_PREFIX", "POPULATION_PREFIX"]

HUMAN_PREFIX, POPULATION_PREFIX = "human_", "population_"


def human(name: str) -> ModelParameter:
    """A human-scaling constant: knowledge-base parameter ``human_<name>`` (module ``patient``)."""
    return load_knowledge().parameter(HUMAN_PREFIX + name)


def population_value(name: str) -> ModelParameter:
    """A population (covariate) constant: knowledge-base parameter ``population_<name>``."""
    return load_knowledge().parameter(POPULATION_PREFIX + name)


def population_values():
    """Every patient and population constant as one table (section, name, value, low, high, unit, kind, source, note)."""
    import pandas as pd

    rows = []
    for key, p in load_knowledge().parameters.items():
        for section, prefix in (("human", HUMAN_PREFIX), ("population", POPULATION_PREFIX)):
            if key.startswith(prefix):
                rows.append(dict(section=section, name=key[len(prefix):], parameter=key,
                                 **p.model_dump(exclude={"module", "description"})))
    return pd.DataFrame(rows)
