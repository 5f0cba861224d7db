"""Imported by the fork server only (see :mod:`~saca.experiments.engine.backends.forkserver`):
its workers then ignore Ctrl-C from birth.

The server ignores Ctrl-C itself but gives each child the handler it had before, which
this import sets: a Ctrl-C in a terminal reaches the workers too, and one that came
before a worker could ignore it would print its traceback. Ctrl-C is the parent's to
handle: it stops the sweep and the workers with it.
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
