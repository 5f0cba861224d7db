"""The best-mix figures: the top-k dials per cell and the fronts, drawn from stored tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from saca.experiments.analyses.best_mix.method import BestMixSettings
from saca.experiments.analyses.regime_map import method as map_method


def short_name(key: str) -> str:
    """A short name of a parameter for axes and tables (dials as in the regime maps)."""
    name = key.split(".", 1)[1]
    return map_method.DIAL_ABBR.get(name, name[:4])


def plot_best(
    best: pd.DataFrame, st: BestMixSettings, params: Sequence[str], path: Path
) -> list[Path]:
    """Per cell: the top-k autonomy index (colour) and each top-k dial (bars), on the
    grid of the two axes (one axis: a row).

    Args:
        best: one row per cell.
        st: the settings.
        params: the sampled parameters.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    axes_keys = list(st.axes)
    xs = list(st.axes[axes_keys[0]])
    ys = list(st.axes[axes_keys[1]]) if len(axes_keys) > 1 else [None]
    fig = Figure(figsize=(3.2 * len(xs) + 1, 2.6 * len(ys) + 1), layout="constrained")
    grid = np.atleast_2d(fig.subplots(len(ys), len(xs), squeeze=False))
    names = [short_name(k) for k in params]
    for r, yv in enumerate(reversed(ys)):
        for c, xv in enumerate(xs):
            ax = grid[r, c]
            sel = best[best[axes_keys[0]] == xv]
            if yv is not None:
                sel = sel[sel[axes_keys[1]] == yv]
            if sel.empty:
                ax.axis("off")
                continue
            row = sel.iloc[0]
            vals = [row[f"top_{k}"] for k in params]
            a = row["top_autonomy"]
            ax.bar(range(len(params)), vals, color=(a, 0.3, 1 - a))
            ax.set_ylim(0, 1)
            ax.set_xticks(range(len(params)), names, fontsize=7, rotation=45)
            obj = st.objective.lstrip("-")
            title = f"{axes_keys[0].split('.')[1]}={xv}"
            if yv is not None:
                title += f", {axes_keys[1].split('.')[1]}={yv}"
            ax.set_title(
                f"{title}\nautonomy {a:.2f}, best {obj} {row[obj]:.3f}\n{row['switches']}",
                fontsize=8,
            )
    fig.suptitle(
        f"Best mix per cell: mean of the top {st.top} candidates by {st.objective} "
        f"(window {st.window})\nbar colour: autonomy index (red autonomous, blue constructive)",
        fontsize=9,
    )
    fig.savefig(path, dpi=110)
    return [path]


def plot_fronts(cand: pd.DataFrame, st: BestMixSettings, path: Path) -> list[Path]:
    """Efficacy against burnout and against the equity metric, every candidate of every
    cell (grey) with the Pareto front (rank 0) drawn per cell.

    Args:
        cand: the candidates.
        st: the settings.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    cells = sorted(cand["cell"].unique())
    fig = Figure(figsize=(12, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for ax, metric, rank in (
        (axes[0], st.burnout, "rank_burnout"),
        (axes[1], st.equity, "rank_equity"),
    ):
        for k, c in enumerate(cells):
            sub = cand[cand["cell"] == c]
            colour = cmap(k / max(len(cells) - 1, 1))
            ax.scatter(sub[metric], sub["efficacy"], s=8, color=colour, alpha=0.3)
            f = sub[sub[rank] == 0].sort_values(metric)
            label = ", ".join(f"{a.split('.')[1]}={sub[a].iloc[0]}" for a in st.axes)
            ax.plot(f[metric], f["efficacy"], "o-", color=colour, ms=4, label=label)
        ax.set_xlabel(f"{metric} (lower is better)")
        ax.set_ylabel("efficacy")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Pareto fronts of the searched mixes per cell (window {st.window})")
    fig.savefig(path, dpi=110)
    return [path]


# ----- the command ------------------------------------------------------------------------
