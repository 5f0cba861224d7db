"""The cadres' shifts through their queues, compiled: a whole kind of cadres in one call.

A shift runs on the cadre's clock, need after need, and each step depends on the last,
so it cannot be an array expression; it is a loop compiled with numba instead, reading
and writing the model's arrays. The work round calls it
(:func:`saca.agents.round.run_shifts`); :meth:`Cadre.walk <saca.agents.cadre.Cadre.walk>`
and :meth:`SunkCadre.work` are its readable reference (``model.compiled = False``), and
``tests/test_shifts.py`` checks the two give the same numbers and draws.

Two modes, as the work round needs them:

* **the attempts left to the round** (``inline`` false): each cadre walks its queue;
  the needs whose hours are done are listed, in the order they were finished, for
  :func:`saca.agents.round.attempt` to decide together. Nothing is drawn.
* **mandated visits** (``inline`` true; sunk cadres under door-knocking orders, seed 001):
  each cadre first makes its visits, Poisson(``visit_rate``) of them, to random
  households of its grid, each costing ``visit_hours`` of formalism and revealing a
  hidden need if the household has one; then it walks its queue and decides each need
  as its hours are done. The draws are those of the one-cadre-at-a-time loop, from the
  model's generator itself (numba shares its state).

What must stay in Python (contacts, hand-offs, paper closures, escalations, counters) is
returned as events in the order they happened, and applied by the caller in that order.

Seeds: 000 (verification of peer reports, goal displacement, success), 001 (visits,
formalism, paper closure), 002, 004 (diagnosis and escalation beyond a cadre's reach).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from saca.agents.needs import AT_CADRE, DROPPED, HIDDEN, HOURS_PER_DAY, OPEN, RESOLVED

# Contact outcomes (saca.agents.cadre; repeated here, where numba freezes them, and
# checked equal in tests/test_shifts.py).
SUCCESS, LATE, FAIL, VISIT_UNWANTED, VISIT_WANTED = 0, 1, 2, 3, 4


class Cadres(NamedTuple):
    """The cadres' rows a shift reads and writes: arrays of the model's CadreState (and
    a few derived for today), indexed by cadre."""

    hours_left: np.ndarray
    clock: np.ndarray
    hours_worked: np.ndarray
    perfunctory_hours: np.ndarray
    formalism_hours: np.ndarray
    # Whether each running total is a numpy scalar in a one-by-one run (CadreState).
    np_left: np.ndarray
    np_clock: np.ndarray
    np_worked: np.ndarray
    np_perf: np.ndarray
    np_formal: np.ndarray
    attempts_today: np.ndarray
    resolved_today: np.ndarray
    imposed_today: np.ndarray
    active: np.ndarray
    ordered: np.ndarray
    reach: np.ndarray
    grid: np.ndarray
    community: np.ndarray
    experience: np.ndarray
    knowledge: np.ndarray
    effort: np.ndarray
    perfunctory: np.ndarray  # effort below the shirking threshold today
    resources: np.ndarray  # its own or its community's, the larger
    skills: np.ndarray  # (cadres, need types)


class Needs(NamedTuple):
    """The needs' rows a shift reads and writes (arrays of the model's NeedPool)."""

    status: np.ndarray
    where: np.ndarray
    holder: np.ndarray
    hh: np.ndarray
    comm: np.ndarray
    ntype: np.ndarray
    level: np.ndarray
    deadline: np.ndarray
    t_created: np.ndarray
    t_deadline: np.ndarray
    t_ready: np.ndarray
    t_resolved: np.ndarray
    resolved: np.ndarray
    hours: np.ndarray
    hours_total: np.ndarray
    fidelity: np.ndarray
    unverified: np.ndarray
    peer: np.ndarray
    reported: np.ndarray
    channel: np.ndarray
    chosen: np.ndarray
    passed_by: np.ndarray
    paper_closed: np.ndarray
    hidden_below: np.ndarray  # the household's previous hidden need (a stack), or -1


class Today(NamedTuple):
    """The day's constants a shift reads: behaviour parameters, dials and the clock."""

    day: int
    now: float  # the day's first hour
    goals: float  # the goals dial
    queue_scale: float  # 24 / behaviour.need_hours
    verify_hours: float
    diagnosis_hours: float
    visit_rate: float  # mandated visits per day (0 without orders)
    visit_hours: float
    visit_hours_np: bool  # whether visit_hours is a numpy scalar (CadreState's flags)
    p_paper: float  # chance a failure is closed on paper: (1 − goals) · paper_closure
    rework_share: float
    skill_weight: float
    experience_weight: float
    familiarity_weight: float
    resources_weight: float
    information_weight: float
    success_floor: float
    effort_weight: float
    perfunctory_success: float
    volatility: float  # the situation's volatility today
    staleness_peer: float


