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
        where = []
        if file:
            where.append(str(file))
        if field:
            where.append(f"field '{field}'")
        prefix = (", ".join(where) + ": ") if where else ""
        text = prefix + message
        if valid:
            text += f" (valid: {valid})"
        super().__init__(text)


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
