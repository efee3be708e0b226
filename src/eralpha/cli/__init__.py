"""The ``eralpha`` command line. Errors print a clear message and exit 2 — never a traceback."""

from __future__ import annotations

import sys

from ..errors import EralphaError
from ._app import app, err_console

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
        _run,
        _runs,
        _translate,
        _validate,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point. Typer (standalone) reports usage errors itself with exit status 2; eralpha's own
    errors — bad files, fields, values — are printed as one line, also with exit status 2."""
    _register_commands()
    try:
        app(args=argv)
    except SystemExit as done:  # typer ends every standalone run with SystemExit; 0 is a normal return
        if done.code not in (0, None):
            raise
    except EralphaError as exc:
        from rich.markup import escape

        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
