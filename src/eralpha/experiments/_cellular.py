"""Virtual cell-based assays on the mechanistic cell model: one batched simulation per assay.

Every protocol pre-equilibrates the cells in their medium (oestradiol, androstenedione) for 300 h,
then at t = 0 seeds / treats them — drugs are added by exact events — and reads out like the bench:
ERα over a loading control (western blot), target genes and ER activity (transcription), ATP or
crystal-violet signal ∝ cells (proliferation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..analysis._doseresponse import DoseResponseFitter
from ..analysis._synergy import bliss_excess
from ..analysis._western import WesternBlotAnalysis
from ..engine import Event, SimulationResult, SolverOptions, simulate
from ..knowledge import load_knowledge
from ..model._cell import GENES, assemble_cell_model, conc_param, split_compounds
from ..model._medium import free_in_medium
from ._base import ExperimentResult, lognormal_noise, metric_rows

__all__ = ["run_cell_conditions", "condition_model", "PRE_EQUILIBRATION_H", "run_western_blot", "run_transcription", "run_proliferation", "run_hormone_dependence",
           "run_tissue_selectivity", "TISSUE_OF"]

PRE_EQUILIBRATION_H = 300.0


def condition_model(cell_line: str, compounds: Sequence[str], tissue: str = "breast"):
    """The cell model :func:`run_cell_conditions` simulates for these compounds (ER ligands vs inhibitors
    sorted by the knowledge base), assembled from the knowledge base in force."""
    ligands, inhibitors = split_compounds(compounds)
    return assemble_cell_model(cell_line=cell_line, ligands=ligands, inhibitors=inhibitors, tissue=tissue)


def run_cell_conditions(
    cell_line: str,
    conditions: pd.DataFrame,
    times: Sequence[float],
    *,
    oestradiol: float | Sequence[float],
    androstenedione: float = 0.0,
    seeding: float | None = None,
    washout_at: float | None = None,
    tissue: str = "breast",
    parameters: Mapping[str, object] | None = None,
    initial: Mapping[str, object] | None = None,
    options: SolverOptions | None = None,
) -> SimulationResult:
    """Simulate every row of ``conditions`` (columns = compound names, values = nominal medium nM) in ``cell_line``.

    Oestradiol (scalar or per row) is in the medium throughout; drugs are added at t = 0 and, with
    ``washout_at``, removed then; ``seeding`` (cells, scalar or per row) resets the cell number at t = 0.
    ``parameters`` / ``initial`` replace model parameters / initial states (a number, or one per row),
    e.g. a calibration's candidate parameter sets; ``options``: the solver's tolerances (default: the engine's).
    CDK4/6 inhibitors enter the model at their free medium concentration
    (:func:`eralpha.model._medium.free_in_medium`, 10 % serum binding). Returns the engine's result with
    ``conditions`` as labels.
    """
    compounds = [c for c in conditions.columns]
    model = condition_model(cell_line, compounds, tissue)
    kb = load_knowledge()
    # nominal medium concentrations -> the free concentration the cell model takes (CDK4/6 inhibitors: serum binding)
    events = [Event(0.0, conc_param(kb.compound(c).name), free_in_medium(c, conditions[c].to_numpy(float))) for c in compounds]
    if seeding is not None:
        events.append(Event(0.0, "cells", seeding))
    if washout_at is not None:
        events += [Event(washout_at, conc_param(kb.compound(c).name), 0.0) for c in compounds]
    e2 = np.broadcast_to(np.asarray(oestradiol, dtype=float), (len(conditions),))
    return simulate(model, times, start=-PRE_EQUILIBRATION_H,
                    parameters={"conc_E2": e2, "conc_A4": androstenedione, **(parameters or {})}, initial=initial,
                    events=events, labels=conditions.reset_index(drop=True), options=options or SolverOptions())


# ------------------------------------------------------------------------------------------------
def _blot_lanes(s, rng, cell_line: str, compound: str, doses: list[float], times: list[float], er: np.ndarray, label: str, blot_prefix: str) -> list[dict]:
    """Turn simulated ER levels (dose × time) into band intensities with loading and noise."""
    lanes = []
    for ti, t in enumerate(times):
        for r in range(s.replicates):
            blot = f"{blot_prefix}-{cell_line}-{label}-{t:g}h-r{r + 1}"
            for di, d in enumerate(doses):
                loading = 20000.0 * lognormal_noise(rng, 1, 0.15)[0]  # uneven loading, which the ratio corrects
                # a vehicle ERα band of ~15 000 counts for 20 000 of loading control: inside a 16-bit range
                target = 15000.0 * (er[di, ti] / 100.0) * (loading / 20000.0) * lognormal_noise(rng, 1, s.noise_cv)[0]
                lanes.append(dict(blot=blot, lane=di + 1, cell_line=cell_line, compound=label, dose=d, time=t,
                                  replicate=r + 1, target=target, loading=loading))
    return lanes


def run_western_blot(s) -> ExperimentResult:
    rng = np.random.default_rng(s.seed)
    doses = [0.0] + list(s.concentrations)
    times = sorted(s.times)
    lanes, metrics = [], []
    for line in s.cell_lines:
        for c in s.compounds:
            cond = pd.DataFrame({c: doses})
            res = run_cell_conditions(line, cond, times, oestradiol=s.oestradiol)
            lanes += _blot_lanes(s, rng, line, c, doses, times, res["ER_total"], c, "blot")
            if s.washout_after is not None:
                wt = sorted(set([s.washout_after] + list(s.washout_times)))
                resw = run_cell_conditions(line, cond, wt, oestradiol=s.oestradiol, washout_at=s.washout_after)
                lanes += _blot_lanes(s, rng, line, c, doses, wt, resw["ER_total"], f"{c} washout", "wash")
        if s.positive_control:
            cond = pd.DataFrame({s.positive_control: [0.0, s.positive_control_concentration]})
            res = run_cell_conditions(line, cond, times, oestradiol=s.oestradiol)
            lanes += _blot_lanes(s, rng, line, s.positive_control, [0.0, s.positive_control_concentration], times,
                                 res["ER_total"], f"{s.positive_control} (positive control)", "pc")
    table = pd.DataFrame(lanes)
    import matplotlib.pyplot as plt

    figures = {}
    for line in s.cell_lines:
        sub = table[table["cell_line"] == line]
        wb = WesternBlotAnalysis().fit(sub)
        reps = wb.replicates_
        for _, row in reps.iterrows():
            metrics.append(metric_rows("er_remaining_percent", row["mean"], cell_line=line, compound=row["compound"], concentration=row["dose"], time=row["time"]))
        for (comp, t), dc50 in wb.dc50_.items():
            metrics.append(metric_rows("dc50_nM", dc50, cell_line=line, compound=comp, time=t))
            metrics.append(metric_rows("dmax_percent", wb.dmax_[(comp, t)], cell_line=line, compound=comp, time=t))
        fig, ax = plt.subplots(figsize=(6, 4))
        wb.plot(ax=ax)
        ax.set_title(f"ERα degradation in {line}")
        figures[f"degradation_{line}"] = fig
    result = ExperimentResult(s.name, s.kind, tables={"bands": table}, figures=figures, metrics=pd.DataFrame(metrics))
    result.notes.append(f"Cells in medium with {s.oestradiol:g} nM oestradiol; lanes are ERα/loading relative to the vehicle lane of the same blot.")
    return result


# ------------------------------------------------------------------------------------------------
def run_transcription(s) -> ExperimentResult:
    rows, metrics = [], []
    ref = None
    for line in s.cell_lines:
        cond_rows = []
        for e2 in s.oestradiol_conditions:
            cond_rows.append({"oestradiol": e2, **{c: 0.0 for c in s.compounds}, "treatment": "vehicle", "concentration": 0.0})
            for c in s.compounds:
                for x in s.concentrations:
                    cond_rows.append({"oestradiol": e2, **{k: (x if k == c else 0.0) for k in s.compounds}, "treatment": c, "concentration": x})
        cond = pd.DataFrame(cond_rows)
        res = run_cell_conditions(line, cond[list(s.compounds)], [0.0, s.time], oestradiol=cond["oestradiol"].to_numpy())
        for i, row in cond.iterrows():
            out = {"cell_line": line, "oestradiol": row["oestradiol"], "treatment": row["treatment"], "concentration": row["concentration"],
                   "er_activity": res["ER_activity"][i, -1], **{g: res[g][i, -1] for g in GENES}}
            rows.append(out)
    table = pd.DataFrame(rows)
    wt_e2 = table[(table["cell_line"] == s.cell_lines[0]) & (table["treatment"] == "vehicle")]
    ref = float(wt_e2["er_activity"].max())
    table["er_activity_percent"] = 100.0 * table["er_activity"] / ref
    for _, r in table.iterrows():
        keys = dict(cell_line=r["cell_line"], oestradiol=r["oestradiol"], treatment=r["treatment"], concentration=r["concentration"])
        metrics.append(metric_rows("er_activity_percent", r["er_activity_percent"], **keys))
        for g in GENES:
            metrics.append(metric_rows(f"{g}_expression", r[g], **keys))
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.8))
    labels, values = [], []
    for _, r in table.iterrows():
        labels.append(f"{r['cell_line']}\nE2 {r['oestradiol']:g}\n{r['treatment'] if r['treatment'] == 'vehicle' else r['treatment'][:6] + ' ' + format(r['concentration'], 'g')}")
        values.append(r["er_activity_percent"])
    ax.bar(range(len(values)), values, color="#4477aa")
    ax.set_xticks(range(len(values)), labels, fontsize=6)
    ax.set_ylabel(f"ER activity (% of {s.cell_lines[0]} + E2)")
    fig.tight_layout()
    result = ExperimentResult(s.name, s.kind, tables={"activity": table}, figures={"er_activity": fig}, metrics=pd.DataFrame(metrics))
    result.notes.append(f"ER activity = coactivator-occupied receptor; genes read after {s.time:g} h. 100% = {s.cell_lines[0]} vehicle with oestradiol.")
    return result


# ------------------------------------------------------------------------------------------------
#: plate readouts ∝ viable cells: (signal per cell, plate background) for ATP luminescence (RLU) and
#: crystal-violet absorbance (OD 590)
_READOUT = {"atp": (50.0, 500.0), "crystal_violet": (2e-5, 0.05)}


def _readout(cells: np.ndarray, rng, s) -> np.ndarray:
    scale, background = _READOUT[s.readout]
    return (cells * scale + background) * lognormal_noise(rng, cells.shape, s.noise_cv)


def _plate_wells(s, rng, line: str, cond: pd.DataFrame, compound: str, partner: str, level: str) -> list[dict]:
    """Simulate the conditions (one batched run) and read the wells: ``compound`` titrated, ``partner`` added."""
    res = run_cell_conditions(line, cond, [0.0, s.duration], oestradiol=s.oestradiol, seeding=s.seeding_density)
    cells = np.repeat(res["cells"][:, -1:], s.replicates, axis=1)
    signal = _readout(cells, rng, s)
    return [{"cell_line": line, "compound": compound, "concentration": cond[compound].iloc[i], "partner": partner,
             "partner_concentration": cond[partner].iloc[i] if partner else 0.0,
             "partner_level": level if partner and cond[partner].iloc[i] > 0 else "",
             "replicate": r + 1, "signal": signal[i, r], "cells": cells[i, r]}
            for i in range(len(cond)) for r in range(s.replicates)]


def _viability(wells: pd.DataFrame, background: float) -> pd.Series:
    """% of the vehicle wells (no compound, no partner) of the same cell line and titrated compound."""
    out = pd.Series(np.nan, index=wells.index)
    for (line, c), g in wells.groupby(["cell_line", "compound"]):
        veh = g[(g["concentration"] == 0.0) & (g["partner_concentration"] == 0.0)]
        out[g.index] = 100 * (g["signal"] - background) / (veh["signal"].mean() - background)
    return out


def _partner_alone(s, rng, line: str) -> tuple[list[dict], dict[str, float]]:
    """The partner's own dilution series in ``line`` and, per level x, its ICx (nominal nM): the concentration at
    which the LL.4 fit of these wells reaches 100 − x % of vehicle (NaN when the tested range does not reach it)."""
    partner = s.combination_partner
    cond = pd.DataFrame({partner: [0.0] + [x for x in s.combination_partner_concentrations if x > 0]})
    wells = _plate_wells(s, rng, line, cond, partner, "", "")
    table = pd.DataFrame(wells)
    table["viability_percent"] = _viability(table, _READOUT[s.readout][1])
    fit = DoseResponseFitter("LL.4", profile=False).fit(table, dose="concentration", response="viability_percent")
    curve = fit.curves_["all"]
    return wells, {f"IC{x:g}": float(curve.ed(100.0 - x, type="absolute")) for x in (s.combination_partner_levels or [])}


def run_proliferation(s) -> ExperimentResult:
    """Dose-response plates; with a ``combination_partner``, the titrated compound again with the partner added at
    fixed concentrations and/or at the partner's own ICx levels, read from its single-agent curve in the same cell
    line (``combination_partner_concentrations`` / ``combination_partner_levels``)."""
    rng = np.random.default_rng(s.seed)
    rows, metrics, notes = [], [], []
    partner = s.combination_partner
    background = _READOUT[s.readout][1]
    for line in s.cell_lines:
        # partner arms: (concentration, level label); the partner-alone plate has its own noise stream, so adding it
        # leaves the other wells' noise as it was
        arms = [(0.0, "")] + [(pc, "") for pc in (s.combination_concentrations or [])] if partner else [(0.0, "")]
        if partner and s.combination_partner_concentrations:
            wells, levels = _partner_alone(s, np.random.default_rng([s.seed, 1 + s.cell_lines.index(line)]), line)
            rows += wells
            for label, conc in levels.items():
                metrics.append(metric_rows("partner_level_nM", conc, cell_line=line, compound=partner, partner_level=label))
                if np.isfinite(conc):
                    arms.append((conc, label))
                else:
                    notes.append(f"{line}: {partner} alone does not reach {label} over the tested range; no {label} combination")
        for c in s.compounds:
            for level in dict.fromkeys(label for _, label in arms):
                conds = [{c: x, **({partner: pc} if partner else {})} for pc, lab in arms if lab == level
                         for x in [0.0] + list(s.concentrations)]
                rows += _plate_wells(s, rng, line, pd.DataFrame(conds), c, partner or "", level)
    table = pd.DataFrame(rows)
    table["viability_percent"] = _viability(table, background)
    table["curve"] = table["cell_line"] + " · " + table["compound"] + np.where(
        table["partner_concentration"] > 0, " + " + table["partner"] + " " + table["partner_concentration"].map("{:.3g} nM".format)
        + np.where(table["partner_level"] != "", " (" + table["partner_level"] + ")", ""), "")
    fitter = DoseResponseFitter("LL.4", profile=False).fit(table, dose="concentration", response="viability_percent", group="curve")
    ic50 = fitter.ic50_
    for (line, c, pc, level), g in table.groupby(["cell_line", "compound", "partner_concentration", "partner_level"]):
        name = g["curve"].iloc[0]
        if pc == 0.0:
            metrics.append(metric_rows("ic50_nM", float(ic50[name]), cell_line=line, compound=c))
        else:
            metrics.append(metric_rows("ic50_nM", float(ic50[name]), cell_line=line, compound=f"{c}+{partner}", partner_concentration=pc,
                                       partner_level=level))
        means = g.groupby("concentration")["viability_percent"].mean()
        for x, v in means.items():
            metrics.append(metric_rows("viability_percent", v, cell_line=line, compound=c, concentration=x, partner_concentration=pc,
                                       partner_level=level))
    fold = table[(table["concentration"] == 0) & (table["partner_concentration"] == 0)].groupby(["cell_line", "compound"])["cells"].mean()
    for (line, c), f in (fold / s.seeding_density).items():
        metrics.append(metric_rows("vehicle_fold_growth", f, cell_line=line, compound=c))
    if partner:  # combination benefit and Bliss excess at each tested pair
        metrics += _combination_metrics(pd.DataFrame(metrics), s, partner)
    mdf = pd.DataFrame(metrics)
    if "partner_level" in mdf:
        mdf["partner_level"] = mdf["partner_level"].fillna("")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    fitter.plot(ax=ax)
    ax.set_ylabel("viability (% of vehicle)")
    ax.set_title(f"Proliferation, {s.duration / 24:g} days ({s.readout})")
    result = ExperimentResult(s.name, s.kind, tables={"wells": table}, figures={"dose_response": fig}, metrics=mdf)
    result.tables["ic50"] = mdf[mdf["metric"] == "ic50_nM"]
    result.notes.append(f"Medium oestradiol {s.oestradiol:g} nM; {s.seeding_density:g} cells seeded; drc LL.4 fits per curve.")
    if s.combination_partner_levels:
        result.notes.append(f"{partner} at its own ICx (x % inhibition) read from the LL.4 fit of its single-agent curve in the "
                            "same cell line and assay (metric partner_level_nM).")
    result.notes += notes
    return result


def _combination_metrics(mdf: pd.DataFrame, s, partner: str) -> list[dict]:
    """``combination_advantage_pp`` (better single agent − combination, viability points) and ``bliss_excess`` for
    every titrated concentration × partner arm (fixed concentration or ICx level)."""
    out = []
    v = mdf[mdf["metric"] == "viability_percent"]
    for line in s.cell_lines:
        for c in s.compounds:
            vc = v[(v["cell_line"] == line) & (v["compound"] == c)]
            alone = vc[vc["partner_concentration"] == 0.0].set_index("concentration")["value"]
            for (pc, level), g in vc[vc["partner_concentration"] > 0].groupby(["partner_concentration", "partner_level"]):
                combo = g.set_index("concentration")["value"]
                b = combo[0.0]  # the partner alone on the combination plate
                for x in alone.index[alone.index > 0]:
                    a, ab = alone[x], combo[x]
                    keys = dict(cell_line=line, compound=c, concentration=x, partner_concentration=pc, partner_level=level)
                    out.append(metric_rows("combination_advantage_pp", min(a, b) - ab, **keys))
                    out.append(metric_rows("bliss_excess", float(bliss_excess(100 - a, 100 - b, 100 - ab)), **keys))  # % inhibition in, % points out
    return out


# ------------------------------------------------------------------------------------------------
def run_hormone_dependence(s) -> ExperimentResult:
    rows, metrics = [], []
    times = np.linspace(0, s.duration, int(s.duration // 24) + 1)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for line in s.cell_lines:
        e2 = np.asarray(s.oestradiol_conditions, dtype=float)
        res = simulate(assemble_cell_model(cell_line=line), times, start=-PRE_EQUILIBRATION_H,
                       parameters={"conc_E2": e2}, events=[Event(0.0, "cells", s.seeding_density)])
        for i, x in enumerate(e2):
            cells = res["cells"][i]
            for t, n in zip(times, cells):
                rows.append({"cell_line": line, "oestradiol": x, "time_h": t, "cells": n})
            metrics.append(metric_rows("fold_growth", cells[-1] / cells[0], cell_line=line, oestradiol=x))
            ax.plot(times / 24, cells / cells[0], marker="o", ms=3, label=f"{line}, E2 {x:g} nM")
    ax.set_yscale("log")
    ax.set_xlabel("day")
    ax.set_ylabel("fold growth")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return ExperimentResult(s.name, s.kind, tables={"growth": pd.DataFrame(rows)}, figures={"growth": fig}, metrics=pd.DataFrame(metrics))


# ------------------------------------------------------------------------------------------------
#: readout tissue -> the tissue key of a ligand's intrinsic efficacy in the knowledge base
TISSUE_OF = {"breast": "breast", "bone": "bone", "uterus": "endometrium"}


def run_tissue_selectivity(s) -> ExperimentResult:
    """ER-agonism index per tissue: coactivator-occupied ER per receptor with the ligand alone (no E2),
    relative to the same cells with saturating oestradiol. Per receptor, so that a SERM that stabilises
    ERα (more receptor) is not mistaken for a stronger agonist."""
    rows = []
    for tissue in s.tissues:
        cond = pd.DataFrame({c: [0.0] + [s.concentration if k == c else 0.0 for k in s.compounds] for c in s.compounds})
        e2 = np.array([s.reference_oestradiol] + [0.0] * len(s.compounds))
        res = run_cell_conditions(s.cell_line, cond, [0.0, s.time], oestradiol=e2, tissue=TISSUE_OF[tissue])
        per_receptor = res["ER_activity"][:, -1] / res["ER_total"][:, -1]
        for i, c in enumerate(s.compounds, start=1):
            rows.append({"tissue": tissue, "compound": c, "concentration": s.concentration,
                         "agonism_index": per_receptor[i] / per_receptor[0]})
    table = pd.DataFrame(rows)
    metrics = [metric_rows("agonism_index", r.agonism_index, compound=r.compound, tissue=r.tissue) for r in table.itertuples()]
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    grid = table.pivot(index="compound", columns="tissue", values="agonism_index").reindex(columns=list(s.tissues))
    grid.plot.bar(ax=ax, rot=0)
    ax.set_ylabel("ER-agonism index (E2 = 1)")
    ax.set_title(f"Tissue selectivity at {s.concentration:g} nM, no oestradiol")
    fig.tight_layout()
    result = ExperimentResult(s.name, s.kind, tables={"agonism": table}, figures={"tissue_selectivity": fig}, metrics=pd.DataFrame(metrics))
    result.notes.append("Each tissue is the same receptor machinery with the ligand's intrinsic efficacy for that tissue "
                        "(knowledge base: efficacy.breast / bone / endometrium); 1 = saturating oestradiol, 0 = pure antagonist.")
    return result