class Places(NamedTuple):
    """Where households are and what they know of cadres: household ranges of grids and
    communities, the hidden-need stacks, and the ties' sorted keys."""

    grid_start: np.ndarray
    comm_start: np.ndarray
    hidden_top: np.ndarray  # each household's last hidden need, or -1
    tie_keys: np.ndarray  # household << 32 | cadre, sorted (TieTable's main table)
    tie_index: np.ndarray  # the tie of each key
    recent_keys: np.ndarray  # the same for TieTable's recent table
    recent_index: np.ndarray
    familiarity: np.ndarray  # per tie


# ----- one cadre's hours ----------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _spend(C, c, want, comm, by_comm):
    """Spend up to ``want`` hours of cadre ``c``'s shift on a need of community ``comm``;
    return the hours spent."""
    left = C.hours_left[c]
    short = left < want
    h = left if short else want
    if h <= 0:
        return 0.0
    C.hours_left[c] = left - h
    C.clock[c] += h
    C.hours_worked[c] += h
    h_np = short and C.np_left[c]
    if h_np:
        C.np_clock[c] = True
        C.np_worked[c] = True
    if C.perfunctory[c]:
        C.perfunctory_hours[c] += h
        C.np_perf[c] = C.np_perf[c] or h_np
    by_comm[comm] += h
    return h


@numba.njit(cache=True, inline="always")
def _spend_formal(C, c, want, want_np):
    """Spend up to ``want`` hours of formalism (a mandated visit); return the hours spent."""
    left = C.hours_left[c]
    h = want if not left < want else left
    if h <= 0:
        return 0.0
    h_np = C.np_left[c] if left < want else want_np
    C.hours_left[c] = left - h
    C.clock[c] += h
    C.hours_worked[c] += h
    if h_np:
        C.np_left[c] = True
        C.np_clock[c] = True
        C.np_worked[c] = True
    C.formalism_hours[c] += h
    C.np_formal[c] = C.np_formal[c] or h_np
    return h


@numba.njit(cache=True, inline="always")
def _wait_until(C, c, t):
    """Idle until hour ``t``: the time is lost, not worked."""
    clock = C.clock[c]
    if t > clock:
        gap = C.hours_left[c] - (t - clock)
        C.np_left[c] = gap > 0.0 and (C.np_left[c] or C.np_clock[c])
        C.hours_left[c] = gap if gap > 0.0 else 0.0
        C.clock[c] = t
        C.np_clock[c] = False


# ----- what a cadre knows and can do ---------------------------------------------------
@numba.njit(cache=True, inline="always")
def _familiarity(W, h, c):
    """Familiarity between household ``h`` and cadre ``c`` (0 for strangers)."""
    key = (np.int64(h) << 32) | np.int64(c)
    tie = _find(W.tie_keys, W.tie_index, key)
    if tie < 0:
        tie = _find(W.recent_keys, W.recent_index, key)
    return W.familiarity[tie] if tie >= 0 else 0.0


