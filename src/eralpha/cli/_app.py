"""The typer application, its command groups and how results are printed; commands live in sibling modules.

Where results go decides how they look: on a terminal, rich tables (cells fold, nothing is cut short);
piped or redirected, plain tab-separated text with every line of commentary a ``# `` comment, so
``eralpha ... | head`` reads well and ``grep -v "^#"`` leaves the bare table (pandas' ``comment="#"`` would also cut
a cell such as "vehicle#1", so drop the comment lines instead).
``--format`` overrides the choice: table, tsv, csv or json.
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..store._manifest import to_jsonable

app = typer.Typer(
    name="eralpha",
    help="eralpha — an open in-silico laboratory for endocrine therapy of ER+ breast cancer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
kb_app = typer.Typer(help="Browse the curated knowledge base (every value with unit and source).", no_args_is_help=True)
model_app = typer.Typer(help="Inspect the mechanistic model: species, reactions, parameters.", no_args_is_help=True)
export_app = typer.Typer(help="Export the model (SBML Level 3) or a calibration (PEtab v1).", no_args_is_help=True)
import_app = typer.Typer(help="Import a calibration problem (PEtab v1) and fit it with eralpha.", no_args_is_help=True)
runs_app = typer.Typer(help="The catalogue of past runs.", no_args_is_help=True)
fit_app = typer.Typer(help="Analyse real lab data: dose-response, blots, assays, synergy, xenografts, survival.", no_args_is_help=True)
pk_app = typer.Typer(help="Pharmacokinetics: simulate regimens, exposure metrics.", no_args_is_help=True)
trial_app = typer.Typer(help="Virtual clinical trials: virtual patients, arms, RECIST, PFS, HR, ORR, CBR.", no_args_is_help=True)

app.add_typer(kb_app, name="kb")
app.add_typer(model_app, name="model")
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.add_typer(runs_app, name="runs")
app.add_typer(fit_app, name="fit")
app.add_typer(pk_app, name="pk")
app.add_typer(trial_app, name="trial")


class OutputFormat(str, Enum):
    table = "table"
    tsv = "tsv"
    csv = "csv"
    json = "json"


# The renderer this invocation uses for tables: "table", "tsv", "csv", or None = decide by where stdout goes.
_chosen: dict[str, Any] = {"style": None, "tables": 0}


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def output_style() -> str:
    """How tables print now: 'table' (rich) on a terminal, 'tsv' when piped, or what ``--format`` asked."""
    return _chosen["style"] or ("table" if _isatty(sys.stdout) else "tsv")


def reset_output() -> None:
    """Forget the previous invocation's --format (several invocations can share one process, e.g. in tests)."""
    _chosen.update(style=None, tables=0)


def _choose_format(value: OutputFormat | None) -> OutputFormat:
    # Commands only ask "JSON or not?": they get json or table, and print_frame / console.print render
    # "table" as the user chose it (rich table, TSV or CSV), so every command honours every format.
    fmt = OutputFormat(value) if value is not None else None
    _chosen.update(style=None if fmt in (None, OutputFormat.json) else fmt.value, tables=0)
    return OutputFormat.json if fmt is OutputFormat.json else OutputFormat.table


_FORMAT_HELP = "table (rich), tsv, csv or json; default: table on a terminal, tsv when piped."


def format_option(*extra_names: str) -> Any:
    """The --format option (``extra_names``: short aliases such as "-f")."""
    return typer.Option(None, "--format", *extra_names, callback=_choose_format, help=_FORMAT_HELP, show_default=False)


# the --format option of every command that prints results
FORMAT_OPTION = format_option()

# One name for the runs folder everywhere; "--root" (the old name in `runs list/show`) stays as a hidden alias.
RUNS_DIR_HELP = "Runs folder (default ./eralpha-runs or $ERALPHA_RUNS)."
RUNS_DIR_OPTION = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP)
ROOT_ALIAS_OPTION = typer.Option(None, "--root", hidden=True, help="Old name of --runs-dir.")


def runs_dir_of(runs_dir: Path | None, root_alias: Path | None) -> Path | None:
    """The runs folder from --runs-dir or its old name --root (both given and different: an error)."""
    if runs_dir is not None and root_alias is not None and Path(runs_dir) != Path(root_alias):
        from ..errors import InputError

        raise InputError("--runs-dir and its old name --root name different folders", field="--runs-dir",
                         value=f"{runs_dir} vs {root_alias}", valid="one of them")
    return runs_dir if runs_dir is not None else root_alias


class _StdoutConsole(Console):
    """Rich on a terminal. Piped, text never wraps, and next to TSV/CSV data every line of commentary
    becomes a '# ' comment — commands print notes with console.print and need not know where they go."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: A003 - rich's name
        style = output_style()
        if style == "table":
            if not self.is_terminal:
                kwargs.setdefault("soft_wrap", True)
            return super().print(*objects, **kwargs)
        kwargs.setdefault("soft_wrap", True)
        with self.capture() as captured:
            super().print(*objects, **kwargs)
        text = "".join(f"# {line}".rstrip() + "\n" for line in captured.get().splitlines())
        self.file.write(text)
        self.file.flush()


console = _StdoutConsole()
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (plain print, so nothing wraps or colours it)."""
    print(json.dumps(to_jsonable(obj), indent=2))


def _machine_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral)):
        v = float(v)
        return "NaN" if math.isnan(v) else f"{v:.7g}"  # 7 significant digits, as R prints; JSON has them all
    try:
        if v != v:  # pandas NA / NaT
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def _human_cell(v: Any, decimals: int) -> str:
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral)):
        return f"{float(v):.{decimals}g}"
    return str(v)


def print_frame(
    df, title: str | None = None, decimals: int = 4, *, show_lines: bool = False, max_width: dict | None = None
) -> None:
    """Print a DataFrame: a rich table on a terminal (cells fold, never cut; ``max_width``: column -> the
    widest it may be before folding), else TSV/CSV under a '# title' line."""
    style = output_style()
    if style == "table":
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(title) if title else None, show_lines=show_lines)
        for col in df.columns:
            table.add_column(escape(str(col)), overflow="fold", max_width=(max_width or {}).get(col))
        for _, row in df.iterrows():  # cell text is data: "arm[X]" must not be read as rich markup
            table.add_row(*[escape(_human_cell(v, decimals)) for v in row])
        console.print(table)
        return
    out = sys.stdout
    if _chosen["tables"]:
        out.write("\n")  # a blank line between tables
    _chosen["tables"] += 1
    if title:
        out.write("# " + " ".join(str(title).split()) + "\n")
    header = [str(c) for c in df.columns]
    rows = [[_machine_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    if style == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        out.write(buffer.getvalue())
    else:  # TSV: a tab or newline inside a cell would break the row, so it becomes a space
        clean = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
        out.write("\t".join(h.translate(clean) for h in header) + "\n")
        out.writelines("\t".join(c.translate(clean) for c in row) + "\n" for row in rows)
    out.flush()


def version_line() -> str:
    """'eralpha 0.1.0 (git abc1234)' — the package version and, in a git checkout, the commit."""
    from .._version import __version__
    from ..store._manifest import git_commit

    commit = git_commit()
    return f"eralpha {__version__}" + (f" (git {commit[:12]})" if commit else "")


def _print_version(value: bool) -> None:
    if value:
        print(version_line())
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print eralpha's version (and git commit) and exit."),
) -> None:
    reset_output()
