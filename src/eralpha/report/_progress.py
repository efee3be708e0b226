"""A progress bar for long runs that stays out of the way of pipes, logs and tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress", "progress_enabled"]

T = TypeVar("T")


def progress_enabled() -> bool:
    """True only for a person at a terminal: stdout is a TTY and ``ERALPHA_QUIET`` is not set to 1."""
    if os.environ.get("ERALPHA_QUIET", "").strip() not in ("", "0"):
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False


def progress(iterable: Iterable[T], total: int | None = None, description: str = "working") -> Iterator[T]:
    """Iterate over ``iterable``, showing a rich progress bar when :func:`progress_enabled`.

    The bar is drawn on stderr and removed when done, so stdout stays clean for tables and JSON.
    """
    if not progress_enabled():
        yield from iterable
        return
    from rich.console import Console
    from rich.progress import track

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    yield from track(iterable, total=total, description=description, console=Console(stderr=True), transient=True)
