"""eralpha.pk: exact dosing, event tables, steady state, variability, scorecard and input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eralpha.errors import InputError, UnknownNameError
from eralpha.pk import (Regimen, check_group_size, load_pk_scenario, molecular_weight, pk_model,
                        pk_scorecard_rows, read_event_table, simulate_pk, steady_state_predose, write_event_table)
from eralpha.pk._compartmental import CENTRAL, simulate_amounts
from eralpha.pk._simulate import typical_params

SCENARIOS = sorted((Path(__file__).parents[1] / "src" / "eralpha" / "scenarios").glob("pk_*.yaml"))


def _one_compartment_oral(t, doses, cl, v, ka, f):
    """Textbook superposition of Bateman functions, mg/L."""
    k = cl / v
    c = np.zeros_like(t)
    for td, amt in doses:
        dt = t - td
        on = dt > 0
        c[on] += f * amt * ka / (v * (ka - k)) * (np.exp(-k * dt[on]) - np.exp(-ka * dt[on]))
    return c


@pytest.mark.parametrize("grid", ["coarse", "irregular", "between_doses"])
def test_exact_against_analytic_one_compartment(grid):
    reg = Regimen.parse("2.5 mg oral q24h", until_day=10)
    rng = np.random.default_rng(3)
    times = {"coarse": np.arange(0, 240, 17.0),  # never lands on a dose time
             "irregular": np.sort(rng.uniform(0, 240, 60)),
             "between_doses": np.array([12.0, 36.5, 100.25, 239.9])}[grid]
    res = simulate_pk("letrozole", "human", reg, times)
    p = {k: float(v[0]) for k, v in typical_params("letrozole", "human").as_dict().items()}
    ref = _one_compartment_oral(times, [(e.time, 2.5) for e in reg.events], p["clearance"], p["volume_central"],
                                p["ka"], p["bioavailability"]) * 1e6 / molecular_weight("letrozole")
    np.testing.assert_allclose(res.concentrations["total_nM"].to_numpy(), ref, rtol=1e-9, atol=1e-12)


def test_dose_between_outputs_is_not_missed():
    # one output a week: daily doses in between must all count
    reg = Regimen.parse("125 mg oral q24h", until_day=21)
    sparse = simulate_pk("palbociclib", "human", reg, [0.0, 168.0, 336.0])
    dense = simulate_pk("palbociclib", "human", reg, np.arange(0, 337, 0.5))
    d = dense.concentrations.set_index("time_h")["total_nM"]
    np.testing.assert_allclose(sparse.concentrations["total_nM"], d.loc[[0.0, 168.0, 336.0]], rtol=1e-10)


def test_auc_is_exact_and_matches_dose_over_clearance_at_steady_state():
    reg = Regimen.parse("345 mg oral q24h", until_day=60)
    t0 = reg.last_dose_time
    res = simulate_pk("elacestrant", "human", reg, [t0, t0 + 24.0])  # only two outputs
    auc_mg_h_l = res.metrics.auc_nM_h.iloc[0] * molecular_weight("elacestrant") / 1e6
    cl = pk_model("elacestrant", "human").clearance.value
    assert auc_mg_h_l == pytest.approx(345 / cl, rel=1e-3)


def test_steady_state_closed_form_equals_long_repeated_dosing():
    params = typical_params("anastrozole", "human")
    ss = steady_state_predose(params, 1.0, 24.0, "oral")
    doses = [(24.0 * k, 1.0, "oral") for k in range(60)]
    long = simulate_amounts(params, doses, np.array([24.0 * 60]))
    np.testing.assert_allclose(long[0, 0, :3], ss[0, :3], rtol=1e-6)


def test_two_compartment_steady_state_and_half_life():
    params = typical_params("elacestrant", "human")
    ss = steady_state_predose(params, 345.0, 24.0, "oral")
    long = simulate_amounts(params, [(24.0 * k, 345.0, "oral") for k in range(80)], np.array([24.0 * 80]))
    np.testing.assert_allclose(long[0, 0, :3], ss[0, :3], rtol=1e-5)


def test_variability_reproducible_with_seed_and_different_without():
    reg = Regimen.parse("125 mg oral q24h 21/7", until_day=28)
    t = np.arange(0, 28 * 24, 4.0)
    a = simulate_pk("palbociclib", "human", reg, t, subjects=20, seed=7)
    b = simulate_pk("palbociclib", "human", reg, t, subjects=20, seed=7)
    c = simulate_pk("palbociclib", "human", reg, t, subjects=20, seed=8)
    pd.testing.assert_frame_equal(a.concentrations, b.concentrations)
    assert not np.allclose(a.metrics.cmax_nM, c.metrics.cmax_nM)
    # log-normal CL with CV 29 %: the sampled spread is in the right range
    cv = a.parameters.clearance.std() / a.parameters.clearance.mean()
    assert 0.1 < cv < 0.6


def test_free_and_brain_concentrations():
    reg = Regimen.parse("150 mg oral q12h", until_day=7)
    res = simulate_pk("abemaciclib", "human", reg, np.arange(0, 168, 1.0))
    c = res.concentrations
    np.testing.assert_allclose(c.free_nM, 0.04 * c.total_nM)
    np.testing.assert_allclose(c.brain_free_nM, c.free_nM)  # Kp,uu = 1 (label: CSF ~ unbound plasma)
    ful = simulate_pk("fulvestrant", "human", Regimen.on_days("500 mg", "im", [1]), [0.0, 240.0])
    iml = simulate_pk("imlunestrant", "human", Regimen.on_days("400 mg", "oral", [1]), [0.0, 4.0])
    kp = lambda r: (r.concentrations.brain_free_nM / r.concentrations.free_nM).iloc[-1]  # noqa: E731
    assert kp(iml) > 10 * kp(ful)  # imlunestrant brain-penetrant, fulvestrant not


def test_fulvestrant_250_mg_monthly_is_a_regimen_with_half_the_late_exposure_of_500_mg():
    """CONFIRM's two arms (docs/trials.md): 250 mg every 28 days without loading, and 500 mg with the day-15
    loading dose. The depot model is linear, so once the loading dose has washed out (terminal half-life ~40 days)
    the 250 mg trough is half the 500 mg one; early on, loading makes the gap larger."""
    low = Regimen.parse("250 mg im q28d", until_day=364)
    high = Regimen.parse("500 mg im on days 1, 15, 29 then q28d", until_day=364)
    assert [e.time / 24 for e in low.events][:3] == [0.0, 28.0, 56.0] and low.events[0].dose.amount == 250.0
    assert [e.time / 24 for e in high.events][:4] == [0.0, 14.0, 28.0, 56.0]
    trough_days = np.array([28.0, 336.0]) * 24 - 1e-6  # just before the day-29 and day-337 doses
    c = {name: simulate_pk("fulvestrant", "human", reg, trough_days, variability=False).concentrations.total_nM.to_numpy()
         for name, reg in (("low", low), ("high", high))}
    assert c["low"][1] / c["high"][1] == pytest.approx(0.5, rel=0.03)
    assert c["low"][0] / c["high"][0] < 0.4  # loading: month-1 exposure well above half


def test_regimen_schedules():
    palbo = Regimen.parse("125 mg oral q24h 21/7", until_day=56)
    assert len(palbo) == 42
    assert {e.time // 24 for e in palbo.events} == set(range(21)) | set(range(28, 49))
    mouse = Regimen.repeated("5 mg/kg", "sc", every="24 h", until="28 d", days_on=5, days_off=2)
    assert len(mouse) == 20 and mouse.events[0].dose.per_kg
    fulv = Regimen.parse("500 mg im on days 1, 15, 29 then q28d", until_day=120)
    assert [e.time / 24 + 1 for e in fulv.events] == [1, 15, 29, 57, 85, 113]
    assert len(Regimen.parse("150 mg oral bid", until_day=2)) == 4
    held = Regimen.daily("2.5 mg", days=10).hold(4, 6)
    assert [e.time / 24 + 1 for e in held.events] == [1, 2, 3, 7, 8, 9, 10]
    reduced = Regimen.daily("125 mg", days=5).reduce("100 mg", from_day=3)
    assert [e.dose.amount for e in reduced.events] == [125, 125, 100, 100, 100]
    assert len(Regimen.daily("1 mg", days=30).stop(after_day=10)) == 10
    load = Regimen.parse("5 mg oral on day 1; 1 mg oral q24h from day 2 to day 14")
    assert len(load) == 14 and load.events[0].dose.amount == 5


def test_mouse_per_kg_dose_uses_body_weight():
    reg = Regimen.repeated("5 mg/kg", "sc", every="24 h", count=1)
    light = simulate_pk("lasofoxifene", "mouse", reg, [0.0, 4.0], variability=False)
    heavy = simulate_pk("lasofoxifene", "mouse", reg, [0.0, 4.0], body_weight_kg=0.050, variability=False)
    # per-kg dose and per-kg volume: concentration independent of weight
    assert light.metrics.cmax_nM.iloc[0] == pytest.approx(heavy.metrics.cmax_nM.iloc[0], rel=1e-9)


def test_event_table_round_trip_and_addl_expansion(tmp_path):
    reg = Regimen.parse("500 mg im on days 1, 15, 29 then q28d", until_day=200)
    path = tmp_path / "events.csv"
    table = write_event_table(reg, path)
    assert list(table.columns) == ["ID", "TIME", "EVID", "AMT", "CMT", "RATE", "II", "ADDL", "SS"]
    assert table.ADDL.sum() + len(table) == len(reg)
    back = read_event_table(path, depot_route="im")[1]
    assert back == reg
    df = pd.DataFrame({"ID": [1, 1, 2], "TIME": [0, 5, 0], "EVID": [1, 0, 1], "AMT": [2.5, 0, 1],
                       "CMT": [1, 1, 1], "II": [24, 0, 12], "ADDL": [6, 0, 3]})
    regs = read_event_table(df)
    assert [e.time for e in regs[1].events] == [24.0 * k for k in range(7)]
    assert [e.time for e in regs[2].events] == [0, 12, 24, 36]


@pytest.mark.parametrize("row, match", [
    ({"SS": 1, "II": 24}, "SS"),
    ({"RATE": 10}, "RATE"),
    ({"ADDL": 3, "II": 0}, "II"),
    ({"CMT": 5}, "CMT"),
])
def test_event_table_bad_rows(row, match):
    base = {"ID": 1, "TIME": 0, "EVID": 1, "AMT": 2.5, "CMT": 1, "RATE": 0, "II": 0, "ADDL": 0, "SS": 0}
    with pytest.raises(InputError, match=match):
        read_event_table(pd.DataFrame([{**base, **row}]))


def test_bad_inputs_give_clear_errors():
    with pytest.raises(InputError, match="no unit"):
        Regimen.daily(5, days=3)
    with pytest.raises(InputError, match="not a dose"):
        Regimen.daily("5 nM", days=3)
    with pytest.raises(InputError, match="route 'sc' is not available for letrozole in human"):
        simulate_pk("letrozole", "human", Regimen.daily("2.5 mg", "sc", days=2), [0, 24])
    with pytest.raises(UnknownNameError, match="did you mean 'letrozole'"):
        simulate_pk("letrozol", "human", Regimen.daily("2.5 mg", days=2), [0, 24])
    with pytest.raises(InputError, match="starts at"):
        simulate_pk("letrozole", "human", Regimen.daily("2.5 mg", days=2, start_day=30), [0, 24, 48])
    for n in (1, 0, 2.5, "3"):
        with pytest.raises(InputError, match="group size"):
            check_group_size(n)
    assert check_group_size(6) == 6


def _write(tmp_path, text):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


BASE = "kind: pk\nschema_version: 1\nspecies: human\ncompound: letrozole\nduration: 7 d\n"


@pytest.mark.parametrize("extra, field, match", [
    ("regimen: {dose: 2.5, route: oral}\n", "regimen.dose", "no unit"),
    ("regimen: {dose: 2.5 nM, route: oral}\n", "regimen.dose", "not a dose"),
    ("regimen: {dose: 2.5 mg, route: sc}\n", "regimen.route", "not available"),
    ("regimen: {dose: 2.5 mg, start_day: 30}\n", "regimen", "starts at"),
    ("regimen: 2.5 mg oral q24h\nsubjects: 1.5\n", "subjects", "group size"),
    ("regimen: 2.5 mg oral q24h\ndosing: x\n", "dosing", "unknown field"),
])
def test_scenario_errors_name_file_and_field(tmp_path, extra, field, match):
    p = _write(tmp_path, BASE + extra)
    with pytest.raises(InputError, match=match) as info:
        load_pk_scenario(p)
    assert info.value.file == str(p) and info.value.field == field


def test_scenario_unknown_compound_suggests(tmp_path):
    p = _write(tmp_path, BASE.replace("letrozole", "fulvestrannt") + "regimen: 500 mg im on days 1\n")
    with pytest.raises(UnknownNameError, match="did you mean 'fulvestrant'"):
        load_pk_scenario(p)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_run(path):
    res = load_pk_scenario(path).run()
    assert np.all(np.isfinite(res.metrics[["cmax_nM", "auc_nM_h"]].to_numpy()))
    assert (res.metrics.cmax_nM > 0).all()


@pytest.mark.slow
def test_cli_simulate_json_and_plot(tmp_path):
    png = tmp_path / "c.png"
    out = subprocess.run([sys.executable, "-m", "eralpha", "pk", "simulate", str(SCENARIOS[0]), "--format", "json",
                          "--plot", str(png)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert '"summary"' in out.stdout and png.stat().st_size > 1000


def test_cli_bad_scenario_is_one_line_exit_2(tmp_path):
    p = _write(tmp_path, BASE + "regimen: {dose: 2.5, route: oral}\n")
    out = subprocess.run([sys.executable, "-m", "eralpha", "pk", "simulate", str(p)], capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "regimen.dose" in out.stderr


# The label's 2-fold elacestrant accumulation implies a ~24 h effective half-life, inconsistent with the
# same label's 30-50 h half-life that the model honours; kept visible as a failing prediction.
# Endoxifen's formation-limited model has no within-day swing, so its peak is under-predicted.
KNOWN_DISCREPANCIES = {"pk.elacestrant.accumulation_ratio", "pk.endoxifen.cmax_ss"}


def test_scorecard_rows():
    rows = pk_scorecard_rows()
    keys = {"id", "quantity", "source", "target", "simulated", "tolerance", "kind", "passed"}
    assert all(set(r) == keys for r in rows)
    assert all(r["kind"] in ("calibration", "prediction") for r in rows)
    failing = {r["id"] for r in rows if not r["passed"]}
    assert failing == KNOWN_DISCREPANCIES, failing
    ids = {r["id"] for r in rows}
    assert {"oestrogen.letrozole.aromatisation_inhibition", "oestrogen.anastrozole.aromatisation_inhibition",
            "pk.fulvestrant.cmax_ss", "pk.palbociclib.t_half"} <= ids


def test_scorecard_is_computed_not_typed(monkeypatch):
    # halving fulvestrant's clearance must move its simulated AUC: the rows come from simulation
    from eralpha.pk import _data

    model = pk_model("fulvestrant", "human")
    slower = model.model_copy(update={"clearance": model.clearance.model_copy(update={"value": 20.7})})
    table = {k: dict(v) for k, v in _data.pk_models().items()}
    table["fulvestrant"]["human"] = slower
    monkeypatch.setattr(_data, "pk_models", lambda *a, **k: table)
    rows = {r["id"]: r for r in pk_scorecard_rows()}
    assert not rows["pk.fulvestrant.auc_tau_ss"]["passed"]


def test_oestrogen_letrozole_beats_anastrozole_and_recovers_after_washout():
    from eralpha.pk import oestrogen_suppression, simulate_oestrogen

    letro, anas = oestrogen_suppression("letrozole"), oestrogen_suppression("anastrozole")
    assert letro["aromatisation_inhibition"] > anas["aromatisation_inhibition"]
    assert letro["e2_pM"] < anas["e2_pM"] < 25.7
    reg = Regimen.daily("2.5 mg", days=14)
    df = simulate_oestrogen("letrozole", reg, np.arange(0, 60 * 24, 1.0))
    e2 = df.set_index("time_h")["e2_rel"]
    assert e2.loc[13 * 24] < 0.1 and e2.iloc[-1] > 0.9  # suppression, then recovery after washout


def test_exemestane_irreversible_inactivation_holds_the_measured_whole_body_inhibition():
    from eralpha.knowledge import load_knowledge
    from eralpha.pk import oestrogen_suppression

    measured = load_knowledge().compound("exemestane").pk["human"].exposure["aromatisation_inhibition"]
    ex = oestrogen_suppression("exemestane")
    assert ex["aromatisation_inhibition"] == pytest.approx(measured.value)
    # residual E2 = aromatase-dependent share left + the aromatase-independent floor: between letrozole and none
    assert oestrogen_suppression("letrozole")["e2_residual"] < ex["e2_residual"] < 0.2


# ----------------------------------------------------------------------- tamoxifen and its metabolites
def test_tamoxifen_metabolites_are_dosed_as_tamoxifen_at_its_elimination_rate():
    from eralpha.pk import metabolites_of
    from eralpha.pk._simulate import typical_params

    assert metabolites_of("tamoxifen") == ("4-hydroxytamoxifen", "endoxifen")
    assert metabolites_of("letrozole") == ()
    parent = typical_params("tamoxifen", "human")
    k_parent = parent.clearance[0] / parent.volume_central[0]
    for m in metabolites_of("tamoxifen"):
        # the metabolite's depot is the parent's body pool: it must empty at the parent's rate (pk.yaml keeps both)
        assert typical_params(m, "human").ka[0] == pytest.approx(k_parent, rel=0.01), m


def test_endoxifen_steady_state_is_in_the_cyp2d6_normal_metaboliser_range():
    """5-15 ng/mL at steady state on 20 mg daily (Madlensky 2011 threshold 5.97 ng/mL; Binkhorst 2016 median 6.1 trough):
    simulated from the tamoxifen regimen after 3 months, median over a CYP2D6-variable population."""
    from eralpha.pk import molecular_weight

    reg = Regimen.parse("20 mg oral q24h", until_day=91)
    res = simulate_pk("endoxifen", "human", reg, np.arange(90 * 24, 91 * 24 + 1, 1.0), subjects=500, seed=3)
    trough_ng_ml = float(res.metrics["cmin_nM"].median()) * molecular_weight("endoxifen") / 1e3
    assert 5.0 <= trough_ng_ml <= 15.0
    # CYP2D6 spread: a tenfold range between the 5th and 95th percentile patients is at most what Lien 2013 saw
    p5, p95 = res.metrics["cmin_nM"].quantile([0.05, 0.95])
    assert 2.0 < p95 / p5 < 10.0
