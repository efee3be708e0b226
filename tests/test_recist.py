"""RECIST 1.1: per-visit rules, best overall response with confirmation, ORR / CBR, exact CIs."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eralpha.analysis._recist import (
    RecistAssessment,
    RecistRules,
    best_overall_response,
    classify_sums,
    clopper_pearson,
)
from eralpha.errors import InputError, UnknownNameError


# -- Clopper–Pearson ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "k, n, lower, upper",
    [(0, 10, 0.0, 0.3085), (5, 10, 0.1871, 0.8129), (10, 10, 0.6915, 1.0), (1, 20, 0.0013, 0.2487)],
)
def test_clopper_pearson_known_values(k, n, lower, upper):
    # Reference values as printed by R's binom.test(k, n)$conf.int (exact beta quantiles).
    lo, hi = clopper_pearson(k, n)
    assert lo == pytest.approx(lower, abs=1e-4) and hi == pytest.approx(upper, abs=1e-4)


def test_clopper_pearson_is_vectorised_and_checks_input():
    lo, hi = clopper_pearson(np.array([0, 5]), np.array([10, 10]))
    assert lo.shape == (2,) and hi[1] == pytest.approx(0.8129, abs=1e-4)
    with pytest.raises(InputError, match="0 <= k <= n"):
        clopper_pearson(11, 10)


# -- per-visit classifier ------------------------------------------------------------------------
def test_exactly_20_percent_but_under_5_mm_is_not_pd():
    # nadir 20 mm -> 24 mm is +20 % but only +4 mm: SD; 25 mm is +25 % and +5 mm: PD.
    assert classify_sums([20, 24]).tolist() == ["BL", "SD"]
    assert classify_sums([20, 25]).tolist() == ["BL", "PD"]
    # exactly 20 % and exactly 5 mm is PD ("at least").
    assert classify_sums([25, 30]).tolist() == ["BL", "PD"]


def test_pd_is_measured_from_the_nadir_not_the_baseline():
    # 100 -> 60 (PR) -> 73: +21.7 % and +13 mm over the nadir 60 is PD although still 27 % below baseline.
    assert classify_sums([100, 60, 73]).tolist() == ["BL", "PR", "PD"]
    # 100 -> 80 (SD) -> 95: +18.75 % over nadir 80: not PD.
    assert classify_sums([100, 80, 95]).tolist() == ["BL", "SD", "SD"]


def test_pr_threshold_is_inclusive_and_cr_and_new_lesions():
    assert classify_sums([100, 70, 71]).tolist() == ["BL", "PR", "SD"]
    assert classify_sums([50, 0]).tolist() == ["BL", "CR"]
    assert classify_sums([50, 0], nontarget_present=[False, True]).tolist() == ["BL", "PR"]
    assert classify_sums([50, 20], new_lesion=[False, True]).tolist() == ["BL", "PD"]
    assert classify_sums([50, 45], nontarget_pd=[False, True]).tolist() == ["BL", "PD"]
    assert classify_sums([50, np.nan]).tolist() == ["BL", "NE"]


def test_classifier_is_vectorised_over_patients():
    sums = np.array([[20, 24, 30], [100, 60, 73], [50, 10, 0]], dtype=float)
    out = classify_sums(sums)
    assert out.shape == (3, 3)
    assert out.tolist() == [["BL", "SD", "PD"], ["BL", "PR", "PD"], ["BL", "PR", "CR"]]
    big = np.tile(sums, (2000, 1))
    assert (classify_sums(big)[::3] == out[0]).all()


# -- best overall response ---------------------------------------------------------------------
def test_unconfirmed_pr_is_sd_when_confirmation_required():
    rules = RecistRules(confirm=True, confirm_days=28, min_sd_days=42)
    assert best_overall_response([56, 112], ["PR", "PD"], rules) == "SD"
    assert best_overall_response([56, 112], ["PR", "PR"], rules) == "PR"
    assert best_overall_response([56, 112], ["PR", "PD"], RecistRules(confirm=False)) == "PR"
    # the confirming scan must be at least confirm_days later
    assert best_overall_response([56, 70], ["PR", "PR"], rules) == "SD"
    # an intervening SD is allowed (PR, SD, PR -> PR)
    assert best_overall_response([56, 84, 112], ["PR", "SD", "PR"], rules) == "PR"
    assert best_overall_response([56, 112], ["CR", "CR"], rules) == "CR"
    assert best_overall_response([56, 112], ["CR", "PR"], rules) == "SD"


def test_sd_needs_minimum_duration():
    rules = RecistRules(min_sd_days=42)
    assert best_overall_response([28, 56], ["SD", "PD"], rules) == "PD"
    assert best_overall_response([28], ["SD"], rules) == "NE"
    assert best_overall_response([28, 56], ["SD", "SD"], rules) == "SD"
    # assessments after the first PD do not count
    assert best_overall_response([56, 112, 168], ["PD", "PR", "PR"], rules) == "PD"


def test_rules_validate():
    with pytest.raises(InputError, match="confirm_days"):
        RecistRules(confirm_days=-1)


# -- lesion-table assessment --------------------------------------------------------------------
def _lesions(rows):
    return pd.DataFrame(rows, columns=["patient", "arm", "day", "lesion", "type", "diameter", "node", "status"])


@pytest.fixture
def table():
    rows = []
    # P1: confirmed PR (40 -> 24 -> 20), then PD by nadir at day 168 (20 -> 26 = +30 %, +6 mm)
    for day, d in [(0, 40), (56, 24), (112, 20), (168, 26)]:
        rows.append(("P1", "A", day, "T1", "target", d, 0, ""))
    # P2: a node shrinking to 8 mm short axis plus a lung lesion gone: CR (non-target absent)
    for day, (n, lung) in [(0, (15, 20)), (56, (8, 0)), (112, (7, 0))]:
        rows.append(("P2", "A", day, "N1", "target", n, 1, ""))
        rows.append(("P2", "A", day, "L1", "target", lung, 0, ""))
        rows.append(("P2", "A", day, "NT", "non-target", np.nan, 0, "present" if day == 0 else "absent"))
    # P3: stable for 24 weeks -> SD with clinical benefit
    for day in (0, 56, 112, 168, 224):
        rows.append(("P3", "B", day, "T1", "target", 30, 0, ""))
    # P4: new lesion at first scan -> PD
    rows += [("P4", "B", 0, "T1", "target", 30, 0, ""), ("P4", "B", 56, "T1", "target", 28, 0, ""),
             ("P4", "B", 56, "X", "new", np.nan, 0, "")]
    return _lesions(rows)


def test_assessment_end_to_end(table):
    fit = RecistAssessment(node="node", status="status", arm="arm", diameter="diameter", reference="B").fit(table)
    bor = fit.patients_.set_index("patient")["best_overall_response"].to_dict()
    assert bor == {"P1": "PR", "P2": "CR", "P3": "SD", "P4": "PD"}
    p = fit.patients_.set_index("patient")
    assert p.loc["P1", "progressed"] and p.loc["P1", "ttp_days"] == 168
    assert not p.loc["P3", "progressed"] and p.loc["P3", "clinical_benefit"]
    assert p.loc["P4", "ttp_days"] == 56
    v = fit.visits_[fit.visits_.patient == "P2"]
    assert v["sum_mm"].tolist() == [35, 8, 7] and v["response"].tolist() == ["BL", "CR", "CR"]
    rates = fit.summary
    assert rates.loc["A", "ORR"] == 1.0 and rates.loc["B", "ORR"] == 0.0
    assert rates.loc["B", "CBR"] == 0.5
    lo, hi = clopper_pearson(1, 2)
    assert rates.loc["B", "CBR_lower"] == pytest.approx(lo) and rates.loc["B", "CBR_upper"] == pytest.approx(hi)
    assert "ORR_p_fisher" in rates.columns
    assert fit.plot().get_ylabel().startswith("best change")


def test_short_sd_is_not_clinical_benefit(table):
    rules = RecistRules(cbr_days=250)
    fit = RecistAssessment(node="node", status="status", arm="arm", rules=rules).fit(table)
    assert not fit.patients_.set_index("patient").loc["P3", "clinical_benefit"]


def test_missing_target_measurement_makes_the_visit_not_evaluable(table):
    t = table[~((table.patient == "P3") & (table.day == 56))]
    t = pd.concat([t, _lesions([("P3", "B", 56, "NT", "non-target", np.nan, 0, "present")])])
    fit = RecistAssessment(node="node", status="status", arm="arm").fit(t)
    v = fit.visits_[(fit.visits_.patient == "P3") & (fit.visits_.day == 56)]
    assert v["response"].item() == "NE"


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda t: t.assign(type=t["type"].replace("new", "nwe")), "unknown lesion type 'nwe'"),
        (lambda t: t.assign(diameter=t["diameter"].where(t.index != 0, -3)), "row 2, column 'diameter'.*negative"),
        (lambda t: t.assign(status=t["status"].replace("absent", "gonzo")), "unknown non-target status 'gonzo'"),
        (lambda t: pd.concat([t, t.iloc[[0]]]), "appears twice on the same day"),
        (lambda t: t.assign(type=np.where((t.patient == "P4") & (t.day == 0), "non-target", t["type"])),
         "patient 'P4' has no target lesion at baseline"),
    ],
)
def test_bad_tables_give_clear_errors(table, edit, match):
    with pytest.raises(InputError, match=match):
        RecistAssessment(node="node", status="status", arm="arm").fit(edit(table))


def test_unknown_column_and_reference(table):
    with pytest.raises(UnknownNameError, match="did you mean 'diameter'"):
        RecistAssessment(diameter="diamter").fit(table)
    with pytest.raises(UnknownNameError, match="unknown arm 'C'"):
        RecistAssessment(arm="arm", reference="C").fit(table)


def test_cli_recist(table, tmp_path, capsys):
    from eralpha.cli import main

    path = tmp_path / "lesions.csv"
    table.to_csv(path, index=False)
    main(["fit", "recist", str(path), "--node", "node", "--status", "status", "--arm", "arm", "--format", "json"])
    payload = json.loads(capsys.readouterr().out)
    assert {r["arm"]: r["ORR"] for r in payload["rates"]} == {"A": 1.0, "B": 0.0}
    with pytest.raises(SystemExit) as exc:
        main(["fit", "recist", str(path), "--confirm-days", "-5"])
    assert exc.value.code == 2


# -- properties ----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), min_size=2, max_size=8))
def test_shrinking_disease_is_never_pd(values):
    sums = np.sort(np.asarray(values))[::-1]  # non-increasing: never 20 % above any nadir
    assert "PD" not in classify_sums(sums).tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.data())
def test_clopper_pearson_contains_the_estimate_and_is_monotone(n, data):
    k = data.draw(st.integers(min_value=0, max_value=n))
    lo, hi = clopper_pearson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    lo90, hi90 = clopper_pearson(k, n, alpha=0.10)
    assert lo <= lo90 + 1e-12 and hi90 <= hi + 1e-12
