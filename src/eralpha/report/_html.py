"""A run's report as one self-contained HTML file: figures inline, tables, scorecard, notes, manifest."""

from __future__ import annotations

import base64
import html
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from ._plots import figure_to_png

__all__ = ["render_report", "format_value", "MAX_TABLE_ROWS"]

MAX_TABLE_ROWS = 50
SIGNIFICANT_FIGURES = 4

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #0072B2; padding-bottom: .2em; }
h2 { margin-top: 1.8em; color: #0072B2; }
table { border-collapse: collapse; margin: .6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f2f5f8; }
td.text { text-align: left; }
tr.pass td { background: #e6f4ea; }
tr.fail td { background: #fce8e6; }
td.verdict-pass { color: #137333; font-weight: bold; }
td.verdict-fail { color: #c5221f; font-weight: bold; }
.kind { font-size: .8em; padding: .05em .4em; border-radius: .6em; border: 1px solid #888; }
figure { margin: 1em 0; }
figure img { max-width: 100%; }
figcaption { font-size: .9em; color: #555; }
p.note-truncated { font-size: .85em; color: #777; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; }
"""


def format_value(value: Any) -> str:
    """Numbers to 4 significant figures; missing values blank; everything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        return f"{number:.{SIGNIFICANT_FIGURES}g}"
    if hasattr(value, "item"):  # numpy scalars of other kinds (bool_, datetime64)
        return format_value(value.item())
    return str(value)


def _cell(value: Any) -> str:
    text = html.escape(format_value(value))
    is_number = isinstance(value, numbers.Number) and not isinstance(value, bool)
    return f"<td>{text}</td>" if is_number else f'<td class="text">{text}</td>'


def _records(table: Any) -> tuple[list[str], list[dict]]:
    """Column names and rows of a DataFrame or a list of dicts."""
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        return [str(c) for c in table.columns], [
            {str(k): v for k, v in row.items()} for row in table.to_dict(orient="records")
        ]
    rows = [dict(row) for row in table]
    columns: list[str] = []
    for row in rows:
        columns += [str(key) for key in row if str(key) not in columns]
    return columns, [{str(k): v for k, v in row.items()} for row in rows]


def _table_html(name: str, table: Any) -> str:
    columns, rows = _records(table)
    shown = rows[:MAX_TABLE_ROWS]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "\n".join("<tr>" + "".join(_cell(row.get(c)) for c in columns) + "</tr>" for row in shown)
    parts = [f"<h3>{html.escape(name)}</h3>", f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"]
    if len(rows) > len(shown):
        parts.append(
            f'<p class="note-truncated">Showing the first {len(shown)} of {len(rows)} rows; '
            f"the full table is in tables/{html.escape(name)}.csv and .parquet.</p>"
        )
    return "\n".join(parts)


def _scorecard_html(scorecard: Any) -> str:
    columns, rows = _records(scorecard)
    ordered = ["id", "quantity", "kind", "source", "target", "simulated", "tolerance", "passed"]
    columns = [c for c in ordered if c in columns] + [c for c in columns if c not in ordered]
    lines = []
    for row in rows:
        passed = bool(row.get("passed"))
        cells = []
        for column in columns:
            value = row.get(column)
            if column == "passed":
                verdict = "pass" if passed else "fail"
                cells.append(f'<td class="verdict-{verdict}">{verdict.upper()}</td>')
            elif column == "kind":
                cells.append(f'<td class="text"><span class="kind">{html.escape(format_value(value))}</span></td>')
            else:
                cells.append(_cell(value))
        lines.append(f'<tr class="{"pass" if passed else "fail"}">' + "".join(cells) + "</tr>")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    tally = _scorecard_tally(rows)
    return (
        f"<p>{html.escape(tally)}</p>\n"
        "<p>Calibration targets are numbers the model was tuned to; predictions are numbers it was not.</p>\n"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
    )


def _scorecard_tally(rows: list[dict]) -> str:
    by_kind: dict[str, list[bool]] = {}
    for row in rows:
        by_kind.setdefault(format_value(row.get("kind")) or "unspecified", []).append(bool(row.get("passed")))
    total = sum(sum(v) for v in by_kind.values())
    parts = [f"{kind}: {sum(v)}/{len(v)} passed" for kind, v in sorted(by_kind.items())]
    return f"{total}/{len(rows)} checks passed (" + "; ".join(parts) + ")."


def _figure_html(name: str, figure: Any, caption: str | None) -> str:
    png = figure if isinstance(figure, (bytes, bytearray)) else figure_to_png(figure)
    encoded = base64.b64encode(bytes(png)).decode("ascii")
    text = html.escape(caption or name)
    return (
        f'<figure id="figure-{html.escape(name)}"><img alt="{html.escape(name)}" '
        f'src="data:image/png;base64,{encoded}"><figcaption>{text}</figcaption></figure>'
    )


def render_report(
    title: str,
    *,
    tables: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    scorecard: Any = None,
    notes: Sequence[str] | None = None,
    manifest: Mapping[str, Any] | None = None,
    captions: Mapping[str, str] | None = None,
) -> str:
    """The report as one HTML string with nothing to fetch (figures are embedded base64 PNG).

    ``tables``: name -> DataFrame (or list of dicts); numbers shown to 4 significant figures and long
    tables cut at :data:`MAX_TABLE_ROWS` rows with a note. ``figures``: name -> PNG bytes or a matplotlib
    Figure; ``captions``: name -> caption. ``scorecard``: rows with id, quantity, source, target,
    simulated, tolerance, kind (calibration | prediction) and passed, coloured by verdict. ``notes``:
    paragraphs. ``manifest``: shown at the bottom.
    """
    captions = captions or {}
    sections = [f"<h1>{html.escape(title)}</h1>"]
    if notes:
        sections.append("<h2>Notes</h2>" + "".join(f"<p>{html.escape(str(n))}</p>" for n in notes))
    if scorecard is not None and len(scorecard):
        sections.append("<h2>Scorecard</h2>" + _scorecard_html(scorecard))
    if figures:
        sections.append("<h2>Figures</h2>" + "\n".join(_figure_html(n, f, captions.get(n)) for n, f in figures.items()))
    if tables:
        sections.append("<h2>Tables</h2>" + "\n".join(_table_html(n, t) for n, t in tables.items()))
    if manifest:
        dumped = json.dumps(manifest, indent=2, sort_keys=True, default=str)
        sections.append(f"<h2>Manifest</h2><pre>{html.escape(dumped, quote=False)}</pre>")
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )
