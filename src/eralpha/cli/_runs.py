"""Commands: ``eralpha runs list`` and ``eralpha runs show RUN_ID`` — the catalogue of past runs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._app import (
    FORMAT_OPTION,
    ROOT_ALIAS_OPTION,
    RUNS_DIR_OPTION,
    OutputFormat,
    console,
    print_frame,
    print_json,
    runs_app,
    runs_dir_of,
)

_SHOWN_MANIFEST_FIELDS = [
    "name", "kind", "title", "seed", "scenario_sha256", "scenario_path", "started", "finished",
    "duration_s", "engine_threads", "eralpha_version", "git_commit", "python", "platform",
]  # fmt: skip


@runs_app.command("list")
def list_runs(
    runs_dir: Optional[Path] = RUNS_DIR_OPTION,
    root: Optional[Path] = ROOT_ALIAS_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """List finished runs, oldest first."""
    from ..store import Catalogue

    catalogue = Catalogue(runs_dir_of(runs_dir, root))
    listing = catalogue.list()
    if fmt is OutputFormat.json:
        print_json(listing.astype(object).where(listing.notna(), None))
        return
    if listing.empty:
        console.print(f"no runs in {catalogue.root}")
        return
    _print_listing(listing, title=f"runs in {catalogue.root}")


def _print_listing(listing, title: str) -> None:
    # The run id is what people copy into `runs show`: printed whole (folded on a narrow terminal, never cut).
    import pandas as pd

    from ..report import format_value

    rows = []
    for row in listing.itertuples(index=False):
        checks = "" if _missing(row.n_passed) else f"{row.n_passed}/{row.n_passed + row.n_failed}"
        cells = [("" if _missing(v) else format_value(v)) for v in (row.run_id, row.kind, row.seed)]
        rows.append([*cells, checks])
    print_frame(pd.DataFrame(rows, columns=["run_id", "kind", "seed", "passed"]), title=title)


def _missing(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


@runs_app.command("show")
def show_run(
    run_id: str = typer.Argument(..., help="A run id, or a unique prefix of one."),
    runs_dir: Optional[Path] = RUNS_DIR_OPTION,
    root: Optional[Path] = ROOT_ALIAS_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Show one run: its manifest, summary numbers and files."""
    import pandas as pd

    from ..store import Catalogue

    record = Catalogue(runs_dir_of(runs_dir, root)).show(run_id)
    if fmt is OutputFormat.json:
        print_json(record)
        return
    manifest = record["manifest"]
    about = [(field, manifest.get(field)) for field in _SHOWN_MANIFEST_FIELDS]
    about += [(f"version {package}", version) for package, version in (manifest.get("versions") or {}).items()]
    print_frame(pd.DataFrame(about, columns=["field", "value"]).astype(str), title=record["run_id"])
    if record["summary"]:
        from ..report import format_value

        summary = pd.DataFrame([(k, format_value(v)) for k, v in record["summary"].items()], columns=["quantity", "value"])
        print_frame(summary, title="summary")
    console.print(f"folder: {record['path']}", highlight=False, soft_wrap=True)
    console.print("files: " + ", ".join(record["files"]), highlight=False, soft_wrap=True)
    console.print(f"report: {Path(record['path']) / 'report.html'}", highlight=False, soft_wrap=True)
