"""Regression tests of issue 12: no wrong answers, no tracebacks, resource guards, plausibility checks.

Each defect found by trying eralpha as a new user would gets a test here: the command (or call) that
went wrong, and what it must do now — exit status 2 with a one-line message naming the file, the
field and what is valid, or a correct result.
"""

from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import optimize, stats

from eralpha.errors import InputError, PlausibilityError, ResourceError

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
EXAMPLES = ROOT / "examples" / "data"
S_ALBA = Path(__file__).parent / "data" / "drc" / "S.alba.csv"


def one_line_error(code: int, err: str, *words: str) -> None:
    """Exit 2, one 'error:' message (no traceback) that contains every word."""
    assert code == 2, err
    assert "Traceback" not in err
    text = " ".join(err.split())  # rich may wrap a long line
    assert text.startswith("error:"), err
    for w in words:
        assert w in text, (w, text)


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def scenario(name: str) -> dict:
    return yaml.safe_load((SCENARIOS / name).read_text())


# ------------------------------------------------------------------------- profile-likelihood intervals
@pytest.fixture(scope="module")
def s_alba():
    from eralpha.analysis import DoseResponseFitter

    return DoseResponseFitter("LL.4").fit(S_ALBA, dose="Dose", response="DryMatter", group="Herbicide")


