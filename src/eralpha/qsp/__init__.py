"""The QSP modeller's toolkit: calibrate the mechanism to your data, identifiability, global sensitivity, PEtab.

>>> from eralpha.qsp import Calibration
>>> cal = Calibration.from_spec("examples/calibration/mcf7_growth.yaml").fit().profile()
>>> cal.summary          # estimates, 95 % CIs (Wald and profile), identifiability verdicts
"""

from ._calibration import CHI2_95, Calibration
from ._petab import PetabCalibration, from_petab, read_petab, to_petab
from ._problem import Problem
from ._sensitivity import CellModelOutput, ScenarioOutput, SensitivityAnalysis, SensitivitySpec, ishigami, sensitivity_from_spec
from ._spec import CalibrationSpec, DataSpec, Experiment, FreeParameter, ModelSpec, load_spec

__all__ = ["Calibration", "Problem", "CalibrationSpec", "ModelSpec", "Experiment", "FreeParameter", "DataSpec",
           "load_spec", "CHI2_95", "SensitivityAnalysis", "SensitivitySpec", "CellModelOutput", "ScenarioOutput",
           "sensitivity_from_spec", "ishigami", "to_petab", "read_petab", "from_petab", "PetabCalibration"]
