"""The curated knowledge base: every file validates, every number is sourced, names resolve, errors are clear."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eralpha.errors import InputError, UnknownNameError
from eralpha.knowledge import DATA_DIR, KnowledgeBase, load_knowledge
from eralpha.units import ureg

SEEDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
OWN_FILES = ["compounds.yaml", "targets.yaml", "cell_lines.yaml", "assay_systems.yaml", "published.yaml"]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def curated_values(kb: KnowledgeBase):
    """Values from the curated files (PK rows come from pk.yaml, which has its own owner and tests)."""
    values = kb.values()
    return values[~values.field.str.startswith("pk.")]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped data folder to break on purpose."""
    folder = tmp_path / "data"
    shutil.copytree(DATA_DIR, folder)
    return folder


def test_every_file_validates_and_is_cached(kb):
    assert load_knowledge() is kb
    assert {"letrozole", "anastrozole", "exemestane", "tamoxifen", "4-hydroxytamoxifen", "lasofoxifene",
            "fulvestrant", "elacestrant", "imlunestrant", "palbociclib", "abemaciclib", "ribociclib", "alpelisib",
            "everolimus", "oestradiol", "oestrone", "androstenedione"} <= set(kb.compounds)
    assert {"ERa_WT", "ERa_Y537S", "ERa_D538G", "ERb", "CYP19A1", "CDK4", "CDK6", "PI3Ka", "mTORC1"} <= set(kb.targets)
    assert set(kb.assay_systems) == {"human_placental_microsomes", "breast_cancer_particulate", "rat_ovarian_microsomes",
                                     "human_adipose_fibroblasts", "JEG3_cells", "MCF7Ca_cells", "hamster_ovarian_tissue"}


def test_every_value_has_unit_source_and_a_parsable_unit(kb):
    values = kb.values()
    assert len(values) > 100
    assert (values.source.str.strip().str.len() > 2).all()
    assert (values.unit.str.strip().str.len() > 0).all()
    for unit in set(values.unit):
        ureg.Unit(unit)  # raises if pint cannot read it
    curated = curated_values(kb)
    assumed = curated[curated.kind == "assumed"]
    assert (assumed.note.str.len() > 10).all(), "an assumed value must say why in its note"


def test_ranges_store_the_geometric_mid(kb):
    ranged = curated_values(kb).dropna(subset=["low", "high"])
    assert len(ranged) >= 6
    for row in ranged.itertuples():
        assert row.value == pytest.approx(math.sqrt(row.low * row.high), rel=0.01), (row.entity, row.field)


def test_seed_sources_name_an_existing_seed_file(kb):
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed folder {SEEDS_DIR} not present")
    seeds = {p.name for p in SEEDS_DIR.glob("*.txt")}
    cited = set()
    for source in curated_values(kb).source:
        if "seed" in source.lower():
            names = re.findall(r"\d{3}_[0-9a-f]{16}\.txt", source)
            assert names, f"seed source names no seed file: {source!r}"
            cited.update(names)
    assert cited <= seeds
    assert cited == seeds, "every seed contributes at least one value"


def test_headline_numbers(kb):
    imlu = kb.compound("imlunestrant")
    assert imlu.er_binding["ERa_WT"].value == 0.64 and imlu.er_binding["ERa_Y537S"].value == 2.80
    assert imlu.er_binding["ERb"].value == 0.11 and imlu.er_binding["ERa_D538G"].kind == "assumed"
    e2 = kb.compound("E2").er_binding
    assert (e2["ERa_WT"].value, e2["ERa_Y537S"].value, e2["ERa_D538G"].value) == (0.26, 1.43, 1.30)
    oht = kb.compound("4-OHT").er_binding
    assert (oht["ERa_WT"].value, oht["ERa_Y537S"].value, oht["ERa_D538G"].value) == (1.82, 6.7, 0.79)
    assert "apo" not in kb.target("ERa_WT").coactivator_kd  # WT: no ligand-independent recruitment
    assert kb.target("ERa_Y537S").coactivator_kd["apo"].value == 13.6
    assert kb.target("ERa_D538G").coactivator_kd["apo"].value == 151
    assert kb.target("ERa_WT").coactivator_kd["agonist"].value == 2.67
    placental = kb.compound("letrozole").aromatase_ic50_by_system["human_placental_microsomes"]
    assert (placental.low, placental.high) == (2.0, 11.0) and "table" in placental.source
    assert "003_a63f80b31cf65195.txt" in placental.source
    assert "rat_ovarian_microsomes" not in kb.compound("anastrozole").aromatase_ic50_by_system
    assert kb.compound("palbociclib").inhibition["CDK4"].value == 11
    assert kb.published_result("elaine1.pfs_hr").value.value == 0.699


def test_engineered_lines_are_heterozygous(kb):
    assert kb.cell_line("MCF7-Y537S").er_variants == {"ERa_WT": 0.5, "ERa_Y537S": 0.5}
    assert kb.cell_line("JEG-3").er_variants == {}
    assert kb.cell_line("MCF-7Ca").aromatase_transfected


