"""Figures of one run and of a comparison over time: time series, the forest plot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from saca.experiments.plots.axes import (
    as_float,
    panel_grid,
    panel_title,
    phase_handles,
    phase_spans,
    save_figure,
    shade_spans,
    short_number,
    smoothed,
    suptitle,
)
from saca.experiments.plots.style import (
    KEY_METRICS,
    PALETTE,
    TIME_METRICS,
    bounds,
    label,
    regime_colour,
    unit,
)
from saca.experiments.stats import band


def plot_run(
    timeseries: pd.DataFrame,
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = TIME_METRICS,
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
    fig, axes = panel_grid(len(metrics))
    for ax, m in zip(axes, metrics, strict=True):
        shade_spans(ax, spans)
        ax.plot(ts["day"], smoothed(ts, m, ()), color=PALETTE[0], lw=1.4)
        ax.set_title(panel_title(m), fontsize=10)
        ax.set_ylabel(unit(m), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel("day")
    handles = phase_handles(spans)
    if handles:
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), frameon=False)
    suptitle(fig, title, fontsize=12)
    return save_figure(fig, path)


def plot_compare(
    timeseries: pd.DataFrame,
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = TIME_METRICS,
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
    fig, axes = panel_grid(len(metrics))
    for ax, m in zip(axes, metrics, strict=True):
        shade_spans(ax, spans)
        ts["_y"] = smoothed(ts, m, ("regime", "replicate"))
        bands = band(ts, "_y")
        lo_b, hi_b = bounds(m)
        bands[["lo", "hi"]] = bands[["lo", "hi"]].clip(lower=lo_b, upper=hi_b)
        for i, r in enumerate(regimes):
            b = bands[bands["regime"] == r].sort_values("day")
            colour = regime_colour(regimes[i], i)
            ax.fill_between(b["day"], b["lo"], b["hi"], color=colour, alpha=0.2, lw=0)
            ax.plot(b["day"], b["mean"], color=colour, lw=1.5)
        ax.set_title(panel_title(m), fontsize=10)
        ax.set_ylabel(unit(m), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel("day")
    n = int(ts.groupby("regime")["replicate"].nunique().min())
    handles = [
        Patch(facecolor=regime_colour(regimes[i], i), alpha=0.8, label=r)
        for i, r in enumerate(regimes)
    ] + phase_handles(spans)
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        title=note or f"line: mean of {n} replicates; band: 95% CI (Student t); shading: phases",
        title_fontsize=9,
    )
    suptitle(fig, title, fontsize=12)
    return save_figure(fig, path)


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
            diff, lo, hi = (as_float(d.get(x)) for x in ("diff", "lo", "hi"))
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
                lows.append(lo)
                highs.append(hi)
            if np.isfinite(diff):
                ax.plot([diff], [y], "o", color=colour, ms=6)
                lows.append(diff)
                highs.append(diff)
            text = f"{short_number(diff)}  [{short_number(lo)}, {short_number(hi)}]"
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
    return save_figure(fig, path)
