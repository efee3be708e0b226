"""eralpha — an open in-silico laboratory for endocrine therapy of ER+ breast cancer."""

from ._version import __version__
from .errors import EralphaError, InputError, SolverError, UnknownNameError

__all__ = ["__version__", "EralphaError", "InputError", "UnknownNameError", "SolverError"]
