"""SBML export: valid L3V2, provenance kept, and libRoadRunner reproduces the engine's observables.

The round trip compares eralpha's compiled Rodas5 engine with libRoadRunner (CVODE) on the exported
file, both at tight tolerances, at output times that are never event times. A deliberately perturbed
roadrunner run must *disagree* — so the comparison can fail.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

libsbml = pytest.importorskip("libsbml")

from eralpha.cli import main  # noqa: E402
from eralpha.engine import Event, SolverOptions, simulate  # noqa: E402
from eralpha.errors import InputError, UnknownNameError  # noqa: E402
from eralpha.model import assemble_cell_model  # noqa: E402
from eralpha.model._sbml import read_provenance, to_sbml, to_sbml_document, write_sbml  # noqa: E402

TIGHT = SolverOptions(rtol=1e-10, atol=1e-12)
TIMES = np.array([0.0, 3.0, 12.5, 30.0, 60.0, 100.0, 168.5])  # no output at an event time
MAX_REL = 1e-6


@pytest.fixture(scope="module")
def model():
    return assemble_cell_model(cell_line="MCF7", ligands=("imlunestrant",), inhibitors=("abemaciclib",))


_DOCS: list = []  # libsbml frees a model with its document: keep the documents alive


def _model_of(xml: str):
    doc = libsbml.readSBMLFromString(xml)
    _DOCS.append(doc)
    return doc.getModel()


def _errors(doc) -> list[str]:
    doc.checkConsistency()
    return [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
            if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]


# --- structure and validity ---------------------------------------------------------------------
def test_export_is_valid_sbml_l3v2_with_every_element(model):
    events = [Event(24.0, "conc_imlunestrant", 10.0), Event(48.0, "cells", 0.5, "multiply")]
    xml = to_sbml(model, events=events)
    doc = libsbml.readSBMLFromString(xml)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert _errors(doc) == []
    m = doc.getModel()
    assert m.getNumCompartments() == 1 and m.getCompartment(0).getSize() == 1.0
    assert m.getNumSpecies() == len(model.species)
    assert m.getNumReactions() == len(model.reactions)
    assert m.getNumRules() == len(model.expressions)
    assert m.getNumParameters() == len(model.parameters) + len(model.expressions)
    assert m.getNumEvents() == 2
    for s in model.species:
        sp = m.getSpecies(s.name)
        assert sp.getInitialConcentration() == pytest.approx(s.initial, rel=1e-14) and not sp.getHasOnlySubstanceUnits()
    for p in model.parameters:
        par = m.getParameter(p.name)
        assert par.getValue() == pytest.approx(p.value, rel=1e-14)  # libsbml writes 15 significant digits
        assert par.getConstant() == (p.name != "conc_imlunestrant"), p.name  # only the event target varies
    for e in model.expressions:
        assert not m.getParameter(e.name).getConstant() and m.getAssignmentRule(e.name) is not None
    assert m.getTimeUnits() and m.getUnitDefinition(m.getTimeUnits()).getUnit(0).getMultiplier() == 3600


def test_log_is_natural_and_every_rate_survives_the_formula_round_trip(model):
    """Each kinetic law, printed back by libsbml and re-parsed, is the model's own rate law."""
    from eralpha.model._symbolic import parse_formula

    m = _model_of(to_sbml(model))
    for r in model.reactions:
        back = libsbml.formulaToL3String(m.getReaction(r.name).getKineticLaw().getMath())
        assert (parse_formula(back) - parse_formula(r.rate)).simplify() == 0, r.name
    from eralpha.model import Expression, Model, Parameter, Species, assumed
    from eralpha.model._motifs import degrade

    tiny = Model("tiny", (Species("X", 1.0),), (Parameter("k", 2.0, "1/h", assumed("test")),),
                 (Expression("lx", "log(X)"),)) + degrade("X", "k")
    rule = _model_of(to_sbml(tiny)).getAssignmentRule("lx")
    assert libsbml.formulaToL3String(rule.getMath()) == "ln(X)"


def test_provenance_of_every_parameter_is_kept(model):
    xml = to_sbml(model)
    prov = read_provenance(xml)
    assert prov == {p.name: p.provenance for p in model.parameters}
    assert {p.kind for p in prov.values()} >= {"measured", "assumed", "calibrated"}
    note = _model_of(xml).getParameter("kdeg_CycD").getNotesString()
    assert "measured" in note and "Diehl" in note


def test_parameter_overrides_are_written(model):
    m = _model_of(to_sbml(model, parameters={"conc_E2": 0.25}))
    assert m.getParameter("conc_E2").getValue() == 0.25
    with pytest.raises(UnknownNameError):
        to_sbml(model, parameters={"conc_E3": 1.0})


def test_bad_events_are_clear_errors(model):
    with pytest.raises(UnknownNameError, match="event target"):
        to_sbml(model, events=[Event(1.0, "conc_nothing", 1.0)])
    with pytest.raises(InputError, match="one value per batch member"):
        to_sbml(model, events=[Event(1.0, "conc_imlunestrant", [1.0, 2.0])])
    with pytest.raises(InputError, match="only be set"):
        to_sbml(model, events=[Event(1.0, "conc_imlunestrant", 1.0, "add")])
    # a batch array whose members agree is one value
    doc = to_sbml_document(model, events=[Event(1.0, "cells", [2.0, 2.0], "multiply")])
    assert doc.getModel().getNumEvents() == 1


