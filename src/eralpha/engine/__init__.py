"""The engine: turns an assembled model into numbers, fast, for a batch of parameter sets."""

from ._codegen import CompiledModel, SymbolicModel, compile_model
from ._plausibility import check_nonnegative, check_plausible, conservation_laws
from ._distributed import DaskExecutor, InProcess, make_executor
from ._simulate import Event, SimulationResult, SolverOptions, simulate

__all__ = ["simulate", "Event", "SolverOptions", "SimulationResult", "compile_model", "CompiledModel", "SymbolicModel",
           "check_plausible", "check_nonnegative", "conservation_laws", "make_executor", "InProcess", "DaskExecutor"]
