"""PK scenarios: a YAML file (``kind: pk``) describing one compound, species, regimen and sampling.

Example::

    kind: pk
    schema_version: 1
    species: human
    compound: fulvestrant
    regimen: "500 mg im on days 1, 15, 29 then q28d"   # or a mapping, see REGIMEN_KEYS
    duration: 168 d
    subjects: 200
    seed: 1
    output: {every: 6 h}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ResourceError
from ..units import to_internal
from ._data import SPECIES, pk_model, resolve_compound
from ._regimen import HOURS_PER_DAY, Regimen, check_group_size
from ._simulate import PKResult, check_pk_size, simulate_pk

__all__ = ["PKScenario", "load_pk_scenario", "SCENARIO_KEYS", "REGIMEN_KEYS"]

SCENARIO_KEYS = {"kind", "schema_version", "name", "description", "species", "compound", "regimen", "duration",
                 "subjects", "seed", "output", "body_weight"}
REGIMEN_KEYS = {"dose", "route", "every", "start_day", "days_on", "days_off", "on_days", "then_every"}


@dataclass(frozen=True)
class PKScenario:
    compound: str
    species: str
    regimen: Regimen
    times: np.ndarray
    subjects: int
    seed: int
    body_weight_kg: float | None
    name: str
    file: str | None = None

    def run(self) -> PKResult:
        return simulate_pk(self.compound, self.species, self.regimen, self.times, subjects=self.subjects,
                           seed=self.seed, body_weight_kg=self.body_weight_kg, file=self.file)


def _require(data: dict, key: str, file: str, valid: str) -> Any:
    if key not in data:
        raise InputError(f"missing required field '{key}'", file=file, field=key, valid=valid)
    return data[key]


def _regimen(spec: Any, until_day: int, file: str) -> Regimen:
    if isinstance(spec, str):
        try:
            return Regimen.parse(spec, until_day=until_day, field="regimen", file=file)
        except ResourceError as exc:  # too many doses: the study's duration is what to change
            raise exc.anchored(file=file, field="duration") from None
    if not isinstance(spec, dict):
        raise InputError("regimen must be a text or a mapping", file=file, field="regimen", value=spec,
                         valid="'2.5 mg oral q24h' or {dose: '2.5 mg', route: oral, every: '24 h'}")
    unknown = set(spec) - REGIMEN_KEYS
    if unknown:
        raise InputError(f"unknown regimen field(s) {sorted(unknown)}", file=file, field=f"regimen.{sorted(unknown)[0]}",
                         valid=", ".join(sorted(REGIMEN_KEYS)))
    dose = _require(spec, "dose", file, "e.g. '5 mg/kg' or '500 mg'")
    route = spec.get("route", "oral")
    try:
        if "on_days" in spec:
            days = spec["on_days"]
            if not isinstance(days, list) or not days or not all(isinstance(d, int) and not isinstance(d, bool)
                                                                   and 1 <= d <= until_day for d in days):
                raise InputError("on_days must list the dosing days", field="regimen.on_days", value=days,
                                 valid=f"whole days between 1 and {until_day}, e.g. [1, 15, 29]")
            reg = Regimen.on_days(dose, route, days)
            if "then_every" in spec:
                every_h = to_internal(spec["then_every"], "hour", field="regimen.then_every", file=file)
                start = (max(spec["on_days"]) - 1) * HOURS_PER_DAY + every_h
                reg = reg + Regimen.repeated(dose, route, every=f"{every_h} h", start=f"{start} h",
                                             until=f"{until_day * HOURS_PER_DAY} h")
            return reg
        for key, low in (("start_day", 1), ("days_on", 1), ("days_off", 0)):
            v = spec.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not low <= v <= 3650):
                raise InputError(f"{key} must be a whole number of days", field=f"regimen.{key}", value=v,
                                 valid=f"an integer from {low} to 3650")
        start_day = int(spec.get("start_day", 1))
        if start_day > until_day:
            raise InputError(f"the regimen starts at day {start_day} but the study ends at day {until_day}",
                             file=file, field="regimen", value=start_day,
                             valid=f"start_day <= {until_day} (or a longer 'duration')")
        return Regimen.repeated(dose, route, every=spec.get("every", "24 h"), start=f"{(start_day - 1) * 24} h",
                                until=f"{until_day * HOURS_PER_DAY} h", days_on=spec.get("days_on"),
                                days_off=int(spec.get("days_off", 0)))
    except InputError as exc:  # re-anchor the error on the scenario file and the regimen field
        field = f"regimen.{exc.field}" if exc.field and not str(exc.field).startswith("regimen") else exc.field
        raise InputError(exc.message, file=file, field=field, value=exc.value, valid=exc.valid) from None


def load_pk_scenario(path: str | Path) -> PKScenario:
    """Read and validate a PK scenario; errors name the file, the field path and what is valid."""
    from ..scenario import read_yaml  # one reader for every scenario kind (missing file, folder, YAML)

    file = str(path)
    data = read_yaml(path)
    if data.get("kind") != "pk":
        raise InputError(f"kind is {data.get('kind')!r}", file=file, field="kind", value=data.get("kind"), valid="pk")
    if data.get("schema_version") != 1:
        raise InputError("unsupported schema_version", file=file, field="schema_version",
                         value=data.get("schema_version"), valid="1")
    unknown = set(data) - SCENARIO_KEYS
    if unknown:
        raise InputError(f"unknown field(s) {sorted(unknown)}", file=file, field=sorted(unknown)[0],
                         valid=", ".join(sorted(SCENARIO_KEYS)))
    species = _require(data, "species", file, ", ".join(SPECIES))
    if species not in SPECIES:
        raise InputError(f"unknown species '{species}'", file=file, field="species", value=species,
                         valid=", ".join(SPECIES))
    compound = resolve_compound(_require(data, "compound", file, "a compound in pk.yaml"), file=file)
    model = pk_model(compound, species, file=file)
    duration_h = to_internal(_require(data, "duration", file, "e.g. '28 d'"), "hour", field="duration", file=file)
    if not (math.isfinite(duration_h) and duration_h > 0):
        raise InputError("duration must be positive and finite", file=file, field="duration", value=data["duration"],
                         valid="e.g. '28 d'")
    regimen = _regimen(_require(data, "regimen", file, "'2.5 mg oral q24h' or a mapping"),
                       math.ceil(duration_h / HOURS_PER_DAY), file)
    regimen.check_within(duration_h, file=file)
    for route in regimen.routes:
        if route not in model.routes:
            raise InputError(f"route '{route}' is not available for {compound} in {species}", file=file,
                             field="regimen.route", value=route, valid=", ".join(model.routes))
    subjects = data.get("subjects", 1)
    if subjects != 1:
        subjects = check_group_size(subjects, file=file)
    output = data.get("output", {"every": "1 h"})
    if not isinstance(output, dict) or set(output) - {"every", "times"} or not output:
        raise InputError("output must be {every: '1 h'} or {times: ['0 h', '24 h', …]}", file=file,
                         field="output", value=output, valid="every or times")
    if "times" in output:
        times = np.array([to_internal(t, "hour", field=f"output.times[{i}]", file=file)
                          for i, t in enumerate(output["times"])])
    else:
        step = to_internal(output["every"], "hour", field="output.every", file=file)
        if step <= 0:
            raise InputError("output.every must be positive", file=file, field="output.every", value=output["every"])
        check_pk_size(int(subjects), int(duration_h / step) + 2, file=file,
                      field="subjects" if int(subjects) > 1 else "output.every")
        times = np.arange(0.0, duration_h + step / 2, step)
    bw = data.get("body_weight")
    body_weight_kg = to_internal(bw, "kg", field="body_weight", file=file) if bw is not None else None
    if body_weight_kg is not None and not 0 < body_weight_kg <= 1000:
        raise InputError("body weight out of range", file=file, field="body_weight", value=bw,
                         valid="a body weight above 0 and at most 1000 kg, e.g. '70 kg' or '25 g'")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InputError("seed must be an integer", file=file, field="seed", value=seed, valid="e.g. 1")
    return PKScenario(compound, species, regimen, times, int(subjects), seed, body_weight_kg,
                      str(data.get("name", Path(path).stem)), file)
