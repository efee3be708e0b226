"""Statistics on real or simulated lab data, the way Prism, R drc, SynergyFinder and R survival do.

Every fitter follows ``Fitter(**options).fit(data) -> self`` with results in trailing-underscore
attributes, a ``summary`` DataFrame, ``print_summary()`` and ``plot(ax=None)``.
"""

from ._assays import AromataseAssay, AromataseColumns, BindingAssay, BindingColumns, cheng_prusoff_ki
from ._doseresponse import MODELS, CurveFit, DoseResponseFitter, EffectiveDose, RelativePotency, fit_curve, relative_potency
from ._dr_models import DoseResponseModel
from ._plates import PlateAnalysis
from ._recist import RESPONSES, RecistAssessment, RecistRules, best_overall_response, classify_sums, clopper_pearson, fisher_vs_reference
from ._survival import SurvivalAnalysis, km_median, km_survival_at
from ._synergy import SynergyAnalysis, SynergyColumns, bliss_excess, bliss_expected, hsa_expected, loewe_expected
from ._western import WesternBlotAnalysis, WesternColumns
from ._xenograft import (
    MetastasisAnalysis,
    TumourWeightAnalysis,
    XenograftAnalysis,
    compare_groups_fast,
    compare_to_reference,
    log_growth_slopes,
)

__all__ = [
    "fit_curve", "CurveFit", "DoseResponseFitter", "MODELS", "relative_potency", "EffectiveDose", "RelativePotency", "DoseResponseModel",
    "WesternBlotAnalysis", "WesternColumns", "AromataseAssay", "AromataseColumns", "BindingAssay", "BindingColumns", "cheng_prusoff_ki",
    "PlateAnalysis",
    "SynergyAnalysis", "SynergyColumns", "bliss_excess", "bliss_expected", "hsa_expected", "loewe_expected",
    "XenograftAnalysis", "TumourWeightAnalysis", "MetastasisAnalysis", "compare_groups_fast", "compare_to_reference", "log_growth_slopes",
    "SurvivalAnalysis", "km_median", "km_survival_at",
    "RecistAssessment", "RecistRules", "RESPONSES", "clopper_pearson", "classify_sums", "best_overall_response", "fisher_vs_reference",
]
