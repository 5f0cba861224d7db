"""The uncertainty figure: each regime's share of the space won, drawn from the shares."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def plot_shares(shares: Sequence[dict[str, Any]], a: str, b: str, path: Path) -> Path:
    """Bars of each regime's share of the space won, per metric, with Wilson CIs.

    Args:
        shares: the :func:`win_shares` results.
        a: the first regime.
        b: the second regime.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    from saca.experiments.plots.style import regime_colour

    fig = Figure(figsize=(2.6 * len(shares) + 1, 3.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(shares))
    for k, reg in enumerate((a, b)):
        s = np.array([d[reg]["share"] for d in shares])
        lo = np.array([d[reg]["lo"] for d in shares])
        hi = np.array([d[reg]["hi"] for d in shares])
        ax.bar(
            x + (k - 0.5) * 0.38,
            s,
            0.36,
            yerr=[s - lo, hi - s],
            capsize=3,
            color=regime_colour(reg, k),
            label=f"{reg} wins",
        )
    ax.set_xticks(x, [d["metric"] for d in shares])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of the uncertainty space (95% Wilson CI)")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    return path
