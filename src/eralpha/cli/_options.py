"""Options several commands share that must be checked before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ..errors import InputError


def writable_output(path: Path | None) -> Path | None:
    """Typer callback for an output file (``--plot``, ``--figure``, ``--output``): refuse a path that
    cannot be written *before* computing and printing results, not after."""
    if path is None:
        return None
    name = str(path)
    if path.is_dir():
        raise InputError("is a directory, not a file name", file=name, valid="a file path such as out/fit.png")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"the folder '{parent}' does not exist", file=name,
                         valid="a file in an existing, writable folder (create the folder first)")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError("cannot be written (permission denied)", file=name, valid="a writable path")
    return path


def figure_output(path: Path | None) -> Path | None:
    """Typer callback for a figure file (``--plot``, ``--figure``): writable (:func:`writable_output`) and with a
    suffix matplotlib can write (no suffix: PNG), checked before any work so that a typo costs nothing."""
    path = writable_output(path)
    if path is None or not path.suffix:
        return path
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in formats:
        raise InputError(f"cannot write a figure as '{path.suffix}'", file=str(path),
                         valid="a .png, .pdf or .svg file (also " + ", ".join(sorted(set(formats) - {"png", "pdf", "svg"})) + ")")
    return path


def max_memory_option() -> typer.Option:  # type: ignore[valid-type]
    return typer.Option(
        None, "--max-memory",
        help="Refuse requests estimated to need more memory than this, e.g. '8 GB' "
             "(default: $ERALPHA_MAX_MEMORY, else half the machine's RAM).",
    )
