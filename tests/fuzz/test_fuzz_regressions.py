"""Regression tests for what the fuzzing harness found (issue 12, item 2), one minimal input each.

Every one of these gave a traceback, a wrong exit 0 or a message that did not say where and what is
valid, before the fix named in its docstring.
"""

from __future__ import annotations

import codecs

import pytest
import yaml

from eralpha.analysis._data import numeric_column, read_table
from eralpha.errors import InputError
from eralpha.pk import load_pk_scenario
from eralpha.scenario import parse_scenario
from eralpha.scenario._load import SHIPPED_DIR
from eralpha.units import parse_quantity

from .oracle import message_problems, run_cli

TABLE = "group,weight\nvehicle,10\nvehicle,12\ndrug,5\ndrug,6\n"


@pytest.mark.parametrize("encoding, delimiter", [
    ("utf-16", ","), ("utf-8-sig", ","), ("cp1252", ";"), ("utf-8", "\t"), ("utf-16", ";")])
def test_read_table_reads_other_encodings_and_delimiters_alike(tmp_path, encoding, delimiter):
    """read_table: a UTF-16 export was 'cannot read', a BOM became part of the first column's name."""
    path = tmp_path / "t.csv"
    path.write_bytes(TABLE.replace(",", delimiter).encode(encoding))
    df = read_table(path)
    assert list(df.columns) == ["group", "weight"]
    assert df["weight"].tolist() == [10, 12, 5, 6]


