"""Live figures of a running model: the time series and one community's network.

Used by the app (:mod:`saca.experiments.app.page`) and the notebooks. Each figure is a plain
matplotlib :class:`~matplotlib.figure.Figure` (no pyplot) built once and then updated in
place (:meth:`SeriesPlot.update`, :meth:`NetworkPlot.update`): building axes and ticks is
most of matplotlib's cost, so an app that redraws after every step keeps the figure and
only moves the data. :func:`series_figure` and :func:`network_figure` build and fill one
in a single call.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from saca.experiments.plots.style import (
    DAILY_COLOUR,
    PHASE_SHADE,
    PHASE_TEXT,
    SERIES,
    label,
)
from saca.model import CollaborationModel

TRUST_CMAP = colormaps["RdYlGn"]
"""Colours of trust, 0 (red) to 1 (green)."""
BURN_CMAP = colormaps["inferno_r"]
"""Colours of exhaustion, 0 (pale) to 1 (black)."""
TRUST_SERIES = {k: SERIES[k] for k in SERIES if k.startswith("trust")}
BURN_SERIES = {k: SERIES[k] for k in SERIES if k.startswith("burnout")}
BURN_LIMITS = (0.1, 0.25, 0.5, 1.02)
"""Upper limits the burnout axis steps through (few steps: each one redraws the axes)."""
EFFICACY_WINDOW = 7
"""Days in the rolling mean of daily efficacy (a noisy share of one day's needs)."""


def series(model: CollaborationModel, name: str) -> np.ndarray:
    """The daily values of one metric collected so far.

    Args:
        model: the model.
        name: a metric name.
    """
    return np.asarray(model.datacollector.model_vars.get(name, []), dtype=float)


def rolling(x: np.ndarray, window: int = EFFICACY_WINDOW) -> np.ndarray:
    """Trailing mean over ``window`` days, ignoring NaN (days with no need due).

    Args:
        x: daily values.
        window: days.
    """
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
    cnt = np.concatenate([[0], np.cumsum(ok)])
    hi = np.arange(1, len(x) + 1)
    lo = np.maximum(hi - window, 0)
    n = cnt[hi] - cnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), np.nan)


class Blitter:
    """PNG images of a figure whose only changes are in a few artists.

    The first :meth:`png` draws the whole figure without those artists and keeps the
    pixels; later calls restore them and draw only the changing artists, which costs a
    small fraction of a full draw (matplotlib spends most of a draw on axes, ticks and
    text). Call :meth:`invalidate` after changing anything else (e.g. an axis limit).

    Args:
        fig: the figure.
        artists: the artists that change between images.
    """

    def __init__(self, fig: Figure, artists: Sequence[Any]):
        self.fig, self.artists = fig, list(artists)
        for a in self.artists:
            a.set_animated(True)
        self.canvas = FigureCanvasAgg(fig)
        self.background = None

    def invalidate(self) -> None:
        """Redraw everything on the next :meth:`png`."""
        self.background = None

    def png(self) -> bytes:
        """The figure now, as PNG bytes (fast compression)."""
        canvas = self.canvas
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        for a in self.artists:
            self.fig.draw_artist(a)
        buf = io.BytesIO()
        rgba = np.asarray(canvas.buffer_rgba())
        Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=1)
        return buf.getvalue()


def shade_phases(ax: Any, timeline: Sequence[Any]) -> None:
    """Shade the timeline's phases on a time axis and write each phase's name at its top
    (so the shading needs no legend).

    Args:
        ax: the axes (x in days).
        timeline: the scenario's phases (``model.situation.timeline``).
    """
    top = blended_transform_factory(ax.transData, ax.transAxes)
    for p in timeline:
        if p.name in PHASE_SHADE:
            ax.axvspan(p.start, p.end, color=PHASE_SHADE[p.name], lw=0, zorder=0)
        if len(timeline) > 1:
            # Just above the frame, under the title: inside it the names sat on data
            # near the top of the axis (efficacy starts near 1).
            ax.text(
                (p.start + p.end) / 2,
                1.01,
                p.name,
                transform=top,
                ha="center",
                va="bottom",
                fontsize=7,
                color=PHASE_TEXT,
                zorder=1,
            )