@numba.njit(cache=True, inline="always")
def _find(keys, index, key):
    """The tie of ``key`` in one sorted table, or -1."""
    if keys.shape[0] == 0:
        return -1
    pos = np.searchsorted(keys, key)
    if pos < keys.shape[0] and keys[pos] == key:
        return index[pos]
    return -1


@numba.njit(cache=True, inline="always")
def _chance(C, N, T, W, c, nid, clock):
    """Chance that cadre ``c``'s work, finished at hour ``clock``, resolves need ``nid``
    (Cadre._success):
    q = w_s skill + w_e experience + w_f familiarity + w_r resources
        + w_i · fidelity · local knowledge, clipped to [0, 1];
    p = p₀ + (1 − p₀) √q (1 − w_E + w_E effort), times ρ when perfunctory."""
    age = max(0.0, clock - N.t_created[nid]) / HOURS_PER_DAY
    k = T.staleness_peer if N.peer[nid] else 1.0
    fidelity = N.fidelity[nid] * math.exp(-T.volatility * age * k)
    q = (
        T.skill_weight * C.skills[c, N.ntype[nid]]
        + T.experience_weight * C.experience[c]
        + T.familiarity_weight * _familiarity(W, N.hh[nid], c)
        + T.resources_weight * C.resources[c]
        + T.information_weight * fidelity * C.knowledge[c]
    )
    q = min(1.0, max(0.0, q))
    p = T.success_floor + (1 - T.success_floor) * math.sqrt(q) * (
        1 - T.effort_weight + T.effort_weight * C.effort[c]
    )
    return p * T.perfunctory_success if C.perfunctory[c] else p


@numba.njit(cache=True, inline="always")
def _order(N, T, c, queue):
    """A changed queue, ordered (Cadre.order_queue): the needs still open and held by
    ``c``, by the goals dial's key g · deadline + (1 − g) · (now + hours · scale), ties in
    queue order."""
    keep = np.empty(queue.shape[0], dtype=np.bool_)
    for j in range(queue.shape[0]):
        keep[j] = N.status[queue[j]] == OPEN and N.holder[queue[j]] == c
    q = queue[keep]
    g = T.goals
    key = g * N.t_deadline[q] + (1 - g) * (T.now + T.queue_scale * N.hours[q])
    return q[np.argsort(key, kind="mergesort")]


@numba.njit(cache=True, inline="always")
def _visit(C, N, T, W, c, rng, contacts, handoffs, taken):
    """Make cadre ``c``'s mandated visits (SunkCadre.visit_households): each costs
    ``visit_hours`` of formalism and reveals the household's last hidden need still
    open to be found, which the cadre takes on at once (seed 001); otherwise the visit
    was unwanted."""
    if T.visit_rate <= 0 or not C.active[c]:
        return
    C.ordered[c] = True
    for _ in range(rng.poisson(T.visit_rate)):
        if _spend_formal(C, c, T.visit_hours, T.visit_hours_np) <= 0:
            break
        g = C.grid[c]
        if g >= 0:
            a, z = W.grid_start[g], W.grid_start[g + 1]
        else:
            a, z = W.comm_start[C.community[c]], W.comm_start[C.community[c] + 1]
        h = a + rng.integers(0, z - a)
        nid = W.hidden_top[h]
        while nid >= 0:  # pop the stack down to a need still hidden and not overdue
            W.hidden_top[h] = N.hidden_below[nid]
            if N.status[nid] == HIDDEN and N.deadline[nid] >= T.day:
                break
            nid = W.hidden_top[h]
        if nid < 0:
            contacts.append((h, c, VISIT_UNWANTED))
            continue
        N.status[nid] = OPEN
        N.reported[nid] = True
        N.channel[nid] = c
        N.t_ready[nid] = C.clock[c]
        if N.passed_by[nid] >= 0:
            handoffs.append((np.int64(N.passed_by[nid]), c))
            N.passed_by[nid] = -1
        N.where[nid] = AT_CADRE
        N.holder[nid] = c
        N.chosen[nid] = False
        C.imposed_today[c] += 1
        taken.append((nid, c, N.hours[nid]))
        contacts.append((h, c, VISIT_WANTED))


