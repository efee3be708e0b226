"""Pharmacokinetics, dosing regimens and whole-body oestrogen.

    from eralpha.pk import Regimen, simulate_pk
    reg = Regimen.parse("500 mg im on days 1, 15, 29 then q28d", until_day=168)
    res = simulate_pk("fulvestrant", "human", reg, times=range(0, 168 * 24, 6), subjects=200, seed=1)
    res.summary(); res.plot()

Linear 1-/2-compartment models are solved exactly between dose events (matrix exponential), for many
subjects at once, with log-normal between-subject variability from an explicit seed.
"""

from ._compartmental import PKParameters, steady_state_predose
from ._data import compound_names, metabolites_of, molecular_weight, pk_model, pk_models
from ._events import EVENT_COLUMNS, read_event_table, write_event_table
from ._exposure import auc_trapezoid, cmax_tmax, terminal_half_life
from ._oestrogen import (MouseOestrogen, PostmenopausalOestrogen, in_vivo_ki, mouse_oestradiol,
                         oestrogen_suppression, simulate_oestrogen)
from ._regimen import Dose, DoseEvent, Regimen, check_group_size, parse_dose
from ._scenario import PKScenario, load_pk_scenario
from ._scorecard import pk_scorecard_rows
from ._simulate import DEFAULT_BODY_WEIGHT_KG, PKResult, simulate_pk

__all__ = [
    "Regimen", "Dose", "DoseEvent", "parse_dose", "check_group_size",
    "simulate_pk", "PKResult", "PKParameters", "steady_state_predose", "DEFAULT_BODY_WEIGHT_KG",
    "read_event_table", "write_event_table", "EVENT_COLUMNS",
    "cmax_tmax", "auc_trapezoid", "terminal_half_life",
    "pk_model", "pk_models", "compound_names", "molecular_weight", "metabolites_of",
    "load_pk_scenario", "PKScenario",
    "PostmenopausalOestrogen", "MouseOestrogen", "simulate_oestrogen", "oestrogen_suppression", "in_vivo_ki",
    "mouse_oestradiol",
    "pk_scorecard_rows",
]
