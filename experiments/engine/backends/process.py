"""The process backend: worker processes, forked from a server that holds the model, each
running one task at a time."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from saca.experiments.engine.backends import forkserver
from saca.experiments.engine.backends.base import (
    TICK,
    Backend,
    Execute,
    Item,
    RunOutcome,
    deferred_interrupt,
    failed,
    timed_out,
)

STARTED = "started"
"""A worker's word that it has begun a run (the run's clock starts then)."""


def _worker_loop(conn: Any, run: Execute) -> None:
    """A worker process: receive a task, send back its outcome, until told to stop."""
    # Ctrl-C is the parent's to handle. The worker was born with SIGINT blocked (see
    # _quiet_start); ignoring it drops one that came during the imports, then unblock.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(STARTED)
        outcome = run(task)
        try:
            conn.send(outcome)
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send(failed(task, exc, "its result could not be sent back"))


@contextlib.contextmanager
def _quiet_start() -> Iterator[None]:
    """Start a child with SIGINT blocked, without losing a Ctrl-C meant for the parent.

    A child forked from the fork server ignores Ctrl-C from birth
    (:mod:`~saca.experiments.engine.backends.forked`). A spawned one (no fork server)
    imports the model for a second or more before it can ignore Ctrl-C itself, and a
    Ctrl-C then printed its traceback; a blocked signal stays blocked across fork and exec,
    so it is born with SIGINT blocked and ignores it before unblocking
    (:func:`_worker_loop`). In the parent, a Ctrl-C meanwhile is held back until the child
    has its start-up data (:func:`deferred_interrupt`), then raised: it is caught, never
    ignored, because a library's thread (BLAS, Arrow) that took an ignored signal lost it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with deferred_interrupt():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@dataclass
class _Worker:
    """A worker process, its pipe, the tasks it has been given in order (the first is
    running, or next), whether that one has begun, and its deadline."""

    proc: Any
    conn: Any
    tasks: deque = field(default_factory=deque)
    started: bool = False
    deadline: float | None = None


PIPELINE = 2
"""Tasks a worker holds at once without a timeout: the next one waits in its pipe, so it
starts the moment the last one ends instead of after the parent has stored that result
(on two cores that wait cost a few percent of a short runs' sweep)."""


class ProcessBackend(Backend):
    """Worker processes (:func:`forkserver.context`), each running one task at a time over
    its own pipe, with the next one already waiting there (:data:`PIPELINE`).

    A worker that dies (killed, crashed, out of memory) takes only its own run with it:
    that run is recorded as failed, a fresh worker takes its place, and the task that was
    waiting is given again. With a timeout, a run still going that long after its worker
    began it is stopped the same way (the worker is killed) and recorded as failed; then
    no task waits in a pipe, where its clock would not run.

    Args:
        workers: worker processes.
        timeout: seconds a run may take, or None for no limit.
        run: as for :class:`~saca.experiments.engine.backends.base.Backend`.
    """

    def __init__(
        self, workers: int, timeout: float | None = None, run: Execute | None = None
    ) -> None:
        super().__init__(run)
        self.concurrency = workers
        self.timeout = timeout
        self._ctx: Any = None  # the multiprocessing context, once entered
        self._workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_loop, args=(child, self.runner()), daemon=True)
        with _quiet_start():
            proc.start()
        child.close()
        return _Worker(proc, parent)

    def __enter__(self) -> ProcessBackend:
        self._ctx = forkserver.context()
        self._workers = [self._start() for _ in range(self.concurrency)]
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        for w in self._workers:
            if exc_type is None and not w.tasks:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        for w in self._workers:
            if exc_type is None:
                w.proc.join(timeout=10)
            if w.proc.is_alive():
                w.proc.terminate()
                w.proc.join(timeout=10)
            w.conn.close()
        self._workers = []

    def _give(self, i: int, task: Any) -> bool:
        """Send a task to worker ``i``; False if it died with tasks in hand (the task is
        then given again once the death is handled)."""
        w = self._workers[i]
        try:
            w.conn.send(task)
        except OSError:
            if w.tasks:
                return False
            w.proc.join(timeout=1)  # it died while idle: not this run's fault
            self._workers[i] = w = self._start()
            w.conn.send(task)
        w.tasks.append(task)
        return True

    def _replace(self, i: int, kill: bool = False) -> None:
        w = self._workers[i]
        if kill:
            w.proc.kill()
        w.proc.join(timeout=5)
        if w.proc.is_alive():
            w.proc.terminate()
        w.conn.close()
        self._workers[i] = self._start()

    def _wait_for(self) -> float:
        """How long to wait for news: a tick, or less when a run's deadline is nearer."""
        deadlines = [w.deadline for w in self._workers if w.deadline is not None]
        if not deadlines:
            return TICK
        return max(0.0, min(TICK, min(deadlines) - time.monotonic()))

    def run(self, tasks: Iterator[Any]) -> Iterator[Item]:
        """Keep each worker's pipe filled with tasks; yield ``(task, outcome)`` as runs
        finish.

        Args:
            tasks: the tasks.
        """
        from multiprocessing.connection import wait as mp_wait

        depth = 1 if self.timeout is not None else PIPELINE
        again: deque = deque()  # tasks a dead worker had not begun, to give again
        retried: set[str] = set()  # ids of tasks given again after a death before beginning
        exhausted = False
        while True:
            for i in range(len(self._workers)):
                while len(self._workers[i].tasks) < depth:
                    if again:
                        task = again.popleft()
                    elif exhausted or (task := next(tasks, None)) is None:
                        exhausted = True
                        break
                    if not self._give(i, task):
                        again.appendleft(task)
                        break
            busy = [(i, w) for i, w in enumerate(self._workers) if w.tasks]
            if not busy:
                return
            handles = [w.conn for _, w in busy] + [w.proc.sentinel for _, w in busy]
            ready = set(mp_wait(handles, timeout=self._wait_for()))
            finished: list[tuple[Any, RunOutcome]] = []
            for i, w in busy:
                if w.conn in ready or w.proc.sentinel in ready:
                    with contextlib.suppress(EOFError, OSError):
                        while w.tasks and w.conn.poll():
                            msg = w.conn.recv()
                            if msg == STARTED:
                                w.started = True
                                if self.timeout is not None:
                                    w.deadline = time.monotonic() + self.timeout
                            else:
                                finished.append((w.tasks.popleft(), msg))
                                w.started, w.deadline = False, None
                    if w.tasks and not w.proc.is_alive():
                        # the process ended without an answer
                        w.proc.join(timeout=5)
                        code = w.proc.exitcode
                        how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                        why = f"its worker process died ({how}): killed, crashed or out of memory"
                        # The first task is the one it was doing, or reading: one it had
                        # not begun gets one more try (the worker may have died idle), and
                        # fails if it takes a fresh worker down before it begins too.
                        task = w.tasks.popleft()
                        if w.started or task.id in retried:
                            finished.append((task, failed(task, ChildProcessError(why))))
                        else:
                            retried.add(task.id)
                            again.append(task)
                        again.extend(w.tasks)
                        self._replace(i)
                        continue
                if w.tasks and w.deadline is not None and time.monotonic() >= w.deadline:
                    assert self.timeout is not None
                    task = w.tasks.popleft()
                    finished.append(
                        (task, timed_out(task, self.timeout, "its worker process was killed"))
                    )
                    again.extend(w.tasks)
                    self._replace(i, kill=True)
            if not finished:
                yield None
                continue
            yield from finished
