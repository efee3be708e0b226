"""Scenario files: every shipped one parses; bad ones fail before anything runs, with a clear message."""

import pytest
import yaml

from eralpha.errors import InputError, UnknownNameError
from eralpha.scenario import SCENARIO_MODELS, load_scenario, parse_scenario, read_yaml, shipped_scenarios

GOOD = {
    "kind": "proliferation",
    "name": "t",
    "cell_lines": ["MCF7"],
    "compounds": ["imlunestrant"],
    "concentrations": ["1 nM", "10 nM"],
}


def test_every_shipped_in_vitro_scenario_parses():
    paths = [p for p in shipped_scenarios() if read_yaml(p).get("kind") in SCENARIO_MODELS]
    assert len(paths) >= 8
    for p in paths:
        load_scenario(p)


@pytest.mark.parametrize(
    "change, error, text",
    [
        ({"compounds": ["fulvestrent"]}, UnknownNameError, "did you mean 'fulvestrant'"),
        ({"cell_lines": ["MCF-8"]}, UnknownNameError, "compounds|cell_lines"),
        ({"concentrations": ["-1 nM"]}, InputError, "negative"),
        ({"concentrations": [1, 10]}, InputError, "no unit"),
        ({"concentrations": ["10 mg"]}, InputError, "wrong dimension"),
        ({"noise_cv": 1.5}, InputError, "noise_cv"),
        ({"replicates": 0}, InputError, "replicates"),
        ({"concentrationz": ["1 nM"]}, UnknownNameError, "did you mean 'concentrations'"),
        ({"kind": "proliferaton"}, UnknownNameError, "did you mean 'proliferation'"),
        ({"duration": "-5 h"}, InputError, "negative"),
        ({"combination_partner_levels": [20]}, InputError, "combination_partner"),
        ({"combination_partner": "abemaciclib", "combination_partner_levels": [20]}, InputError,
         "combination_partner_concentrations"),
        ({"combination_partner": "abemaciclib", "combination_partner_concentrations": ["1 nM", "10 nM", "100 nM", "1000 nM"],
          "combination_partner_levels": [100]}, InputError, "combination_partner_levels"),
    ],
)
def test_bad_scenarios_are_rejected_with_the_field(change, error, text):
    with pytest.raises(error, match=text):
        parse_scenario({**GOOD, **change}, file="bad.yaml")


def test_error_names_file_and_field_path():
    with pytest.raises(InputError) as err:
        parse_scenario({**GOOD, "concentrations": ["1 nM", "oops"]}, file="plate7.yaml")
    msg = str(err.value)
    assert "plate7.yaml" in msg and "concentrations" in msg and "oops" in msg


def test_yaml_syntax_error_gives_line(tmp_path):
    p = tmp_path / "broken.yaml"
    p.write_text("kind: binding\nname: [unclosed\n")
    with pytest.raises(InputError, match="line"):
        load_scenario(p)


def test_expectation_targets_need_one_form():
    bad = {**GOOD, "expect": [{"id": "x", "quantity": "q", "metric": "ic50_nM", "target": {"value": 1.0}, "source": "seed", "kind": "prediction"}]}
    with pytest.raises(InputError, match="rel_tol"):
        parse_scenario(bad)


def test_round_trip_of_a_scenario_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(GOOD))
    s = load_scenario(p)
    assert s.concentrations == [1.0, 10.0]


def test_a_shipped_scenario_is_found_by_its_bare_name_and_a_typo_gets_suggestions():
    from eralpha.errors import UnknownNameError
    from eralpha.scenario import load_scenario
    from eralpha.scenario._load import SHIPPED_DIR, resolve_scenario

    assert resolve_scenario("trial_elaine1") == SHIPPED_DIR / "trial_elaine1.yaml"
    assert load_scenario("invitro_hormone_dependence").name == load_scenario(SHIPPED_DIR / "invitro_hormone_dependence.yaml").name
    with pytest.raises(UnknownNameError, match="did you mean 'trial_elaine1'"):
        resolve_scenario("trial_elain1")


def test_a_partner_dosed_at_its_own_icx_sits_there_on_its_own_curve():
    """combination_partner_levels: the partner is combined at the ICx read from its own curve in the same cell line."""
    from eralpha.experiments import run_experiment

    s = parse_scenario({**GOOD, "concentrations": ["0.3 nM", "1 nM"], "combination_partner": "abemaciclib",
                        "combination_partner_concentrations": {"values": [3, 10, 30, 100, 300, 1000], "unit": "nM"},
                        "combination_partner_levels": [30], "noise_cv": 0.0, "replicates": 1}, file="t.yaml")
    m = run_experiment(s).metrics
    (ic30,) = m[(m.metric == "partner_level_nM") & (m.partner_level == "IC30")]["value"]
    assert 3 < ic30 < 1000
    alone = m[(m.metric == "viability_percent") & (m.compound == "imlunestrant") & (m.partner_level == "IC30")
              & (m.concentration == 0.0)]["value"]
    assert float(alone.iloc[0]) == pytest.approx(70.0, abs=5.0)  # the partner alone at its IC30, on the combination plate
    adv = m[(m.metric == "combination_advantage_pp") & (m.partner_level == "IC30")]
    assert len(adv) == 2 and adv["partner_concentration"].eq(ic30).all()
