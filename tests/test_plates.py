"""Proliferation plates: layout + readout (long or matrix), % viability, IC50, GR metrics, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eralpha.analysis._plates import PlateAnalysis, read_plate_readout
from eralpha.errors import InputError

CONCS = np.geomspace(0.01, 1000.0, 10)


def layout_96(compounds=("drugA", "drugB")):
    """Row A blank, row H and columns 1/12 vehicle, three rows of a 10-point series per compound."""
    rows = [{"well": f"A{c}", "role": "blank", "compound": "", "concentration": None} for c in range(1, 13)]
    rows += [{"well": f"H{c}", "role": "vehicle", "compound": "DMSO", "concentration": None} for c in range(1, 13)]
    rows += [{"well": f"{r}{c}", "role": "vehicle", "compound": "DMSO", "concentration": 0} for r in "BCDEFG" for c in (1, 12)]
    for compound, letters in zip(compounds, ("BCD", "EFG")):
        rows += [{"well": f"{r}{c}", "role": "treated", "compound": compound, "concentration": conc}
                 for r in letters for c, conc in zip(range(2, 12), CONCS)]
    return pd.DataFrame(rows)


def readout_for(layout, signal_of, blank=300.0):
    """A long readout: ``signal_of(compound, conc)`` cells per treated well, a wobble to keep fits regular."""
    wells = []
    for k, w in enumerate(layout.itertuples()):
        if w.role == "blank":
            value = blank
        elif w.role == "vehicle":
            value = blank + signal_of(None, 0.0)
        else:
            value = blank + signal_of(w.compound, float(w.concentration))
        wells.append({"well": w.well, "signal": value * (1.0 + 1e-5 * (-1) ** k)})
    return pd.DataFrame(wells)


def as_matrix(long):
    grid = pd.DataFrame(index=list("ABCDEFGH"), columns=[str(c) for c in range(1, 13)], dtype=float)
    for w in long.itertuples():
        grid.loc[w.well[0], w.well[1:]] = w.signal
    return grid.reset_index(names="")


def ll4(conc, bottom, top, ic50, hill):
    return bottom + (top - bottom) / (1.0 + (conc / ic50) ** hill)


# ------------------------------------------------------------------------------------ viability
@settings(max_examples=6, deadline=None)
@given(ic50=st.floats(0.1, 100.0), hill=st.floats(0.6, 2.5), bottom=st.floats(0.0, 40.0))
def test_recovers_ic50_from_noise_free_viability(ic50, hill, bottom):
    vehicle_cells = 20000.0

    def cells(compound, conc):
        return vehicle_cells if compound is None else vehicle_cells * ll4(conc, bottom, 100.0, ic50, hill) / 100.0

    layout = layout_96(("drugA",))
    fit = PlateAnalysis().fit(layout, readout_for(layout, cells))
    row = fit.summary.loc["drugA"]
    assert row["status"] == "converged"
    assert row["IC50"] == pytest.approx(ic50, rel=1e-3)
    assert row["Bottom"] == pytest.approx(bottom, abs=0.05)
    assert -row["HillSlope"] == pytest.approx(hill, rel=1e-3)


def test_matrix_and_long_readouts_agree_and_wells_are_normalised():
    layout = layout_96()
    long = readout_for(layout, lambda c, x: 10000.0 if c is None else 10000.0 * ll4(x, 5.0, 100.0, 3.0, 1.0) / 100.0)
    a = PlateAnalysis().fit(layout, long)
    b = PlateAnalysis().fit(layout, as_matrix(long))
    pd.testing.assert_frame_equal(a.summary, b.summary)
    wells = a.table_.set_index("well")
    assert wells.loc["H1", "viability_pct"] == pytest.approx(100.0, rel=1e-4)
    assert wells.loc["A5", "viability_pct"] == pytest.approx(0.0, abs=1e-3)
    assert a.plate_ == 96 and a.unassigned_wells_ == []
    assert a.z_prime_ > 0.99


def test_well_names_are_normalised():
    layout = layout_96()
    long = readout_for(layout, lambda c, x: 5000.0)
    long["well"] = [f"{w[0].lower()}{int(w[1:]):02d}" for w in long["well"]]  # a01, b12 …
    fit = PlateAnalysis().fit(layout, long)
    assert set(fit.table_["well"]) == set(layout["well"])


def test_384_well_plate_is_detected():
    layout = layout_96()
    layout["well"] = [f"{chr(ord(w[0]) + 8)}{int(w[1:]) + 12}" for w in layout["well"]]  # I13 … P24
    long = readout_for(layout, lambda c, x: 5000.0 if c is None else 5000.0 * ll4(x, 0.0, 100.0, 1.0, 1.0) / 100.0)
    fit = PlateAnalysis().fit(layout, long)
    assert fit.plate_ == 384
    assert fit.summary.loc["drugA", "IC50"] == pytest.approx(1.0, rel=1e-3)


# ------------------------------------------------------------------------------------ GR metrics
def gr_sigmoid(conc, gr_inf, gec50, h):
    return gr_inf + (1.0 - gr_inf) / (1.0 + (conc / gec50) ** h)


@settings(max_examples=6, deadline=None)
@given(gr_inf=st.floats(-0.8, 0.3), gec50=st.floats(0.1, 50.0), h=st.floats(0.7, 2.5))
def test_recovers_gr50_from_noise_free_growth(gr_inf, gec50, h):
    x0, x_ctrl = 2000.0, 16000.0  # three doublings in the assay

    def cells(compound, conc):
        gr = 1.0 if compound is None else gr_sigmoid(conc, gr_inf, gec50, h)
        # invert GR = 2^(log2(x/x0) / log2(x_ctrl/x0)) - 1
        return x0 * 2.0 ** (np.log2(1.0 + gr) * np.log2(x_ctrl / x0))

    layout = layout_96(("drugA",))
    fit = PlateAnalysis().fit(layout, readout_for(layout, cells), time_zero=x0)
    row = fit.summary.loc["drugA"]
    expected_gr50 = gec50 * ((1.0 - gr_inf) / (0.5 - gr_inf) - 1.0) ** (1.0 / h)
    assert row["GR_status"] == "converged"
    assert row["GR50"] == pytest.approx(expected_gr50, rel=2e-3)
    assert row["GRinf"] == pytest.approx(gr_inf, abs=2e-3)
    treated = fit.table_[fit.table_["role"] == "treated"]
    np.testing.assert_allclose(treated["GR"], gr_sigmoid(treated["concentration"], gr_inf, gec50, h), atol=1e-4)


def test_gr_is_independent_of_assay_length_while_ic50_is_not():
    """Hafner 2016's point: for a drug that slows division, GR metrics do not depend on how long the
    assay ran (or how fast the line divides); relative-viability IC50 does."""
    k0 = np.log(2.0) / 30.0  # 30 h doubling time

    def run(hours):
        def cells(compound, conc):
            inhibition = 0.0 if compound is None else 0.9 * conc / (conc + 2.0)
            return 2000.0 * np.exp(k0 * (1.0 - inhibition) * hours)

        layout = layout_96(("drugA",))
        return PlateAnalysis().fit(layout, readout_for(layout, cells), time_zero=2000.0).summary.loc["drugA"]

    short, long = run(72.0), run(168.0)
    assert short["GR50"] == pytest.approx(long["GR50"], rel=2e-3)
    assert short["GR_AOC"] == pytest.approx(long["GR_AOC"], rel=2e-3)
    assert long["IC50"] < 0.7 * short["IC50"]  # longer assay, apparently more potent by IC50


def test_grmax_and_gr_aoc_by_hand():
    layout = pd.DataFrame([
        {"well": "A1", "role": "vehicle", "compound": "", "concentration": None},
        {"well": "A2", "role": "vehicle", "compound": "", "concentration": None},
        {"well": "B1", "role": "treated", "compound": "d", "concentration": 1.0},
        {"well": "B2", "role": "treated", "compound": "d", "concentration": 10.0},
        {"well": "B3", "role": "treated", "compound": "d", "concentration": 100.0},
    ])
    x0, x_ctrl = 1000.0, 4000.0
    # GR = 2^(log2(x/x0)/2) - 1: x = x0 (1 + GR)^2 → GR 0.5, 0, -0.25 at 1, 10, 100
    gr = {"B1": 0.5, "B2": 0.0, "B3": -0.25}
    readout = pd.DataFrame({"well": ["A1", "A2", *gr], "signal": [x_ctrl, x_ctrl, *[x0 * (1 + g) ** 2 for g in gr.values()]]})
    fit = PlateAnalysis().fit(layout, readout, time_zero=x0)
    row = fit.summary.loc["d"]
    assert row["GRmax"] == pytest.approx(-0.25)  # lower of the two highest concentrations
    # trapezoids of 1 - GR over log10 c: (0.5 + 1)/2 + (1 + 1.25)/2 = 1.875
    assert row["GR_AOC"] == pytest.approx(1.875)


def test_time_zero_from_a_plate_readout():
    layout = layout_96(("drugA",))
    endpoint = readout_for(layout, lambda c, x: 8000.0 if c is None else 4000.0)
    t0 = pd.DataFrame({"well": ["A1", "A2", "H1", "H2"], "signal": [300.0, 300.0, 2300.0, 2300.0]})
    fit = PlateAnalysis().fit(layout, endpoint, time_zero=t0)
    assert fit.x0_ == pytest.approx(2000.0)
    # x/x0 = 2, x_ctrl/x0 = 4 → GR = 2^(1/2) − 1
    assert fit.table_.loc[fit.table_["role"] == "treated", "GR"].to_numpy() == pytest.approx(np.sqrt(2) - 1, rel=1e-4)


def test_time_zero_that_did_not_grow_is_an_error():
    layout = layout_96(("drugA",))
    with pytest.raises(InputError, match="control population has to grow"):
        PlateAnalysis().fit(layout, readout_for(layout, lambda c, x: 1000.0), time_zero=5000.0)


# ------------------------------------------------------------------------------------ bad input
def test_duplicate_well_in_layout_names_both_rows(tmp_path):
    layout = layout_96()
    layout.loc[5, "well"] = layout.loc[2, "well"]
    path = tmp_path / "layout.csv"
    layout.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"layout.csv.*row 4 and row 7: well 'A3' appears twice"):
        PlateAnalysis().fit(path, readout_for(layout_96(), lambda c, x: 100.0))


def test_well_outside_the_plate(tmp_path):
    layout = layout_96()
    layout.loc[3, "well"] = "I4"
    with pytest.raises(InputError, match="row 5: well 'I4' is outside a 96-well plate"):
        PlateAnalysis(plate=96).fit(layout, readout_for(layout_96(), lambda c, x: 100.0))
    layout.loc[3, "well"] = "Q4"
    with pytest.raises(InputError, match="well 'Q4' is outside a 384-well plate"):
        PlateAnalysis().fit(layout, readout_for(layout_96(), lambda c, x: 100.0))


def test_layout_well_without_reading(tmp_path):
    layout = layout_96()
    readout = readout_for(layout, lambda c, x: 100.0)
    matrix = as_matrix(readout)
    matrix.loc[2, "7"] = np.nan  # C7 not read
    path = tmp_path / "reader.csv"
    matrix.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"reader.csv.*well 'C7' has no reading"):
        PlateAnalysis().fit(layout, path)


def test_missing_layout_entries_name_the_row():
    layout = layout_96()
    layout.loc[40, "concentration"] = None
    with pytest.raises(InputError, match="row 42, column 'concentration': a treated well needs a concentration"):
        PlateAnalysis().fit(layout, readout_for(layout_96(), lambda c, x: 100.0))
    layout = layout_96()
    layout.loc[40, "role"] = None
    with pytest.raises(InputError, match=r"row 42, column 'role': \(empty\) is not a known role"):
        PlateAnalysis().fit(layout, readout_for(layout_96(), lambda c, x: 100.0))
    layout = layout_96()
    layout.loc[40, "compound"] = ""
    with pytest.raises(InputError, match="row 42, column 'compound' is empty for a treated well"):
        PlateAnalysis().fit(layout, readout_for(layout_96(), lambda c, x: 100.0))


def test_bad_matrix_cell_and_unreadable_shape(tmp_path):
    matrix = as_matrix(readout_for(layout_96(), lambda c, x: 100.0))
    matrix["5"] = matrix["5"].astype(object)
    matrix.loc[3, "5"] = "OVER"
    path = tmp_path / "reader.csv"
    matrix.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"row 5, column '5': 'OVER' is not a number"):
        read_plate_readout(path)
    with pytest.raises(InputError, match="neither a long table"):
        read_plate_readout(pd.DataFrame({"position": ["A1"], "value": [1.0]}))


# ------------------------------------------------------------------------------------ CLI
def test_cli_plate_with_time_zero(tmp_path, capsys):
    from eralpha.cli import main

    layout = layout_96(("drugA",))
    x0 = 2000.0
    cells = lambda c, x: x0 * 8.0 if c is None else x0 * 2.0 ** (3.0 * np.log2(1.0 + gr_sigmoid(x, -0.2, 3.0, 1.0)))  # noqa: E731
    layout.to_csv(tmp_path / "layout.csv", index=False)
    as_matrix(readout_for(layout, cells)).to_csv(tmp_path / "reader.csv", index=False)
    pd.DataFrame({"well": ["H1", "H2"], "signal": [x0 + 300.0, x0 + 300.0]}).to_csv(tmp_path / "t0.csv", index=False)
    main(["fit", "plate", str(tmp_path / "layout.csv"), str(tmp_path / "reader.csv"),
          "--time-zero", str(tmp_path / "t0.csv"), "--format", "json", "--plot", str(tmp_path / "p.png"),
          "--plot-metric", "GR"])
    out = json.loads(capsys.readouterr().out)
    expected = 3.0 * ((1.2) / (0.7) - 1.0)
    assert out["summary"][0]["GR50"] == pytest.approx(expected, rel=2e-3)
    assert out["plate"] == 96 and (tmp_path / "p.png").exists()
