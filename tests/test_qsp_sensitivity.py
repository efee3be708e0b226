"""Global sensitivity: SALib through eralpha's path reproduces analytic Sobol indices; the cell-model output works."""

import numpy as np
import pytest

from eralpha.errors import InputError
from eralpha.qsp import ModelSpec, SensitivityAnalysis
from eralpha.qsp._sensitivity import ISHIGAMI_INDICES, CellModelOutput, ishigami

BOX = [{"name": n, "lower": -np.pi, "upper": np.pi, "scale": "linear"} for n in ("x1", "x2", "x3")]


def test_sobol_on_ishigami_matches_the_analytic_indices_to_two_decimals():
    sa = SensitivityAnalysis(BOX, ishigami, method="sobol", samples=2 ** 13, seed=3).fit()
    got = sa.indices_[["S1", "ST"]]
    assert np.abs(got - ISHIGAMI_INDICES).to_numpy().max() < 0.005  # i.e. equal when rounded to 2 decimals
    assert sa.n_evaluations_ == 2 ** 13 * (3 + 2)


def test_efast_first_order_on_ishigami_and_morris_ranks_x3_last_alone():
    fast = SensitivityAnalysis(BOX, ishigami, method="fast", samples=2000, seed=3).fit()
    assert np.abs(fast.indices_["S1"] - ISHIGAMI_INDICES["S1"]).max() < 0.01
    morris = SensitivityAnalysis(BOX, ishigami, method="morris", samples=50, seed=3).fit()
    assert set(morris.indices_.columns) >= {"mu_star", "sigma"}


def test_cell_model_output_is_batched_and_ranks_an_inert_parameter_last():
    model = ModelSpec(experiments=[{"id": "palbo", "oestradiol": 10, "drugs": {"palbociclib": 500}, "seeding": 40000}],
                      model_parameters={"capacity": 1.2e7})
    params = [{"name": "palbociclib.inhibition.CDK4", "lower": 3.7, "upper": 33},
              {"name": "coactivator", "lower": 10, "upper": 90}]
    from eralpha.qsp._sensitivity import SensitivityParameter

    ps = [SensitivityParameter(**p) for p in params]
    out = CellModelOutput(model, ps, "palbo", "fold_change", 21 * 24)
    sa = SensitivityAnalysis(ps, out, method="morris", samples=6, seed=1, transform="log10").fit()
    mu = sa.indices_["mu_star"]
    assert mu["palbociclib.inhibition.CDK4"] > 20 * mu["coactivator"]
    t = sa.tornado()
    assert t["parameter"].iloc[0] == "palbociclib.inhibition.CDK4"
    # weaker palbociclib (higher IC50) leaves more cells
    assert t["output_at_upper"].iloc[0] > t["baseline_output"].iloc[0] > t["output_at_lower"].iloc[0]


def test_bad_method_and_log_scale_with_nonpositive_bound():
    with pytest.raises(InputError, match="unknown sensitivity method 'sobel'"):
        SensitivityAnalysis(BOX, ishigami, method="sobel")
    with pytest.raises(Exception, match="log-scale parameter needs positive bounds"):
        SensitivityAnalysis([{"name": "x1", "lower": -1, "upper": 1}], ishigami)


def test_cli_calibrate_and_sensitivity_write_run_folders(tmp_path, capsys):
    import json

    from eralpha.cli import main

    main(["calibrate", "mcf7-growth", "--runs-dir", str(tmp_path), "--starts", "2", "--no-profile"])
    spec = tmp_path / "sens.yaml"
    spec.write_text("""name: tiny
model: {experiments: [{id: p, oestradiol: 10, drugs: {palbociclib: 500}, seeding: 40000}]}
parameters: [{name: palbociclib.inhibition.CDK4, lower: 3, upper: 30}, {name: coactivator, lower: 10, upper: 90}]
output: {experiment: p, time: 7, time_unit: day, transform: log10}
method: morris
samples: 4
seed: 2
""")
    main(["sensitivity", str(spec), "--runs-dir", str(tmp_path)])
    runs = sorted(p for p in tmp_path.iterdir() if p.is_dir() and not p.name.startswith("."))
    kinds = sorted(json.loads((r / "manifest.json").read_text())["kind"] for r in runs)
    assert kinds == ["calibration", "sensitivity"]
    cal = next(r for r in runs if "mcf7-growth" in r.name)
    assert (cal / "tables" / "estimates.parquet").exists() and (cal / "figures" / "fit.png").exists()
    out = capsys.readouterr().out
    assert "mu_max" in out and "mu_star" in out
