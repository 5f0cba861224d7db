"""Drawing helpers every figure shares: phase shading, smoothing, titles, panels, saving."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from saca.experiments.plots.style import PHASE_SHADE, SMOOTH, label


def phase_spans(phases: pd.Series) -> list[tuple[str, int, int]]:
    """Contiguous phase windows ``(name, first_day, last_day + 1)`` from a per-day series.

    Args:
        phases: phase name per day, indexed by day.
    """
    spans: list[tuple[str, int, int]] = []
    for day, name in zip(phases.index.tolist(), phases.tolist(), strict=True):
        if spans and spans[-1][0] == name and spans[-1][2] == day:
            spans[-1] = (name, spans[-1][1], day + 1)
        else:
            spans.append((name, day, day + 1))
    return spans


def shade_spans(ax: Any, spans: Sequence[tuple[str, int, int]]) -> None:
    """Shade the phase windows ``(name, first, end)`` behind an axis's lines."""
    for name, a, b in spans:
        if name in PHASE_SHADE:
            ax.axvspan(a - 0.5, b - 0.5, color=PHASE_SHADE[name], zorder=0, lw=0)


def phase_handles(spans: Sequence[tuple[str, int, int]]) -> list[Patch]:
    """Legend entries of the shaded phases, each once."""
    seen = dict.fromkeys(name for name, _, _ in spans if name in PHASE_SHADE)
    return [Patch(facecolor=PHASE_SHADE[n], edgecolor="#999999", label=n) for n in seen]


def smoothed(ts: pd.DataFrame, metric: str, by: Sequence[str]) -> pd.Series:
    """A metric's series, rolling-averaged per group when :data:`SMOOTH` names it."""
    win = SMOOTH.get(metric)
    if not win:
        return ts[metric]
    if not by:
        return ts[metric].rolling(win, min_periods=1).mean()
    return ts.groupby(list(by), sort=False)[metric].transform(
        lambda s: s.rolling(win, min_periods=1).mean()
    )


def suptitle(fig: Figure, title: str, fontsize: float = 11) -> None:
    """The figure's title, wrapped to the figure's width (a narrow figure, e.g. of a
    one-point sweep, would otherwise clip a long title).

    Args:
        fig: the figure.
        title: the text.
        fontsize: in points.
    """
    width_pt = fig.get_figwidth() * 72
    chars = max(20, int(width_pt / (0.55 * fontsize)))  # ~0.55 em per character
    fig.suptitle("\n".join(textwrap.wrap(title, chars)) if title else "", fontsize=fontsize)


def panel_title(metric: str) -> str:
    """A panel's title: the metric's label and its rolling window."""
    win = SMOOTH.get(metric)
    return f"{label(metric)}, {win}-day mean" if win else label(metric)


def panel_grid(n: int, ncols: int = 3) -> tuple[Figure, list[Any]]:
    """A figure with ``n`` panels in rows of ``ncols`` (the unused ones hidden)."""
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.1 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def save_figure(fig: Figure, path: str | Path | None) -> Figure:
    """Save the figure as a PNG when given a path; returns it."""
    if path is not None:
        fig.savefig(path, dpi=130)
    return fig


def as_float(x: Any) -> float:
    """A stored number as a float (None read as NaN)."""
    return np.nan if x is None else float(x)


def short_number(x: float) -> str:
    """A signed number with the decimals its magnitude calls for (n/a for NaN)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:+.0f}"
    if ax >= 10:
        return f"{x:+.1f}"
    return f"{x:+.3f}"


def wrap_note(text: str, fig: Figure) -> str:
    """A legend note wrapped to the figure's width."""
    import textwrap

    return textwrap.fill(text, width=max(60, int(fig.get_figwidth() * 15)))


def lighten(colour: str, amount: float = 0.45) -> tuple[float, float, float]:
    """A colour mixed with white by ``amount`` (the winner maps' pale fills)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)
