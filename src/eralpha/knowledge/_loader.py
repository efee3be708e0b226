"""Read, validate and index the curated YAML files under ``knowledge/data/``.

Each file is validated against the pydantic models in :mod:`._schema`; any problem becomes an
:class:`~eralpha.errors.InputError` naming the file, the field path (``letrozole.er_binding.ERa_WT.unit``),
the offending value and what would be valid. Cross-references between files (a compound's
``er_binding`` key must be a target, a cell line's parent must be a cell line, …) are checked too.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from .._yaml import safe_load
from ..errors import InputError, UnknownNameError
from ._schema import AssaySystem, CellLine, Compound, ModelParameter, PKModel, PublishedResult, Target, Value

__all__ = ["KnowledgeBase", "load_knowledge", "knowledge_overrides", "value_at", "DATA_DIR", "TISSUES", "ENTITY_KINDS", "PARAMETERS_DIR"]

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
#: model and experiment parameters: every *.yaml in this folder maps name -> ModelParameter fields
PARAMETERS_DIR = "parameters"


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
        return safe_load(text)
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
    if first["type"] == "missing" and first["loc"] and first["loc"][-1] == "kind":
        message = "this value has no 'kind': say whether it is measured, calibrated or assumed (there is no default)"
    elif first["type"] == "missing":
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
    if kind == "missing" and error.get("loc") and error["loc"][-1] == "kind":
        return "measured, calibrated or assumed"
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


def _read_named_entities(path: Path, model: type[BaseModel], named: bool = True) -> dict[str, Any]:
    """A file mapping ``name: {fields}``; the key is the entity's name (a ``name`` field unless ``named=False``)."""
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
        fields = {**body, "name": str(name)} if named else {k: v for k, v in body.items() if k != "name"}
        entities[str(name)] = _validate(model, fields, file=path, prefix=str(name))
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


def _read_parameters(folder: Path) -> dict[str, ModelParameter]:
    """Every ``*.yaml`` under ``parameters/``: name -> ModelParameter; a name may be defined only once."""
    out: dict[str, ModelParameter] = {}
    where: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        for name, p in _read_named_entities(path, ModelParameter, named=False).items():
            if name in out:
                raise InputError(f"parameter '{name}' is also defined in {where[name].name}", file=str(path), field=name,
                                 valid="one definition per parameter name across parameters/*.yaml")
            out[name], where[name] = p, path
    return out


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
    parameters: dict[str, ModelParameter] = field(default_factory=dict)
    _index: dict[str, dict[str, str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, dict[str, str]] = {}
        for kind, entities in self._collections().items():
            file = str(self.data_dir / (ENTITY_KINDS[kind][0] if kind in ENTITY_KINDS else PARAMETERS_DIR))
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
            "parameter": self.parameters,
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

    def parameter(self, name: str) -> ModelParameter:
        """A model / experiment parameter (``parameters/*.yaml``) by name, e.g. ``"coactivator"``."""
        return self._get("parameter", name)

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
                    path = path or getattr(v, "module", "")  # a parameter is itself the value: show its module
                    rows.append(
                        dict(entity_kind=kind, entity=name, field=path, value=v.value, low=v.low, high=v.high,
                             unit=v.unit, kind=v.kind, source=v.source, note=v.note)
                    )
        columns = ["entity_kind", "entity", "field", "value", "low", "high", "unit", "kind", "source", "note"]
        return pd.DataFrame(rows, columns=columns)

    def with_overrides(self, overrides: Mapping[str, Any], origin: str = "override") -> "KnowledgeBase":
        """A copy with some values replaced: ``{"coactivator": 20, "lasofoxifene.er_binding.ERa_Y537S": 0.5}``.

        A key is a parameter name or ``<entry>.<field path>`` as ``eralpha kb show`` lists it; a value is a
        number (in the stored unit) or ``{value, unit}``. A replaced value becomes kind ``assumed`` with
        source ``override (<origin>)`` and a note saying what it replaced.
        """
        kb = self
        for key, new in overrides.items():
            kb = _override_one(kb, str(key), new, origin)
        return kb


# --------------------------------------------------------------------------------------------------
# overrides (from a scenario's ``knowledge_overrides``)
# --------------------------------------------------------------------------------------------------


def _override_value(old: Value, new: Any, key: str, origin: str) -> Value:
    unit = old.unit
    if isinstance(new, Mapping):
        if "value" not in new or set(new) - {"value", "unit"}:
            raise InputError("an override is a number or {value, unit}", field=f"knowledge_overrides.{key}", value=dict(new),
                             valid="e.g. 0.5 or {value: 500, unit: pM}")
        value, unit = new["value"], new.get("unit", old.unit)
    else:
        value = new
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError("an override value must be a number", field=f"knowledge_overrides.{key}", value=value, valid="a number")
    value = float(value)
    if unit != old.unit:
        from ..units import ureg

        try:
            value = float(ureg.Quantity(value, unit).to(old.unit).magnitude)
        except Exception as exc:  # pint's errors: undefined or incompatible unit
            raise InputError(f"cannot convert {unit!r} to the stored unit {old.unit!r} ({exc.__class__.__name__})",
                             field=f"knowledge_overrides.{key}", value=unit, valid=f"a unit convertible to {old.unit}") from None
    note = f"replaces {old.value:g} {old.unit} ({old.kind}; {old.source})"
    return old.model_copy(update={"value": value, "low": None, "high": None, "kind": "assumed",
                                  "source": f"override ({origin})", "note": note})


def _replace_in(obj: Any, parts: list[str], new: Any, key: str, origin: str) -> Any:
    if not parts:
        if not isinstance(obj, Value):
            raise InputError("the path does not end at a value", field=f"knowledge_overrides.{key}",
                             valid="a path to one number, as `eralpha kb show <entry>` lists the fields")
        return _override_value(obj, new, key, origin)
    head, rest = parts[0], parts[1:]
    if isinstance(obj, BaseModel) and not isinstance(obj, Value):
        if head not in type(obj).model_fields:
            raise UnknownNameError("field", head, list(type(obj).model_fields), field=f"knowledge_overrides.{key}")
        return obj.model_copy(update={head: _replace_in(getattr(obj, head), rest, new, key, origin)})
    if isinstance(obj, dict):
        if head not in obj:
            raise UnknownNameError("key", head, list(obj), field=f"knowledge_overrides.{key}")
        return {**obj, head: _replace_in(obj[head], rest, new, key, origin)}
    raise InputError(f"cannot descend into '{head}'", field=f"knowledge_overrides.{key}",
                     valid="a path to one number, as `eralpha kb show <entry>` lists the fields")


_ATTRIBUTE = {"compound": "compounds", "target": "targets", "cell_line": "cell_lines", "assay_system": "assay_systems",
              "published": "published", "parameter": "parameters"}


def _resolve(kb: KnowledgeBase, key: str) -> tuple[str, str, list[str]]:
    """``key`` -> (entity kind, entry name, remaining field path): the longest prefix naming an entry wins
    (published ids hold dots)."""
    parts = key.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        for kind, index in kb._index.items():
            name = index.get(_lookup_key(prefix))
            if name is not None:
                rest = parts[i:]
                if kind == "compound" and rest[:1] == ["pk"]:
                    raise InputError("PK values are read from pk.yaml by the PK layer; they cannot be overridden here",
                                     field=f"knowledge_overrides.{key}", valid="a pharmacology, cell or experiment value")
                return kind, name, rest
    everything = [*kb.parameters, *(n for k, c in kb._collections().items() if k != "parameter" for n in c)]
    raise UnknownNameError("knowledge-base entry or parameter", parts[0], everything, field=f"knowledge_overrides.{key}")


def _override_one(kb: KnowledgeBase, key: str, new: Any, origin: str) -> KnowledgeBase:
    from dataclasses import replace

    kind, name, rest = _resolve(kb, key)
    collection = dict(kb._collections()[kind])
    collection[name] = _replace_in(collection[name], rest, new, key, origin)
    return replace(kb, **{_ATTRIBUTE[kind]: collection})


def value_at(kb: KnowledgeBase, key: str) -> Value:
    """The Value a ``knowledge_overrides`` key points at (``"coactivator"``, ``"lasofoxifene.efficacy.bone"``)."""
    kind, name, rest = _resolve(kb, key)
    obj: Any = kb._collections()[kind][name]
    for part in rest:
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, BaseModel) and not isinstance(obj, Value) and part in type(obj).model_fields:
            obj = getattr(obj, part)
        else:
            raise UnknownNameError("field", part, list(obj) if isinstance(obj, dict) else list(type(obj).model_fields),
                                   field=f"knowledge_overrides.{key}")
    if not isinstance(obj, Value):
        raise InputError("the path does not end at a value", field=f"knowledge_overrides.{key}")
    return obj


