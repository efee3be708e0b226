"""Cell cycle, fates and escape pathways: each mechanism claim is checked by simulating it."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from eralpha.engine import Event, compile_model, simulate
from eralpha.knowledge import DATA_DIR, load_knowledge
from eralpha.model import assemble_cell_model
from eralpha.model._diagram import network_graph, to_mermaid

DRUGS = ("palbociclib", "abemaciclib", "alpelisib", "everolimus")


@pytest.fixture(scope="module")
def model():
    return assemble_cell_model(cell_line="MCF7", inhibitors=DRUGS)


@pytest.fixture(scope="module")
def run(model):
    """One batched run: vehicle, palbociclib 1 µM, abemaciclib 500 nM, alpelisib 1 µM, everolimus 20 nM, no E2."""
    cm = compile_model(model)
    arms = ["vehicle", "palbociclib", "abemaciclib", "alpelisib", "everolimus", "no E2"]
    conc = {d: np.array([0.0] * 6) for d in DRUGS}
    conc["palbociclib"][1], conc["abemaciclib"][2], conc["alpelisib"][3], conc["everolimus"][4] = 1000.0, 500.0, 1000.0, 20.0
    e2 = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    events = [Event(0.0, f"conc_{d}", conc[d]) for d in DRUGS] + [Event(0.0, "conc_E2", e2), Event(0.0, "cells", 1e5)]
    times = np.array([0.0, 6.0, 24.0, 72.0, 168.0, 504.0])
    res = simulate(cm, times, start=-300.0, parameters={"conc_E2": np.ones(6)}, events=events)
    return {a: i for i, a in enumerate(arms)}, res


def test_each_drug_inhibits_cdk4_and_cdk6_separately(model):
    names = model.parameter_index
    for drug in ("palbociclib", "abemaciclib"):
        assert f"IC50_{drug}_CDK4" in names and f"IC50_{drug}_CDK6" in names
    assert "IC50_abemaciclib_CDK2" in names and "IC50_palbociclib_CDK2" not in names  # abemaciclib's off-target CDK2
    kb = load_knowledge()
    assert model.parameter("IC50_palbociclib_CDK6").value == kb.compound("palbociclib").inhibition["CDK6"].value


def test_cdk46_inhibition_arrests_in_g1_and_redistributes_p27(run):
    arm, res = run
    v, p = arm["vehicle"], arm["palbociclib"]
    assert res["E2F_switch"][p, 3] < 0.8 * res["E2F_switch"][v, 3]
    out = lambda i: res["frac_arrested"][i, 3] + res["frac_senescent"][i, 3]  # noqa: E731  (out of the cycle)
    assert out(p) > 2 * out(v)  # arrested (and, with the fitted fast senescence, senescent) by day 3 ...
    assert res["net_growth_rate"][p, 3] < 0.3 * res["net_growth_rate"][v, 3]
    assert res["E2F_switch"][p, -1] > res["E2F_switch"][p, 3]  # ... and escaping by day 21 (cyclin E/CDK2)
    # CDK4/6 inhibitor releases p21/p27 from cyclin D–CDK4/6 onto CDK2: CDK2 falls at once (6 h)
    assert res["CDK2_activity"][p, 1] < res["CDK2_activity"][v, 1]


def test_prolonged_cdk46_inhibition_gives_senescence_and_cdk2_adaptation(run):
    arm, res = run
    p = arm["palbociclib"]
    assert res["frac_senescent"][p, -1] > res["frac_senescent"][p, 2]
    assert res["CDK2_adaptation"][p, -1] > res["CDK2_adaptation"][p, 3] > 0.0
    assert res["CDK2_adaptation"][arm["vehicle"], -1] == pytest.approx(0.0, abs=1e-9)


def test_oestradiol_drives_myc_and_cyclin_d(run):
    arm, res = run
    for sp in ("MYC", "CycD", "CycE"):
        assert res[sp][arm["no E2"], -1] < 0.7 * res[sp][arm["vehicle"], -1]


def test_mtorc1_inhibition_relieves_the_s6k_irs_feedback(run):
    arm, res = run
    v, e = arm["vehicle"], arm["everolimus"]
    assert res["S6K_activity"][e, -1] < 0.3 * res["S6K_activity"][v, -1]
    assert res["IRS"][e, -1] > 1.2 * res["IRS"][v, -1]  # IRS-1 recovers → PI3K/AKT rebound
    assert res["AKT_activity"][e, -1] > res["AKT_activity"][v, -1]


def test_pi3k_inhibition_raises_er_through_foxo(run):
    arm, res = run
    assert res["AKT_activity"][arm["alpelisib"], -1] < 0.5 * res["AKT_activity"][arm["vehicle"], -1]
    assert res["ER_total"][arm["alpelisib"], -1] > 1.05 * res["ER_total"][arm["vehicle"], -1]


def test_abemaciclib_kills_where_palbociclib_arrests(run):
    """Abemaciclib's CDK2 inhibition adds apoptosis: cell number falls below the palbociclib arm."""
    arm, res = run
    assert res["cells"][arm["abemaciclib"], -1] < res["cells"][arm["palbociclib"], -1]


