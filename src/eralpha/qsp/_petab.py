"""PEtab v1 export and import of a calibration: the SBML model, the five tables and the problem YAML.

How eralpha's protocol maps onto PEtab v1 (whose pre-equilibration is to a steady state, which eralpha's is not):

* eralpha runs the cells in their medium for 300 h (``PRE_EQUILIBRATION_H``) from the model's initial
  state and then, at its t = 0, adds the drugs and re-seeds. In the PEtab problem the SBML time starts
  at the start of that pre-equilibration, and SBML events at **t = 300 h** set ``conc_<drug>`` to the
  condition's dose parameter ``dose_<drug>`` and the cell number to ``seeding_cells``. The conditions
  table sets ``conc_E2`` (medium oestradiol, throughout), every ``dose_<drug>`` and ``seeding_cells``.
  Doses are nominal; a CDK4/6 inhibitor's event sets ``conc_<drug>`` to ``dose_<drug> * fu_medium_<drug>``
  (its free share in 10 % serum, :mod:`eralpha.model._medium`), as eralpha's own simulation does.
* Measurement times are therefore eralpha's times **+ 300 h** (``TIME_SHIFT_H``); :func:`read_petab`
  subtracts it again.
* Free parameters are the estimated rows of the parameters table (log10 or linear scale, bounds and the
  nominal value in force without the calibration). A cell-model parameter keeps its SBML id; a
  knowledge-base value that reaches the model as one parameter of equal value (``palbociclib.inhibition.CDK4``
  -> ``IC50_palbociclib_CDK4``) is that parameter; one that scales model parameters as a power law gets
  its own parameter ``kb_<name>`` and the model parameters become assignment rules of it.
* Noise: lognormal -> observableTransformation ``log`` with noiseFormula ``sigma_<obs>``; proportional ->
  ``lin`` with ``sigma_<obs> * (formula)``; additive -> ``lin`` with ``sigma_<obs>``; noiseDistribution
  ``normal`` and the sigma estimated (eralpha itself profiles it out).
* Observable ids are ``obs_<eralpha observable>``; ``fold_change`` is ``cells / seeding_cells``.
* What eralpha needs to rebuild the calibration (cell line, tissue, fixed knowledge-base overrides and
  cell-model values, fit options, the eralpha name of each parameter) is kept in an annotation of the
  SBML model in the namespace ``PETAB_NS``; :func:`read_petab` reads problems written by :func:`to_petab`.

>>> from eralpha.qsp import to_petab, from_petab
>>> yaml_path = to_petab("mcf7-growth", "petab-mcf7")
>>> cal = from_petab(yaml_path).fit()
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ._spec import CalibrationSpec, Experiment, FitOptions, FreeParameter, ModelSpec, load_spec

__all__ = ["to_petab", "read_petab", "from_petab", "PetabCalibration", "TIME_SHIFT_H", "PETAB_NS", "resolve_spec"]

PETAB_NS = "https://eralpha.dev/petab/1"
SEEDING = "seeding_cells"
FILES = {"sbml": "model.xml", "conditions": "conditions.tsv", "observables": "observables.tsv",
         "measurements": "measurements.tsv", "parameters": "parameters.tsv", "yaml": "problem.yaml"}
_SIGMA = {"nominal": 0.1, "lower": 1e-4, "upper": 10.0}  # bounds of every noise parameter (natural scale)


#: eralpha's pre-equilibration (eralpha.experiments.PRE_EQUILIBRATION_H, checked in the tests): PEtab time - eralpha time
TIME_SHIFT_H = 300.0


def resolve_spec(target: str | Path | CalibrationSpec) -> tuple[CalibrationSpec, Path | None]:
    """A spec object, a spec file or the name of a shipped spec -> (spec, its path); one clear error otherwise."""
    from ._runs import DATA_DIR, not_a_calibration

    if isinstance(target, CalibrationSpec):
        return target, None
    path = Path(target)
    if path.is_file():
        return load_spec(path), path
    shipped = {p.stem.replace("_", "-"): p for p in sorted(DATA_DIR.glob("*.yaml"))
               if _is_calibration_spec(p)}
    if str(target) in shipped:
        return load_spec(shipped[str(target)]), shipped[str(target)]
    raise not_a_calibration(target, shipped)


def _is_calibration_spec(path: Path) -> bool:
    try:
        load_spec(path)
        return True
    except InputError:
        return False


# --- export -----------------------------------------------------------------------------------------
def _power_law(name: str, v0: float, base, ms: ModelSpec, line: str, compounds) -> dict[str, tuple[float, float]]:
    """Model parameters that knowledge-base value ``name`` sets: {parameter: (c, a)} with p = c * kb ** a
    (found from the model assembled at 2x and 5x the value; anything else is one clear error)."""
    from ..experiments import condition_model
    from ..knowledge import knowledge_overrides

    base_p = {p.name: p.value for p in base.parameters}
    base_y = [s.initial for s in base.species]
    changed: list[dict] = []
    for f in (2.0, 5.0):
        with knowledge_overrides(ms.knowledge_overrides, origin="calibration spec"), \
                knowledge_overrides({name: v0 * f}, origin="PEtab export"):
            m = condition_model(line, compounds, ms.tissue)
        if [s.initial for s in m.species] != base_y:
            raise InputError("changes the model's initial state, which the PEtab export cannot express", field="parameters",
                             value=name, valid="a cell-model parameter or a knowledge-base value that sets model parameters")
        changed.append({p.name: p.value for p in m.parameters if p.value != base_p[p.name]})
    if not changed[0]:
        raise InputError("does not change the model of these experiments", field="parameters", value=name)
    out = {}
    for q in sorted(set(changed[0]) | set(changed[1])):
        q0, q2, q5 = base_p[q], changed[0].get(q, base_p[q]), changed[1].get(q, base_p[q])
        if min(q0, q2, q5) <= 0:
            raise InputError(f"sets model parameter {q} in a way the PEtab export cannot express", field="parameters", value=name)
        a = math.log(q2 / q0) / math.log(2.0)
        a = float(round(a)) if abs(a - round(a)) < 1e-9 else a
        if not math.isclose(q5, q0 * 5.0 ** a, rel_tol=1e-9):
            raise InputError(f"sets model parameter {q} non-linearly (not a power law); the PEtab export cannot express it",
                             field="parameters", value=name)
        out[q] = (q0 / v0 ** a, a)
    return out


@dataclass
class _Export:
    """What the tables are made of: the model, its events and the id of every free parameter."""

    model: object
    events: list
    ids: dict[str, str]  # eralpha name -> PEtab parameter id
    doses: dict[str, str]  # dose parameter -> compound
    fixed: dict[str, float]
    defaults: dict[str, float]


def _build(spec: CalibrationSpec, problem) -> _Export:
    from ..engine import Event
    from ..experiments import condition_model
    from ..knowledge import knowledge_overrides, load_knowledge
    from ..model import Expression, Model, Parameter, assumed
    from ..model._cell import conc_param
    from ..model._medium import medium_unbound_fraction
    from ..model._sbml import sbml_id

    ms = spec.model
    if len(problem.lines) != 1:
        raise InputError("a PEtab problem has one model; these experiments use several cell lines", field="model.experiments",
                         value=", ".join(problem.lines), valid="one cell line per exported calibration")
    line, compounds = problem.lines[0], problem.compounds
    with knowledge_overrides(ms.knowledge_overrides, origin="calibration spec"):
        model = condition_model(line, compounds, ms.tissue)
        # the conditions table holds nominal doses; a CDK4/6 inhibitor reaches the cells at its free share
        fu_medium = {c: medium_unbound_fraction(c) for c in compounds}
    kb = load_knowledge()
    shift = TIME_SHIFT_H
    note = "PEtab condition parameter: set per condition in the conditions table"
    extra = [Parameter(SEEDING, next(s.initial for s in model.species if s.name == "cells"), "cells",
                       assumed("PEtab export", note), "cells seeded when the drugs are added (t = 300 h here, eralpha's t = 0)")]
    events, doses = [], {}
    for c in compounds:
        target = conc_param(kb.compound(c).name)
        dose = "dose_" + sbml_id(c)
        doses[dose] = c
        extra.append(Parameter(dose, 0.0, "nM", assumed("PEtab export", note), f"{c} added at t = 300 h (nominal, nM)"))
        if fu_medium[c] == 1.0:
            events.append(Event(shift, target, dose))
        else:
            fu = "fu_medium_" + sbml_id(c)
            extra.append(Parameter(fu, fu_medium[c], "dimensionless",
                                   assumed("PEtab export", "eralpha.model._medium: 10 % serum binding (Kalvass & Maurer 2002)"),
                                   f"unbound fraction of {c} in the medium"))
            events.append(Event(shift, target, f"{dose} * {fu}"))
    events.append(Event(shift, "cells", SEEDING))
    ids, defaults = {}, {}
    rules = []
    for rp in problem.parameters:
        name = rp.spec.name
        defaults[name] = rp.default
        if rp.route == "model":
            ids[name] = name
            continue
        law = _power_law(name, rp.default, model, ms, line, compounds)
        if len(law) == 1:
            (q, (c, a)), = law.items()
            if a == 1.0 and math.isclose(c, 1.0, rel_tol=1e-12) and q not in ids.values():
                ids[name] = q
                continue
        taken = sorted(set(law) & ({e.name for e in rules} | set(ids.values())))
        if taken:
            raise InputError(f"sets model parameter {taken[0]}, which another free parameter already sets; "
                             "the PEtab export cannot combine them", field="parameters", value=name)
        pid = "kb_" + sbml_id(name)
        ids[name] = pid
        extra.append(Parameter(pid, rp.default, rp.unit or "dimensionless", assumed("PEtab export", f"knowledge-base value {name}"),
                               f"knowledge-base value {name}, estimated here"))
        rules += [Expression(q, f"{c!r} * {pid} ^ ({a!r})" if a != 1.0 else f"{c!r} * {pid}",
                             next(p.unit for p in model.parameters if p.name == q), f"set by {name}")
                  for q, (c, a) in law.items()]
    model = model + Model(name=model.name, parameters=tuple(extra))
    for e in rules:
        model = model.parameter_to_expression(e)
    fixed = {"conc_A4": 0.0, **{k: float(v) for k, v in ms.model_parameters.items()}}
    return _Export(model, events, ids, doses, fixed, defaults)


def _annotate(doc, meta: dict) -> None:
    import libsbml

    attrs = libsbml.XMLAttributes()
    attrs.add("json", json.dumps(meta, sort_keys=True))
    ns = libsbml.XMLNamespaces()
    ns.add(PETAB_NS, "eralphapetab")
    node = libsbml.XMLNode(libsbml.XMLTriple("calibration", PETAB_NS, "eralphapetab"), attrs, ns)
    if doc.getModel().appendAnnotation(node) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise InputError("libsbml refused the eralpha PEtab annotation", field="sbml")


def _output_dir(directory: str | Path) -> Path:
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a folder", file=str(out), field="output", valid="a folder (created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder ({exc.strerror})", file=str(out), field="output") from None
    return out


def _write_table(df: pd.DataFrame, path: Path) -> None:
    from ..model._sbml import write_text_atomic

    df = df.apply(lambda col: col.map(lambda x: repr(float(x))) if col.dtype.kind == "f" else col)  # shortest exact text
    write_text_atomic(df.to_csv(sep="\t", index=False), path)


def to_petab(spec: str | Path | CalibrationSpec, directory: str | Path, data: pd.DataFrame | None = None) -> Path:
    """Write the PEtab v1 problem of a calibration spec (file, shipped name or object) into ``directory``.

    Returns the path of the problem YAML (``problem.yaml``); the SBML model (``model.xml``) and the
    conditions, observables, measurements and parameters tables (TSV) lie beside it.
    """
    from ..model._sbml import checked_sbml_string, to_sbml_document, write_text_atomic
    from ._calibration import Calibration

    spec, path = resolve_spec(spec)
    out = _output_dir(directory)
    cal = Calibration.from_spec(path if path is not None else spec, data=data)
    problem = cal.problem
    ex = _build(spec, problem)
    shift = TIME_SHIFT_H
    meta = {"format": 1, "name": spec.name, "description": spec.description, "cell_line": problem.lines[0],
            "tissue": spec.model.tissue, "knowledge_overrides": dict(spec.model.knowledge_overrides),
            "model_parameters": dict(spec.model.model_parameters), "fit": spec.fit.model_dump(),
            "parameters": {pid: name for name, pid in ex.ids.items()}, "doses": ex.doses, "time_shift_h": shift}
    doc = to_sbml_document(ex.model, events=ex.events, parameters=ex.fixed)
    _annotate(doc, meta)
    write_text_atomic(checked_sbml_string(doc, ex.model.name), out / FILES["sbml"])

    default_seed = next(s.initial for s in problem.base_models[problem.lines[0]].species if s.name == "cells")
    conditions = pd.DataFrame([{"conditionId": e.id, "conditionName": e.note or e.id, "conc_E2": e.oestradiol,
                                **{d: e.drugs.get(c, 0.0) for d, c in ex.doses.items()},
                                SEEDING: e.seeding or default_seed} for e in spec.model.experiments])
    obs_rows = []
    for obs in dict.fromkeys(cal.data["observable"]):
        formula = f"cells / {SEEDING}" if obs == "fold_change" else obs
        sigma = f"sigma_{obs}"
        obs_rows.append({"observableId": f"obs_{obs}", "observableName": obs, "observableFormula": formula,
                         "observableTransformation": "log" if cal.noise == "lognormal" else "lin",
                         "noiseFormula": f"{sigma} * ({formula})" if cal.noise == "proportional" else sigma,
                         "noiseDistribution": "normal"})
    observables = pd.DataFrame(obs_rows)
    d = cal.data
    measurements = pd.DataFrame({"observableId": "obs_" + d["observable"], "simulationConditionId": d["experiment"],
                                 "time": d["time_h"] + shift, "measurement": d["value"]})
    par_rows = []
    for q in cal.parameters:
        par_rows.append({"parameterId": ex.ids[q.name], "parameterName": q.name,
                         "parameterScale": "log10" if q.scale == "log" else "lin", "lowerBound": q.lower,
                         "upperBound": q.upper, "nominalValue": ex.defaults[q.name], "estimate": 1})
    for obs in dict.fromkeys(cal.data["observable"]):
        par_rows.append({"parameterId": f"sigma_{obs}", "parameterName": f"noise scale of {obs} ({cal.noise})",
                         "parameterScale": "log10", "lowerBound": _SIGMA["lower"], "upperBound": _SIGMA["upper"],
                         "nominalValue": _SIGMA["nominal"], "estimate": 1})
    for name, df in (("conditions", conditions), ("observables", observables), ("measurements", measurements),
                     ("parameters", pd.DataFrame(par_rows))):
        _write_table(df, out / FILES[name])
    import yaml

    problem_yaml = {"format_version": 1, "parameter_file": FILES["parameters"],
                    "problems": [{"sbml_files": [FILES["sbml"]], "condition_files": [FILES["conditions"]],
                                  "measurement_files": [FILES["measurements"]], "observable_files": [FILES["observables"]]}]}
    target = out / FILES["yaml"]
    write_text_atomic(f"# PEtab v1 problem written by eralpha from calibration '{spec.name}'.\n"
                      f"# Times are eralpha's + {shift:g} h: the SBML model pre-equilibrates from t = 0 and its events at\n"
                      f"# t = {shift:g} h add the drugs (dose_* parameters) and re-seed the cells (seeding_cells).\n"
                      + yaml.safe_dump(problem_yaml, sort_keys=False), target)
    return target


# --- import -----------------------------------------------------------------------------------------
@dataclass
class PetabCalibration:
    """A PEtab problem read back as what eralpha's :class:`~eralpha.qsp.Calibration` needs."""

    name: str
    model: ModelSpec
    parameters: tuple[FreeParameter, ...]
    data: pd.DataFrame  # experiment, time (h, eralpha's: PEtab time - 300), observable, value
    noise: str
    fit: FitOptions
    path: Path
    tables: dict[str, Path] = field(default_factory=dict)
    time_shift_h: float = TIME_SHIFT_H

    def calibration(self):
        from ._calibration import Calibration

        cal = Calibration(self.model, self.parameters, self.data, noise=self.noise, starts=self.fit.starts,
                          seed=self.fit.seed, max_nfev=self.fit.max_nfev, file=str(self.tables.get("measurements", self.path)),
                          name=self.name)
        cal.petab = self
        return cal


