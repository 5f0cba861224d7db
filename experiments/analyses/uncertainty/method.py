"""The uncertainty method: shares of the space each regime wins, with Wilson intervals,
and PRIM boxes of where the first wins. Pure: runs in, an :class:`Uncertainty` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import stats
from saca.experiments.analyses.discovery import method as discovery
from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER

METRICS_DEFAULT = ("efficacy", "burnout_mean", "trust_institution")
PRIM_THRESHOLD = 0.7
"""The least density of a PRIM box of where the first regime wins."""


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a share ``k / n``.

    Args:
        k: successes.
        n: trials (0 gives NaN bounds).
        level: confidence level.
    """
    if n == 0:
        return float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def win_shares(
    results: pd.DataFrame, a: str, b: str, metric: str, level: float = 0.95
) -> dict[str, Any]:
    """How often, and by how much, regime ``b`` beats ``a`` over the design points.

    Args:
        results: one row per run (``point``, ``regime``, ``replicate``, the metric;
            ``status`` other than ``ok`` is left out), as from
            :func:`saca.experiments.engine.results.load_results`.
        a: the first regime.
        b: the second regime.
        metric: the metric compared.
        level: confidence level.

    Returns:
        ``points``, ``mean_diff`` (B − A with ``lo``, ``hi``), and for each regime its
        share of points won (``share``, ``lo``, ``hi``) and of points won clearly.
    """
    ok = results if "status" not in results.columns else results[results["status"] == "ok"]
    ok = ok[ok["regime"].isin([a, b])]
    wide = ok.pivot_table(index=["point", "replicate"], columns="regime", values=metric)
    if a not in wide.columns or b not in wide.columns:
        raise SacaInputError(f"the results do not hold both regimes {a} and {b}")
    diff = (wide[b] - wide[a]).dropna()
    higher = HIGHER_IS_BETTER.get(metric, True)
    sign = 1.0 if higher else -1.0
    per_point = diff.groupby(level="point")
    mean = per_point.mean()
    n = len(mean)
    out: dict[str, Any] = {"metric": metric, "higher_is_better": higher, "points": n}
    ci = stats.mean_ci(mean.to_numpy(), level)
    out["mean_diff"] = {"mean": ci["mean"], "lo": ci["lo"], "hi": ci["hi"]}
    clear = {a: 0, b: 0}
    for _, d in per_point:
        c = stats.mean_ci(d.to_numpy(), level)
        if not np.isfinite(c["lo"]):
            continue
        # the interval in the good direction: above 0 is a clear win for b
        lo, hi = (c["lo"], c["hi"]) if sign > 0 else (-c["hi"], -c["lo"])
        if lo > 0:
            clear[b] += 1
        elif hi < 0:
            clear[a] += 1
    good = sign * mean.to_numpy()
    for reg, k in ((b, int((good > 0).sum())), (a, int((good < 0).sum()))):
        lo, hi = wilson(k, n, level)
        klo, khi = wilson(clear[reg], n, level)
        out[reg] = {
            "share": k / n if n else float("nan"),
            "lo": lo,
            "hi": hi,
            "clear_share": clear[reg] / n if n else float("nan"),
            "clear_lo": klo,
            "clear_hi": khi,
        }
    return out


@dataclass
class Uncertainty:
    """The regime contrast over the uncertainty space.

    Args:
        contrast: the two regimes (A, B); PRIM looks for where A wins.
        shares: per metric, :func:`win_shares` of B against A.
        discoveries: per metric, the PRIM discovery of where A beats B.
    """

    contrast: tuple[str, str]
    shares: list[dict[str, Any]]
    discoveries: dict[str, discovery.Discovery]


def analyse(
    results: pd.DataFrame,
    params: Sequence[str],
    ranges: Mapping[str, tuple[Any, Any]],
    a: str,
    b: str,
    metrics: Sequence[str],
) -> Uncertainty:
    """Shares won per metric and PRIM boxes of where ``a`` wins.

    Args:
        results: one row per run (``point``, ``regime``, ``replicate``, ``status``, the
            parameters and the metrics).
        params: the design's parameters, PRIM's inputs.
        ranges: parameter → (min, max) of the sampled ones, PRIM's bounds.
        a: the first regime.
        b: the second regime.
        metrics: the metrics compared.
    """
    shares = [win_shares(results, a, b, m) for m in metrics]
    found = {
        m: discovery.discover(
            results, params, contrast=(a, b), metric=m, threshold=PRIM_THRESHOLD, ranges=ranges
        )
        for m in metrics
    }
    return Uncertainty((a, b), shares, found)