def test_every_cell_biology_value_states_its_kind_and_source():
    files = ("cell_cycle.yaml", "fate.yaml", "signalling.yaml")
    kb = load_knowledge()
    for f in files:
        raw = yaml.safe_load((DATA_DIR / "parameters" / f).read_text())
        for name, body in raw.items():
            assert body.get("kind") in ("measured", "calibrated", "assumed"), name
            assert "DESIGN.md" not in body["source"], name
            assert kb.parameter(name).value == float(body["value"])  # read through the one loader
            if body["kind"] == "calibrated":
                assert "He W et al. 2025" in body["source"], name


def test_network_diagram_is_generated_from_the_declaration(model):
    nodes, edges = network_graph(model)
    assert ("CycD", "CDK46_activity") in edges and ("E2F_switch", "proliferation_rate") in edges
    assert ("S6K_activity", "IRS") in edges  # the feedback is drawn because the rate law uses it
    text = to_mermaid(model)
    assert text.startswith("flowchart LR") and "subgraph cell_cycle" in text


def test_pi3k_akt_mtor_inhibitors_act_on_their_own_nodes():
    m = assemble_cell_model(cell_line="MCF7", inhibitors=("alpelisib", "capivasertib", "everolimus"))
    formula = {e.name: e.formula for e in m.expressions}
    assert "IC50_alpelisib_PI3Ka" in formula["PI3K_activity"]
    assert "IC50_capivasertib_AKT1" in formula["AKT_activity"]
    assert "IC50_everolimus_mTORC1" in formula["mTORC1_activity"]


def test_cdk46_inhibitors_enter_the_dish_at_their_free_medium_concentration():
    """Kalvass & Maurer dilution of the human plasma fu to 10 % serum, for CDK4/6 inhibitors only; the dish
    assays (run_cell_conditions) hand the model that free level."""
    import pandas as pd

    from eralpha.experiments import run_cell_conditions
    from eralpha.model._medium import medium_unbound_fraction
    from eralpha.pk import pk_model

    d = load_knowledge().parameter("medium_serum_protein_ratio").value
    for drug in ("palbociclib", "abemaciclib"):
        fu = pk_model(drug, "human").fraction_unbound_plasma.value
        assert medium_unbound_fraction(drug) == pytest.approx(1 / (1 + d * (1 / fu - 1)))
        assert fu < medium_unbound_fraction(drug) < 1
    assert medium_unbound_fraction("fulvestrant") == 1.0 and medium_unbound_fraction("alpelisib") == 1.0
    cond = pd.DataFrame({"palbociclib": [0.0, 1000.0]})
    res = run_cell_conditions("MCF7", cond, [0.0, 24.0], oestradiol=1.0)
    dish = res["CDK46_activity"][:, -1]
    cm = compile_model(assemble_cell_model(cell_line="MCF7", inhibitors=("palbociclib",)))
    free = 1000.0 * medium_unbound_fraction("palbociclib")
    direct = simulate(cm, [0.0, 24.0], start=-300.0, parameters={"conc_E2": 1.0},
                      events=[Event(0.0, "conc_palbociclib", np.array([0.0, free]))])["CDK46_activity"][:, -1]
    assert dish == pytest.approx(direct, rel=1e-6)


def test_docs_embed_the_generated_network_and_parameter_kinds():
    """docs/model-and-engine.md holds exactly what `eralpha model diagram --format markdown` generates now."""
    from pathlib import Path

    from eralpha.model._diagram import DOC_END, DOC_START, DOCS_MODEL, docs_markdown, parameter_kinds

    m = assemble_cell_model(**DOCS_MODEL)
    doc = (Path(__file__).resolve().parents[1] / "docs" / "model-and-engine.md").read_text()
    a, b = doc.index(DOC_START), doc.index(DOC_END) + len(DOC_END)
    assert doc[a:b] == docs_markdown(m), "regenerate the block: eralpha model diagram --format markdown"
    kinds = parameter_kinds(m)
    assert kinds.loc["total", "total"] == len(m.parameters)
    assert set(kinds.columns) == {"measured", "calibrated", "assumed", "total"}