PANELS = (label("efficacy"), "Trust", "Burnout (exhaustion)")
"""Titles of the three time-series panels."""


class SeriesPlot:
    """Efficacy, trust and burnout of one or more models, one panel each, phases shaded
    and named.

    With one model every series of a panel is drawn (daily and 7-day efficacy; trust
    resident–sunk, resident–community and cadre–cadre; burnout of all, sunk and community
    cadres). With several, each model has one colour: efficacy (7-day mean), trust
    resident–sunk (solid) and cadre–cadre (dashed), and mean burnout. Legends sit below
    the panels, never on the data. The 7-day efficacy starts on the 7th day: before, it
    would rest on the handful of needs due in the first days.

    Args:
        labels: ``(label, colour)`` per model, in the order :meth:`update` gets them.
        timeline: the scenario's phases (``model.situation.timeline``).
        width: figure width in inches.
    """

    def __init__(self, labels: Sequence[tuple[str, str]], timeline: Sequence[Any], width=11.0):
        self.single = len(labels) == 1
        self._blitter: Blitter | None = None
        self.fig = fig = Figure(figsize=(width, 3.1), dpi=90)
        self.axes = axes = fig.subplots(1, 3)
        fig.subplots_adjust(left=0.05, right=0.99, top=0.86, bottom=0.3, wspace=0.18)
        days = max(p.end for p in timeline)
        for ax, title in zip(axes, PANELS, strict=True):
            shade_phases(ax, timeline)
            ax.set_xlim(0, days)
            ax.set_title(title, fontsize=10, pad=12)
            ax.set_xlabel("day", fontsize=8, labelpad=1)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        axes[0].set_ylim(0, 1.02)
        axes[1].set_ylim(0, 1.02)
        self.lines: list[dict[str, Line2D]] = []
        for _label, colour in labels:
            ln: dict[str, Line2D] = {}
            if self.single:
                (ln["efficacy_daily"],) = axes[0].plot([], [], color=DAILY_COLOUR, lw=0.7)
                ln["efficacy_daily"].set_label("daily")
                (ln["efficacy"],) = axes[0].plot([], [], color=colour, lw=1.8)
                ln["efficacy"].set_label(f"{EFFICACY_WINDOW}-day mean")
                for key, (name, c) in TRUST_SERIES.items():
                    (ln[key],) = axes[1].plot([], [], color=c, lw=1.6, label=name)
                for key, (name, c) in BURN_SERIES.items():
                    (ln[key],) = axes[2].plot([], [], color=c, lw=1.6, label=name)
            else:
                (ln["efficacy"],) = axes[0].plot([], [], color=colour, lw=1.8)
                (ln["trust_resident_sunk"],) = axes[1].plot([], [], color=colour, lw=1.6)
                (ln["trust_cadre_cadre"],) = axes[1].plot([], [], color=colour, lw=1.2, ls="--")
                (ln["burnout_mean"],) = axes[2].plot([], [], color=colour, lw=1.6)
            self.lines.append(ln)
        if self.single:
            for ax in axes:
                ax.legend(
                    fontsize=7.5,
                    loc="upper center",
                    bbox_to_anchor=(0.5, -0.2),
                    ncols=3,
                    frameon=False,
                    handlelength=1.5,
                    columnspacing=1.0,
                )
        else:
            handles = [Line2D([], [], color=c, lw=2, label=lab) for lab, c in labels]
            handles += [
                Line2D([], [], color="#888888", lw=1.6, label="trust resident–sunk"),
                Line2D([], [], color="#888888", lw=1.2, ls="--", label="trust cadre–cadre"),
            ]
            fig.legend(
                handles=handles, loc="lower center", ncols=len(handles), fontsize=8, frameon=False
            )

    def update(self, models: Sequence[CollaborationModel]) -> Figure:
        """Move every line to the models' data so far; return the figure.

        Args:
            models: the models, in the order of ``labels``.
        """
        top = 0.1
        for ln, m in zip(self.lines, models, strict=True):
            eff = series(m, "efficacy")
            x = np.arange(len(eff))
            for key, line in ln.items():
                if key == "efficacy_daily":
                    y = eff
                elif key == "efficacy":
                    y = rolling(eff)
                    y[: EFFICACY_WINDOW - 1] = np.nan
                else:
                    y = series(m, key)
                line.set_data(x, y)
                if key.startswith("burnout") and np.isfinite(y).any():
                    top = max(top, 1.1 * float(np.nanmax(y)))
        top = next(t for t in BURN_LIMITS if t >= min(top, BURN_LIMITS[-1]))
        if self.axes[2].get_ylim()[1] != top:
            self.axes[2].set_ylim(0, top)
            if self._blitter is not None:
                self._blitter.invalidate()
        return self.fig

    def png(self) -> bytes:
        """The figure as PNG bytes, drawn by blitting (see :class:`Blitter`): call
        :meth:`update` first. After the first call the figure itself no longer draws its
        lines (they are drawn only here), so use a separate plot for ``savefig``."""
        if self._blitter is None:
            lines = [a for ln in self.lines for a in ln.values()]
            self._blitter = Blitter(self.fig, lines)
        return self._blitter.png()


