"""Running the model: one run, or replicated runs of several regimes with shared seeds.

Everything a user can get wrong is checked by :func:`resolve` and :func:`check_steps`
before any simulation starts (DESIGN §6). Seeds follow one rule: a run's generator is
``numpy.random.SeedSequence(seed)``; replicate ``r`` of a comparison uses child ``r`` of
``SeedSequence(seed).spawn(replicates)`` under *every* regime (common random numbers).
Results never depend on the number of workers: tasks are collected by their index.
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.engine.progress import Progress
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.regime import Regime
from saca.model.scenario import Scenario, apply_overrides, load_regime, load_scenario

MAX_SEED = 2**63 - 1


def resolve(
    scenario: str | Path | Scenario = "baseline",
    regime: str | Path | Regime = "hybrid",
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Scenario, str, Regime]:
    """Load a scenario and a regime and apply overrides, validating everything.

    Args:
        scenario: scenario preset name, TOML path or Scenario.
        regime: regime preset name, TOML path or Regime.
        overrides: dotted key → value, e.g. ``{"situation.risk": 0.9}``.

    Returns:
        ``(scenario, regime_name, regime)`` with the overrides applied.

    Raises:
        SacaInputError: any unknown name or key, wrong type, bad range or file.
    """
    try:
        spec = load_scenario(scenario)
        name, reg = load_regime(regime)
    except OSError as exc:
        raise SacaInputError(
            f"cannot read {exc.filename or scenario}: {exc.strerror}; check the path"
        ) from None
    spec, reg = apply_overrides(spec, reg, dict(overrides or {}))
    return spec, name, reg


def check_steps(steps: int | None, scenario: Scenario) -> int:
    """Return the number of days to run: the timeline length unless ``steps`` is given.

    Args:
        steps: requested days, or None for the whole timeline.
        scenario: the resolved scenario.

    Raises:
        SacaInputError: ``steps`` below 1 or beyond the end of the timeline.
    """
    days = scenario.situation.days
    if steps is None:
        return days
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise SacaInputError(f"--steps must be a whole number of days of at least 1, got {steps}")
    if steps > days:
        raise SacaInputError(
            f"--steps {steps} runs past the end of the timeline of scenario {scenario.name!r} "
            f"({days} days); use at most {days} or lengthen situation.timeline"
        )
    return int(steps)


def check_seed(seed: int) -> int:
    """Return the root seed if it is a whole number in [0, 2**63 - 1].

    Args:
        seed: the root seed as given.

    Raises:
        SacaInputError: negative or too large.
    """
    whole = isinstance(seed, int | np.integer) and not isinstance(seed, bool)
    if not whole or not 0 <= seed <= MAX_SEED:
        raise SacaInputError(f"--seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    return int(seed)


def seed_text(root: int, spawn_key: Sequence[int] = ()) -> str:
    """A run's seed in the form ``saca run --seed`` takes: ``root`` or ``root:k1,k2``.

    Args:
        root: the SeedSequence's entropy (a root seed).
        spawn_key: its spawn key (empty for a root seed).
    """
    if not spawn_key:
        return str(int(root))
    return f"{int(root)}:{','.join(str(int(k)) for k in spawn_key)}"


_OLD_SEED = re.compile(r"^SeedSequence\(\s*(\d+)\s*(?:,\s*spawn_key=\(([\d,\s]*)\))?\s*\)$")


def parse_seed(text: str | int) -> int | np.random.SeedSequence:
    """Read a seed as ``saca run --seed`` and stored runs give it.

    ``N`` is a root seed (the model gets ``SeedSequence(N)``); ``N:K1,K2,...`` is
    ``SeedSequence(N, spawn_key=(K1, K2, ...))``, the seed a sweep stores for each run;
    the older stored form ``SeedSequence(N, spawn_key=(K1, K2))`` is read too.

    Args:
        text: the seed as typed or stored.

    Raises:
        SacaInputError: anything else, in one line with the accepted forms.
    """
    if isinstance(text, int | np.integer) and not isinstance(text, bool):
        return check_seed(int(text))
    raw = str(text).strip()
    old = _OLD_SEED.match(raw)
    if old:
        root, keys = old.group(1), (old.group(2) or "").replace(" ", "").strip(",")
    else:
        root, _, keys = raw.partition(":")
    try:
        entropy = check_seed(int(root))
        key = tuple(int(k) for k in keys.split(",")) if keys else ()
    except (ValueError, SacaInputError):
        raise SacaInputError(
            f"--seed {raw!r} is not a seed; give a whole number N from 0 to {MAX_SEED}, or "
            "N:K1,K2 as a sweep stores it (SeedSequence(N, spawn_key=(K1, K2)))"
        ) from None
    if any(k < 0 for k in key):
        raise SacaInputError(f"--seed {raw!r}: spawn key numbers must be 0 or more")
    return np.random.SeedSequence(entropy, spawn_key=key) if key else entropy


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """A fresh SeedSequence for a run (a copy if one is given, so nothing is shared).

    Args:
        seed: an int root seed or a SeedSequence (e.g. a spawned child).
    """
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size
        )
    return np.random.SeedSequence(check_seed(seed))


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """The replicate seeds of a comparison: ``SeedSequence(seed).spawn(replicates)``.

    Args:
        seed: the root seed.
        replicates: how many children.
    """
    return np.random.SeedSequence(check_seed(seed)).spawn(replicates)


def run_one(
    scenario: str | Path | Scenario,
    regime: str | Path | Regime,
    seed: int | np.random.SeedSequence,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the model once.

    Args:
        scenario: scenario preset name, TOML path or Scenario.
        regime: regime preset name, TOML path or Regime.
        seed: int root seed (the model gets ``SeedSequence(seed)``) or a SeedSequence.
        steps: days to run; None runs the whole timeline.
        overrides: dotted-key overrides, validated.
        progress: called with 1 after each day, e.g. ``tqdm.update``; None runs at once.

    Returns:
        ``(summary, timeseries)``: the summary has one row per window (``all`` and each
        phase, index named ``window``) and a column per metric; the time series one row
        per day (index ``day``), a ``phase`` column and a column per metric.
    """
    from saca.model.model import CollaborationModel  # Mesa loads when the first run starts

    spec, _, reg = resolve(scenario, regime, overrides)
    steps = check_steps(steps, spec)
    model = CollaborationModel(scenario=spec, regime=reg, rng=seed_sequence(seed))
    if progress is None:
        model.run_for(steps)
    else:
        for _ in range(steps):
            model.run_for(1)
            progress(1)
    summary = model.summary(by_phase=True)
    summary.index.name = "window"
    return summary, model.timeseries()


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


