"""The ``eralpha`` command line. Errors print a clear message and exit 2 — never a traceback."""

from __future__ import annotations

import sys

import click

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
        _validate,
    )


def main(argv: list[str] | None = None) -> None:
    _register_commands()
    try:
        rc = app(args=argv, standalone_mode=False)
    except EralphaError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted — nothing half-written was kept; re-run to resume")
        sys.exit(130)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(rc, int) and rc:
        sys.exit(rc)
