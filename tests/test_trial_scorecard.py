"""A published trial number is compared with the model's prediction interval at its reported precision."""

import pytest

from eralpha.trials._scorecard import consistent_with_interval, reported_half_unit


@pytest.mark.parametrize("value, half", [(5.5, 0.05), (0.699, 0.0005), (52, 0.5), (13.2, 0.05), (0.138, 0.0005), (100, 0.5)])
def test_half_unit_of_the_last_reported_digit(value, half):
    assert reported_half_unit(value) == pytest.approx(half)


def test_a_median_on_the_scan_grid_meets_the_rounded_published_value():
    # 24 weeks = 5.52 months: a model interval starting there contains a reported "5.5 months"
    assert consistent_with_interval(5.5, 5.52, 9.2)
    # ... but not a reported 5.4, nor a value above the interval
    assert not consistent_with_interval(5.4, 5.52, 9.2)
    assert not consistent_with_interval(9.3, 5.52, 9.2)


def test_percentages_are_read_at_their_precision_in_the_fraction_scale():
    assert not consistent_with_interval(13.2, 0.0, 0.131, scale=0.01)  # 13.15 % is above 13.1 %
    assert consistent_with_interval(13.2, 0.0, 0.1316, scale=0.01)
