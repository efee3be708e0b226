"""Read, validate and index the curated YAML files under ``knowledge/data/``.

Each file is validated against the pydantic models in :mod:`._schema`; any problem becomes an
:class:`~eralpha.errors.InputError` naming the file, the field path (``letrozole.er_binding.ERa_WT.unit``),
the offending value and what would be valid. Cross-references between files (a compound's
``er_binding`` key must be a target, a cell line's parent must be a cell line, …) are checked too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError, UnknownNameError
from ._schema import AssaySystem, CellLine, Compound, PKModel, PublishedResult, Target, Value

__all__ = ["KnowledgeBase", "load_knowledge", "DATA_DIR", "TISSUES", "ENTITY_KINDS"]

DATA_DIR = Path(__file__).parent / "data"

#: Tissues in which a ligand's intrinsic efficacy is recorded.
TISSUES = ("breast", "bone", "endometrium")

#: Entity kind -> (file name, model). ``published`` is a list; the others map name -> fields.
ENTITY_KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "compound": ("compounds.yaml", Compound),
    "target": ("targets.yaml", Target),
    "cell_line": ("cell_lines.yaml", CellLine),
    "assay_system": ("assay_systems.yaml", AssaySystem),
    "published": ("published.yaml", PublishedResult),
}
PK_FILE = "pk.yaml"  # optional: {compound: {species: PKModel fields}}, merged into Compound.pk
CELL_BIOLOGY_FILE = "cell_biology.yaml"  # optional: {parameter: Value} of the cell-cycle / signalling modules


def _lookup_key(name: str) -> str:
    # "MCF-7", "mcf7" and "MCF 7" are the same name to a person typing it.
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


# --------------------------------------------------------------------------------------------------
# reading and validating
# --------------------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"not valid YAML{where}: {problem}", file=str(path), valid="YAML (see docs/knowledge.md)") from None


def _validation_error(exc: ValidationError, *, file: Path, prefix: str) -> InputError:
    """Turn pydantic's error list into one InputError that names the first bad field (and counts the rest)."""
    errors = exc.errors()
    first = errors[0]
    path = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "")
    message = first["msg"]
    if first["type"] == "missing":
        message = "this required field is missing"
    elif first["type"] == "extra_forbidden":
        message = "this field is not part of the schema"
    if len(errors) > 1:
        others = ", ".join(".".join(str(p) for p in (prefix, *e["loc"])) for e in errors[1:4])
        message += f" (and {len(errors) - 1} more problem(s): {others}{' …' if len(errors) > 4 else ''})"
    valid = _valid_hint(first)
    value = first.get("input") if first["type"] != "missing" else None
    shown = "" if value is None or isinstance(value, (dict, list)) else f" — got {value!r}"
    return InputError(message + shown, file=str(file), field=path, value=value, valid=valid)


def _valid_hint(error: Mapping[str, Any]) -> str | None:
    ctx = error.get("ctx") or {}
    if "expected" in ctx:
        return str(ctx["expected"])
    kind = error["type"]
    if kind.startswith("float") or kind.startswith("int"):
        return "a number"
    if kind.startswith("string"):
        return "text" + (f" of at least {ctx['min_length']} characters" if "min_length" in ctx else "")
    if kind == "missing":
        return "see the schema in eralpha/knowledge/_schema.py and docs/knowledge.md"
    if kind == "extra_forbidden":
        return "the fields of the schema in eralpha/knowledge/_schema.py"
    return None


def _validate(model: type[BaseModel], data: Any, *, file: Path, prefix: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, file=file, prefix=prefix) from None


def _read_named_entities(path: Path, model: type[BaseModel]) -> dict[str, Any]:
    """A file mapping ``name: {fields}``; the key is the entity's name."""
    raw = _read_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(
            f"the top level is a {type(raw).__name__}", file=str(path), valid="a mapping of name -> fields"
        )
    entities: dict[str, Any] = {}
    for name, body in raw.items():
        if str(name).startswith("_"):
            continue  # '_shared' and similar hold YAML anchors reused by the entries, not entries themselves
        if not isinstance(body, dict):
            raise InputError(
                f"the entry is a {type(body).__name__}", file=str(path), field=str(name), value=body,
                valid="a mapping of field -> value",
            )
        if "name" in body and body["name"] != name:
            raise InputError(
                f"the entry's name '{body['name']}' differs from its key '{name}'", file=str(path),
                field=f"{name}.name", value=body["name"], valid=f"'{name}' or leave 'name' out",
            )
        entities[str(name)] = _validate(model, {**body, "name": str(name)}, file=path, prefix=str(name))
    return entities


