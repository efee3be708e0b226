"""Aromatase tritiated-water assay and competitive radioligand binding: IC50 → Ki by Cheng–Prusoff."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eralpha.analysis._assays import AromataseAssay, BindingAssay, cheng_prusoff_ki
from eralpha.errors import InputError, UnknownNameError

CONCS = np.geomspace(0.01, 1000.0, 11)


def wobble(n, size=1e-5):
    """A deterministic ± wobble so that a perfect fit still has residual degrees of freedom to use."""
    return 1.0 + size * np.resize([1.0, -1.0, 0.5, -0.5], n)


def aromatase_table(kis, s_nM=50.0, km_nM=40.0, blank=150.0, vehicle=12000.0):
    """dpm from competitive Michaelis–Menten kinetics: v/v0 = (Km + S) / (Km (1 + I/Ki) + S)."""
    rows = [{"role": "blank", "compound": "", "concentration": "", "dpm": blank}] * 3
    rows += [{"role": "vehicle", "compound": "", "concentration": 0, "dpm": vehicle}] * 3
    for name, ki in kis.items():
        for conc in CONCS:
            activity = (km_nM + s_nM) / (km_nM * (1.0 + conc / ki) + s_nM)
            rows += [{"role": "drug", "compound": name, "concentration": conc, "dpm": blank + (vehicle - blank) * activity}] * 2
    df = pd.DataFrame(rows)
    df["dpm"] = df["dpm"] * wobble(len(df))
    return df


def binding_table(kis, l_nM=1.0, kd_nM=0.26, bmax=8000.0, nsb=400.0):
    """Counts from one-site competition at equilibrium: B = Bmax L / (L + Kd (1 + I/Ki))."""
    rows = []
    for name, ki in kis.items():
        for conc in [0.0, *CONCS]:
            specific = bmax * l_nM / (l_nM + kd_nM * (1.0 + conc / ki))
            rows += [{"compound": name, "concentration": conc, "total": specific + nsb, "nonspecific": nsb}] * 2
    df = pd.DataFrame(rows)
    df["total"] = df["total"] * wobble(len(df))
    return df


# -------------------------------------------------------------------------------------- aromatase
@settings(max_examples=6, deadline=None)
@given(ki=st.floats(0.05, 20.0), s_nM=st.floats(5.0, 500.0), km_nM=st.floats(5.0, 200.0))
def test_aromatase_recovers_ki_of_a_competitive_inhibitor(ki, s_nM, km_nM):
    fit = AromataseAssay(f"{s_nM} nM", f"{km_nM} nM").fit(aromatase_table({"letrozole": ki}, s_nM, km_nM))
    row = fit.summary.loc["letrozole"]
    assert row["status"] == "converged"
    assert row["IC50"] == pytest.approx(ki * (1.0 + s_nM / km_nM), rel=1e-3)
    assert row["Ki"] == pytest.approx(ki, rel=1e-3)
    assert row["HillSlope"] == pytest.approx(-1.0, rel=1e-3)  # competitive inhibition is a Hill-1 curve
    assert row["Ki_lower"] < ki < row["Ki_upper"] or row["Ki"] == pytest.approx(ki, rel=1e-6)


def test_aromatase_percent_inhibition_and_units():
    table = aromatase_table({"letrozole": 2.0, "anastrozole": 7.0})
    fit = AromataseAssay("0.05 uM", "40 nM").fit(table)  # same S as 50 nM
    assert fit.ki_["letrozole"] == pytest.approx(2.0, rel=1e-3)
    assert fit.ki_["anastrozole"] == pytest.approx(7.0, rel=1e-3)
    wells = fit.table_
    window = fit.vehicle_dpm_ - fit.blank_dpm_
    np.testing.assert_allclose(wells["inhibition_pct"], 100.0 * (1.0 - (wells["dpm"] - fit.blank_dpm_) / window))
    assert fit.summary.loc["letrozole", "S/Km"] == pytest.approx(1.25)


def test_aromatase_free_limits_give_the_same_ic50_on_clean_data():
    fit = AromataseAssay("50 nM", "40 nM", top=None, bottom=None).fit(aromatase_table({"letrozole": 2.0}))
    row = fit.summary.loc["letrozole"]
    assert row["Top"] == pytest.approx(100.0, abs=0.05) and row["Bottom"] == pytest.approx(0.0, abs=0.1)
    assert row["Ki"] == pytest.approx(2.0, rel=2e-3)


def test_cheng_prusoff():
    assert cheng_prusoff_ki(4.5, 50.0, 40.0) == pytest.approx(2.0)
    assert cheng_prusoff_ki(3.0, 0.0, 1.0) == 3.0
    with pytest.raises(InputError):
        cheng_prusoff_ki(1.0, 1.0, 0.0)


def test_aromatase_unknown_role_names_row_and_suggests(tmp_path):
    table = aromatase_table({"letrozole": 2.0})
    table.loc[4, "role"] = "vehical"
    path = tmp_path / "aromatase.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"aromatase.csv.*row 6, column 'role': 'vehical' .*did you mean 'vehicle'"):
        AromataseAssay("50 nM", "40 nM").fit(path)


def test_aromatase_needs_blank_and_vehicle_and_units():
    table = aromatase_table({"letrozole": 2.0})
    with pytest.raises(InputError, match="no 'blank' wells"):
        AromataseAssay("50 nM", "40 nM").fit(table[table["role"] != "blank"])
    with pytest.raises(InputError, match="'40' has no unit"):
        AromataseAssay("50 nM", "40")
    with pytest.raises(InputError, match="wrong dimension"):
        AromataseAssay("50 nM", "40 mg")


def test_aromatase_drug_well_at_zero_concentration_is_an_error():
    table = aromatase_table({"letrozole": 2.0})
    table.loc[10, "concentration"] = 0.0
    with pytest.raises(InputError, match="row 12, column 'concentration': a treated well needs a concentration above 0"):
        AromataseAssay("50 nM", "40 nM").fit(table)


def test_aromatase_empty_dpm_is_dropped_and_later_rows_keep_their_numbers():
    table = aromatase_table({"letrozole": 2.0})
    table.loc[1, "dpm"] = np.nan
    table.loc[10, "concentration"] = 0.0
    with pytest.raises(InputError, match="row 12, column 'concentration'"):
        AromataseAssay("50 nM", "40 nM").fit(table)
    table.loc[10, "concentration"] = 1.0
    fit = AromataseAssay("50 nM", "40 nM").fit(table)
    assert fit.dropped_.rows == [3] and len(fit.table_) == len(table) - 1


def test_aromatase_misspelt_and_text_cells():
    table = aromatase_table({"letrozole": 2.0}).rename(columns={"dpm": "DPM "})
    with pytest.raises(UnknownNameError, match="did you mean 'DPM'"):
        AromataseAssay("50 nM", "40 nM").fit(table)
    table = aromatase_table({"letrozole": 2.0})
    table["dpm"] = table["dpm"].astype(object)
    table.loc[7, "dpm"] = "1,234"
    with pytest.raises(InputError, match="row 9, column 'dpm': '1,234' is not a number"):
        AromataseAssay("50 nM", "40 nM").fit(table)


# -------------------------------------------------------------------------------------- binding
@settings(max_examples=6, deadline=None)
@given(ki=st.floats(0.05, 20.0), l_nM=st.floats(0.1, 5.0), kd_nM=st.floats(0.1, 2.0))
def test_binding_recovers_ki_with_one_site_model(ki, l_nM, kd_nM):
    table = binding_table({"imlunestrant": ki}, l_nM, kd_nM)
    fit = BindingAssay(f"{l_nM} nM", f"{kd_nM} nM", one_site=True).fit(table)
    row = fit.summary.loc["imlunestrant"]
    assert row["status"] == "converged"
    assert row["HillSlope"] == -1.0
    assert row["Ki"] == pytest.approx(ki, rel=1e-3)
    assert row["Bottom"] == pytest.approx(0.0, abs=1.0)  # NSB subtracted: nothing specific left


def test_binding_variable_slope_and_b0():
    fit = BindingAssay("1 nM", "0.26 nM").fit(binding_table({"imlunestrant": 0.64, "4-hydroxytamoxifen": 1.82}))
    assert fit.ki_["imlunestrant"] == pytest.approx(0.64, rel=1e-3)
    assert fit.ki_["4-hydroxytamoxifen"] == pytest.approx(1.82, rel=1e-3)
    assert fit.summary.loc["imlunestrant", "HillSlope"] == pytest.approx(-1.0, rel=1e-3)
    b0_expected = 8000.0 * 1.0 / (1.0 + 0.26)
    assert fit.b0_["imlunestrant"] == pytest.approx(b0_expected, rel=1e-4)
    assert fit.table_.loc[fit.table_["concentration"] == 0, "pct_of_B0"].mean() == pytest.approx(100.0)


def test_binding_fills_missing_nsb_with_the_compound_mean():
    table = binding_table({"imlunestrant": 0.64})
    table.loc[table.index[2:], "nonspecific"] = np.nan  # NSB measured in two tubes only
    fit = BindingAssay("1 nM", "0.26 nM").fit(table)
    assert (fit.table_["nonspecific"] == 400.0).all()
    assert fit.ki_["imlunestrant"] == pytest.approx(0.64, rel=1e-3)


def test_binding_without_nsb_is_an_error():
    table = binding_table({"imlunestrant": 0.64})
    table["nonspecific"] = np.nan
    with pytest.raises(InputError, match="'imlunestrant' has no non-specific binding value"):
        BindingAssay("1 nM", "0.26 nM").fit(table)


def test_binding_negative_concentration_rejected():
    table = binding_table({"imlunestrant": 0.64})
    table.loc[5, "concentration"] = -0.1
    with pytest.raises(InputError, match="row 7, column 'concentration': -0.1 is negative"):
        BindingAssay("1 nM", "0.26 nM").fit(table)


def test_plots_return_axes():
    fit = BindingAssay("1 nM", "0.26 nM").fit(binding_table({"imlunestrant": 0.64}))
    ax = fit.plot()
    assert ax.get_xscale() == "log" and "Ki" in ax.get_legend().get_texts()[0].get_text()


# -------------------------------------------------------------------------------------- CLI
def test_cli_aromatase_and_binding(tmp_path, capsys):
    from eralpha.cli import main

    path = tmp_path / "aromatase.csv"
    aromatase_table({"letrozole": 2.0}).to_csv(path, index=False)
    main(["fit", "aromatase", str(path), "--substrate", "50 nM", "--km", "40 nM", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert out["summary"][0]["Ki"] == pytest.approx(2.0, rel=1e-3)

    path = tmp_path / "binding.csv"
    binding_table({"imlunestrant": 0.64}).rename(columns={"total": "cpm_total"}).to_csv(path, index=False)
    main(["fit", "binding", str(path), "--radioligand", "1 nM", "--kd", "0.26 nM", "--one-site",
          "--column", "total=cpm_total", "--plot", str(tmp_path / "b.png")])
    text = capsys.readouterr().out
    assert "imlunestrant" in text and "0.64" in text
    assert (tmp_path / "b.png").exists()


def test_cli_missing_unit_exits_2(tmp_path, capsys):
    from eralpha.cli import main

    path = tmp_path / "aromatase.csv"
    aromatase_table({"letrozole": 2.0}).to_csv(path, index=False)
    with pytest.raises(SystemExit) as info:
        main(["fit", "aromatase", str(path), "--substrate", "50", "--km", "40 nM"])
    assert info.value.code == 2
    assert "field 'substrate'" in capsys.readouterr().err


# -------------------------------------------------------------------------------------- shipped examples
EXAMPLES = __import__("pathlib").Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_FILES = ["western_degradation.csv", "aromatase_inhibition.csv", "binding_competition.csv",
                 "plate_layout.csv", "plate_readout.csv", "plate_time_zero.csv"]


def test_example_tables_are_reproduced_by_their_generator(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_lab_examples", EXAMPLES / "make_lab_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_examples(tmp_path)
    for name in EXAMPLE_FILES:
        assert (tmp_path / name).read_text() == (EXAMPLES / "data" / name).read_text(), name


@pytest.mark.parametrize(
    "args",
    [
        ["western", "western_degradation.csv"],
        ["aromatase", "aromatase_inhibition.csv", "--substrate", "50 nM", "--km", "40 nM"],
        ["binding", "binding_competition.csv", "--radioligand", "1 nM", "--kd", "0.26 nM"],
        ["plate", "plate_layout.csv", "plate_readout.csv", "--time-zero", "plate_time_zero.csv"],
    ],
)
def test_every_shipped_example_runs_from_the_cli(args, capsys):
    from eralpha.cli import main

    data = EXAMPLES / "data"
    argv = ["fit", args[0]] + [str(data / a) if a.endswith(".csv") else a for a in args[1:]]
    main(argv + ["--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert all(row["status"] == "converged" for row in out["summary"])
