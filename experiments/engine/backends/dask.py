"""The dask backend: a dask.distributed LocalCluster, or a running scheduler, taking runs
in small batches."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from saca.experiments.engine.backends import forkserver
from saca.experiments.engine.backends.base import (
    TICK,
    Backend,
    Execute,
    Item,
    RunOutcome,
    deferred_interrupt,
    execute_batch,
    failed,
    timed_out,
)
from saca.model import SacaInputError

CONNECT_TIMEOUT = "10s"
"""How long to wait for a dask scheduler given by address."""


def _warm_up() -> None:
    """Import what a run needs (in a dask worker, before its first timed run)."""
    import saca.model.model  # noqa: F401


def _warm_up_plugin() -> Any:
    """A dask worker plugin that imports the model once, when a worker starts.

    Registered with the client, it runs on every worker there is and on every one that
    joins later (a restarted or replacement worker too), so no run pays for the imports.
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmUp(WorkerPlugin):
        """Imports ``model`` (and the runner) in a worker before its first task."""

        def setup(self, worker: Any) -> None:
            """Args: worker: the dask worker starting up."""
            _warm_up()

    return WarmUp()


def _forkserver() -> dict[str, str]:
    """Dask settings that fork the LocalCluster's workers from the fork server, which
    imports dask and the model once (:func:`forkserver.context`, which starts it: dask's
    own list of imports, set when it first asks, then no longer applies); none where
    there is no fork server (Windows)."""
    if forkserver.context("distributed").get_start_method() != "forkserver":
        return {}
    return {"distributed.worker.multiprocessing-method": "forkserver"}


BATCH_SECONDS = 1.0
"""Run time a dask task aims to carry: runs go to the workers in batches of about this
many seconds (by the runs' mean time so far), so that the scheduler's per-task cost is
spread over several runs, while the workers still finish at about the same time."""
MAX_RUNS_PER_TASK = 16
"""Most runs in one dask task (very short runs would otherwise make a batch huge)."""