def _read_published(path: Path) -> dict[str, PublishedResult]:
    raw = _read_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise InputError(
            f"the top level is a {type(raw).__name__}", file=str(path), valid="a list of published results"
        )
    results: dict[str, PublishedResult] = {}
    for i, item in enumerate(raw):
        label = f"[{i}:{item['id']}]" if isinstance(item, dict) and "id" in item else f"[{i}]"
        result = _validate(PublishedResult, item, file=path, prefix=label)
        if result.id in results:
            raise InputError("duplicate id", file=str(path), field=f"{label}.id", value=result.id, valid="a unique id")
        results[result.id] = result
    return results


def _read_values(path: Path) -> dict[str, Value]:
    """A flat file mapping ``parameter name: {value, unit, kind, source, note}``."""
    raw = _read_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"the top level is a {type(raw).__name__}", file=str(path), valid="a mapping of parameter -> value")
    return {str(k): _validate(Value, body, file=path, prefix=str(k)) for k, body in raw.items()}


def _merge_pk(path: Path, compounds: dict[str, Compound]) -> dict[str, Compound]:
    raw = _read_yaml(path)
    if raw is None:
        return compounds
    if not isinstance(raw, dict):
        raise InputError(
            f"the top level is a {type(raw).__name__}", file=str(path), valid="a mapping compound -> species -> PK model"
        )
    merged = dict(compounds)
    index = {_lookup_key(n): n for n in compounds}
    for compound_name, by_species in raw.items():
        name = index.get(_lookup_key(compound_name))
        if name is None:
            raise UnknownNameError("compound", str(compound_name), compounds, file=str(path), field=str(compound_name))
        if not isinstance(by_species, dict):
            raise InputError(
                f"the entry is a {type(by_species).__name__}", file=str(path), field=str(compound_name),
                valid="a mapping species (human, mouse, …) -> PK model",
            )
        pk = dict(merged[name].pk)
        for species, body in by_species.items():
            pk[str(species)] = _validate(PKModel, body, file=path, prefix=f"{compound_name}.{species}")
        merged[name] = merged[name].model_copy(update={"pk": pk})
    return merged


# --------------------------------------------------------------------------------------------------
# cross-references
# --------------------------------------------------------------------------------------------------


def _check_references(kb: "KnowledgeBase", data_dir: Path) -> None:
    files = {kind: str(data_dir / fname) for kind, (fname, _) in ENTITY_KINDS.items()}
    targets, systems, lines = kb.targets, kb.assay_systems, kb.cell_lines

    def require(name: str, choices: Mapping[str, Any], kind: str, file: str, field_path: str) -> None:
        if name not in choices:
            raise UnknownNameError(kind, name, choices, file=file, field=field_path)

    for cname, c in kb.compounds.items():
        for t in c.targets:
            require(t, targets, "target", files["compound"], f"{cname}.targets")
        for t in c.er_binding:
            require(t, targets, "target", files["compound"], f"{cname}.er_binding.{t}")
        for t in c.inhibition:
            require(t, targets, "target", files["compound"], f"{cname}.inhibition.{t}")
        for s in c.aromatase_ic50_by_system:
            require(s, systems, "assay system", files["compound"], f"{cname}.aromatase_ic50_by_system.{s}")
        for tissue in c.efficacy:
            require(tissue, dict.fromkeys(TISSUES), "tissue", files["compound"], f"{cname}.efficacy.{tissue}")
    for tname, t in targets.items():
        if t.parent is not None:
            require(t.parent, targets, "target", files["target"], f"{tname}.parent")
    for lname, line in lines.items():
        if line.parent is not None:
            require(line.parent, lines, "cell line", files["cell_line"], f"{lname}.parent")
        for variant in line.er_variants:
            require(variant, targets, "target", files["cell_line"], f"{lname}.er_variants.{variant}")


# --------------------------------------------------------------------------------------------------
# the knowledge base
# --------------------------------------------------------------------------------------------------


