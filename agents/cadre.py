"""What every cadre does in a day: overheads first, then the queue; then strain and motivation.

A cadre's day runs on a clock in hours: a full-time cadre starts at
``behaviour.workday_start``, an in-service member at ``behaviour.after_hours_start``;
overheads, visits and work move the clock, and a need can only be worked once it has
reached the cadre (its ``t_ready``). Everything a cadre feels (pressure, compliance, job
control, alignment, recognition, exhaustion, motivation) is a state that moves only with
what happened to it: inspections and sanctions, orders, meetings, consultations, the work
it chose or was given, its load and its results. The regime decides which of those events
happen; it never writes a cadre's state.

Every cadre's state is a row of the model's :class:`CadreState` (numpy arrays), and a
:class:`Cadre` agent is a view onto its row. The stages without a clock run for all cadres
at once (:func:`begin_days`, :func:`end_days`, :func:`overheads`, …); a cadre's one-row
methods (``cad.begin_day()``) call them on its row. Working the queue on the clock is one
cadre at a time by nature: :meth:`Cadre.walk` is the readable reference, and the work
round runs the same shifts compiled, a whole kind of cadres in one call
(:mod:`saca.agents.shifts`, tested equal); ordering the queues and deciding the needs a
round finished run for many cadres at once in :mod:`saca.agents.round`.

Seeds: 000 (effort, perfunctory work, anxiety, burnout, crowding out of motivation),
001 (paperwork, formalism, inspection), 002 (claiming, recognition), 004 (levels a cadre
can solve at).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from saca.agents import needs as nd
from saca.agents.cadre_state import (
    _Field,
    anxieties,
    availability,
    begin_days,
    efforts,
    end_days,
    overheads,
    reset_days,
    sanction,
    supports,
)

if TYPE_CHECKING:
    from saca.agents.round import Finished
    from saca.model.model import CollaborationModel

# Outcomes of a contact between a cadre and a household (see Households.apply_contacts).
SUCCESS, LATE, FAIL, VISIT_UNWANTED, VISIT_WANTED, CONSULTED = range(6)


class Cadre(mesa.Agent):
    """A cadre working residents' needs (base class of community and sunk cadres).

    Args:
        model: the model.
        community: community the cadre serves.
        grid: grid the cadre is posted to, or -1 for the whole community.
        skills: skill per need type, in [0, 1].
        experience: grassroots experience in [0, 1].
        motivation: intrinsic (public service) motivation in [0, 1].
        hours: working hours per day when active.
        reach: highest level the cadre can solve at (0 grid, 1 community, 2 street).
        resources: resources the cadre can draw on, in [0, 1].
        knowledge: local knowledge in [0, 1]: the share of what insiders know about a need
            that reaches this cadre (1 for the community's own staff).
    """

    is_sunk = False

    # The row of the model's CadreState that holds each of these.
    hours = _Field(float)
    overtime = _Field(float)
    hours_left = _Field(float)
    clock = _Field(float)
    hours_worked = _Field(float)
    formalism_hours = _Field(float)
    perfunctory_hours = _Field(float)
    effort = _Field(float)
    experience = _Field(float)
    motivation = _Field(float)
    baseline_motivation = _Field(float)
    resources = _Field(float)
    knowledge = _Field(float)
    exhaustion = _Field(float)
    recognition = _Field(float)
    compliance = _Field(float)
    felt_pressure = _Field(float)
    job_control = _Field(float)
    alignment = _Field(float)
    resolved_today = _Field(int)
    attempts_today = _Field(int)
    chosen_today = _Field(int)
    imposed_today = _Field(int)
    community = _Field(int)
    grid = _Field(int)
    reach = _Field(int)
    full_time = _Field(bool)
    withdrawn = _Field(bool)
    active = _Field(bool)
    ordered = _Field(bool)
    inspected = _Field(bool)
    sanctioned = _Field(bool)
    recognised = _Field(bool)
    met = _Field(bool)
    # Recalled to a sending unit (sunk cadres only; see model.set_sunk_presence).
    away = _Field(bool)
    load = _Field(float)
    # New needs came in since the queue was last ordered (see order_queue).
    queue_changed = _Field(bool)

    def __init__(
        self,
        model: CollaborationModel,
        *,
        community: int,
        grid: int,
        skills: np.ndarray,
        experience: float,
        motivation: float,
        hours: float,
        reach: int,
        resources: float,
        knowledge: float = 1.0,
    ) -> None:
        super().__init__(model)
        self.idx = model.cadre_state.add()
        model.queues.add_cadre()  # an empty queue
        model.cadres.append(self)
        model.cadre_state.sunk[self.idx] = self.is_sunk
        self.full_time = True
        self.community = community
        self.grid = grid
        self.skills = skills
        self.experience = experience
        self.motivation = motivation
        self.baseline_motivation = motivation
        self.hours = hours
        self.reach = reach
        self.resources = resources
        self.knowledge = knowledge
        self.exhaustion = 0.0
        self.load = 0.0
        self.recognition = 0.0
        self.compliance = 0.0
        self.felt_pressure = 0.0
        self.job_control = 0.5
        self.alignment = 0.5
        self.withdrawn = False
        self.active = True
        self.queue_changed = False
        self.effort = motivation
        self.hours_left = 0.0
        self.clock = 0.0
        self.overtime = 0.0
        self.ordered = False
        self._reset_day()

    @property
    def queue(self) -> list[int]:
        """The needs the cadre holds, in the order it works them (a copy; assign a list to
        change it). All queues live in the model's :class:`~saca.agents.queues.Queues`."""
        return self.model.queues.get(self.idx)

    @queue.setter
    def queue(self, ids: list[int]) -> None:
        self.model.queues.set(self.idx, ids)

    def _reset_day(self) -> None:
        """Start today's records (hours, counts, events) from zero."""
        reset_days(self.model, np.array([self.idx]))

    # ----- the day ------------------------------------------------------------------
    def daily_hours(self) -> float:
        """Hours this cadre can give today if active (with any overtime ordered)."""
        return self.hours + self.overtime

    def shift_start(self) -> float:
        """Hour of the day this cadre starts work: office hours for full-time cadres,
        after work for in-service members."""
        b = self.model.behaviour
        return b.workday_start if self.full_time else b.after_hours_start

    def is_available(self) -> bool:
        """Whether the cadre works today (see :func:`availability`; draws for in-service
        members)."""
        return bool(availability(self.model, np.array([self.idx]))[0])

    def overhead_hours(self) -> tuple[float, float]:
        """Hours taken before any need: (formalism, other overheads); see
        :func:`overheads`."""
        formal, other = overheads(self.model, np.array([self.idx]))
        return float(formal[0]), float(other[0])

    def begin_day(self) -> None:
        """Decide whether to work, start the clock, take the overheads, set today's effort
        (see :func:`begin_days`)."""
        begin_days(self.model, np.array([self.idx]))

    def compute_effort(self) -> float:
        """Effort in [0, 1] (seed 000); see :func:`efforts`."""
        return float(efforts(self.model, np.array([self.idx]))[0])

    def anxiety(self) -> float:
        """Anxiety from real risk, amplified by felt pressure, eased by experience (seed
        000); see :func:`anxieties`."""
        return float(anxieties(self.model, np.array([self.idx]))[0])

    @property
    def perfunctory(self) -> bool:
        """True when effort is below the shirking threshold (hours logged, little done)."""
        return self.effort < self.model.behaviour.shirk_threshold

    def spend(self, hours: float, *, formalism: bool = False, community: int = -1) -> float:
        """Spend up to ``hours`` of today's time, move the clock and log them; return what
        was spent.

        Args:
            hours: hours wanted.
            formalism: whether they go to mandates, paperwork or records (counted work).
            community: community the hours serve, for coverage, or -1.
        """
        st, i = self.model.cadre_state, self.idx
        left = self.hours_left
        h = hours if not left < hours else left
        if h <= 0:
            return 0.0
        h_np = bool(st.np_left[i]) if left < hours else isinstance(hours, np.generic)
        self.hours_left = left - h
        self.clock += h
        self.hours_worked += h
        if h_np:
            st.np_left[i] = st.np_clock[i] = st.np_worked[i] = True
        if formalism:
            self.formalism_hours += h
            st.np_formal[i] |= h_np
        elif community >= 0 and self.perfunctory:
            self.perfunctory_hours += h
            st.np_perf[i] |= h_np
        if community >= 0:
            self.model.hours_by_community[community] += h
        return h

    def wait_until(self, t: float) -> None:
        """Idle until hour ``t`` (nothing to work before it): the time is lost, not worked.

        Args:
            t: the hour to wait for.
        """
        clock = self.clock
        if t > clock:
            st, i = self.model.cadre_state, self.idx
            left = self.hours_left - (t - clock)
            st.np_left[i] = left > 0.0 and bool(st.np_left[i] or st.np_clock[i])
            self.hours_left = left if left > 0.0 else 0.0
            self.clock = t
            st.np_clock[i] = isinstance(t, np.generic)

    def backlog(self) -> float:
        """Hours of work waiting in the queue (the model's count, see refresh_backlog)."""
        return float(self.model.backlog[self.idx])

    def order_queue(self) -> None:
        """When new needs came in, drop needs no longer held (settled, dropped, passed on)
        and order the rest: earliest deadline first under resident goals, easiest first
        under checklist goals, where what is counted is the number done (goal
        displacement, seed 000). A need's priority is the goals dial's mix of the two
        orders: the key is g · deadline + (1 − g) · (now + hours · 24 / need_hours)."""
        if not self.queue_changed:
            return
        self.queue_changed = False
        m = self.model
        nds = m.needs
        g = m.regime.goals
        now = m.day * nd.HOURS_PER_DAY
        scale = nd.HOURS_PER_DAY / m.behaviour.need_hours
        q = np.asarray(self.queue, dtype=np.int64)
        q = q[(nds.status[q] == nd.OPEN) & (nds.holder[q] == self.idx)]
        key = g * nds.t_deadline[q] + (1 - g) * (now + scale * nds.hours[q])
        self.queue = q[np.argsort(key, kind="stable")].tolist()

    def work(self) -> None:
        """Work through the queue, deciding each need as its hours are done (see
        :meth:`walk`)."""
        self.walk()

    def walk(self, finished: Finished | None = None) -> None:
        """Work through the queue with the hours left, in priority order among the needs
        that have reached the cadre; then the needs that arrive later in the shift, as they
        arrive.

        For each need: an unverified peer report is checked first (``verify_hours``,
        seed 000); a need beyond the cadre's reach is diagnosed (``diagnosis_hours``) and
        escalated; otherwise its hours are worked and, once spent, the need is attempted:
        it is resolved with :meth:`success_probability`; a failure is a contact that went
        wrong, and the need is either closed on paper (goal displacement, seed 000, 001:
        p = (1 − goals) · ``paper_closure``; perfunctory cadres close more because they fail
        more) or reworked for ``rework_share`` of its hours.

        This is the readable reference of the day's per-need loop, on a clock: the work
        round runs the same shift compiled for many cadres at once
        (:func:`saca.agents.shifts.work_shifts`; ``model.compiled = False`` runs
        the round with this method). The shift's running state (hours left, clock, hours
        worked, counts) is kept in local variables and written back to the cadre's row
        at the end.

        The outcome of an attempt does not change the shift's time (a failed need waits
        for another turn), so a round of many cadres can leave the attempts to
        :func:`saca.agents.round.attempt`, which decides them all together with the same
        draws in the same order: the walk then draws nothing.

        Args:
            finished: where to add the needs whose hours are done, to be attempted later;
                None to attempt each at once.
        """
        if not self.queue:  # nothing held: the common case, kept cheap
            self.queue_changed = False
            return
        self.order_queue()
        m = self.model
        st, i = m.cadre_state, self.idx
        left = st.hours_left.item(i)
        if not self.queue or left <= 0:
            return
        nds, b, rng = m.needs, m.behaviour, m.rng
        status, t_ready, hours, comm_of = nds.status, nds.t_ready, nds.hours, nds.comm
        unverified, level, hh_of = nds.unverified, nds.level, nds.hh
        by_comm = m.hours_by_community
        reach = st.reach.item(i)
        clock = st.clock.item(i)
        worked, perf = st.hours_worked.item(i), st.perfunctory_hours.item(i)
        # Whether each running total is a numpy scalar in a one-by-one run (CadreState).
        np_left, np_clock = st.np_left.item(i), st.np_clock.item(i)
        np_worked, np_perf = st.np_worked.item(i), st.np_perf.item(i)
        attempts, resolved = st.attempts_today.item(i), st.resolved_today.item(i)
        effort = st.effort.item(i)
        perfunctory = effort < b.shirk_threshold
        traits = (  # what _success reads of the cadre, when the walk attempts itself
            ()
            if finished is not None
            else (
                st.experience.item(i),
                max(st.resources.item(i), m.community_resources[st.community.item(i)]),
                st.knowledge.item(i),
                effort,
                perfunctory,
            )
        )
        p_paper = (1 - m.regime.goals) * b.paper_closure

        def spend(want: float, comm: int) -> float:
            nonlocal left, clock, worked, perf, np_left, np_clock, np_worked, np_perf
            short = left < want
            h = left if short else want
            if h <= 0:
                return 0.0
            left -= h
            clock += h
            worked += h
            h_np = short and np_left
            if h_np:
                np_clock = np_worked = True
            if perfunctory:
                perf += h
                np_perf = np_perf or h_np
            by_comm[comm] += h
            return h

        def work_on(nid: int) -> bool:
            """Spend hours on one need; return True when it leaves the queue."""
            nonlocal attempts, resolved
            comm = comm_of.item(nid)
            if unverified[nid]:
                spend(b.verify_hours, comm)
                if left <= 0:
                    return False
                unverified[nid] = False
            if level.item(nid) > reach:
                spend(b.diagnosis_hours, comm)
                st.clock[i] = clock  # the need sets off at the cadre's clock
                m.escalate(nid, self)
                return True
            rest = hours.item(nid)
            rest -= spend(rest, comm)
            hours[nid] = rest
            if not rest <= 1e-9:
                return False
            attempts += 1
            if finished is not None:
                finished.add(nid, i, clock)  # leaves the queue when attempt() decides so
                return False
            if rng.random() < self._success(nid, clock, *traits):
                resolved += 1
                st.clock[i] = clock
                m.settle(nid, self, late=clock > nds.t_deadline.item(nid))
                return True
            m.households.contact(hh_of.item(nid), i, FAIL)
            # No draw when nothing can happen: regimes with resident goals keep their
            # random streams.
            if p_paper > 0 and rng.random() < p_paper:
                m.close_on_paper(nid)
                return True
            hours[nid] = b.rework_share * nds.hours_total.item(nid)
            return False

        done: list[int] = []
        later: list[int] = []
        shift_end = clock + left
        is_open, ready = nd.OPEN, t_ready.item
        for nid in self.queue:
            if left <= 0:
                break
            if status.item(nid) != is_open:
                done.append(nid)
            elif ready(nid) > clock:
                if ready(nid) < shift_end:
                    later.append(nid)
            elif work_on(nid):
                done.append(nid)
        later.sort(key=ready)
        for nid in later:
            if left <= 0:
                break
            if status.item(nid) != is_open:
                continue
            t = ready(nid)
            if t > clock:  # idle until it arrives: the time is lost, not worked
                gap = left - (t - clock)
                np_left = gap > 0.0 and (np_left or np_clock)
                left = gap if gap > 0.0 else 0.0
                clock, np_clock = t, False
            if work_on(nid):
                done.append(nid)
        st.hours_left[i], st.clock[i] = left, clock
        st.hours_worked[i], st.perfunctory_hours[i] = worked, perf
        st.np_left[i], st.np_clock[i] = np_left, np_clock
        st.np_worked[i], st.np_perf[i] = np_worked, np_perf
        st.attempts_today[i], st.resolved_today[i] = attempts, resolved
        if done:
            gone = set(done)
            self.queue = [n for n in self.queue if n not in gone]

    def success_probability(self, nid: int) -> float:
        """Chance that finished work resolves the need now (see :meth:`_success`).

        Args:
            nid: the need.
        """
        res = max(self.resources, self.model.community_resources[self.community])
        eff = self.effort
        perfunctory = eff < self.model.behaviour.shirk_threshold
        return self._success(
            nid, self.clock, self.experience, res, self.knowledge, eff, perfunctory
        )

    def _success(
        self,
        nid: int,
        clock: float,
        experience: float,
        res: float,
        knowledge: float,
        effort: float,
        perfunctory: bool,
    ) -> float:
        """Chance that finished work resolves the need (seed 000, 002, 004); for many
        needs at once, :func:`saca.agents.round.success_chances` gives the same numbers.

        q = w_s skill + w_e experience + w_f familiarity + w_r resources
            + w_i · fidelity · local knowledge            (clipped to [0, 1])
        p = p₀ + (1 − p₀) √q (1 − w_E + w_E effort), times ρ when perfunctory.

        Args:
            nid: the need.
            clock: the hour of the attempt.
            experience: the cadre's experience.
            res: the resources it can draw on (its own or its community's, the larger).
            knowledge: its local knowledge.
            effort: today's effort.
            perfunctory: whether today's effort is below the shirking threshold.
        """
        m = self.model
        nds, b = m.needs, m.behaviour
        fam = m.ties.familiarity_of(nds.hh.item(nid), self.idx)
        q = (
            b.skill_weight * self.skills.item(nds.ntype.item(nid))
            + b.experience_weight * experience
            + b.familiarity_weight * fam
            + b.resources_weight * res
            + b.information_weight * m.fidelity(nid, clock) * knowledge
        )
        q = min(1.0, max(0.0, q))
        p = b.success_floor + (1 - b.success_floor) * math.sqrt(q) * (
            1 - b.effort_weight + b.effort_weight * effort
        )
        return p * b.perfunctory_success if perfunctory else p

    # ----- events the model reports to the cadre --------------------------------------
    def received(self, *, chosen: bool) -> None:
        """Count a task the cadre chose (claimed, or was consulted about) or was given.

        Args:
            chosen: whether the cadre had a say.
        """
        if chosen:
            self.chosen_today += 1
        else:
            self.imposed_today += 1

    def sanction(self) -> None:
        """Inspection caught perfunctory work or absence (see :func:`sanction`)."""
        sanction(self.model, np.array([self.idx]))

    def learn(self) -> None:
        """A meeting or a consultation told the cadre what insiders know (seed 000)."""
        b = self.model.behaviour
        self.knowledge += b.knowledge_gain * (1 - self.knowledge)

    # ----- strain and motivation ----------------------------------------------------
    def support(self) -> float:
        """Support buffering strain (see :func:`supports`)."""
        return float(supports(self.model, np.array([self.idx]))[0])

    def end_day(self) -> None:
        """Strain and motivation from the day's events (see :func:`end_days`)."""
        end_days(self.model, np.array([self.idx]))
