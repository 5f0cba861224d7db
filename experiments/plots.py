"""Figures of runs and comparisons (matplotlib, no pyplot: works headless and in notebooks).

Each function builds a :class:`matplotlib.figure.Figure`, saves it when given a path
(rendered by the Agg canvas) and returns it, so a notebook can display or adjust it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from experiments.stats import band

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
}

BOUNDS = {
    **dict.fromkeys(
        (
            "efficacy",
            "resolution_rate",
            "escalation_share",
            "trust_resident_sunk",
            "trust_resident_community",
            "trust_institution",
            "trust_cadre_cadre",
            "burnout_mean",
            "burnout_share",
            "burnout_sunk",
            "burnout_community",
            "shirking_rate",
            "formalism_share",
            "participation_in_service",
        ),
        (0.0, 1.0),
    ),
    **dict.fromkeys(
        ("needs_open", "needs_hidden", "needs_created", "needs_resolved", "complaints"), (0.0, None)
    ),
}
"""Natural bounds of a metric: CI bands are clipped to them (few replicates on a day can
give a t interval wider than the metric's range)."""

SMOOTH = {"efficacy": 7}
"""Rolling window (days) applied to a noisy daily series before plotting."""

PHASE_COLOURS = {"emergency": "#d9d9d9", "recovery": "#f0f0f0"}
REGIME_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


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
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel("day")
    handles = _phase_handles(spans)
    if handles:
        fig.legend(handles=handles, loc="outside upper right", ncols=len(handles), frameon=False)
    fig.suptitle(title, fontsize=12)
    return _save(fig, path)


def plot_compare(
    timeseries: pd.DataFrame,
    regimes: Sequence[str],
    path: str | Path | None = None,
    title: str = "",
    metrics: Sequence[str] = SERIES,
) -> Figure:
    """Mean time series per regime with 95% CI bands across replicates, phases shaded.

    Args:
        timeseries: long table with ``regime``, ``replicate``, ``day``, ``phase`` and
            the metrics.
        regimes: regime labels in order (sets colours and legend order).
        path: where to save the PNG, or None.
        title: figure title.
        metrics: the metrics to draw, one panel each.
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
            colour = REGIME_COLOURS[i % len(REGIME_COLOURS)]
            ax.fill_between(b["day"], b["lo"], b["hi"], color=colour, alpha=0.2, lw=0)
            ax.plot(b["day"], b["mean"], color=colour, lw=1.5)
        ax.set_title(_panel_title(m), fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[-3:]:
        ax.set_xlabel("day")
    n = int(ts.groupby("regime")["replicate"].nunique().min())
    handles = [
        Patch(facecolor=REGIME_COLOURS[i % len(REGIME_COLOURS)], alpha=0.8, label=r)
        for i, r in enumerate(regimes)
    ] + _phase_handles(spans)
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        frameon=False,
        title=f"line: mean of {n} replicates; band: 95% CI (Student t); shading: phases",
        title_fontsize=9,
    )
    fig.suptitle(title, fontsize=12)
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
            :func:`experiments.stats.compare_stats`).
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
            colour = REGIME_COLOURS[(j + 1) % len(REGIME_COLOURS)]
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
        Patch(facecolor=REGIME_COLOURS[(j + 1) % len(REGIME_COLOURS)], label=f"{r} − {regimes[0]}")
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
    fig.suptitle(title, fontsize=11)
    return _save(fig, path)