class DaskBackend(Backend):
    """A dask.distributed client: a LocalCluster, or an existing scheduler.

    Every worker imports the model once, when it starts (a worker plugin), and runs are
    sent in small batches (:data:`BATCH_SECONDS`). A run that raises fails only itself
    (:func:`execute_batch`). A worker that is lost has its batch redone by dask on another
    worker (runs are seeded, so a redone run gives the same result); a batch that dask
    gives up on (``KilledWorker``: it took down several workers) is split and its runs are
    sent again one at a time, and a run whose own task dask gives up on gets one more try
    alone on the cluster (it may have been lost beside the culprit), so only a run that
    kills its worker every time is recorded failed.

    With a timeout, a run's clock starts when the scheduler reports it processing on a
    worker; past the deadline the run is recorded failed, its future is cancelled and that
    worker is restarted through its nanny (dask cannot stop a running task otherwise; a
    worker without a nanny keeps computing the abandoned run in the background).

    Args:
        workers: workers of a LocalCluster (ignored with a scheduler).
        scheduler: address or scheduler file of a running dask scheduler; None starts a
            LocalCluster.
        key_prefix: dask task keys start with it (unique per session).
        timeout: seconds a run may take, or None for no limit.
        run: as for :class:`~saca.experiments.engine.backends.base.Backend`.
    """

    def __init__(
        self,
        workers: int,
        scheduler: str | None,
        key_prefix: str,
        timeout: float | None = None,
        run: Execute | None = None,
    ) -> None:
        super().__init__(run)
        self.workers = workers
        self.scheduler = scheduler
        self.prefix = key_prefix
        self.timeout = timeout
        self.concurrency = workers
        self.client: Any = None
        self.cluster: Any = None
        self._config: Any = None  # the dask settings of a LocalCluster, while it is open

    def __enter__(self) -> DaskBackend:
        import logging

        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            # The workers' statistical profiler samples every thread's stack each 10 ms;
            # with a pure-Python model it competes for the GIL and cost ~10% of throughput
            # (benchmarks/bench_sweep.py). The workers are forked from a server that has
            # imported the model (_forkserver). A user's own cluster keeps its own
            # settings. In force while the pool is open: the nannies are made later (scale).
            self._config = dask.config.set(
                {"distributed.worker.profile.enabled": False, **_forkserver()}
            )
            try:
                with deferred_interrupt():
                    self.cluster = LocalCluster(
                        n_workers=0,  # they are added below, once the plugin is in
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                    self.client = Client(self.cluster)
                    self._register_warm_up()
                # not waited for: runs queue at the scheduler and each worker starts on
                # them as soon as it is up, instead of all waiting for the slowest
                self.cluster.scale(self.workers)
            except BaseException:
                self.__exit__()
                raise
        else:
            target = {"address": self.scheduler}
            if Path(self.scheduler).is_file():  # a --scheduler-file written by dask scheduler
                target = {"scheduler_file": self.scheduler}
            try:
                self.client = Client(**target, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SacaInputError(
                    f"cannot connect to the dask scheduler at {self.scheduler}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; "
                    "start one with `dask scheduler` and workers with `dask worker ADDRESS`"
                ) from None
            self._register_warm_up()
        self.concurrency = self.workers if self.cluster is not None else max(1, self._threads())
        return self

    def _register_warm_up(self) -> None:
        """Import the model in every worker there is and in every one that joins later; a
        run's clock (and a timeout's) then never includes the imports."""
        try:
            self.client.register_plugin(_warm_up_plugin(), name="saca-warm-up")
        except Exception:
            with contextlib.suppress(Exception):
                self.client.run(_warm_up)

    def _threads(self) -> int:
        try:
            return int(sum(self.client.nthreads().values()))
        except Exception:
            return self.workers

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close()
        with contextlib.suppress(Exception):
            if self.cluster is not None:
                self.cluster.close()
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None

    def _batch_size(self, seconds: float, runs: int) -> int:
        """Runs for the next task: one with a timeout (each run has its own clock) or before
        any run has finished, else about :data:`BATCH_SECONDS` of runs."""
        if self.timeout is not None or runs == 0 or seconds <= 0:
            return 1
        return max(1, min(MAX_RUNS_PER_TASK, round(BATCH_SECONDS * runs / seconds)))

    def run(self, tasks: Iterator[Any]) -> Iterator[Item]:
        """Send the tasks in batches; yield ``(task, outcome)`` as runs finish.

        Args:
            tasks: the tasks.
        """
        from distributed import wait as dask_wait

        inflight: dict[Any, list[Any]] = {}
        began: dict[str, tuple[float, str]] = {}  # key -> (when seen processing, worker)
        alone: list[Any] = []  # runs of a batch dask gave up on, to send one by one
        again: set[str] = set()  # runs whose own task dask gave up on once already
        # Runs lost alone once get their last try with nothing else in flight, so that an
        # innocent run cannot be lost beside the culprit a second time.
        suspects: list[Any] = []
        solo: Any = None  # the future of the suspect running alone
        seconds, runs = 0.0, 0  # run time finished so far, for the batch size
        while True:
            # with a timeout no run waits in a worker's queue, where its clock would run
            window = (1 if self.timeout else 2) * max(1, self._threads())
            while len(inflight) < window and solo not in inflight:
                if suspects:
                    if inflight:
                        break
                    batch = [suspects.pop(0)]
                elif alone:
                    batch = [alone.pop(0)]
                else:
                    batch = list(itertools.islice(tasks, self._batch_size(seconds, runs)))
                    if not batch:
                        break
                key = f"{self.prefix}-{batch[0].id}" + (f"+{len(batch)}" if len(batch) > 1 else "")
                fut = self.client.submit(execute_batch, batch, self.runner(), key=key, pure=False)
                inflight[fut] = batch
                if batch[0].id in again:
                    solo = fut  # alone on the cluster until it finishes
            if not inflight:
                return
            try:
                done = dask_wait(list(inflight), timeout=TICK, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            finished = []
            if self.timeout is not None:
                finished += self._overdue(inflight, began, done)
            if not done and not finished:
                yield None
                continue
            for fut in done:
                batch = inflight.pop(fut)
                began.pop(str(fut.key), None)
                try:
                    outcomes = fut.result()
                except Exception as exc:  # KilledWorker, CancelledError, lost connection
                    if len(batch) > 1:
                        alone.extend(batch)  # find the run at fault: one task each
                    elif batch[0].id not in again:  # it may have been lost beside another
                        again.add(batch[0].id)
                        suspects.append(batch[0])
                    else:
                        finished.append((batch[0], failed(batch[0], exc, "the dask worker failed")))
                else:
                    for task, res in zip(batch, outcomes, strict=True):
                        finished.append((task, res))
                        if res.duration_s == res.duration_s:
                            seconds += res.duration_s
                            runs += 1
                fut.release()
            yield from finished

    def _overdue(
        self, inflight: dict[Any, list[Any]], began: dict[str, tuple[float, str]], done: set
    ) -> list[tuple[Any, RunOutcome]]:
        """Runs past the timeout: recorded failed, cancelled, their workers restarted."""
        assert self.timeout is not None
        now = time.monotonic()
        with contextlib.suppress(Exception):
            for worker, keys in self.client.processing().items():
                for key in keys:
                    began.setdefault(str(key), (now, worker))
        out, restart = [], set()
        for fut in [f for f in inflight if f not in done]:
            start = began.get(str(fut.key))
            if start is not None and now - start[0] >= self.timeout:
                (task,) = inflight.pop(fut)  # with a timeout every task is one run
                began.pop(str(fut.key), None)
                out.append((task, timed_out(task, self.timeout, "its dask worker restarted")))
                fut.cancel()
                restart.add(start[1])
        if restart:
            with contextlib.suppress(Exception):
                self.client.restart_workers(sorted(restart), raise_for_error=False)
        return out