def _walk_values(obj: Any, path: str = "") -> Iterator[tuple[str, Value]]:
    """Every :class:`Value` inside a model, with its dotted field path."""
    if isinstance(obj, Value):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk_values(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _walk_values(item, f"{path}.{key}" if path else str(key))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk_values(item, f"{path}[{i}]")


@dataclass(frozen=True)
class KnowledgeBase:
    """The curated facts, validated and indexed by name and synonym (case-insensitive)."""

    compounds: dict[str, Compound]
    targets: dict[str, Target]
    cell_lines: dict[str, CellLine]
    assay_systems: dict[str, AssaySystem]
    published: dict[str, PublishedResult]
    data_dir: Path
    cell_biology: dict[str, Value] = field(default_factory=dict)
    _index: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, dict[str, str]] = {}
        for kind, entities in self._collections().items():
            file = str(self.data_dir / ENTITY_KINDS[kind][0])
            keys: dict[str, str] = {}
            for name, entity in entities.items():
                for alias in (name, *getattr(entity, "synonyms", ())):
                    key = _lookup_key(alias)
                    if keys.get(key, name) != name:
                        raise InputError(
                            f"the name or synonym '{alias}' is used by both '{keys[key]}' and '{name}'",
                            file=file, field=f"{name}.synonyms", value=alias, valid="names unique within a file",
                        )
                    keys[key] = name
            index[kind] = keys
        object.__setattr__(self, "_index", index)

    def _collections(self) -> dict[str, dict[str, Any]]:
        return {
            "compound": self.compounds,
            "target": self.targets,
            "cell_line": self.cell_lines,
            "assay_system": self.assay_systems,
            "published": self.published,
        }

    def _get(self, kind: str, name: str) -> Any:
        canonical = self._index[kind].get(_lookup_key(name))
        if canonical is None:
            entities = self._collections()[kind]
            aliases = [*entities, *(s for e in entities.values() for s in getattr(e, "synonyms", ()))]
            raise UnknownNameError(kind.replace("_", " "), name, aliases)
        return self._collections()[kind][canonical]

    def compound(self, name: str) -> Compound:
        """A compound by name or synonym (``"E2"``, ``"4-OHT"``, ``"LY3484356"``), case-insensitive."""
        return self._get("compound", name)

    def target(self, name: str) -> Target:
        return self._get("target", name)

    def cell_line(self, name: str) -> CellLine:
        return self._get("cell_line", name)

    def assay_system(self, name: str) -> AssaySystem:
        return self._get("assay_system", name)

    def published_result(self, result_id: str) -> PublishedResult:
        return self._get("published", result_id)

    def cell_parameter(self, name: str) -> Value:
        """A parameter of the cell-cycle / signalling modules (``cell_biology.yaml``)."""
        if name not in self.cell_biology:
            raise UnknownNameError("cell-biology parameter", name, self.cell_biology, file=str(self.data_dir / CELL_BIOLOGY_FILE))
        return self.cell_biology[name]

    def find(self, name: str) -> tuple[str, Any]:
        """Any entity by name: returns ``(kind, object)`` with kind one of :data:`ENTITY_KINDS`."""
        key = _lookup_key(name)
        for kind, keys in self._index.items():
            if key in keys:
                return kind, self._collections()[kind][keys[key]]
        everything = [n for kind in self._collections().values() for n in kind]
        raise UnknownNameError("knowledge-base entry", name, everything)

    def values(self) -> pd.DataFrame:
        """Every sourced number, one row each: entity_kind, entity, field, value, low, high, unit, kind, source, note."""
        rows = []
        for kind, entities in self._collections().items():
            for name, entity in entities.items():
                for path, v in _walk_values(entity):
                    rows.append(
                        dict(entity_kind=kind, entity=name, field=path, value=v.value, low=v.low, high=v.high,
                             unit=v.unit, kind=v.kind, source=v.source, note=v.note)
                    )
        for name, v in self.cell_biology.items():
            rows.append(dict(entity_kind="cell_biology", entity=name, field="value", value=v.value, low=v.low, high=v.high,
                             unit=v.unit, kind=v.kind, source=v.source, note=v.note))
        columns = ["entity_kind", "entity", "field", "value", "low", "high", "unit", "kind", "source", "note"]
        return pd.DataFrame(rows, columns=columns)


def _load(data_dir: Path) -> KnowledgeBase:
    if not data_dir.is_dir():
        raise InputError("the knowledge-base folder does not exist", file=str(data_dir), valid="a folder holding compounds.yaml, …")
    loaded: dict[str, dict[str, Any]] = {}
    for kind, (fname, model) in ENTITY_KINDS.items():
        path = data_dir / fname
        if not path.exists():
            raise InputError("the file is missing", file=str(path), valid=f"a YAML file '{fname}' in {data_dir}")
        loaded[kind] = _read_published(path) if kind == "published" else _read_named_entities(path, model)
    if (data_dir / PK_FILE).exists():
        loaded["compound"] = _merge_pk(data_dir / PK_FILE, loaded["compound"])
    kb = KnowledgeBase(
        compounds=loaded["compound"],
        targets=loaded["target"],
        cell_lines=loaded["cell_line"],
        assay_systems=loaded["assay_system"],
        published=loaded["published"],
        data_dir=data_dir,
        cell_biology=_read_values(data_dir / CELL_BIOLOGY_FILE) if (data_dir / CELL_BIOLOGY_FILE).exists() else {},
    )
    _check_references(kb, data_dir)
    return kb


@functools.lru_cache(maxsize=8)
def _load_cached(data_dir: str) -> KnowledgeBase:
    return _load(Path(data_dir))


def load_knowledge(data_dir: str | Path | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base (cached per folder); ``data_dir`` defaults to the shipped data."""
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    return _load_cached(str(folder.resolve()))
