"""The cadres' queues of needs, all in one flat array.

Cadre ``c``'s queue is ``flat[start[c]:start[c + 1]]``, in the order it will work them
(compressed rows: one array of needs, one of boundaries). The work round reads and
rewrites every queue twice a day, and queues run to tens of thousands of needs in a long
backlog, so they stay numpy arrays the compiled round works on directly
(:mod:`saca.agents.shifts`); ``cad.queue`` gives one cadre's queue as a list.

Needs handed to cadres (allocation by post, claiming) join the end of their cadre's
queue in the order they came: they wait in a pending list and are merged in when the
queues are next read, so handing out a need costs two list appends.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class Queues:
    """Every cadre's queue of needs (see the module's docstring)."""

    def __init__(self) -> None:
        self.flat = np.empty(0, np.int64)
        self.start = np.zeros(1, np.int64)
        self._cadre: list[int] = []  # needs handed out since the last merge, in order
        self._need: list[int] = []

    def add_cadre(self) -> None:
        """Give the next cadre an empty queue."""
        self.start = np.append(self.start, self.start[-1])

    def append(self, cadre: int, nid: int) -> None:
        """Put a need at the end of a cadre's queue.

        Args:
            cadre: the cadre's index.
            nid: the need.
        """
        self._cadre.append(cadre)
        self._need.append(nid)

    def extend(self, cadres: np.ndarray, ids: np.ndarray) -> None:
        """Put needs at the end of their cadres' queues, in order.

        Args:
            cadres: the cadre of each need.
            ids: the needs.
        """
        self._cadre.extend(cadres.tolist())
        self._need.extend(ids.tolist())

    def merge(self) -> None:
        """Move the needs handed out since the last merge to the end of their queues."""
        if not self._cadre:
            return
        from saca.agents.shifts import merge_queues  # compiled (numba): loads on first use

        cadre = np.array(self._cadre, np.int64)
        need = np.array(self._need, np.int64)
        self._cadre.clear()
        self._need.clear()
        self.flat, self.start = merge_queues(self.flat, self.start, cadre, need)

    def get(self, cadre: int) -> list[int]:
        """A cadre's queue, as a list (a copy).

        Args:
            cadre: the cadre's index.
        """
        self.merge()
        return self.flat[self.start[cadre] : self.start[cadre + 1]].tolist()

    def set(self, cadre: int, ids: Iterable[int]) -> None:
        """Replace a cadre's queue (one cadre at a time: it moves every later queue).

        Args:
            cadre: the cadre's index.
            ids: the needs, in order.
        """
        self.merge()
        new = np.fromiter(ids, np.int64)
        a, z = self.start[cadre], self.start[cadre + 1]
        self.flat = np.concatenate([self.flat[:a], new, self.flat[z:]])
        self.start[cadre + 1 :] += len(new) - (z - a)

    def lengths(self) -> np.ndarray:
        """Each cadre's number of queued needs."""
        self.merge()
        return np.diff(self.start)

    def remove(self, cadres: np.ndarray, ids: np.ndarray) -> None:
        """Take needs out of their cadres' queues (each ``ids[i]`` from ``cadres[i]``'s).

        Args:
            cadres: the cadre of each need.
            ids: the needs.
        """
        self.merge()
        if len(ids) == 0:
            return
        from saca.agents.shifts import remove_from_queues  # compiled (numba)

        self.flat, self.start = remove_from_queues(
            self.flat, self.start, cadres.astype(np.int64), ids.astype(np.int64)
        )