@numba.njit(cache=True, inline="always")
def _walk(C, N, T, W, c, queue, by_comm, rng, inline, gone, ev):
    """Cadre ``c`` works through its ordered ``queue`` (Cadre.walk): the needs that have
    reached it, in queue order, then those that arrive during the shift, as they arrive.
    A peer report is verified first; a need beyond reach is diagnosed and escalated;
    otherwise its hours are worked and, once done, it is finished (listed, or decided at
    once when ``inline``). Marks in ``gone`` the queue entries that leave the queue."""
    if queue.shape[0] == 0 or C.hours_left[c] <= 0:
        return
    shift_end = C.clock[c] + C.hours_left[c]
    later = np.empty(queue.shape[0], dtype=np.int64)
    n_later = 0
    for j in range(queue.shape[0]):
        if C.hours_left[c] <= 0:
            break
        nid = queue[j]
        if N.status[nid] != OPEN:
            gone[j] = True
        elif N.t_ready[nid] > C.clock[c]:
            if N.t_ready[nid] < shift_end:
                later[n_later] = j
                n_later += 1
        else:
            gone[j] = _work_on(C, N, T, W, c, nid, by_comm, rng, inline, ev)
    if n_later == 0:
        return
    later = later[:n_later]
    later = later[np.argsort(N.t_ready[queue[later]], kind="mergesort")]
    for j in later:
        if C.hours_left[c] <= 0:
            break
        nid = queue[j]
        if N.status[nid] != OPEN:
            continue
        _wait_until(C, c, N.t_ready[nid])
        gone[j] = _work_on(C, N, T, W, c, nid, by_comm, rng, inline, ev)


@numba.njit(cache=True, inline="always")
def _work_on(C, N, T, W, c, nid, by_comm, rng, inline, ev):
    """Spend hours on one need; return True when it leaves the queue."""
    finished, escalated, contacts, paper = ev
    comm = N.comm[nid]
    if N.unverified[nid]:
        _spend(C, c, T.verify_hours, comm, by_comm)
        if C.hours_left[c] <= 0:
            return False
        N.unverified[nid] = False
    if N.level[nid] > C.reach[c]:
        _spend(C, c, T.diagnosis_hours, comm, by_comm)
        escalated.append((nid, c, C.clock[c]))
        return True
    rest = N.hours[nid]
    rest -= _spend(C, c, rest, comm, by_comm)
    N.hours[nid] = rest
    if not rest <= 1e-9:
        return False
    C.attempts_today[c] += 1
    if not inline:
        finished.append((nid, c, C.clock[c]))
        return False
    clock = C.clock[c]
    if rng.random() < _chance(C, N, T, W, c, nid, clock):
        C.resolved_today[c] += 1
        N.status[nid] = RESOLVED
        N.t_resolved[nid] = clock
        N.resolved[nid] = math.floor(clock / HOURS_PER_DAY)
        N.holder[nid] = -1
        contacts.append((np.int64(N.hh[nid]), c, LATE if clock > N.t_deadline[nid] else SUCCESS))
        return True
    contacts.append((np.int64(N.hh[nid]), c, FAIL))
    # No draw when nothing can happen: regimes with resident goals keep their streams.
    if T.p_paper > 0 and rng.random() < T.p_paper:
        N.status[nid] = DROPPED
        N.holder[nid] = -1
        N.paper_closed[nid] = True
        paper.append(nid)
        return True
    N.hours[nid] = T.rework_share * N.hours_total[nid]
    return False


# ----- the attempts left to the round (saca.agents.round.attempt) ----------------------
@numba.njit(cache=True)
def chances(C, N, T, W, ids, cadres, clocks):
    """:func:`_chance` of each finished need ``ids[i]``, by cadre ``cadres[i]`` at hour
    ``clocks[i]``."""
    p = np.empty(ids.shape[0])
    for i in range(ids.shape[0]):
        p[i] = _chance(C, N, T, W, cadres[i], ids[i], clocks[i])
    return p


