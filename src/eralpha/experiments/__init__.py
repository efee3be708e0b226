"""Virtual versions of the seeds' protocols; each returns tidy tables, figures and metrics."""

from ._aromatase import run_aromatase, system_ki
from ._base import ExperimentResult, evaluate_expectations
from ._binding import run_binding
from ._cellular import PRE_EQUILIBRATION_H, condition_model, run_cell_conditions, run_hormone_dependence, run_proliferation, run_tissue_selectivity, run_transcription, run_western_blot
from ._xenograft import run_xenograft, xenograft_scorecard_rows

RUNNERS = {
    "binding": run_binding,
    "aromatase": run_aromatase,
    "western_blot": run_western_blot,
    "transcription": run_transcription,
    "proliferation": run_proliferation,
    "hormone_dependence": run_hormone_dependence,
    "tissue_selectivity": run_tissue_selectivity,
    "xenograft": run_xenograft,
}


def run_experiment(scenario) -> ExperimentResult:
    """Run a validated scenario (with its ``knowledge_overrides`` applied); its expectations are added to
    the result's scorecard."""
    from ..knowledge import knowledge_overrides

    with knowledge_overrides(scenario.knowledge_overrides, origin=f"scenario {scenario.name}"):
        result = RUNNERS[scenario.kind](scenario)
    result.scorecard = list(result.scorecard) + evaluate_expectations(scenario.expect, result.metrics)
    if scenario.knowledge_overrides:
        result.notes.append("knowledge-base values replaced for this run: "
                            + ", ".join(f"{k} = {v}" for k, v in scenario.knowledge_overrides.items()))
    return result


__all__ = [
    "run_experiment", "RUNNERS", "ExperimentResult", "evaluate_expectations", "run_cell_conditions", "condition_model",
    "PRE_EQUILIBRATION_H",
    "run_binding", "run_aromatase", "run_western_blot", "run_transcription", "run_proliferation", "run_hormone_dependence", "run_xenograft", "xenograft_scorecard_rows", "system_ki",
]