@pytest.mark.parametrize(
    "alias, name",
    [("LY3484356", "imlunestrant"), ("4-OHT", "4-hydroxytamoxifen"), ("afimoxifene", "4-hydroxytamoxifen"),
     ("estradiol", "oestradiol"), ("E2", "oestradiol"), ("e2", "oestradiol"), ("estrone", "oestrone"),
     ("FULVESTRANT", "fulvestrant"), ("RAD1901", "elacestrant"), ("ICI 182,780", "fulvestrant")],
)
def test_synonyms_resolve_case_insensitively(kb, alias, name):
    assert kb.compound(alias).name == name


def test_find_and_punctuation_insensitive_names(kb):
    assert kb.find("MCF-7")[0] == "cell_line"
    assert kb.find("cyp19a1") == ("target", kb.targets["CYP19A1"])
    assert kb.find("ember3.esr1m.pfs_hr")[0] == "published"


def test_unknown_name_suggests(kb):
    with pytest.raises(UnknownNameError) as info:
        kb.compound("fulvestrent")
    assert "fulvestrant" in info.value.suggestions
    assert "did you mean 'fulvestrant'" in str(info.value)


def test_broken_yaml_names_file_and_field_path(data_copy):
    path = data_copy / "compounds.yaml"
    path.write_text(path.read_text().replace("value: 0.64", "value: strong", 1))
    with pytest.raises(InputError) as info:
        load_knowledge(data_dir=data_copy)
    message = str(info.value)
    assert "compounds.yaml" in message and "imlunestrant.er_binding.ERa_WT.value" in message
    assert "strong" in message and "number" in message


def test_yaml_syntax_error_names_line(data_copy):
    (data_copy / "targets.yaml").write_text("ERa_WT:\n  kind: [receptor\n")
    with pytest.raises(InputError, match=r"targets\.yaml.*line \d+"):
        load_knowledge(data_dir=data_copy)


def test_dangling_reference_is_an_error(data_copy):
    path = data_copy / "cell_lines.yaml"
    path.write_text(path.read_text().replace("{ERa_WT: 0.5, ERa_Y537S: 0.5}", "{ERa_WT: 0.5, ERa_Y573S: 0.5}", 1))
    with pytest.raises(UnknownNameError) as info:
        load_knowledge(data_dir=data_copy)
    assert "cell_lines.yaml" in str(info.value) and "ERa_Y537S" in info.value.suggestions


def test_pk_file_is_merged_and_validated(data_copy):
    pk = {"letrozole": {"human": {"routes": ["oral"], "clearance": {"value": 2.1, "unit": "L/h", "source": "test", "kind": "assumed"},
                                  "volume_central": {"value": 130, "unit": "L", "source": "test", "kind": "assumed"}}}}
    (data_copy / "pk.yaml").write_text(json.dumps(pk))
    kb = load_knowledge(data_dir=data_copy)
    assert kb.compound("letrozole").pk["human"].clearance.value == 2.1
    assert "pk.human.clearance" in set(kb.values().query("entity == 'letrozole'").field)
    pk["letrozole"]["human"]["routes"] = ["nasal"]
    (data_copy / "pk.yaml").write_text(json.dumps(pk))
    from eralpha.knowledge._loader import _load_cached

    _load_cached.cache_clear()  # same folder as above: drop the cached, valid version
    with pytest.raises(InputError, match=r"pk\.yaml.*letrozole\.human\.routes"):
        load_knowledge(data_dir=data_copy)


def _cli(*args: str):
    from eralpha.cli import _register_commands, app

    _register_commands()
    return CliRunner().invoke(app, list(args))


def test_cli_list_and_show():
    listed = _cli("kb", "list")
    assert listed.exit_code == 0, listed.output
    assert "imlunestrant" in listed.output
    shown = _cli("kb", "show", "imlunestrant", "--format", "json")
    assert shown.exit_code == 0, shown.output
    payload = json.loads(shown.output)
    assert payload["name"] == "imlunestrant"
    assert any(v["field"] == "er_binding.ERa_WT" and v["value"] == 0.64 for v in payload["values"])
    compounds = json.loads(_cli("kb", "list", "--kind", "compounds", "--format", "json").output)
    assert {row["kind"] for row in compounds} == {"compound"}


def test_cli_unknown_name_exits_2_with_suggestion():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "eralpha", "kb", "show", "fulvestrent"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "fulvestrant" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- kind is required, parameters, overrides, docs table


def test_a_value_without_kind_is_an_error_naming_file_and_entry(data_copy):
    path = data_copy / "compounds.yaml"
    text = path.read_text()
    marker = "      kind: measured\n      value: 0.64\n"
    assert marker in text
    path.write_text(text.replace(marker, "      value: 0.64\n", 1))
    with pytest.raises(InputError) as info:
        load_knowledge(data_dir=data_copy)
    message = str(info.value)
    assert "compounds.yaml" in message and "imlunestrant.er_binding.ERa_WT.kind" in message
    assert "measured, calibrated or assumed" in message


