"""Reading a scenario file: YAML → validated scenario, or one clear error naming file, field and value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, BeforeValidator, TypeAdapter, ValidationError

from .._yaml import safe_load
from ..errors import InputError, UnknownNameError
from ..knowledge import load_knowledge
from ._schema import SCENARIO_MODELS, Scenario

__all__ = ["load_scenario", "parse_scenario", "read_yaml", "resolve_scenario", "shipped_scenarios", "SHIPPED_DIR", "OTHER_KINDS"]

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "scenarios"
OTHER_KINDS = ("pk",)  # read by eralpha.pk
_adapter = TypeAdapter(Scenario)


def resolve_scenario(path: str | Path) -> Path:
    """``path`` itself when it exists, else the shipped scenario of that name (``trial_elaine1`` or
    ``trial_elaine1.yaml``); a bare name that matches none is an unknown name with suggestions."""
    path = Path(path)
    if path.exists() or path.parent != Path("."):
        return path
    shipped = {p.stem: p for p in shipped_scenarios()}
    if path.suffix in (".yaml", ".yml"):
        return shipped.get(path.stem, path)  # a file name that is not here: 'scenario file not found'
    if path.name in shipped:
        return shipped[path.name]
    raise UnknownNameError("scenario", str(path), shipped, file=str(path))


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = resolve_scenario(path)
    if not path.exists():
        raise InputError("scenario file not found", file=str(path), valid="a path to a .yaml scenario (see scenarios/)")
    if path.is_dir():
        raise InputError("is a directory, not a scenario file", file=str(path), valid=scenario_files_in(path))
    try:
        data = safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the scenario ({exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc})",
                         file=str(path), valid="a readable UTF-8 .yaml file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("a scenario must be a mapping of fields (kind, name, …)", file=str(path))
    return data


def scenario_files_in(folder: Path, shown: int = 12) -> str:
    """'one of a.yaml, b.yaml …' for the scenario files in ``folder`` (what to pass instead of it)."""
    names = sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    if not names:
        return "a .yaml scenario file (this folder has none)"
    return f"one of the {len(names)} .yaml files in it: " + ", ".join(names[:shown]) + (" …" if len(names) > shown else "")


def _field_path(loc: tuple) -> str:
    parts = [str(x) for x in loc if not (isinstance(x, str) and x in SCENARIO_MODELS)]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (("." if out else "") + p)
    return out


def _model_at(model: type[BaseModel] | None, loc: tuple) -> type[BaseModel] | None:
    """The (nested) schema class that holds the field at ``loc``, e.g. DrugSpec for arms[0].drugs[1].dose."""
    ann: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            args = [a for a in get_args(ann) if a is not type(None)]
            ann = args[0] if args else ann
        elif isinstance(ann, type) and issubclass(ann, BaseModel) and part in ann.model_fields:
            ann = ann.model_fields[part].annotation
            if get_origin(ann) is Union:
                ann = next(a for a in get_args(ann) if a is not type(None))
        elif part not in SCENARIO_MODELS:  # the discriminator's tag is skipped
            return None
    return ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None


def _expected(model: type[BaseModel] | None, loc: tuple) -> str | None:
    """What the field at ``loc`` of ``model`` holds, in words (for 'missing field' messages)."""
    ann: Any = model
    for part in loc:
        if isinstance(part, int):
            args = [a for a in get_args(ann) if a is not type(None)]
            ann = args[0] if args else ann
            continue
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)) or part not in ann.model_fields:
            if part in SCENARIO_MODELS:  # the discriminator's tag
                continue
            return None
        info = ann.model_fields[part]
        ann = info.annotation
        if any(isinstance(m, BeforeValidator) for m in info.metadata):
            return "a number with its unit, e.g. '10 nM' or '24 h'"
        if get_origin(ann) is Union:
            ann = next(a for a in get_args(ann) if a is not type(None))
    if get_origin(ann) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(ann))
    if get_origin(ann) is list:
        return "a list"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        required = [n for n, f in ann.model_fields.items() if f.is_required()]
        return "a mapping" + (f" with {', '.join(required)}" if required else "")
    return {str: "a text", int: "a whole number", float: "a number", bool: "true or false"}.get(ann)


def scenario_error(exc: ValidationError, *, file: str, unknown_field: tuple[str, list[str]] | None = None,
                   model: type[BaseModel] | None = None) -> InputError:
    """The first of pydantic's errors as one :class:`InputError` naming the file and the field path.

    ``unknown_field = (what, allowed)`` turns a field the schema forbids into an
    :class:`UnknownNameError` with suggestions from ``allowed``; ``model`` (the scenario's class) lets a
    missing field's message say what it should hold.
    """
    err = exc.errors()[0]
    field = _field_path(err["loc"])
    if err["type"] == "extra_forbidden":
        name = field.split(".")[-1]
        holder = _model_at(model, err["loc"])
        if holder is not None and holder is not model:  # a nested mapping (an arm, a drug, a claim ...)
            return UnknownNameError("field", name, list(holder.model_fields), file=file, field=field)
        if unknown_field is None and holder is not None:
            unknown_field = ("field", list(holder.model_fields))
        if unknown_field is not None:
            what, allowed = unknown_field
            return UnknownNameError(what, name, allowed, file=file, field=field)
        return InputError(f"unknown field '{name}'", file=file, field=field)
    if err["type"] == "missing":
        return InputError("this required field is missing", file=file, field=field,
                          valid=_expected(model, err["loc"]) or "see the shipped scenarios in scenarios/")
    message = err["msg"].removeprefix("Value error, ")
    anchored = re.match(r"([A-Za-z_][\w.\[\]]*): (.+)", message, flags=re.S)
    if anchored and err["type"] == "value_error":  # a model validator's "FIELD: text" (see _xenograft_schema)
        inner = anchored.group(1)
        field, message = (f"{field}.{inner}" if field else inner), anchored.group(2)
    kinds = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "a text"}
    valid = next((v for k, v in kinds.items() if err["type"].startswith(k + "_")), None)  # e.g. int_parsing_size
    return InputError(message, file=file, field=field, value=err.get("input"), valid=valid)


def parse_scenario(data: dict[str, Any], *, file: str = "<scenario>"):
    """Validate a scenario mapping (units, ranges, names) and return the scenario object."""
    kind = data.get("kind")
    if kind is not None and not isinstance(kind, str):
        kind = str(kind)  # a mapping or list here is a mistake; the name check below says so
    if kind is None:
        raise InputError("missing field 'kind'", file=file, field="kind", valid=", ".join(list(SCENARIO_MODELS) + ["xenograft", "trial"] + list(OTHER_KINDS)))
    if kind == "xenograft":
        from ._xenograft_schema import parse_xenograft_scenario

        return parse_xenograft_scenario(data, file=file)
    if kind == "trial":
        from ..trials import parse_trial_scenario

        return parse_trial_scenario(data, file=file)
    if kind not in SCENARIO_MODELS:
        raise UnknownNameError("scenario kind", str(kind), list(SCENARIO_MODELS) + ["xenograft", "trial"] + list(OTHER_KINDS), file=file, field="kind")
    try:
        scenario = _adapter.validate_python(data)
    except ValidationError as exc:
        unknown = (f"field in a '{kind}' scenario", list(SCENARIO_MODELS[kind].model_fields))
        raise scenario_error(exc, file=file, unknown_field=unknown, model=SCENARIO_MODELS[kind]) from None
    return _check_names(scenario, file)


# fields naming knowledge-base entities, and how expectations' ``at`` / ``ratio_to`` keys refer to them
_NAME_LISTS = {"compounds": "compound", "cell_lines": "cell_line", "variants": "target", "systems": "assay_system"}
_NAME_SINGLES = {"positive_control": "compound", "combination_partner": "compound", "radioligand": "compound"}
_AT_KEYS = {"cell_line": "cell_line", "compound": "compound", "variant": "target", "system": "assay_system"}


def _check_names(s, file: str):
    """Unknown compounds, cell lines, variants or assay systems get suggestions before anything runs;
    known ones are replaced by their canonical names (``MCF-7`` → ``MCF7``), in the expectations too,
    so that a synonym reads the same rows as the name. Returns the canonical scenario."""
    kb = load_knowledge()
    lookup = {"compound": kb.compound, "cell_line": kb.cell_line, "target": kb.target, "assay_system": kb.assay_system}

    def canonical(kind: str, name, field: str) -> str:
        try:
            return lookup[kind](name).name
        except UnknownNameError as exc:
            raise UnknownNameError(exc.kind, str(name), exc.choices, file=file, field=field) from None

    update: dict = {}
    for field, kind in _NAME_LISTS.items():
        if hasattr(s, field):
            update[field] = [canonical(kind, n, f"{field}[{i}]") for i, n in enumerate(getattr(s, field))]
    for field, kind in _NAME_SINGLES.items():
        if getattr(s, field, None):
            update[field] = canonical(kind, getattr(s, field), field)
    s = s.model_copy(update=update)
    if s.expect:
        s = s.model_copy(update={"expect": [_canonical_expectation(s, e, i, lookup, file) for i, e in enumerate(s.expect)]})
    return s


def _canonical_expectation(s, e, i: int, lookup, file: str):
    """An expectation with canonical names in ``at`` / ``ratio_to``, checked against the scenario's
    own cell lines — so one that could match no row fails now, not after the whole run."""

    def fix(keys: dict | None, where: str) -> dict | None:
        if keys is None:
            return None
        out = dict(keys)
        for key, kind in _AT_KEYS.items():
            value = out.get(key)
            if value is not None and not isinstance(value, str):  # a row label is a name, never a number or mapping
                raise InputError(f"expectation '{e.id}' gives {key} as {type(value).__name__} {value!r}", file=file,
                                 field=f"expect[{i}].{where}.{key}", value=value, valid=f"a {kind.replace('_', ' ')} name")
            if isinstance(value, str):
                try:
                    out[key] = lookup[kind](value).name
                except UnknownNameError as exc:
                    if kind == "cell_line":  # a cell line must be one of the scenario's
                        raise UnknownNameError(exc.kind, value, exc.choices, file=file,
                                               field=f"expect[{i}].{where}.{key}") from None
                    # other labels ('fulvestrant (positive control)', 'a+b') are row labels, kept as written
        label = out.get("compound")
        names = [c for c in [*(getattr(s, "compounds", None) or []), getattr(s, "combination_partner", None),
                             getattr(s, "positive_control", None)] if c]
        # result rows label a compound as named, or with a suffix ('X (positive control)', 'X washout', 'X+Y')
        if isinstance(label, str) and names and not any(label.startswith(c) for c in names):
            raise InputError(f"expectation '{e.id}' reads compound '{label}', which this scenario does not test",
                             file=file, field=f"expect[{i}].{where}.compound", value=label,
                             valid="one of the scenario's compounds: " + ", ".join(names))
        line = out.get("cell_line")
        lines = getattr(s, "cell_lines", None)
        if line is not None and lines is not None and line not in lines:
            default = " (cell_lines defaults to [MCF7] when omitted)" if lines == ["MCF7"] else ""
            raise InputError(f"expectation '{e.id}' reads cell line '{line}', which this scenario does not run{default}",
                             file=file, field=f"expect[{i}].{where}.cell_line", value=line,
                             valid="one of the scenario's cell_lines: " + ", ".join(lines))
        return out

    return e.model_copy(update={"at": fix(e.at, "at"), "ratio_to": fix(e.ratio_to, "ratio_to")})


def load_scenario(path: str | Path):
    path = Path(path)
    return parse_scenario(read_yaml(path), file=str(path))


def shipped_scenarios() -> list[Path]:
    """Every scenario shipped with eralpha (``scenarios/`` in the repository)."""
    return sorted(SHIPPED_DIR.glob("*.yaml"))
