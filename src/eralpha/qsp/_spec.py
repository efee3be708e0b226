"""What a calibration is, as small immutable config objects, and reading one from YAML.

A calibration spec names the free parameters (knowledge-base names such as ``K_ER_activity`` or
``palbociclib.inhibition.CDK4`` — any key ``knowledge_overrides`` accepts — or a parameter of the
assembled cell model such as ``mu_max``), the experiments (scenario-like conditions: cell line, medium
oestradiol, drugs and doses, seeding) and a tidy long-format data file (experiment, time, observable, value).
"""

from __future__ import annotations

from collections import Counter

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError

__all__ = ["FreeParameter", "Experiment", "DataSpec", "ModelSpec", "CalibrationSpec", "load_spec", "parse_spec",
           "NOISE_MODELS", "DERIVED_OBSERVABLES"]

NOISE_MODELS = ("additive", "proportional", "lognormal")
#: observables computed from the model's own: fold change of the cell number over the seeded number
DERIVED_OBSERVABLES = ("fold_change",)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FreeParameter(_Frozen):
    """A parameter to estimate, between ``lower`` and ``upper`` (in the stored unit), log scale by default."""

    name: str
    lower: float
    upper: float
    scale: Literal["log", "linear"] = "log"
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> "FreeParameter":
        if not self.lower < self.upper:
            raise ValueError(f"bounds reversed or empty for '{self.name}': lower {self.lower:g} must be below upper {self.upper:g}")
        if self.scale == "log" and self.lower <= 0:
            raise ValueError(f"a log-scale parameter needs positive bounds; '{self.name}' has lower {self.lower:g} (or set scale: linear)")
        return self

    def to_internal(self, value):
        """Optimiser coordinates: log10 of the value on a log scale."""
        import numpy as np

        return np.log10(value) if self.scale == "log" else np.asarray(value, dtype=float)

    def from_internal(self, x):
        import numpy as np

        return 10.0 ** np.asarray(x, dtype=float) if self.scale == "log" else np.asarray(x, dtype=float)


class Experiment(_Frozen):
    """One condition, like a scenario's: cells in a medium, drugs added at t = 0 (nM), a seeding density."""

    id: str = Field(min_length=1)
    cell_line: str | None = None  # default: the spec's
    oestradiol: float = Field(10.0, ge=0)  # nM in the medium, throughout
    drugs: dict[str, float] = Field(default_factory=dict)  # compound -> nM
    seeding: float | None = Field(None, gt=0)  # cells seeded at t = 0 (None: the model's default)
    note: str = ""

    @field_validator("drugs")
    @classmethod
    def _doses(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if x < 0:
                raise ValueError(f"dose of {k} must be >= 0 nM, not {x:g}")
        return v


class DataSpec(_Frozen):
    """Where the tidy data are and what their columns are called."""

    file: str
    experiment: str = "experiment"
    time: str = "time"
    observable: str = "observable"
    value: str = "value"
    time_unit: Literal["h", "day"] = "h"


class ModelSpec(_Frozen):
    """The mechanism and the experiments it is run under (what a simulation needs, nothing about fitting)."""

    cell_line: str = "MCF7"
    tissue: str = "breast"
    experiments: tuple[Experiment, ...] = Field(min_length=1)
    knowledge_overrides: dict[str, Any] = Field(default_factory=dict)  # fixed KB replacements, as in a scenario
    model_parameters: dict[str, float] = Field(default_factory=dict)  # fixed cell-model parameter values (e.g. a dish's capacity)

    @model_validator(mode="after")
    def _unique(self) -> "ModelSpec":
        dup = _repeated(e.id for e in self.experiments)
        if dup:
            raise ValueError(f"experiment ids must be unique; repeated: {', '.join(dup)}")
        return self


def _repeated(names) -> list[str]:
    """The names that occur more than once, sorted."""
    seen = Counter(names)
    return sorted(n for n, k in seen.items() if k > 1)


class FitOptions(_Frozen):
    starts: int = Field(8, ge=1, le=1000)
    seed: int = Field(0, ge=0)
    max_nfev: int = Field(60, ge=1)


class CalibrationSpec(_Frozen):
    name: str = Field(min_length=1)
    description: str = ""
    model: ModelSpec
    parameters: tuple[FreeParameter, ...] = Field(min_length=1)
    data: DataSpec
    noise: Literal["additive", "proportional", "lognormal"] = "lognormal"
    fit: FitOptions = FitOptions()

    @model_validator(mode="after")
    def _distinct(self) -> "CalibrationSpec":
        dup = _repeated(p.name for p in self.parameters)
        if dup:
            raise ValueError(f"a parameter is listed twice: {', '.join(dup)}")
        return self


def _field(loc: tuple) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def pydantic_error(exc: ValidationError, file: str | None) -> InputError:
    """The first problem of a pydantic ValidationError as one InputError line (file, field, value, what is valid)."""
    err = exc.errors()[0]
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        msg = "unknown field"
    elif err.get("type") == "missing":
        msg = "required field is missing"
    value = err.get("input") if err.get("type") != "missing" else None
    return InputError(msg, file=file, field=_field(tuple(err.get("loc", ()))) or None,
                      value=value if isinstance(value, (int, float, str)) else None)


def parse_spec(data: dict[str, Any], file: str | None = None, cls: type[BaseModel] = CalibrationSpec):
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise pydantic_error(exc, file) from None


def load_spec(path: str | Path, cls: type[BaseModel] = CalibrationSpec):
    """Read and validate a YAML spec; a bad one is one :class:`InputError` naming file, field and value."""
    from ..scenario import read_yaml

    return parse_spec(read_yaml(path), str(path), cls)
