"""Death without progression: each virtual patient's background (all-cause) death day.

PFS counts progression *or death*; a patient who dies before a scan shows progression is a PFS event
at the day of death. The hazard is the life-table mortality of a woman aged 60 scaled by the Gompertz
law to the patient's age (knowledge base: ``human_background_mortality_60``,
``human_mortality_doubling_time``). It is a property of the patient, not of the arm: in a paired
design the same patient dies on the same day in every arm. The stream is keyed by the seed and the
patient's uid, so pool order, chunking and thread count do not change it.
"""

from __future__ import annotations

import numpy as np

from ..population import Patients, human

__all__ = ["death_hazard_per_day", "death_days"]

_DAYS_PER_YEAR = 365.25


def death_hazard_per_day(age_years: np.ndarray) -> np.ndarray:
    """Background death hazard (1/day) at each age (Gompertz: doubles every ``mortality_doubling_time``)."""
    h60 = human("background_mortality_60")
    doubling = human("mortality_doubling_time")
    per_year = h60.value * np.exp2((np.asarray(age_years, float) - 60.0) / doubling.value)
    return per_year / _DAYS_PER_YEAR


def death_days(patients: Patients, seed: int) -> np.ndarray:
    """Day of background death of every patient (exponential at the patient's age-specific hazard)."""
    uid = patients.covariates["uid"].to_numpy(int) if "uid" in patients.covariates else np.arange(patients.n)
    u = np.random.default_rng(np.random.SeedSequence([seed, 5])).random(int(uid.max()) + 1 if uid.size else 0)[uid]
    return -np.log1p(-u) / death_hazard_per_day(patients.covariates["age"].to_numpy())
