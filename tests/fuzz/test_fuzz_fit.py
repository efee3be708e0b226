"""Fuzz every ``eralpha fit`` command with mutated copies of its example CSVs (see csv_mutations.py).

Each case runs the CLI in-process (``--format json``) and must end in a correct result or exit 2 with
a good one-line message; the oracle is in oracle.py, each command's sanity check in fit_commands.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .csv_mutations import BENIGN_OPS, Table, apply, mutations
from .fit_commands import COMMANDS, DATA, FitCommand, probabilities
from .harness import Recorder, fuzz_settings
from .oracle import Outcome, message_problems, run_cli


def _write(folder: Path, cmd: FitCommand, tables: dict[str, Table]) -> dict[str, str]:
    paths = {}
    for role, name in cmd.files.items():
        path = folder / name
        path.write_bytes(tables[role].to_bytes())
        paths[role] = str(path)
    return paths


def _cells(table: Table, column: str) -> list[str]:
    idx = [j for j, h in enumerate(table.header) if h.strip() == column]
    return [r[j] for r in table.rows for j in idx if j < len(r)]


def _as_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _unjustified(cmd: FitCommand, table: Table) -> list[str]:
    """Why exit 0 would be wrong for this input whatever the numbers: bad values a fit must refuse."""
    out = []
    names = [h.strip() for h in table.header]
    for col in cmd.used:
        if names.count(col) > 1:
            out.append(f"duplicated column '{col}' accepted (which copy was used?)")
    for col in cmd.numeric:
        values = [_as_float(c) for c in _cells(table, col)]
        if any(v is not None and math.isinf(v) for v in values):
            out.append(f"an infinite value in column '{col}' accepted")
        if col in cmd.nonneg and any(v is not None and v < 0 for v in values):
            out.append(f"a negative value in column '{col}' accepted")
    return out


def _same(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys differ"]
        return [p for k in a for p in _same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items, not {len(b)}"]
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, (int, float)):
        return [] if math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-12) else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def judge(cmd: FitCommand, table: Table, outcome: Outcome, paths: dict[str, str], baseline: dict) -> Outcome:
    """Fill ``outcome.problems`` with every way it breaks the property."""
    if outcome.kind == "error":
        outcome.problems = message_problems(outcome.message, list(paths.values()))
    elif outcome.kind == "other":
        outcome.problems = [f"exit status {outcome.code} (neither 0 nor 2)"]
    elif outcome.kind == "ok":
        try:
            js = outcome.json()
        except ValueError:
            outcome.problems = ["exit 0 but the output is not the JSON asked for"]
            return outcome
        problems = cmd.check(js) + probabilities(js) + _unjustified(cmd, table)
        benign = {op for op, *_ in table.log} <= BENIGN_OPS and not table.lossy_encoding
        if benign and not problems:
            diff = _same(js, baseline)
            if diff:
                problems.append("same content in another encoding/delimiter gave another result: " + "; ".join(diff[:3]))
        outcome.problems = problems
    return outcome


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_fit_command_survives_mutated_csv(name, tmp_path):
    cmd = COMMANDS[name]
    originals = {role: cmd.cut(Table.parse((DATA / f).read_text())) for role, f in cmd.files.items()}
    paths = _write(tmp_path, cmd, originals)
    base = run_cli(["fit", name, *cmd.args(paths), "--format", "json"])
    assert base.kind == "ok", base.describe()
    baseline = base.json()
    assert not cmd.check(baseline), cmd.check(baseline)  # the oracle accepts the shipped example
    recorder = Recorder(f"fit {name}")

    @fuzz_settings("fit")
    @given(role=st.sampled_from(sorted(cmd.files)), ops=st.lists(mutations(), min_size=1, max_size=3))
    def case(role, ops):
        table = originals[role]
        for op in ops:
            table = apply(table, op)
        paths = _write(tmp_path, cmd, {**originals, role: table})
        outcome = run_cli(["fit", name, *cmd.args(paths), "--format", "json"])
        judge(cmd, table, outcome, paths, baseline)
        recorder.judge(name, table.log, outcome, f"eralpha fit {name} on {cmd.files[role]} mutated by {ops}")

    case()
    recorder.finish()
