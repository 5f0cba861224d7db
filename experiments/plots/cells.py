"""Cells of a sweep over its parameters and who wins each: computed here, drawn by sweeps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.plots.style import tick_label

WIN_METRICS = {"efficacy": True, "burnout_mean": False}
"""Metrics of the which-regime-wins heat maps: True if higher is better."""


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
        return codes, [tick_label(lv) for lv in levels], (levels if numeric else None)
    lo, hi = float(factor["min"]), float(factor["max"])
    edges = np.linspace(lo, hi, bins + 1)
    codes = np.clip(
        np.searchsorted(edges, results[key].to_numpy(float), side="right") - 1, 0, bins - 1
    )
    labels = [f"{tick_label(edges[i])}–{tick_label(edges[i + 1])}" for i in range(bins)]
    centres = list((edges[:-1] + edges[1:]) / 2)
    return pd.Series(codes, index=results.index), labels, centres


def _plain_level(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


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
        the cell's runs), ``runner_up`` (:func:`saca.experiments.stats.runner_up`) and ``n``
        (pairs), or None for an empty cell.
    """
    from saca.experiments.stats import mean_ci, paired_values, runner_up, winner

    ok = results[results["status"] == "ok"]
    cx, xl, _ = factor_cells(ok, fx, bins)
    cy, yl, _ = factor_cells(ok, fy, bins)
    cells: list[list[Any]] = [[None] * len(xl) for _ in yl]
    for iy in range(len(yl)):
        for ix in range(len(xl)):
            sub = ok[(cx == ix) & (cy == iy)]
            if sub.empty:
                continue
            values = paired_values(sub, metric, regimes)
            cell = winner(values, higher_is_better)
            cell["cis"] = {r: mean_ci(v) for r, v in values.items()}
            cell["runner_up"] = runner_up(cell["best"], cell["means"])
            cell["n"] = len(values[regimes[0]])
            cells[iy][ix] = cell
    return {"xlabels": xl, "ylabels": yl, "cells": cells}


def winner_grids(
    results: pd.DataFrame,
    factors: Sequence[Mapping[str, Any]],
    regimes: Sequence[str],
    metrics: Mapping[str, bool] = WIN_METRICS,
    max_pairs: int = 3,
) -> list[tuple[Mapping[str, Any], Mapping[str, Any], dict[str, dict[str, Any]]]]:
    """The winners of every pair of parameters and metric, as :func:`plot_sweep_winners` draws
    them (computed here, drawn there).

    Args:
        results: one row per run.
        factors: the swept parameters (at least two), as in meta.json.
        regimes: regime labels in order.
        metrics: metric → True if higher is better.
        max_pairs: at most this many parameter pairs.

    Returns:
        ``(fx, fy, {metric: grid})`` per pair, each grid as :func:`winner_grid` returns it.
    """
    import itertools

    pairs = list(itertools.combinations(factors, 2))[:max_pairs]
    n_points = int(results["point"].nunique()) if len(results) else 0
    bins = sweep_bins(n_points)
    return [
        (
            fx,
            fy,
            {
                m: winner_grid(results, fx, fy, regimes, m, higher, bins)
                for m, higher in metrics.items()
            },
        )
        for fx, fy in pairs
    ]


def grids_from_cells(
    cells: pd.DataFrame, fx: Mapping[str, Any], fy: Mapping[str, Any], regimes: Sequence[str]
) -> list[tuple[Mapping[str, Any], Mapping[str, Any], dict[str, dict[str, Any]]]]:
    """The winner grids of a computed cell table (the regime map's ``map.parquet``), in the
    form :func:`plot_sweep_winners` draws: the figure shows the winners the map computed.

    Args:
        cells: one row per cell and metric (``metric``, ``ix``, ``iy``, ``best``, ``clear``,
            ``runner_up``, ``diff`` / ``diff_lo`` / ``diff_hi``, ``<regime>_mean``).
        fx: the x parameter (meta.json form, with ``levels``).
        fy: the y parameter.
        regimes: regime labels in order.
    """
    xl = [tick_label(v) for v in fx["levels"]]
    yl = [tick_label(v) for v in fy["levels"]]
    grids: dict[str, dict[str, Any]] = {}
    for m, sub in cells.groupby("metric", sort=False):
        grid: list[list[Any]] = [[None] * len(xl) for _ in yl]
        for rec in sub.to_dict(orient="records"):
            ru = rec["runner_up"]
            diffs = {}
            if isinstance(ru, str):
                diffs[ru] = {"diff": rec["diff"], "lo": rec["diff_lo"], "hi": rec["diff_hi"]}
            grid[int(rec["iy"])][int(rec["ix"])] = {
                "best": rec["best"],
                "clear": bool(rec["clear"]),
                "runner_up": ru if isinstance(ru, str) else None,
                "diffs": diffs,
                "means": {r: rec[f"{r}_mean"] for r in regimes},
            }
        grids[str(m)] = {"xlabels": xl, "ylabels": yl, "cells": grid}
    return [(fx, fy, grids)]
