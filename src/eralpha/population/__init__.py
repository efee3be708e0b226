"""Virtual patients with ER+/HER2- metastatic breast cancer: covariates, lesions x clones, variability.

    from eralpha.population import PopulationSpec, sample_patients
    patients = sample_patients(PopulationSpec(esr1_mutant=1.0), 500, numpy.random.default_rng(1))
    patients.covariates, patients.lesions        # one row per patient / per lesion (clone shares f_*)

Constants (human scaling, covariate distributions) are knowledge-base parameters
(knowledge/data/parameters/patient.yaml: ``human_*``, ``population_*``) with their sources and kinds;
``population_values()`` lists them.
"""

from ._constants import human, population_value, population_values
from ._sample import CLONE_TYPES, Patients, apply_eligibility, clone_type, sample_patients
from ._spec import SITES, VISCERAL_SITES, Eligibility, PopulationSpec

__all__ = ["PopulationSpec", "Eligibility", "Patients", "sample_patients", "apply_eligibility", "CLONE_TYPES",
           "clone_type", "SITES", "VISCERAL_SITES", "human", "population_value", "population_values"]