@numba.njit(cache=True)
def decide(rng, chance, p_paper):
    """Draw, need by need, whether each finished need is resolved (``chance``) and, for
    a failure, whether it is closed on paper (``p_paper``; no draw when it is 0, so
    regimes with resident goals keep their random streams).

    Returns:
        (won, closed on paper), one entry per need.
    """
    n = chance.shape[0]
    won = np.zeros(n, np.bool_)
    paper = np.zeros(n, np.bool_)
    for j in range(n):
        won[j] = rng.random() < chance[j]
        if not won[j] and p_paper > 0:
            paper[j] = rng.random() < p_paper
    return won, paper


# ----- the queues (saca.agents.queues) --------------------------------------------------
@numba.njit(cache=True)
def merge_queues(flat, start, cadre, need):
    """Queues ``flat``/``start`` with needs ``need`` put at the end of cadre ``cadre``'s
    queue, in the order given; returns the new (flat, start)."""
    n = start.shape[0] - 1
    size = np.diff(start)
    added = np.bincount(cadre, minlength=n)
    new_start = np.zeros(n + 1, np.int64)
    new_start[1:] = np.cumsum(size + added)
    out = np.empty(new_start[n], np.int64)
    end = np.empty(n, np.int64)
    for c in range(n):
        out[new_start[c] : new_start[c] + size[c]] = flat[start[c] : start[c + 1]]
        end[c] = new_start[c] + size[c]
    for j in range(cadre.shape[0]):
        out[end[cadre[j]]] = need[j]
        end[cadre[j]] += 1
    return out, new_start


@numba.njit(cache=True)
def remove_from_queues(flat, start, cadre, need):
    """Queues ``flat``/``start`` without need ``need[i]`` in cadre ``cadre[i]``'s queue;
    returns the new (flat, start)."""
    n = start.shape[0] - 1
    gone = np.zeros(flat.shape[0], np.bool_)
    for i in range(cadre.shape[0]):
        c = cadre[i]
        for j in range(start[c], start[c + 1]):
            if flat[j] == need[i]:
                gone[j] = True
    out = np.empty(flat.shape[0], np.int64)
    new_start = np.zeros(n + 1, np.int64)
    p = 0
    for c in range(n):
        for j in range(start[c], start[c + 1]):
            if not gone[j]:
                out[p] = flat[j]
                p += 1
        new_start[c + 1] = p
    return out[:p], new_start


@numba.njit(cache=True)
def order_queues(flat, start, changed, N, T):
    """Every changed queue ordered (:func:`_order`), its flag cleared; returns the new
    (flat, start)."""
    n = start.shape[0] - 1
    out = np.empty(flat.shape[0], np.int64)
    new_start = np.zeros(n + 1, np.int64)
    p = 0
    for c in range(n):
        seg = flat[start[c] : start[c + 1]]
        if changed[c]:
            seg = _order(N, T, c, seg)
            changed[c] = False
        out[p : p + seg.shape[0]] = seg
        p += seg.shape[0]
        new_start[c + 1] = p
    return out[:p], new_start