def _independent_profile_rss(curve, name: str, value: float) -> float:
    """Profile RSS at ``name = value`` by Nelder-Mead over the other three parameters (best of starts)."""
    from eralpha.analysis._dr_models import MODELS

    x, y, p0 = curve.dose, curve.response, curve.params
    others = [k for k in "bcde" if k != name]

    def rss(v):
        p = dict(zip(others, v), **{name: value})
        if p.get("e", 1.0) <= 0:
            return np.inf
        with np.errstate(all="ignore"):
            r = MODELS["LL.4"].predict(x, p) - y
        return float(r @ r) if np.all(np.isfinite(r)) else np.inf

    best = np.inf
    for scale in (1.0, 0.7, 1.4):
        start = [p0[k] * (scale if k in "be" else 1.0) for k in others]
        res = optimize.minimize(rss, start, method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        best = min(best, float(res.fun))
    return best


def test_salba_profile_intervals_are_computed_and_an_open_side_is_inf(s_alba):
    """drc's own S.alba example: the profile interval used to raise from brentq (Bentazone's b)."""
    table = s_alba.summary  # computes every profile interval
    assert np.isfinite(table["estimate"]).all()
    for label, r in table.iterrows():
        lo, hi = r["profile_lower"], r["profile_upper"]
        assert not (np.isnan(lo) or np.isnan(hi)), label
        assert lo <= r["estimate"] <= hi, label
    bentazone = s_alba.curves_["Bentazone"]
    lo, hi = bentazone.profile_ci()["b"]
    assert hi == np.inf and np.isfinite(lo)
    assert "open" in bentazone.profile_notes()["b"]["upper"]
    # an independent check of "open": far beyond the estimate the profile RSS is still under the cutoff
    cutoff = bentazone.rss + bentazone.residual_se**2 * stats.t.ppf(0.975, bentazone.df) ** 2
    assert _independent_profile_rss(bentazone, "b", 20.0 * bentazone.params["b"]) < cutoff


def test_salba_finite_profile_bounds_are_where_an_independent_profile_reaches_the_cutoff(s_alba):
    curve = s_alba.curves_["Glyphosate"]
    cutoff = curve.rss + curve.residual_se**2 * stats.t.ppf(0.975, curve.df) ** 2
    lo, hi = curve.profile_ci()["e"]
    assert _independent_profile_rss(curve, "e", lo) == pytest.approx(cutoff, rel=1e-4)
    assert _independent_profile_rss(curve, "e", hi) == pytest.approx(cutoff, rel=1e-4)


def test_salba_cli_prints_json_with_the_open_side_explained(cli):
    import json

    code, out, err = cli("fit", "dose-response", str(S_ALBA), "--dose", "Dose", "--response", "DryMatter",
                         "--group", "Herbicide", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["parameters"]["b:Bentazone"]["profile"][1] is None  # JSON has no inf …
    assert "open" in doc["curves"]["Bentazone"]["ci"]["profile_notes"]["b"]["upper"]  # … so it says why


# ------------------------------------------------------------------------- wrong answers with exit 0
def test_negative_doses_are_refused_everywhere(cli, tmp_path):
    from eralpha.pk import load_pk_scenario, parse_dose

    for bad in ("-10 mg/kg", "-2.5 mg", "nan mg", "inf mg"):
        with pytest.raises(InputError, match="dose|finite"):
            parse_dose(bad)
    assert parse_dose("0 mg").amount == 0.0  # a vehicle
    spec = scenario("pk_letrozole_human.yaml") | {"regimen": "-2.5 mg oral q24h"}
    with pytest.raises(InputError, match="negative") as exc:
        load_pk_scenario(write_yaml(tmp_path / "neg.yaml", spec))
    assert exc.value.field == "regimen"
    code, out, err = cli("translate", "lasofoxifene", "--", "-10 mg/kg sc q24h 5/2")
    one_line_error(code, err, "-10 mg/kg", "negative", "valid")
    assert out == ""


def test_negative_xenograft_dose_is_an_input_error_not_a_solver_error(tmp_path):
    from eralpha.scenario import load_scenario

    spec = scenario("xenograft_mind_y537s_lasofoxifene.yaml")
    spec["arms"][1]["drugs"][0]["dose"] = "-5 mg/kg"
    with pytest.raises(InputError, match="negative") as exc:
        load_scenario(write_yaml(tmp_path / "x.yaml", spec))
    assert exc.value.field == "arms[1].drugs[0].dose"


def test_a_duplicated_csv_header_is_an_error(cli, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("compound,conc_nM,conc_nM,viability_pct\nA,0,5,100\nA,1,5,90\nA,10,5,50\nA,100,5,10\nA,1000,5,5\n")
    code, _, err = cli("fit", "dose-response", str(path), "--dose", "conc_nM", "--response", "viability_pct")
    one_line_error(code, err, "dup.csv", "conc_nM", "twice", "unique column names")
    blank = tmp_path / "blank.csv"  # unnamed (blank) header cells are not duplicates
    blank.write_text("a,,,b\n1,2,3,4\n")
    from eralpha.analysis._data import read_table

    assert list(read_table(blank).columns) == ["a", "Unnamed: 1", "Unnamed: 2", "b"]


def test_units_are_checked_with_the_registry(cli):
    from eralpha.analysis import AromataseAssay
    from eralpha.units import check_unit

    assert check_unit("uM", "concentration") == "uM"
    assert check_unit("ng/mL", "concentration") == "ng/mL"
    for bad in ("furlong", "h", "kg", "", "parsec/fortnight"):
        with pytest.raises(InputError, match="concentration unit|not a unit"):
            check_unit(bad, "concentration")
    with pytest.raises(InputError, match="furlong"):
        AromataseAssay("50 nM", "40 nM", concentration_unit="furlong")
    code, out, err = cli("fit", "aromatase", str(EXAMPLES / "aromatase_inhibition.csv"), "--substrate", "50 nM",
                         "--km", "40 nM", "--unit", "furlong")
    one_line_error(code, err, "--unit", "furlong", "nM")
    assert out == ""


def _western_rows(tmp_path: Path, name: str, edit) -> Path:
    df = pd.read_csv(EXAMPLES / "western_degradation.csv")
    path = tmp_path / name
    edit(df).to_csv(path, index=False)
    return path


def test_western_with_nothing_to_fit_is_an_error(cli, tmp_path):
    def all_nan(df):
        return df.assign(target=np.nan, loading=np.nan)

    code, _, err = cli("fit", "western", str(_western_rows(tmp_path, "nan.csv", all_nan)))
    one_line_error(code, err, "nan.csv", "target", "loading")
    code, _, err = cli("fit", "western", str(_western_rows(tmp_path, "one.csv", lambda df: df.head(1))))
    one_line_error(code, err, "one.csv", "treated", "dose")


def test_synergy_with_one_row_is_an_error(cli, tmp_path):
    path = tmp_path / "one.csv"
    pd.read_csv(EXAMPLES / "synergy_example.csv").head(1).to_csv(path, index=False)
    code, out, err = cli("fit", "synergy", str(path), "--response", "viability")
    one_line_error(code, err, "one.csv", "combination", "valid")
    assert out == ""


def test_cell_lines_default_is_checked_against_the_expectations_up_front(tmp_path):
    from eralpha.scenario import load_scenario

    spec = scenario("invitro_proliferation_serds.yaml")
    del spec["cell_lines"]
    with pytest.raises(InputError, match="defaults to \\[MCF7\\]") as exc:
        load_scenario(write_yaml(tmp_path / "nolines.yaml", spec))
    assert exc.value.field.startswith("expect[") and exc.value.field.endswith(".cell_line")
    # the documented default works when the expectations only read MCF7
    spec["expect"] = [e for e in spec["expect"] if e["at"].get("cell_line") == "MCF7" and "ratio_to" not in e]
    assert load_scenario(write_yaml(tmp_path / "mcf7.yaml", spec)).cell_lines == ["MCF7"]


def test_synonyms_are_canonical_in_the_scenario_and_its_expectations(tmp_path):
    from eralpha.scenario import load_scenario

    spec = scenario("invitro_proliferation_serds.yaml")
    spec["cell_lines"] = ["MCF-7" if c == "MCF7" else c for c in spec["cell_lines"]]
    for e in spec["expect"]:
        for keys in (e["at"], e.get("ratio_to") or {}):
            if keys.get("cell_line") == "MCF7":
                keys["cell_line"] = "mcf-7"
    s = load_scenario(write_yaml(tmp_path / "syn.yaml", spec))
    assert s.cell_lines[0] == "MCF7"
    lines = {e.at.get("cell_line") for e in s.expect} | {(e.ratio_to or {}).get("cell_line") for e in s.expect}
    assert "MCF7" in lines and not lines & {"MCF-7", "mcf-7"}
    xeno = scenario("xenograft_mind_y537s_lasofoxifene.yaml") | {"cell_line": "mcf7-y537s"}
    assert load_scenario(write_yaml(tmp_path / "x.yaml", xeno)).cell_line == "MCF7-Y537S"


def test_validate_only_matching_nothing_lists_the_valid_filters(cli):
    code, out, err = cli("validate", "--only", "nomatch", "--no-report")
    one_line_error(code, err, "--only", "nomatch", "invitro_binding_er_ligands", "xenograft-replicate-studies")
    assert out == ""


# ------------------------------------------------------------------------- tracebacks
def test_a_seed_that_is_not_a_number(cli, tmp_path):
    for name in ("pk_letrozole_human.yaml", "invitro_binding_er_ligands.yaml"):
        path = write_yaml(tmp_path / name, scenario(name) | {"seed": "eleven"})
        code, _, err = cli("run", str(path), "--runs-dir", str(tmp_path / "runs"))
        one_line_error(code, err, name, "seed", "eleven")


def test_running_a_folder_lists_its_scenarios(cli):
    code, out, err = cli("run", str(SCENARIOS))
    first = sorted(p.name for p in SCENARIOS.glob("*.yaml"))[0]  # the message lists the folder's files in order
    one_line_error(code, err, "directory", f"{len(list(SCENARIOS.glob('*.yaml')))} .yaml files", first)
    code, out, err = cli("pk", "simulate", str(SCENARIOS))
    one_line_error(code, err, "directory")


@pytest.mark.parametrize("argv", [
    ["fit", "dose-response", str(EXAMPLES / "dose_response_viability.csv"), "--dose", "conc_nM", "--response", "viability_pct"],
    ["fit", "western", str(EXAMPLES / "western_degradation.csv")],
    ["fit", "synergy", str(EXAMPLES / "synergy_example.csv"), "--response", "viability"],
    ["pk", "simulate", str(SCENARIOS / "pk_letrozole_human.yaml")],
])
def test_an_unwritable_plot_is_refused_before_anything_is_computed(cli, argv):
    code, out, err = cli(*argv, "--plot", "/nonexistent/x.png")
    one_line_error(code, err, "/nonexistent/x.png", "does not exist")
    assert out == ""  # nothing printed first


@pytest.mark.parametrize("argv", [
    ["fit", "dose-response", str(EXAMPLES / "dose_response_viability.csv"), "--dose", "conc_nM", "--response", "viability_pct", "--plot"],
    ["pk", "simulate", str(SCENARIOS / "pk_letrozole_human.yaml"), "--plot"],
    ["model", "diagram", "--output"],
])
def test_a_figure_in_a_format_matplotlib_cannot_write_is_refused_first(cli, argv, tmp_path):
    # matplotlib raised "Format 'txt' is not supported" after the work was done, as a traceback
    target = str(tmp_path / "figure.txt")
    code, out, err = cli(*argv, target)
    one_line_error(code, err, "figure.txt", "'.txt'", ".png")
    assert out == ""  # nothing printed first


# ------------------------------------------------------------------------- resource guards
def test_pk_with_a_hundred_million_subjects_is_refused_before_allocating(cli, tmp_path):
    path = write_yaml(tmp_path / "big.yaml", scenario("pk_letrozole_human.yaml") | {"subjects": 100_000_000})
    tracemalloc.start()
    code, out, err = cli("pk", "simulate", str(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    one_line_error(code, err, "big.yaml", "subjects", "100000000", "--max-memory", "ERALPHA_MAX_MEMORY")
    assert peak < 200e6  # refused from the estimate, not after trying


def test_the_memory_limit_can_be_lowered_and_raised(cli, tmp_path, monkeypatch):
    from eralpha.pk import load_pk_scenario
    from eralpha.resources import max_memory_bytes, memory_limit, parse_bytes

    assert parse_bytes("512 MiB") == 512 * 2**20
    with pytest.raises(InputError):
        parse_bytes("lots")
    path = SCENARIOS / "pk_letrozole_human.yaml"  # 200 subjects × 505 times: about 10 MB
    monkeypatch.setenv("ERALPHA_MAX_MEMORY", "1 MB")
    assert max_memory_bytes() == 1e6
    with pytest.raises(ResourceError, match="1 MB") as exc:
        load_pk_scenario(path).run()
    assert exc.value.needed_bytes > exc.value.limit_bytes == 1e6
    with memory_limit("1 GB"):  # what --max-memory does: it wins over the environment
        assert load_pk_scenario(path).run().n_subjects == 200
    code, _, err = cli("pk", "simulate", str(path), "--max-memory", "1 MB")
    one_line_error(code, err, "subjects", "1 MB")


def test_the_pk_estimate_is_an_over_estimate(monkeypatch):
    """The guard's estimate must not be optimistic: measure the real peak of a modest population."""
    from eralpha.pk import Regimen, simulate_pk
    from eralpha.pk._simulate import pk_memory_bytes

    times = np.arange(0.0, 24 * 28 + 1, 2.0)
    regimen = Regimen.parse("2.5 mg oral q24h", until_day=28)
    simulate_pk("letrozole", "human", regimen, times, subjects=20, seed=1)  # warm caches first
    tracemalloc.start()
    simulate_pk("letrozole", "human", regimen, times, subjects=2000, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < pk_memory_bytes(2000, times.size + 1)


def test_a_pk_scenario_of_a_billion_days_is_refused(tmp_path):
    from eralpha.pk import load_pk_scenario

    path = write_yaml(tmp_path / "long.yaml", scenario("pk_letrozole_human.yaml") | {"duration": "1e9 d"})
    with pytest.raises(ResourceError, match="doses") as exc:
        load_pk_scenario(path)
    assert exc.value.file == str(path) and exc.value.field == "duration"
    path = write_yaml(tmp_path / "inf.yaml", scenario("pk_letrozole_human.yaml") | {"duration": "inf d"})
    with pytest.raises(InputError, match="finite"):
        load_pk_scenario(path)


def test_a_xenograft_of_a_billion_days_is_refused_before_building_it(cli, tmp_path):
    from eralpha.experiments._xenograft import build_studies
    from eralpha.scenario import load_scenario

    spec = scenario("xenograft_mind_y537s_lasofoxifene.yaml") | {"duration": "1e9 d"}
    path = write_yaml(tmp_path / "long.yaml", spec)
    with pytest.raises(ResourceError) as exc:  # refused when read, before anything is built
        load_scenario(path)
    assert exc.value.field == "duration"
    ok = load_scenario(SCENARIOS / "xenograft_mind_y537s_lasofoxifene.yaml")
    with pytest.raises(ResourceError) as exc:  # and by the builder itself, for a scenario made in Python
        build_studies(ok.model_copy(update={"duration": 1e9 * 24.0}))
    assert exc.value.field == "duration"
    code, _, err = cli("run", str(path), "--runs-dir", str(tmp_path / "runs"))
    one_line_error(code, err, "long.yaml", "duration", "--max-memory")


def test_the_engine_refuses_a_batch_that_does_not_fit():
    from eralpha.engine import simulate
    from eralpha.model._assays import binding_assay_model
    from eralpha.resources import memory_limit

    with memory_limit("1 MB"), pytest.raises(ResourceError, match="parameter sets"):
        simulate(binding_assay_model(), np.linspace(0, 10, 100_000), parameters={"conc_cold": np.ones(10)})


# ------------------------------------------------------------------------- plausibility checks
@pytest.fixture(scope="module")
def binding_result():
    from eralpha.engine import simulate
    from eralpha.model._assays import binding_assay_model

    model = binding_assay_model()
    res = simulate(model, [0.0, 1.0, 18.0], parameters={"receptor_total": 0.05, "conc_hot": 1.0,
                                                          "conc_cold": [0.0, 1.0, 100.0]},
                   initial={"R_free": 0.05}, labels=pd.DataFrame({"cold_nM": [0.0, 1.0, 100.0]}))
    return model, res


def test_the_binding_assay_conserves_its_receptor(binding_result):
    from eralpha.engine import check_plausible, conservation_laws

    model, res = binding_result
    laws = conservation_laws(model)
    receptor = {model.species_index[n] for n in ("R_free", "R_hot", "R_cold")}
    assert any(set(np.flatnonzero(np.abs(w) > 1e-9)) == receptor for w in laws)
    check_plausible(model, res)  # a correct result passes


def test_a_corrupted_result_is_caught_naming_quantity_member_and_time(binding_result):
    from eralpha.engine import check_plausible

    model, res = binding_result
    i = res.species_names.index("R_hot")
    negative = res.states.copy()
    negative[2, 1, i] = -0.01
    with pytest.raises(PlausibilityError, match="R_hot") as exc:
        check_plausible(model, dataclasses.replace(res, states=negative))
    assert exc.value.where == {"member": 2, "cold_nM": 100.0, "time_h": 1.0}
    leaky = res.states.copy()
    leaky[1, 2, res.species_names.index("R_free")] *= 1.5  # receptor appears from nowhere
    with pytest.raises(PlausibilityError, match="conserved total") as exc:
        check_plausible(model, dataclasses.replace(res, states=leaky))
    assert exc.value.where["member"] == 1 and exc.value.where["time_h"] == 18.0


def test_pk_amounts_are_checked(monkeypatch):
    import eralpha.pk._simulate as pks
    from eralpha.pk import Regimen, simulate_pk

    real = pks.simulate_amounts

    def corrupted(*args, **kwargs):
        out = real(*args, **kwargs)
        out[0, 5, 1] = -1.0  # a negative central amount
        return out

    monkeypatch.setattr(pks, "simulate_amounts", corrupted)
    with pytest.raises(PlausibilityError, match="central") as exc:
        simulate_pk("letrozole", "human", Regimen.parse("2.5 mg oral q24h", until_day=7), np.arange(0, 168, 6.0))
    assert exc.value.where["subject"] == 0


def test_a_fit_that_is_not_an_optimum_is_caught(s_alba):
    from eralpha.analysis._dr_engine import _bounds_vectors, check_fitted_mean

    joint = s_alba.curves_["Glyphosate"].joint
    problem = joint.problem()
    lo, hi = _bounds_vectors(joint.layout, {}, {})
    check_fitted_mean(problem, joint.theta, lo, hi)  # the optimum passes
    shifted = joint.theta.copy()
    c, d = joint.layout.slots[0]["c"], joint.layout.slots[0]["d"]
    shifted[[c, d]] += 0.5  # the whole curve 0.5 g/pot too high: its mean is not the data's
    with pytest.raises(PlausibilityError, match="mean"):
        check_fitted_mean(problem, shifted, lo, hi)
