"""``eralpha validate``: the scorecard of every quantitative claim, calibration and prediction kept apart."""

from ._scorecard import SCORECARD_COLUMNS, Scorecard, collect_scorecard, job_names, run_scenario_path

__all__ = ["collect_scorecard", "Scorecard", "SCORECARD_COLUMNS", "run_scenario_path", "job_names"]
