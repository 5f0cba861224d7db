"""Figures of runs and comparisons (matplotlib, no pyplot: works headless and in notebooks).

Each function builds a :class:`matplotlib.figure.Figure`, saves it when given a path
(rendered by the Agg canvas) and returns it, so a notebook can display or adjust it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from saca.experiments.plots.style import LABELS, PALETTE, PHASE_SHADE, regime_colour
from saca.experiments.stats import band
from saca.model.metrics import COUNT_METRICS, HIGHER_IS_BETTER, SHARE_METRICS

SERIES = (
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


BOUNDS = {
    **dict.fromkeys(SHARE_METRICS, (0.0, 1.0)),
    **dict.fromkeys(COUNT_METRICS, (0.0, None)),
}
"""Natural bounds of a metric: CI bands are clipped to them (few replicates on a day can
give a t interval wider than the metric's range)."""

SMOOTH = {"efficacy": 7}
"""Rolling window (days) applied to a noisy daily series before plotting."""

PHASE_COLOURS = PHASE_SHADE
REGIME_COLOURS = PALETTE


def label(metric: str) -> str:
    """A readable axis label for a metric.

    Args:
        metric: the metric name.
    """
    return LABELS.get(metric, metric.replace("_", " ").capitalize())


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


def _shade(ax: Any, spans: Sequence[tuple[str, int, int]]) -> None:
    for name, a, b in spans:
        if name in PHASE_COLOURS:
            ax.axvspan(a - 0.5, b - 0.5, color=PHASE_COLOURS[name], zorder=0, lw=0)


def _phase_handles(spans: Sequence[tuple[str, int, int]]) -> list[Patch]:
    seen = dict.fromkeys(name for name, _, _ in spans if name in PHASE_COLOURS)
    return [Patch(facecolor=PHASE_COLOURS[n], edgecolor="#999999", label=n) for n in seen]


def _smooth(ts: pd.DataFrame, metric: str, by: Sequence[str]) -> pd.Series:
    win = SMOOTH.get(metric)
    if not win:
        return ts[metric]
    if not by:
        return ts[metric].rolling(win, min_periods=1).mean()
    return ts.groupby(list(by), sort=False)[metric].transform(
        lambda s: s.rolling(win, min_periods=1).mean()
    )


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


def _panel_title(metric: str) -> str:
    win = SMOOTH.get(metric)
    return f"{label(metric)}, {win}-day mean" if win else label(metric)


def _grid(n: int, ncols: int = 3) -> tuple[Figure, list[Any]]:
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.1 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _save(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        fig.savefig(path, dpi=130)
    return fig


def plot_run(
    timeseries: pd.DataFrame,
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = SERIES,
) -> Figure:
    """Time series of one run, phases shaded.

    Args:
        timeseries: the run's time series (index ``day`` or a ``day`` column, ``phase``).
        path: where to save the PNG, or None.
        title: figure title.
        metrics: the metrics to draw, one panel each.
    """
    ts = timeseries.reset_index() if "day" not in timeseries.columns else timeseries
    ts = ts.sort_values("day")
    spans = phase_spans(ts.set_index("day")["phase"])
    fig, axes = _grid(len(metrics))
    for ax, m in zip(axes, metrics, strict=True):
        _shade(ax, spans)
        ax.plot(ts["day"], _smooth(ts, m, ()), color=REGIME_COLOURS[0], lw=1.4)
        ax.set_title(_panel_title(m), fontsize=10)
        ax.set_ylabel(unit(m), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel("day")
    handles = _phase_handles(spans)
    if handles:
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), frameon=False)
    suptitle(fig, title, fontsize=12)
    return _save(fig, path)


def plot_compare(
    timeseries: pd.DataFrame,
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = SERIES,
    note: str | None = None,
) -> Figure:
    """Mean time series per regime with 95% CI bands across replicates, phases shaded.

    Args:
        timeseries: long table with ``regime``, ``replicate``, ``day``, ``phase`` and
            the metrics.
        regimes: regime labels in order (sets colours and legend order).
        path: where to save the PNG, or None.
        title: figure title.
        metrics: the metrics to draw, one panel each.
        note: the legend's title; None says "line: mean of N replicates; band: 95% CI".
    """
    ts = timeseries.sort_values(["regime", "replicate", "day"]).copy()
    first = ts[(ts["regime"] == regimes[0]) & (ts["replicate"] == ts["replicate"].min())]
    spans = phase_spans(first.set_index("day")["phase"])
    fig, axes = _grid(len(metrics))
    for ax, m in zip(axes, metrics, strict=True):
        _shade(ax, spans)
        ts["_y"] = _smooth(ts, m, ("regime", "replicate"))
        bands = band(ts, "_y")
        lo_b, hi_b = BOUNDS.get(m, (None, None))
        bands[["lo", "hi"]] = bands[["lo", "hi"]].clip(lower=lo_b, upper=hi_b)
        for i, r in enumerate(regimes):
            b = bands[bands["regime"] == r].sort_values("day")
            colour = regime_colour(regimes[i], i)
            ax.fill_between(b["day"], b["lo"], b["hi"], color=colour, alpha=0.2, lw=0)
            ax.plot(b["day"], b["mean"], color=colour, lw=1.5)
        ax.set_title(_panel_title(m), fontsize=10)
        ax.set_ylabel(unit(m), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel("day")
    n = int(ts.groupby("regime")["replicate"].nunique().min())
    handles = [
        Patch(facecolor=regime_colour(regimes[i], i), alpha=0.8, label=r)
        for i, r in enumerate(regimes)
    ] + _phase_handles(spans)
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        title=note or f"line: mean of {n} replicates; band: 95% CI (Student t); shading: phases",
        title_fontsize=9,
    )
    suptitle(fig, title, fontsize=12)
    return _save(fig, path)


def _float(x: Any) -> float:
    return np.nan if x is None else float(x)


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:+.0f}"
    if ax >= 10:
        return f"{x:+.1f}"
    return f"{x:+.3f}"


