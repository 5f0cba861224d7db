"""The dry-run estimate of a sweep: its runs counted and their time measured from a few
timed sample runs across the design (``--dry-run`` of every command that runs a sweep)."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.engine import runner, seeds
from saca.experiments.engine.backends.forkserver import PRELOAD
from saca.experiments.engine.plan import RunTask, SweepPlan, run_id
from saca.experiments.engine.results import read_meta
from saca.experiments.engine.spec import same_spec
from saca.experiments.engine.store import SweepStore

SAMPLE_RUNS = 5
"""Design points timed for an estimate: the low corner, the high corner, the centre and
two between (ordered by their scaled factor values), under the regimes in turn."""
SAMPLE_DAYS = 5
"""Days of each sample run: with a 1-day run of the same point, its build time and time
per day."""
WHOLE_SECONDS = 10.0
"""Budget of the samples run whole: the centre first, then the others, each run for the
whole run length while the budget lasts; their times count as they are, and the others'
are corrected by how far off the short runs were for those run whole (later phases cost
more than the first days: an emergency day about twice an ordinary one). When not even
the centre fits, it runs for as many days as fit, to correct the rest."""
RATIO_BOUNDS = (0.25, 4.0)
"""How far a correction may go (a short run on a busy machine can be far off)."""


def _timed_run(task: RunTask, days: int) -> float:
    """Wall seconds of one real run of ``task`` cut to ``days`` days.

    Args:
        task: the run.
        days: days to run.
    """
    t0 = time.perf_counter()
    seed = seeds.run_seed(task.root_seed, task.seed_key)
    runner.run_one(task.scenario, task.settings, seed, days, task.overrides)
    return time.perf_counter() - t0


def _startup_seconds(backend: str) -> float:
    """Seconds for the workers' fork server to import what a run needs (measured: a fresh
    interpreter importing the same; the workers are then forked at once).

    Args:
        backend: ``process`` or ``dask`` (dask's server imports distributed too).
    """
    code = "import " + ", ".join(PRELOAD)
    if backend == "dask":
        code += "; import distributed"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    return time.perf_counter() - t0 if proc.returncode == 0 else 0.0


def sample_tasks(plan: SweepPlan, n: int = SAMPLE_RUNS) -> list[RunTask]:
    """Up to ``n`` runs spread over the design: its points ordered by the sum of their
    factor values scaled to 0..1 (text levels count as the middle), then the first, the last
    and evenly between; the regimes take turns.

    Args:
        plan: the prepared sweep.
        n: how many runs at most.
    """
    pts = plan.design.points
    if len(pts) == 0:
        return []
    score = pd.Series(0.0, index=range(len(pts)))
    for col in pts.columns:
        x = pd.to_numeric(pts[col], errors="coerce").astype("float64").reset_index(drop=True)
        span = x.max() - x.min()
        scaled = (x - x.min()) / span if span and span == span else x * 0.0
        score = score + scaled.fillna(0.5)
    order = score.sort_values(kind="stable").index.to_list()
    k = min(n, len(order))
    picks = sorted({order[round(i * (len(order) - 1) / max(1, k - 1))] for i in range(k)})
    labels = list(plan.regimes)
    # the regimes in turn; with fewer points than samples, more regimes of each point
    pairs = [(p, labels[i % len(labels)]) for i, p in enumerate(picks)]
    pairs += [(p, r) for p in picks for r in labels if (p, r) not in pairs]
    wanted = {run_id(p, r, 0): i for i, (p, r) in enumerate(pairs[: max(n, 1)])}
    return sorted(plan.tasks(only=wanted), key=lambda t: wanted[t.id])


def estimate(
    plan: SweepPlan, workers: int = 1, pending: int | None = None, backend: str = "process"
) -> dict[str, Any]:
    """Count the runs and estimate the sweep's time from timed sample runs of the design.

    :func:`sample_tasks` picks up to :data:`SAMPLE_RUNS` runs across the design; each is
    run for 1 and :data:`SAMPLE_DAYS` days, which gives its build time and time per day, and
    so a first guess of its time for the whole run length. As many as
    :data:`WHOLE_SECONDS` allows, the centre first, are then run whole and timed as they
    are; the others' guesses are scaled by how far off those of the whole runs were (or,
    when none fits, by a longer run of the centre). The mean over the samples is the time
    per run; their spread is given as ±. With workers, the time a fresh worker
    takes to import the model is measured and added, and the runs are shared out whole.

    Args:
        plan: the prepared sweep.
        workers: workers to share the runs.
        pending: runs still to do (resume); None for all.
        backend: ``process`` or ``dask`` (their start-up differs); ignored for 1 worker.
    """
    samples = sample_tasks(plan)
    steps = plan.steps
    _timed_run(samples[0], 1)  # warm up imports and caches
    k = min(SAMPLE_DAYS, steps)
    fits: list[tuple[float, float]] = []  # (build s, s per day) per sample
    for task in samples:
        t1 = _timed_run(task, 1)
        tk = _timed_run(task, k) if k > 1 else t1
        per_day = max(tk - t1, 0.0) / max(k - 1, 1)
        fits.append((max(t1 - per_day, 0.0), per_day if k > 1 else t1))
    predicted = [b + steps * d for b, d in fits]
    centre = len(samples) // 2
    whole: dict[int, float] = {}  # sample -> seconds of its whole run
    ratios: list[float] = []  # whole run / short runs' prediction, per sample run whole
    spent = 0.0
    for i in [centre, *(i for i in range(len(samples)) if i != centre)] if steps > k else []:
        guess = predicted[i] * (sum(ratios) / len(ratios) if ratios else 1.0)
        if spent + guess > WHOLE_SECONDS:
            continue
        whole[i] = _timed_run(samples[i], steps)
        spent += whole[i]
        if predicted[i] > 0:
            ratios.append(min(RATIO_BOUNDS[1], max(RATIO_BOUNDS[0], whole[i] / predicted[i])))
    scale, calib = 1.0, ""
    if ratios:
        scale = sum(ratios) / len(ratios)
        calib = f", {len(whole)} of them run whole" + (
            f", the others scaled x{scale:.2f}" if len(whole) < len(samples) else ""
        )
    elif steps > k:  # as many days as the budget allows (none past the sample's when free)
        b, d = fits[centre]
        days = min(steps, max(int((WHOLE_SECONDS - b) / d), k)) if d > 0 else k
        if days > k and b + days * d > 0:
            actual = _timed_run(samples[centre], days)
            scale = min(RATIO_BOUNDS[1], max(RATIO_BOUNDS[0], actual / (b + days * d)))
            calib = f", one {days}-day run to calibrate (x{scale:.2f})"
    per_run_each = [whole.get(i, p * scale) for i, p in enumerate(predicted)]
    per_run = sum(per_run_each) / len(per_run_each)
    spread = (max(per_run_each) - min(per_run_each)) / 2 / per_run if per_run > 0 else 0.0
    n = plan.n_runs if pending is None else pending
    startup = _startup_seconds(backend) if workers > 1 and n > 0 else 0.0
    rounds = math.ceil(n / max(1, workers))
    return {
        "runs": plan.n_runs,
        "pending": n,
        "seconds_per_run": per_run,
        "serial_seconds": per_run * n,
        "workers": workers,
        "startup_seconds": startup,
        "parallel_seconds": startup + per_run * rounds if workers > 1 else per_run * n,
        "spread": spread,
        "samples": len(samples),
        "method": (
            f"estimate from {len(samples)} timed sample runs across the design ({k} days "
            f"each, scaled to {steps}{calib}), ±{spread:.0%} between them"
            + (f"; {startup:.1f} s worker start-up" if startup else "")
        ),
    }


def pending_runs(plan: SweepPlan, out: str | Path, rerun_failed: bool = False) -> int:
    """How many runs of a plan are not yet stored in ``out`` (all if it holds nothing).

    Args:
        plan: the prepared sweep.
        out: the results directory.
        rerun_failed: count failed runs as pending.
    """
    out = Path(out)
    if not (out / "meta.json").is_file():
        return plan.n_runs
    manifest = SweepStore(out, plan.param_kinds).manifest()
    stored = set(
        manifest["id"] if not rerun_failed else manifest.loc[manifest["status"] == "ok", "id"]
    )
    return sum(1 for rid in plan.ids() if rid not in stored)


def stored_pending(
    plan: SweepPlan, out: str | Path | None, rerun_failed: bool = False
) -> int | None:
    """Runs still to do when ``out`` holds a sweep of this plan's spec, else None (all).

    What every ``--dry-run`` passes to :func:`estimate` as ``pending``.

    Args:
        plan: the prepared sweep.
        out: the sweep folder, or None.
        rerun_failed: count failed runs as pending.
    """
    if out is None or not (Path(out) / "meta.json").is_file():
        return None
    if not same_spec(read_meta(out), plan.spec):
        return None
    return pending_runs(plan, out, rerun_failed)
