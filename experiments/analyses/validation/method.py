"""The pattern tests' statistics: metric values, effects with CIs, verdicts (pure)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import stats
from saca.experiments.analyses.validation.patterns import (
    DEFINITIONAL_ONLY,
    EMERGENT,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    TEST_KINDS,
    Arm,
    Contrast,
    Pattern,
    Test,
)


def _window_value(summary: pd.DataFrame, ts: pd.DataFrame, metric: str, window: str) -> float:
    if window.startswith("span:"):
        a, b = (float(x) for x in window[5:].split("-"))
        n = len(ts)
        lo = min(math.floor(a * n), n - 1)
        hi = max(lo + 1, round(b * n))
        vals = ts[metric].to_numpy(dtype=float)[lo:hi]
        vals = vals[np.isfinite(vals)]
        return float(vals.mean()) if len(vals) else math.nan
    if window not in summary.index:
        return math.nan
    return float(summary.loc[window, metric])


def metric_value(
    summary: pd.DataFrame,
    ts: pd.DataFrame,
    metric: Sequence[tuple[str, float]],
    window: str,
) -> float:
    """A (combination of) metric(s) of one run in a window.

    Args:
        summary: the run's summary by window.
        ts: the run's time series.
        metric: ``(name, coefficient)`` pairs.
        window: ``all``, a phase, or ``span:A-B`` (mean of the daily values over that
            fraction of the run).
    """
    return float(sum(c * _window_value(summary, ts, m, window) for m, c in metric))


# ===== effects ==========================================================================
def slope(x: Sequence[float], y: Sequence[float]) -> float:
    """OLS slope of y on x over the finite pairs (NaN with fewer than 2 distinct x).

    Args:
        x: predictor values.
        y: responses.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if len(np.unique(xa)) < 2:
        return math.nan
    xc = xa - xa.mean()
    return float((xc * (ya - ya.mean())).sum() / (xc**2).sum())


def verdict(lo: float | None, hi: float | None, expected: int, min_effect: float = 0.0) -> str:
    """Reproduced when the CI lies beyond ``min_effect`` in the expected direction; not
    reproduced when it excludes 0 the other way.

    Args:
        lo: lower bound of the CI (None or NaN: undefined).
        hi: upper bound.
        expected: +1 (the effect should be positive) or -1.
        min_effect: the smallest effect size that counts (>= 0), fixed in the pattern file.
    """
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return INCONCLUSIVE
    if expected > 0:
        return REPRODUCED if lo > min_effect else NOT_REPRODUCED if hi < 0 else INCONCLUSIVE
    return REPRODUCED if hi < -min_effect else NOT_REPRODUCED if lo > 0 else INCONCLUSIVE


def pattern_verdict(verdicts: Sequence[str], kinds: Sequence[str] | None = None) -> str:
    """Judged on the emergent tests only: reproduced if every one is, not reproduced if any
    one is, else inconclusive; *definitional only* when no test is emergent.

    Args:
        verdicts: the tests' verdicts.
        kinds: each test's kind (None: all emergent).
    """
    kinds = [EMERGENT] * len(verdicts) if kinds is None else list(kinds)
    emergent = [v for v, k in zip(verdicts, kinds, strict=True) if k == EMERGENT]
    if verdicts and not emergent:
        return DEFINITIONAL_ONLY
    if emergent and all(v == REPRODUCED for v in emergent):
        return REPRODUCED
    if any(v == NOT_REPRODUCED for v in emergent):
        return NOT_REPRODUCED
    return INCONCLUSIVE


