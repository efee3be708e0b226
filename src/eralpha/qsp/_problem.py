"""From candidate parameter values to simulated data points: one batched engine call per cell line.

A free parameter is either a knowledge-base key (anything ``knowledge_overrides`` accepts) or a
parameter of the assembled cell model. Knowledge-base values reach the model through the same path a
scenario's overrides take: the model is assembled with the candidate values in force (cheap, a few ms)
and whatever model parameters and initial states that changes are passed to the engine per member.
So a new or renamed model parameter needs no change here, and a knowledge-base value that feeds
several model parameters (a half-life feeding a rate, a unit conversion) is handled like everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, PlausibilityError, SolverError, UnknownNameError
from ..knowledge import knowledge_overrides, load_knowledge
from ._spec import DERIVED_OBSERVABLES, DataSpec, FreeParameter, ModelSpec

__all__ = ["Problem", "resolve_parameter", "tidy_data"]


@dataclass(frozen=True)
class ResolvedParameter:
    spec: FreeParameter
    route: str  # "knowledge" (a knowledge_overrides key) or "model" (a cell-model parameter)
    default: float  # the value in force without the calibration
    unit: str
    kind: str  # measured / calibrated / assumed (knowledge base) or the model's provenance kind


def _model_parameters(model) -> dict[str, object]:
    return {p.name: p for p in model.parameters}


def resolve_parameter(p: FreeParameter, model, field: str = "parameters") -> ResolvedParameter:
    """Find what ``p.name`` names; unknown names get a did-you-mean over knowledge-base and model names."""
    from ..knowledge._loader import value_at

    kb = load_knowledge()
    try:
        v = value_at(kb, p.name)
        return ResolvedParameter(p, "knowledge", float(v.value), v.unit, v.kind)
    except InputError:
        pass
    mp = _model_parameters(model)
    if p.name in mp:
        q = mp[p.name]
        return ResolvedParameter(p, "model", float(q.value), q.unit, q.provenance.kind)
    raise UnknownNameError("parameter", p.name, sorted(set(kb.parameters) | set(mp)), field=field)


def tidy_data(data: pd.DataFrame, spec: DataSpec, file: str | None = None) -> pd.DataFrame:
    """The data with the standard columns experiment, time_h, observable, value (a missing column is one error)."""
    cols = {"experiment": spec.experiment, "time": spec.time, "observable": spec.observable, "value": spec.value}
    for key, col in cols.items():
        if col not in data.columns:
            raise InputError(f"the data have no column '{col}' (the {key} column)", file=file, field=f"data.{key}",
                             value=col, valid="one of the file's columns: " + ", ".join(map(str, data.columns)))
    out = pd.DataFrame({
        "experiment": data[spec.experiment].astype(str),
        "time_h": pd.to_numeric(data[spec.time], errors="coerce") * (24.0 if spec.time_unit == "day" else 1.0),
        "observable": data[spec.observable].astype(str),
        "value": pd.to_numeric(data[spec.value], errors="coerce"),
    })
    for col in ("time_h", "value"):
        bad = out[col].isna() | ~np.isfinite(out[col])
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"row {i + 1} has a non-numeric or missing {col.split('_')[0]}", file=file,
                             field=f"data.{'time' if col == 'time_h' else 'value'}", value=str(data.iloc[i][cols['time' if col == 'time_h' else 'value']]))
    if (out["time_h"] < 0).any():
        raise InputError("times must be >= 0 (t = 0 is when drugs are added)", file=file, field="data.time",
                         value=float(out["time_h"].min()))
    return out


class Problem:
    """The simulation side of a calibration: ``predict(values)`` -> simulated data points.

    ``values`` is a (B, p) array of parameter values (natural scale, stored units), one row per
    candidate set; the result is (B, n) for the n rows of ``data``. All candidates and experiments of
    one cell line go into one engine call.
    """

    def __init__(self, model: ModelSpec, parameters: Sequence[FreeParameter], data: pd.DataFrame, *, file: str | None = None) -> None:
        from ..experiments import condition_model

        self.spec, self.file = model, file
        self.data = data.reset_index(drop=True)
        self.compounds = tuple(sorted({c for e in model.experiments for c in e.drugs}))
        known = {e.id: e for e in model.experiments}
        for exp_id in self.data["experiment"].unique():
            if exp_id not in known:
                raise UnknownNameError("experiment", exp_id, list(known), file=file, field="data.experiment")
        with knowledge_overrides(model.knowledge_overrides, origin="calibration spec"):
            self.lines = tuple(dict.fromkeys(e.cell_line or model.cell_line for e in model.experiments))
            self.base_models = {line: condition_model(line, self.compounds, model.tissue) for line in self.lines}
            first = self.base_models[self.lines[0]]
            for name in model.model_parameters:
                if name not in first.parameter_index:
                    raise UnknownNameError("cell-model parameter", name, list(first.parameter_index), file=file,
                                           field="model.model_parameters")
            self.parameters = tuple(resolve_parameter(p, first) for p in parameters)
        observables = set(first.observables) | set(DERIVED_OBSERVABLES)
        for obs in self.data["observable"].unique():
            if obs not in observables:
                raise UnknownNameError("observable", obs, sorted(observables), file=file, field="data.observable")
        self.experiments = [known[i] for i in dict.fromkeys(self.data["experiment"])]
        self.times = np.unique(np.concatenate([[0.0], self.data["time_h"].to_numpy(float)]))
        self._cache: dict[tuple, tuple[dict, dict]] = {}

    @property
    def names(self) -> list[str]:
        return [p.spec.name for p in self.parameters]

    @property
    def defaults(self) -> np.ndarray:
        return np.array([p.default for p in self.parameters])

    # -- knowledge-base values -> model parameters and initial states ---------------------------
    def _model_values(self, line: str, kb_values: tuple) -> tuple[dict, dict]:
        """Model parameter and initial-state values with these knowledge-base values in force (cached)."""
        key = (line, kb_values)
        if key not in self._cache:
            from ..experiments import condition_model

            names = [p.spec.name for p in self.parameters if p.route == "knowledge"]
            with knowledge_overrides(self.spec.knowledge_overrides, origin="calibration spec"), \
                    knowledge_overrides(dict(zip(names, kb_values)), origin="calibration candidate"):
                m = condition_model(line, self.compounds, self.spec.tissue)
            if len(self._cache) > 20000:  # a long profile run: keep memory bounded
                self._cache.clear()
            self._cache[key] = ({p.name: p.value for p in m.parameters}, {s.name: s.initial for s in m.species})
        return self._cache[key]

    def _batched(self, line: str, values: np.ndarray, repeat: int) -> tuple[dict, dict]:
        base = self.base_models[line]
        base_p = {p.name: p.value for p in base.parameters}
        base_y = {s.name: s.initial for s in base.species}
        kb_idx = [i for i, p in enumerate(self.parameters) if p.route == "knowledge"]
        params: dict[str, np.ndarray] = {}
        initial: dict[str, np.ndarray] = {}
        if kb_idx:
            sets = [self._model_values(line, tuple(float(row[i]) for i in kb_idx)) for row in values]
            for name, v0 in base_p.items():
                col = np.array([s[0][name] for s in sets])
                if np.any(col != v0):
                    params[name] = np.repeat(col, repeat)
            for name, v0 in base_y.items():
                col = np.array([s[1][name] for s in sets])
                if np.any(col != v0):
                    initial[name] = np.repeat(col, repeat)
        for name, v in self.spec.model_parameters.items():
            params[name] = np.full(len(values) * repeat, float(v))
        for i, p in enumerate(self.parameters):
            if p.route == "model":
                params[p.spec.name] = np.repeat(values[:, i], repeat)
        return params, initial

    # -- simulation -------------------------------------------------------------------------------
    def simulate(self, values: np.ndarray, times: np.ndarray | None = None, options=None) -> dict[str, dict[str, np.ndarray]]:
        """{experiment id: {observable: (B, T) array}} at ``times`` (default: every data time); ``options``:
        the engine's :class:`~eralpha.engine.SolverOptions` (default tolerances when None)."""
        from ..experiments import run_cell_conditions

        values = np.atleast_2d(np.asarray(values, dtype=float))
        times = self.times if times is None else np.asarray(times, dtype=float)
        B = len(values)
        out: dict[str, dict[str, np.ndarray]] = {}
        for line in self.lines:
            exps = [e for e in self.experiments if (e.cell_line or self.spec.cell_line) == line]
            if not exps:
                continue
            E = len(exps)
            base = self.base_models[line]
            default_seed = next(s.initial for s in base.species if s.name == "cells")
            cond = pd.DataFrame({c: np.tile([e.drugs.get(c, 0.0) for e in exps], B) for c in self.compounds},
                                index=range(B * E))
            seeding = np.tile([e.seeding or default_seed for e in exps], B)
            params, initial = self._batched(line, values, E)
            with knowledge_overrides(self.spec.knowledge_overrides, origin="calibration spec"):
                res = run_cell_conditions(line, cond, times, oestradiol=np.tile([e.oestradiol for e in exps], B),
                                          seeding=seeding, tissue=self.spec.tissue, parameters=params, initial=initial,
                                          options=options)
            for j, e in enumerate(exps):
                rows = np.arange(B) * E + j
                obs = {name: res[name][rows] for name in res.observable_names}
                obs["fold_change"] = res["cells"][rows] / seeding[rows][:, None]
                out[e.id] = obs
        return out

    def predict(self, values: np.ndarray, options=None) -> np.ndarray:
        """(B, n) simulated value of every data row; a candidate the solver cannot run gives NaN rows."""
        values = np.atleast_2d(np.asarray(values, dtype=float))
        try:
            sims = self.simulate(values, options=options)
        except (SolverError, PlausibilityError):
            if len(values) == 1:
                return np.full((1, len(self.data)), np.nan)
            return np.vstack([self.predict(v[None, :], options) for v in values])  # find which candidates fail
        t_index = {t: i for i, t in enumerate(self.times)}
        out = np.empty((len(values), len(self.data)))
        d = self.data
        for (exp_id, obs), rows in d.groupby(["experiment", "observable"]).groups.items():
            ti = [t_index[t] for t in d.loc[rows, "time_h"]]
            out[:, np.asarray(rows)] = sims[exp_id][obs][:, ti]
        return out

