"""The runs' sizes (quick mode) and the robustness check's hypercube of situations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from saca.model.scenario import load_scenario

QUICK_SIZE: dict[str, Any] = {
    "situation.households": 2400,
    "situation.grids": 24,
    "situation.communities": 6,
    "situation.streets": 2,
}
"""Quick mode's district: the six-community district of the ``baseline`` and ``emergency``
scenarios. Quick mode saves time by shortening the run, not by shrinking the district: at
this size a run's cost is mostly per-run overhead (a 1,600-household, four-community
district runs only ~20 % faster), while fewer households per community would change the
load per cadre and fewer communities would starve the between-community metrics (P10,
P15, P16)."""
QUICK_DAYS = 72
"""Quick mode's run length (every phase shortened in proportion: the emergency timeline
becomes 12 days normal, 24 emergency, 36 recovery)."""


ROBUST_RANGES: dict[str, tuple[float, float]] = {
    "situation.risk": (0.3, 0.95),
    "situation.capacity_mean": (0.2, 0.8),
    "situation.cohesion_mean": (0.2, 0.8),
    "situation.need_rate": (0.006, 0.02),
}
"""The situations of the robustness check: a Latin hypercube over these ranges."""
ROBUST_POINTS = 30
ROBUST_REPLICATES = 3


def scaled_timeline(scenario: str, days: int) -> list[dict[str, Any]]:
    """The scenario's timeline with every phase shortened in proportion to ``days``.

    Args:
        scenario: scenario name or file.
        days: the new length.
    """
    tl = load_scenario(scenario).situation.timeline
    total = tl[-1].end
    bounds = [0] + [round(p.end * days / total) for p in tl]
    return [
        {"phase": p.name, "start": bounds[i], "end": bounds[i + 1], "sunk": p.sunk}
        for i, p in enumerate(tl)
        if bounds[i + 1] > bounds[i]
    ]


def size_overrides(scenario: str, quick: bool) -> dict[str, Any]:
    """The overrides that make a run quick (none in full mode).

    Args:
        scenario: the arm's scenario.
        quick: quick mode.
    """
    if not quick:
        return {}
    return {**QUICK_SIZE, "situation.timeline": scaled_timeline(scenario, QUICK_DAYS)}


def robust_design(points: int, seed: int) -> pd.DataFrame:
    """The Latin hypercube of situations of the robustness check.

    Args:
        points: number of situations.
        seed: root seed of the design.
    """
    keys = list(ROBUST_RANGES)
    sampler = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng([seed, 7]))
    unit = sampler.random(points)
    lo = np.array([ROBUST_RANGES[k][0] for k in keys])
    hi = np.array([ROBUST_RANGES[k][1] for k in keys])
    return pd.DataFrame(lo + unit * (hi - lo), columns=keys)
