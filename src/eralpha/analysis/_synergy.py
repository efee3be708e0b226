"""Drug-combination synergy on a dose matrix: Bliss, HSA, Loewe and ZIP delta scores.

This follows SynergyFinder (Ianevski A, He L, Aittokallio T, Tang J. SynergyFinder: a web application
for analyzing drug combination dose-response matrix data. Bioinformatics 2017;33(15):2413-2415;
Ianevski A, Giri AK, Aittokallio T. SynergyFinder 2.0: visual analytics of multi-drug combination
synergies. Nucleic Acids Res 2020;48(W1):W488-W493) and, for ZIP, Yadav B, Wennerberg K, Aittokallio T,
Tang J. Searching for drug synergy in complex dose-response landscapes using an interaction potency
model. Comput Struct Biotechnol J 2015;13:504-513.

Conventions, as in SynergyFinder:

* Everything is computed in **% inhibition** (0 = untreated control, 100 = complete inhibition).
  Viability (% of control) is converted as ``inhibition = 100 - viability``.
* A block is a dose matrix: rows are the concentrations of ``drug1`` (SynergyFinder's "row drug"),
  columns those of ``drug2`` (the "column drug"). Row 0 (drug1 at 0) is drug2 alone; column 0 is
  drug1 alone. Replicate wells of one dose pair are averaged first.
* ``delta = observed - expected`` in % inhibition: **positive = synergy, negative = antagonism**.
  The single-agent row and column have delta 0 by definition.
* The summary synergy score of a block is the mean of delta over the combination cells (the matrix
  without its single-agent row and column), as SynergyFinder's R package reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ..errors import EralphaError, InputError, UnknownNameError
from ._base import Fitter
from ._data import drop_missing, numeric_column, read_table, require_columns, source_name
from ._dr_models import ed_absolute

__all__ = [
    "SynergyAnalysis",
    "SynergyColumns",
    "BlockSynergy",
    "DoseMatrix",
    "read_dose_matrices",
    "bliss_expected",
    "bliss_excess",
    "hsa_expected",
    "loewe_expected",
    "SYNERGY_MODELS",
    "RESPONSE_KINDS",
]

SYNERGY_MODELS = ("bliss", "hsa", "loewe", "zip")
RESPONSE_KINDS = ("viability", "inhibition")
FULL_INHIBITION = 100.0  # % inhibition of a complete response; Bliss probabilities are y / 100


# --------------------------------------------------------------------------- reference models


def bliss_expected(inhibition_a: Any, inhibition_b: Any) -> np.ndarray:
    """Bliss independence: ``E_A + E_B - E_A E_B / 100`` (inputs and output in % inhibition).

    SynergyFinder: ``Bliss`` / ``CalculateBliss`` reference. Broadcasts like numpy.
    """
    a = np.asarray(inhibition_a, dtype=float)
    b = np.asarray(inhibition_b, dtype=float)
    return a + b - a * b / FULL_INHIBITION


def bliss_excess(inhibition_a: Any, inhibition_b: Any, inhibition_ab: Any) -> np.ndarray:
    """Observed minus Bliss-expected inhibition (% points); > 0 is synergy, < 0 antagonism.

    The plain function virtual experiments call on simulated single-agent and combination responses
    (all in % inhibition; for viability pass ``100 - viability``). SynergyFinder: the Bliss delta
    score of one dose pair.
    """
    return np.asarray(inhibition_ab, dtype=float) - bliss_expected(inhibition_a, inhibition_b)


def hsa_expected(inhibition_a: Any, inhibition_b: Any) -> np.ndarray:
    """Highest single agent: the larger of the two single-agent inhibitions (SynergyFinder ``HSA``)."""
    return np.maximum(np.asarray(inhibition_a, dtype=float), np.asarray(inhibition_b, dtype=float))


@dataclass(frozen=True)
class _RisingCurve:
    """A fitted single-agent curve in % inhibition, in drc's LL.4 names (b, c, d, e).

    Loewe needs the inverse: the dose of this agent alone that gives an effect ``level``.
    """

    b: float
    c: float
    d: float
    e: float

    @property
    def at_zero(self) -> float:
        # drc: with b < 0 the curve starts at c and rises to d; with b > 0 it starts at d.
        return self.c if self.b < 0 else self.d

    @property
    def at_infinity(self) -> float:
        return self.d if self.b < 0 else self.c

    @property
    def rises(self) -> bool:
        return self.at_infinity > self.at_zero and np.isfinite(self.b) and self.b != 0

    def dose_ratio(self, dose: float, level: float) -> float:
        """``dose / D(level)``: this agent's share of the Loewe isobole at effect ``level``.

        ``D(level)`` is the dose of the agent alone giving ``level``. A level at or below the agent's
        zero-dose effect needs no drug (ratio infinite); a level at or beyond its maximum can never be
        reached by the agent alone, so its dose equivalent is infinite and its share 0.
        """
        if level <= self.at_zero:
            return np.inf
        if level >= self.at_infinity:
            return 0.0
        return dose / ed_absolute({"b": self.b, "c": self.c, "d": self.d, "e": self.e, "f": 1.0}, level)


def loewe_expected(dose_a: float, dose_b: float, curve_a: _RisingCurve, curve_b: _RisingCurve) -> float:
    """The Loewe-additive effect y solving ``dose_a / D_A(y) + dose_b / D_B(y) = 1`` (% inhibition).

    SynergyFinder ``Loewe``: same equation (Yadav et al. 2015, eq. 8). Agents whose fitted curve does
    not rise with dose contribute no dose equivalent. An effect beyond an agent's fitted maximum is
    treated as needing an infinite dose of it (share 0), which extends the isobole equation
    continuously, so a root always exists between the largest zero-dose effect and the largest
    maximum. (SynergyFinder instead falls back to ``max(f_A(a + b), f_B(a + b))`` when its Newton
    solve fails there.) NaN when neither agent's curve rises.
    """
    active = [(dose, curve) for dose, curve in ((dose_a, curve_a), (dose_b, curve_b)) if curve.rises and dose > 0]
    if not active:
        return float("nan")
    low = max(curve.at_zero for _, curve in active)
    high = max(curve.at_infinity for _, curve in active)

    def isobole(level: float) -> float:
        return sum(curve.dose_ratio(dose, level) for dose, curve in active) - 1.0

    # Bracket strictly inside (low, high): the isobole sum falls monotonically from +inf to 0 there.
    span = high - low
    left, right = low + 1e-12 * span, high - 1e-12 * span
    if isobole(left) <= 0.0:  # root within 1e-12 of the zero-dose effect (tiny doses, steep curve)
        return left
    if isobole(right) >= 0.0:
        return right
    return float(brentq(isobole, left, right, xtol=1e-10 * max(span, 1.0), rtol=1e-12))


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class SynergyColumns:
    """Column names of the long input table (SynergyFinder's defaults; rename to match your file)."""

    block_id: str = "block_id"
    drug1: str = "drug1"
    drug2: str = "drug2"
    conc1: str = "conc1"
    conc2: str = "conc2"
    response: str = "response"

    def all(self) -> list[str]:
        return [self.block_id, self.drug1, self.drug2, self.conc1, self.conc2, self.response]


@dataclass(frozen=True)
class DoseMatrix:
    """One block as a dose matrix in % inhibition (replicates averaged).

    ``inhibition[i, j]`` is the response to ``conc1[i]`` of drug1 with ``conc2[j]`` of drug2; both
    concentration vectors ascend from 0. ``replicates[i, j]`` counts the wells averaged.
    """

    block_id: Any
    drug1: str
    drug2: str
    conc1: np.ndarray
    conc2: np.ndarray
    inhibition: np.ndarray
    replicates: np.ndarray

    @property
    def drug1_alone(self) -> np.ndarray:
        return self.inhibition[:, 0]

    @property
    def drug2_alone(self) -> np.ndarray:
        return self.inhibition[0, :]


def _text_column(df: pd.DataFrame, column: str) -> pd.Series:
    """A label column (block id, drug name) with no empty cells."""
    values = df[column]
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(
            f"row {row + 2}, column '{column}' is empty",
            file=source_name(df),
            field=column,
            valid="a label in every row",
        )
    return values


def _to_inhibition(response: np.ndarray, kind: str, df: pd.DataFrame, column: str) -> np.ndarray:
    if np.nanmax(np.abs(response)) <= 1.0:
        # A fraction (0-1) read as percent would make every Bliss product 100-fold too small.
        raise InputError(
            f"every value in column '{column}' lies between -1 and 1: this looks like a fraction, "
            "but synergy scores need percent",
            file=source_name(df),
            field=column,
            valid=f"{kind} in % (multiply fractions by 100)",
        )
    return FULL_INHIBITION - response if kind == "viability" else response


def _dose_matrix(block_id: Any, rows: pd.DataFrame, cols: SynergyColumns) -> DoseMatrix:
    """Average replicates of one block and check it is a full matrix with single-agent row/column."""
    where = source_name(rows)
    names = {}
    for column in (cols.drug1, cols.drug2):
        found = sorted(map(str, rows[column].unique()))
        if len(found) != 1:
            raise InputError(
                f"block '{block_id}' names {len(found)} different drugs in column '{column}' ({', '.join(found)})",
                file=where,
                field=column,
                valid="one drug1 and one drug2 per block (give each pair its own block_id)",
            )
        names[column] = found[0]
    means = rows.groupby(["_c1", "_c2"])["_inhibition"].agg(["mean", "size"])
    conc1 = np.sort(rows["_c1"].unique())
    conc2 = np.sort(rows["_c2"].unique())
    for conc, drug, other in ((conc1, names[cols.drug1], names[cols.drug2]), (conc2, names[cols.drug2], names[cols.drug1])):
        if conc[0] != 0.0:
            raise InputError(
                f"block '{block_id}' has no wells with {drug} at concentration 0, so {other} alone is unknown",
                file=where,
                field=cols.conc1 if drug == names[cols.drug1] else cols.conc2,
                valid="a full dose matrix including each drug alone (the other at 0)",
            )
    if len(conc1) < 2 or len(conc2) < 2:
        alone = names[cols.drug1] if len(conc1) < 2 else names[cols.drug2]
        raise InputError(
            f"block '{block_id}' has no wells with {alone} above 0, so no combination to score "
            f"({len(rows)} row(s), doses {conc1.tolist()} × {conc2.tolist()})",
            file=where, field=cols.conc1 if len(conc1) < 2 else cols.conc2,
            valid="a dose matrix with each drug at 0 and at least one concentration above 0",
        )
    grid = means.reindex(pd.MultiIndex.from_product([conc1, conc2]))
    if grid["mean"].isna().any():
        c1, c2 = grid.index[np.flatnonzero(grid["mean"].isna().to_numpy())[0]]
        raise InputError(
            f"block '{block_id}' has no response for {names[cols.drug1]} {c1:g} with {names[cols.drug2]} {c2:g}",
            file=where,
            field=cols.response,
            valid="a full dose matrix: every concentration of drug1 combined with every concentration of drug2",
        )
    shape = (len(conc1), len(conc2))
    return DoseMatrix(
        block_id=block_id,
        drug1=names[cols.drug1],
        drug2=names[cols.drug2],
        conc1=conc1,
        conc2=conc2,
        inhibition=grid["mean"].to_numpy(dtype=float).reshape(shape),
        replicates=grid["size"].to_numpy(dtype=int).reshape(shape),
    )


def read_dose_matrices(
    table: pd.DataFrame | str | Path, response: str, columns: SynergyColumns = SynergyColumns()
) -> tuple[list[DoseMatrix], str]:
    """Parse a SynergyFinder-style long table into one :class:`DoseMatrix` per block.

    Returns the matrices and a note on rows dropped for a missing response.
    """
    df = read_table(table) if isinstance(table, (str, Path)) else table
    require_columns(df, columns.all())
    conc1 = numeric_column(df, columns.conc1, allow_negative=False, allow_missing=False)
    conc2 = numeric_column(df, columns.conc2, allow_negative=False, allow_missing=False)
    numeric_column(df, columns.response)  # names the row of a text cell before anything is dropped
    for column in (columns.block_id, columns.drug1, columns.drug2):
        _text_column(df, column)
    work = df.assign(_c1=conc1, _c2=conc2, _response=pd.to_numeric(df[columns.response], errors="coerce"))
    work, dropped = drop_missing(work, ["_response"])
    if work.empty:
        raise InputError(f"column '{columns.response}' has no values", file=source_name(df), field=columns.response)
    work["_inhibition"] = _to_inhibition(work["_response"].to_numpy(dtype=float), response, df, columns.response)
    matrices = [
        _dose_matrix(block_id, rows, columns) for block_id, rows in work.groupby(columns.block_id, sort=False)
    ]
    return matrices, str(dropped)


# --------------------------------------------------------------------------- per-block results


@dataclass(frozen=True)
class BlockSynergy:
    """The synergy result of one block.

    ``expected`` and ``delta`` have the shape of ``matrix.inhibition``; ``delta = observed - expected``
    (% inhibition, positive = synergy) is 0 on the single-agent row and column. For ZIP ``observed``
    is the smoothed combination surface (the row/column re-fits), as in SynergyFinder.
    """

    matrix: DoseMatrix
    model: str
    observed: np.ndarray
    expected: np.ndarray
    delta: np.ndarray
    drug1_fit: Any = None  # eralpha CurveFit of drug1 alone (Loewe, ZIP)
    drug2_fit: Any = None
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        """Mean delta over the combination cells (SynergyFinder's summary synergy score)."""
        combination = self.delta[1:, 1:]
        return float(np.nanmean(combination)) if np.isfinite(combination).any() else float("nan")

    def frame(self) -> pd.DataFrame:
        """The block as a long table: one row per dose pair."""
        m = self.matrix
        c1, c2 = np.meshgrid(m.conc1, m.conc2, indexing="ij")
        return pd.DataFrame(
            {
                "block_id": m.block_id,
                "drug1": m.drug1,
                "drug2": m.drug2,
                "conc1": c1.ravel(),
                "conc2": c2.ravel(),
                "replicates": m.replicates.ravel(),
                "inhibition": m.inhibition.ravel(),
                "observed": self.observed.ravel(),
                "expected": self.expected.ravel(),
                "delta": self.delta.ravel(),
            }
        )


@dataclass(frozen=True)
class _FailedFit:
    """Stands in for a CurveFit whose optimiser broke down numerically (reported, never raised)."""

    reason: str
    status: str = "error"
    fitted: bool = False
    ic50: float = float("nan")


def _fit_single_agent(conc: np.ndarray, inhibition: np.ndarray, fixed: Mapping[str, float] | None = None):
    """drc ``drm(inhibition ~ conc, fct = LL.4(fixed = ...))`` through eralpha's dose-response fitter."""
    from ._doseresponse import fit_curve  # imported late: the dose-response module is large

    # Hopeless data (e.g. a ZIP row far below its fixed bottom) is reported through the fit's status;
    # the optimiser's intermediate overflow warnings say nothing more.
    with np.errstate(all="ignore"):
        try:
            return fit_curve(conc, inhibition, model="LL.4", fixed=dict(fixed) if fixed else None)
        except EralphaError:
            raise
        except (np.linalg.LinAlgError, ArithmeticError, ValueError) as exc:
            # The optimiser can break down on flat or out-of-range rows; score it as a failed fit.
            return _FailedFit(f"numerical failure: {exc}")


def _fit_ok(fit: Any) -> bool:
    # "ambiguous" fits (e.g. an ED50 outside the tested doses) still give a usable curve.
    return bool(fit.fitted)


def _predict(fit: Any, dose: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # the curve's Jacobian, computed alongside, may overflow harmlessly
        return np.asarray(fit.predict(dose), dtype=float)


def _rising_curve(fit: Any) -> _RisingCurve:
    p = fit.params
    return _RisingCurve(float(p["b"]), float(p["c"]), float(p["d"]), float(p["e"]))


def _on_axes(matrix: DoseMatrix, expected_combinations: np.ndarray, observed: np.ndarray | None = None):
    """Full-size (expected, observed) with the single-agent row/column equal, so their delta is 0."""
    observed = matrix.inhibition.copy() if observed is None else observed
    expected = observed.copy()
    expected[1:, 1:] = expected_combinations
    return observed, expected


def _single_agent_fits(matrix: DoseMatrix) -> tuple[Any, Any, list[str]]:
    fit1 = _fit_single_agent(matrix.conc1, matrix.drug1_alone)
    fit2 = _fit_single_agent(matrix.conc2, matrix.drug2_alone)
    notes = [
        f"{name} alone: 4PL fit {fit.status} ({fit.reason})"
        for name, fit in ((matrix.drug1, fit1), (matrix.drug2, fit2))
        if not _fit_ok(fit)
    ]
    return fit1, fit2, notes


def _bliss(matrix: DoseMatrix) -> BlockSynergy:
    expected = bliss_expected(matrix.drug1_alone[1:, None], matrix.drug2_alone[None, 1:])
    observed, expected = _on_axes(matrix, expected)
    return BlockSynergy(matrix, "bliss", observed, expected, observed - expected)


def _hsa(matrix: DoseMatrix) -> BlockSynergy:
    expected = hsa_expected(matrix.drug1_alone[1:, None], matrix.drug2_alone[None, 1:])
    observed, expected = _on_axes(matrix, expected)
    return BlockSynergy(matrix, "hsa", observed, expected, observed - expected)


def _loewe(matrix: DoseMatrix) -> BlockSynergy:
    fit1, fit2, notes = _single_agent_fits(matrix)
    expected = np.full((len(matrix.conc1) - 1, len(matrix.conc2) - 1), np.nan)
    if not notes:
        curve1, curve2 = _rising_curve(fit1), _rising_curve(fit2)
        for name, curve in ((matrix.drug1, curve1), (matrix.drug2, curve2)):
            if not curve.rises:
                notes.append(f"{name} alone: fitted curve does not rise with dose; it adds no Loewe dose equivalent")
        for i, x1 in enumerate(matrix.conc1[1:]):
            for j, x2 in enumerate(matrix.conc2[1:]):
                expected[i, j] = loewe_expected(x1, x2, curve1, curve2)
        # SynergyFinder caps the Loewe expectation at complete inhibition.
        expected = np.minimum(expected, FULL_INHIBITION)
    observed, expected = _on_axes(matrix, expected)
    return BlockSynergy(matrix, "loewe", observed, expected, observed - expected, fit1, fit2, tuple(notes))


def _zip_refit(doses: np.ndarray, responses: np.ndarray, floor: float) -> tuple[np.ndarray, bool]:
    """One row or column of the combination surface re-fitted as a 4PL rising from ``floor`` to 100.

    Yadav et al. 2015: with the other drug present at a fixed dose, the curve's bottom is that drug's
    (fitted) single-agent effect and its top complete inhibition; slope and ED50 are free. Returns the
    fitted values and whether the fit worked (if not, the observed values are used, as SynergyFinder).
    """
    if len(doses) < 2:
        return responses.copy(), True
    fit = _fit_single_agent(doses, responses, fixed={"c": floor, "d": FULL_INHIBITION})
    if not _fit_ok(fit):
        return responses.copy(), False
    return _predict(fit, doses), True


def _zip(matrix: DoseMatrix) -> BlockSynergy:
    fit1, fit2, notes = _single_agent_fits(matrix)
    n1, n2 = len(matrix.conc1) - 1, len(matrix.conc2) - 1
    if notes:
        observed, expected = _on_axes(matrix, np.full((n1, n2), np.nan))
        return BlockSynergy(matrix, "zip", observed, expected, observed - expected, fit1, fit2, tuple(notes))
    single1 = _predict(fit1, matrix.conc1)  # fitted drug1-alone effect per row
    single2 = _predict(fit2, matrix.conc2)
    combos = matrix.inhibition[1:, 1:]
    along_drug1 = np.empty((n1, n2))
    along_drug2 = np.empty((n1, n2))
    failed = 0
    for j in range(n2):  # drug2 fixed at conc2[j + 1]: vary drug1
        along_drug1[:, j], ok = _zip_refit(matrix.conc1[1:], combos[:, j], single2[j + 1])
        failed += not ok
    for i in range(n1):  # drug1 fixed at conc1[i + 1]: vary drug2
        along_drug2[i, :], ok = _zip_refit(matrix.conc2[1:], combos[i, :], single1[i + 1])
        failed += not ok
    if failed:
        notes.append(f"{failed} of {n1 + n2} ZIP row/column re-fits failed; their observed values were used")
    expected = bliss_expected(single1[1:, None], single2[None, 1:])
    smoothed = matrix.inhibition.copy()
    smoothed[1:, 1:] = (along_drug1 + along_drug2) / 2.0
    observed, expected = _on_axes(matrix, expected, smoothed)
    return BlockSynergy(matrix, "zip", observed, expected, observed - expected, fit1, fit2, tuple(notes))


_SCORERS = {"bliss": _bliss, "hsa": _hsa, "loewe": _loewe, "zip": _zip}


def _check_choice(value: str, choices: tuple[str, ...], kind: str, field: str) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        raise UnknownNameError(kind, str(value), choices, field=field)
    return value.lower()


# --------------------------------------------------------------------------- the fitter


class SynergyAnalysis(Fitter):
    """Synergy scores of drug-combination dose matrices (SynergyFinder's ``CalculateSynergy``).

    Parameters
    ----------
    model:
        Reference model of "no interaction", SynergyFinder's ``method``:

        * ``"bliss"`` — Bliss independence, ``E_A + E_B - E_A E_B / 100`` from the observed
          single-agent responses (Bliss 1939).
        * ``"hsa"`` — highest single agent, ``max(E_A, E_B)`` from the observed single agents
          (Berenbaum 1989).
        * ``"loewe"`` — Loewe additivity (Loewe 1953): the effect y with
          ``x_A / D_A(y) + x_B / D_B(y) = 1``, ``D`` the inverse of each agent's fitted 4PL (drc LL.4);
          solved by bracketed root finding. Effects beyond an agent's fitted maximum count as an
          infinite dose of it (see :func:`loewe_expected`); the expectation is capped at 100 %.
        * ``"zip"`` — zero interaction potency (Yadav et al. 2015): each row and column of the
          combination surface is re-fitted by a 4PL whose bottom is the other drug's fitted
          single-agent effect and whose top is 100 %; the delta is the average of the two re-fits
          minus the Bliss combination of the *fitted* single-agent curves.

        Every delta is ``observed - expected`` in % inhibition: positive = synergy.
    response:
        What the response column holds: ``"viability"`` (% of untreated control) or ``"inhibition"``
        (%). Required — guessing it would silently flip every sign.
    columns:
        Column names, a :class:`SynergyColumns` (defaults are SynergyFinder's long-table names).

    Attributes after ``fit``
    ------------------------
    blocks_ : dict of block id -> :class:`BlockSynergy`
    scores_ : pandas Series of the summary synergy score per block
    delta_ : long DataFrame, one row per block and dose pair (observed, expected, delta)
    dropped_ : note on rows dropped for a missing response
    """

    def __init__(self, model: str = "bliss", *, response: str, columns: SynergyColumns = SynergyColumns()) -> None:
        self.model = _check_choice(model, SYNERGY_MODELS, "synergy model", "model")
        self.response = _check_choice(response, RESPONSE_KINDS, "response kind", "response")
        self.columns = columns

    def fit(self, table: pd.DataFrame | str | Path) -> SynergyAnalysis:
        """Score every block of a long table (a DataFrame or a CSV / TSV / Parquet path)."""
        matrices, self.dropped_ = read_dose_matrices(table, self.response, self.columns)
        scorer = _SCORERS[self.model]
        self.blocks_ = {m.block_id: scorer(m) for m in matrices}
        self.scores_ = pd.Series(
            {block_id: result.score for block_id, result in self.blocks_.items()}, name="synergy_score"
        )
        self.scores_.index.name = "block_id"
        self.delta_ = pd.concat([result.frame() for result in self.blocks_.values()], ignore_index=True)
        self._fitted = True
        return self

    def block(self, block_id: Any = None) -> BlockSynergy:
        """One block's result; the first block when ``block_id`` is None."""
        self._require_fit()
        if block_id is None:
            return next(iter(self.blocks_.values()))
        for key, result in self.blocks_.items():
            if key == block_id or str(key) == str(block_id):
                return result
        raise UnknownNameError("block", str(block_id), [str(k) for k in self.blocks_], field="block_id")

    @property
    def summary(self) -> pd.DataFrame:
        """One row per block: drugs, model, synergy score, extreme deltas, single-agent IC50s, notes."""
        self._require_fit()
        rows = []
        for block_id, result in self.blocks_.items():
            m, combination = result.matrix, result.delta[1:, 1:]
            finite = np.isfinite(combination).any()
            rows.append(
                {
                    "block_id": block_id,
                    "drug1": m.drug1,
                    "drug2": m.drug2,
                    "model": self.model,
                    "synergy_score": result.score,
                    "max_delta": float(np.nanmax(combination)) if finite else float("nan"),
                    "min_delta": float(np.nanmin(combination)) if finite else float("nan"),
                    "doses": f"{len(m.conc1)}x{len(m.conc2)}",
                    "replicates": int(m.replicates.max()),
                    "drug1_ic50": _ic50(result.drug1_fit),
                    "drug2_ic50": _ic50(result.drug2_fit),
                    "notes": "; ".join(result.notes),
                }
            )
        return pd.DataFrame(rows).set_index("block_id")

    def plot(self, ax=None, kind: str = "heatmap", block: Any = None):
        """Heat map (annotated) or 3-D surface of one block's delta matrix; returns the axes.

        SynergyFinder: ``Plot2DrugHeatmap`` / ``Plot2DrugSurface``. Red is synergy, blue antagonism.
        Axes are dose indices labelled with the concentrations, as SynergyFinder draws them.
        """
        kind = _check_choice(kind, ("heatmap", "surface"), "plot kind", "kind")
        result = self.block(block)
        return _plot_heatmap(result, ax) if kind == "heatmap" else _plot_surface(result, ax)


def _ic50(fit: Any) -> float:
    if fit is None or not _fit_ok(fit):
        return float("nan")
    return float(fit.ic50)


# --------------------------------------------------------------------------- plots


def _plot_title(result: BlockSynergy) -> str:
    m = result.matrix
    return f"{m.drug1} + {m.drug2}: {result.model.upper()} synergy score {result.score:.2f}"


def _colour_limit(delta: np.ndarray) -> float:
    finite = np.abs(delta[np.isfinite(delta)])
    return max(float(finite.max()) if finite.size else 0.0, 1.0)  # never a zero-width colour scale


def _plot_heatmap(result: BlockSynergy, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.75 * len(result.matrix.conc2), 1.0 + 0.6 * len(result.matrix.conc1)))
    m, delta = result.matrix, result.delta
    limit = _colour_limit(delta)
    image = ax.imshow(delta, cmap="RdBu_r", vmin=-limit, vmax=limit, origin="lower", aspect="auto")
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            value = delta[i, j]
            text = "NA" if not np.isfinite(value) else f"{value:.1f}"
            dark = np.isfinite(value) and abs(value) > 0.6 * limit
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(len(m.conc2)), [f"{c:g}" for c in m.conc2])
    ax.set_yticks(range(len(m.conc1)), [f"{c:g}" for c in m.conc1])
    ax.set_xlabel(f"{m.drug2} concentration")
    ax.set_ylabel(f"{m.drug1} concentration")
    ax.set_title(_plot_title(result), fontsize=10)
    ax.figure.colorbar(image, ax=ax, label="delta (% inhibition)")
    return ax


def _plot_surface(result: BlockSynergy, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure(figsize=(6.5, 5)).add_subplot(projection="3d")
    elif getattr(ax, "name", "") != "3d":
        raise InputError(
            "a surface plot needs 3-D axes",
            field="ax",
            valid="fig.add_subplot(projection='3d'), or ax=None",
        )
    m, delta = result.matrix, result.delta
    limit = _colour_limit(delta)
    rows, cols = np.meshgrid(np.arange(len(m.conc1)), np.arange(len(m.conc2)), indexing="ij")
    ax.plot_surface(cols, rows, np.nan_to_num(delta), cmap="RdBu_r", vmin=-limit, vmax=limit, edgecolor="grey", linewidth=0.3)
    ax.set_xticks(range(len(m.conc2)), [f"{c:g}" for c in m.conc2], fontsize=7)
    ax.set_yticks(range(len(m.conc1)), [f"{c:g}" for c in m.conc1], fontsize=7)
    ax.set_xlabel(m.drug2)
    ax.set_ylabel(m.drug1)
    ax.set_zlabel("delta (% inhibition)")
    ax.set_zlim(-limit, limit)
    ax.set_title(_plot_title(result), fontsize=10)
    return ax
