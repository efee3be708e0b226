"""The virtual patient's sourced constants (knowledge/data/population.yaml), as :class:`Value` objects."""

from __future__ import annotations

import functools

import yaml

from ..errors import InputError
from ..knowledge._loader import DATA_DIR
from ..knowledge._schema import Value

__all__ = ["human", "population_value", "POPULATION_FILE", "population_values"]

POPULATION_FILE = DATA_DIR / "population.yaml"


@functools.lru_cache(maxsize=1)
def _load() -> dict[str, dict[str, Value]]:
    raw = yaml.safe_load(POPULATION_FILE.read_text(encoding="utf-8"))
    out: dict[str, dict[str, Value]] = {}
    for section, entries in raw.items():
        out[section] = {}
        for name, fields in entries.items():
            try:
                out[section][name] = Value(**fields)
            except Exception as exc:  # pydantic: name the entry
                raise InputError(f"invalid value ({exc})".splitlines()[0], file=str(POPULATION_FILE),
                                 field=f"{section}.{name}") from None
    return out


def human(name: str) -> Value:
    """A human-scaling constant (section ``human``)."""
    return _get("human", name)


def population_value(name: str) -> Value:
    """A population (covariate) constant (section ``population``)."""
    return _get("population", name)


def _get(section: str, name: str) -> Value:
    entries = _load()[section]
    if name not in entries:
        raise InputError(f"no '{name}' in {section}", file=str(POPULATION_FILE), field=section, valid=", ".join(entries))
    return entries[name]


def population_values():
    """Every constant as one table (section, name, value, low, high, unit, kind, source, note)."""
    import pandas as pd

    rows = [dict(section=s, name=n, **v.model_dump()) for s, entries in _load().items() for n, v in entries.items()]
    return pd.DataFrame(rows)
