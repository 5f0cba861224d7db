"""Residents' needs as a struct of arrays: where each need is, who holds it, how it ends.

Seeds: 000 (urgency, deadlines), 004 (the lowest level able to solve a need; most at the
grid). Every need ends in exactly one of four statuses, which gives the accounting
identity ``created = resolved + open + hidden + dropped``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

NEED_TYPES = ("service", "dispute", "emergency", "policy", "facility")
SERVICE, DISPUTE, EMERGENCY, POLICY, FACILITY = range(5)
LEVELS = ("grid", "community", "street", "city")

# status
HIDDEN, OPEN, RESOLVED, DROPPED = 0, 1, 2, 3
# where an open need waits
AT_LIST, AT_COMMAND, AT_CADRE, AT_STREET, AT_CITY, AT_FIRM = range(6)

# Mix of need types per phase (rows: normal, emergency, recovery), seed 000: an emergency
# shifts needs toward urgent emergency and policy needs (control measures, explanations).
TYPE_MIX = np.array(
    [
        [0.45, 0.20, 0.03, 0.12, 0.20],
        [0.30, 0.12, 0.35, 0.15, 0.08],
        [0.40, 0.22, 0.08, 0.15, 0.15],
    ]
)
# Lowest level able to solve a need (grid, community, street, city); seed 004: most at grid.
LEVEL_MIX = np.array([0.70, 0.18, 0.09, 0.03])
# Days to the deadline by type in ordinary times (an emergency multiplies them all by
# situation.emergency_deadline_factor).
DEADLINE_DAYS = np.array([7.0, 10.0, 2.0, 5.0, 10.0])
# How urgent each type feels to the cadre who sees it.
URGENCY = np.array([0.5, 0.6, 1.0, 0.5, 0.4])
# How much easier (> 1) or harder (< 1) each type is to solve among neighbours (seed 003).
SELF_HELP_TYPE = np.array([1.0, 1.2, 0.5, 0.4, 0.6])
# Need rate factors by community type (rows: old estate, new build, urban village), seed
# 003: old estates have more facility needs, urban villages more disputes.
COMMUNITY_TYPE_RATE = np.array(
    [
        [1.0, 1.0, 1.0, 1.0, 1.6],
        [1.0, 1.0, 1.0, 1.0, 1.0],
        [1.0, 1.5, 1.0, 1.0, 1.0],
    ]
)
# Share of front-loading's prevention that reaches each type (seed 003): disputes and
# facility needs are what prevention targets.
PREVENTABLE = np.array([0.5, 1.0, 0.5, 0.5, 1.0])
HOURS_PER_DAY = 24.0


class NeedPool:
    """All needs of a run, one row each, in growable numpy arrays."""

    _FIELDS: ClassVar[dict[str, type]] = {
        "hh": np.int32,
        "comm": np.int32,
        "grid": np.int32,
        "ntype": np.int8,
        "level": np.int8,
        "created": np.int32,
        "deadline": np.int32,
        "t_created": np.float64,
        "t_origin": np.float64,
        "t_deadline": np.float64,
        "hours": np.float64,
        "hours_total": np.float64,
        "status": np.int8,
        "where": np.int8,
        "holder": np.int32,
        "t_ready": np.float64,
        "fidelity": np.float64,
        "resolved": np.int32,
        "t_resolved": np.float64,
        "reported": np.bool_,
        "left_grid": np.bool_,
        "self_helped": np.bool_,
        "paper_closed": np.bool_,
        "channel": np.int32,
        "triaged": np.bool_,
        "unverified": np.bool_,
        "peer": np.bool_,
        "chosen": np.bool_,
        "passed_by": np.int32,
        # The household's hidden need below this one (its stack of hidden needs), or -1.
        "hidden_below": np.int64,
    }

    def __init__(self) -> None:
        self.n = 0
        self._cap = 0
        for name, dtype in self._FIELDS.items():
            setattr(self, name, np.empty(0, dtype))
        self.live = np.empty(0, np.int64)
        # Needs by deadline day: all of them, and the resolved ones no longer live (whose
        # status is final), so that the resolution rate never rescans the whole run.
        self._due_by_day = np.zeros(0, np.int64)
        self._settled_by_day = np.zeros(0, np.int64)

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(need, 2 * self._cap, 4096)
        for name, dtype in self._FIELDS.items():
            arr = np.empty(cap, dtype)
            arr[: self.n] = getattr(self, name)[: self.n]
            setattr(self, name, arr)
        self._cap = cap

    def add(
        self,
        hh: np.ndarray,
        comm: np.ndarray,
        grid: np.ndarray,
        ntype: np.ndarray,
        level: np.ndarray,
        day: int,
        t_created: np.ndarray,
        t_deadline: np.ndarray,
        hours: np.ndarray,
    ) -> np.ndarray:
        """Append new needs (status HIDDEN until reported) and return their ids.

        Times are hours since the start of the run (day ``d`` spans ``[24 d, 24 d + 24)``);
        ``created`` and ``deadline`` keep the day numbers the summaries group by.

        Args:
            hh: household of each need.
            comm: community of each need.
            grid: grid of each need.
            ntype: need type index (NEED_TYPES).
            level: lowest level able to solve it (LEVELS).
            day: the day it arises.
            t_created: the hour it arises.
            t_deadline: the hour by which it should be resolved.
            hours: cadre hours it takes.
        """
        k = len(hh)
        self._grow(self.n + k)
        ids = np.arange(self.n, self.n + k)
        sl = slice(self.n, self.n + k)
        self.hh[sl], self.comm[sl], self.grid[sl] = hh, comm, grid
        self.ntype[sl], self.level[sl] = ntype, level
        self.created[sl] = day
        self.t_created[sl], self.t_deadline[sl] = t_created, t_deadline
        self.deadline[sl] = np.floor(np.asarray(t_deadline) / HOURS_PER_DAY)
        self.hours[sl] = self.hours_total[sl] = hours
        self.status[sl], self.where[sl], self.holder[sl] = HIDDEN, -1, -1
        self.t_ready[sl], self.fidelity[sl] = t_created, 1.0
        self.t_origin[sl] = t_created
        self.resolved[sl], self.t_resolved[sl] = -1, np.nan
        self.reported[sl] = self.left_grid[sl] = self.self_helped[sl] = False
        self.paper_closed[sl] = False
        self.triaged[sl] = self.unverified[sl] = self.chosen[sl] = self.peer[sl] = False
        self.channel[sl] = self.passed_by[sl] = -1
        self.hidden_below[sl] = -1
        self.n += k
        self.live = np.concatenate([self.live, ids])
        self._due_by_day = _count_days(self._due_by_day, self.deadline[sl])
        return ids

    def resolve(self, ids: np.ndarray | int, t: float | np.ndarray) -> None:
        """Mark needs resolved at an hour.

        Args:
            ids: need id or ids.
            t: the hour (or hours) of resolution.
        """
        self.status[ids] = RESOLVED
        self.t_resolved[ids] = t
        if isinstance(t, float):  # one need, settled by a cadre: no array to build
            self.resolved[ids] = math.floor(t / HOURS_PER_DAY)
        else:
            self.resolved[ids] = np.floor(np.asarray(t) / HOURS_PER_DAY)
        self.holder[ids] = -1

    def close_on_paper(self, nid: int | np.ndarray) -> None:
        """Record a need as done while its problem is unsolved: it ends DROPPED (not
        resolved) and marked ``paper_closed``.

        Args:
            nid: the need, or needs.
        """
        self.status[nid] = DROPPED
        self.holder[nid] = -1
        self.paper_closed[nid] = True

    def waiting(self, where: int, before: float) -> np.ndarray:
        """Ids of open needs waiting at a place that arrive there before an hour, oldest
        first.

        Args:
            where: one of AT_LIST, AT_COMMAND, ...
            before: the hour (usually the end of today).
        """
        from saca.agents import passes  # compiled on first use (numba)

        return passes.waiting(
            self.live, self.status, self.where, self.t_ready, OPEN, where, float(before)
        )

    def prune(self, day: int, patience: float) -> np.ndarray:
        """Drop reported needs past deadline + patience; forget settled and expired ones.

        Args:
            day: today.
            patience: days a household waits past the deadline.

        Returns:
            Ids of needs dropped today (households that gave up).
        """
        live = self.live
        status = self.status[live]
        overdue = self.deadline[live] + patience < day
        dropped = live[(status == OPEN) & overdue]
        self.status[dropped] = DROPPED
        self.holder[dropped] = -1
        keep = ((status == OPEN) & ~overdue) | ((status == HIDDEN) & (self.deadline[live] >= day))
        settled = live[~keep & (status == RESOLVED)]
        self._settled_by_day = _count_days(self._settled_by_day, self.deadline[settled])
        self.live = live[keep]
        return dropped

    def resolution_counts(self, day: int) -> tuple[int, int]:
        """(resolved, all) among the needs whose deadline day is ``day`` or earlier.

        A need leaves ``live`` only when its status is final (see :meth:`prune`), so
        the resolved ones that left are counted by deadline as they leave and only the
        live ones are looked at.

        Args:
            day: the day.
        """
        if day < 0:  # before the run (the counts start at day 0): look at every need
            due = self.deadline[: self.n] <= day
            return int((self.status[: self.n][due] == RESOLVED).sum()), int(due.sum())
        live = self.live
        resolved_live = (self.status[live] == RESOLVED) & (self.deadline[live] <= day)
        settled = int(self._settled_by_day[: day + 1].sum())
        return settled + int(resolved_live.sum()), int(self._due_by_day[: day + 1].sum())

    def counts(self) -> dict[str, int]:
        """Final-status counts over all needs so far."""
        st = self.status[: self.n]
        return {
            "created": int(self.n),
            "resolved": int((st == RESOLVED).sum()),
            "open": int((st == OPEN).sum()),
            "hidden": int((st == HIDDEN).sum()),
            "dropped": int((st == DROPPED).sum()),
        }


def _count_days(counts: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``counts`` (one per day from day 0) with one more for each of ``days``, grown as
    needed; a day before day 0 (a test's need overdue from the start) counts on day 0."""
    if len(days) == 0:
        return counts
    days = np.maximum(days, 0)
    size = max(len(counts), int(days.max()) + 1)
    return np.bincount(days, minlength=size) + np.pad(counts, (0, size - len(counts)))
