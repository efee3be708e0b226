"""Commands ``eralpha kb list`` and ``eralpha kb show``: browse the curated knowledge base."""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer

from ._app import OutputFormat, console, format_option, kb_app, print_frame, print_json


class KbKind(str, Enum):
    compounds = "compounds"
    targets = "targets"
    cell_lines = "cell-lines"
    assay_systems = "assay-systems"
    published = "published"
    parameters = "parameters"
    all = "all"


# CLI kind -> loader entity kind
_ENTITY_KIND = {
    KbKind.compounds: "compound",
    KbKind.targets: "target",
    KbKind.cell_lines: "cell_line",
    KbKind.assay_systems: "assay_system",
    KbKind.published: "published",
    KbKind.parameters: "parameter",
}


def _summary(kind: str, name: str, entity: Any, n_values: int) -> dict[str, Any]:
    """One row per entity: the few fields a person scans a list for."""
    if kind == "compound":
        detail = f"{entity.drug_class}; synonyms: {', '.join(entity.synonyms) or '—'}"
    elif kind == "target":
        detail = f"{entity.kind}, gene {entity.gene}" + (f", variant of {entity.parent}" if entity.parent else "")
    elif kind == "cell_line":
        variants = ", ".join(f"{v} {f:g}" for v, f in entity.er_variants.items()) or "ER-negative"
        detail = f"ER: {variants}; PIK3CA {entity.pik3ca}"
    elif kind == "assay_system":
        detail = f"{entity.format}; {entity.enzyme_source}"
    elif kind == "parameter":
        detail = f"{entity.value:g} {entity.unit} ({entity.kind}; {entity.module}) — {entity.description}"
    else:
        v = entity.value
        detail = f"{entity.quantity}: {v.value:g} {v.unit}"
    return {"kind": kind, "name": name, "detail": detail, "values": n_values}


@kb_app.command("list")
def list_entries(
    kind: KbKind = typer.Option(KbKind.all, "--kind", "-k", help="Which entries to list."),
    fmt: OutputFormat = format_option("-f"),
) -> None:
    """List the knowledge base's entries (name, a short description, how many sourced values each holds)."""
    from ..knowledge import load_knowledge

    kb = load_knowledge()
    counts = kb.values().groupby(["entity_kind", "entity"]).size().to_dict()
    wanted = list(_ENTITY_KIND.values()) if kind is KbKind.all else [_ENTITY_KIND[kind]]
    collections = {"compound": kb.compounds, "target": kb.targets, "cell_line": kb.cell_lines,
                   "assay_system": kb.assay_systems, "published": kb.published, "parameter": kb.parameters}
    rows = [
        _summary(k, name, entity, counts.get((k, name), 0))
        for k in wanted
        for name, entity in collections[k].items()
    ]
    if fmt is OutputFormat.json:
        print_json(rows)
        return
    import pandas as pd

    print_frame(pd.DataFrame(rows, columns=["kind", "name", "detail", "values"]), title=f"eralpha knowledge base — {kind.value}")


@kb_app.command("show")
def show(
    name: str = typer.Argument(..., help="Any entry: compound (or synonym), target, cell line, assay system, result id."),
    fmt: OutputFormat = format_option("-f"),
) -> None:
    """Show one entry with every value: number, range, unit, kind (measured/calibrated/assumed) and source."""
    from ..knowledge import load_knowledge

    kb = load_knowledge()
    kind, entity = kb.find(name)  # UnknownNameError (with suggestions) if absent
    canonical = getattr(entity, "name", None) or getattr(entity, "id", None) or name
    values = kb.values()
    values = values[(values.entity_kind == kind) & (values.entity == canonical)]
    if fmt is OutputFormat.json:
        print_json({"kind": kind, "name": canonical, "entry": entity.model_dump(mode="json"), "values": values})
        return
    import pandas as pd
    from rich.markup import escape

    header = {k: v for k, v in entity.model_dump(mode="json").items() if isinstance(v, (str, bool, list)) and v}
    console.print(f"[bold]{escape(canonical)}[/] ({kind})")
    for key, text in header.items():
        if key not in ("name", "id"):
            console.print(f"  [dim]{key}:[/] {escape(', '.join(text) if isinstance(text, list) else str(text))}", highlight=False)
    table = [
        (row.field, f"{row.value:g}", f"{row.low:g}–{row.high:g}" if row.low is not None and row.low == row.low else "",
         row.unit, row.kind, row.source, row.note)
        for row in values.itertuples()
    ]
    print_frame(pd.DataFrame(table, columns=["field", "value", "range", "unit", "kind", "source", "note"]), show_lines=True)


class TableFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


@kb_app.command("table")
def provenance_table(
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help="table, json or markdown (the docs' table)."),
) -> None:
    """How many values are measured, calibrated or assumed, and every model and experiment parameter."""
    from ..knowledge import load_knowledge
    from ..knowledge._table import kind_counts, parameter_table, provenance_markdown

    kb = load_knowledge()
    if fmt is TableFormat.markdown:
        print(provenance_markdown(kb))
        return
    counts, params = kind_counts(kb), parameter_table(kb)
    if fmt is TableFormat.json:
        print_json({"counts": counts.reset_index(names="entries").to_dict("records"), "parameters": params})
        return

    print_frame(counts.reset_index(names="entries"), title="knowledge-base values by provenance kind")
    print_frame(params, title="model and experiment parameters")
