"""The sensitivity figures: bar charts of stored indices, one panel per regime."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from saca.experiments.analyses.sensitivity.method import MAIN_INDEX, Analysis
from saca.experiments.plots.style import PALETTE


def _short_names(keys: Sequence[str]) -> tuple[list[str], str]:
    """Drop a dotted prefix every key shares (``regime.``), and say which."""
    heads = {k.split(".", 1)[0] for k in keys}
    if len(heads) == 1 and all("." in k for k in keys):
        head = next(iter(heads))
        return [k.split(".", 1)[1] for k in keys], f"{head}."
    return list(keys), ""


def plot_indices(
    analysis: Analysis, output: str, path: str | Path | None = None, title: str = ""
) -> Figure:
    """Bar chart of one output's indices, one panel per regime, with 95% CI error bars.

    Sobol: S1 and ST side by side; Morris: mu* (with its CI) and sigma side by side.
    Parameters are ordered by their mean main index (ST or mu*) over the regimes.

    Args:
        analysis: from :func:`analyse`.
        output: the metric.
        path: where to save the PNG, or None.
        title: figure title.
    """
    df = analysis.indices[analysis.indices["output"] == output]
    regs = list(pd.unique(df["regime"]))
    method = analysis.method
    key = MAIN_INDEX[method]
    order = df.groupby("parameter", sort=False)[key].mean().sort_values(ascending=False).index
    names, prefix = _short_names(list(order))
    ncols = min(3, max(1, len(regs)))
    nrows = math.ceil(len(regs) / ncols)
    width = max(6.0, 0.75 * len(order) + 1.8)
    fig = Figure(figsize=(width * ncols, 3.4 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel().tolist()
    for ax in axes[len(regs) :]:
        ax.set_visible(False)
    if method == "sobol":
        bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST"))
    else:
        bars = (("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma"))
    conv = analysis.convergence.set_index(["regime", "output"])
    pos = np.arange(len(order))
    for ax, regime in zip(axes, regs, strict=False):
        sub = df[df["regime"] == regime].set_index("parameter").reindex(order)
        for i, (col, err, lab) in enumerate(bars):
            yerr = sub[err].to_numpy(dtype=float) if err else None
            ax.bar(
                pos + (i - 0.5) * 0.38,
                sub[col].to_numpy(dtype=float),
                width=0.38,
                yerr=yerr,
                capsize=3,
                color=PALETTE[i],
                label=lab,
            )
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(pos, names, rotation=30, ha="right")
        ok = conv["converged"].get((regime, output))
        flag = "" if ok is not False else " (not converged)"
        ax.set_title(f"{regime}{flag}", fontsize=10)
        ax.set_xlabel(f"parameter ({prefix}<name>)" if prefix else "parameter")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(
        "share of variance" if method == "sobol" else "effect over the parameter's range"
    )
    axes[0].legend(fontsize=8)
    if title:
        # about 12 characters of 10-point text per inch of figure
        chars = max(40, int(fig.get_figwidth() * 12))
        text = "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))
        fig.suptitle(text, fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=130)  # as every saca figure
    return fig