def plot_differences(
    differences: Mapping[str, Mapping[str, Mapping[str, float]]],
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = KEY_METRICS,
) -> Figure:
    """Forest plot: each regime's paired difference from the first, one row per metric.

    Every metric row has its own scale (metrics have different units) and a zero line;
    the numbers are written beside each row.

    Args:
        differences: regime → metric → ``{"diff", "lo", "hi", "n"}`` (see
            :func:`saca.experiments.stats.compare_stats`).
        regimes: regime labels in order; the first is the reference.
        path: where to save the PNG, or None.
        title: figure title.
        metrics: the metric rows.
    """
    others = list(regimes[1:])
    k = len(others)
    row_h = 0.55 + 0.22 * k
    fig = Figure(figsize=(10, row_h * len(metrics) + 1.2), layout="constrained")
    axes = fig.subplots(len(metrics), 1, squeeze=False).ravel()
    for ax, m in zip(axes, metrics, strict=True):
        lows, highs = [0.0], [0.0]
        texts = []
        for j, r in enumerate(others):
            d = differences[r][m]
            y = k - 1 - j
            colour = regime_colour(r, j + 1)
            diff, lo, hi = (_float(d.get(x)) for x in ("diff", "lo", "hi"))
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
                lows.append(lo)
                highs.append(hi)
            if np.isfinite(diff):
                ax.plot([diff], [y], "o", color=colour, ms=6)
                lows.append(diff)
                highs.append(diff)
            text = f"{_fmt(diff)}  [{_fmt(lo)}, {_fmt(hi)}]"
            texts.append(f"{r}: {text}" if k > 1 else text)
        lo_all, hi_all = min(lows), max(highs)
        pad = 0.12 * (hi_all - lo_all) or 1.0
        ax.set_xlim(lo_all - pad, hi_all + pad)
        ax.set_ylim(-0.6, k - 0.4)
        ax.axvline(0, color="#555555", lw=0.9, ls="--")
        ax.set_yticks(range(k - 1, -1, -1), texts, fontsize=8.5)
        ax.yaxis.tick_right()
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_ylabel(label(m), rotation=0, ha="right", va="center", fontsize=9.5)
        ax.grid(axis="x", alpha=0.3)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    handles = [
        Patch(facecolor=regime_colour(r, j + 1), label=f"{r} − {regimes[0]}")
        for j, r in enumerate(others)
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        fontsize=9,
        title="dot: mean paired difference; bar: 95% CI; dashed: no difference; "
        "each row has its own scale",
        title_fontsize=8.5,
    )
    suptitle(fig, title, fontsize=11)
    return _save(fig, path)