def series_figure(
    models: Sequence[tuple[str, CollaborationModel, str]], width: float = 11.0
) -> Figure:
    """Efficacy, trust and burnout so far (see :class:`SeriesPlot`) in one call.

    Args:
        models: ``(label, model, colour)`` per model.
        width: figure width in inches.
    """
    plot = SeriesPlot([(lab, c) for lab, _, c in models], models[0][1].situation.timeline, width)
    return plot.update([m for _, m, _ in models])


def community_layout(model: CollaborationModel, graph: Any) -> dict[Any, tuple[float, float]]:
    """Fixed positions for one community's graph: its grids on a circle, households in a
    sunflower disc around their grid's centre, cadres posted to a grid just inside it,
    committee members and unposted cadres in the middle.

    Args:
        model: the model (for the cadres' grids).
        graph: ``model.sync_graph(community=c)``.
    """
    by_id = {c.unique_id: c for c in model.cadres}
    hh = sorted(n for n in graph.nodes if n[0] == "household")
    grids = sorted({graph.nodes[n].get("grid", 0) for n in hh})
    k = max(len(grids), 1)
    angle = {g: 2 * np.pi * i / k for i, g in enumerate(grids)}
    centre = {g: (np.cos(a), np.sin(a)) if k > 1 else (0.0, 0.0) for g, a in angle.items()}
    members: dict[int, list] = {g: [] for g in grids}
    for n in hh:
        members[graph.nodes[n].get("grid", grids[0])].append(n)
    radius = 0.85 * np.sin(np.pi / k) if k > 1 else 1.0
    golden = np.pi * (3 - np.sqrt(5))
    pos: dict[Any, tuple[float, float]] = {}
    for g, nodes in members.items():
        cx, cy = centre[g]
        for i, node in enumerate(nodes):
            r = radius * np.sqrt((i + 0.5) / len(nodes))
            pos[node] = (cx + r * np.cos(i * golden), cy + r * np.sin(i * golden))
    posted: dict[int, list] = {}
    middle = []
    for n in sorted(n for n in graph.nodes if n[0] == "cadre"):
        g = getattr(by_id.get(n[1]), "grid", -1)
        (posted.setdefault(g, []) if g in centre else middle).append(n)
    for g, nodes in posted.items():
        a = angle[g]
        r = 0.45 if k > 1 else 0.3
        for j, node in enumerate(nodes):
            off = (j - (len(nodes) - 1) / 2) * 0.12
            pos[node] = (r * np.cos(a) - off * np.sin(a), r * np.sin(a) + off * np.cos(a))
    for j, node in enumerate(middle):
        a = 2 * np.pi * j / len(middle) + 0.3
        r = 0.15 if len(middle) > 1 else 0.0
        pos[node] = (r * np.cos(a), r * np.sin(a))
    return pos


