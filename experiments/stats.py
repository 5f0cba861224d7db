"""Confidence intervals for replicated runs: a mean per regime, a paired difference.

Replicates of a comparison share their seeds across regimes (common random numbers:
replicate ``r`` of every regime starts from the same ``SeedSequence`` child), so the
difference between two regimes is estimated from the per-replicate differences, a paired
Student t interval. That interval is narrower than one from two independent samples when
the shared seeds make the runs of a replicate alike, and it is the honest one here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def mean_ci(values: Sequence[float] | np.ndarray, level: float = LEVEL) -> dict[str, float]:
    """Mean and Student t confidence interval of replicate values.

    Non-finite values (a metric undefined in a run, e.g. no need resolved) are left out;
    ``n`` says how many were used. With fewer than two values the bounds are NaN.

    Args:
        values: one value per replicate.
        level: confidence level, e.g. 0.95.

    Returns:
        ``{"mean", "lo", "hi", "sd", "n"}``.
    """
    x = _clean(values)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return {"mean": mean, "lo": math.nan, "hi": math.nan, "sd": math.nan, "n": n}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "sd": sd, "n": n}


def paired_diff_ci(
    base: Sequence[float] | np.ndarray, other: Sequence[float] | np.ndarray, level: float = LEVEL
) -> dict[str, float]:
    """Mean difference ``other - base`` with a paired Student t interval.

    Element ``i`` of both arrays must come from the same replicate seed. Pairs where
    either value is non-finite are dropped.

    Args:
        base: the reference regime's value per replicate.
        other: the compared regime's value per replicate, same order.
        level: confidence level, e.g. 0.95.

    Returns:
        ``{"diff", "lo", "hi", "sd", "n"}``; ``sd`` is the SD of the paired differences.
    """
    a, b = np.asarray(base, dtype=float), np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.shape} and {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    ci = mean_ci(b[ok] - a[ok], level)
    return {"diff": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "sd": ci["sd"], "n": ci["n"]}


def compare_stats(
    runs: pd.DataFrame,
    regimes: Sequence[str],
    metrics: Sequence[str],
    level: float = LEVEL,
) -> dict[str, dict]:
    """Per-regime means with CIs and each regime's paired difference from the first.

    Args:
        runs: one row per run with columns ``regime``, ``replicate`` and the metrics.
        regimes: regime labels in order; the first is the reference.
        metrics: metric columns to summarise.
        level: confidence level.

    Returns:
        ``{"regimes": {regime: {metric: mean_ci}}, "differences": {regime: {metric:
        paired_diff_ci}}}``, differences being ``regime - regimes[0]`` for every
        regime after the first.
    """
    wide = {
        r: runs[runs["regime"] == r].set_index("replicate").sort_index()[list(metrics)]
        for r in regimes
    }
    base = wide[regimes[0]]
    out: dict[str, dict] = {"regimes": {}, "differences": {}}
    for r in regimes:
        out["regimes"][r] = {m: mean_ci(wide[r][m].to_numpy(), level) for m in metrics}
    for r in regimes[1:]:
        common = base.index.intersection(wide[r].index)
        out["differences"][r] = {
            m: paired_diff_ci(
                base.loc[common, m].to_numpy(), wide[r].loc[common, m].to_numpy(), level
            )
            for m in metrics
        }
    return out


def band(
    timeseries: pd.DataFrame, metric: str, by: str = "regime", level: float = LEVEL
) -> pd.DataFrame:
    """Per-day mean and t interval of one metric across replicates, for each group.

    Args:
        timeseries: long table with columns ``day``, ``by``, ``replicate`` and ``metric``.
        metric: the metric column.
        by: the grouping column (regime).
        level: confidence level.

    Returns:
        DataFrame with columns ``by``, ``day``, ``mean``, ``lo``, ``hi``, ``n``.
    """
    g = timeseries.groupby([by, "day"], sort=False)[metric]
    agg = g.agg(["mean", "std", "count"]).reset_index()
    n = agg["count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = np.where(n >= 2, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), np.nan)
        half = tq * agg["std"].to_numpy() / np.sqrt(n)
    agg["lo"] = agg["mean"] - half
    agg["hi"] = agg["mean"] + half
    return agg.rename(columns={"count": "n"})[[by, "day", "mean", "lo", "hi", "n"]]


def winner(
    values: Mapping[str, Sequence[float] | np.ndarray],
    higher_is_better: bool = True,
    level: float = LEVEL,
) -> dict[str, Any]:
    """Which regime is best on one metric, and whether it is clearly so.

    Element ``i`` of every regime's array must come from the same pairing unit (design
    point and replicate, which share their seed). The best regime has the best mean; it
    is a *clear* winner when its paired difference from every other regime has a
    ``level`` CI that excludes 0 in its favour.

    Args:
        values: regime → values, all of the same length and pairing order.
        higher_is_better: True for a metric like efficacy, False for one like burnout.
        level: confidence level.

    Returns:
        ``{"best", "clear", "means", "diffs"}``: ``diffs`` maps every other regime to the
        paired CI of ``best - other``; ``best`` is None when no regime has a finite mean.
    """
    means = {r: mean_ci(v, level)["mean"] for r, v in values.items()}
    finite = {r: m for r, m in means.items() if np.isfinite(m)}
    if not finite:
        return {"best": None, "clear": False, "means": means, "diffs": {}}
    pick = max if higher_is_better else min
    best = pick(finite, key=finite.__getitem__)
    diffs = {r: paired_diff_ci(values[r], values[best], level) for r in values if r != best}
    sign = 1.0 if higher_is_better else -1.0
    clear = bool(diffs) and all(
        np.isfinite(d["lo"]) and (d["lo"] > 0 if sign > 0 else d["hi"] < 0) for d in diffs.values()
    )
    return {"best": best, "clear": clear, "means": means, "diffs": diffs}