# ----- sweeps ---------------------------------------------------------------------------
SWEEP_METRICS = ("efficacy", "burnout_mean", "trust_resident_sunk", "trust_institution")
"""Metrics drawn against each swept parameter."""

WIN_METRICS = {"efficacy": True, "burnout_mean": False}
"""Metrics of the which-regime-wins heat maps: True if higher is better."""

BETTER = HIGHER_IS_BETTER
"""Alias of :data:`saca.model.metrics.HIGHER_IS_BETTER`."""

NO_WINNER = "#d9d9d9"
HATCH = "#9a9a9a"
EMPTY_CELL = "#ffffff"


def _tick(x: Any) -> str:
    if isinstance(x, bool | np.bool_):
        return str(bool(x)).lower()
    if isinstance(x, float | np.floating):
        return f"{float(x):g}"
    return str(x)


def sweep_bins(points: int) -> int:
    """How many equal-width bins a sampled (lhs / sobol) parameter gets in a figure.

    Args:
        points: the number of design points.
    """
    return int(min(6, max(2, round(math.sqrt(points / 3)))))


def factor_cells(results: pd.DataFrame, factor: Mapping[str, Any], bins: int) -> tuple:
    """Group a parameter's values into figure cells: its levels, or equal-width bins.

    Args:
        results: one row per run with a column named by the factor's key.
        factor: ``{"key", "kind", "levels"}`` or ``{"key", "kind", "min", "max"}`` (as in
            a sweep's meta.json).
        bins: number of bins for a range.

    Returns:
        ``(codes, labels, centres)``: the cell index of every row (a Series aligned with
        ``results``), a tick label per cell, and the x position of each cell (None for
        bool / choice levels, drawn at positions 0..k-1).
    """
    key = factor["key"]
    if "levels" in factor:
        levels = list(factor["levels"])
        index = {lv: i for i, lv in enumerate(levels)}
        codes = results[key].map(lambda v: index.get(v, index.get(_plain_level(v), -1)))
        numeric = factor["kind"] in ("float", "int")
        return codes, [_tick(lv) for lv in levels], (levels if numeric else None)
    lo, hi = float(factor["min"]), float(factor["max"])
    edges = np.linspace(lo, hi, bins + 1)
    codes = np.clip(
        np.searchsorted(edges, results[key].to_numpy(float), side="right") - 1, 0, bins - 1
    )
    labels = [f"{_tick(edges[i])}–{_tick(edges[i + 1])}" for i in range(bins)]
    centres = list((edges[:-1] + edges[1:]) / 2)
    return pd.Series(codes, index=results.index), labels, centres


def _plain_level(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


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
        title=_wrap(note, fig),
        title_fontsize=8.5,
    )
    suptitle(fig, title, fontsize=11)
    return _save(fig, path)


def _ci(values: pd.Series) -> dict[str, float]:
    from saca.experiments.stats import mean_ci

    s = mean_ci(values.to_numpy(dtype=float))
    if not np.isfinite(s["lo"]):
        s = {**s, "lo": s["mean"], "hi": s["mean"]}
    return s


