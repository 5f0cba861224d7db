"""Worker processes forked from one server that has imported the model once."""

from __future__ import annotations

import multiprocessing
import signal
import threading
from typing import Any

from saca.experiments.engine.backends.base import deferred_interrupt

PRELOAD = (
    "saca.experiments.engine.backends.forked",
    "saca.experiments.engine.runner",
    "saca.model.model",
    "saca.experiments.engine.backends.kernels",
)
"""What the fork server imports before it forks any worker: Ctrl-C ignored from birth
(:mod:`~saca.experiments.engine.backends.forked`), then the model and the run, and the
model's compiled parts, compiled or loaded once
(:mod:`~saca.experiments.engine.backends.kernels`)."""


def context(*extra: str) -> Any:
    """The multiprocessing context that starts worker processes.

    A fresh interpreter per worker imports numpy, pandas, Mesa and the model, about a
    second each, and on two cores two workers import side by side: the largest part of a
    short sweep's overhead. A fork server imports them once and forks every worker from
    there, and it lives as long as this process, so later sweeps (a notebook's next one,
    a worker replaced after a crash or a timeout) start almost at once. Where there is
    no fork server (Windows), workers are spawned as fresh interpreters.

    The server is started here, with its imports; once it runs, they stay what they
    were.

    Args:
        extra: further modules for the server to import first (``distributed``).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([*extra, *PRELOAD])
    _start_quietly()
    return ctx


def _start_quietly() -> None:
    """Start the fork server (if it is not running) with SIGINT blocked from birth.

    A Ctrl-C in a terminal reaches the server too, and one during its imports killed it
    with a traceback; born with SIGINT blocked, it holds the signal until it ignores it
    (:mod:`~saca.experiments.engine.backends.forked`), and so do the workers it forks. The
    resource tracker starts first: starting, it unblocks SIGINT in the calling thread.
    """
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    with deferred_interrupt():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            forkserver.ensure_running()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
