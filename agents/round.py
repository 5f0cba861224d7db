"""The work round across cadres: every changed queue ordered at once before the round,
and the needs the round's walks finished decided together (success chances and draws).

A cadre's walk through its queue (:meth:`Cadre.walk <saca.agents.cadre.Cadre.walk>`)
runs on its own clock, one cadre at a time; what does not depend on that clock runs here
for many cadres at once, giving the numbers and the draws a cadre-by-cadre loop gives.

Seeds: 000 (goal displacement, paper closure), 002, 004 (success).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from saca.agents import needs as nd
from saca.agents.cadre import FAIL, LATE, SUCCESS

if TYPE_CHECKING:
    from saca.model.model import CollaborationModel


class Finished:
    """Needs whose hours are done, waiting for the draw that decides them: in the order
    the cadres finished them, with the cadre and its clock at that moment (lists filled
    one at a time, or arrays from the compiled shifts)."""

    def __init__(self) -> None:
        self.nid: list[int] = []
        self.cadre: list[int] = []
        self.clock: list[float] = []

    def add(self, nid: int, cadre: int, clock: float) -> None:
        """Add one finished need.

        Args:
            nid: the need.
            cadre: the cadre who finished it.
            clock: the cadre's clock when it did.
        """
        self.nid.append(nid)
        self.cadre.append(cadre)
        self.clock.append(clock)


def run_shifts(m: CollaborationModel, order: np.ndarray, *, inline: bool) -> Finished:
    """The shifts of the cadres ``order``, one after another, compiled
    (:func:`saca.agents.shifts.work_shifts`): the numbers and draws of each cadre's
    :meth:`Cadre.walk` in turn (``inline`` false: the needs whose hours are done are
    returned, in the order they were finished, for :func:`attempt`), or of each sunk
    cadre's :meth:`SunkCadre.work`, visits first and needs decided at once (``inline``
    true, which needs the model's generator to be a numpy Generator). The escalations,
    contacts, hand-offs and paper closures of the shifts are then applied in order.

    The queues must be ordered (:func:`order_queues`).

    Args:
        m: the model.
        order: the cadres' indices (int64), in the order they work.
        inline: whether needs are decided as they are finished, after mandated visits.
    """
    from saca.agents import shifts  # compiled on first use (numba)

    finished = Finished()
    if len(order) == 0:
        return finished
    queues = m.queues
    queues.merge()
    C, N, T, W = _shift_inputs(m, shifts, inline)
    rng = m.rng if inline else _NO_DRAWS
    queues.flat, queues.start, fin, esc, contacts, paper, handoffs, taken = shifts.work_shifts(
        C, N, T, W, order, queues.flat, queues.start, m.hours_by_community, rng, inline
    )
    # One by one, as _to_cadre adds them: the backlog array may hold integers.
    for c, hours in zip(taken[1].tolist(), taken[2].tolist(), strict=True):
        m.backlog[c] += hours
    if len(esc[0]):
        m.escalate_many(*esc)
    m.record_handoffs(handoffs)
    if len(contacts):
        m.households.contact_many(contacts[:, 0], contacts[:, 1], contacts[:, 2])
        won = int(np.isin(contacts[:, 2], (SUCCESS, LATE)).sum())
        m.resolved_today += won
        m.system_resolved_today += won
        m.served_today += won
    m.close_on_paper_many(paper)
    finished.nid, finished.cadre, finished.clock = fin
    return finished


# Passed for the generator when the shifts draw nothing (numba needs a Generator's type).
_NO_DRAWS = np.random.default_rng(0)


def _shift_inputs(m: CollaborationModel, shifts, inline: bool) -> tuple:
    """The model's arrays and today's constants, as :mod:`saca.agents.shifts` reads them."""
    return (
        _cadre_rows(m, shifts),
        _need_rows(m, shifts),
        _today(m, shifts, inline),
        _places(m, shifts),
    )


def _cadre_rows(m: CollaborationModel, shifts):
    """The cadres' rows a shift reads and writes (:class:`saca.agents.shifts.Cadres`)."""
    st, b = m.cadre_state, m.behaviour
    return shifts.Cadres(
        st.hours_left, st.clock, st.hours_worked, st.perfunctory_hours, st.formalism_hours,
        st.np_left, st.np_clock, st.np_worked, st.np_perf, st.np_formal,
        st.attempts_today, st.resolved_today, st.imposed_today, st.active, st.ordered,
        st.reach, st.grid, st.community, st.experience, st.knowledge, st.effort,
        st.effort < b.shirk_threshold,
        np.maximum(st.resources, np.asarray(m.community_resources)[st.community]),
        m.skill_matrix,
    )  # fmt: skip


def _need_rows(m: CollaborationModel, shifts):
    """The needs' rows a shift reads and writes (:class:`saca.agents.shifts.Needs`)."""
    nds = m.needs
    return shifts.Needs(
        nds.status, nds.where, nds.holder, nds.hh, nds.comm, nds.ntype, nds.level,
        nds.deadline, nds.t_created, nds.t_deadline, nds.t_ready, nds.t_resolved,
        nds.resolved, nds.hours, nds.hours_total, nds.fidelity, nds.unverified, nds.peer,
        nds.reported, nds.channel, nds.chosen, nds.passed_by, nds.paper_closed,
        nds.hidden_below,
    )  # fmt: skip