def test_read_table_falls_back_to_windows_1252(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("dose µM,signal\n1,2\n".encode("cp1252"))
    assert list(read_table(path).columns) == ["dose µM", "signal"]
    assert not path.read_bytes().startswith(codecs.BOM_UTF8)


def test_an_empty_table_says_what_is_valid(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("group,weight\n")
    out = run_cli(["fit", "tumour-weight", str(path), "--control", "vehicle"])
    assert out.kind == "error" and not message_problems(out.message, [str(path)]), out.message


@pytest.mark.parametrize("cell", ["inf", "-inf", "1e400", "Infinity"])
def test_infinite_cells_are_refused_with_row_and_column(tmp_path, cell):
    """numeric_column: 'inf' passed, then survival crashed in lifelines and synergy returned NaN, exit 0."""
    path = tmp_path / "t.csv"
    path.write_text(TABLE.replace("5", cell))
    with pytest.raises(InputError, match=r"row 4, column 'weight'.*not a (finite )?number"):  # 1e400: text
        numeric_column(read_table(path), "weight")


def test_survival_with_an_infinite_time_is_exit_2_not_a_traceback(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("time,event,arm\n1,1,a\ninf,0,a\n3,1,b\n4,0,b\n")
    out = run_cli(["fit", "survival", str(path)])
    assert out.kind == "error" and not message_problems(out.message, [str(path)]), out.describe()


def _shipped(name: str) -> dict:
    return yaml.safe_load((SHIPPED_DIR / name).read_text())


@pytest.mark.parametrize("field, value", [
    ("radioligand_concentration", "nan nM"), ("incubation", "inf h"), ("noise_cv", float("nan")),
    ("concentrations", {"values": [1, float("inf")], "unit": "nM"})])
def test_scenario_refuses_nan_and_inf(field, value):
    """Scenario fields: 'nan nM' and inf passed (NaN >= 0 is False, so no range check caught it)."""
    with pytest.raises(InputError, match=field):
        parse_scenario({**_shipped("invitro_binding_er_ligands.yaml"), field: value}, file="s.yaml")


def test_xenograft_scenario_refuses_an_infinite_float():
    with pytest.raises(InputError, match="cells_injected.*finite"):
        parse_scenario({**_shipped("xenograft_mind_y537s_lasofoxifene.yaml"), "cells_injected": float("inf")})


def test_parse_quantity_refuses_non_finite_magnitudes():
    with pytest.raises(InputError, match="not a finite quantity"):
        parse_quantity("nan mg", field="dose")


def test_missing_and_unknown_fields_say_what_is_valid():
    """scenario_error: 'Field required' said neither what the field holds nor, nested, what is allowed."""
    doc = _shipped("xenograft_mind_y537s_lasofoxifene.yaml")
    del doc["arms"][1]["drugs"][0]["dose"]
    with pytest.raises(InputError, match=r"arms\[1\]\.drugs\[0\]\.dose.*missing.*valid: a text"):
        parse_scenario(doc)
    doc = _shipped("xenograft_mind_y537s_lasofoxifene.yaml")
    doc["arms"][1]["drugs"][0]["ays_on"] = 5
    with pytest.raises(InputError, match="did you mean 'days_on'.*valid: compound, days_off"):
        parse_scenario(doc)
    doc = _shipped("invitro_western_imlunestrant.yaml")
    del doc["expect"][0]["kind"]
    with pytest.raises(InputError, match=r"expect\[0\]\.kind.*valid: one of 'calibration', 'prediction'"):
        parse_scenario(doc)


def test_model_level_errors_name_their_field():
    doc = _shipped("xenograft_mind_y537s_lasofoxifene.yaml")
    doc["arms"] = doc["arms"][:1]
    with pytest.raises(InputError, match=r"field 'claims\[0\]\.arm'.*names arm"):
        parse_scenario(doc)


@pytest.mark.parametrize("patch, field", [
    ({"regimen": {"dose": "500 mg", "route": "im", "on_days": [1, 15, None]}}, "regimen.on_days"),
    ({"regimen": {"dose": "500 mg", "route": "im", "on_days": "1, 15"}}, "regimen.on_days"),
    ({"duration": "inf d"}, "duration"),
    ({"body_weight": "nan kg"}, "body_weight"),
])
def test_pk_scenario_bad_values_are_input_errors(tmp_path, patch, field):
    """load_pk_scenario: on_days [1, 15, null] was a TypeError, 'inf d' an OverflowError."""
    path = tmp_path / "pk.yaml"
    path.write_text(yaml.safe_dump({**_shipped("pk_fulvestrant_human.yaml"), **patch}))
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        load_pk_scenario(path)


def test_binding_with_no_complete_row_is_exit_2_not_a_key_error(tmp_path):
    """BindingAssay.fit: a 'total' column left empty gave KeyError "None of ['compound']" (long profile)."""
    path = tmp_path / "b.csv"
    path.write_text("compound,concentration,total,nonspecific\nA,0,,10\nA,1,,10\n")
    out = run_cli(["fit", "binding", str(path), "--radioligand", "1 nM", "--kd", "1 nM"])
    assert out.kind == "error" and "field 'total'" in out.message, out.describe()
    assert not message_problems(out.message, [str(path)])


@pytest.mark.parametrize("command, args, header", [
    ("survival", [], "time,event,arm"),
    ("tumour-weight", [], "group,weight"),
    ("dose-response", ["--dose", "dose", "--response", "response"], "dose,response"),
    ("xenograft", ["--volume", "volume"], "animal,group,day,volume"),
])
def test_a_table_with_no_complete_row_names_the_empty_column(tmp_path, command, args, header):
    """drop_missing(require_rows=True): 'no rows left' named no column and said nothing of what is valid."""
    path = tmp_path / "t.csv"
    names = header.split(",")
    rows = [",".join("" if c == names[-1] or c in ("response", "time", "weight") else "1" for c in names)] * 3
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    out = run_cli(["fit", command, str(path), *args])
    assert out.kind == "error" and not message_problems(out.message, [str(path)]), out.describe()


@pytest.mark.parametrize("name, edit, match", [
    ("xenograft_mind_d538g_lasofoxifene.yaml", lambda d: d.update(kind={}), "unknown scenario kind"),
    ("invitro_aromatase_inhibition.yaml", lambda d: d["concentrations"].update(values=None), "write a series"),
    ("invitro_hormone_dependence.yaml", lambda d: d["expect"][1]["target"].update(range=[1e9, 2]), r"\[low, high\]"),
    ("xenograft_mind_ltlt_lasofoxifene.yaml", lambda d: d["arms"][2]["drugs"][1].update(days_on=1e300),
     "valid: a whole number"),
])
def test_long_profile_scenario_findings(name, edit, match):
    """Found by the long profile: a mapping as 'kind' and values: null were TypeErrors; a reversed range
    and a 1e300-day cycle did not say what is valid."""
    doc = _shipped(name)
    edit(doc)
    with pytest.raises(InputError, match=match):
        parse_scenario(doc, file="s.yaml")


def test_recist_with_no_complete_row_is_exit_2(tmp_path):
    """RecistAssessment.fit: an empty 'day' column was 'No objects to concatenate' (long profile)."""
    path = tmp_path / "r.csv"
    path.write_text("patient,day,lesion,type,diameter\nP1,,T1,target,10\nP1,,T1,target,8\n")
    out = run_cli(["fit", "recist", str(path)])
    assert out.kind == "error" and "field 'day'" in out.message and not message_problems(out.message, [str(path)])


@pytest.mark.parametrize("patch, field", [
    ({"regimen": {"dose": "200 mg", "route": "oral", "days_on": 21, "days_off": float("nan")}}, "regimen.days_off"),
    ({"regimen": {"dose": "200 mg", "route": "oral", "days_on": "text"}}, "regimen.days_on"),
    ({"body_weight": "1e12 g"}, "body_weight"),
])
def test_pk_regimen_days_and_body_weight_are_checked(tmp_path, patch, field):
    """Long profile: days_off NaN/inf was a ValueError/OverflowError, days_on 'text' a TypeError, and a
    10^9 kg body weight was accepted."""
    path = tmp_path / "pk.yaml"
    path.write_text(yaml.safe_dump({**_shipped("pk_palbociclib_human.yaml"), **patch}))
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        load_pk_scenario(path)



def test_an_expectation_row_label_that_is_not_a_name():
    """Found by the long profile: ``expect[0].at.compound`` retyped to a mapping was accepted."""
    doc = yaml.safe_load((SHIPPED_DIR / "invitro_western_imlunestrant.yaml").read_text())
    doc["expect"][0]["at"]["compound"] = {"values": [1], "unit": "nM"}
    with pytest.raises(InputError, match=r"expect\[0\]\.at\.compound"):
        parse_scenario(doc, file="bad.yaml")


@pytest.mark.parametrize("scenario, change, field", [
    ("trial_ember3_combination.yaml", lambda d: d["population"]["line"].update({next(iter(d["population"]["line"])): float("nan")}), "population"),
    ("trial_elaine2.yaml", lambda d: d.update(scans=[]), "scans"),
    ("trial_elaine1.yaml", lambda d: d["design"].update(follow_up="0 months"), "design.follow_up"),
    ("trial_elaine1.yaml", lambda d: d["design"].update(follow_up="1e300 months"), "design.follow_up"),
    ("trial_elaine1.yaml", lambda d: d["arms"].pop(1), "reference"),
])
def test_trial_designs_found_by_the_long_profile(scenario, change, field):
    """Found by the long profile: NaN line probabilities and no scans were tracebacks; a zero or endless
    follow-up and a missing reference arm gave messages naming no field (or no file)."""
    from eralpha.trials import load_trial_scenario

    doc = yaml.safe_load((SHIPPED_DIR / scenario).read_text())
    change(doc)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "bad.yaml"
        file.write_text(yaml.safe_dump(doc, sort_keys=False))
        with pytest.raises(InputError) as exc:
            load_trial_scenario(file)
    assert exc.value.field == field and str(file) in str(exc.value), str(exc.value)


def test_a_xenograft_dosing_interval_of_zero():
    """Found by the long profile: every: 0 h was a ZeroDivisionError in the study-size guard."""
    doc = yaml.safe_load((SHIPPED_DIR / "xenograft_pdx_y537s_imlunestrant.yaml").read_text())
    doc["arms"][-1]["drugs"][0]["every"] = "0 h"
    with pytest.raises(InputError, match="positive"):
        parse_scenario(doc, file="bad.yaml")
