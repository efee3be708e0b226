"""Reading the PK knowledge (``knowledge/data/pk.yaml``) and looking models up by name."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import ValidationError

from .._yaml import safe_load
from ..errors import InputError, UnknownNameError
from ..knowledge._schema import PKModel, Value
from ..units import Q_

__all__ = ["PK_FILE", "pk_models", "pk_model", "molecular_weight", "compound_names", "SPECIES", "resolve_compound",
           "metabolites_of"]

PK_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "pk.yaml"
SPECIES = ("human", "mouse")


@functools.lru_cache(maxsize=4)
def pk_models(path: str = str(PK_FILE)) -> dict[str, dict[str, PKModel]]:
    """Every PK model in ``path``, validated: ``{compound: {species: PKModel}}``."""
    try:
        raw = safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the PK file ({exc.__class__.__name__}: {exc})", file=path) from None
    if not isinstance(raw, dict):
        raise InputError("the top level must be a mapping", file=path, valid="compound -> species -> PK model")
    out: dict[str, dict[str, PKModel]] = {}
    for compound, by_species in raw.items():
        if not isinstance(by_species, dict):
            raise InputError("expected a mapping of species", file=path, field=str(compound),
                             valid="human: {...}, mouse: {...}")
        out[str(compound)] = {}
        for species, body in by_species.items():
            try:
                out[str(compound)][str(species)] = PKModel.model_validate(body)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise InputError(err["msg"], file=path, field=f"{compound}.{species}.{where}",
                                 value=err.get("input")) from None
    return out


def compound_names() -> list[str]:
    return sorted(pk_models())


def resolve_compound(name: str, *, file: str | None = None, field: str | None = "compound") -> str:
    """The canonical compound name (case-insensitive), or an error with suggestions."""
    index = {n.lower(): n for n in pk_models()}
    hit = index.get(str(name).strip().lower())
    if hit is None:
        raise UnknownNameError("compound", str(name), pk_models(), file=file, field=field)
    return hit


def pk_model(compound: str, species: str, *, file: str | None = None, field: str | None = None) -> PKModel:
    """The PK model of ``compound`` in ``species``; unknown names get 'did you mean' suggestions."""
    name = resolve_compound(compound, file=file, field=f"{field}.compound" if field else "compound")
    by_species = pk_models()[name]
    if species not in by_species:
        raise UnknownNameError(f"species for {name}", str(species), by_species, file=file,
                               field=f"{field}.species" if field else "species")
    return by_species[species]


def metabolites_of(compound: str, species: str = "human") -> tuple[str, ...]:
    """Active metabolites dosed as ``compound`` (entries with ``formed_from: compound``), e.g. tamoxifen ->
    4-hydroxytamoxifen, endoxifen."""
    name = resolve_compound(compound)
    return tuple(c for c, by in sorted(pk_models().items())
                 if species in by and by[species].formed_from is not None
                 and resolve_compound(by[species].formed_from) == name)


def exposure_value(compound: str, key: str) -> Value | None:
    """A published exposure value of the human model (``cmax_ss``, ``t_half``, …), if present."""
    return pk_model(compound, "human").exposure.get(key)


def molecular_weight(compound: str) -> float:
    """g/mol, from the PK file (stored with the human model's exposure values)."""
    name = resolve_compound(compound)
    for model in pk_models()[name].values():
        v = model.exposure.get("molecular_weight")
        if v is not None:
            return float(Q_(v.value, v.unit).to("g/mol").magnitude)
    raise InputError(f"no molecular weight for {name}", file=str(PK_FILE), field=f"{name}.human.exposure.molecular_weight",
                     valid="a Value in g/mol")
