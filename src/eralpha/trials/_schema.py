"""The trial scenario (``kind: trial``): a phase 2/3 ER+/HER2- trial written the way a protocol is.

See docs/trials.md for every field and a worked example. Everything is checked before anything
runs: compounds exist in the knowledge base and have a human PK model, every arm has a regimen that
parses, sample sizes are whole numbers >= 1, the scan schedule starts within follow-up, and the
eligibility criteria admit someone from the declared population.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from ..errors import InputError, UnknownNameError
from ..population import Eligibility, PopulationSpec
from ..scenario._fields import to_unit
from ..scenario._schema import ScenarioBase, _Strict

__all__ = ["TrialScenario", "ArmSpec", "ChoiceSpec", "DrugSpec", "DesignSpec", "ScanPhase", "CalibrationSpec", "PublishedRow",
           "parse_trial_scenario", "load_trial_scenario", "ENDPOINTS", "SUBGROUPS"]

Days = Annotated[float, BeforeValidator(lambda v: to_unit(v, "day"))]
PerMonth = Annotated[float, BeforeValidator(lambda v: to_unit(v, "1/month"))]
ENDPOINTS = ("median_pfs_months", "hr", "logrank_p", "orr", "cbr", "pfs_6m", "pfs_12m", "n")
SUBGROUPS = ("esr1", "prior_cdk46i", "visceral", "pik3ca", "bone_only")


class DrugSpec(_Strict):
    """One drug of an arm: a compound of the knowledge base and its regimen as a label writes it."""

    compound: str
    regimen: str  # e.g. "500 mg im on days 1, 15, 29 then q28d", "150 mg oral bid", "125 mg oral q24h 21/7"
    hold: tuple[float, float] | None = None  # days (inclusive) with no doses, e.g. [29, 42]
    reduce_to: str | None = None  # a dose reduction ...
    reduce_from_day: float | None = Field(None, ge=1)  # ... from this day
    reduce_fraction: float = Field(1.0, ge=0, le=1)  # share of patients whose dose is reduced

    @model_validator(mode="after")
    def _reduction(self) -> "DrugSpec":
        if (self.reduce_to is None) != (self.reduce_from_day is None):
            raise ValueError("a dose reduction needs both reduce_to (e.g. '100 mg') and reduce_from_day")
        return self


class ChoiceSpec(_Strict):
    """One regimen of an investigator's-choice arm and the share of the arm's patients given it."""

    name: str = Field(min_length=1)
    share: float = Field(gt=0, le=1)
    drugs: list[DrugSpec] = Field(min_length=1)


class ArmSpec(_Strict):
    """An arm: ``drugs`` (one regimen), or ``choice`` (investigator's choice: regimens with the share of
    patients given each, e.g. EMBER-3's fulvestrant or exemestane)."""

    name: str = Field(min_length=1)
    drugs: list[DrugSpec] = Field(default_factory=list)
    choice: list[ChoiceSpec] = Field(default_factory=list)
    n: int

    @field_validator("n", mode="before")
    @classmethod
    def _n(cls, v):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"n = {v!r} is not a number of patients; give a whole number >= 1")
        return v

    @model_validator(mode="after")
    def _has_regimen(self) -> "ArmSpec":
        if self.drugs and self.choice:
            raise ValueError(f"arm '{self.name}' gives both drugs and choice: give one regimen (drugs) or an "
                             "investigator's choice (choice), not both")
        if not self.drugs and not self.choice:
            raise ValueError(f"arm '{self.name}' has no regimen: give drugs: [{{compound: ..., regimen: '...'}}]")
        if self.choice:
            total = sum(c.share for c in self.choice)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"arm '{self.name}': the shares of choice sum to {total:g}; they must sum to 1")
            names = [c.name for c in self.choice]
            if len(set(names)) != len(names):
                raise ValueError(f"arm '{self.name}': choice names must be unique (got {names})")
        return self

    @property
    def options(self) -> list[tuple[str, float, list[DrugSpec]]]:
        """(name, share, drugs) of every regimen the arm gives: one for a plain arm."""
        if self.choice:
            return [(c.name, c.share, c.drugs) for c in self.choice]
        return [(self.name, 1.0, self.drugs)]


