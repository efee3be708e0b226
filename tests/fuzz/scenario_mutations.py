"""Mutations of a shipped scenario (a YAML mapping): a field deleted, renamed or given another type, a
number made negative / zero / NaN / inf / huge, a unit garbled, a list emptied, a compound or
cell-line name misspelled.

As for CSVs, a mutation is a tuple of small integers and choices; the integer picks a location
modulo the number of fitting locations, so every mutation list applies to every scenario.
"""

from __future__ import annotations

import copy
import math
import re

from hypothesis import strategies as st

NAME_FIELDS = {"compounds", "cell_lines", "cell_line", "compound", "positive_control", "radioligand",
               "combination_partner", "systems", "variants", "species"}
OTHER_TYPES = (42, -3, 2.5, "text", "", [], {}, None, True, ["a", "b"], {"values": [1], "unit": "nM"})
NUMBERS = (-1.0, -1e-3, 0.0, math.nan, math.inf, -math.inf, 1e300, 1e12, 1e9, 0.5)
UNITS = ("furlong", "", "nM/kg", "mg", "h", "xyz", "NM", "μM", "mol", "kg", "%", "d d")
_QUANTITY = re.compile(r"^\s*([-+0-9.eE]+)\s*(\S.*)?$")


def paths(obj, prefix=()):
    """Every location in a nested mapping / list, depth first."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + (k,))
            out += paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append(prefix + (i,))
            out += paths(v, prefix + (i,))
    return out


def get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def _parent(obj, path):
    return get(obj, path[:-1]), path[-1]


def _is_quantity(v) -> bool:
    return isinstance(v, str) and bool(_QUANTITY.match(v)) and _QUANTITY.match(v).group(2) is not None


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _names(doc):
    out = []
    for p in paths(doc):
        v = get(doc, p)
        keys = [k for k in p if isinstance(k, str)]
        if isinstance(v, str) and keys and keys[-1] in NAME_FIELDS:
            out.append(p)
    return out


def _typo(name: str, how: int) -> str:
    variants = [
        name[:-1], name + "x", name.upper(), name.lower(), name.replace("MCF7", "MCF-7") if "MCF7" in name else name + "-7",
        " " + name, name[1:] + name[:1], name.replace("_", "-") if "_" in name else name + "_",
    ]
    return variants[how % len(variants)]


def _number_text(x: float) -> str:
    return {math.inf: "inf", -math.inf: "-inf"}.get(x, "nan" if math.isnan(x) else f"{x:g}")


def apply(doc: dict, mutation: tuple) -> tuple[dict, str]:
    """The mutated copy and a short description of what was done ('' if nothing fitted)."""
    doc = copy.deepcopy(doc)
    op, where, how = mutation
    every = paths(doc)
    if op == "delete" and every:
        p = every[where % len(every)]
        parent, key = _parent(doc, p)
        del parent[key]
        return doc, f"delete {p}"
    if op == "rename":
        keys = [p for p in every if isinstance(p[-1], str)]
        if keys:
            p = keys[where % len(keys)]
            parent, key = _parent(doc, p)
            new = _typo(key, how)
            if new != key and new not in parent:
                parent[new] = parent.pop(key)
                return doc, f"rename {p} -> {new!r}"
    if op == "retype" and every:
        p = every[where % len(every)]
        parent, key = _parent(doc, p)
        parent[key] = copy.deepcopy(OTHER_TYPES[how % len(OTHER_TYPES)])
        return doc, f"retype {p} = {parent[key]!r}"
    if op == "number":
        spots = [p for p in every if _is_number(get(doc, p)) or _is_quantity(get(doc, p))]
        if spots:
            p = spots[where % len(spots)]
            parent, key = _parent(doc, p)
            x = NUMBERS[how % len(NUMBERS)]
            old = parent[key]
            parent[key] = x if _is_number(old) else f"{_number_text(x)} {_QUANTITY.match(old).group(2)}"
            return doc, f"number {p} = {parent[key]!r}"
    if op == "unit":
        spots = [p for p in every if _is_quantity(get(doc, p)) or (isinstance(get(doc, p), dict) and "unit" in get(doc, p))]
        if spots:
            p = spots[where % len(spots)]
            parent, key = _parent(doc, p)
            unit = UNITS[how % len(UNITS)]
            if isinstance(parent[key], dict):
                parent[key]["unit"] = unit
            else:
                parent[key] = f"{_QUANTITY.match(parent[key]).group(1)} {unit}".strip()
            return doc, f"unit {p} = {unit!r}"
    if op == "empty":
        spots = [p for p in every if isinstance(get(doc, p), (list, dict))]
        if spots:
            p = spots[where % len(spots)]
            parent, key = _parent(doc, p)
            parent[key] = type(parent[key])()
            return doc, f"empty {p}"
    if op == "misspell":
        spots = _names(doc)
        if spots:
            p = spots[where % len(spots)]
            parent, key = _parent(doc, p)
            parent[key] = _typo(parent[key], how)
            return doc, f"misspell {p} = {parent[key]!r}"
    return doc, ""


def mutations() -> st.SearchStrategy[tuple]:
    return st.tuples(st.sampled_from(["delete", "rename", "retype", "number", "number", "unit", "empty", "misspell",
                                      "misspell"]),
                     st.integers(0, 400), st.integers(0, 40))