def _run_task(task: Task) -> tuple[pd.DataFrame, pd.DataFrame]:
    return run_one(task.scenario, task.regime, task.seed, task.steps)


def run_tasks(
    tasks: Sequence[Task],
    workers: int = 1,
    progress: bool | None = None,
    label: str = "runs",
    run: Callable[[Any], Any] | None = None,
) -> list[Any]:
    """Run tasks serially or in worker processes; results come back in task order.

    Args:
        tasks: the runs.
        workers: processes to use; 1 runs in this process.
        progress: show progress on stderr (True or None: a bar on a terminal, plain
            lines in a log; see :mod:`saca.experiments.engine.progress`), or not (False).
        label: how progress lines name the batch, e.g. ``compare``.
        run: a module-level function running one task (default: a replicate of
            :class:`Task`, returning its summary and windows).
    """
    run = run or _run_task
    results: list[Any] = [None] * len(tasks)
    with Progress(len(tasks), label, show=progress) as bar:
        if workers <= 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                results[i] = run(task)
                bar.update(1)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as ex:
                futures = {ex.submit(run, t): i for i, t in enumerate(tasks)}
                for fut in as_completed(futures):
                    results[futures[fut]] = fut.result()
                    bar.update(1)
    return results


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
        progress: as in :func:`run_tasks`.
        label: how progress lines name the batch.
    """
    seeds = replicate_seeds(seed, replicates)
    tasks = [
        Task(label, r, seeds[r], scenario, reg, steps)
        for label, reg in regimes.items()
        for r in range(replicates)
    ]
    results = run_tasks(tasks, workers=workers, progress=progress, label=label)
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
