"""The command's allocation by post, compiled: :meth:`Allocation.assign_by_post
<saca.model.allocation.Allocation.assign_by_post>`'s loop over needs in one call.

Each decision sees the backlogs and draws left by the ones before it, so the loop is
sequential by nature; numba compiles it, reading and writing the model's arrays and
drawing from the model's generator itself (numba shares its state), so the numbers and
draws are those of the Python loop. What touches Python structures (contacts, hand-offs,
queue appends) comes back as events in order. ``tests/test_shifts.py`` runs the two
side by side.

Seeds: 000 (consultation, meetings, redeployment), 001 (offloading, marginalisation),
004 (posts, committees).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from saca.agents.shifts import pairs


class Pools(NamedTuple):
    """Who can be given a need, as compressed rows (members of row r are
    ``flat[start[r]:start[r + 1]]``, in the order the Python lists hold them)."""

    post_flat: np.ndarray  # the cadres posted to each grid
    post_start: np.ndarray
    committee_flat: np.ndarray  # each community's committee
    committee_start: np.ndarray
    community_flat: np.ndarray  # each community's cadres
    community_start: np.ndarray
    street_flat: np.ndarray  # each street's full-time cadres
    street_start: np.ndarray
    sunk_flat: np.ndarray  # each community's sunk cadres
    sunk_start: np.ndarray
    tie_flat: np.ndarray  # each sunk cadre's working ties (cc indices), by cadre
    tie_start: np.ndarray
    pair_keys: np.ndarray  # sunk << 32 | community cadre of each working tie, sorted
    pair_index: np.ndarray  # the tie of each key


class Command(NamedTuple):
    """What the command reads today: dials, behaviour and the clock."""

    decision: float
    relief: float
    offloading_allowed: bool
    consult_delay_hours: float
    consult_hours: float
    pool_backlog: float
    hop_hours: float
    order_trust_loss: float
    meeting_trust_gain: float
    offload_propensity: float
    offload_trust_loss: float
    knowledge_gain: float
    meeting_end: float
    next_meeting: float
    day_end: float
    backlog_integers: bool  # whether the model's backlog holds integers today


@numba.njit(cache=True)
def _members(flat, start, row):
    return flat[start[row] : start[row + 1]]


@numba.njit(cache=True)
def _trust_event(P, cc_trust, cadre, change):
    """Move the working trust on every tie of a sunk cadre (Allocation._cadre_trust_event)."""
    if cadre >= P.tie_start.shape[0] - 1:
        return
    for j in range(P.tie_start[cadre], P.tie_start[cadre + 1]):
        i = P.tie_flat[j]
        t = cc_trust[i]
        cc_trust[i] = t + (change * (1 - t) if change > 0 else change * t)


@numba.njit(cache=True)
def allocate(
    P, K, ids, grid, comm, hh, ntype, t0, above_grid, meeting, active, away, sunk, bonus,
    skills, reported, cadre_hours, cadre_comm, comm_street, backlog, knowledge, cc_trust,
    hours, passed_by, rng,
):  # fmt: skip
    """The loop of :meth:`Allocation.assign_by_post` over needs ``ids`` (their fields
    given beside them), in order.

    Returns:
        (ready, above, to, chosen, contacts, handoffs, offloads): each need's new ready
        hour; which were handled above the grid; the cadre each goes to (-1: waits for
        tomorrow's meeting) and whether it was chosen; contacts (household, cadre) of
        consultations and hand-offs (giver, taker) in order; the number offloaded.
    """
    n = ids.shape[0]
    ready = np.empty(n)
    above = np.zeros(n, np.bool_)
    to = np.full(n, -1, np.int64)
    chosen = np.zeros(n, np.bool_)
    contacts = [(np.int64(0), np.int64(0))][:0]
    handoffs = [(np.int64(0), np.int64(0))][:0]
    offloads = 0
    n_streets = P.street_start.shape[0] - 1
    redeploy = np.full(n_streets, -2, np.int64)  # -2: not yet found
    for i in range(n):
        c, g, h, t = comm[i], grid[i], hh[i], t0[i]
        if meeting[c]:
            end = K.meeting_end
            t = end if t <= end else max(t, K.next_meeting)
            if t >= K.day_end:
                ready[i] = t  # decided at tomorrow's meeting
                continue
        committee = _members(P.committee_flat, P.committee_start, c)
        if above_grid[i] and committee.shape[0] > 0:
            pool = committee
            above[i] = True
        else:
            posted = _members(P.post_flat, P.post_start, g)
            pool = posted[active[posted]]
            if pool.shape[0] == 0:
                pool = posted[~away[posted]]
            if pool.shape[0] == 0:
                pool = committee
        if pool.shape[0] == 0:
            members = _members(P.community_flat, P.community_start, c)
            pool = members[~away[members]]
            if pool.shape[0] == 0:
                pool = np.flatnonzero(~away)
        consulted = rng.random() < K.decision
        if consulted or rng.random() < K.relief:
            cad = pool[0]  # the best-skilled, the first of them
            for x in pool:
                if skills[x, ntype[i]] > skills[cad, ntype[i]]:
                    cad = x
        else:
            cad = pool[h % pool.shape[0]]
        if consulted:
            t += K.consult_delay_hours
            hours[ids[i]] += K.consult_hours
            contacts.append((np.int64(h), cad))
            if sunk[cad]:
                knowledge[cad] += K.knowledge_gain * (1 - knowledge[cad])
                _trust_event(P, cc_trust, cad, K.meeting_trust_gain)
        else:
            if reported[cad] > K.pool_backlog * cadre_hours[cad]:
                s = comm_street[c]
                if redeploy[s] == -2:
                    cands = _members(P.street_flat, P.street_start, s)
                    cands = cands[active[cands]]
                    redeploy[s] = -1
                    if cands.shape[0]:
                        load = reported[cands] / cadre_hours[cands]
                        redeploy[s] = cands[np.argmin(load)]
                if redeploy[s] >= 0:
                    post, cad = cad, redeploy[s]
                    if post != cad:
                        handoffs.append((post, cad))  # redeployed away
                    if cadre_comm[cad] != c:
                        t += K.hop_hours  # the order crosses to another community
            if sunk[cad]:
                _trust_event(P, cc_trust, cad, -K.order_trust_loss)
        ready[i] = t
        present = _members(P.sunk_flat, P.sunk_start, c)
        present = present[~away[present]]
        target = cad
        if (
            not sunk[cad]
            and K.offloading_allowed
            and present.shape[0]
            and rng.random() < K.offload_propensity
        ):
            # The least-loaded sunk cadre of the community, off-post cadres first.
            target = present[np.argmin(backlog[present] - bonus[present])]
            offloads += 1
            key = (np.int64(target) << 32) | np.int64(cad)
            pos = np.searchsorted(P.pair_keys, key)
            if pos < P.pair_keys.shape[0] and P.pair_keys[pos] == key:
                cc_trust[P.pair_index[pos]] *= 1 - K.offload_trust_loss
            if cad != target:
                handoffs.append((cad, target))
            chosen[i] = False
        else:
            chosen[i] = consulted
        to[i] = target
        passed = passed_by[ids[i]]
        if passed >= 0:  # escalated by one cadre, now with another
            if passed != target:
                handoffs.append((np.int64(passed), target))
            passed_by[ids[i]] = -1
        # _to_cadre: the backlog grows by the need's hours (as integers on a day the
        # model's backlog holds integers, as numpy stores them).
        b = backlog[target] + hours[ids[i]]
        backlog[target] = float(int(b)) if K.backlog_integers else b
    return ready, above, to, chosen, pairs(contacts), pairs(handoffs), offloads
