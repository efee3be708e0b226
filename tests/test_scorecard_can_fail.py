"""Every scorecard row can fail, says why its tolerance is as wide as it is, and cites a findable source.

Two levels, both honest and cheap: (1) each row's pass rule, rebuilt from its printed target and
tolerance, reproduces ``passed`` and rejects a value beyond the tolerance; (2) each in-vitro
expectation names the knowledge-base value it rests on (``falsified_by``), and re-running the
scenario with that change makes the row fail (a sample here; all of them under ``-m slow``).
"""

from __future__ import annotations

import pytest

from eralpha.experiments._xenograft import PASS_FRACTION, shipped_xenograft_scenarios
from eralpha.knowledge import load_knowledge
from eralpha.knowledge._loader import value_at
from eralpha.scenario import SCENARIO_MODELS, load_scenario, read_yaml, shipped_scenarios
from eralpha.scenario._xenograft_schema import load_xenograft_scenario
from eralpha.validate._can_fail import falsify, outside_value, row_check
from eralpha.validate._scorecard import run_scenario_path

IN_VITRO = [p for p in shipped_scenarios() if read_yaml(p).get("kind") in SCENARIO_MODELS]


def _expectations():
    for p in IN_VITRO:
        s = load_scenario(p)
        for e in s.expect:
            yield p, s, e


def test_no_source_cites_the_design_guide():
    from eralpha.model import assemble_cell_model
    from eralpha.model._tumour import assemble_tumour_model

    sources = list(load_knowledge().values().source)
    for _, s, e in _expectations():
        sources += [s.source, e.source]
    for p in shipped_xenograft_scenarios():
        x = load_xenograft_scenario(p)
        sources += [x.source, *(c.source for c in x.claims)]
    for m in (assemble_cell_model(cell_line="MCF-7Ca", ligands=("lasofoxifene",), inhibitors=("letrozole", "palbociclib")),
              assemble_tumour_model(cell_line="MCF-7Ca", compounds=("letrozole",), adaptation=True)):
        sources += [p.provenance.source for p in m.parameters]
    offenders = [s for s in sources if "DESIGN.md" in s or "design guide" in s.lower()]
    assert not offenders, offenders[:5]


def test_every_expectation_says_why_and_names_a_value_it_rests_on():
    kb = load_knowledge()
    for p, _, e in _expectations():
        assert len(e.why) > 10, f"{p.name}: {e.id} does not say why its tolerance is as wide as it is"
        assert e.falsified_by is not None, f"{p.name}: {e.id} names no value it rests on (falsified_by)"
        for key in (e.falsified_by.parameter, *e.falsified_by.also):
            value_at(kb, key)  # resolves, or raises naming the key


def test_every_expectation_target_rejects_a_value_beyond_its_tolerance():
    for _, _, e in _expectations():
        target, tolerance = e.target.describe()
        row = {"id": e.id, "target": target, "tolerance": tolerance, "simulated": None}
        rule = row_check(row)
        bad = outside_value(row)
        assert not rule(bad) and not e.target.check(bad), (e.id, target, bad)


def test_generated_rows_rules_reproduce_passed_and_can_fail():
    """Rows made by the assays themselves (binding Ki, aromatase IC50 and ratios) and the tissue readout."""
    rows = []
    for name in ("invitro_binding_er_ligands", "invitro_aromatase_inhibition", "invitro_tissue_selectivity_serms"):
        (path,) = [p for p in IN_VITRO if p.stem == name]
        rows += run_scenario_path(path)[1].scorecard
    assert len(rows) > 40
    for row in rows:
        rule = row_check(row)
        assert rule(row["simulated"]) == row["passed"], row["id"]
        assert not rule(outside_value(row)), row["id"]
        assert " — " in row["tolerance"], f"{row['id']}: the tolerance does not say why it is as wide as it is"
    ids = {r["id"] for r in rows}
    assert "binding.imlunestrant.ERb.ki" in ids  # seed 001's ERβ Ki has its row
    placental = next(r for r in rows if r["id"] == "aromatase.ratio.human_placental_microsomes")
    assert placental["target"] == "[2, 4]"  # the seed's '~2-4x', not the [0.73, 11.5] spread of two ranges


def test_a_xenograft_claim_row_can_fail():
    row = {"id": "x", "target": f">= {PASS_FRACTION:.0%} of replicate studies significant", "tolerance": "p", "simulated": 0.9}
    rule = row_check(row)
    assert rule(0.9) and rule(PASS_FRACTION) and not rule(outside_value(row))


def test_xenograft_claims_that_rest_on_a_calibrated_value_are_calibration():
    """A row whose drug's exposure rests on a value tuned to another row is itself calibration."""
    kb = load_knowledge()
    calibrated = {name.removeprefix("fu_mouse_") for name, p in kb.parameters.items()
                  if name.startswith("fu_mouse_") and p.kind == "calibrated"}
    assert {"lasofoxifene", "imlunestrant"} <= calibrated
    seen = 0
    for p in shipped_xenograft_scenarios():
        s = load_xenograft_scenario(p)
        drugs = {a.name: {d.compound for d in a.drugs} for a in s.arms}
        for c in s.claims:
            if (drugs[c.arm] | drugs.get(c.than, set())) & calibrated:
                seen += 1
                assert c.kind == "calibration", f"{p.name}: {c.id} rests on a calibrated mouse free fraction"
            if c.falsified_by is not None:
                value_at(kb, c.falsified_by.parameter)
    assert seen >= 10


FAST_SAMPLE = [
    ("invitro_transcription_esr1", "transcription.Y537S.constitutive"),
    ("invitro_tissue_selectivity_serms", "tissue.lasofoxifene.bone_agonist"),
    ("invitro_hormone_dependence", "hormone.Y537S.grows_without_E2"),
    ("invitro_western_imlunestrant", "western.lasofoxifene.MCF7.stabilises"),
]


def _falsified(stem: str, eid: str) -> dict:
    (path,) = [p for p in IN_VITRO if p.stem == stem]
    return falsify(load_scenario(path), eid)


@pytest.mark.parametrize("stem, eid", FAST_SAMPLE)
def test_changing_the_value_a_row_rests_on_makes_it_fail(stem, eid):
    row = _falsified(stem, eid)
    assert not row["passed"], f"{eid} still passes with its falsified_by change (simulated {row['simulated']})"


@pytest.mark.slow
@pytest.mark.parametrize("stem, eid", [(p.stem, e.id) for p, _, e in _expectations() if (p.stem, e.id) not in FAST_SAMPLE])
def test_every_in_vitro_row_fails_when_its_value_changes(stem, eid):
    assert not _falsified(stem, eid)["passed"]