def kind_counts(tests: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Tests and reproduced tests of each kind, e.g. ``{"emergent": {"tests": 3,
    "reproduced": 2}, "definitional": {...}}``.

    Args:
        tests: test dicts with ``kind`` and ``verdict``.
    """
    return {
        k: {
            "tests": sum(t.get("kind", EMERGENT) == k for t in tests),
            "reproduced": sum(
                t.get("kind", EMERGENT) == k and t["verdict"] == REPRODUCED for t in tests
            ),
        }
        for k in TEST_KINDS
    }


def effect(test: Test, values: np.ndarray, arm_list: Sequence[Arm]) -> dict[str, float]:
    """The effect of a test with its 95% CI from per-arm, per-replicate values.

    Args:
        test: the test.
        values: shape (arms, replicates) of the metric; for ``change`` tests shape
            (2, replicates): the ``before`` and ``after`` windows of the same runs.
        arm_list: the arms, as returned by :func:`arms` (levels for gradients).

    Returns:
        ``{"effect", "lo", "hi", "sd", "n"}``.
    """
    c = test.contrast
    v = np.asarray(values, dtype=float)
    if c.kind in ("regimes", "switch", "change"):
        d = stats.paired_diff_ci(v[0], v[1])
        return {"effect": d["diff"], "lo": d["lo"], "hi": d["hi"], "sd": d["sd"], "n": d["n"]}
    if c.kind == "level":
        per = v[0] - float(c.threshold or 0.0)
    elif c.kind == "gradient":
        x = [a.x for a in arm_list]
        per = np.array([slope(x, v[:, r]) for r in range(v.shape[1])])
    elif c.kind == "optimum":
        x = np.array([a.x for a in arm_list], dtype=float)
        mid = v[x == c.middle][0]
        ends = np.vstack([v[x == x.min()][0], v[x == x.max()][0]])
        per = mid - ends.max(axis=0)
    else:  # interaction
        by = np.array([a.by for a in arm_list], dtype=float)
        x = np.array([a.x for a in arm_list], dtype=float)
        levels = np.unique(by)
        per = np.array(
            [
                slope(levels, [slope(x[by == w], v[by == w, r]) for w in levels])
                for r in range(v.shape[1])
            ]
        )
    ci = stats.mean_ci(per)
    return {"effect": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "sd": ci["sd"], "n": ci["n"]}


@dataclass
class Planned:
    """A test with its arms and where its runs are in the batch.

    Args:
        pattern: the pattern.
        test: the test.
        arms: the arms it runs (:func:`arms`).
        replicates: replicates per arm.
        cells: ``[arm][replicate]`` → index of the run in the batch.
    """

    pattern: Pattern
    test: Test
    arms: list[Arm]
    replicates: int
    cells: list[list[int]] = field(default_factory=list)  # [arm][replicate] → task index


def values_of(plan: Planned, results: Sequence[tuple[pd.DataFrame, pd.DataFrame]]) -> np.ndarray:
    """The test's metric per arm and replicate, from the runs' ``(summary, series)`` tables.

    Args:
        plan: the planned test.
        results: every run of the batch, in task order.
    """
    t = plan.test
    if t.contrast.kind == "change":
        row = plan.cells[0]
        return np.array(
            [
                [metric_value(*results[i], t.metric, w) for i in row]
                for w in (t.contrast.before or "", t.contrast.after or "")
            ]
        )
    return np.array(
        [[metric_value(*results[i], t.metric, t.window) for i in row] for row in plan.cells]
    )


def _arm_stats(plan: Planned, values: np.ndarray) -> list[dict[str, Any]]:
    t = plan.test
    if t.contrast.kind == "change":
        labels = [f"window {t.contrast.before}", f"window {t.contrast.after}"]
        rows = [{"label": lab, "x": i, "by": None} for i, lab in enumerate(labels)]
    else:
        rows = [{"label": a.label, "x": a.x, "by": a.by} for a in plan.arms]
    for row, v in zip(rows, values, strict=True):
        ci = stats.mean_ci(v)
        row.update(mean=ci["mean"], lo=ci["lo"], hi=ci["hi"], n=ci["n"])
    return rows


def _contrast_dict(c: Contrast) -> dict[str, Any]:
    d = {k: v for k, v in dataclasses.asdict(c).items() if v not in (None, ())}
    d["description"] = c.describe()
    return d


def _by_level(plan: Planned, values: np.ndarray) -> list[dict[str, Any]]:
    """For an interaction: per level of ``by``, the slope on ``key`` (mean and CI over
    replicates) and the level of ``key`` with the highest mean."""
    by = np.array([a.by for a in plan.arms], dtype=float)
    x = np.array([a.x for a in plan.arms], dtype=float)
    rows = []
    for w in np.unique(by):
        m = by == w
        per = [slope(x[m], values[m, r]) for r in range(values.shape[1])]
        ci = stats.mean_ci(per)
        means = np.nanmean(values[m], axis=1)
        best = float(x[m][int(np.nanargmax(means))]) if np.isfinite(means).any() else None
        rows.append(
            {"by": float(w), "slope": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "best": best}
        )
    return rows


def result_of_test(plan: Planned, values: np.ndarray) -> dict[str, Any]:
    """A test's JSON-ready result: its effect, CI, verdict, arm means and replicates.

    Args:
        plan: the planned test.
        values: :func:`values_of` the test.
    """
    t = plan.test
    eff = effect(t, values, plan.arms)
    extra = {"by_level": _by_level(plan, values)} if t.contrast.kind == "interaction" else {}
    return {
        "label": t.label,
        "metric": t.metric_label,
        "window": t.window,
        "scenario": t.scenario,
        "regime": t.regime,
        "overrides": dict(t.overrides),
        "contrast": _contrast_dict(t.contrast),
        "expected": "+" if t.expected > 0 else "-",
        "min_effect": t.min_effect,
        "kind": t.kind,
        "why": t.why,
        **eff,
        "verdict": verdict(eff["lo"], eff["hi"], t.expected, t.min_effect),
        "arms": _arm_stats(plan, values),
        "per_replicate": values.tolist(),
        **extra,
    }
