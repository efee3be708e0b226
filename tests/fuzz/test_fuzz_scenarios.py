"""Fuzz ``eralpha run`` with mutated copies of every shipped scenario (in-vitro, PK, xenograft).

Simulating every case would take hours, so the runners are replaced by a stub that stops the command
once the scenario has been read and validated (everything ``eralpha run`` checks before it simulates
is exercised); a validated scenario then gets cheap checks of what a run would be asked to do. A few
mutated scenarios are run end to end in test_fuzz_end_to_end.py (marked slow).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import eralpha.experiments
import eralpha.trials
from eralpha.pk._scenario import PKScenario
from eralpha.scenario import shipped_scenarios

from .harness import Recorder, fuzz_settings
from .oracle import Outcome, message_problems, run_cli
from .scenario_mutations import apply, mutations

SHIPPED = {p.name: yaml.safe_load(p.read_text()) for p in shipped_scenarios()}


def _family(doc: dict) -> str:
    return {"pk": "pk", "xenograft": "xenograft", "trial": "trial"}.get(doc.get("kind"), "invitro")


FAMILIES = sorted({_family(d) for d in SHIPPED.values()})

# what a run may be asked to hold at once before it must be refused up front (issue 12, item 3)
MAX_VALUES = 2e7


class Validated(Exception):
    """Raised by the stub runner: the scenario passed every up-front check."""

    def __init__(self, scenario) -> None:
        self.scenario = scenario


def _floats(obj, path=""):
    if isinstance(obj, float):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _floats(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _floats(v, f"{path}[{i}]")


def cheap_checks(scenario, doc: dict) -> list[str]:
    """What is wrong with a scenario that loaded, without running it."""
    out = []
    if isinstance(scenario, PKScenario):
        doses = [e.dose.amount for e in scenario.regimen.events]
        if any(not math.isfinite(d) for d in doses):
            out.append("a non-finite dose accepted")
        if any(d < 0 for d in doses):
            out.append("a negative dose accepted")
        if not len(scenario.times) or not all(math.isfinite(t) for t in scenario.times):
            out.append("no or non-finite output times")
        if scenario.body_weight_kg is not None and not (0 < scenario.body_weight_kg < 1e4):
            out.append(f"body weight {scenario.body_weight_kg} kg accepted")
        if scenario.subjects * max(len(scenario.times), 1) > MAX_VALUES:
            out.append(f"resource: {scenario.subjects} subjects x {len(scenario.times)} times accepted")
        return out
    dump = scenario.model_dump()
    out += [f"{p} = {x} accepted (not finite)" for p, x in _floats(dump) if not math.isfinite(x)]
    if doc.get("kind") == "trial" and getattr(scenario, "kind", "trial") == "trial":
        return out  # its design checks (arms, doses, schedule, eligibility) are the schema's
    if scenario.kind == "xenograft":
        from eralpha.pk import parse_dose

        for arm in scenario.arms:
            for d in arm.drugs:
                if parse_dose(d.dose).amount < 0:
                    out.append(f"a negative dose accepted ({d.dose})")
        mice = scenario.replicates * sum(a.group_size for a in scenario.arms)
        saved = (scenario.establish + scenario.duration) / max(scenario.imaging_every, 1e-9)
        if mice * saved > MAX_VALUES or scenario.duration > 1e6:
            out.append(f"resource: {mice} mice x {saved:.3g} saved times accepted")
        return out
    # cell_lines has a documented default ([MCF7]); an expectation reading a line that is not run is the
    # defect, and is checked below
    lines = set(getattr(scenario, "cell_lines", []) or [])
    # result rows label compounds as written, or with a suffix ("X (positive control)", "X washout")
    compounds = {c for c in [*(getattr(scenario, "compounds", []) or []), getattr(scenario, "combination_partner", None),
                             getattr(scenario, "positive_control", None)] if c}
    for e in scenario.expect:
        if "cell_line" in e.at and lines and e.at["cell_line"] not in lines:
            out.append(f"expectation names cell line {e.at['cell_line']!r}, not one of {sorted(lines)}")
        if "compound" in e.at and compounds and not any(str(e.at["compound"]).startswith(c) for c in compounds):
            out.append(f"expectation names compound {e.at['compound']!r}, not one of {sorted(compounds)}")
    return out


def judge(outcome: Outcome, file: Path, doc: dict) -> Outcome:
    if outcome.kind == "traceback" and outcome.exc.startswith("Validated"):
        outcome.kind = "validated"
        outcome.problems = cheap_checks(outcome.exception.scenario, doc)
    elif outcome.kind == "error":
        outcome.problems = message_problems(outcome.message, [str(file)])
    elif outcome.kind in ("ok", "other"):
        outcome.problems = [f"exit {outcome.code} without running the scenario"]
    return outcome


@pytest.fixture
def stub_runners(monkeypatch):
    def stop(scenario, *args, **kwargs):
        raise Validated(scenario)

    monkeypatch.setattr(eralpha.experiments, "run_experiment", stop)
    monkeypatch.setattr(PKScenario, "run", lambda self: stop(self))
    monkeypatch.setattr(eralpha.trials, "run_trial", stop)


def _command(family: str, file: Path, runs: Path) -> list[str]:
    """Trial scenarios run with `eralpha trial run`, every other kind with `eralpha run`."""
    return ["trial", "run", str(file), "--runs-dir", str(runs)] if family == "trial" else ["run", str(file), "--runs-dir", str(runs)]


@pytest.mark.parametrize("family", FAMILIES)
def test_run_survives_mutated_scenario(family, tmp_path, stub_runners):
    names = sorted(n for n, d in SHIPPED.items() if _family(d) == family)
    recorder = Recorder(f"run {family}")
    file = tmp_path / "scenario.yaml"

    # every shipped scenario of this family passes the checks unmutated
    for n in names:
        file.write_text(yaml.safe_dump(SHIPPED[n], allow_unicode=True, sort_keys=False))
        out = judge(run_cli(_command(family, file, tmp_path / "runs")), file, SHIPPED[n])
        assert out.kind == "validated" and not out.problems, (n, out.describe())

    @fuzz_settings("scenario")
    @given(name=st.sampled_from(names), ops=st.lists(mutations(), min_size=1, max_size=3))
    def case(name, ops):
        doc, done = SHIPPED[name], []
        for op in ops:
            doc, what = apply(doc, op)
            done.append(what)
        file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        outcome = judge(run_cli(_command(family, file, tmp_path / "runs")), file, doc)
        recorder.judge(family if family != "invitro" else doc.get("kind", "invitro"), [(d, None, "") for d in done],
                       outcome, f"{name} mutated by {[d for d in done if d]}")

    case()
    recorder.finish()
