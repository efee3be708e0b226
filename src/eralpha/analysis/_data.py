"""Reading and checking users' tables: every problem names the file, row and column.

All analyses read their input through these helpers so that a misspelt column, a text cell in a
numeric column or a negative dose gets the same clear message everywhere.
"""

from __future__ import annotations

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


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV / TSV / Parquet / Excel table; the frame remembers its file in ``attrs['source']``."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path), valid="an existing CSV, TSV or Parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            df = pd.read_parquet(path)
        elif suffix in {".tsv", ".tab"}:
            df = pd.read_csv(path, sep="\t")
        elif suffix in {".xlsx", ".xls"}:
            df = pd.read_excel(path)
        else:
            df = pd.read_csv(path, sep=None, engine="python")
    except Exception as exc:  # pandas raises many parser-specific types
        raise InputError(f"cannot read the table ({exc})", file=str(path)) from None
    if df.empty:
        raise InputError("the table has no rows", file=str(path))
    if suffix not in {".parquet", ".pq"}:
        _check_unique_header(_header(path, suffix), str(path))
    df.columns = [str(c).strip() for c in df.columns]
    _check_unique_header(list(df.columns), str(path))
    df.attrs["source"] = str(path)
    return df


def _header(path: Path, suffix: str) -> list[str]:
    """The header row as written (pandas renames a repeated 'dose' to 'dose.1' silently)."""
    try:
        if suffix in {".xlsx", ".xls"}:
            row = pd.read_excel(path, header=None, nrows=1)
        else:
            row = pd.read_csv(path, sep="\t" if suffix in {".tsv", ".tab"} else None, engine="python",
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
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"row {i + 2}, column '{column}': '{raw.iloc[i]}' is not a number",
            file=source_name(df),
            field=column,
            value=raw.iloc[i],
            valid="numbers only (leave a cell empty for a missing value)",
        )
    arr = values.to_numpy(dtype=float)
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


def drop_missing(df: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, DropReport]:
    """Drop rows with a missing value in any of ``columns``; report which (spreadsheet row numbers)."""
    require_columns(df, columns)
    mask = df[list(columns)].isna().any(axis=1).to_numpy()
    out = df.loc[~mask].copy()
    out.attrs.update(df.attrs)
    return out, DropReport(int(mask.sum()), [int(i) + 2 for i in np.flatnonzero(mask)])