def test_model_parameters_are_in_the_knowledge_base(kb):
    assert {"ER_total_0", "coactivator", "pik3ca_gain_mutant", "capacity_met", "k_adapt", "proliferation_scale",
            "fu_mouse_lasofoxifene"} <= set(kb.parameters)
    values = kb.values()
    params = values[values.entity_kind == "parameter"]
    assert len(params) == len(kb.parameters) and set(params.kind) <= {"measured", "calibrated", "assumed"}
    assert kb.parameter("coactivator").kind == "calibrated" and kb.parameter("coactivator").module == "activity"
    assert all(p.source.startswith("assumption (this work)") or p.kind != "assumed" or "assumption" in p.source
               for p in kb.parameters.values())


def test_no_cell_tumour_or_adaptation_number_is_held_inline(kb):
    """Parameters of the modules owned here come from the knowledge base, never from a literal in code."""
    from eralpha.model._tumour import assemble_tumour_model

    m = assemble_tumour_model(cell_line="MCF-7Ca", compounds=("letrozole", "lasofoxifene"), adaptation=True)
    derived = ("Kd_", "kdeg_ER_", "frac_", "efficacy_", "Kc_", "Ki_", "IC50_", "conc_", "er_loss")
    owned = {"receptor", "activity", "transcription", "aromatase", "metastasis", "readouts", "adaptation"}
    for p in m.parameters:
        if p.module not in owned or p.name.startswith(derived) or p.name == "kdeg_mRNA":
            continue
        if p.name == "aromatase_E2_yield" or p.name in kb.parameters:
            continue
        pytest.fail(f"{p.module}.{p.name} = {p.value} is not read from the knowledge base")
    assert m.parameter("capacity").value == kb.parameter("capacity_tumour").value


def test_duplicate_parameter_names_across_files_are_an_error(data_copy):
    extra = data_copy / "parameters" / "more.yaml"
    extra.write_text("coactivator: {value: 1, unit: nM, kind: assumed, module: x, source: 'assumption (this work): test'}\n")
    with pytest.raises(InputError, match="coactivator.*also defined"):
        load_knowledge(data_dir=data_copy)


def test_overrides_replace_a_value_for_a_block_only(kb):
    from eralpha.knowledge import knowledge_overrides

    with knowledge_overrides({"coactivator": 20, "lasofoxifene.er_binding.ERa_Y537S": {"value": 500, "unit": "pM"}}, origin="t"):
        inner = load_knowledge()
        assert inner.parameter("coactivator").value == 20
        v = inner.compound("lasofoxifene").er_binding["ERa_Y537S"]
        assert v.value == pytest.approx(0.5) and v.kind == "assumed" and v.source == "override (t)" and "replaces" in v.note
    assert load_knowledge().parameter("coactivator").value == 30  # outside the block: the shipped value


@pytest.mark.parametrize("overrides, error, text", [
    ({"coactivatr": 1}, UnknownNameError, "did you mean 'coactivator'"),
    ({"lasofoxifene.er_binding.ERa_Y538S": 1}, UnknownNameError, "ERa_Y537S"),
    ({"lasofoxifene.pk.mouse.clearance": 1}, InputError, "pk.yaml"),
    ({"coactivator": "high"}, InputError, "number"),
    ({"coactivator": {"value": 1, "unit": "kg"}}, InputError, "convert"),
])
def test_bad_overrides_are_clear_errors(kb, overrides, error, text):
    with pytest.raises(error, match=text):
        kb.with_overrides(overrides)


def test_a_scenario_overrides_a_value_without_code_edits(tmp_path):
    from eralpha.experiments import run_experiment
    from eralpha.scenario import load_scenario

    scenario = tmp_path / "tissue.yaml"
    scenario.write_text(
        "kind: tissue_selectivity\nname: t\ncompounds: [lasofoxifene]\ntissues: [bone]\n"
        "knowledge_overrides: {lasofoxifene.efficacy.bone: 0.3}\n")
    result = run_experiment(load_scenario(scenario))
    index = float(result.metrics.query("metric == 'agonism_index'")["value"].iloc[0])
    assert index == pytest.approx(0.3 / (10 / (10 + 0.26)), rel=0.02)  # efficacy per receptor vs saturating E2
    assert any("lasofoxifene.efficacy.bone" in n for n in result.notes)


def test_docs_provenance_table_is_current(kb):
    from eralpha.knowledge._table import provenance_markdown

    doc = (Path(__file__).resolve().parents[1] / "docs" / "knowledge.md").read_text()
    assert provenance_markdown(kb) in doc, "regenerate with `eralpha kb table --format markdown` into docs/knowledge.md"


def test_cli_kb_table_markdown():
    out = _cli("kb", "table", "--format", "markdown")
    assert out.exit_code == 0, out.output
    assert "| model and experiment parameters |" in out.output and "| coactivator | activity | 30 | nM | calibrated |" in out.output
