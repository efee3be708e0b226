"""The ``eralpha`` command line. Errors print a clear message and exit 2 — never a traceback."""

from __future__ import annotations

import os
import signal
import sys

# Before NumPy loads: OpenBLAS's idle worker threads spin for a while after every BLAS call and take
# the cores that the engine's parallel batch needs (measured: the in-vitro panel ran 1.5x slower on
# two cores). eralpha's BLAS work is small matrices, where one thread is as fast. A user's own
# setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from ..errors import EralphaError  # noqa: E402
from ._app import app, err_console  # noqa: E402

__all__ = ["app", "main"]


def _register_commands() -> None:
    # Importing a module registers its commands on the shared typer apps.
    from . import (  # noqa: F401
        _export,
        _fit_doseresponse,
        _fit_invivo,
        _fit_lab,
        _fit_synergy,
        _kb,
        _model,
        _pk,
        _qsp,
        _run,
        _runs,
        _trial,
        _translate,
        _validate,
    )
    from . import _about  # noqa: F401  (last, so `version` ends the command list)


def main(argv: list[str] | None = None) -> None:
    """Entry point. Typer (standalone) reports usage errors itself with exit status 2; eralpha's own
    errors — bad files, fields, values — are printed as one line, also with exit status 2."""
    _register_commands()
    # `eralpha kb list | head` should end quietly, as Unix tools do, not with click's exit 1 on a broken
    # pipe. Safe: run folders are written atomically, so a pipe that closes leaves nothing half-written.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app(args=argv)
    except SystemExit as done:  # typer ends every standalone run with SystemExit; 0 is a normal return
        if done.code not in (0, None):
            raise
    except EralphaError as exc:
        from rich.markup import escape

        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