def _today(m: CollaborationModel, shifts, inline: bool):
    """Today's constants (:class:`saca.agents.shifts.Today`), as plain Python numbers of
    fixed types: the compiled code is specialised on them."""
    b, r = m.behaviour, m.regime
    visit_rate = r.mandated_visits_per_week / 7.0 * (1 - m.relief) if inline else 0.0
    return shifts.Today(
        int(m.day), float(m.day * nd.HOURS_PER_DAY), float(r.goals),
        float(nd.HOURS_PER_DAY / b.need_hours), float(b.verify_hours),
        float(b.diagnosis_hours), float(visit_rate), float(b.visit_hours),
        isinstance(b.visit_hours, np.generic), float((1 - r.goals) * b.paper_closure),
        float(b.rework_share), float(b.skill_weight), float(b.experience_weight),
        float(b.familiarity_weight), float(b.resources_weight), float(b.information_weight),
        float(b.success_floor), float(b.effort_weight), float(b.perfunctory_success),
        float(m.volatility_today), float(b.staleness_peer),
    )  # fmt: skip


def _places(m: CollaborationModel, shifts):
    """Households' places and the ties (:class:`saca.agents.shifts.Places`)."""
    return shifts.Places(
        m._grid_start, m._comm_start, m.hidden_top, *m.ties.key_tables(), m.ties.familiarity
    )


def success_chances(
    m: CollaborationModel, ids: np.ndarray, cadres: np.ndarray, clock: np.ndarray | list
) -> np.ndarray:
    """Chance that finished work resolves each need ``ids`` by cadres ``cadres`` at hours
    ``clock`` (seed 000, 002, 004): :meth:`Cadre._success` for many needs at once.

    q = w_s skill + w_e experience + w_f familiarity + w_r resources
        + w_i · fidelity · local knowledge            (clipped to [0, 1])
    p = p₀ + (1 − p₀) √q (1 − w_E + w_E effort), times ρ when perfunctory,

    with the cadre's resources or its community's, the larger, and its effort today.
    Each term is the same product, added in the same order, as for one need alone.

    Args:
        m: the model.
        ids: the needs.
        cadres: the cadre of each need.
        clock: the hour of each attempt.
    """
    from saca.agents import shifts  # compiled on first use (numba)

    C, N, T, W = _shift_inputs(m, shifts, inline=False)
    return shifts.chances(
        C, N, T, W, np.asarray(ids, np.int64), np.asarray(cadres, np.int64),
        np.asarray(clock, np.float64),
    )  # fmt: skip


def attempt(m: CollaborationModel, finished: Finished) -> None:
    """Decide the finished needs, in order: each is resolved with its
    :func:`success_chances`; a failure is a contact that went wrong, and the need is
    either closed on paper (goal displacement, seed 000, 001: p = (1 − goals) ·
    ``paper_closure``; perfunctory cadres close more because they fail more) or reworked
    for ``rework_share`` of its hours. A resolved need is settled at the cadre's clock
    when it finished it (late after its deadline).

    The draws are those of a need-by-need loop: one per need, and after a failure a
    second one when closing on paper can happen, made compiled
    (:func:`saca.agents.shifts.decide`) when the generator is numpy's.

    Args:
        m: the model.
        finished: the needs, in the order they were finished.
    """
    n = len(finished.nid)
    if n == 0:
        return
    nds, b, st, rng = m.needs, m.behaviour, m.cadre_state, m.rng
    ids = np.asarray(finished.nid, dtype=np.int64)
    cadres = np.asarray(finished.cadre, dtype=np.int64)
    clock = np.asarray(finished.clock, dtype=np.float64)
    p = success_chances(m, ids, cadres, clock)
    p_paper = float((1 - m.regime.goals) * b.paper_closure)
    if m.compiled and type(rng) is np.random.Generator:
        from saca.agents import shifts  # compiled on first use (numba)

        won_a, paper_a = shifts.decide(rng, p, p_paper)
    else:  # the reference loop (a test's scripted draws take it too)
        won_a, paper_a = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        for j, chance in enumerate(p.tolist()):
            won_a[j] = rng.random() < chance
            # No draw when closing on paper cannot happen: regimes with resident goals
            # keep their random streams.
            if not won_a[j] and p_paper > 0:
                paper_a[j] = rng.random() < p_paper
    late = clock > nds.t_deadline[ids]
    outcome = np.where(won_a, np.where(late, LATE, SUCCESS), FAIL)
    m.households.contact_many(nds.hh[ids], cadres, outcome)
    solved = ids[won_a]
    nds.resolve(solved, clock[won_a])
    np.add.at(st.resolved_today, cadres[won_a], 1)
    m.resolved_today += len(solved)
    m.system_resolved_today += len(solved)
    m.served_today += len(solved)
    m.close_on_paper_many(ids[paper_a])
    rework = ~won_a & ~paper_a
    nds.hours[ids[rework]] = b.rework_share * nds.hours_total[ids[rework]]
    m.queues.remove(cadres[~rework], ids[~rework])


def order_queues(m: CollaborationModel) -> None:
    """Order every changed queue at once, before a round of work: as
    :meth:`Cadre.order_queue` does for one cadre (drop needs no longer held, sort by
    the goals dial's key, ties in queue order), for all cadres whose queue changed,
    compiled (:func:`saca.agents.shifts.order_queues`).

    While cadres work in turn, none changes the needs another holds, so ordering the
    queues first gives each cadre the order it would find at its turn.

    Args:
        m: the model.
    """
    from saca.agents import shifts  # compiled on first use (numba)

    cs, queues = m.cadre_state, m.queues
    changed = cs.queue_changed[: cs.n]
    queues.merge()
    if not changed.any():
        return
    N, T = _need_rows(m, shifts), _today(m, shifts, inline=False)
    queues.flat, queues.start = shifts.order_queues(queues.flat, queues.start, changed, N, T)
