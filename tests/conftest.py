import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
os.environ.setdefault("ERALPHA_QUIET", "1")

# Hypothesis profiles. Tests that set max_examples themselves keep it; the fuzzing harness (tests/fuzz,
# 14 tests) shares the profile's max_examples out among its tests (tests/fuzz/harness.py): "ci", the
# default, gives ~500 cases, "long" (pytest tests/fuzz --hypothesis-profile=long) 10,500.
# Derandomised, so every run draws the same cases.
_slow_ok = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True, suppress_health_check=_slow_ok,
                          print_blob=True)
settings.register_profile("long", max_examples=600, deadline=None, derandomize=True, suppress_health_check=_slow_ok,
                          print_blob=True)
settings.register_profile("default", parent=settings.get_profile("ci"))
settings.load_profile(os.environ.get("ERALPHA_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def cli(capsys):
    """Run the eralpha CLI in-process: ``code, out, err = cli("fit", "dose-response", ...)``."""
    from eralpha.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