@numba.njit(cache=True)
def work_shifts(C, N, T, W, order, flat, start, by_comm, rng, inline):
    """The shifts of cadres ``order``, one after another: (visits, when ``inline``,) then
    the walk through the queue.

    Args:
        C, N, T, W: the cadres' rows, the needs' rows, today's constants, the places.
        order: the cadres, in the order they work.
        flat, start: every cadre's queue (:class:`saca.agents.queues.Queues`), ordered.
        by_comm: hours per community (coverage), updated.
        rng: the model's generator (used only when ``inline``).
        inline: whether needs are decided as they are finished (and visits made).

    Returns:
        (flat, start): every cadre's queue afterwards; then the events in order, as
        arrays: finished needs (nid, cadre, clock), escalated needs (nid, cadre, clock),
        contacts (household, cadre, outcome), paper closures (nid), hand-offs (giver,
        taker), needs revealed and taken on (nid, cadre, hours), whose hours the caller
        adds to the cadre's backlog.
    """
    finished = [(np.int64(0), np.int64(0), 0.0)][:0]
    escalated = [(np.int64(0), np.int64(0), 0.0)][:0]
    contacts = [(np.int64(0), np.int64(0), np.int64(0))][:0]
    handoffs = [(np.int64(0), np.int64(0))][:0]
    paper = [np.int64(0)][:0]
    taken = [(np.int64(0), np.int64(0), 0.0)][:0]  # needs visits revealed and took on
    ev = (finished, escalated, contacts, paper)
    # The queues of the cadres in ``order`` afterwards, in that order (grown when visits
    # reveal needs), then all queues again by cadre.
    walked = np.empty(flat.shape[0], dtype=np.int64)
    walked_start = np.zeros(order.shape[0] + 1, dtype=np.int64)
    for k in range(order.shape[0]):
        c = order[k]
        queue = flat[start[c] : start[c + 1]]
        if inline:
            before = len(taken)
            _visit(C, N, T, W, c, rng, contacts, handoffs, taken)
            if len(taken) > before:  # this cadre's visits revealed needs: order again
                revealed = np.array([taken[j][0] for j in range(before, len(taken))])
                queue = _order(N, T, c, np.concatenate((queue, revealed)))
        p = walked_start[k]
        if queue.shape[0] == 0:  # nothing held: the common case, kept cheap
            walked_start[k + 1] = p
            continue
        gone = np.zeros(queue.shape[0], dtype=np.bool_)
        _walk(C, N, T, W, c, queue, by_comm, rng, inline, gone, ev)
        if p + queue.shape[0] > walked.shape[0]:
            walked = np.concatenate((walked, np.empty(p + 2 * queue.shape[0], np.int64)))
        for j in range(queue.shape[0]):
            if not gone[j]:
                walked[p] = queue[j]
                p += 1
        walked_start[k + 1] = p
    n = start.shape[0] - 1
    slot = np.full(n, -1, np.int64)
    for k in range(order.shape[0]):
        slot[order[k]] = k
    new_start = np.zeros(n + 1, np.int64)
    for c in range(n):
        k = slot[c]
        size = start[c + 1] - start[c] if k < 0 else walked_start[k + 1] - walked_start[k]
        new_start[c + 1] = new_start[c] + size
    new_flat = np.empty(new_start[n], np.int64)
    for c in range(n):
        k = slot[c]
        if k < 0:  # not in this round: as it was
            new_flat[new_start[c] : new_start[c + 1]] = flat[start[c] : start[c + 1]]
            continue
        new_flat[new_start[c] : new_start[c + 1]] = walked[walked_start[k] : walked_start[k + 1]]
    return (
        new_flat,
        new_start,
        _timed(finished),
        _timed(escalated),
        _contacts(contacts),
        np.array(paper, dtype=np.int64),
        pairs(handoffs),
        _timed(taken),
    )


@numba.njit(cache=True)
def _timed(rows):
    """Events (need, cadre, hour) as three arrays."""
    n = len(rows)
    nid, cadre, hour = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.float64)
    for i in range(n):
        nid[i], cadre[i], hour[i] = rows[i]
    return nid, cadre, hour


@numba.njit(cache=True)
def _contacts(rows):
    """Contacts (household, cadre, outcome) as an (n, 3) array."""
    out = np.empty((len(rows), 3), np.int64)
    for i in range(len(rows)):
        out[i, 0], out[i, 1], out[i, 2] = rows[i]
    return out


@numba.njit(cache=True)
def pairs(rows):
    """Pairs (hand-offs: giver, taker; contacts: household, cadre) as an (n, 2) array."""
    out = np.empty((len(rows), 2), np.int64)
    for i in range(len(rows)):
        out[i, 0], out[i, 1] = rows[i]
    return out