class ScanPhase(_Strict):
    """Scans every ``every`` until ``until`` (from randomisation); the last phase may be open-ended."""

    every: Days
    until: Days | None = None

    @field_validator("every")
    @classmethod
    def _positive(cls, v):
        if v <= 0:
            raise ValueError("the scan interval must be positive")
        return v


class DesignSpec(_Strict):
    allocation: Literal["randomised", "paired"] = "randomised"
    stratify: list[Literal[SUBGROUPS]] = Field(default_factory=list)  # type: ignore[valid-type]
    block_size: int = Field(4, ge=1)
    accrual: Days = 365.0
    follow_up: Days = 730.0  # maximal follow-up of a patient from randomisation
    cutoff: Days | None = None  # calendar data cut-off from first randomisation (None: accrual + follow-up)
    cutoff_events: int | None = Field(None, ge=1)  # event-driven cut-off (overrides cutoff)
    dropout: PerMonth = 0.0  # hazard of leaving the study without progression


class CalibrationSpec(_Strict):
    """Plausible-patient selection on a control regimen's published median PFS (Allen 2016)."""

    drugs: list[DrugSpec] = Field(min_length=1)
    median_pfs: Days
    source: str = Field(min_length=3)
    plausible: int = Field(3000, ge=100)  # plausible patients screened


class PublishedRow(_Strict):
    """A published number checked against the model's 95 % prediction interval over replicate trials."""

    id: str  # published.yaml id
    endpoint: Literal[ENDPOINTS]  # type: ignore[valid-type]
    arm: str | None = None  # per-arm endpoints
    comparison: tuple[str, str] | None = None  # (experimental, reference) for hr / logrank_p
    subgroup: str | None = None  # e.g. "esr1=mutant": the endpoint within that subgroup
    claim: Literal["inside_pi", "hr_below_1"] = "inside_pi"  # hr_below_1: upper 95 % PI bound of the HR < 1
    kind: Literal["calibration", "prediction"]
    note: str = ""


class TrialScenario(ScenarioBase):
    kind: Literal["trial"]
    source: str = ""
    population: PopulationSpec = PopulationSpec()
    eligibility: Eligibility = Eligibility()
    arms: list[ArmSpec] = Field(min_length=1)
    reference: str | None = None  # comparator arm (default: the last arm)
    design: DesignSpec = DesignSpec()
    scans: list[ScanPhase] = Field(default_factory=lambda: [ScanPhase(every="8 weeks", until="48 weeks"), ScanPhase(every="12 weeks")],
                                   min_length=1)
    # each scan happens within +/- this many days of its nominal day (the protocol's visit window): the day of
    # progression, or of the last scan of a censored patient, is the visit's, not the nominal grid's
    scan_window: Days = Field(7.0, ge=0)
    confirm_response: bool = True
    cbr_weeks: float = Field(24.0, gt=0)
    calibration: CalibrationSpec | None = None
    subgroups: list[Literal[SUBGROUPS]] = Field(default_factory=lambda: ["esr1", "prior_cdk46i", "visceral"])  # type: ignore[valid-type]
    replicates: int = Field(20, ge=1)
    pool: int = Field(2000, ge=10)  # most virtual patients simulated per arm (replicates resample from them)
    published: list[PublishedRow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "TrialScenario":
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arms: arm names must be unique (got {names})")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference: reference arm '{self.reference}' is not one of the arms {names}")
        if self.design.allocation == "paired" and len({a.n for a in self.arms}) > 1:
            raise ValueError("arms: paired arms give the same patients every arm: give every arm the same n")
        fu = self.design.follow_up
        start = self.scans[0].every
        if start > fu:
            raise ValueError(f"design.follow_up: the first scan (day {start:g}) is after the end of follow-up (day {fu:g}); "
                             "the first scan must fall within follow-up: shorten scans[0].every or lengthen design.follow_up")
        for i, ph in enumerate(self.scans[:-1]):
            if ph.until is None:
                raise ValueError(f"scans[{i}].until: scan phase {i} has no 'until' but is not the last phase")
        shortest = min(ph.every for ph in self.scans)
        if 2 * self.scan_window >= shortest:
            raise ValueError(f"scan_window: a visit window of +/- {self.scan_window:g} days lets scans {shortest:g} days apart "
                             f"swap order; give a window under half the shortest scan interval (< {shortest / 2:g})")
        for p in self.published:
            for a in ([p.arm] if p.arm else []) + (list(p.comparison) if p.comparison else []):
                if a not in names:
                    raise ValueError(f"published row '{p.id}' names arm '{a}', not one of {names}")
        return self

    @property
    def reference_arm(self) -> str:
        return self.reference or self.arms[-1].name

    def scan_days(self) -> np.ndarray:
        """Scan days after baseline (day 0), up to follow-up."""
        days, t = [], 0.0
        fu = self.design.follow_up
        for ph in self.scans:
            end = min(ph.until if ph.until is not None else fu, fu)
            while t + ph.every <= end + 1e-9:
                t += ph.every
                days.append(t)
        return np.array(days)


