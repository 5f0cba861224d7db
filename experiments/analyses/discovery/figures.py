"""Figures of a stored discovery: the peeling trajectory and the boxes' limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure

from saca.experiments.analyses.discovery.method import Discovery, number_text
from saca.experiments.plots.axes import save_figure


def plt_cmap(name: str, n: int) -> Any:
    """A colormap of ``n`` discrete colours (restricted-parameter counts are whole).

    Args:
        name: a matplotlib colormap name.
        n: the number of colours.
    """
    return colormaps[name].resampled(n)


def plot_trajectory(d: Discovery, path: str | Path | None = None) -> Figure:
    """Coverage vs density along each box's peeling trajectory, the chosen box marked.

    Args:
        d: the discovery.
        path: where to save the PNG, or None.
    """
    n = max(1, len(d.attempts))
    fig = Figure(figsize=(max(4.8 * n + 0.6, 7.0), 4.4), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, b in zip(axes, d.attempts or [None], strict=True):
        ax.set_xlabel("coverage (share of all wins in the box)")
        ax.set_ylabel("density (share of the box that wins)")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.05)
        ax.axhline(d.threshold, color="grey", ls="--", lw=0.8)
        ax.text(0.01, d.threshold + 0.01, f"threshold {d.threshold:g}", color="grey", fontsize=8)
        if b is None:
            ax.set_title("no box (no wins)", fontsize=10)
            continue
        t = b.trajectory
        top = max(1, int(t["res_dim"].max()))
        sc = ax.scatter(
            t["coverage"],
            t["density"],
            c=t["res_dim"],
            cmap=plt_cmap("viridis", top + 1),
            vmin=-0.5,
            vmax=top + 0.5,
            s=18,
        )
        c = t.loc[b.chosen]
        ax.scatter(
            [c["coverage"]],
            [c["density"]],
            marker="*",
            s=220,
            facecolor="none" if not b.accepted else "#d62728",
            edgecolor="#d62728",
            zorder=3,
        )
        what = "chosen" if b.accepted else "densest (below threshold)"
        ax.annotate(
            f"box {b.id} ({what})\nmass {c['mass']:.2f}",
            (c["coverage"], c["density"]),
            textcoords="offset points",
            xytext=(-10, -28),
            ha="right",
            fontsize=8,
        )
        ax.set_title(f"box {b.id}: peeling trajectory", fontsize=10)
        bar = fig.colorbar(sc, ax=ax, label="restricted parameters", shrink=0.8)
        bar.set_ticks(range(top + 1))
    by = f" by more than {number_text(d.margin)}" if d.margin else ""  # --margin
    fig.suptitle(
        f"{d.regime} beats {d.reference} on {d.metric}{by} at {d.base_rate:.0%} of "
        f"{d.n_points} design points",
        fontsize=10.5,
    )
    return save_figure(fig, path)


def plot_boxes(d: Discovery, path: str | Path | None = None) -> Figure:
    """Each accepted box's limits against the parameters' full ranges (scaled to 0–1).

    Args:
        d: the discovery.
        path: where to save the PNG, or None.
    """
    keys = [k for k in d.params if k in d.ranges]
    n = max(1, len(d.boxes))
    fig = Figure(figsize=(4.4 * n + 2.4, 0.55 * max(len(keys), 2) + 1.6), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    for i, ax in enumerate(axes):
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.7, len(keys) - 0.3)
        ax.set_yticks(range(len(keys)), keys if i == 0 else [""] * len(keys))
        ax.invert_yaxis()
        ax.set_xlabel("position in the full range")
        b = d.boxes[i] if d.boxes else None
        for j, key in enumerate(keys):
            lo0, hi0 = d.ranges[key]
            ax.barh(j, 1.0, left=0.0, height=0.5, color="#eeeeee", edgecolor="#bbbbbb")
            if b is None or key not in b.limits:
                continue
            lo, hi = b.limits[key]
            span = (hi0 - lo0) or 1.0
            a, z = (lo - lo0) / span, (hi - lo0) / span
            ax.barh(j, z - a, left=a, height=0.5, color="#d62728", alpha=0.75)
            if key in b.lower:
                ax.text(a, j - 0.32, f"≥ {number_text(lo)}", ha="center", fontsize=7.5)
            if key in b.upper:
                ax.text(z, j - 0.32, f"≤ {number_text(hi)}", ha="center", fontsize=7.5)
        for j, key in enumerate(keys):
            ax.text(
                0.0, j + 0.42, number_text(d.ranges[key][0]), ha="left", fontsize=6.5, color="grey"
            )
            ax.text(
                1.0, j + 0.42, number_text(d.ranges[key][1]), ha="right", fontsize=6.5, color="grey"
            )
        if b is None:
            ax.set_title("no box reaches the threshold", fontsize=10)
        else:
            ax.set_title(
                f"box {b.id}: coverage {b.coverage:.2f}, density {b.density:.2f}, "
                f"mass {b.mass:.2f}",
                fontsize=9.5,
            )
    by = f" by more than {number_text(d.margin)}" if d.margin else ""  # --margin
    fig.suptitle(
        f"Where {d.regime} beats {d.reference} on {d.metric}{by} (red: the box; grey: full range)",
        fontsize=11,
    )
    return save_figure(fig, path)
