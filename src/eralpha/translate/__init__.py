"""Mouse → human translation: the human regimen matching a mouse regimen's free exposure or ER occupancy.

    from eralpha.translate import translate_regimen
    t = translate_regimen("lasofoxifene", "10 mg/kg sc q24h 5/2", by="occupancy", variant="ERa_Y537S")
    print(t.proposal); t.plot()

Both species use the PK models of ``pk.yaml`` (typical subject). ``by="exposure"`` matches the average
free plasma concentration over the last week of dosing (equivalently the weekly free AUC); linear PK
makes the human dose proportional. ``by="occupancy"`` matches the time-averaged fraction of the ER
variant bound by the drug in the tumour, Cfree / (Cfree + Kd) — the cell model's binding — and is
solved by bisection on the human dose. The human schedule is the compound's labelled interval.
"""

from ._translate import Translation, translate_regimen

__all__ = ["translate_regimen", "Translation"]