class NetworkPlot:
    """One community's network: households coloured by trust in institutions; cadres
    (triangles: sunk, squares: community) by exhaustion; cadre–cadre working ties coloured
    by their trust; cadre–household familiarity ties by the household's trust in that
    cadre (opacity: familiarity); resident ties in light grey.

    Args:
        model: the model.
        community: community index.
        size: figure height in inches.
    """

    def __init__(self, model: CollaborationModel, community: int = 0, size: float = 5.2):
        self.model, self.community = model, community
        g = model.sync_graph(community=community)
        self.pos = pos = community_layout(model, g)
        self.fig = fig = Figure(figsize=(size * 1.3, size), dpi=90)
        self.ax = ax = fig.add_axes((0.0, 0.06, 0.76, 0.86))
        ax.set_aspect("equal")
        ax.axis("off")
        nodes = g.nodes
        self.households = [n for n in nodes if n[0] == "household"]
        self.cadres = {
            kind: [n for n in nodes if n[0] == "cadre" and nodes[n].get("kind") == kind]
            for kind in ("sunk", "community")
        }
        neighbour = [
            (pos[u], pos[v]) for u, v, d in g.edges(data=True) if d.get("kind") == "neighbour"
        ]
        ax.add_collection(LineCollection(neighbour, colors="#bbbbbb", linewidths=0.3, alpha=0.4))
        self.familiar = LineCollection([], linewidths=0.4, zorder=1, antialiaseds=False)
        self.working = LineCollection([], linewidths=1.8, zorder=3)
        ax.add_collection(self.familiar)
        ax.add_collection(self.working)
        xy = np.array([pos[n] for n in self.households]).reshape(-1, 2)
        self.hh_dots = ax.scatter(xy[:, 0], xy[:, 1], s=14, lw=0.3, edgecolors="#666666", zorder=2)
        self.cadre_marks = {}
        for kind, marker in (("sunk", "^"), ("community", "s")):
            cxy = np.array([pos[n] for n in self.cadres[kind]]).reshape(-1, 2)
            self.cadre_marks[kind] = ax.scatter(
                cxy[:, 0], cxy[:, 1], s=90, marker=marker, edgecolors="k", lw=0.8, zorder=4
            )
        xs = [p[0] for p in pos.values()] or [0.0]
        ys = [p[1] for p in pos.values()] or [0.0]
        ax.set_xlim(min(xs) - 0.05, max(xs) + 0.05)
        ax.set_ylim(min(ys) - 0.05, max(ys) + 0.05)
        norm = Normalize(0, 1)
        # Horizontal bars stacked in the right-hand column, each titled above: side by
        # side, vertical bars' labels collide on a small figure.
        for i, (cmap, text) in enumerate(
            ((TRUST_CMAP, "household trust\nin institutions"), (BURN_CMAP, "cadre\nexhaustion"))
        ):
            cax = fig.add_axes((0.78, 0.62 - 0.36 * i, 0.18, 0.045))
            fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
            cax.set_title(text, fontsize=8, loc="left")
            cax.tick_params(labelsize=7)
            cax.set_xticks([0, 0.5, 1])
        ax.legend(
            handles=[
                Line2D([], [], ls="", marker="^", mfc="w", mec="k", label="sunk cadre"),
                Line2D([], [], ls="", marker="s", mfc="w", mec="k", label="community cadre"),
                Line2D([], [], color=TRUST_CMAP(0.9), lw=1.8, label="working tie (trust)"),
            ],
            loc="upper left",
            fontsize=7,
            frameon=False,
            bbox_to_anchor=(0, 0.0),
            ncols=3,
        )
        self.title = fig.suptitle("", fontsize=10, x=0.38, y=0.98)
        self._blitter: Blitter | None = None

    def update(self, title: str | None = None) -> Figure:
        """Recolour everything to the model's current state; return the figure.

        Args:
            title: the title; None says which community and day.
        """
        m, pos = self.model, self.pos
        g = m.sync_graph(community=self.community)
        nodes = g.nodes
        fam, fam_t, fam_w, work, work_t = [], [], [], [], []
        for u, v, d in g.edges(data=True):
            kind = d.get("kind")
            if kind == "familiar":
                fam.append((pos[u], pos[v]))
                fam_t.append(d.get("trust", 0.5))
                fam_w.append(d.get("weight", 0.0))
            elif kind == "working":
                work.append((pos[u], pos[v]))
                work_t.append(d.get("weight", 0.5))
        colours = TRUST_CMAP(np.clip(np.asarray(fam_t, dtype=float), 0, 1)).reshape(-1, 4)
        colours[:, 3] = 0.04 + 0.3 * np.clip(np.asarray(fam_w, dtype=float), 0, 1)
        self.familiar.set_segments(fam)
        self.familiar.set_color(colours)
        self.working.set_segments(work)
        self.working.set_color(TRUST_CMAP(np.clip(np.asarray(work_t, dtype=float), 0, 1)))
        trust = np.array([nodes[n].get("trust", 0.5) for n in self.households], dtype=float)
        self.hh_dots.set_facecolor(TRUST_CMAP(np.clip(trust, 0, 1)))
        for kind, cad in self.cadres.items():
            ex = np.array([float(nodes[n].get("exhaustion", 0.0)) for n in cad])
            self.cadre_marks[kind].set_facecolor(BURN_CMAP(np.clip(ex, 0, 1)))
        if title is None:
            title = f"Community {self.community}, day {m.steps} ({m.phase})"
        self.title.set_text(title)
        return self.fig

    def png(self) -> bytes:
        """The figure as PNG bytes, drawn by blitting (see :class:`Blitter`): call
        :meth:`update` first. After the first call the figure itself no longer draws its
        changing parts, so use a separate plot for ``savefig``."""
        if self._blitter is None:
            dynamic = [self.familiar, self.working, self.hh_dots, self.title]
            self._blitter = Blitter(self.fig, dynamic + list(self.cadre_marks.values()))
        return self._blitter.png()


