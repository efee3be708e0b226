"""The versioned scenario schema (YAML): one model per assay, discriminated by ``kind``.

A scenario says what a bench scientist would write in a protocol — cell line, compound,
concentrations with units, time points, controls, replicates — and optionally what the result is
expected to show (``expect``), each expectation with its source. Bad values are rejected before
anything runs, with the file, field path, value and what is valid.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ._fields import Conc, ConcList, Hours, HoursList

__all__ = ["Expectation", "Target", "Falsifier", "SCENARIO_MODELS", "Scenario", "ScenarioBase"]

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    # NaN and inf are never a valid protocol value (pydantic accepts them in float fields by default)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Target(_Strict):
    """What a computed value must satisfy: a value ± relative tolerance, a minimum, a maximum or a range."""

    value: float | None = None
    rel_tol: float | None = Field(None, gt=0)
    min: float | None = None
    max: float | None = None
    range: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> "Target":
        forms = [self.value is not None, self.min is not None or self.max is not None, self.range is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of: value (with rel_tol), min and/or max, or range")
        if self.value is not None and self.rel_tol is None:
            raise ValueError("a target value needs rel_tol (e.g. 0.05 for 5%)")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {self.range} is reversed; write it as [low, high]")
        return self

    def check(self, x: float) -> bool:
        import math

        if x is None or not math.isfinite(x):
            return False
        if self.value is not None:
            return abs(x - self.value) <= self.rel_tol * abs(self.value)
        if self.range is not None:
            return self.range[0] <= x <= self.range[1]
        return (self.min is None or x >= self.min) and (self.max is None or x <= self.max)

    def describe(self) -> tuple[str, str]:
        """(target, tolerance) as the scorecard prints them."""
        if self.value is not None:
            return f"{self.value:g}", f"±{self.rel_tol:.0%}"
        if self.range is not None:
            return f"[{self.range[0]:g}, {self.range[1]:g}]", "inside range"
        if self.min is not None and self.max is not None:
            return f"[{self.min:g}, {self.max:g}]", "inside range"
        if self.min is not None:
            return f">= {self.min:g}", "lower bound"
        return f"<= {self.max:g}", "upper bound"


class Falsifier(_Strict):
    """The knowledge-base value a row rests on, and a change of it that must make the row fail.

    ``parameter`` is a key of ``knowledge_overrides`` (a parameter name or ``<entry>.<field path>``);
    ``scale`` multiplies its value (or ``value`` replaces it). tests/test_scorecard_can_fail.py runs the change for a sample of rows.
    """

    parameter: str = Field(min_length=1)
    scale: float | None = Field(None, gt=0)
    value: float | None = None  # or set it outright (a zero efficacy cannot be scaled)
    also: list[str] = Field(default_factory=list)  # further keys changed the same way (a row resting on two values)

    @model_validator(mode="after")
    def _changes_something(self) -> "Falsifier":
        if (self.scale is None) == (self.value is None):
            raise ValueError("give either scale (a factor) or value (the new value)")
        if self.scale == 1:
            raise ValueError("scale 1 changes nothing; give the factor that should make the row fail")
        return self

    def override(self, current: dict[str, float]) -> dict[str, float]:
        """The ``knowledge_overrides`` entries that apply this change to values now ``current`` (key -> value)."""
        keys = [self.parameter, *self.also]
        return {k: current[k] * self.scale if self.scale is not None else float(self.value) for k in keys}


class Expectation(_Strict):
    """A quantitative claim: a metric of the experiment, where to read it, and its target.

    ``why`` says why the tolerance is as wide as it is (it is printed with the tolerance);
    ``falsified_by`` names the value the row rests on and a change of it that must make the row fail.
    """

    id: str
    quantity: str
    metric: str
    at: dict[str, Any] = Field(default_factory=dict)
    ratio_to: dict[str, Any] | None = None  # divide by the same metric read at these keys
    target: Target
    source: str = Field(min_length=3)
    kind: Literal["calibration", "prediction"]
    why: str = ""
    falsified_by: Falsifier | None = None


class ScenarioBase(_Strict):
    schema_version: Literal[1] = 1
    kind: str
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    source: str = ""  # the protocol / seed it mirrors
    seed: int = Field(0, ge=0)
    expect: list[Expectation] = Field(default_factory=list)
    # replace knowledge-base values for this run only: {parameter or <entry>.<field path>: number or {value, unit}}
    knowledge_overrides: dict[str, float | dict[str, float | str]] = Field(default_factory=dict)


class BindingScenario(ScenarioBase):
    """Competitive radioligand binding to purified ER ligand-binding domains (displacement curves)."""

    kind: Literal["binding"]
    compounds: list[str]
    variants: list[str] = ["ERa_WT", "ERa_Y537S", "ERa_D538G", "ERb"]
    radioligand: str = "oestradiol"
    radioligand_concentration: Conc = 1.0
    receptor_concentration: Conc = 0.05
    concentrations: ConcList
    incubation: Hours = 18.0
    nonspecific_fraction: float = Field(0.05, ge=0, le=1)
    replicates: int = Field(2, ge=1, le=12)
    noise_cv: float = Field(0.0, ge=0, le=1)
    check_knowledge_base: bool = True  # add a Ki-recovery row per compound × variant


class CellScenario(ScenarioBase):
    """Fields shared by the cell-based assays."""

    cell_lines: list[str] = ["MCF7"]
    oestradiol: Conc = 0.1  # medium oestradiol during the assay
    androstenedione: Conc = 0.0
    replicates: int = Field(3, ge=1, le=24)
    noise_cv: float = Field(0.08, ge=0, le=1)


class WesternBlotScenario(CellScenario):
    """ERα degradation by western blot (seed 001 protocol): doses × times, vehicle, positive control."""

    kind: Literal["western_blot"]
    compounds: list[str]
    concentrations: ConcList
    times: HoursList = [6.0, 24.0, 48.0, 72.0]
    positive_control: str | None = "fulvestrant"
    positive_control_concentration: Conc = 100.0
    washout_after: Hours | None = None  # remove the drug at this time
    washout_times: HoursList | None = None  # sample these times after the wash-out

    @model_validator(mode="after")
    def _washout(self) -> "WesternBlotScenario":
        if (self.washout_after is None) != (self.washout_times is None):
            raise ValueError("washout_after: give both washout_after and washout_times, or neither")
        return self


class TranscriptionScenario(CellScenario):
    """ER transcriptional activity and target genes with and without oestradiol."""

    kind: Literal["transcription"]
    oestradiol_conditions: ConcList = [0.0, 1.0]
    compounds: list[str] = []
    concentrations: ConcList = [100.0]
    time: Hours = 24.0


class ProliferationScenario(CellScenario):
    """Proliferation assay (5–7 days; crystal violet or ATP readout) with a 4PL IC50."""

    kind: Literal["proliferation"]
    compounds: list[str]
    concentrations: ConcList
    duration: Hours = 168.0
    seeding_density: float = Field(3000.0, gt=0)
    readout: Literal["atp", "crystal_violet"] = "atp"
    combination_partner: str | None = None  # e.g. a CDK4/6 inhibitor
    combination_concentrations: ConcList | None = None  # the partner at fixed nominal concentrations
    # the partner alone over its own dilution series (its single-agent curve on the same plate) ...
    combination_partner_concentrations: ConcList | None = None
    # ... and the partner dosed at its own ICx read from that curve (x = % inhibition of vehicle), in each cell line
    combination_partner_levels: list[Annotated[float, Field(gt=0, lt=100)]] | None = None

    @model_validator(mode="after")
    def _partner(self) -> "ProliferationScenario":
        extra = [f for f in ("combination_concentrations", "combination_partner_concentrations", "combination_partner_levels")
                 if getattr(self, f)]
        if extra and not self.combination_partner:
            raise ValueError(f"{extra[0]}: name the combination_partner it doses")
        if self.combination_partner_levels:
            series = [x for x in (self.combination_partner_concentrations or []) if x > 0]
            if len(series) < 4:
                raise ValueError("combination_partner_levels: give combination_partner_concentrations, the partner's own "
                                 "dilution series (>= 4 concentrations > 0) that its ICx levels are read from")
        return self


class AromataseScenario(ScenarioBase):
    """Aromatase inhibition by the tritiated-water method, system by system (seed 003)."""

    kind: Literal["aromatase"]
    compounds: list[str]
    systems: list[str]
    concentrations: ConcList
    replicates: int = Field(2, ge=1, le=12)
    noise_cv: float = Field(0.0, ge=0, le=1)
    check_knowledge_base: bool = True


class HormoneDependenceScenario(CellScenario):
    """Growth with and without oestradiol (charcoal-stripped serum)."""

    kind: Literal["hormone_dependence"]
    oestradiol_conditions: ConcList = [0.0, 1.0]
    duration: Hours = 168.0
    seeding_density: float = Field(3000.0, gt=0)


class TissueSelectivityScenario(ScenarioBase):
    """Tissue ER-agonism index of SERMs and SERDs: ER activity per receptor with the ligand alone (no
    oestradiol), relative to saturating oestradiol, in each tissue's receptor context (breast, bone, uterus)."""

    kind: Literal["tissue_selectivity"]
    cell_line: str = "MCF7"
    compounds: list[str]
    concentration: Conc = 1000.0  # the ligand, alone
    reference_oestradiol: Conc = 10.0  # the full-agonist reference
    tissues: list[Literal["breast", "bone", "uterus"]] = ["breast", "bone", "uterus"]
    time: Hours = 24.0


Scenario = Annotated[
    Union[
        TissueSelectivityScenario,
        BindingScenario,
        WesternBlotScenario,
        TranscriptionScenario,
        ProliferationScenario,
        AromataseScenario,
        HormoneDependenceScenario,
    ],
    Field(discriminator="kind"),
]

SCENARIO_MODELS = {
    "binding": BindingScenario,
    "western_blot": WesternBlotScenario,
    "transcription": TranscriptionScenario,
    "proliferation": ProliferationScenario,
    "aromatase": AromataseScenario,
    "hormone_dependence": HormoneDependenceScenario,
    "tissue_selectivity": TissueSelectivityScenario,
}
