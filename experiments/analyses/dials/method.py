"""The dial contrasts' method: each dial's paired difference "at 1 minus at 0" per outcome,
with its verdict. Pure: the runs of the arms in, the table's rows out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from saca.experiments import stats
from saca.experiments.plots.style import KEY_METRICS
from saca.model.metrics import HIGHER_IS_BETTER

OUTCOMES = tuple(stats.with_equity((*KEY_METRICS, "hours_per_resolved")))
"""The outcomes of the table: efficacy and its cost, trust, burnout, behaviour, equity."""


def verdict(diff: dict[str, float], metric: str) -> str:
    """``better``, ``worse`` or ``no clear difference`` at the dial's autonomous end.

    Args:
        diff: a paired difference (``diff``, ``lo``, ``hi``) of "at 1 minus at 0".
        metric: the outcome, whose better direction decides.
    """
    lo, hi = diff["lo"], diff["hi"]
    if not (lo > 0 or hi < 0):
        return "no clear difference"
    up = lo > 0
    return "better" if up == HIGHER_IS_BETTER[metric] else "worse"


def contrasts(
    runs: pd.DataFrame, dials: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Every dial's paired contrast of its two ends, per outcome.

    Args:
        runs: one row per run, ``regime`` naming the arm ``<dial>=0`` or ``<dial>=1``, paired
            by replicate (:func:`saca.experiments.engine.replicates.run_replicates`).
        dials: the dials contrasted.

    Returns:
        The rows ``{dial, metric, at_0, at_1, diff, lo, hi, n, verdict}`` and, per dial
        whose end wins the mean efficacy but loses the worst-off decile of communities,
        its sentences (:func:`saca.experiments.stats.worst_off_text`).
    """
    arms = [f"{dial}={level:g}" for dial in dials for level in (0.0, 1.0)]
    summary = stats.compare_stats(runs, arms, OUTCOMES)
    rows = []
    worst_off: dict[str, list[str]] = {}
    for dial in dials:
        low, high = f"{dial}=0", f"{dial}=1"
        pair = stats.compare_stats(runs, [low, high], OUTCOMES)["differences"][high]
        ends = runs[runs["regime"].isin([low, high])]
        flags = stats.worst_off_of_runs(ends, [low, high])
        if flags:
            worst_off[dial] = stats.worst_off_text(flags)
        for metric in OUTCOMES:
            d = pair[metric]
            rows.append(
                {
                    "dial": dial,
                    "metric": metric,
                    "at_0": summary["regimes"][low][metric]["mean"],
                    "at_1": summary["regimes"][high][metric]["mean"],
                    "diff": d["diff"],
                    "lo": d["lo"],
                    "hi": d["hi"],
                    "n": d["n"],
                    "verdict": verdict(d, metric),
                }
            )
    return rows, worst_off


def two_sided(result: dict[str, Any]) -> dict[str, bool]:
    """Per dial: True when at least one outcome is better and one worse at its
    autonomous end, each with a paired interval excluding 0.

    Args:
        result: what :func:`~.workflow.run_contrasts` returned.
    """
    table = pd.DataFrame(result["rows"])
    return {
        dial: {"better", "worse"} <= set(table.loc[table["dial"] == dial, "verdict"])
        for dial in dict.fromkeys(table["dial"])
    }
