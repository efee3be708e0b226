"""Mouse → human translation by free exposure or ER occupancy."""

from __future__ import annotations

import numpy as np
import pytest

from eralpha.errors import InputError
from eralpha.translate import translate_regimen


def test_exposure_match_is_exact_and_linear():
    t = translate_regimen("palbociclib", "100 mg/kg oral q24h 5/2", by="exposure")
    assert t.human_value == pytest.approx(t.mouse_value, rel=0.01)  # 3 significant digits in the dose
    t2 = translate_regimen("palbociclib", "50 mg/kg oral q24h 5/2", by="exposure")
    dose = lambda tr: float(tr.human_regimen.split()[0])  # noqa: E731
    assert dose(t2) == pytest.approx(dose(t) / 2, rel=0.01)


def test_occupancy_match_needs_less_drug_than_exposure_when_saturated():
    ex = translate_regimen("lasofoxifene", "10 mg/kg sc q24h 5/2", by="exposure", variant="ERa_Y537S")
    occ = translate_regimen("lasofoxifene", "10 mg/kg sc q24h 5/2", by="occupancy", variant="ERa_Y537S")
    assert 0 < occ.mouse_value < 1 and occ.human_value == pytest.approx(occ.mouse_value, abs=0.002)
    # occupancy is a saturating function of concentration, averaged over the week
    c = occ.human_free_nM
    assert np.mean(c / (c + occ.kd_nM)) == pytest.approx(occ.human_value, rel=1e-6)
    assert "mg oral" in ex.human_regimen and ex.proposal.startswith("lasofoxifene")


@pytest.mark.parametrize("kwargs, message", [
    ({"compound": "lasofoxifene", "mouse_regimen": "10 sc q24h"}, "regimen|unit|dose"),
    ({"compound": "fulvestrant", "mouse_regimen": "5 mg oral weekly"}, "route"),
    ({"compound": "palbociclib", "mouse_regimen": "100 mg/kg oral q24h", "by": "occupancy"}, "binding"),
    ({"compound": "lasofoxifene", "mouse_regimen": "10 mg/kg sc q24h", "by": "auc2"}, "criterion"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        translate_regimen(**kwargs)


def test_cli_prints_the_proposal_and_writes_the_figure(tmp_path, capsys):
    from eralpha.cli import _translate  # noqa: F401  (registers the command)
    from eralpha.cli import main

    fig = tmp_path / "t.png"
    main(["translate", "lasofoxifene", "10 mg/kg sc q24h 5/2", "--by", "occupancy", "--variant", "ERa_Y537S",
          "--figure", str(fig)])
    out = capsys.readouterr().out
    assert "human" in out and "mg oral" in out and fig.exists()