def _problem_files(path: Path) -> dict[str, Path]:
    """The table and model files the problem YAML names (every one must be there), or one InputError."""
    from ..scenario import read_yaml

    if not path.is_file():
        raise InputError("PEtab problem file not found", file=str(path), valid="the problem YAML written by eralpha export petab")
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise InputError("not a PEtab problem YAML (not a mapping)", file=str(path))
    problems = raw.get("problems")
    if not isinstance(problems, list) or len(problems) != 1 or not isinstance(problems[0], dict):
        raise InputError("a PEtab v1 problem YAML needs exactly one entry under 'problems'", file=str(path), field="problems")
    keys = {"parameters": ("parameter_file", raw), "sbml": ("sbml_files", problems[0]),
            "conditions": ("condition_files", problems[0]), "measurements": ("measurement_files", problems[0]),
            "observables": ("observable_files", problems[0])}
    files = {}
    for what, (key, where) in keys.items():
        value = where.get(key)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        if not isinstance(value, str) or not value:
            raise InputError(f"the {what} table is missing (one file expected)", file=str(path), field=key,
                             valid="a file name relative to the YAML")
        f = (path.parent / value) if not Path(value).is_absolute() else Path(value)
        if not f.is_file():
            raise InputError(f"the {what} file does not exist", file=str(path), field=key, value=value)
        files[what] = f
    return files