def winner_grid(
    results: pd.DataFrame,
    fx: Mapping[str, Any],
    fy: Mapping[str, Any],
    regimes: Sequence[str],
    metric: str,
    higher_is_better: bool,
    bins: int,
) -> dict[str, Any]:
    """Which regime wins in each cell of two parameters (see :func:`saca.experiments.stats.winner`).

    Runs are paired across regimes by design point and replicate (they share a seed).

    Args:
        results: one row per run.
        fx: the x parameter (meta.json form).
        fy: the y parameter.
        regimes: regime labels in order.
        metric: the metric.
        higher_is_better: the metric's direction.
        bins: bins for sampled parameters.

    Returns:
        ``{"xlabels", "ylabels", "cells"}``; ``cells[iy][ix]`` is the winner dict of
        :func:`saca.experiments.stats.winner` plus ``cis`` (regime → its mean with 95% CI over
        the cell's runs), ``runner_up`` (see :func:`runner_up`) and ``n`` (pairs), or None
        for an empty cell.
    """
    from saca.experiments.stats import mean_ci, winner

    ok = results[results["status"] == "ok"]
    cx, xl, _ = factor_cells(ok, fx, bins)
    cy, yl, _ = factor_cells(ok, fy, bins)
    cells: list[list[Any]] = [[None] * len(xl) for _ in yl]
    for iy in range(len(yl)):
        for ix in range(len(xl)):
            sub = ok[(cx == ix) & (cy == iy)]
            if sub.empty:
                continue
            wide = sub.pivot_table(index=["point", "replicate"], columns="regime", values=metric)
            values = {
                r: wide[r].to_numpy(float) if r in wide else np.full(len(wide), np.nan)
                for r in regimes
            }
            cell = winner(values, higher_is_better)
            cell["cis"] = {r: mean_ci(v) for r, v in values.items()}
            cell["runner_up"] = runner_up(cell)
            cell["n"] = len(wide)
            cells[iy][ix] = cell
    return {"xlabels": xl, "ylabels": yl, "cells": cells}


def runner_up(cell: Mapping[str, Any]) -> str | None:
    """The regime whose mean is closest to the best one's (second best), or None.

    Args:
        cell: a winner dict of :func:`saca.experiments.stats.winner` (``best``, ``means``).
    """
    best, means = cell["best"], cell["means"]
    others = [r for r, m in means.items() if r != best and np.isfinite(m)]
    if best is None or not others:
        return None
    # distance to the best, not the raw mean, so the direction of the metric does not matter
    return min(others, key=lambda r: abs(means[r] - means[best]))


