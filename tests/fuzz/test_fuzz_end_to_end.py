"""A few mutated scenarios run end to end (``eralpha run``, real simulation): the checks in
test_fuzz_scenarios.py stop before simulating, these make sure that what passes them also runs and
gives physically possible tables (no NaN, no negative concentrations or cell numbers).

Each case is a shipped scenario made small (one compound, few doses and times) with the edge values the
fuzzer generates that are still valid protocols.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
import yaml

from .oracle import run_cli
from .test_fuzz_scenarios import SHIPPED

# quantities that can never be negative, by column name
_NONNEG = re.compile(r"(?i:conc|_nM\b|^cells|volume|auc|cmax|cmin)|^ER(_|$)")


def _small(name: str, **fields) -> dict:
    return {**SHIPPED[name], **fields}


# edge values that must load and run: zero and huge concentrations, a zero dose, a halved dose, one
# time point, one replicate
_Y537S = SHIPPED["xenograft_mind_y537s_lasofoxifene.yaml"]
CASES = {
    "western: zero and huge concentrations, one time": _small(
        "invitro_western_imlunestrant.yaml", cell_lines=["MCF7"], compounds=["imlunestrant"],
        concentrations={"values": [0, 1, 1e5], "unit": "nM"}, times=["24 h"], noise_cv=0.0, expect=[]),
    "pk: zero dose, two subjects, one week": _small(
        "pk_letrozole_human.yaml", subjects=2, duration="7 d", regimen="0 mg oral q24h"),
    "xenograft: one replicate, a halved dose, 14 days": _small(
        "xenograft_mind_y537s_lasofoxifene.yaml", replicates=1, duration="14 d", claims=[],
        arms=[_Y537S["arms"][0], {**_Y537S["arms"][1], "drugs": [{**_Y537S["arms"][1]["drugs"][0], "dose": "2.5 mg/kg"}]}]),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_mutated_scenario_runs_end_to_end(case, tmp_path):
    doc = CASES[case]
    file = tmp_path / "scenario.yaml"
    file.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    out = run_cli(["run", str(file), "--runs-dir", str(tmp_path / "runs")])
    assert out.kind == "ok", out.describe()  # every case is a valid protocol
    tables = sorted((tmp_path / "runs").glob("*/tables/*.csv"))
    assert tables, "the run wrote no tables"
    for path in tables:
        frame = pd.read_csv(path)
        assert len(frame), f"{path.name} is empty"
        for col in frame.select_dtypes("number").columns:
            values = frame[col].dropna()
            assert all(math.isfinite(v) for v in values), f"{path.name}: {col} holds inf"
            if _NONNEG.search(col):
                assert (values >= -1e-9).all(), f"{path.name}: {col} is negative ({values.min()})"
