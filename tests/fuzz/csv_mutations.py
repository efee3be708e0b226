"""Mutations of a CSV table: columns dropped / duplicated / renamed, cells made non-numeric, NaN, inf or
negative, rows cut to 0, 1 or 2, the encoding (latin-1, UTF-8 with BOM, UTF-16) and the delimiter
(';', tab) changed.

A mutation is a small tuple ``(op, *ints-or-strings)``; integer arguments are taken modulo the table's
current size when applied, so every generated list of mutations applies to every table and hypothesis
can shrink them freely.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from hypothesis import strategies as st

# cell values a spreadsheet export can contain; the tag says what the oracle should expect of it
BAD_CELLS = {
    "abc": "text", "n/a": "text", "#DIV/0!": "text", "1,5": "text", "∞": "text", "12 nM": "text",
    "": "missing", "NaN": "missing", "nan": "missing", "NA": "missing",
    "inf": "inf", "-inf": "inf", "Infinity": "inf", "1e400": "inf",
    "-1": "negative", "-0.001": "negative", "-1e6": "negative",
    "0": "zero", "1e308": "huge", "1e15": "huge", " 5 ": "number",
}
RENAMES = ("{}_x", str.upper, " {} ", "{}é", "", "Unnamed: 0", "{}.1")
ENCODINGS = ("utf-8-sig", "utf-16", "latin-1", "cp1252")
DELIMITERS = (";", "\t")


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    delimiter: str = ","
    encoding: str = "utf-8"
    # what was done, for the oracle: (op, column name or None, tag)
    log: list[tuple[str, str | None, str]] = field(default_factory=list)
    lossy_encoding: bool = False

    @classmethod
    def parse(cls, text: str) -> "Table":
        rows = list(csv.reader(io.StringIO(text)))
        return cls(rows[0], [r for r in rows[1:] if r])

    def copy(self) -> "Table":
        return Table(list(self.header), [list(r) for r in self.rows], self.delimiter, self.encoding, list(self.log))

    def to_bytes(self) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=self.delimiter, lineterminator="\n")
        w.writerow(self.header)
        w.writerows(self.rows)
        text = buf.getvalue()
        try:
            return text.encode(self.encoding)
        except UnicodeEncodeError:
            self.lossy_encoding = True
            return text.encode(self.encoding, errors="replace")


def _rename(name: str, how: str) -> str:
    return how(name) if callable(how) else how.format(name)


def apply(table: Table, mutation: tuple) -> Table:
    t = table.copy()
    op, *args = mutation
    ncol = len(t.header)
    if op == "drop_column" and ncol > 1:
        j = args[0] % ncol
        t.log.append((op, t.header[j], ""))
        del t.header[j]
        for r in t.rows:
            if j < len(r):
                del r[j]
    elif op == "duplicate_column" and ncol:
        j = args[0] % ncol
        t.log.append((op, t.header[j], ""))
        t.header.append(t.header[j])
        n = len(t.rows)
        for i, r in enumerate(t.rows):  # the copy holds other values, so which one is used matters
            r.append(t.rows[(i + 1) % n][j] if j < len(t.rows[(i + 1) % n]) else "")
    elif op == "rename_column" and ncol:
        j = args[0] % ncol
        new = _rename(t.header[j], RENAMES[args[1] % len(RENAMES)])
        t.log.append((op, t.header[j], new))
        t.header[j] = new
    elif op == "set_cells" and ncol and t.rows:
        j, value = args[0] % ncol, args[2]
        rows = range(len(t.rows)) if args[1] < 0 else [args[1] % len(t.rows)]
        t.log.append((op, t.header[j], BAD_CELLS[value]))
        for i in rows:
            r = t.rows[i]
            if j < len(r):
                r[j] = value
    elif op == "negate_column" and ncol:
        j = args[0] % ncol
        changed = False
        for r in t.rows:
            if j < len(r):
                try:
                    x = float(r[j])
                except ValueError:
                    continue
                if x > 0:
                    r[j], changed = f"{-x:g}", True
        t.log.append((op, t.header[j], "negative" if changed else ""))
    elif op == "cut_rows":
        n = args[0]
        t.rows = t.rows[:n]
        t.log.append((op, None, str(n)))
    elif op == "encoding":
        t.encoding = args[0]
        t.log.append((op, None, args[0]))
    elif op == "delimiter":
        t.delimiter = args[0]
        t.log.append((op, None, repr(args[0])))
    return t


def mutations() -> st.SearchStrategy[tuple]:
    """One mutation; see :func:`apply`."""
    col = st.integers(0, 40)
    return st.one_of(
        st.tuples(st.just("drop_column"), col),
        st.tuples(st.just("duplicate_column"), col),
        st.tuples(st.just("rename_column"), col, st.integers(0, len(RENAMES) - 1)),
        st.tuples(st.just("set_cells"), col, st.integers(-1, 400), st.sampled_from(sorted(BAD_CELLS))),
        st.tuples(st.just("negate_column"), col),
        st.tuples(st.just("cut_rows"), st.sampled_from([0, 1, 2])),
        st.tuples(st.just("encoding"), st.sampled_from(ENCODINGS)),
        st.tuples(st.just("delimiter"), st.sampled_from(DELIMITERS)),
    )


BENIGN_OPS = {"encoding", "delimiter"}  # the content is unchanged: the result must equal the original's
