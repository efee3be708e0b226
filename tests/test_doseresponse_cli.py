"""`eralpha fit dose-response`: JSON layout, plots and clear errors (exit status 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


DATA = Path(__file__).parent / "data" / "drc"


def test_json_with_shared_limits(cli, tmp_path):
    png = tmp_path / "salba.png"
    code, out, err = cli("fit", "dose-response", str(DATA / "S.alba.csv"), "--dose", "Dose", "--response",
                         "DryMatter", "--group", "Herbicide", "--share", "c,d", "--format", "json",
                         "--plot", str(png), "--potency", "Glyphosate/Bentazone")
    assert code == 0, err
    doc = json.loads(out)
    # shared parameters once under their plain name, per-curve ones as b:GROUP (drc's labels)
    assert set(doc["parameters"]) == {"b:Bentazone", "b:Glyphosate", "c", "d", "e:Bentazone", "e:Glyphosate"}
    curve = doc["curves"]["Glyphosate"]
    assert curve["status"] == "converged" and curve["reason"] == ""
    assert set(curve["estimates"]) == {"b", "c", "d", "e"}
    assert set(curve["std_errors"]) == {"b", "c", "d", "e"}
    assert curve["shared"] == ["c", "d"]
    assert set(curve["prism_estimates"]) >= {"Bottom", "Top", "LogIC50", "HillSlope"}
    assert curve["prism_estimates"]["HillSlope"] == pytest.approx(-curve["estimates"]["b"])
    assert set(curve["ci"]["wald"]) == set(curve["ci"]["profile"]) == {"b", "c", "d", "e"}
    assert curve["df"] == 62 and curve["residual_se"] == pytest.approx(0.3705, rel=1e-3)
    assert doc["relative_potency"][0]["estimate"] == pytest.approx(
        curve["estimates"]["e"] / doc["curves"]["Bentazone"]["estimates"]["e"])
    assert png.exists() and png.stat().st_size > 5000


def test_table_output_and_dropped_rows(cli, tmp_path):
    d = pd.read_csv(DATA / "ryegrass.csv")
    d.loc[3, "rootl"] = np.nan
    path = tmp_path / "rye.csv"
    d.to_csv(path, index=False)
    code, out, err = cli("fit", "dose-response", str(path), "--dose", "conc", "--response", "rootl")
    assert code == 0, err
    assert "1 row(s) dropped" in out and "converged" in out
    code, out, _ = cli("fit", "dose-response", str(path), "--dose", "conc", "--response", "rootl", "--format", "json")
    assert json.loads(out)["dropped_rows"] == {"count": 1, "rows": [5]}


@pytest.mark.parametrize(
    "content, args, message",
    [
        ("conc,resp\n0,1\n1,2\n", ["--dose", "Conc", "--response", "resp"], "did you mean 'conc'"),
        ("conc,resp\n0,1\n1,x\n", ["--dose", "conc", "--response", "resp"], "row 3, column 'resp': 'x' is not a number"),
        ("conc,resp\n-1,1\n1,2\n", ["--dose", "conc", "--response", "resp"], "row 2, column 'conc': -1 is negative"),
        ("conc,resp\n0,1\n1,2\n10,3\n", ["--dose", "conc", "--response", "resp"], "too few doses"),
        ("conc,resp\n0,1\n1,2\n", ["--dose", "conc", "--response", "resp", "--model", "LL5"], "did you mean 'LL.5'"),
        ("conc,resp\n0,1\n1,2\n", ["--dose", "conc", "--response", "resp", "--share", "q"], "parameter 'q'"),
        ("conc,resp\n0,1\n1,2\n", ["--dose", "conc", "--response", "resp", "--fixed", "c:0"], "NAME=NUMBER"),
    ],
)
def test_bad_input_is_one_clear_line(cli, tmp_path, content, args, message):
    path = tmp_path / "plate.csv"
    path.write_text(content)
    code, out, err = cli("fit", "dose-response", str(path), *args)
    assert code == 2
    assert message in " ".join(err.split())
    assert "Traceback" not in err
