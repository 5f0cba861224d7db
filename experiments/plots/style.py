"""One table of colours, labels and phase shades for every figure: the static ones
(:mod:`saca.experiments.plots.figures`) and the app's (:mod:`saca.experiments.plots.live`).

One colour means one thing everywhere: a regime preset keeps its colour in every figure
(constructive blue, autonomous red, hybrid green), a regime edited away from its preset is
drawn in :data:`MODIFIED_COLOUR` (it is no longer that preset), and the series within one
run (trust between groups, burnout of cadre groups) use colours no regime uses.
"""

from __future__ import annotations

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
"""Regime colours in order; regimes without a colour of their own take the next unused."""

PRESET_COLOURS = {"constructive": PALETTE[0], "autonomous": PALETTE[1], "hybrid": PALETTE[2]}
"""Each main regime preset's colour, the same in every figure and the app."""

MODIFIED_COLOUR = "#222222"
"""A regime edited in the app away from its preset."""

PHASE_SHADE = {"emergency": "#d9d9d9", "recovery": "#f0f0f0"}
"""Background of the timeline's phases (the normal phase is unshaded)."""

PHASE_TEXT = "#555555"
"""Colour of the phase names written on time plots."""

SERIES = {
    "trust_resident_sunk": ("resident–sunk", "#17becf"),
    "trust_resident_community": ("resident–community", "#bcbd22"),
    "trust_cadre_cadre": ("cadre–cadre", "#e377c2"),
    "burnout_mean": ("all cadres", "#3b0f70"),
    "burnout_sunk": ("sunk", "#b5367a"),
    "burnout_community": ("community", "#fb8861"),
}
"""Label and colour of each series drawn within one run (none of them a regime colour;
burnout in shades of the exhaustion colour map)."""

DAILY_COLOUR = "#aaaaaa"
"""A noisy daily value drawn under its rolling mean."""

LABELS = {
    "efficacy": "Efficacy (share resolved by deadline)",
    "resolution_rate": "Resolution rate",
    "response_time_mean": "Response time, mean (days)",
    "trust_resident_sunk": "Residents' trust in sunk cadres",
    "trust_institution": "Residents' trust in institutions",
    "trust_cadre_cadre": "Trust between sunk and community cadres",
    "burnout_mean": "Cadre burnout (mean exhaustion)",
    "shirking_rate": "Shirking (perfunctory share of hours)",
    "formalism_share": "Formalism (paperwork share of hours)",
    "complaints": "Complaints (count)",
    "needs_open": "Open needs (count)",
    "efficacy_sd_between_communities": "Efficacy spread between communities (sd)",
    "efficacy_worst_decile": "Efficacy of the worst-off decile of communities",
    "task_concentration": "Task concentration (Gini of needs resolved per cadre)",
    "overload_cascades": "Overload cascades (count)",
}
"""Readable names of the metrics, for axes and tables."""


def regime_colour(name: str, index: int = 0, modified: bool = False) -> str:
    """The colour of a regime: its preset's, or the palette's ``index``-th colour that no
    preset owns, or :data:`MODIFIED_COLOUR` for an edited regime.

    Args:
        name: regime label (a preset name or a file's stem).
        index: the regime's position among those drawn, for regimes without a colour.
        modified: the regime was edited away from its preset.
    """
    if modified:
        return MODIFIED_COLOUR
    if name in PRESET_COLOURS:
        return PRESET_COLOURS[name]
    free = [c for c in PALETTE if c not in PRESET_COLOURS.values()]
    return free[index % len(free)]
