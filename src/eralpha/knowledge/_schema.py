"""The schema of the curated knowledge base. Every number is a :class:`Value`: value, unit, source, note.

The YAML files under ``knowledge/data/`` are validated against these models when loaded; a bad file
gets an error naming the file, the field path and what is valid.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Value",
    "PKModel",
    "Compound",
    "Target",
    "CellLine",
    "AssaySystem",
    "PublishedResult",
    "DrugClass",
    "ProvenanceKind",
    "ModelParameter",
]

ProvenanceKind = Literal["measured", "calibrated", "assumed"]
DrugClass = Literal["AI", "SERM", "SERD", "CDK4/6i", "PI3Ki", "AKTi", "mTORi", "hormone", "substrate", "prodrug"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Value(_Frozen):
    """One sourced number. ``low``/``high`` hold a published range (``value`` is then its geometric mid).

    ``source`` is findable: a seed file (and table), a paper, a label or a dataset — or
    ``assumption (this work): <reason>`` for an assumed value.
    """

    value: float
    unit: str
    source: str = Field(min_length=3, description="seed file name (and table) or paper / label citation")
    note: str = Field("", description="assay or system, and anything a reader needs to interpret the value")
    # No default: a value is measured, calibrated (tuned to a stated target) or assumed (with the reason),
    # and whoever adds it must say which.
    kind: ProvenanceKind
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _range_consistent(self) -> "Value":
        if (self.low is None) != (self.high is None):
            raise ValueError("give both 'low' and 'high' for a range, or neither")
        if self.low is not None and not (self.low <= self.high):
            raise ValueError(f"range low {self.low} is above high {self.high}")
        return self


class ModelParameter(Value):
    """A number of the model or of a virtual experiment that belongs to no single compound, target or cell
    line (files under ``knowledge/data/parameters/``): a Value plus the model module that uses it."""

    module: str = Field(min_length=1, description="the model module or experiment that uses it")
    description: str = ""


class PKModel(_Frozen):
    """Compartmental PK of one compound in one species (filled by the PK layer, issue 4)."""

    # a metabolite dosed as its parent (its regimen is the parent's; the depot is the parent's body pool)
    formed_from: str | None = None
    routes: list[Literal["oral", "sc", "im", "iv"]]
    compartments: Literal[1, 2] = 1
    clearance: Value  # L/h (human) or L/h/kg (mouse, per kg)
    volume_central: Value  # L or L/kg
    ka: Value | None = None  # 1/h, first-order absorption (oral / sc / im depot)
    bioavailability: Value | None = None  # fraction, oral
    intercompartmental_clearance: Value | None = None
    volume_peripheral: Value | None = None
    fraction_unbound_plasma: Value | None = None
    brain_to_plasma_unbound: Value | None = None  # Kp,uu,brain
    # breast-tumour to plasma concentration ratio: multiplies the free plasma level the tumour cell sees (as
    # human_tumour_to_plasma_e2 does for oestradiol); absent = 1
    tumour_to_plasma: Value | None = None
    bsv_cv: dict[str, Value] = Field(default_factory=dict)  # between-subject CV per parameter
    labelled_regimen: str | None = None
    exposure: dict[str, Value] = Field(default_factory=dict)  # published Cmax, AUC, half-life at regimen


class Compound(_Frozen):
    """A drug or endogenous steroid, with its pharmacology as data."""

    name: str
    synonyms: list[str] = Field(default_factory=list)
    drug_class: DrugClass
    mechanism: str
    targets: list[str]
    molecular_weight: Value | None = None  # g/mol
    # Affinity for each ER variant (Ki or Kd, nM), keyed by target name in targets.yaml (ERa_WT, ERa_Y537S, …).
    er_binding: dict[str, Value] = Field(default_factory=dict)
    # Intrinsic efficacy per tissue: oestradiol = 1, pure antagonist = 0 (breast, bone, endometrium).
    efficacy: dict[str, Value] = Field(default_factory=dict)
    # Half-life of the ER–ligand complex in MCF-7 cells (h): degradation as its own axis.
    bound_receptor_half_life: Value | None = None
    # Enzyme inhibition (IC50 or Ki, nM) keyed by target: CYP19A1, CDK4, CDK6, PI3Ka, mTORC1.
    inhibition: dict[str, Value] = Field(default_factory=dict)
    # Aromatase-assay IC50 by experimental system (keys in assay_systems.yaml), published values.
    aromatase_ic50_by_system: dict[str, Value] = Field(default_factory=dict)
    # Free fraction in cell-culture medium (10% FBS), used to turn nominal into free concentrations.
    fraction_unbound_medium: Value | None = None
    pk: dict[str, PKModel] = Field(default_factory=dict)  # keyed by species: human, mouse
    notes: str = ""


class Target(_Frozen):
    """A receptor variant or enzyme."""

    name: str
    kind: Literal["receptor", "receptor_variant", "enzyme", "complex"]
    gene: str
    description: str
    parent: str | None = None  # e.g. ERa_Y537S -> ERa_WT
    # Coactivator-binding Kd of each receptor state (nM): 'apo', 'agonist' (E2-bound).
    coactivator_kd: dict[str, Value] = Field(default_factory=dict)
    properties: dict[str, Value] = Field(default_factory=dict)


class CellLine(_Frozen):
    """A cell line or engineered derivative."""

    name: str
    parent: str | None = None
    description: str
    # Fraction of ER synthesis from each variant (sums to 1): heterozygous lines are a mix.
    er_variants: dict[str, float]
    pik3ca: Literal["WT", "E545K", "H1047R", "other"] = "WT"
    aromatase_transfected: bool = False
    properties: dict[str, Value] = Field(default_factory=dict)  # doubling time, ER per cell, …
    source: str

    @model_validator(mode="after")
    def _mix_sums_to_one(self) -> "CellLine":
        total = sum(self.er_variants.values())
        if self.er_variants and abs(total - 1.0) > 1e-9:
            raise ValueError(f"er_variants fractions sum to {total}, they must sum to 1")
        if any(f < 0 or f > 1 for f in self.er_variants.values()):
            raise ValueError("each er_variants fraction must lie in [0, 1]")
        return self


class AssaySystem(_Frozen):
    """An experimental system for an enzyme assay (e.g. aromatase in placental microsomes)."""

    name: str
    description: str
    enzyme_source: str  # species and tissue of the enzyme
    format: Literal["cell-free", "intact cells", "tissue"]
    properties: dict[str, Value] = Field(default_factory=dict)  # substrate concentration, Km, incubation time
    source: str


class PublishedResult(_Frozen):
    """A published quantitative claim the model is checked against (scorecard targets)."""

    id: str
    quantity: str
    value: Value
    context: str = ""
