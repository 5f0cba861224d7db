"""Backends: where runs execute (serial, process, dask), chosen and checked by name.

:func:`make_backend` gives a sweep its backend; :func:`run_tasks` runs any batch of
function calls (compare, validation, withdrawal) through the same backends, so a failing
run is isolated the same way everywhere and results come back in task order.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from saca.experiments.engine.backends.base import Backend, CallTask, call
from saca.experiments.engine.backends.dask import DaskBackend
from saca.experiments.engine.backends.process import ProcessBackend
from saca.experiments.engine.backends.serial import SerialBackend
from saca.experiments.engine.progress import Progress
from saca.model import SacaInputError
from saca.model.parameters import did_you_mean

BACKENDS = ("serial", "process", "dask")


def check_backend(
    backend: str | None, workers: int | None, scheduler: str | None
) -> tuple[str, int]:
    """Check the backend options; return the backend and the worker count.

    Args:
        backend: ``serial``, ``process``, ``dask`` or None (``dask`` with a scheduler,
            else ``process``).
        workers: worker processes (process, dask LocalCluster); None for all cores.
        scheduler: address of a running dask scheduler, or None.

    Raises:
        SacaInputError: an unknown backend or inconsistent options.
    """
    if backend is None:
        backend = "dask" if scheduler else "process"
    if backend not in BACKENDS:
        raise SacaInputError(
            f"unknown backend {backend!r}; {did_you_mean(backend, BACKENDS)}"
            f"choose one of {', '.join(BACKENDS)}"
        )
    if scheduler is not None and backend != "dask":
        raise SacaInputError("--scheduler needs --backend dask")
    if workers is not None and (not _whole(workers) or workers < 1):
        raise SacaInputError(f"--workers must be a whole number of at least 1, got {workers}")
    if backend == "serial":
        if workers not in (None, 1):
            raise SacaInputError("--workers applies to the process and dask backends")
        return backend, 1
    if scheduler is not None and workers is not None:
        raise SacaInputError(
            "--workers does not apply with --scheduler: the scheduler's workers run the runs"
        )
    return backend, workers or os.cpu_count() or 1


def check_timeout(run_timeout: float | None) -> float | None:
    """Check ``--run-timeout``: None (off) or a positive number of seconds.

    Args:
        run_timeout: seconds a run may take before it is stopped and recorded failed.

    Raises:
        SacaInputError: not a positive finite number.
    """
    if run_timeout is None:
        return None
    try:
        value = float(run_timeout)
    except (TypeError, ValueError):
        raise SacaInputError(f"--run-timeout must be seconds, got {run_timeout!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SacaInputError(
            f"--run-timeout must be a positive number of seconds, got {run_timeout!r}"
        )
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def make_backend(
    backend: str,
    workers: int,
    scheduler: str | None = None,
    timeout: float | None = None,
    key_prefix: str = "saca",
) -> Backend:
    """The backend a sweep runs on (options checked by :func:`check_backend`).

    Args:
        backend: ``serial``, ``process`` or ``dask``.
        workers: worker processes (process, dask LocalCluster).
        scheduler: address of a running dask scheduler, or None.
        timeout: seconds a run may take, or None.
        key_prefix: dask task keys start with it (unique per session).
    """
    if backend == "serial" and timeout is None:
        return SerialBackend()
    if backend in ("serial", "process"):
        # a run can be stopped only from outside: with a timeout, serial runs go to one
        # child process
        return ProcessBackend(workers, timeout)
    return DaskBackend(workers, scheduler, key_prefix, timeout)


class RunError(RuntimeError):
    """Runs of a batch failed (the others finished): the first error and its traceback."""


def run_tasks(
    tasks: Sequence[Any],
    run: Callable[[Any], Any],
    workers: int = 1,
    progress: bool | None = None,
    label: str = "runs",
) -> list[Any]:
    """Run ``run(task)`` for every task, here or in worker processes; results in task order.

    The tasks go through the sweep's backends (:class:`SerialBackend` for one worker,
    :class:`ProcessBackend` otherwise), so results do not depend on the number of workers.

    Args:
        tasks: the arguments, one per run.
        run: a module-level function running one task.
        workers: processes to use; 1 runs in this process.
        progress: show progress on stderr (True or None: a bar on a terminal, plain
            lines in a log; see :mod:`saca.experiments.engine.progress`), or not (False).
        label: how progress lines and errors name the batch, e.g. ``compare``.

    Raises:
        RunError: some runs raised (every other run finished first).
    """
    calls = [CallTask(f"{label}-{i}", i, run, task) for i, task in enumerate(tasks)]
    pool: Backend
    if workers <= 1 or len(calls) <= 1:
        pool = SerialBackend(run=call)
    else:
        pool = ProcessBackend(min(workers, len(calls)), run=call)
    results: list[Any] = [None] * len(calls)
    lost = []
    with Progress(len(calls), label, show=progress) as bar, pool:
        for item in pool.run(iter(calls)):
            if item is None:
                bar.update(0)
                continue
            task, outcome = item
            if outcome.status == "ok":
                results[task.index] = outcome.value
            else:
                lost.append(outcome)
            bar.update(1, failed=int(outcome.status != "ok"))
    if lost:
        first = lost[0]
        raise RunError(
            f"{len(lost)} of {len(calls)} {label} runs failed; the first, {first.id}: "
            f"{first.error}\n{first.traceback or ''}"
        )
    return results


__all__ = [
    "BACKENDS",
    "Backend",
    "DaskBackend",
    "ProcessBackend",
    "RunError",
    "SerialBackend",
    "check_backend",
    "check_timeout",
    "make_backend",
    "run_tasks",
]
