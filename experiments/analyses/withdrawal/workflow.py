"""The withdrawal workflow: a :class:`WithdrawalPlan` of runs (every regime, both arms, shared
seeds), run, analysed by the method, and its tables and figures written."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.analyses.withdrawal import figures
from saca.experiments.analyses.withdrawal.method import (
    ARMS,
    TAIL,
    Window,
    analyse,
    control_of,
    daily_shares,
    window_values,
    windows_of,
)
from saca.experiments.engine import io
from saca.experiments.engine.backends import run_tasks
from saca.experiments.engine.seeds import replicate_seeds, seed_sequence
from saca.model import SacaInputError
from saca.model.regime import Regime
from saca.model.scenario import Scenario

SERIES_COLUMNS = (
    "efficacy",
    "trust_institution",
    "trust_resident_community",
    "trust_resident_sunk",
    "trust_cadre_cadre",
    "burnout_mean",
    "workload_sunk",
    "workload_community",
    "needs_open",
)
"""Daily model metrics kept beside the experiment's own measures."""


# ----- one run ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One run of the experiment.

    Args:
        regime: the regime's label.
        arm: ``withdrawal`` or ``control``.
        replicate: replicate index.
        seed: the replicate's SeedSequence (shared by arms and regimes).
        scenario: the resolved scenario of the arm.
        settings: the resolved regime.
    """

    regime: str
    arm: str
    replicate: int
    seed: np.random.SeedSequence
    scenario: Scenario
    settings: Regime


def run_task(task: Task) -> pd.DataFrame:
    """Run one task; return its daily table (day, phase, sunk presence, outcomes).

    Args:
        task: the run.
    """
    from saca.model.model import CollaborationModel  # Mesa loads when the first run starts

    seed = seed_sequence(task.seed)
    model = CollaborationModel(scenario=task.scenario, regime=task.settings, rng=seed)
    sunk = [c for c in model.cadres if c.is_sunk]
    present = []
    while model.running:
        model.step()
        present.append(float(np.mean([not c.away for c in sunk])) if sunk else np.nan)
    ts = model.timeseries().reset_index()
    out = ts[["day", "phase", *SERIES_COLUMNS]].copy()
    out["sunk_present"] = present
    shares = daily_shares(model.needs, len(out))
    out["claim_share"] = shares["claim_share"].to_numpy()
    out["self_help_share"] = shares["self_help_share"].to_numpy()
    out.insert(0, "replicate", task.replicate)
    out.insert(0, "arm", task.arm)
    out.insert(0, "regime", task.regime)
    return out


def run_all(tasks: Sequence[Task], workers: int = 1, progress: bool | None = None) -> pd.DataFrame:
    """Run every task, serially or in worker processes; the result is in task order, so
    it does not depend on the number of workers.

    Args:
        tasks: the runs.
        workers: processes to use; 1 runs here.
        progress: as in :class:`saca.experiments.engine.progress.Progress`.
    """
    results = run_tasks(tasks, run_task, workers, progress, "withdrawal")
    return pd.concat(results, ignore_index=True)


@dataclass
class WithdrawalResult:
    """What :func:`run_withdrawal` produced.

    Args:
        series: daily table.
        values: window table.
        analysis: the verdicts and CIs (:func:`analyse`).
        windows: the windows.
        files: files written.
    """

    series: pd.DataFrame
    values: pd.DataFrame
    analysis: dict[str, Any]
    windows: list[Window]
    files: list[Path]


@dataclass(frozen=True)
class WithdrawalPlan:
    """A withdrawal experiment checked: the scenario, the regimes and the windows.

    Args:
        scenario: the resolved withdrawal scenario (its timeline recalls and returns cadres).
        regimes: label → resolved regime.
        replicates: replicates per regime and arm (at least 2 for CIs).
        seed: root seed; replicate r uses ``SeedSequence(seed).spawn(replicates)[r]``.
        tail: days at the end of each window its value is the mean of.
        windows: the timeline's windows (:func:`~.method.windows_of`).
    """

    scenario: Scenario
    regimes: Mapping[str, Regime]
    replicates: int
    seed: int
    tail: int
    windows: list[Window]

    @property
    def tasks(self) -> list[Task]:
        """The runs: every regime, both arms, ``replicates`` seeds shared by all of them."""
        seeds = replicate_seeds(self.seed, self.replicates)
        arms = {"withdrawal": self.scenario, "control": control_of(self.scenario)}
        return [
            Task(label, a, r, seeds[r], arms[a], reg)
            for label, reg in self.regimes.items()
            for a in ARMS
            for r in range(self.replicates)
        ]


def plan_withdrawal(
    scenario: Scenario,
    regimes: Mapping[str, Regime],
    replicates: int,
    seed: int,
    tail: int = TAIL,
) -> WithdrawalPlan:
    """Check an experiment before any run: its timeline has a path down and back, and every
    window on it is at least ``tail`` days long.

    Args:
        scenario: the resolved scenario.
        regimes: label → resolved regime.
        replicates: replicates per regime and arm.
        seed: root seed.
        tail: days at the end of each window its value is the mean of.

    Raises:
        SacaInputError: no path down and back, or a window shorter than ``tail``.
    """
    wins = windows_of(scenario.situation.timeline)
    short = [w.name for w in wins if w.path and w.end - w.start < tail]
    if short:
        raise SacaInputError(
            f"--tail {tail} is longer than window {short[0]}; give at most "
            f"{min(w.end - w.start for w in wins if w.path)} days"
        )
    return WithdrawalPlan(scenario, dict(regimes), replicates, seed, tail, wins)


def run_withdrawal(
    wp: WithdrawalPlan,
    out: str | Path | None = None,
    *,
    workers: int = 1,
    progress: bool | None = None,
    meta: Mapping[str, Any] | None = None,
) -> WithdrawalResult:
    """Run the experiment, analyse it and (with ``out``) write its files.

    Args:
        wp: the checked plan (:func:`plan_withdrawal`).
        out: the results directory, or None to write nothing.
        workers: worker processes (the numbers do not depend on it).
        progress: show progress.
        meta: provenance to store in ``withdrawal.json``.
    """
    wins = wp.windows
    series = run_all(wp.tasks, workers, progress)
    values = window_values(series, wins, wp.tail)
    analysis = analyse(values, wins)
    files: list[Path] = []
    if out is not None:
        d = Path(out)
        d.mkdir(parents=True, exist_ok=True)
        files.append(io.write_parquet(series, d / "series.parquet"))
        files.append(io.write_parquet(values, d / "windows.parquet"))
        doc = {
            **dict(meta or {}),
            "scenario": wp.scenario.name,
            "regimes": list(wp.regimes),
            "replicates": wp.replicates,
            "seed": wp.seed,
            "tail_days": wp.tail,
            "windows": [dataclasses.asdict(w) for w in wins],
            "results": analysis,
            **io.provenance(),
        }
        files.append(io.write_json(doc, d / "withdrawal.json"))
        files.append(figures.plot_timelines(series, wins, d / "timelines.png"))
        files.append(figures.plot_hysteresis(values, wins, d / "hysteresis.png"))
    return WithdrawalResult(series, values, analysis, wins, files)
