"""Virtual clinical trials of ER+/HER2- metastatic breast cancer, from the mechanism to Kaplan–Meier.

    from eralpha.scenario import load_scenario
    from eralpha.trials import run_trial
    result = run_trial(load_scenario("scenarios/trial_elaine1.yaml"), replicates=20)
    result.endpoints["comparisons"]          # hr, hr_ci, logrank_p (+ *_pi over replicate trials)

    from eralpha.trials import window_ki67   # the tumour's Ki67 in a window-of-opportunity trial

See docs/trials.md.
"""

from ._endpoints import ARM_KEYS, COMPARISON_KEYS, arm_endpoints, comparison_endpoints, trial_endpoints
from ._run import TrialResult, run_trial
from ._schema import TrialScenario, load_trial_scenario, parse_trial_scenario
from ._window import WINDOW_REGIMENS, WindowKi67, window_checks, window_ki67

__all__ = ["run_trial", "TrialResult", "TrialScenario", "load_trial_scenario", "parse_trial_scenario",
           "trial_endpoints", "arm_endpoints", "comparison_endpoints", "ARM_KEYS", "COMPARISON_KEYS",
           "window_ki67", "window_checks", "WindowKi67", "WINDOW_REGIMENS"]
