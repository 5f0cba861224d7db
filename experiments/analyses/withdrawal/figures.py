"""The withdrawal figures: timelines and hysteresis, drawn from the stored tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from saca.experiments import stats
from saca.experiments.analyses.withdrawal.method import MEASURES, OUTCOMES, Window
from saca.model.metrics import RECORDS


def label(measure: str) -> str:
    """A short panel title of an outcome: the experiment's own label, or the metric's.

    Args:
        measure: an outcome of :data:`~.method.OUTCOMES`.
    """
    return MEASURES.get(measure) or RECORDS[measure].short


def plot_timelines(
    series: pd.DataFrame, wins: Sequence[Window], path: str | Path, smooth: int = 7
) -> Path:
    """Timelines of the outcomes, withdrawal arm (solid) and control (dashed) per regime,
    replicate means smoothed over ``smooth`` days; windows without every sunk cadre are
    shaded (darker: none present).

    Args:
        series: the daily table.
        wins: the windows.
        path: the PNG to write.
        smooth: days of the rolling mean.
    """
    from matplotlib.figure import Figure

    from saca.experiments.plots.style import PHASE_SHADE, regime_colour

    fig = Figure(figsize=(12, 10), layout="constrained")
    axes = fig.subplots(4, 2, sharex=True).ravel()
    regimes = list(dict.fromkeys(series["regime"]))
    mean = series.groupby(["regime", "arm", "day"])[[*OUTCOMES, "sunk_present"]].mean()
    for ax, m in zip(axes, [*OUTCOMES, "sunk_present"], strict=True):
        for w in wins:
            if w.sunk != "all":
                ax.axvspan(w.start, w.end, color="#999999" if w.sunk == "none" else "#dddddd")
            elif "emergency" in w.name:
                ax.axvspan(w.start, w.end, color=PHASE_SHADE["emergency"], alpha=0.4, hatch="//")
        for i, r in enumerate(regimes):
            c = regime_colour(r, i)
            for a, ls in (("withdrawal", "-"), ("control", "--")):
                if (r, a) not in mean.index.droplevel(2):
                    continue
                y = mean.loc[(r, a)][m]
                if m != "sunk_present":  # presence is a step, not a noisy rate
                    y = y.rolling(smooth, min_periods=1).mean()
                legend = f"{r}, {a}" if m == OUTCOMES[0] else None
                ax.plot(y.index, y.to_numpy(), ls, color=c, lw=1.4, label=legend)
        ax.set_title(label(m) if m in OUTCOMES else "Sunk cadres present (share)", fontsize=10)
    axes[0].legend(fontsize=8)
    for ax in axes[-2:]:
        ax.set_xlabel("day (shaded: off-post cadres recalled; dark: all sunk cadres recalled)")
    fig.suptitle(f"Withdrawal experiment: replicate means, {smooth}-day rolling mean")
    fig.savefig(path, dpi=110)
    return Path(path)


def plot_hysteresis(values: pd.DataFrame, wins: Sequence[Window], path: str | Path) -> Path:
    """Each outcome's effect of the withdrawal (withdrawal − control, paired by seed, so
    the drift both arms share is gone) against sunk-cadre presence: the down path
    (solid, filled markers) and the up path (dashed, open markers), means with paired
    95% CIs, one colour per regime.

    Args:
        values: the table of :func:`window_values`.
        wins: the windows.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    from saca.experiments.plots.style import regime_colour

    down = [w.name for w in wins if w.path in ("before", "down", "turn")]
    up = [w.name for w in wins if w.path in ("turn", "up", "after")]
    fig = Figure(figsize=(13, 7), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    v = values[values["arm"] == "withdrawal"]
    ctl = values[values["arm"] == "control"]
    regimes = list(dict.fromkeys(v["regime"]))
    for ax, m in zip(axes, OUTCOMES, strict=False):
        for i, r in enumerate(regimes):
            c = regime_colour(r, i)
            for names, ls, face, lab in ((down, "-", c, "down"), (up, "--", "white", "up")):
                pts = []
                for n in names:
                    sel = v[(v["regime"] == r) & (v["window"] == n)].sort_values("replicate")
                    base = ctl[(ctl["regime"] == r) & (ctl["window"] == n)].sort_values("replicate")
                    ci = stats.paired_diff_ci(base[m].to_numpy(float), sel[m].to_numpy(float))
                    pts.append((float(sel["sunk_present"].mean()), ci["diff"], ci["lo"], ci["hi"]))
                x, y, lo, hi = (np.array(t) for t in zip(*pts, strict=True))
                ax.errorbar(
                    x,
                    y,
                    yerr=[y - lo, hi - y],
                    fmt=ls + "o",
                    color=c,
                    mfc=face,
                    capsize=2,
                    lw=1.3,
                    label=f"{r}, {lab}" if m == OUTCOMES[0] else None,
                )
        ax.axhline(0.0, color="#888888", lw=0.8)
        ax.set_title(label(m) + ": effect", fontsize=10)
        ax.set_xlabel("sunk cadres present (share)")
    axes[-1].axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].legend(handles, labels, loc="center", fontsize=9)
    fig.suptitle(
        "Hysteresis: effect of the withdrawal (withdrawal − control, paired) vs sunk-cadre "
        "presence; down path solid, up path dashed"
    )
    fig.savefig(path, dpi=110)
    return Path(path)
