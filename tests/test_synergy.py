"""Synergy scores (Bliss, HSA, Loewe, ZIP) against surfaces whose answer is known analytically."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from eralpha.analysis._synergy import (  # noqa: E402
    SynergyAnalysis,
    SynergyColumns,
    _RisingCurve,
    bliss_excess,
    bliss_expected,
    loewe_expected,
)
from eralpha.cli import main  # noqa: E402
from eralpha.errors import InputError, UnknownNameError  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "synergy_example.csv"
CONC1 = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
CONC2 = np.array([0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0])
EC50_1, EC50_2 = 1.0, 5.0


def hill(x, ec50, slope=1.0, top=100.0):
    """% inhibition of one agent: top x^h / (x^h + EC50^h)."""
    x = np.asarray(x, dtype=float)
    return top * x**slope / (x**slope + ec50**slope)


def long_table(surface, conc1=CONC1, conc2=CONC2, block="b1", drug1="A", drug2="B") -> pd.DataFrame:
    """SynergyFinder long table from a function surface(x1, x2) -> % inhibition."""
    x1, x2 = np.meshgrid(conc1, conc2, indexing="ij")
    return pd.DataFrame(
        {
            "block_id": block,
            "drug1": drug1,
            "drug2": drug2,
            "conc1": x1.ravel(),
            "conc2": x2.ravel(),
            "response": surface(x1, x2).ravel(),
        }
    )


def bliss_surface(x1, x2):
    return bliss_expected(hill(x1, EC50_1, 1.2), hill(x2, EC50_2, 0.8))


def potency_shift_surface(alpha):
    """Bliss combination of agents whose EC50 each drop (alpha > 0) or rise (alpha < 0) with the other drug."""

    def surface(x1, x2):
        shift1 = (1.0 + abs(alpha) * x2 / EC50_2) ** np.sign(alpha)
        shift2 = (1.0 + abs(alpha) * x1 / EC50_1) ** np.sign(alpha)
        return bliss_expected(hill(x1, EC50_1 / shift1, 1.2), hill(x2, EC50_2 / shift2, 0.8))

    return surface


def sham_surface(x1, x2):
    """A drug combined with itself (drug2 is drug1 in other units: 1 unit of drug2 = 1/5 unit of drug1)."""
    return hill(x1 + x2 / 5.0, EC50_1, 1.0)


# --------------------------------------------------------------------------- the plain functions


def test_bliss_excess_is_zero_for_independent_effects_and_signed_otherwise():
    assert bliss_excess(50.0, 50.0, 75.0) == pytest.approx(0.0)
    assert bliss_excess(50.0, 50.0, 90.0) == pytest.approx(15.0)
    assert bliss_excess(20.0, 30.0, 30.0) == pytest.approx(30.0 - 44.0)
    grid = bliss_excess(np.array([[10.0], [60.0]]), np.array([20.0, 80.0]), 100.0)
    assert grid.shape == (2, 2)
    assert grid == pytest.approx(100.0 - np.array([[28.0, 82.0], [68.0, 92.0]]))


def test_loewe_of_a_drug_with_itself_is_the_curve_at_the_summed_dose():
    curve = _RisingCurve(b=-1.3, c=2.0, d=95.0, e=0.7)  # drc LL.4 rising in % inhibition
    for x1, x2 in [(0.1, 0.2), (1.0, 3.0), (50.0, 0.01)]:
        total = x1 + x2
        direct = 2.0 + 93.0 / (1.0 + (total / 0.7) ** -1.3)
        assert loewe_expected(x1, x2, curve, curve) == pytest.approx(direct, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.3, 4.0),
    st.floats(0.3, 4.0),
    st.floats(20.0, 100.0),
    st.floats(20.0, 100.0),
    st.floats(1e-3, 1e3),
    st.floats(1e-3, 1e3),
)
def test_loewe_expectation_lies_between_the_highest_single_agent_and_the_highest_maximum(h1, h2, top1, top2, x1, x2):
    a = _RisingCurve(b=-h1, c=0.0, d=top1, e=1.0)
    b = _RisingCurve(b=-h2, c=0.0, d=top2, e=3.0)
    expected = loewe_expected(x1, x2, a, b)
    single = max(hill(x1, 1.0, h1, top1), hill(x2, 3.0, h2, top2))
    assert single - 1e-6 <= expected <= max(top1, top2) + 1e-9


def test_loewe_with_an_agent_beyond_its_maximum_uses_only_the_other_agent():
    weak = _RisingCurve(b=-1.0, c=0.0, d=40.0, e=1.0)  # never above 40 %
    strong = _RisingCurve(b=-1.0, c=0.0, d=100.0, e=1.0)
    # A huge dose of the weak drug saturates at 40 %; the strong drug alone gives 80 %.
    expected = loewe_expected(1e6, 4.0, weak, strong)
    assert expected == pytest.approx(80.0, abs=1e-3)
    assert np.isnan(loewe_expected(1.0, 1.0, _RisingCurve(1.0, 0.0, 50.0, 1.0), _RisingCurve(1.0, 0.0, 50.0, 1.0)))


# --------------------------------------------------------------------------- reference surfaces


def test_bliss_independent_data_give_zero_bliss_delta():
    fit = SynergyAnalysis("bliss", response="inhibition").fit(long_table(bliss_surface))
    assert np.abs(fit.delta_["delta"]).max() < 1e-9
    assert fit.scores_["b1"] == pytest.approx(0.0, abs=1e-9)


def test_bliss_independent_data_with_unchanged_potency_give_zero_zip_delta():
    # This surface is exactly ZIP's null model: row/column re-fits recover the single-agent potency.
    fit = SynergyAnalysis("zip", response="inhibition").fit(long_table(bliss_surface))
    assert np.abs(fit.delta_["delta"]).max() < 0.05
    assert fit.scores_["b1"] == pytest.approx(0.0, abs=0.01)


def test_sham_combination_gives_zero_loewe_delta():
    fit = SynergyAnalysis("loewe", response="inhibition").fit(long_table(sham_surface))
    assert np.abs(fit.delta_["delta"]).max() < 1e-3
    assert fit.summary.loc["b1", "notes"] == ""


def test_sham_combination_is_not_zip_neutral_and_zip_says_so_exactly():
    # ZIP's null is Bliss on the fitted curves, not Loewe: a drug with itself (Hill slope 1) scores
    # as antagonism. With slope 1 each row is exactly a 4PL from the other drug's effect to 100 %,
    # so the ZIP delta equals the analytic Bliss excess of the sham surface.
    zip_fit = SynergyAnalysis("zip", response="inhibition").fit(long_table(sham_surface))
    x1, x2 = np.meshgrid(CONC1[1:], CONC2[1:], indexing="ij")
    analytic = bliss_excess(hill(x1, EC50_1), hill(x2 / 5.0, EC50_1), sham_surface(x1, x2))
    assert zip_fit.block("b1").delta[1:, 1:] == pytest.approx(analytic, abs=0.05)
    assert zip_fit.scores_["b1"] < -1.0


@pytest.mark.parametrize("model", ["bliss", "hsa", "loewe", "zip"])
def test_synergistic_and_antagonistic_surfaces_have_positive_and_negative_scores(model):
    synergy = SynergyAnalysis(model, response="inhibition").fit(long_table(potency_shift_surface(2.0)))
    assert synergy.scores_["b1"] > 3.0

    def antagonism(x1, x2):  # the combination does worse than its better agent
        return 0.7 * np.maximum(hill(x1, EC50_1, 1.2), hill(x2, EC50_2, 0.8))

    table = long_table(antagonism)
    single = (table["conc1"] == 0) | (table["conc2"] == 0)  # keep single agents on their curves
    table.loc[single, "response"] = long_table(bliss_surface).loc[single, "response"]
    assert SynergyAnalysis(model, response="inhibition").fit(table).scores_["b1"] < -3.0


def test_hsa_delta_is_combination_minus_better_single_agent():
    fit = SynergyAnalysis("hsa", response="inhibition").fit(long_table(bliss_surface))
    m = fit.block().matrix
    expected = np.maximum(m.drug1_alone[1:, None], m.drug2_alone[None, 1:])
    assert fit.block().delta[1:, 1:] == pytest.approx(m.inhibition[1:, 1:] - expected)
    assert fit.block().delta[0] == pytest.approx(0.0) and fit.block().delta[:, 0] == pytest.approx(0.0)


@pytest.mark.parametrize("model", ["bliss", "loewe", "zip"])
def test_viability_and_inhibition_give_the_same_result(model):
    inhibition = long_table(potency_shift_surface(1.0))
    viability = inhibition.assign(response=100.0 - inhibition["response"])
    a = SynergyAnalysis(model, response="inhibition").fit(inhibition)
    b = SynergyAnalysis(model, response="viability").fit(viability)
    assert a.delta_["delta"].to_numpy() == pytest.approx(b.delta_["delta"].to_numpy(), abs=1e-6)
    assert a.scores_["b1"] == pytest.approx(b.scores_["b1"], abs=1e-6)


def test_several_blocks_replicates_and_renamed_columns():
    one = long_table(bliss_surface, block="p1")
    two = long_table(potency_shift_surface(2.0), block="p2", drug1="C", drug2="D")
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 2.0, len(one))
    replicated = pd.concat([one, one.assign(response=one["response"] + noise), one.assign(response=one["response"] - noise)])
    table = pd.concat([replicated, two]).rename(columns={"response": "viab", "block_id": "plate"})
    table["viab"] = 100.0 - table["viab"]
    columns = SynergyColumns(block_id="plate", response="viab")
    fit = SynergyAnalysis("bliss", response="viability", columns=columns).fit(table)
    assert list(fit.scores_.index) == ["p1", "p2"]
    assert fit.scores_["p1"] == pytest.approx(0.0, abs=1e-9)  # +noise and -noise average out
    assert fit.scores_["p2"] > 3.0
    assert fit.summary.loc["p1", "replicates"] == 3
    assert fit.summary.loc["p2", ["drug1", "drug2"]].tolist() == ["C", "D"]


def test_missing_responses_are_dropped_and_reported():
    table = long_table(bliss_surface)
    table = pd.concat([table, table.iloc[[10]].assign(response=np.nan)])
    fit = SynergyAnalysis("bliss", response="inhibition").fit(table)
    assert "1 row(s) dropped" in fit.dropped_
    assert fit.scores_["b1"] == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- bad input


def test_misspelt_column_is_named_with_a_suggestion(tmp_path):
    path = tmp_path / "plate.csv"
    long_table(bliss_surface).rename(columns={"conc2": "conc_2"}).to_csv(path, index=False)
    with pytest.raises(UnknownNameError, match=r"unknown column 'conc2' — did you mean 'conc_2'") as err:
        SynergyAnalysis("bliss", response="inhibition").fit(path)
    assert str(path) in str(err.value)


def test_text_cell_names_file_row_and_column(tmp_path):
    table = long_table(bliss_surface)
    table["response"] = table["response"].astype(object)
    table.loc[4, "response"] = "n/a?"
    path = tmp_path / "plate.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"plate.csv.*row 6, column 'response': 'n/a\?' is not a number"):
        SynergyAnalysis("bliss", response="inhibition").fit(path)


def test_negative_concentration_is_rejected():
    table = long_table(bliss_surface)
    table.loc[3, "conc2"] = -1.0
    with pytest.raises(InputError, match=r"row 5, column 'conc2': -1 is negative.*valid: values >= 0"):
        SynergyAnalysis("bliss", response="inhibition").fit(table)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t[t["conc2"] > 0], r"no wells with B at concentration 0, so A alone is unknown"),
        (lambda t: t.drop(index=9), r"no response for A 0.1 with B 1\b"),
        (lambda t: t.assign(drug2=np.where(t.index % 2 == 0, "B", "C")), r"names 2 different drugs in column 'drug2'"),
        (lambda t: t.assign(response=t["response"] / 100.0), r"looks like a fraction"),
        (lambda t: t.assign(drug1=t["drug1"].where(t.index != 2, "")), r"row 4, column 'drug1' is empty"),
    ],
)
def test_malformed_matrices_get_clear_errors(edit, message):
    with pytest.raises(InputError, match=message):
        SynergyAnalysis("bliss", response="inhibition").fit(edit(long_table(bliss_surface)))


def test_unknown_model_and_response_kind_are_suggested():
    with pytest.raises(UnknownNameError, match="did you mean 'bliss'"):
        SynergyAnalysis("blis", response="inhibition")
    with pytest.raises(UnknownNameError, match="did you mean 'viability'"):
        SynergyAnalysis("bliss", response="viabilty")
    with pytest.raises(TypeError):
        SynergyAnalysis("bliss")  # the response kind is never guessed


def test_results_before_fit_raise():
    with pytest.raises(Exception, match="not fitted"):
        SynergyAnalysis("bliss", response="inhibition").summary


# --------------------------------------------------------------------------- plots


def test_heatmap_is_annotated_and_surface_needs_3d_axes():
    fit = SynergyAnalysis("bliss", response="inhibition").fit(long_table(potency_shift_surface(2.0)))
    ax = fit.plot()
    assert len(ax.texts) == len(CONC1) * len(CONC2)
    assert "BLISS synergy score" in ax.get_title()
    surface = fit.plot(kind="surface")
    assert surface.name == "3d"
    fig, flat = plt.subplots()
    with pytest.raises(InputError, match="3-D axes"):
        fit.plot(ax=flat, kind="surface")
    with pytest.raises(UnknownNameError, match="did you mean 'heatmap'"):
        fit.plot(kind="heatmp")
    plt.close("all")


# --------------------------------------------------------------------------- command line


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_cli_json_and_plot(tmp_path, capsys):
    path = tmp_path / "plate.csv"
    table = long_table(potency_shift_surface(2.0))
    table.assign(response=100.0 - table["response"]).to_csv(path, index=False)
    png = tmp_path / "heat.png"
    code, out, _ = _cli(["fit", "synergy", str(path), "--model", "loewe", "--response", "viability", "--format", "json", "--plot", str(png)], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["model"] == "loewe"
    expected = SynergyAnalysis("loewe", response="inhibition").fit(long_table(potency_shift_surface(2.0))).scores_["b1"]
    assert report["blocks"][0]["synergy_score"] == pytest.approx(expected, abs=1e-9)
    assert len(report["blocks"][0]["delta"]) == len(CONC1)
    assert png.stat().st_size > 1000


def test_cli_table_output(tmp_path, capsys):
    path = tmp_path / "plate.csv"
    long_table(bliss_surface).to_csv(path, index=False)
    code, out, _ = _cli(["fit", "synergy", str(path), "--response", "inhibition"], capsys)
    assert code == 0
    assert "BLISS synergy" in out and "block b1: delta, rows A, columns B" in out


def test_cli_requires_the_response_kind_and_reports_bad_input_without_traceback(tmp_path, capsys):
    path = tmp_path / "plate.csv"
    long_table(bliss_surface).to_csv(path, index=False)
    code, _, err = _cli(["fit", "synergy", str(path)], capsys)
    assert code == 2
    assert "--response viability or --response inhibition" in err
    code, _, err = _cli(["fit", "synergy", str(tmp_path / "missing.csv"), "--response", "viability"], capsys)
    assert code == 2 and "file not found" in err and "Traceback" not in err
    code, _, err = _cli(["fit", "synergy", str(path), "--response", "inhibition", "--model", "loew"], capsys)
    assert code == 2 and "did you mean 'loewe'" in err


# --------------------------------------------------------------------------- shipped example


def test_shipped_example_scores_every_block_with_every_model():
    for model in ("bliss", "hsa", "loewe", "zip"):
        fit = SynergyAnalysis(model, response="viability").fit(EXAMPLE)
        assert fit.scores_.notna().all(), fit.summary["notes"].tolist()
        assert fit.scores_["serd_cdk46i"] > 3.0  # the simulated vertical blockade is synergistic
        if model == "loewe":
            assert abs(fit.scores_["serd_serd"]) < 2.0  # the same-target pair is Loewe-additive


def test_example_script_regenerates_the_shipped_csv(tmp_path):
    spec = importlib.util.spec_from_file_location("make_synergy_example", EXAMPLE.parents[1] / "make_synergy_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.main(data_dir=tmp_path, img_dir=None)
    pd.testing.assert_frame_equal(pd.read_csv(path), pd.read_csv(EXAMPLE))