def _read_meta(sbml_path: Path) -> dict:
    import libsbml

    doc = libsbml.readSBMLFromFile(str(sbml_path))
    m = doc.getModel()
    if m is None:
        raise InputError("not an SBML model (libsbml read no <model>)", file=str(sbml_path))
    ann = m.getAnnotation()
    for i in range(ann.getNumChildren() if ann is not None else 0):
        node = ann.getChild(i)
        if node.getName() == "calibration" and node.getURI() == PETAB_NS:
            return json.loads(node.getAttributes().getValue("json"))
    raise InputError("the SBML model has no eralpha calibration annotation: only problems written by "
                     "'eralpha export petab' can be read back", file=str(sbml_path))


def _table(path: Path, what: str, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, sep="\t")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the {what} table ({exc.__class__.__name__})", file=str(path)) from None
    for col in required:
        if col not in df.columns:
            raise InputError(f"the {what} table has no column '{col}'", file=str(path), field=col,
                             valid=", ".join(required))
    return df


def _noise(observables: pd.DataFrame, file: str) -> str:
    kinds = set()
    for _, r in observables.iterrows():
        transform = str(r.get("observableTransformation", "lin")) if pd.notna(r.get("observableTransformation")) else "lin"
        dist = str(r.get("noiseDistribution", "normal")) if pd.notna(r.get("noiseDistribution")) else "normal"
        if dist != "normal" or transform not in ("lin", "log"):
            raise InputError(f"observable {r['observableId']}: eralpha fits normal noise on a lin or log scale only",
                             file=file, field="noiseDistribution", value=f"{dist}/{transform}")
        kinds.add("lognormal" if transform == "log" else ("proportional" if "*" in str(r["noiseFormula"]) else "additive"))
    if len(kinds) != 1:
        raise InputError("the observables use different noise models; eralpha fits one", file=file, field="noiseFormula",
                         value=", ".join(sorted(kinds)))
    return kinds.pop()