def _check_drugs(s: TrialScenario, file: str) -> None:
    from ..knowledge import load_knowledge
    from ..pk import Regimen, pk_model

    kb = load_knowledge()
    specs = [(f"arms[{i}].drugs[{j}]", d) for i, a in enumerate(s.arms) for j, d in enumerate(a.drugs)]
    specs += [(f"arms[{i}].choice[{k}].drugs[{j}]", d) for i, a in enumerate(s.arms) for k, c in enumerate(a.choice)
              for j, d in enumerate(c.drugs)]
    if s.calibration:
        specs += [(f"calibration.drugs[{j}]", d) for j, d in enumerate(s.calibration.drugs)]
    for where, d in specs:
        try:
            name = kb.compound(d.compound).name
        except UnknownNameError as exc:
            raise UnknownNameError("compound", d.compound, exc.choices, file=file, field=f"{where}.compound") from None
        try:
            parent = pk_model(name, "human").formed_from
        except InputError:
            raise InputError(f"{name} has no human PK model in pk.yaml, so a trial cannot dose it", file=file,
                             field=f"{where}.compound", value=name, valid="a compound with a 'human' entry in pk.yaml") from None
        if parent:
            raise InputError(f"{name} is a metabolite of {parent} in pk.yaml: dose {parent}, whose regimen forms it",
                             file=file, field=f"{where}.compound", value=name, valid=parent)
        try:
            reg = Regimen.parse(d.regimen, until_day=int(s.design.follow_up) + 1, field=f"{where}.regimen", file=file)
        except InputError as exc:  # e.g. the memory guard on a follow-up too long to dose: it is the follow-up to change
            raise exc.anchored(file=file, field="design.follow_up" if exc.field == "until" else None) from None
        if any(e.dose.per_kg for e in reg.events):
            raise InputError("trial doses are absolute (e.g. '500 mg'), not per kg", file=file, field=f"{where}.regimen",
                             value=d.regimen)
        reg.check_within(s.design.follow_up * 24.0, file=file, field=f"{where}.regimen")


def _check_eligibility(s: TrialScenario, file: str) -> None:
    from ..population import apply_eligibility, sample_patients

    rng = np.random.default_rng(0)
    apply_eligibility(sample_patients(s.population, 2000, rng), s.eligibility, file=file)


def parse_trial_scenario(data: dict[str, Any], *, file: str = "<scenario>") -> TrialScenario:
    from ..scenario._load import scenario_error

    try:
        s = TrialScenario.model_validate(data)
    except ValidationError as exc:
        raise scenario_error(exc, file=file, unknown_field=("field in a 'trial' scenario", list(TrialScenario.model_fields))) from None
    from ..knowledge import knowledge_overrides

    try:
        with knowledge_overrides(s.knowledge_overrides, origin=f"scenario {s.name}"):  # a bad key fails here
            _check_drugs(s, file)
            _check_eligibility(s, file)  # the population as the overrides make it
    except InputError as exc:
        raise exc.anchored(file=file) from None
    return s


def load_trial_scenario(path) -> TrialScenario:
    from ..scenario._load import read_yaml

    return parse_trial_scenario(read_yaml(path), file=str(path))
