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


def runner_up(best: str | None, means: Mapping[str, float]) -> str | None:
    """The regime whose mean is closest to the best one's (second best), or None.

    Args:
        best: the best regime, or None.
        means: regime → its mean.
    """
    others = [r for r, m in means.items() if r != best and np.isfinite(m)]
    if best is None or not others:
        return None
    # distance to the best, not the raw mean, so the direction of the metric does not matter
    return min(others, key=lambda r: abs(means[r] - means[best]))


def paired_values(runs: pd.DataFrame, metric: str, regimes: Sequence[str]) -> dict[str, np.ndarray]:
    """Each regime's values of ``metric``, one per design point and replicate, aligned so
    that element ``i`` of every array shares its seed (as :func:`winner` wants); NaN where
    a regime has no run.

    Args:
        runs: run rows with ``point``, ``replicate``, ``regime`` and the metric.
        metric: the metric.
        regimes: the regimes, in order.
    """
    wide = runs.pivot_table(index=["point", "replicate"], columns="regime", values=metric)
    return {
        r: wide[r].to_numpy(float) if r in wide else np.full(len(wide), np.nan) for r in regimes
    }


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


# ----- equity beside the mean -----------------------------------------------------------
MEAN_METRIC = "efficacy"
"""The mean outcome that equity is reported beside."""

EQUITY_METRICS = ("efficacy_sd_between_communities", "efficacy_worst_decile")
"""Shown beside :data:`MEAN_METRIC` in every comparison, map and findings table: its
spread between communities and the worst-off decile's value."""

WORST_METRIC = "efficacy_worst_decile"
"""The worst-off's value of :data:`MEAN_METRIC` (higher is better, like the mean)."""

WORST_OFF = "wins the mean, loses the worst-off"
"""The words that flag a regime better on the mean and worse for the worst-off."""


def with_equity(metrics: Sequence[str]) -> list[str]:
    """The metrics with :data:`EQUITY_METRICS` right after :data:`MEAN_METRIC` (once each),
    so no table shows efficacy without its spread and its worst-off value.

    Args:
        metrics: metric names in order.
    """
    out: list[str] = []
    for m in metrics:
        if m in out:
            continue
        out.append(m)
        if m == MEAN_METRIC:
            out += [e for e in EQUITY_METRICS if e not in metrics and e not in out]
    return out


def loses_worst_off(mean_diff: Mapping[str, float], worst_diff: Mapping[str, float]) -> bool:
    """Whether a regime wins on the mean but loses the worst-off against another: the
    paired CI of (regime − other) excludes 0 above on :data:`MEAN_METRIC` and below on
    :data:`WORST_METRIC`. An undefined CI (NaN, too few pairs) flags nothing.

    Args:
        mean_diff: paired difference regime − other on the mean (``lo``, ``hi``).
        worst_diff: paired difference regime − other on the worst-off's value.
    """
    lo, hi = mean_diff.get("lo", math.nan), worst_diff.get("hi", math.nan)
    return bool(np.isfinite(lo) and np.isfinite(hi) and lo > 0 and hi < 0)


def worst_off_flags(
    mean: Mapping[str, Sequence[float] | np.ndarray],
    worst: Mapping[str, Sequence[float] | np.ndarray],
    level: float = LEVEL,
) -> dict[str, list[str]]:
    """For every regime, the regimes it beats on the mean while losing the worst-off to
    them (:func:`loses_worst_off` on paired CIs).

    Args:
        mean: regime → :data:`MEAN_METRIC` per pairing unit (replicate; same order for all).
        worst: regime → :data:`WORST_METRIC` per pairing unit, same order.
        level: confidence level.

    Returns:
        ``{regime: [other, ...]}`` with only the regimes that are flagged.
    """
    out: dict[str, list[str]] = {}
    for r in mean:
        for o in mean:
            if o == r or r not in worst or o not in worst:
                continue
            if loses_worst_off(
                paired_diff_ci(mean[o], mean[r], level), paired_diff_ci(worst[o], worst[r], level)
            ):
                out.setdefault(r, []).append(o)
    return out


def worst_off_text(flags: Mapping[str, Sequence[str]]) -> list[str]:
    """One sentence per flagged regime, e.g. ``"autonomous wins the mean, loses the
    worst-off (against constructive)"``.

    Args:
        flags: :func:`worst_off_flags` output.
    """
    return [f"{r} {WORST_OFF} (against {', '.join(o)})" for r, o in flags.items()]


def worst_off_of_runs(
    runs: pd.DataFrame, regimes: Sequence[str], level: float = LEVEL
) -> dict[str, list[str]]:
    """:func:`worst_off_flags` of replicated runs paired by replicate (a comparison).

    Args:
        runs: one row per run with ``regime``, ``replicate`` and the two metrics (a run
            table without :data:`WORST_METRIC`, e.g. stored before it existed, flags
            nothing).
        regimes: regime labels.
        level: confidence level.
    """
    if WORST_METRIC not in runs or MEAN_METRIC not in runs:
        return {}
    wide = runs.pivot_table(index="replicate", columns="regime", values=[MEAN_METRIC, WORST_METRIC])
    have = [r for r in regimes if (MEAN_METRIC, r) in wide and (WORST_METRIC, r) in wide]
    return worst_off_flags(
        {r: wide[(MEAN_METRIC, r)].to_numpy(float) for r in have},
        {r: wide[(WORST_METRIC, r)].to_numpy(float) for r in have},
        level,
    )