def read_petab(path: str | Path) -> PetabCalibration:
    """Read a PEtab v1 problem written by :func:`to_petab` back into eralpha's terms (see the module notes)."""
    path = Path(path)
    files = _problem_files(path)
    meta = _read_meta(files["sbml"])
    shift = float(meta.get("time_shift_h", TIME_SHIFT_H))
    cond = _table(files["conditions"], "conditions", ("conditionId", "conc_E2", SEEDING))
    obs = _table(files["observables"], "observables", ("observableId", "observableFormula", "noiseFormula"))
    meas = _table(files["measurements"], "measurements", ("observableId", "simulationConditionId", "time", "measurement"))
    par = _table(files["parameters"], "parameters", ("parameterId", "parameterScale", "lowerBound", "upperBound", "estimate"))
    doses = meta.get("doses", {})
    experiments = []
    for _, r in cond.iterrows():
        name = r.get("conditionName")
        drugs = {c: float(r[d]) for d, c in doses.items() if d in cond.columns and float(r[d]) > 0}
        experiments.append(Experiment(id=str(r["conditionId"]), oestradiol=float(r["conc_E2"]), drugs=drugs,
                                      seeding=float(r[SEEDING]),
                                      note="" if pd.isna(name) or str(name) == str(r["conditionId"]) else str(name)))
    model = ModelSpec(cell_line=meta["cell_line"], tissue=meta["tissue"], experiments=tuple(experiments),
                      knowledge_overrides=meta.get("knowledge_overrides", {}), model_parameters=meta.get("model_parameters", {}))
    noise_ids = set(obs["noiseFormula"].astype(str).str.extract(r"(sigma_\w+)")[0].dropna())
    params = []
    for _, r in par.iterrows():
        pid = str(r["parameterId"])
        if int(r["estimate"]) != 1 or pid in noise_ids:
            continue
        scale = {"log10": "log", "lin": "linear"}.get(str(r["parameterScale"]))
        if scale is None:
            raise InputError(f"parameter {pid}: eralpha estimates on a log10 or lin scale", file=str(files["parameters"]),
                             field="parameterScale", value=str(r["parameterScale"]), valid="log10, lin")
        params.append(FreeParameter(name=meta.get("parameters", {}).get(pid, pid), lower=float(r["lowerBound"]),
                                    upper=float(r["upperBound"]), scale=scale))
    if not params:
        raise InputError("no estimated parameter (estimate = 1) besides the noise scales", file=str(files["parameters"]),
                         field="estimate")
    obs_name = dict(zip(obs["observableId"].astype(str), obs["observableId"].astype(str).str.removeprefix("obs_")))
    unknown = sorted(set(meas["observableId"].astype(str)) - set(obs_name))
    if unknown:
        raise InputError("measurements name an observable the observables table lacks", file=str(files["measurements"]),
                         field="observableId", value=unknown[0], valid=", ".join(obs_name))
    data = pd.DataFrame({"experiment": meas["simulationConditionId"].astype(str),
                         "time": pd.to_numeric(meas["time"], errors="coerce") - shift,
                         "observable": meas["observableId"].astype(str).map(obs_name),
                         "value": pd.to_numeric(meas["measurement"], errors="coerce")})
    return PetabCalibration(name=str(meta.get("name", path.stem)), model=model, parameters=tuple(params), data=data,
                            noise=_noise(obs, str(files["observables"])), fit=FitOptions(**meta.get("fit", {})),
                            path=path, tables=files, time_shift_h=shift)


def from_petab(path: str | Path):
    """eralpha's :class:`~eralpha.qsp.Calibration` of a PEtab problem written by :func:`to_petab` (not yet fitted)."""
    return read_petab(path).calibration()

