"""Figures of a stored validation result: one per pattern, and the robustness map."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from saca.experiments.analyses.validation.design import ROBUST_RANGES
from saca.experiments.analyses.validation.patterns import (
    DEFINITIONAL_ONLY,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
)
from saca.experiments.analyses.validation.report import ci_text

COLOURS = {
    REPRODUCED: "#2ca02c",
    NOT_REPRODUCED: "#d62728",
    INCONCLUSIVE: "#7f7f7f",
    DEFINITIONAL_ONLY: "#8c6d31",
}


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def _panel(ax: Any, t: Mapping[str, Any]) -> None:
    kind = t["contrast"]["kind"]
    arms_ = t["arms"]
    colour = COLOURS[t["verdict"]]
    mean = np.array([_f(a["mean"]) for a in arms_])
    lo = np.array([_f(a["lo"]) for a in arms_])
    hi = np.array([_f(a["hi"]) for a in arms_])
    err = np.vstack([mean - lo, hi - mean])
    err = np.where(np.isfinite(err), err, 0.0)
    if kind in ("regimes", "switch", "change", "level"):
        pos = np.arange(len(arms_))
        ax.bar(pos, mean, color=["#9ecae1", "#3182bd"][: len(arms_)], width=0.6)
        ax.errorbar(pos, mean, yerr=err, fmt="none", ecolor="black", capsize=5)
        labels = [str(a["label"]).replace(" = ", "=\n", 1) for a in arms_]
        ax.set_xticks(pos, labels, fontsize=8)
        if kind == "level":
            ax.axhline(t["contrast"]["threshold"], color="#d62728", ls="--", lw=1)
    elif kind in ("gradient", "optimum"):
        x = np.array([float(a["x"]) for a in arms_])
        ax.fill_between(x, lo, hi, color="#3182bd", alpha=0.2, lw=0)
        ax.plot(x, mean, "o-", color="#3182bd")
        if kind == "optimum":
            mid = float(t["contrast"]["middle"])
            ax.axvline(mid, color="#999999", ls=":", lw=1)
        ax.set_xlabel(t["contrast"]["key"], fontsize=8)
    else:
        by = np.array([float(a["by"]) for a in arms_])
        x = np.array([float(a["x"]) for a in arms_])
        for i, w in enumerate(np.unique(by)):
            m = by == w
            c = f"C{i}"
            ax.fill_between(x[m], lo[m], hi[m], color=c, alpha=0.15, lw=0)
            ax.plot(x[m], mean[m], "o-", color=c, label=f"{t['contrast']['by']} = {w:g}")
        ax.legend(fontsize=7, frameon=False)
        ax.set_xlabel(t["contrast"]["key"], fontsize=8)
    window = "" if kind == "change" else f" [{t['window']}]"
    ax.set_ylabel(f"{t['metric']}{window}", fontsize=8)
    ax.set_title(
        f"{t['label']}\neffect {ci_text(t)}, expected {t['expected']}: {t['verdict']}",
        fontsize=9,
        color=colour,
    )
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)


def _slopes_panel(ax: Any, t: Mapping[str, Any]) -> None:
    rows = t["by_level"]
    w = np.array([r["by"] for r in rows])
    m = np.array([_f(r["slope"]) for r in rows])
    lo = np.array([_f(r["lo"]) for r in rows])
    hi = np.array([_f(r["hi"]) for r in rows])
    err = np.where(np.isfinite([m - lo, hi - m]), [m - lo, hi - m], 0.0)
    ax.errorbar(w, m, yerr=err, fmt="o-", color=COLOURS[t["verdict"]], capsize=4)
    ax.axhline(0, color="#999999", lw=1)
    c = t["contrast"]
    ax.set_xlabel(c["by"], fontsize=8)
    ax.set_ylabel(f"slope of {t['metric']} on {c['key']}", fontsize=8)
    ax.set_title(
        f"slope on {c['key']} at each level of {c['by']}\n(the test: the trend of these slopes)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)


def plot_pattern(p: Mapping[str, Any], path: str | Path | None = None) -> Figure:
    """One figure per pattern: a panel per test (bars with 95% CIs, or lines with bands);
    an interaction gets a second panel with the slope at each level of its moderator.

    Args:
        p: a pattern entry of :func:`run_validation`'s result.
        path: where to save the PNG, or None.
    """
    panels: list[tuple[Callable[[Any, Mapping[str, Any]], None], Mapping[str, Any]]] = []
    for t in p["tests"]:
        panels.append((_panel, t))
        if t.get("by_level"):
            panels.append((_slopes_panel, t))
    n = len(panels)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    width = max(4.6 * ncols, 9.0)
    fig = Figure(figsize=(width, 3.7 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax, (draw, t) in zip(axes, panels, strict=False):
        draw(ax, t)
    reps = p["experiment"]["replicates"]
    title = (
        f"{p['id']} {p['title']}: {p['verdict']}. {p['experiment']['scenario']} scenario, "
        f"{reps} replicates; bars and bands: 95% CI of each arm's mean (the effects' CIs are "
        "paired across arms and narrower)"
    )
    fig.suptitle(textwrap.fill(title, int(11 * width)), fontsize=10, color=COLOURS[p["verdict"]])
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_robustness(result: Mapping[str, Any], path: str | Path | None = None) -> Figure:
    """Robustness: for each checked pattern, the situations where it holds or fails.

    Args:
        result: the output of :func:`run_validation` with a robustness check.
        path: where to save the PNG, or None.
    """
    checked = [p for p in result["patterns"] if p.get("robustness")]
    keys = list(ROBUST_RANGES)
    fig = Figure(figsize=(12, 0.45 * max(len(checked), 1) + 1.6), layout="constrained")
    axes = fig.subplots(1, len(keys), sharey=True, squeeze=False)[0]
    for ax, k in zip(axes, keys, strict=True):
        for i, p in enumerate(checked):
            for s in p["robustness"]["situations"]:
                ok = s["holds"]
                ax.plot(
                    s[k],
                    i,
                    "o" if ok else "x",
                    color="#2ca02c" if ok else "#d62728",
                    ms=4 if ok else 6,
                    alpha=0.7,
                )
        ax.set_xlabel(k, fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].set_yticks(
        range(len(checked)),
        [f"{p['id']} ({p['robustness']['held']}/{p['robustness']['points']})" for p in checked],
        fontsize=8,
    )
    axes[0].invert_yaxis()
    fig.suptitle(
        "Robustness over a Latin hypercube of situations: o holds (every test's mean effect "
        "has the expected sign), x fails",
        fontsize=10,
    )
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
