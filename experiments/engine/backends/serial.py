"""The serial backend: every run in this process, one after the other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saca.experiments.engine.backends.base import Backend, Item


class SerialBackend(Backend):
    """Runs each task here, in order (no timeout: a run cannot be stopped from inside).

    Args:
        run: as for :class:`~saca.experiments.engine.backends.base.Backend`.
    """

    def run(self, tasks: Iterator[Any]) -> Iterator[Item]:
        """Run the tasks in order; yield ``(task, outcome)`` after each.

        Args:
            tasks: the tasks.
        """
        run = self.runner()
        for task in tasks:
            yield task, run(task)
