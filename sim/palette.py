"""Colours shared by the figures (``sim.plots``) and the dashboard's charts.

Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies.
"""

__all__ = ["OUTCOME_COLORS", "PARTNER_COLORS"]

#: Partner A (blue) and partner B (vermillion).
PARTNER_COLORS = ("#0072B2", "#D55E00")
#: One colour per outcome label.
OUTCOME_COLORS = {
    "stable": "#009E73",
    "spiraling": "#C0392B",
    "distant": "#E69F00",
    "dissolved": "#555555",
}
