"""The engine: turns an assembled model into numbers, fast, for a batch of parameter sets."""

from ._codegen import CompiledModel, SymbolicModel, compile_model
from ._simulate import Event, SimulationResult, SolverOptions, simulate

__all__ = ["simulate", "Event", "SolverOptions", "SimulationResult", "compile_model", "CompiledModel", "SymbolicModel"]
