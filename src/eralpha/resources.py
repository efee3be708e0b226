"""Resource guards: estimate what a request needs *before* allocating it, and refuse what does not fit.

Every path that allocates in proportion to what a scenario asks for (PK subjects × output times, a
batch of ODE members × saved times × species, a regimen's dose events) calls :func:`check_memory`
with its estimate first. The limit is, in order: :func:`memory_limit` set in code (the CLI's
``--max-memory``), ``$ERALPHA_MAX_MEMORY`` (``"8 GB"``, ``"512 MiB"`` or bytes), else half of the
machine's physical memory — a request that needs more is a :class:`~eralpha.errors.ResourceError`
(exit status 2 from the CLI) naming the estimate, the limit and how to raise it, never a machine
brought down by swapping or the kernel's out-of-memory killer.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from typing import Any

from .errors import InputError, ResourceError

__all__ = ["check_memory", "memory_limit", "max_memory_bytes", "parse_bytes", "format_bytes", "DEFAULT_FRACTION"]

#: share of physical memory one request may take when no limit is configured
DEFAULT_FRACTION = 0.5
_ENV = "ERALPHA_MAX_MEMORY"
_limit: contextvars.ContextVar[float | None] = contextvars.ContextVar("eralpha_max_memory", default=None)


def parse_bytes(value: Any, *, field: str = "--max-memory") -> float:
    """``"8 GB"``, ``"512 MiB"``, ``"2e9"`` or a number of bytes → bytes (> 0)."""
    from .units import ureg

    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        try:
            number = float(ureg.Quantity(text).to("byte").magnitude)
        except Exception:
            raise InputError(f"cannot read '{value}' as an amount of memory", field=field, value=value,
                             valid="e.g. '8 GB', '512 MiB' or a number of bytes") from None
    if not number > 0 or number != number or number == float("inf"):
        raise InputError(f"the memory limit '{value}' must be a positive, finite amount", field=field,
                         value=value, valid="e.g. '8 GB'")
    return number


def format_bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 8e9


def max_memory_bytes() -> float:
    """The limit in force now (see the module docstring for where it comes from)."""
    configured = _limit.get()
    if configured is not None:
        return configured
    env = os.environ.get(_ENV, "").strip()
    if env:
        return parse_bytes(env, field=_ENV)
    return DEFAULT_FRACTION * _physical_memory()


@contextlib.contextmanager
def memory_limit(limit: Any) -> Iterator[float]:
    """Use ``limit`` (bytes or ``"8 GB"``; None = keep the current one) inside the block."""
    if limit is None:
        yield max_memory_bytes()
        return
    token = _limit.set(parse_bytes(limit))
    try:
        yield _limit.get()
    finally:
        _limit.reset(token)


def check_memory(needed_bytes: float, what: str, *, file: str | None = None, field: str | None = None,
                 value: Any = None) -> None:
    """Refuse (before allocating) a request estimated to need more than the memory limit.

    ``what`` says what would be allocated, e.g. ``"100000000 subjects × 505 output times"``; ``field``
    names the scenario field (or option) the user can change.
    """
    limit = max_memory_bytes()
    if needed_bytes > limit or needed_bytes != needed_bytes:
        raise ResourceError(
            f"{what} needs about {format_bytes(needed_bytes)} of memory, more than the limit of "
            f"{format_bytes(limit)}; ask for less, or raise the limit with --max-memory or ${_ENV}",
            needed_bytes=needed_bytes, limit_bytes=limit, file=file, field=field, value=value,
            valid=f"a request under {format_bytes(limit)}",
        )
