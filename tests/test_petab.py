"""PEtab v1 export / import: the exported problem lints clean, libRoadRunner on the PEtab files reproduces
eralpha's own simulation of the experiments, and the problem read back is the same calibration.

The round trip simulates from the files alone (SBML model, conditions, parameters, measurement times,
observable formulas), so it checks the 300 h event construction; a run that ignores the shift must
*disagree* — the comparison can fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

petab = pytest.importorskip("petab.v1")
roadrunner = pytest.importorskip("roadrunner")
pytest.importorskip("libsbml")

from eralpha.cli import main  # noqa: E402
from eralpha.engine import SolverOptions  # noqa: E402
from eralpha.errors import InputError  # noqa: E402
from eralpha.qsp import Calibration, from_petab, read_petab, to_petab  # noqa: E402
from eralpha.qsp._petab import TIME_SHIFT_H  # noqa: E402
from eralpha.qsp._runs import DATA_DIR  # noqa: E402

SPEC = DATA_DIR / "mcf7_growth.yaml"
TIGHT = SolverOptions(rtol=1e-10, atol=1e-12)
MAX_REL = 1e-6
#: a candidate away from the nominal values (mu_max, death_rate, palbociclib CDK4 IC50, K_ER_activity), in bounds
CANDIDATE = np.array([0.03, 0.002, 20.0, 0.05])


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return to_petab("mcf7-growth", tmp_path_factory.mktemp("petab") / "mcf7")


@pytest.fixture(scope="module")
def original():
    return Calibration.from_spec(SPEC)


def test_shift_is_the_pre_equilibration():
    from eralpha.experiments import PRE_EQUILIBRATION_H

    assert TIME_SHIFT_H == PRE_EQUILIBRATION_H


def test_export_writes_every_table_and_lints_clean(exported, original):
    folder = exported.parent
    assert {p.name for p in folder.iterdir()} == {"problem.yaml", "model.xml", "conditions.tsv", "observables.tsv",
                                                  "measurements.tsv", "parameters.tsv"}
    problem = petab.Problem.from_yaml(str(exported))
    assert petab.lint_problem(problem) is False  # False: no errors
    par = problem.parameter_df
    assert list(par.index) == ["mu_max", "death_rate", "IC50_palbociclib_CDK4", "K_ER_activity", "sigma_fold_change"]
    assert set(par["parameterScale"]) == {"log10"} and (par["estimate"] == 1).all()
    assert par.loc["IC50_palbociclib_CDK4", "parameterName"] == "palbociclib.inhibition.CDK4"
    assert par.loc["mu_max", "upperBound"] == 0.2
    meas = problem.measurement_df
    assert len(meas) == len(original.data)
    assert np.array_equal(meas["time"].to_numpy(), original.data["time_h"].to_numpy() + 300.0)
    assert np.array_equal(meas["measurement"].to_numpy(), original.data["value"].to_numpy())
    obs = problem.observable_df.loc["obs_fold_change"]
    assert (obs["observableFormula"], obs["observableTransformation"], obs["noiseFormula"]) == \
        ("cells / seeding_cells", "log", "sigma_fold_change")
    cond = problem.condition_df
    assert cond.loc["palbociclib_250nM", "dose_palbociclib"] == 250.0 and cond.loc["e2_10pM", "conc_E2"] == 0.01


@pytest.mark.parametrize("noise, transform, formula", [("proportional", "lin", "sigma_fold_change * (cells / seeding_cells)"),
                                                        ("additive", "lin", "sigma_fold_change")])
def test_other_noise_models_lint_and_read_back(tmp_path, noise, transform, formula):
    from eralpha.qsp import load_spec

    spec = load_spec(SPEC).model_copy(update={"noise": noise})
    path = to_petab(spec, tmp_path / noise, data=pd.read_csv(DATA_DIR / "mcf7_growth.csv"))
    problem = petab.Problem.from_yaml(str(path))
    assert petab.lint_problem(problem) is False
    obs = problem.observable_df.loc["obs_fold_change"]
    assert (obs["observableTransformation"], obs["noiseFormula"]) == (transform, formula)
    assert read_petab(path).noise == noise


# --- round trip against libRoadRunner -----------------------------------------------------------
def _roadrunner_from_files(path, values: dict[str, float], shift: float = 0.0) -> np.ndarray:
    """Every measurement row simulated by libRoadRunner from the PEtab files (``shift``: a deliberate error),
    in a fresh process (tests/_isolated.py says why)."""
    from _isolated import run_isolated

    return run_isolated(_roadrunner_in_this_process, path, values, shift)


def _roadrunner_in_this_process(path, values: dict[str, float], shift: float = 0.0) -> np.ndarray:
    problem = petab.Problem.from_yaml(str(path))
    folder = path.parent
    r = roadrunner.RoadRunner(str(folder / "model.xml"))
    r.integrator.relative_tolerance = TIGHT.rtol
    r.integrator.absolute_tolerance = TIGHT.atol
    r.integrator.maximum_num_steps = 100_000
    meas = problem.measurement_df
    formulas = problem.observable_df["observableFormula"]
    out = np.full(len(meas), np.nan)
    for cid, rows in meas.groupby("simulationConditionId").groups.items():
        r.resetAll()
        for k, v in problem.condition_df.loc[cid].items():
            if k != "conditionName":
                r[k] = float(v)
        for k, v in values.items():
            r[k] = float(v)
        t = meas.loc[rows, "time"].to_numpy(float) - shift
        times = np.unique(np.concatenate([[0.0], t]))
        names = sorted({n for f in formulas for n in _ids(f)})
        res = np.asarray(r.simulate(times=times, selections=["time", *names]))
        for i, row in zip(rows, t):
            k = int(np.flatnonzero(times == row)[0])
            env = dict(zip(names, res[k, 1:]))
            out[meas.index.get_loc(i)] = eval(formulas[meas.loc[i, "observableId"]], {}, env)  # noqa: S307 (our own formula)
    return out


def _ids(formula: str) -> list[str]:
    import re

    return re.findall(r"[A-Za-z_]\w*", formula)


def test_roadrunner_on_the_petab_files_matches_eralpha(exported, original):
    par = petab.Problem.from_yaml(str(exported)).parameter_df
    ids = [i for i in par.index if not i.startswith("sigma_")]
    ours = original.problem.predict(CANDIDATE[None, :], options=TIGHT)[0]
    rr = _roadrunner_from_files(exported, dict(zip(ids, CANDIDATE)))
    rel = np.abs(rr - ours) / np.abs(ours)
    print(f"PEtab round trip: max relative difference {rel.max():.2e} over {len(rel)} measurements")
    assert rel.max() < MAX_REL
    # PEtab's own objective on those simulations is eralpha's: chi2 with sigma = 1 is eralpha's SSR (log residuals)
    problem = petab.Problem.from_yaml(str(exported))
    sims = problem.measurement_df.assign(simulation=rr).rename(columns={"measurement": "simulation_"})
    sims = sims.drop(columns="simulation_")
    par = problem.parameter_df.copy()
    par.loc["sigma_fold_change", "nominalValue"] = 1.0
    chi2 = petab.calculate_chi2(problem.measurement_df, sims, problem.observable_df, par)
    x = np.array([q.to_internal(v) for q, v in zip(original.parameters, CANDIDATE)])
    ssr = float(np.sum(original.residuals(x) ** 2))
    print(f"PEtab chi2 {chi2:.8g} vs eralpha SSR {ssr:.8g}")
    assert chi2 == pytest.approx(ssr, rel=1e-5)  # eralpha's residuals use the default tolerances
    # the comparison can fail: the same files read without the 300 h shift disagree grossly
    wrong = _roadrunner_from_files(exported, dict(zip(ids, CANDIDATE)), shift=TIME_SHIFT_H)
    assert np.max(np.abs(wrong - ours) / np.abs(ours)) > 0.1


def test_a_knowledge_value_feeding_a_rate_becomes_a_parameter_with_rules(tmp_path):
    """A half-life reaches the model as kdeg = ln 2 / t_half: exported as kb_<name> and an assignment rule."""
    from eralpha.qsp import FreeParameter, load_spec

    spec = load_spec(SPEC)
    spec = spec.model_copy(update={"parameters": (spec.parameters[0], FreeParameter(name="CycD_half_life", lower=0.1, upper=10))})
    path = to_petab(spec, tmp_path / "hl", data=pd.read_csv(DATA_DIR / "mcf7_growth.csv"))
    problem = petab.Problem.from_yaml(str(path))
    assert petab.lint_problem(problem) is False
    assert "kb_CycD_half_life" in problem.parameter_df.index
    rule = problem.sbml_model.getAssignmentRule("kdeg_CycD")
    assert rule is not None and "kb_CycD_half_life" in __import__("libsbml").formulaToL3String(rule.getMath())
    cal = from_petab(path)
    assert cal.names == ["mu_max", "CycD_half_life"]
    values = np.array([0.03, 1.5 * cal.problem.defaults[1]])
    ours = cal.problem.predict(values[None, :], options=TIGHT)[0]
    rr = _roadrunner_from_files(path, {"mu_max": values[0], "kb_CycD_half_life": values[1]})
    assert np.max(np.abs(rr - ours) / np.abs(ours)) < MAX_REL


# --- import ---------------------------------------------------------------------------------------
def test_read_back_is_the_same_calibration(exported, original):
    back = read_petab(exported)
    spec = original.spec
    assert back.name == spec.name and back.noise == spec.noise and back.fit == spec.fit
    assert [p.name for p in back.parameters] == [p.name for p in spec.parameters]
    for a, b in zip(back.parameters, spec.parameters):
        assert (a.lower, a.upper, a.scale) == (b.lower, b.upper, b.scale)
    for a, b in zip(back.model.experiments, spec.model.experiments):
        assert (a.id, a.oestradiol, a.drugs, a.seeding) == (b.id, b.oestradiol, b.drugs, b.seeding)
    assert dict(back.model.model_parameters) == dict(spec.model.model_parameters)
    cal = from_petab(exported)
    pd.testing.assert_frame_equal(cal.data, original.data)
    x = np.array([q.to_internal(v) for q, v in zip(cal.parameters, CANDIDATE)])
    assert np.array_equal(cal.residuals(x), original.residuals(x))
    assert Calibration.from_petab(exported).names == original.names


def test_cli_export_and_import(tmp_path, capsys):
    out = tmp_path / "p"
    main(["export", "petab", "mcf7-growth", "--output", str(out)])
    text = capsys.readouterr().out
    assert "problem.yaml" in text and "petab lint: no errors" in text
    main(["import", "petab", str(out / "problem.yaml")])
    text = capsys.readouterr().out
    assert "palbociclib.inhibition.CDK4" in text and "57 data points" in text


def test_cli_import_fit_writes_a_run(tmp_path, capsys):
    to_petab("mcf7-growth", tmp_path / "p")
    main(["import", "petab", str(tmp_path / "p" / "problem.yaml"), "--fit", "--starts", "1", "--no-profile",
          "--runs-dir", str(tmp_path / "runs")])
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1 and (runs[0] / "manifest.json").exists()
    assert "PEtab v1 problem" in (runs[0] / "manifest.json").read_text()
    assert "run written" in capsys.readouterr().out


# --- bad input --------------------------------------------------------------------------------------
def test_bad_input_is_one_clear_error(tmp_path, exported, capsys):
    with pytest.raises(InputError, match="neither a calibration spec file nor a shipped"):
        to_petab("mcf7-grwoth", tmp_path / "x")
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        to_petab("mcf7-growth", afile)
    text = exported.read_text().replace("  observable_files:\n  - observables.tsv\n", "")
    broken = exported.parent / "broken.yaml"
    broken.write_text(text)
    with pytest.raises(InputError, match="observables table is missing"):
        read_petab(broken)
    for args in (["import", "petab", str(broken)], ["export", "petab", "nope", "--output", str(tmp_path / "y")],
                 ["export", "petab", "mcf7-growth", "--output", str(afile)]):
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "y").exists()
    with pytest.raises(InputError, match="not found"):
        read_petab(tmp_path / "missing.yaml")


def test_a_problem_not_written_by_eralpha_is_refused(tmp_path, exported):
    import shutil

    from eralpha.model import assemble_cell_model, write_sbml

    folder = tmp_path / "foreign"
    shutil.copytree(exported.parent, folder)
    write_sbml(assemble_cell_model(cell_line="MCF7"), folder / "model.xml")  # no eralpha PEtab annotation
    with pytest.raises(InputError, match="only problems written by 'eralpha export petab'"):
        read_petab(folder / "problem.yaml")
