"""Scenarios: versioned YAML descriptions of virtual experiments."""

from ._load import SHIPPED_DIR, load_scenario, parse_scenario, read_yaml, shipped_scenarios
from ._schema import SCENARIO_MODELS, Expectation, Target

__all__ = ["load_scenario", "parse_scenario", "read_yaml", "shipped_scenarios", "SHIPPED_DIR", "SCENARIO_MODELS", "Expectation", "Target"]
