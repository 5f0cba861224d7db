"""The one style table of every figure: regime colours, phase shades, metric labels and bounds.

Used by the static figures (:mod:`~saca.experiments.plots.runs`,
:mod:`~saca.experiments.plots.sweeps`), the app's (:mod:`saca.experiments.plots.live`) and the
app's page. A metric's label, short name, better direction and bounds are read from its
record, :data:`saca.model.metrics.RECORDS`, never written here.

One colour means one thing everywhere: a regime preset keeps its colour in every figure
(constructive blue, autonomous red, hybrid green), a regime edited away from its preset is
drawn in :data:`MODIFIED_COLOUR` (it is no longer that preset), and the series within one
run (trust between groups, burnout of cadre groups) use colours no regime uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from saca.model.metrics import COUNT_METRICS, RECORDS, SHARE_METRICS

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
"""Regime colours in order; regimes without a colour of their own take the next unused."""

REGIME_COLOURS = {"constructive": PALETTE[0], "autonomous": PALETTE[1], "hybrid": PALETTE[2]}
"""Each main regime preset's colour, the same in every figure and the app."""

MODIFIED_COLOUR = "#222222"
"""A regime edited in the app away from its preset."""

PHASE_SHADE = {"emergency": "#d9d9d9", "recovery": "#f0f0f0"}
"""Background of the timeline's phases (the normal phase is unshaded), in figures and the app."""

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
    if name in REGIME_COLOURS:
        return REGIME_COLOURS[name]
    free = [c for c in PALETTE if c not in REGIME_COLOURS.values()]
    return free[index % len(free)]


TIME_METRICS = (
    "efficacy",
    "trust_resident_sunk",
    "trust_institution",
    "burnout_mean",
    "shirking_rate",
    "needs_open",
)
"""Metrics drawn as time series."""

KEY_METRICS = (
    "efficacy",
    "resolution_rate",
    "response_time_mean",
    "trust_resident_sunk",
    "trust_institution",
    "trust_cadre_cadre",
    "burnout_mean",
    "shirking_rate",
    "formalism_share",
    "complaints",
)
"""Metrics shown in terminal tables and the forest plot."""

SMOOTH = {"efficacy": 7}
"""Rolling window (days) applied to a noisy daily series before plotting."""


def label(metric: str) -> str:
    """A readable axis label for a metric: its record's label.

    Args:
        metric: the metric name (one not in the records gets its name, capitalised).
    """
    record = RECORDS.get(metric)
    return record.label if record else metric.replace("_", " ").capitalize()


def short_label(metric: str) -> str:
    """A metric's short name, for narrow places (the app's metric rows).

    Args:
        metric: the metric name (one not in the records gets its name, spaced).
    """
    record = RECORDS.get(metric)
    return record.short if record else metric.replace("_", " ")


def bounds(metric: str) -> tuple[float | None, float | None]:
    """A metric's natural range, from its record: CI bands are clipped to it (few replicates
    on a day can give a t interval wider than the metric's range).

    Args:
        metric: the metric name (one not in the records is unbounded).
    """
    record = RECORDS.get(metric)
    return record.bounds if record else (None, None)


def unit(metric: str) -> str:
    """The y-axis label of a metric's daily series: what its values measure.

    Args:
        metric: the metric name.
    """
    if metric in SHARE_METRICS:
        return "level (0-1)" if metric.startswith(("trust", "burnout")) else "share (0-1)"
    if metric.startswith("response_time"):
        return "days"
    if metric in ("needs_open", "needs_hidden"):  # stocks, not daily flows
        return "count"
    if metric in COUNT_METRICS:
        return "count per day"
    return ""


def tick_label(x: Any) -> str:
    """A factor's level as a tick label: ``0.3``, ``true``, ``name``.

    Args:
        x: the level (a number, a bool or a string).
    """
    if isinstance(x, bool | np.bool_):
        return str(bool(x)).lower()
    if isinstance(x, float | np.floating):
        return f"{float(x):g}"
    return str(x)
