"""NONMEM / mrgsolve event tables: columns ID, TIME, EVID, AMT, CMT, RATE, II, ADDL, SS (TIME in hours).

Reading expands ADDL/II into individual doses; writing compresses runs of equal doses at a constant
interval back into ADDL/II rows. CMT 1 is the depot (extravascular dose), CMT 2 the central
compartment (IV). EVID 1 rows are doses; other rows (observations, EVID 0) are ignored. AMT is in mg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ._regimen import Dose, DoseEvent, Regimen, parse_route

__all__ = ["read_event_table", "write_event_table", "EVENT_COLUMNS"]

EVENT_COLUMNS = ["ID", "TIME", "EVID", "AMT", "CMT", "RATE", "II", "ADDL", "SS"]
DEPOT_CMT, CENTRAL_CMT = 1, 2


def _as_frame(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    if isinstance(source, pd.DataFrame):
        return source.copy(), None
    path = str(source)
    try:
        return pd.read_csv(path), path
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the event table ({exc.__class__.__name__})", file=path,
                         valid="a CSV file with columns " + ", ".join(EVENT_COLUMNS)) from None


def read_event_table(source: str | Path | pd.DataFrame, *, depot_route: str = "oral") -> dict[int, Regimen]:
    """One :class:`Regimen` per ID. ``depot_route`` names the route of CMT-1 doses (oral, sc or im)."""
    df, file = _as_frame(source)
    df.columns = [str(c).strip().upper() for c in df.columns]
    missing = [c for c in ("ID", "TIME", "AMT") if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=file, field="columns",
                         value=list(df.columns), valid="NONMEM columns " + ", ".join(EVENT_COLUMNS))
    for col, default in (("EVID", 1), ("CMT", DEPOT_CMT), ("RATE", 0), ("II", 0), ("ADDL", 0), ("SS", 0)):
        if col not in df.columns:
            df[col] = default
    route = parse_route(depot_route, field="depot_route")
    regimens: dict[int, list[DoseEvent]] = {}
    for i, row in df.iterrows():
        where = f"row {i + 2}"  # +1 for the header, +1 for 1-based rows
        try:
            values = {c: float(row[c]) for c in EVENT_COLUMNS if c != "ID"}
        except (TypeError, ValueError):
            raise InputError("non-numeric value", file=file, field=where, value=row.to_dict(),
                             valid="numbers in " + ", ".join(EVENT_COLUMNS[1:])) from None
        if values["EVID"] not in (1.0, 4.0):
            continue
        if values["SS"] != 0:
            raise InputError("SS (steady-state) dose records are not supported", file=file, field=f"{where}, SS",
                             value=values["SS"], valid="SS=0; write the doses leading to steady state with ADDL/II")
        if values["RATE"] != 0:
            raise InputError("infusions (RATE != 0) are not supported", file=file, field=f"{where}, RATE",
                             value=values["RATE"], valid="RATE=0 (bolus or first-order absorption)")
        if values["AMT"] <= 0 or values["TIME"] < 0 or values["ADDL"] < 0:
            raise InputError("AMT must be > 0, TIME >= 0 and ADDL >= 0", file=file, field=where,
                             value={k: values[k] for k in ("TIME", "AMT", "ADDL")}, valid="a dose record")
        if values["ADDL"] > 0 and values["II"] <= 0:
            raise InputError("ADDL needs a positive II", file=file, field=f"{where}, II", value=values["II"],
                             valid="the interval between additional doses, in hours")
        cmt = int(values["CMT"])
        if cmt not in (DEPOT_CMT, CENTRAL_CMT):
            raise InputError(f"unknown compartment {cmt}", file=file, field=f"{where}, CMT", value=cmt,
                             valid="1 (depot: oral/sc/im) or 2 (central: iv)")
        r = route if cmt == DEPOT_CMT else "iv"
        events = regimens.setdefault(int(row["ID"]), [])
        for k in range(int(values["ADDL"]) + 1):
            events.append(DoseEvent(values["TIME"] + k * values["II"], Dose(values["AMT"]), r))
    if not regimens:
        raise InputError("the event table has no dose records (EVID 1)", file=file, field="EVID",
                         valid="at least one row with EVID=1")
    return {i: Regimen(tuple(ev)) for i, ev in sorted(regimens.items())}


def _compress(events: tuple[DoseEvent, ...]) -> list[tuple[DoseEvent, float, int]]:
    """Runs of equal dose and route at a constant interval → (first event, II, ADDL)."""
    runs: list[tuple[DoseEvent, float, int]] = []
    i = 0
    while i < len(events):
        first, j = events[i], i + 1
        ii = events[j].time - first.time if j < len(events) else 0.0
        while (j < len(events) and ii > 0 and events[j].dose == first.dose and events[j].route == first.route
               and np.isclose(events[j].time - events[j - 1].time, ii)):
            j += 1
        n = j - i
        runs.append((first, ii if n > 1 else 0.0, n - 1))
        i = j
    return runs


def write_event_table(regimens: Regimen | Mapping[int, Regimen], path: str | Path | None = None, *,
                      body_weight_kg: float | None = None) -> pd.DataFrame:
    """An event table (and a CSV at ``path`` if given). Per-kg doses need ``body_weight_kg``."""
    if isinstance(regimens, Regimen):
        regimens = {1: regimens}
    rows = []
    for sid, reg in regimens.items():
        for ev, ii, addl in _compress(reg.events):
            if ev.dose.per_kg and body_weight_kg is None:
                raise InputError("a per-kg dose needs a body weight to become an AMT in mg", field="body_weight_kg",
                                 value=str(ev.dose), valid="e.g. body_weight_kg=0.025")
            amt = ev.dose.mg(body_weight_kg or 1.0)
            rows.append({"ID": sid, "TIME": ev.time, "EVID": 1, "AMT": amt,
                         "CMT": CENTRAL_CMT if ev.route == "iv" else DEPOT_CMT, "RATE": 0, "II": ii,
                         "ADDL": addl, "SS": 0})
    df = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    if path is not None:
        df.to_csv(path, index=False)
    return df
