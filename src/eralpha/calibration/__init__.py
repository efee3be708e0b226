"""Calibration of the mechanistic model to measured time courses (kept apart from validation).

    from eralpha.calibration import MCF7TimecourseCalibration, load_mcf7_timecourses
    cal = MCF7TimecourseCalibration(n_starts=3).fit()     # He et al. 2025 MCF7 Coulter counts
    cal.summary; cal.predictions_; cal.plot(); cal.write_knowledge()

CLI: ``eralpha calibrate mcf7-timecourses``.
"""

from ._mcf7 import (FREE_PARAMETERS, HELD_BACK, MCF7TimecourseCalibration, load_mcf7_timecourses, reference_data_dir,
                    timecourse_scorecard_rows)

__all__ = ["MCF7TimecourseCalibration", "load_mcf7_timecourses", "FREE_PARAMETERS", "HELD_BACK", "timecourse_scorecard_rows",
           "reference_data_dir"]