def plot_sweep_winners(
    results: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]],
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Mapping[str, bool] = WIN_METRICS,
    max_pairs: int = 3,
) -> Figure:
    """Heat maps over two parameters: which regime wins each cell, or the mean (one regime).

    With two or more regimes a cell is coloured by the regime with the best mean when its
    paired 95% CI against every other regime excludes 0, and grey ("no clear winner")
    otherwise; the text gives the best regime's paired difference from the runner-up.
    With one regime a cell shows the metric's mean. Parameters with levels use their
    levels; sampled ones equal-width bins. Runs of other parameters are pooled.

    Args:
        results: one row per run.
        factors: the swept parameters (at least two), as in meta.json.
        regimes: regime labels in order.
        path: where to save the PNG, or None.
        title: figure title.
        metrics: metric → True if higher is better; one column of panels each.
        max_pairs: at most this many parameter pairs (rows of panels).
    """
    import itertools

    pairs = list(itertools.combinations(factors, 2))[:max_pairs]
    n_points = int(results["point"].nunique()) if len(results) else 0
    bins = sweep_bins(n_points)
    # a finer grid gets wider panels and smaller cell text, so the differences stay legible
    across = max((len(f.get("levels") or range(bins)) for f in factors), default=bins)
    width, height = max(5.4, 1.45 * across + 0.9), max(4.0, 0.95 * across + 1.2)
    fontsize = 7.5 if across <= 3 else 6.8
    fig = Figure(
        figsize=(width * len(metrics) + 0.4, height * len(pairs) + 1.1), layout="constrained"
    )
    axes = fig.subplots(len(pairs), len(metrics), squeeze=False)
    single = len(regimes) == 1
    for row, (fx, fy) in enumerate(pairs):
        for col, (m, higher) in enumerate(metrics.items()):
            ax = axes[row, col]
            g = winner_grid(results, fx, fy, regimes, m, higher, bins)
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
                colours = [
                    *(_light(regime_colour(regimes[i], i)) for i in range(len(regimes))),
                    NO_WINNER,
                    EMPTY_CELL,
                ]
                index = np.full((ny, nx), len(regimes) + 1)
                for iy in range(ny):
                    for ix in range(nx):
                        c = g["cells"][iy][ix]
                        if c is None or c["best"] is None:
                            continue
                        index[iy, ix] = regimes.index(c["best"]) if c["clear"] else len(regimes)
                        if not c["clear"]:  # hatched too, so it reads in greyscale prints
                            ax.add_patch(
                                Rectangle(
                                    (ix - 0.5, iy - 0.5),
                                    1,
                                    1,
                                    fill=False,
                                    hatch="///",
                                    edgecolor=HATCH,
                                    lw=0,
                                )
                            )
                        ax.text(ix, iy, _cell_text(c), ha="center", va="center", fontsize=fontsize)
                from matplotlib.colors import ListedColormap

                ax.imshow(
                    index,
                    origin="lower",
                    cmap=ListedColormap(colours),
                    vmin=-0.5,
                    vmax=len(colours) - 0.5,
                    aspect="auto",
                )
            ax.set_xticks(range(nx), g["xlabels"], fontsize=8)
            ax.set_yticks(range(ny), g["ylabels"], fontsize=8)
            ax.set_xlabel(fx["key"], fontsize=9)
            ax.set_ylabel(fy["key"], fontsize=9)
            better = "higher" if higher else "lower"
            ax.set_title(f"{label(m)} ({better} is better)", fontsize=9.5)
    if not single:
        handles = [
            Patch(
                facecolor=_light(regime_colour(regimes[i], i)),
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
            title=_wrap(
                "wins = best mean, with a paired 95% t CI against every other regime that "
                "excludes 0 (pairs: design point × replicate, which share a seed); text: the "
                "best regime and its difference Δ from the runner-up [95% CI]"
                + ("; other parameters pooled" if len(factors) > 2 else ""),
                fig,
            ),
            title_fontsize=8.5,
        )
    suptitle(fig, title, fontsize=11)
    return _save(fig, path)


def _wrap(text: str, fig: Figure) -> str:
    import textwrap

    return textwrap.fill(text, width=max(60, int(fig.get_figwidth() * 15)))


def _light(colour: str, amount: float = 0.45) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _cell_text(cell: Mapping[str, Any]) -> str:
    best, diffs = cell["best"], cell["diffs"]
    other = cell.get("runner_up") or runner_up(cell)
    if other is None or other not in diffs:
        return str(best)
    d = diffs[other]
    head = best if cell["clear"] else f"no clear winner\n(best {best})"
    return f"{head}\nΔ {_fmt(d['diff'])} [{_fmt(d['lo'])}, {_fmt(d['hi'])}]\nvs {other}"


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
        higher_x = BETTER.get(xm, True)
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
        title=_wrap(note, fig) if note else None,
        title_fontsize=8.5,
    )
    suptitle(fig, title, fontsize=11)
    return _save(fig, path)


def _err(row: pd.Series, metric: str) -> list[list[float]] | None:
    lo, hi = row.get(f"{metric}_lo"), row.get(f"{metric}_hi")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    # a t interval from few replicates can pass the metric's natural bounds
    lo_b, hi_b = BOUNDS.get(metric, (None, None))
    lo = lo if lo_b is None else max(lo, lo_b)
    hi = hi if hi_b is None else min(hi, hi_b)
    return [[max(row[metric] - lo, 0.0)], [max(hi - row[metric], 0.0)]]


def plot_sweep_timeseries(
    timeseries: pd.DataFrame,
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = SERIES,
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
