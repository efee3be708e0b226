"""The declared population of a trial: covariate distributions, their dependencies, and eligibility.

The joint distribution is declared as a short chain of conditionals (each line names what it
depends on), which is how trial populations are described in a protocol's "patient characteristics":

* ``line`` of therapy ~ categorical;
* prior AI, prior fulvestrant, prior chemotherapy ~ Bernoulli, each with its own probability
  (``prior_chemo`` more likely in later lines: probability x line / mean line);
* prior CDK4/6 inhibitor ~ Bernoulli, its duration ~ log-normal (months) given it was received;
* ESR1 mutation ~ Bernoulli, with odds multiplied by ``esr1_odds_ratio_prior_ai`` after prior AI
  (ESR1 mutations are acquired under oestrogen deprivation); its variant Y537S / D538G / both;
* PIK3CA mutation ~ Bernoulli (independent);
* visceral disease ~ Bernoulli; non-visceral patients are bone-only with ``bone_only_given_nonvisceral``;
* number of lesions 1 + Poisson, sites drawn from the site weights respecting visceral / bone-only;
  longest diameters log-normal (so the baseline sum of diameters follows from the lesions).

Eligibility is a filter applied to sampled patients (``Eligibility``); a filter that admits no one
is an error naming the criterion.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["PopulationSpec", "Eligibility", "SITES", "VISCERAL_SITES"]

SITES = ("bone", "liver", "lung", "lymph_node", "soft_tissue", "brain")
VISCERAL_SITES = ("liver", "lung")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Eligibility(_Strict):
    """Inclusion criteria (every one must hold)."""

    esr1: Literal["mutant", "not_detected", "any"] = "any"
    prior_cdk46i: bool | None = None  # True: required; False: excluded; None: either
    prior_ai: bool | None = None
    prior_fulvestrant: bool | None = None
    prior_chemo: bool | None = None
    max_line: int | None = Field(None, ge=1)
    min_line: int | None = Field(None, ge=1)
    measurable_disease: bool = False  # at least one RECIST-measurable lesion required
    brain_metastases: bool = True  # False excludes patients with brain lesions
    min_age: float = Field(18.0, ge=0)
    max_age: float = Field(120.0, gt=0)


class PopulationSpec(_Strict):
    """Marginal probabilities and parameters of the covariates (defaults: a pretreated mBC population)."""

    line: dict[int, float] = Field(default_factory=lambda: {1: 0.0, 2: 0.6, 3: 0.4})
    prior_ai: float = Field(1.0, ge=0, le=1)
    prior_cdk46i: float = Field(1.0, ge=0, le=1)
    prior_cdk46i_months_median: float = Field(14.0, gt=0)
    prior_cdk46i_months_cv: float = Field(0.6, ge=0)
    prior_fulvestrant: float = Field(0.1, ge=0, le=1)
    prior_chemo: float = Field(0.2, ge=0, le=1)
    esr1_mutant: float = Field(1.0, ge=0, le=1)
    esr1_odds_ratio_prior_ai: float = Field(1.0, gt=0)
    pik3ca_mutant: float | None = Field(None, ge=0, le=1)  # None: the knowledge base's prevalence
    visceral: float = Field(0.6, ge=0, le=1)
    bone_only_given_nonvisceral: float = Field(0.5, ge=0, le=1)
    lesions_mean: float | None = Field(None, ge=1)  # None: the knowledge base's value
    age_median: float | None = Field(None, gt=0)
    exclude_brain: bool = False

    @model_validator(mode="after")
    def _line_probabilities(self) -> "PopulationSpec":
        # written so that NaN fails too (every comparison with NaN is False)
        if not self.line or not all(p >= 0 for p in self.line.values()) or not abs(sum(self.line.values()) - 1) <= 1e-6:
            raise ValueError(f"line probabilities {self.line} must be >= 0 and sum to 1")
        if any(k < 1 for k in self.line):
            raise ValueError("lines of therapy are numbered from 1")
        return self
