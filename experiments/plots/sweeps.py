"""Figures of a sweep: metrics against parameters, winners, Pareto fronts, time series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from saca.experiments.plots.axes import lighten, save_figure, short_number, suptitle, wrap_note
from saca.experiments.plots.cells import WIN_METRICS, factor_cells, sweep_bins
from saca.experiments.plots.runs import plot_compare
from saca.experiments.plots.style import (
    TIME_METRICS,
    bounds,
    label,
    regime_colour,
)
from saca.experiments.stats import runner_up
from saca.model.metrics import HIGHER_IS_BETTER

SWEEP_METRICS = ("efficacy", "burnout_mean", "trust_resident_sunk", "trust_institution")
"""Metrics drawn against each swept parameter."""


NO_WINNER = "#d9d9d9"


HATCH = "#9a9a9a"


EMPTY_CELL = "#ffffff"


def plot_sweep_params(
    results: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]],
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = SWEEP_METRICS,
) -> Figure:
    """Each metric against each swept parameter, per regime, with 95% CIs.

    A parameter with levels shows the mean of every run at each level (pooled over the
    replicates and the other parameters) with its Student t interval. A sampled parameter
    shows each design point's mean over replicates as faint dots and the mean of the runs
    in equal-width bins with a 95% band.

    Args:
        results: one row per run (:func:`saca.experiments.engine.results.load_results`), failed runs
            included or not.
        factors: the swept parameters, as in the sweep's meta.json.
        regimes: regime labels in order (colours).
        path: where to save the PNG, or None.
        title: figure title.
        metrics: one row of panels per metric.
    """
    ok = results[results["status"] == "ok"]
    n_points = int(results["point"].nunique()) if len(results) else 0
    bins = sweep_bins(n_points)
    nrows, ncols = len(metrics), max(1, len(factors))
    fig = Figure(figsize=(4.2 * ncols + 0.6, 2.7 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    k = len(regimes)
    for j, factor in enumerate(factors):
        codes, labels, centres = factor_cells(ok, factor, bins)
        for i, m in enumerate(metrics):
            ax = axes[i, j]
            for r_i, r in enumerate(regimes):
                colour = regime_colour(r, r_i)
                sel = ok["regime"] == r
                if "levels" in factor:
                    xs = centres if centres is not None else list(range(len(labels)))
                    span = (max(xs) - min(xs)) / max(len(xs) - 1, 1) if len(xs) > 1 else 1.0
                    off = (r_i - (k - 1) / 2) * 0.06 * span
                    st = [_ci(ok.loc[sel & (codes == c), m]) for c in range(len(labels))]
                    x = np.asarray(xs, dtype=float) + off
                    mean = np.array([s["mean"] for s in st])
                    err = np.array(
                        [[s["mean"] - s["lo"] for s in st], [s["hi"] - s["mean"] for s in st]]
                    )
                    ax.errorbar(
                        x, mean, yerr=err, color=colour, marker="o", ms=4, lw=1.4, capsize=3
                    )
                    ax.set_xticks(xs, labels)
                else:
                    per_point = (
                        ok[sel].groupby("point").agg(x=(factor["key"], "first"), y=(m, "mean"))
                    )
                    ax.plot(per_point["x"], per_point["y"], ".", color=colour, alpha=0.3, ms=5)
                    st = [_ci(ok.loc[sel & (codes == c), m]) for c in range(len(labels))]
                    mean = np.array([s["mean"] for s in st])
                    lo = np.array([s["lo"] for s in st])
                    hi = np.array([s["hi"] for s in st])
                    ax.fill_between(centres, lo, hi, color=colour, alpha=0.2, lw=0)
                    ax.plot(centres, mean, color=colour, lw=1.6, marker="o", ms=3)
            if i == 0:
                ax.set_title(factor["key"], fontsize=10)
            if j == 0:
                ax.set_ylabel(label(m), fontsize=9)
            if i == nrows - 1:
                ax.set_xlabel(factor["key"], fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
    if not factors:
        for i, m in enumerate(metrics):
            ax = axes[i, 0]
            for r_i, r in enumerate(regimes):
                s = _ci(ok.loc[ok["regime"] == r, m])
                colour = regime_colour(r, r_i)
                ax.errorbar(
                    [r_i],
                    [s["mean"]],
                    yerr=[[s["mean"] - s["lo"]], [s["hi"] - s["mean"]]],
                    color=colour,
                    marker="o",
                    capsize=4,
                )
            ax.set_xticks(range(k), list(regimes))
            ax.set_ylabel(label(m), fontsize=9)
            ax.grid(alpha=0.3)
    handles = [
        Patch(facecolor=regime_colour(regimes[i], i), label=r) for i, r in enumerate(regimes)
    ]
    note = (
        "points: mean of every run at a level (replicates and the other parameters pooled) "
        "with its 95% CI (Student t)"
    )
    if any("levels" not in f for f in factors):
        note += (
            f"; sampled parameters: dots = design points (mean over replicates), line and "
            f"band = mean and 95% CI of the runs in {bins} equal-width bins"
        )
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        title=wrap_note(note, fig),
        title_fontsize=8.5,
    )
    suptitle(fig, title, fontsize=11)
    return save_figure(fig, path)


def _ci(values: pd.Series) -> dict[str, float]:
    from saca.experiments.stats import mean_ci

    s = mean_ci(values.to_numpy(dtype=float))
    if not np.isfinite(s["lo"]):
        s = {**s, "lo": s["mean"], "hi": s["mean"]}
    return s


def plot_sweep_winners(
    grids: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Mapping[str, Any]]]],
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Mapping[str, bool] = WIN_METRICS,
    pooled: bool = False,
) -> Figure:
    """Heat maps over two parameters: which regime wins each cell, or the mean (one regime).

    Draws winners computed before (:func:`winner_grids` for a sweep, :func:`grids_from_cells`
    for a regime map); it computes none. With two or more regimes a cell is coloured by the
    regime with the best mean when its paired 95% CI against every other regime excludes 0,
    and grey ("no clear winner") otherwise; the text gives the best regime's paired
    difference from the runner-up. With one regime a cell shows the metric's mean.

    Args:
        grids: ``(fx, fy, {metric: grid})`` per pair of parameters (one row of panels each).
        regimes: regime labels in order.
        path: where to save the PNG, or None.
        title: figure title.
        metrics: metric → True if higher is better; one column of panels each.
        pooled: the runs of other parameters were pooled (said in the legend).
    """
    # a finer grid gets wider panels and smaller cell text, so the differences stay legible
    across = max(
        (max(len(g["xlabels"]), len(g["ylabels"])) for _, _, gs in grids for g in gs.values()),
        default=1,
    )
    width, height = max(5.4, 1.45 * across + 0.9), max(4.0, 0.95 * across + 1.2)
    fontsize = 7.5 if across <= 3 else 6.8
    fig = Figure(
        figsize=(width * len(metrics) + 0.4, height * len(grids) + 1.1), layout="constrained"
    )
    axes = fig.subplots(len(grids), len(metrics), squeeze=False)
    single = len(regimes) == 1
    for row, (fx, fy, pair_grids) in enumerate(grids):
        for col, (m, higher) in enumerate(metrics.items()):
            ax = axes[row, col]
            g = pair_grids[m]
            ny, nx = len(g["ylabels"]), len(g["xlabels"])
            if single:
                grid = np.array(
                    [
                        [np.nan if c is None else c["means"][regimes[0]] for c in r]
                        for r in g["cells"]
                    ]
                )
                im = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
                fig.colorbar(im, ax=ax, shrink=0.8, label=label(m))
                for iy in range(ny):
                    for ix in range(nx):
                        if np.isfinite(grid[iy, ix]):
                            ax.text(
                                ix,
                                iy,
                                f"{grid[iy, ix]:.3g}",
                                ha="center",
                                va="center",
                                fontsize=8,
                                color="white",
                            )
            else:
                won = (
                    (ix, iy, c["best"], c["clear"], _cell_text(c))
                    for iy, row_cells in enumerate(g["cells"])
                    for ix, c in enumerate(row_cells)
                    if c is not None and c["best"] is not None
                )
                draw_winner_grid(ax, regimes, won, nx, ny, fontsize)
            ax.set_xticks(range(nx), g["xlabels"], fontsize=8)
            ax.set_yticks(range(ny), g["ylabels"], fontsize=8)
            ax.set_xlabel(fx["key"], fontsize=9)
            ax.set_ylabel(fy["key"], fontsize=9)
            better = "higher" if higher else "lower"
            ax.set_title(f"{label(m)} ({better} is better)", fontsize=9.5)
    if not single:
        handles = [
            Patch(
                facecolor=lighten(regime_colour(regimes[i], i)),
                edgecolor="#999999",
                label=f"{r} wins",
            )
            for i, r in enumerate(regimes)
        ] + [Patch(facecolor=NO_WINNER, edgecolor=HATCH, hatch="///", label="no clear winner")]
        fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=len(handles),
            frameon=False,
            title=wrap_note(
                "wins = best mean, with a paired 95% t CI against every other regime that "
                "excludes 0 (pairs: design point × replicate, which share a seed); text: the "
                "best regime and its difference Δ from the runner-up [95% CI]"
                + ("; other parameters pooled" if pooled else ""),
                fig,
            ),
            title_fontsize=8.5,
        )
    suptitle(fig, title, fontsize=11)
    return save_figure(fig, path)


def draw_winner_grid(
    ax: Any,
    regimes: Sequence[str],
    cells: Iterable[tuple[int, int, str, bool, str]],
    nx: int,
    ny: int,
    fontsize: float,
) -> None:
    """Colour a grid of cells by their winning regime: pale regime colours where one wins
    clearly, grey and hatched where none does (hatched so it reads in greyscale prints),
    the rest (no runs) blank; each cell with its text.

    Args:
        ax: the axes.
        regimes: regime labels in order (their colours).
        cells: ``(ix, iy, best regime, clear, text)`` of every cell that has a best regime.
        nx: columns of the grid.
        ny: rows of the grid.
        fontsize: size of the cell text.
    """
    from matplotlib.colors import ListedColormap

    colours = [
        *(lighten(regime_colour(r, i)) for i, r in enumerate(regimes)),
        NO_WINNER,
        EMPTY_CELL,
    ]
    index = np.full((ny, nx), len(regimes) + 1)
    for ix, iy, best, clear, text in cells:
        index[iy, ix] = regimes.index(best) if clear else len(regimes)
        if not clear:
            ax.add_patch(
                Rectangle(
                    (ix - 0.5, iy - 0.5), 1, 1, fill=False, hatch="///", edgecolor=HATCH, lw=0
                )
            )
        ax.text(ix, iy, text, ha="center", va="center", fontsize=fontsize)
    ax.imshow(
        index,
        origin="lower",
        cmap=ListedColormap(colours),
        vmin=-0.5,
        vmax=len(colours) - 0.5,
        aspect="auto",
    )


def _cell_text(cell: Mapping[str, Any]) -> str:
    best, diffs = cell["best"], cell["diffs"]
    other = cell.get("runner_up") or runner_up(cell["best"], cell["means"])
    if other is None or other not in diffs:
        return str(best)
    d = diffs[other]
    head = best if cell["clear"] else f"no clear winner\n(best {best})"
    ci = f"[{short_number(d['lo'])}, {short_number(d['hi'])}]"
    return f"{head}\nΔ {short_number(d['diff'])} {ci}\nvs {other}"


def plot_pareto(
    points: pd.DataFrame,
    regimes: Sequence[str],
    panels: Sequence[tuple[str, str]],
    path: str | Path | None = None,
    title: str = "",
    y: str = "efficacy",
    note: str = "",
) -> Figure:
    """Trade-off panels: ``y`` against another metric for every point, its Pareto front marked.

    Sampled dial settings are grey dots, the regime presets coloured squares with their
    names; front members get a black edge and are joined by a line; bars are 95% CIs of
    the presets and of the front's members. A corner arrow shows where better lies.

    Args:
        points: one row per point: ``label``, ``kind`` (``preset`` or ``sample``), the
            metrics with ``_lo`` / ``_hi`` columns, and the front columns of ``panels``.
        regimes: preset labels in order (colours).
        panels: ``(x metric, boolean front column)`` per panel.
        path: where to save the PNG, or None.
        title: figure title.
        y: the metric on the vertical axis (higher is better).
        note: the legend's title.
    """
    fig = Figure(figsize=(5.6 * len(panels), 4.9), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    for ax, (xm, front_col) in zip(axes, panels, strict=True):
        front = points[points[front_col].astype(bool)].sort_values(xm)
        ax.plot(front[xm], front[y], color="#333333", lw=1.0, zorder=1)
        sample = points[points["kind"] == "sample"]
        on = sample[front_col].astype(bool)
        ax.scatter(sample.loc[~on, xm], sample.loc[~on, y], s=18, color="#9a9a9a", zorder=2)
        ax.scatter(
            sample.loc[on, xm],
            sample.loc[on, y],
            s=30,
            color="#9a9a9a",
            edgecolors="black",
            linewidths=1.2,
            zorder=3,
        )
        for _, row in points.iterrows():
            is_preset = row["kind"] == "preset"
            if not (is_preset or row[front_col]):
                continue
            i = list(regimes).index(row["label"]) if row["label"] in regimes else -1
            colour = regime_colour(row["label"], i) if is_preset else "#9a9a9a"
            xerr = _err(row, xm)
            yerr = _err(row, y)
            ax.errorbar([row[xm]], [row[y]], xerr=xerr, yerr=yerr, color=colour, lw=0.9, zorder=2)
            if is_preset:
                ax.scatter(
                    [row[xm]],
                    [row[y]],
                    marker="s",
                    s=46,
                    color=colour,
                    edgecolors="black" if row[front_col] else colour,
                    linewidths=1.2,
                    zorder=4,
                )
                ax.annotate(
                    str(row["label"]),
                    (row[xm], row[y]),
                    xytext=(5, 5),
                    textcoords="offset points",
                    fontsize=8.5,
                    color=colour,
                )
        higher_x = HIGHER_IS_BETTER.get(xm, True)
        corner = "better ↗" if higher_x else "better ↖"
        ax.text(
            0.98 if higher_x else 0.02,
            0.98,
            corner,
            transform=ax.transAxes,
            ha="right" if higher_x else "left",
            va="top",
            fontsize=9,
            color="#555555",
        )
        ax.set_xlabel(label(xm), fontsize=9)
        ax.set_ylabel(label(y), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles = [
        Patch(facecolor=regime_colour(regimes[i], i), label=r) for i, r in enumerate(regimes)
    ]
    if (points["kind"] == "sample").any():
        handles.append(Patch(facecolor="#9a9a9a", label="sampled dial settings"))
    handles.append(Patch(facecolor="white", edgecolor="black", label="on the Pareto front"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        title=wrap_note(note, fig) if note else None,
        title_fontsize=8.5,
    )
    suptitle(fig, title, fontsize=11)
    return save_figure(fig, path)


def _err(row: pd.Series, metric: str) -> list[list[float]] | None:
    lo, hi = row.get(f"{metric}_lo"), row.get(f"{metric}_hi")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    # a t interval from few replicates can pass the metric's natural bounds
    lo_b, hi_b = bounds(metric)
    lo = lo if lo_b is None else max(lo, lo_b)
    hi = hi if hi_b is None else min(hi, hi_b)
    return [[max(row[metric] - lo, 0.0)], [max(hi - row[metric], 0.0)]]


def plot_sweep_timeseries(
    timeseries: pd.DataFrame,
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = TIME_METRICS,
) -> Figure:
    """Mean time series per regime over every run of a sweep, with 95% CI bands.

    The band spans the design points and replicates together (it shows where a regime's
    runs lie across the design, not the uncertainty of one design point).

    Args:
        timeseries: :func:`saca.experiments.engine.results.load_timeseries` output.
        regimes: regime labels in order.
        path: where to save the PNG, or None.
        title: figure title.
        metrics: one panel each.
    """
    ts = timeseries.copy()
    reps = int(ts["replicate"].max()) + 1 if len(ts) else 1
    ts["replicate"] = ts["point"] * reps + ts["replicate"]
    n = int(ts.groupby("regime")["replicate"].nunique().min()) if len(ts) else 0
    note = (
        f"line: mean of {n} runs per regime (all design points and replicates); band: 95% CI "
        "(Student t) of that mean; shading: phases"
    )
    return plot_compare(ts, regimes, path, title=title, metrics=metrics, note=note)
