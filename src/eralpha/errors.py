"""Errors that tell a person what went wrong and how to fix it.

Every error eralpha raises on purpose derives from :class:`EralphaError`; the CLI prints its message
(never a traceback) and exits with status 2. Errors carry the offending values as attributes, the way
pint's do, so code can react to them too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = [
    "EralphaError",
    "InputError",
    "UnknownNameError",
    "SolverError",
    "ResourceError",
    "PlausibilityError",
    "suggest",
]


class EralphaError(Exception):
    """Base class of every error eralpha raises deliberately."""


def suggest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The closest names to ``name`` among ``choices`` (case-insensitive), best first."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


class InputError(EralphaError, ValueError):
    """Bad input: names the file, the field (or row / column), the value and what would be valid."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        value: Any = None,
        valid: str | None = None,
    ) -> None:
        self.file, self.field, self.value, self.valid = file, field, value, valid
        self.message = message
        super().__init__(self._text())

    def _text(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = (", ".join(where) + ": ") if where else ""
        text = prefix + self.message
        if self.valid:
            text += f" (valid: {self.valid})"
        return text

    def anchored(self, *, file: str | None = None, field: str | None = None) -> "InputError":
        """The same error (same class and attributes) naming ``file`` where it named none, and ``field``
        (the field the user should change) when given."""
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        new.file = self.file or file
        new.field = field or self.field
        new.args = (new._text(),)
        return new


class UnknownNameError(InputError, KeyError):
    """A name (compound, variant, cell line, column …) that does not exist, with suggestions."""

    def __init__(
        self,
        kind: str,
        name: str,
        choices: Iterable[str],
        *,
        file: str | None = None,
        field: str | None = None,
    ) -> None:
        choices = sorted(choices)
        self.kind, self.name, self.choices = kind, name, choices
        self.suggestions = suggest(name, choices)
        msg = f"unknown {kind} '{name}'"
        if self.suggestions:
            msg += " — did you mean " + " or ".join(f"'{s}'" for s in self.suggestions) + "?"
        shown = ", ".join(choices[:25]) + (" …" if len(choices) > 25 else "")
        super().__init__(msg, file=file, field=field, value=name, valid=shown)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return Exception.__str__(self)


class SolverError(EralphaError, RuntimeError):
    """The ODE solver failed for one or more parameter sets; names them and the time of failure."""

    def __init__(self, message: str, *, members: list[int], times: list[float]) -> None:
        self.members, self.times = members, times
        super().__init__(message)


class ResourceError(InputError, MemoryError):
    """A request that would not fit the machine: says how much it needs, the limit, and how to raise it.

    Raised *before* anything is allocated (see :mod:`eralpha.resources`).
    """

    def __init__(self, message: str, *, needed_bytes: float, limit_bytes: float, file: str | None = None,
                 field: str | None = None, value: Any = None, valid: str | None = None) -> None:
        self.needed_bytes, self.limit_bytes = needed_bytes, limit_bytes
        super().__init__(message, file=file, field=field, value=value, valid=valid)


class PlausibilityError(EralphaError, ArithmeticError):
    """A computed result that cannot be physically right (a negative concentration, a total that is not
    conserved, a fit outside what its model allows): names the quantity and where it happened."""

    def __init__(self, message: str, *, quantity: str, where: dict[str, Any] | None = None, value: Any = None) -> None:
        self.quantity, self.where, self.value = quantity, dict(where or {}), value
        super().__init__(message)
