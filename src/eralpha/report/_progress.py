"""Progress for long steps: a bar on a terminal, one plain line per stage otherwise, nothing when quiet.

>>> from eralpha.report import Progress
>>> with Progress("validate", total=len(jobs)) as p:
...     for name, job in jobs:
...         p.stage(name)      # a terminal shows it on the bar; a log gets one line "validate [3/16] name …"
...         job()
...         p.advance()        # one unit of ``total`` done

Everything goes to stderr, so stdout stays clean for tables and JSON. A bar is drawn when stderr is a
terminal; otherwise each stage is one line, ``[  12.3 s] validate [3/16] name …``, and a stage still
running after 30 s says so (``… still running (30 s)``), so a log is never silent for long. ``ERALPHA_QUIET=1`` silences it. A ``Progress`` opened while another is active (an experiment
inside ``eralpha validate``) is shown under it: a second bar, or indented lines.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["Progress", "progress", "progress_enabled", "progress_mode"]

T = TypeVar("T")

HEARTBEAT_S = 30.0  # a plain-text log hears from a running stage at least this often
_active: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("eralpha_progress", default=None)
_shown: dict[str, Any] = {"bar": None}  # the one bar display on screen (a task in a worker thread joins it too)


def _quiet() -> bool:
    return os.environ.get("ERALPHA_QUIET", "").strip() not in ("", "0")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def progress_mode() -> str:
    """'quiet' (``ERALPHA_QUIET`` set), 'bar' (stderr is a terminal) or 'lines' (stderr is a pipe or file)."""
    if _quiet():
        return "quiet"
    return "bar" if _isatty(sys.stderr) else "lines"


def progress_enabled() -> bool:
    """True when a progress bar would be drawn (a person watches stderr and ``ERALPHA_QUIET`` is not 1)."""
    return progress_mode() == "bar"


class Progress:
    """A context manager reporting a long task: ``stage(name)`` says what runs now, ``advance(n)`` counts
    finished units out of ``total`` (None: unknown, shown as a spinner and elapsed time)."""

    def __init__(self, title: str, total: int | None = None, *, mode: str | None = None) -> None:
        self.title = str(title)
        self.total = total
        self.completed = 0
        self.current: str | None = None
        self._mode = mode
        self._parent: Progress | None = None
        self._bar: Any = None  # the rich Progress display (shared with nested tasks)
        self._task: Any = None
        self._owns_bar = False
        self._token: contextvars.Token | None = None
        self._t0 = self._last_line = self._stage_t0 = 0.0
        self._open: list[Progress] = []  # on the outermost task: itself and every nested one, innermost last
        self._stop: threading.Event | None = None

    # -- the with-block -------------------------------------------------------------------------
    def __enter__(self) -> Progress:
        self._parent = _active.get()
        if self._mode is None:
            self._mode = self._parent._mode if self._parent is not None else progress_mode()
        self._t0 = self._last_line = self._stage_t0 = time.perf_counter()
        if self._mode == "bar":
            self._start_bar()
        elif self._mode == "lines":
            self._root()._open.append(self)
            if self._parent is None:
                self._start_heartbeat()
        self._token = _active.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._token is not None:
            _active.reset(self._token)
        if self._mode == "bar" and self._bar is not None:
            if self._owns_bar:
                self._bar.stop()
                _shown["bar"] = None
            else:
                self._bar.remove_task(self._task)
        elif self._mode == "lines":
            root = self._root()
            if self in root._open:
                root._open.remove(self)
            if self._parent is None and self._stop is not None:
                self._stop.set()
            if exc_type is None and self._parent is None:
                self._line(f"{self.title}: done in {self.elapsed:.1f} s")
        return False

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    # -- reporting ------------------------------------------------------------------------------
    def stage(self, name: str, total: int | None = None) -> None:
        """Start the named stage (``total``: change the unit count, e.g. once it is known)."""
        self.current = str(name)
        self._stage_t0 = time.perf_counter()
        if total is not None:
            self.total = total
        if self._mode == "bar" and self._bar is not None:
            self._bar.update(self._task, description=self._description(), total=self.total)
        elif self._mode == "lines":
            self._line(f"{self._where()} {self.current} …")

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.completed += n
        if self._mode == "bar" and self._bar is not None:
            self._bar.update(self._task, completed=self.completed)

    # -- drawing --------------------------------------------------------------------------------
    def _depth(self) -> int:
        depth, p = 0, self._parent
        while p is not None:
            depth, p = depth + 1, p._parent
        return depth

    def _where(self) -> str:
        count = f" [{min(self.completed + 1, self.total)}/{self.total}]" if self.total else ""
        return f"{'  ' * self._depth()}{self.title}{count}"

    def _description(self) -> str:
        return f"{self.title}: {self.current}" if self.current else self.title

    def _root(self) -> Progress:
        root = self
        while root._parent is not None:
            root = root._parent
        return root

    def _start_heartbeat(self) -> None:
        # A stage that runs for minutes (one batched simulation) never calls advance: a timer says it lives.
        self._stop = stop = threading.Event()

        def beat() -> None:
            while not stop.wait(min(1.0, max(HEARTBEAT_S, 0.05))):
                if time.perf_counter() - self._last_line >= HEARTBEAT_S and self._open:
                    inner = self._open[-1]
                    if inner.current is not None:
                        inner._line(f"{inner._where()} {inner.current} … still running "
                                    f"({time.perf_counter() - inner._stage_t0:.0f} s)")

        threading.Thread(target=beat, name="eralpha-progress", daemon=True).start()

    def _line(self, text: str) -> None:
        root = self._root()
        root._last_line = time.perf_counter()
        try:  # each line starts with the time since the outermost task began, as a log would
            print(f"[{root.elapsed:6.1f} s] {text}", file=sys.stderr, flush=True)
        except (OSError, ValueError):  # a closed log must not stop the work
            pass

    def _start_bar(self) -> None:
        parent_bar = self._parent._bar if self._parent is not None else _shown["bar"]
        if parent_bar is not None:
            self._bar = parent_bar
        else:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            # stdout is not redirected: a table printed meanwhile must stay on stdout, not join the bar
            self._bar = RichProgress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True, redirect_stdout=False,
            )
            self._bar.start()
            self._owns_bar = True
            _shown["bar"] = self._bar
        self._task = self._bar.add_task(self._description(), total=self.total)


def progress(iterable: Iterable[T], total: int | None = None, description: str = "working") -> Iterator[T]:
    """Iterate over ``iterable`` inside a :class:`Progress` (one unit per item)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(description, total=total) as p:
        for item in iterable:
            yield item
            p.advance()
