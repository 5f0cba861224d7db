"""The map's figure: each cell coloured by its winning regime, drawn from the map's cells.

The winners are read from :func:`saca.experiments.analyses.regime_map.method.map_cells`
(stored as ``map.parquet``), never recomputed here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from saca.experiments.plots.axes import lighten, short_number, suptitle
from saca.experiments.plots.style import regime_colour, tick_label
from saca.experiments.plots.sweeps import HATCH, NO_WINNER, draw_winner_grid
from saca.model.metrics import RECORDS


def _cell_text(rec: Any) -> str:
    """The best regime and its paired difference from the runner-up, for one cell."""
    if rec.runner_up is None or pd.isna(rec.runner_up):
        return str(rec.best)
    head = rec.best if rec.clear else f"no clear winner\n(best {rec.best})"
    return (
        f"{head}\nΔ {short_number(rec.diff)} "
        f"[{short_number(rec.diff_lo)}, {short_number(rec.diff_hi)}]"
        f"\nvs {rec.runner_up}"
    )


def plot_map(
    cells: pd.DataFrame,
    x: Mapping[str, Any],
    y: Mapping[str, Any],
    regimes: Sequence[str],
    metrics: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
) -> Figure:
    """One heat map per metric: each cell coloured by its winning regime, grey and hatched
    where no regime clearly wins, with the best regime's difference from the runner-up.

    Args:
        cells: the map's cells (``map.parquet``): ``metric``, ``ix``, ``iy``, ``best``,
            ``clear``, ``runner_up``, ``diff``, ``diff_lo``, ``diff_hi``, ``higher_is_better``.
        x: the x parameter (meta.json form, with levels).
        y: the y parameter.
        regimes: regime labels in order (two or more).
        metrics: the metrics drawn, one panel each.
        path: where to save the PNG, or None.
        title: the figure's title.
    """
    across = max(len(x["levels"]), len(y["levels"]))
    # a finer grid gets wider panels and smaller cell text, so the differences stay legible
    width, height = max(5.4, 1.45 * across + 0.9), max(4.0, 0.95 * across + 1.2)
    fontsize = 7.5 if across <= 3 else 6.8
    fig = Figure(figsize=(width * len(metrics) + 0.4, height + 1.1), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    nx, ny = len(x["levels"]), len(y["levels"])
    for ax, m in zip(axes, metrics, strict=True):
        won = (
            (rec.ix, rec.iy, rec.best, rec.clear, _cell_text(rec))
            for rec in cells[cells["metric"] == m].itertuples()
            if rec.best is not None and not pd.isna(rec.best)
        )
        draw_winner_grid(ax, regimes, won, nx, ny, fontsize)
        ax.set_xticks(range(nx), [tick_label(v) for v in x["levels"]], fontsize=8)
        ax.set_yticks(range(ny), [tick_label(v) for v in y["levels"]], fontsize=8)
        ax.set_xlabel(x["key"], fontsize=9)
        ax.set_ylabel(y["key"], fontsize=9)
        better = "higher" if RECORDS[m].better else "lower"
        ax.set_title(f"{RECORDS[m].label} ({better} is better)", fontsize=9.5)
    handles = [
        Patch(facecolor=lighten(regime_colour(r, i)), edgecolor="#999999", label=f"{r} wins")
        for i, r in enumerate(regimes)
    ] + [Patch(facecolor=NO_WINNER, edgecolor=HATCH, hatch="///", label="no clear winner")]
    legend = (
        "wins = best mean, with a paired 95% t CI against every other regime that excludes 0 "
        "(pairs: design point × replicate, which share a seed); text: the best regime and its "
        "difference Δ from the runner-up [95% CI]"
    )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        title=textwrap.fill(legend, width=max(60, int(fig.get_figwidth() * 15))),
        title_fontsize=8.5,
    )
    suptitle(fig, title, fontsize=11)
    if path is not None:
        fig.savefig(path, dpi=130)  # as every saca figure
    return fig