# --- round trip against libRoadRunner -----------------------------------------------------------
def _roadrunner(xml: str):
    roadrunner = pytest.importorskip("roadrunner")
    r = roadrunner.RoadRunner(xml)
    r.integrator.relative_tolerance = TIGHT.rtol
    r.integrator.absolute_tolerance = TIGHT.atol
    r.integrator.maximum_num_steps = 100_000
    return r


def _rr_simulated(xml: str, observables: list[str], times) -> np.ndarray:
    out = np.asarray(_roadrunner(xml).simulate(times=times, selections=["time", *observables]))
    assert np.allclose(out[:, 0], times)
    return out[:, 1:]


def _rr_isolated(xml: str, model, times=TIMES) -> np.ndarray:
    """libRoadRunner's observables in a fresh process (tests/_isolated.py says why)."""
    from _isolated import run_isolated

    return run_isolated(_rr_simulated, xml, list(model.observables), np.asarray(times))


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-9)))


def _round_trip(model, members: list[dict[str, float]], events=()) -> list[float]:
    """Max relative difference per member: one batched engine run vs one roadrunner file per member."""
    names = list(members[0])
    res = simulate(model, TIMES, parameters={n: [mb[n] for mb in members] for n in names}, events=events,
                   start=0.0, options=TIGHT)
    return [_max_rel(_rr_isolated(to_sbml(model, events=events, parameters=mb), model),
                     res.observables[b]) for b, mb in enumerate(members)]


def test_roadrunner_matches_engine_oestradiol_and_imlunestrant(model):
    members = [{"conc_E2": e2, "conc_imlunestrant": c} for e2, c in
               [(0.0, 0.0), (0.1, 0.0), (0.1, 0.1), (0.1, 1.0), (0.1, 100.0), (1.0, 1000.0)]]
    diffs = _round_trip(model, members)
    assert max(diffs) <= MAX_REL, diffs


def test_roadrunner_matches_engine_cdk46_inhibitor_with_addition_and_washout(model):
    """Abemaciclib (with imlunestrant) added at 24 h, imlunestrant washed out at 96 h, cells passaged 1:2 at 48 h."""
    events = [Event(24.0, "conc_abemaciclib", 300.0), Event(24.0, "conc_imlunestrant", 5.0),
              Event(48.0, "cells", 0.5, "multiply"), Event(96.0, "conc_imlunestrant", 0.0)]
    members = [{"conc_E2": 0.1, "conc_abemaciclib": 0.0}, {"conc_E2": 1.0, "conc_abemaciclib": 30.0}]
    diffs = _round_trip(model, members, events)
    assert max(diffs) <= MAX_REL, diffs


def test_event_at_start_fires_in_both(model):
    events = [Event(0.0, "conc_imlunestrant", 10.0), Event(0.0, "cells", 1000.0, "add")]
    diffs = _round_trip(model, [{"conc_E2": 0.1}], events)
    assert max(diffs) <= MAX_REL, diffs


def test_comparison_can_fail(model):
    """A 2 % change in one parameter on the roadrunner side is detected (the check is not vacuous)."""
    res = simulate(model, TIMES, parameters={"conc_E2": 0.1}, options=TIGHT)
    rr = _rr_isolated(to_sbml(model, parameters={"conc_E2": 0.1, "mu_max": 0.035 * 1.02}), model)
    assert _max_rel(rr, res.observables[0]) > 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("cell_line", ["MCF7-Y537S", "MCF7-D538G"])
def test_roadrunner_matches_engine_mutant_lines(cell_line):
    model = assemble_cell_model(cell_line=cell_line, ligands=("lasofoxifene",))
    members = [{"conc_E2": 0.1, "conc_lasofoxifene": c} for c in (0.0, 1.0, 100.0)]
    assert max(_round_trip(model, members)) <= MAX_REL


# --- files and the CLI --------------------------------------------------------------------------
def test_write_sbml_is_atomic_and_readable(model, tmp_path):
    path = write_sbml(model, tmp_path / "m.xml")
    assert sorted(os.listdir(tmp_path)) == ["m.xml"]  # no temporary file left behind
    doc = libsbml.readSBMLFromFile(str(path))
    assert _errors(doc) == []
    with pytest.raises(InputError, match="does not exist"):
        write_sbml(model, tmp_path / "missing" / "m.xml")


def test_cli_export_sbml(tmp_path, capsys):
    out = tmp_path / "model.xml"
    main(["export", "sbml", "--cell-line", "MCF7", "--ligand", "imlunestrant", "--inhibitor", "abemaciclib", "--output", str(out)])
    assert "wrote" in capsys.readouterr().out
    doc = libsbml.readSBMLFromFile(str(out))
    m = doc.getModel()
    assert m.getSpecies("ER_WT_imlunestrant") is not None and m.getParameter("conc_abemaciclib") is not None


@pytest.mark.parametrize("args, message", [
    (["--cell-line", "MCF8"], "did you mean 'MCF7'"),
    (["--ligand", "abemaciclib"], "list it under inhibitors"),
])
def test_cli_export_errors_are_clear(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["export", "sbml", *args, "--output", str(tmp_path / "m.xml")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "m.xml").exists()