_OVERRIDES: contextvars.ContextVar[tuple[tuple[str, Any], ...]] = contextvars.ContextVar("eralpha_kb_overrides", default=())


def _freeze(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, Mapping) else value


def active_overrides() -> tuple:
    """The overrides in force here (hashable; empty outside any :func:`knowledge_overrides` block): a cache of
    anything assembled from the knowledge base must be keyed on it, or an override after the first call is ignored."""
    return _OVERRIDES.get()


@contextlib.contextmanager
def knowledge_overrides(overrides: Mapping[str, Any] | None, origin: str = "scenario"):
    """Within the block, :func:`load_knowledge` returns the knowledge base with these values replaced
    (so every model assembled and experiment run inside sees them). Nested blocks combine."""
    if not overrides:
        yield
        return
    items = _OVERRIDES.get() + tuple((str(k), _freeze(v), origin) for k, v in overrides.items())
    _overridden(str(DATA_DIR.resolve()), items)  # validate now: a bad key fails where it is given
    token = _OVERRIDES.set(items)
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


@functools.lru_cache(maxsize=32)
def _overridden(data_dir: str, items: tuple) -> KnowledgeBase:
    kb = _load_cached(data_dir)
    for key, value, origin in items:
        kb = kb.with_overrides({key: dict(value) if isinstance(value, tuple) else value}, origin)
    return kb


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
    parameters = _read_parameters(data_dir / PARAMETERS_DIR)
    kb = KnowledgeBase(
        compounds=loaded["compound"],
        targets=loaded["target"],
        cell_lines=loaded["cell_line"],
        assay_systems=loaded["assay_system"],
        published=loaded["published"],
        data_dir=data_dir,
        parameters=parameters,
    )
    _check_references(kb, data_dir)
    return kb


@functools.lru_cache(maxsize=8)
def _load_cached(data_dir: str) -> KnowledgeBase:
    return _load(Path(data_dir))


def load_knowledge(data_dir: str | Path | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base (cached per folder); ``data_dir`` defaults to the shipped data.

    Inside a :func:`knowledge_overrides` block the shipped knowledge base comes with those values replaced.
    """
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    items = _OVERRIDES.get()
    if items and data_dir is None:
        return _overridden(str(folder.resolve()), items)
    return _load_cached(str(folder.resolve()))
