"""The xenograft scenario (``kind: xenograft``): a MIND study written the way the protocol is.

    kind: xenograft
    name: mind_y537s_lasofoxifene
    cell_line: MCF7-Y537S
    host: {ovariectomised: true}                 # or {oestradiol_pellet: 0.36 mg} / {androstenedione: 2 nM}
    establish: 21 d                              # from injection to randomisation
    duration: 70 d                               # treatment period
    arms:
      - {name: vehicle, group_size: 8}
      - name: lasofoxifene 10 mg/kg
        group_size: 8
        drugs: [{compound: lasofoxifene, dose: 10 mg/kg, route: sc, every: 24 h, days_on: 5, days_off: 2}]
    claims:                                      # checked over replicate virtual studies
      - {id: ..., readout: growth, arm: lasofoxifene 10 mg/kg, than: vehicle, alternative: less, ...}

Doses need units (``mg/kg`` or ``mg``), routes must exist for the compound in the mouse PK model,
every regimen must start before the study ends, and groups need at least two mice — all checked
before anything runs, with the file and field named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from ..errors import InputError, UnknownNameError
from ._fields import Conc, Hours
from ._schema import Falsifier, ScenarioBase, _Strict

__all__ = ["XenograftScenario", "DrugSpec", "ArmSpec", "HostSpec", "ClaimSpec", "READOUTS",
           "parse_xenograft_scenario", "load_xenograft_scenario"]

READOUTS = ("growth", "luminescence", "tumour_weight", "Ki67", "met_lung", "met_liver", "met_bone", "met_brain",
            "ER", "pS2", "growth_factor", "regression", "regrowth")


class DrugSpec(_Strict):
    """One drug of an arm: compound, dose with unit, route, and schedule (from randomisation)."""

    compound: str
    dose: str  # "5 mg/kg" or "5 mg" (per mouse)
    route: str
    every: Hours = 24.0
    days_on: int | None = Field(None, ge=1, le=3650)  # at most ten years: beyond any study
    days_off: int = Field(0, ge=0, le=3650)
    start_day: int = Field(1, ge=1, le=3650)

    @field_validator("every")
    @classmethod
    def _every(cls, v):
        if not v > 0:
            raise ValueError(f"the dosing interval must be positive (got {v:g} h), e.g. '24 h'")
        return v

    @field_validator("dose", mode="before")
    @classmethod
    def _dose(cls, v):
        from ..pk import parse_dose

        try:
            parse_dose(v)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return str(v)


class ArmSpec(_Strict):
    name: str = Field(min_length=1)
    drugs: list[DrugSpec] = Field(default_factory=list)
    group_size: int = 8
    cell_line: str | None = None  # another line of the same structure (e.g. LTLT-Ca next to MCF-7Ca)

    @field_validator("group_size", mode="before")
    @classmethod
    def _group(cls, v):
        from ..pk import check_group_size

        try:
            return check_group_size(v, field="group_size")
        except InputError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None


class HostSpec(_Strict):
    """The NSG mouse: ovariectomised, optionally with an oestradiol pellet or androstenedione."""

    ovariectomised: bool = True
    oestradiol_pellet: str | None = None  # e.g. "0.36 mg" (60-day release), replaced as needed
    pellet_days: float = Field(60.0, gt=0)
    androstenedione: Conc = 0.0  # free plasma androstenedione (supplemented mice, MCF-7Ca model)

    @model_validator(mode="after")
    def _intact(self) -> "HostSpec":
        if not self.ovariectomised:
            raise ValueError("only ovariectomised NSG hosts are modelled (intact-mouse oestrous cycling is not); "
                             "give an oestradiol_pellet to supplement oestrogen")
        return self


class ClaimSpec(_Strict):
    """A seed finding checked as 'significant (one-sided p < 0.05) in >= 80 % of replicate studies'."""

    id: str
    quantity: str
    source: str = Field(min_length=3)
    kind: Literal["calibration", "prediction"]
    readout: Literal[READOUTS]  # type: ignore[valid-type]
    arm: str
    than: str | None = None  # the comparator arm (None for within-arm regression / regrowth)
    alternative: Literal["less", "greater"] = "less"
    day: Hours | None = None  # time of the early read-out for regression / regrowth (from randomisation)
    falsified_by: Falsifier | None = None  # the value the claim rests on, and a change that must make it fail


class XenograftScenario(ScenarioBase):
    kind: Literal["xenograft"]
    cell_line: str
    host: HostSpec = HostSpec()
    arms: list[ArmSpec] = Field(min_length=1)
    cells_injected: float = Field(250_000.0, gt=0)
    establish: Hours = 21 * 24.0
    duration: Hours = 70 * 24.0
    imaging_every: Hours = 7 * 24.0
    humane_endpoint_mm3: float = Field(1500.0, gt=0)
    luminescence_cv: float = Field(0.3, ge=0, le=2)
    adaptation: bool | None = None  # default: on for aromatase-transfected (MCF-7Ca lineage) lines
    replicates: int = Field(1, ge=1, le=10_000)  # replicate studies for the claims
    claims: list[ClaimSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "XenograftScenario":
        # a message "FIELD: text" is anchored on FIELD by scenario_error (a model validator has no location)
        if self.duration <= 0 or self.imaging_every <= 0:
            raise ValueError("duration: duration and imaging_every must be positive")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arms: arm names must be unique, got {names}")
        for i, c in enumerate(self.claims):
            for key, ref in (("arm", c.arm), ("than", c.than)):
                if ref is not None and ref not in names:
                    raise ValueError(f"claims[{i}].{key}: claim '{c.id}' names arm '{ref}', which is not one of {names}")
            if c.readout in ("growth", "luminescence", "tumour_weight", "Ki67", "ER", "pS2", "growth_factor") \
                    or c.readout.startswith("met_"):
                if c.than is None:
                    raise ValueError(f"claims[{i}].than: claim '{c.id}' ({c.readout}) needs a comparator arm 'than'")
            elif c.day is None:
                raise ValueError(f"claims[{i}].day: claim '{c.id}' ({c.readout}) needs 'day' (the early read-out)")
        return self


def _check_names_and_regimens(s: XenograftScenario, file: str) -> XenograftScenario:
    """Names resolved (and made canonical: ``MCF-7`` → ``MCF7``), routes and start days checked."""
    from ..knowledge import load_knowledge
    from ..pk import pk_model
    from ..pk._regimen import parse_route

    kb = load_knowledge()
    try:
        cell_line = kb.cell_line(s.cell_line).name
    except UnknownNameError as exc:
        raise UnknownNameError(exc.kind, s.cell_line, exc.choices, file=file, field="cell_line") from None
    end = s.duration
    arms = []
    for i, arm in enumerate(s.arms):
        arm_line = None
        if arm.cell_line is not None:
            try:
                arm_line = kb.cell_line(arm.cell_line).name
            except UnknownNameError as exc:
                raise UnknownNameError(exc.kind, arm.cell_line, exc.choices, file=file, field=f"arms[{i}].cell_line") from None
        drugs = []
        for j, d in enumerate(arm.drugs):
            where = f"arms[{i}].drugs[{j}]"
            try:
                compound = kb.compound(d.compound).name
                model = pk_model(d.compound, "mouse", file=file, field=where)
            except UnknownNameError as exc:
                raise UnknownNameError(exc.kind, d.compound, exc.choices, file=file, field=f"{where}.compound") from None
            drugs.append(d.model_copy(update={"compound": compound}))
            route = parse_route(d.route, field=f"{where}.route", file=file)
            if route not in model.routes:
                raise InputError(f"route '{d.route}' is not available for {d.compound} in the mouse PK model",
                                 file=file, field=f"{where}.route", value=d.route, valid=", ".join(model.routes))
            if (d.start_day - 1) * 24.0 >= end:
                raise InputError(f"the regimen starts on day {d.start_day} but the study ends on day {end / 24:g}",
                                 file=file, field=f"{where}.start_day", value=d.start_day,
                                 valid=f"a start day <= {end / 24:g} (or a longer 'duration')")
        arms.append(arm.model_copy(update={"cell_line": arm_line, "drugs": drugs}))
    return s.model_copy(update={"cell_line": cell_line, "arms": arms})


def parse_xenograft_scenario(data: dict, *, file: str = "<scenario>") -> XenograftScenario:
    """Validate a xenograft scenario mapping; one clear :class:`InputError` for anything wrong."""
    from ._load import scenario_error

    try:
        s = XenograftScenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(exc, file=file, model=XenograftScenario) from None
    s = _check_names_and_regimens(s, file)
    from ..errors import InputError
    from ..experiments._xenograft import check_study_size

    try:  # a study that cannot fit in memory is refused when it is read, not when it is run
        check_study_size(s, s.replicates)
    except InputError as exc:
        raise exc.anchored(file=file) from None
    return s


def load_xenograft_scenario(path: str | Path) -> XenograftScenario:
    from ._load import read_yaml

    return parse_xenograft_scenario(read_yaml(path), file=str(path))
