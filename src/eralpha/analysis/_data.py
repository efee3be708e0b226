"""Reading and checking users' tables: every problem names the file, row and column.

All analyses read their input through these helpers so that a misspelt column, a text cell in a
numeric column or a negative dose gets the same clear message everywhere.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, UnknownNameError

__all__ = ["read_table", "require_columns", "numeric_column", "DropReport", "drop_missing", "source_name"]


def source_name(data: pd.DataFrame | str | Path, default: str = "<data frame>") -> str:
    """The name to use in messages for a table: its file name, or ``default``."""
    if isinstance(data, (str, Path)):
        return str(data)
    return str(data.attrs.get("source", default))


def _decode(raw: bytes) -> str:
    """Text of a spreadsheet export: UTF-8 or UTF-16 by their byte-order marks, else UTF-8, else
    Windows-1252 / Latin-1 (what Excel writes on Windows) — decoded here so that pandas never sees a BOM
    (it would become part of the first column's name)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # never fails: every byte is a character


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV / TSV / Parquet / Excel table; the frame remembers its file in ``attrs['source']``."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path), valid="an existing CSV, TSV or Parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            df = pd.read_parquet(path)
        elif suffix in {".xlsx", ".xls"}:
            df = pd.read_excel(path)
        else:
            decoded = _decode(path.read_bytes())
            text = io.StringIO(decoded)
            df = pd.read_csv(text, sep="\t") if suffix in {".tsv", ".tab"} else pd.read_csv(text, sep=None, engine="python")
    except Exception as exc:  # pandas raises many parser-specific types
        raise InputError(f"cannot read the table ({exc})", file=str(path),
                         valid="a text table (comma, semicolon or tab separated) with one header row, or Parquet") from None
    if df.empty:
        raise InputError("the table has no data rows", file=str(path), valid="a header row followed by one row per observation")
    if suffix not in {".parquet", ".pq"}:
        _check_unique_header(_header(path, suffix, decoded if suffix not in {".xlsx", ".xls"} else None), str(path))
    df.columns = [str(c).strip() for c in df.columns]
    _check_unique_header(list(df.columns), str(path))
    df.attrs["source"] = str(path)
    return df


def _header(path: Path, suffix: str, text: str | None = None) -> list[str]:
    """The header row as written (pandas renames a repeated 'dose' to 'dose.1' silently); ``text`` is
    the decoded file for text tables."""
    try:
        if text is None:
            row = pd.read_excel(path, header=None, nrows=1)
        else:
            row = pd.read_csv(io.StringIO(text), sep="\t" if suffix in {".tsv", ".tab"} else None, engine="python",
                              header=None, nrows=1)
    except Exception:  # the full read above succeeded; a header it cannot re-read is not a duplicate
        return []
    return ["" if pd.isna(c) else str(c).strip() for c in row.iloc[0].tolist()] if len(row) else []


def _check_unique_header(names: Sequence[str], file: str) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:  # blank header cells (spreadsheet exports) are unnamed, not duplicates
            continue
        if name in seen:
            raise InputError(
                f"column '{name}' appears twice in the header (columns {seen[name] + 1} and {i + 1}); "
                "which one to use is ambiguous", file=file, field=name, value=name,
                valid="unique column names (rename or delete one)",
            )
        seen[name] = i


def require_columns(df: pd.DataFrame, columns: Iterable[str | None], *, what: str = "column") -> None:
    """Raise a clear error, with suggestions, for each requested column the table lacks."""
    _check_unique_header([str(c) for c in df.columns], source_name(df))
    for col in columns:
        if col is not None and col not in df.columns:
            raise UnknownNameError(what, col, [str(c) for c in df.columns], file=source_name(df))


def numeric_column(
    df: pd.DataFrame, column: str, *, allow_negative: bool = True, allow_missing: bool = True
) -> np.ndarray:
    """A column as floats; text cells and (optionally) negative values are errors naming the row.

    Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
    """
    require_columns(df, [column])
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")

    def refuse_first(mask: np.ndarray, what: str) -> None:
        """The first offending cell (file row = index + 2, after the header) named in the error."""
        i = int(np.flatnonzero(mask)[0])
        raise InputError(f"row {i + 2}, column '{column}': '{raw.iloc[i]}' is not a {what}", file=source_name(df),
                         field=column, value=raw.iloc[i], valid=f"{what}s only (leave a cell empty for a missing value)")

    if bad.any():
        refuse_first(bad.to_numpy(), "number")
    arr = values.to_numpy(dtype=float)
    if np.isinf(arr).any():  # 'inf', '1e400': no assay reads infinity, and every statistic would turn NaN
        refuse_first(np.isinf(arr), "finite number")
    if not allow_missing and np.isnan(arr).any():
        i = int(np.flatnonzero(np.isnan(arr))[0])
        raise InputError(f"row {i + 2}, column '{column}' is empty", file=source_name(df), field=column)
    if not allow_negative and (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise InputError(
            f"row {i + 2}, column '{column}': {arr[i]:g} is negative",
            file=source_name(df),
            field=column,
            value=arr[i],
            valid="values >= 0",
        )
    return arr


@dataclass
class DropReport:
    """Which rows were dropped for missing values, so a summary can say so."""

    n_dropped: int = 0
    rows: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.n_dropped:
            return "no rows dropped"
        shown = ", ".join(map(str, self.rows[:10])) + (" …" if len(self.rows) > 10 else "")
        return f"{self.n_dropped} row(s) dropped for missing values (rows {shown})"


def drop_missing(
    df: pd.DataFrame, columns: Sequence[str], *, require_rows: bool = False
) -> tuple[pd.DataFrame, DropReport]:
    """Drop rows with a missing value in any of ``columns``; report which (spreadsheet row numbers).

    ``require_rows``: when no row is complete, raise an error naming the emptiest column instead of
    returning an empty table.
    """
    require_columns(df, columns)
    mask = df[list(columns)].isna().any(axis=1).to_numpy()
    if require_rows and mask.all():
        emptiest = max(columns, key=lambda c: int(df[c].isna().sum()))
        raise InputError(
            f"no row has a value in every one of the columns {', '.join(map(repr, columns))} "
            f"('{emptiest}' is empty in {int(df[emptiest].isna().sum())} of {len(df)} rows)",
            file=source_name(df), field=emptiest, valid="at least one complete row (an empty cell is a missing value)",
        )
    out = df.loc[~mask].copy()
    out.attrs.update(df.attrs)
    return out, DropReport(int(mask.sum()), [int(i) + 2 for i in np.flatnonzero(mask)])
