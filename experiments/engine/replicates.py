"""Replicated runs of several regimes with shared seeds (``saca compare``, the dials,
validation): replicate ``r`` of every regime uses the same seed (common random numbers).

Results never depend on the number of workers: the runs go through
:func:`saca.experiments.engine.backends.run_tasks` and are collected by their index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from saca.experiments.engine.backends import run_tasks
from saca.experiments.engine.runner import run_one
from saca.experiments.engine.seeds import replicate_seeds
from saca.model.metrics import METRICS
from saca.model.regime import Regime
from saca.model.scenario import Scenario


@dataclass(frozen=True)
class Task:
    """One run of a batch.

    Args:
        label: the regime's label in the results.
        replicate: replicate index.
        seed: the run's SeedSequence.
        scenario: the resolved scenario.
        regime: the resolved regime.
        steps: days to run.
    """

    label: str
    replicate: int
    seed: np.random.SeedSequence
    scenario: Scenario
    regime: Regime
    steps: int


def run_task(task: Task) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run one replicate: its summary by window and its daily series.

    Args:
        task: the run.
    """
    return run_one(task.scenario, task.regime, task.seed, task.steps)


@dataclass
class Comparison:
    """Results of replicated runs of several regimes.

    Args:
        regimes: regime labels in order (the first is the reference).
        runs: one row per run: ``regime``, ``replicate``, ``seed_entropy``,
            ``seed_spawn_key`` and every metric over the whole run.
        windows: one row per run and window (``window`` column) with every metric.
        timeseries: one row per run and day: ``regime``, ``replicate``, ``day``,
            ``phase`` and every metric.
    """

    regimes: list[str]
    runs: pd.DataFrame
    windows: pd.DataFrame
    timeseries: pd.DataFrame


def run_replicates(
    scenario: Scenario,
    regimes: Mapping[str, Regime],
    replicates: int,
    seed: int,
    steps: int,
    workers: int = 1,
    progress: bool | None = None,
    label: str = "compare",
) -> Comparison:
    """Run every regime ``replicates`` times with the same replicate seeds.

    Args:
        scenario: the resolved scenario (overrides applied).
        regimes: label → resolved regime, in order; the first is the reference.
        replicates: runs per regime.
        seed: root seed; replicate ``r`` uses ``SeedSequence(seed).spawn(replicates)[r]``.
        steps: days per run.
        workers: worker processes (results are identical for any number).
        progress: as in :func:`saca.experiments.engine.backends.run_tasks`.
        label: how progress lines name the batch.
    """
    seeds = replicate_seeds(seed, replicates)
    tasks = [
        Task(label, r, seeds[r], scenario, reg, steps)
        for label, reg in regimes.items()
        for r in range(replicates)
    ]
    results = run_tasks(tasks, run_task, workers=workers, progress=progress, label=label)
    runs, windows, series = [], [], []
    for task, (summary, ts) in zip(tasks, results, strict=True):
        ident = {
            "regime": task.label,
            "replicate": task.replicate,
            "seed_entropy": int(task.seed.entropy),
            "seed_spawn_key": int(task.seed.spawn_key[-1]),
        }
        runs.append({**ident, **{m: float(summary.loc["all", m]) for m in METRICS}})
        w = summary.reset_index()
        for col, val in reversed(list(ident.items())):
            w.insert(0, col, val)
        windows.append(w)
        t = ts.reset_index()
        t.insert(0, "replicate", task.replicate)
        t.insert(0, "regime", task.label)
        series.append(t)
    return Comparison(
        regimes=list(regimes),
        runs=pd.DataFrame(runs),
        windows=pd.concat(windows, ignore_index=True),
        timeseries=pd.concat(series, ignore_index=True),
    )
