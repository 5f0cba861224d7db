"""What every backend shares: a run's outcome, running one task without raising, and the
:class:`Backend` base class (serial, process and dask backends derive from it).

A backend runs tasks that have an ``id`` with a module-level ``execute`` function that
returns a :class:`RunOutcome` and never raises: a failing run is recorded as failed with
its traceback and the others go on. A sweep's tasks are
:class:`saca.experiments.engine.plan.RunTask` run by :func:`execute`; any other batch
(compare, validation, withdrawal) wraps a function and its argument in a :class:`CallTask`
run by :func:`call`.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from saca.experiments.engine import runner, seeds
from saca.model.metrics import METRICS

if TYPE_CHECKING:
    from saca.experiments.engine.plan import RunTask

TICK = 0.25
"""Seconds a backend waits for news before yielding None (a chance to flush)."""


@dataclass
class RunOutcome:
    """What a worker sends back for one run.

    Args:
        id: the run id.
        status: ``ok`` or ``failed``.
        error: ``Type: message`` of the exception, or None.
        traceback: the formatted traceback, or None.
        duration_s: wall time of the run in seconds.
        started: UTC start time (ISO 8601).
        worker: ``host/pid`` of the process that ran it.
        summary: one row per window (ok runs), tagged with the run's id columns.
        timeseries: one row per day if requested (ok runs), else None.
        value: what a :class:`CallTask`'s function returned (ok runs), else None.
    """

    id: str
    status: str
    error: str | None
    traceback: str | None
    duration_s: float
    started: str
    worker: str
    summary: pd.DataFrame | None = None
    timeseries: pd.DataFrame | None = None
    value: Any = None


Item = tuple[Any, RunOutcome] | None
"""A finished task and its outcome, or None when nothing finished for a moment (time to
flush)."""

Execute = Callable[[Any], RunOutcome]
"""A module-level function running one task; it never raises (see :func:`execute`)."""


def _tag(df: pd.DataFrame, task: RunTask) -> pd.DataFrame:
    out = df.reset_index()
    for col in METRICS:
        out[col] = out[col].astype("float64")
    ids = {"id": task.id, "point": task.point, "regime": task.regime, "replicate": task.replicate}
    for i, (col, val) in enumerate(ids.items()):
        out.insert(i, col, val)
    return out


def _attempt(task_id: str, work: Callable[[], tuple[Any, Any, Any]]) -> RunOutcome:
    """Run ``work`` (returning summary, time series, value); capture its error if it raises."""
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    where = f"{socket.gethostname()}/{os.getpid()}"
    t0 = time.perf_counter()
    try:
        summary, ts, value = work()
    except Exception as exc:
        return RunOutcome(
            task_id,
            "failed",
            f"{type(exc).__name__}: {exc}",
            traceback.format_exc(),
            time.perf_counter() - t0,
            started,
            where,
        )
    return RunOutcome(
        task_id, "ok", None, None, time.perf_counter() - t0, started, where, summary, ts, value
    )


def execute(task: RunTask) -> RunOutcome:
    """Run one sweep task and capture its results or its error (never raises an Exception).

    Args:
        task: the run.
    """

    def work() -> tuple[Any, Any, Any]:
        summary, ts = runner.run_one(
            task.scenario,
            task.settings,
            seeds.run_seed(task.root_seed, task.seed_key),
            task.steps,
            task.overrides,
        )
        return _tag(summary, task), (_tag(ts, task) if task.timeseries else None), None

    return _attempt(task.id, work)


@dataclass(frozen=True)
class CallTask:
    """One call of a module-level function, as a backend task (compare, validation, ...).

    Args:
        id: a name unique in the batch.
        index: the task's position in the batch (results come back in this order).
        run: the function (module-level, so that worker processes can import it).
        arg: its one argument.
    """

    id: str
    index: int
    run: Callable[[Any], Any]
    arg: Any


def call(task: CallTask) -> RunOutcome:
    """Run a :class:`CallTask`; its return value is the outcome's ``value`` (never raises).

    Args:
        task: the call.
    """
    return _attempt(task.id, lambda: (None, None, task.run(task.arg)))


def execute_batch(tasks: Sequence[Any], run: Execute = execute) -> list[RunOutcome]:
    """Run several tasks one after the other; each one's error is its own (never raises).

    A dask task carries a batch, so that the scheduler's cost per task is spread over
    several runs; a run that raises is recorded failed inside the batch, like in
    :func:`execute`, and the batch goes on.

    Args:
        tasks: the runs, in order.
        run: the function running one task.
    """
    return [run(task) for task in tasks]


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold a Ctrl-C back until the block ends, then raise it.

    Starting workers must not be cut off half-way: a worker process left without its
    start-up data prints a traceback, and a dask LocalCluster interrupted half-built cannot
    be closed (dask's own exit hook then prints one). The signal is caught, never ignored,
    so it is not lost either.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hit: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: hit.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if hit:
        raise KeyboardInterrupt


def failed(task: Any, exc: BaseException, why: str = "") -> RunOutcome:
    """The outcome of a run lost outside its own code (its worker died, it timed out).

    Args:
        task: the run.
        exc: what happened, as an exception.
        why: a few words added to the error.
    """
    text = "".join(traceback.format_exception(exc))
    msg = f"{type(exc).__name__}: {exc}" + (f" ({why})" if why else "")
    return RunOutcome(task.id, "failed", msg, text, math.nan, "", "")


def timed_out(task: Any, seconds: float, how: str) -> RunOutcome:
    """The outcome of a run stopped by ``--run-timeout``.

    Args:
        task: the run.
        seconds: the timeout.
        how: how it was stopped, e.g. ``its worker process was killed``.
    """
    why = f"the run took longer than --run-timeout {seconds:g} s and was stopped ({how})"
    return failed(task, TimeoutError(why))


class Backend:
    """Where runs execute: a context manager whose :meth:`run` yields finished runs.

    Subclasses start their workers in ``__enter__`` and stop them in ``__exit__``. Every
    backend isolates a failing run the same way: it is recorded failed (with its
    traceback, or why its worker was lost) and the other runs go on.

    Args:
        run: the module-level function running one task (:func:`call` for a
            :class:`CallTask`); None (default) for :func:`execute`, a sweep's run.
    """

    concurrency: int = 1
    """Runs going at once (sets how long finished runs may wait to be written)."""

    def __init__(self, run: Execute | None = None) -> None:
        self.task_runner = run

    def runner(self) -> Execute:
        """The function running one task (:func:`execute` looked up now, not at import)."""
        return self.task_runner or execute

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def run(self, tasks: Iterator[Any]) -> Iterator[Item]:
        """Run the tasks; yield ``(task, outcome)`` as each finishes, or None now and then
        while none does.

        Args:
            tasks: the tasks, taken one at a time as workers free up.
        """
        raise NotImplementedError
