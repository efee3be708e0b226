"""The MCF7 time-course calibration: the data as read, the held-back split, rows that can fail."""

from __future__ import annotations

import numpy as np
import pytest

from eralpha.calibration import HELD_BACK, MCF7TimecourseCalibration, load_mcf7_timecourses, reference_data_dir
from eralpha.errors import InputError

pytestmark = pytest.mark.skipif(not reference_data_dir().is_dir(), reason="He et al. 2025 reference data not on this machine")


@pytest.fixture(scope="module")
def data():
    return load_mcf7_timecourses()


def test_dishes_are_read_with_the_readme_caveats(data):
    assert (data["fold"] > 0).all()
    assert not data["arm"].str.contains("uncertain").any()  # the +E2+ICI arm of unknown identity is excluded
    held = data[data["role"] == "prediction"]
    assert set(held["experiment"]) == set(HELD_BACK)
    assert set(data.loc[data["role"] == "calibration", "experiment"]).isdisjoint(HELD_BACK)
    ctrl = data[data["experiment"].str.contains("control_proliferation")]
    assert ctrl.empty or ctrl["day"].max() < 14  # confluent day-14 dishes are not used


def test_fitted_model_is_close_and_a_wrong_parameter_is_not(data):
    cal = MCF7TimecourseCalibration()
    good = cal.table(data)
    bad = cal.table(data, {"mu_max": 0.01})
    rms = lambda t: float(np.sqrt(np.mean(t.loc[t["role"] == "calibration", "log10_residual"] ** 2)))  # noqa: E731
    assert rms(good) <= 0.3 < rms(bad)


def test_unknown_free_parameter_is_a_clear_error():
    with pytest.raises(InputError, match="not a free parameter"):
        MCF7TimecourseCalibration(parameters=("mu_max", "kon_ER"))


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_mcf7_timecourses(tmp_path / "nowhere")