def network_figure(
    model: CollaborationModel, community: int = 0, size: float = 5.2, title: str | None = None
) -> Figure:
    """One community's network now (see :class:`NetworkPlot`) in one call.

    Args:
        model: the model.
        community: community index.
        size: figure height in inches.
        title: the title; None says which community and day.
    """
    return NetworkPlot(model, community, size).update(title)


BAND_METRICS = ("efficacy", "trust_resident_sunk", "burnout_mean")
"""The series of the replicate figure, one per panel of :data:`PANELS`."""


def band_figure(
    timeseries: Any,
    labels: Sequence[tuple[str, str]],
    timeline: Sequence[Any],
    width: float = 11.0,
) -> Figure:
    """Replicated runs: each regime's daily mean with its 95% band (Student t across the
    seeds), efficacy as a 7-day mean per run, phases shaded and named.

    Args:
        timeseries: long table with ``regime``, ``replicate``, ``day`` and the metrics.
        labels: ``(regime, colour)`` in drawing order.
        timeline: the scenario's phases.
        width: figure width in inches.
    """
    from saca.experiments.stats import band

    ts = timeseries.sort_values(["regime", "replicate", "day"]).copy()
    fig = Figure(figsize=(width, 3.1), dpi=90)
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(left=0.05, right=0.99, top=0.86, bottom=0.3, wspace=0.18)
    days = max(p.end for p in timeline)
    for ax, title, metric in zip(axes, PANELS, BAND_METRICS, strict=True):
        shade_phases(ax, timeline)
        if metric == "efficacy":
            y = ts.groupby(["regime", "replicate"], sort=False)[metric].transform(
                lambda x: pd.Series(rolling(x.to_numpy()), index=x.index)
            )
            ts["_y"] = y.where(ts["day"] >= EFFICACY_WINDOW - 1)
        else:
            ts["_y"] = ts[metric]
        bands = band(ts, "_y")
        for regime, colour in labels:
            b = bands[bands["regime"] == regime].sort_values("day")
            lo, hi = b["lo"].clip(0, 1), b["hi"].clip(0, 1)
            ax.fill_between(b["day"], lo, hi, color=colour, alpha=0.22, lw=0)
            ax.plot(b["day"], b["mean"], color=colour, lw=1.6)
        ax.set_xlim(0, days)
        ax.set_title(
            title if metric != "trust_resident_sunk" else "Trust resident–sunk", fontsize=10, pad=12
        )
        ax.set_xlabel("day", fontsize=8, labelpad=1)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(0, 1.02)
    axes[1].set_ylim(0, 1.02)
    n = int(ts.groupby("regime")["replicate"].nunique().min())
    handles = [Line2D([], [], color=c, lw=2, label=lab) for lab, c in labels]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncols=len(handles),
        fontsize=8,
        frameon=False,
        title=f"line: mean of {n} seeds; band: 95% CI (Student t)",
        title_fontsize=8,
    )
    return fig
