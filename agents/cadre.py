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
methods (``cad.begin_day()``) call them on its row. Working the queue on the clock stays
one cadre at a time (:meth:`Cadre.walk`); ordering the queues and deciding the needs a
round finished run for many cadres at once in :mod:`saca.agents.round`.

Seeds: 000 (effort, perfunctory work, anxiety, burnout, crowding out of motivation),
001 (paperwork, formalism, inspection), 002 (claiming, recognition), 004 (levels a cadre
can solve at).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from saca.agents import needs as nd

if TYPE_CHECKING:
    from saca.agents.round import Finished
    from saca.model.model import CollaborationModel

# Outcomes of a contact between a cadre and a household (see Households.apply_contacts).
SUCCESS, LATE, FAIL, VISIT_UNWANTED, VISIT_WANTED, CONSULTED = range(6)

# How each evaluation of in-service members works (seed 002): the chance a day's absence
# or service is noticed by it (accountability), the hours of assessment it takes, and the
# chance a day's service is recognised by it. Ordered from none to multi-headed assessment,
# whose burden the members fear. An input table, documented in docs/ODD.md §6.
ACCOUNTABILITY = {"none": 0.0, "points": 0.6, "satisfaction": 0.7, "multi": 0.9}
ASSESSMENT_HOURS = {"none": 0.0, "points": 0.1, "satisfaction": 0.05, "multi": 0.4}
RECOGNITION = {"none": 0.0, "points": 0.3, "satisfaction": 0.4, "multi": 0.4}


class CadreState:
    """The state of every cadre as a struct of numpy arrays, one row per cadre.

    What every cadre does each day (start the shift, meetings, reading the peer list,
    inspection, strain and motivation) runs on these arrays for all cadres at once; a
    :class:`Cadre` is a Mesa agent whose attributes read and write its own row. Rows are
    added as cadres are built, in growable arrays (like the needs).
    """

    FIELDS: ClassVar[dict[str, type]] = {
        "hours": np.float64,
        "overtime": np.float64,
        "hours_left": np.float64,
        "clock": np.float64,
        "hours_worked": np.float64,
        "formalism_hours": np.float64,
        "perfunctory_hours": np.float64,
        "effort": np.float64,
        "experience": np.float64,
        "motivation": np.float64,
        "baseline_motivation": np.float64,
        "resources": np.float64,
        "knowledge": np.float64,
        "exhaustion": np.float64,
        "recognition": np.float64,
        "compliance": np.float64,
        "felt_pressure": np.float64,
        "job_control": np.float64,
        "alignment": np.float64,
        "willingness": np.float64,
        "resolved_today": np.int64,
        "attempts_today": np.int64,
        "chosen_today": np.int64,
        "imposed_today": np.int64,
        "community": np.int64,
        "grid": np.int64,
        "reach": np.int64,
        "start_day": np.int64,
        "sunk": np.bool_,
        "full_time": np.bool_,
        "withdrawn": np.bool_,
        "active": np.bool_,
        "ordered": np.bool_,
        "called_out": np.bool_,
        "inspected": np.bool_,
        "sanctioned": np.bool_,
        "recognised": np.bool_,
        "met": np.bool_,
        # Recalled to a sending unit (withdrawal experiment; sunk cadres only): away
        # cadres are off duty and their states wait for their return.
        "away": np.bool_,
        # Yesterday's load L of an active cadre (0 when it did not work), observed by
        # metrics.overload_cascades; kept as it was while a cadre is away.
        "load": np.float64,
        # Whether hours_left, clock, hours_worked, formalism_hours and perfunctory_hours
        # hold a numpy scalar (rather than a Python float) in a run that keeps them per
        # cadre: an amount read from an array (a community's admin load, peer reports
        # counted by np.bincount) makes them one. The day's totals are summed as
        # Python's sum() sums such a mix (see CadreState.total), so results stay
        # bit-identical to that implementation for the same seed.
        "np_left": np.bool_,
        "np_clock": np.bool_,
        "np_worked": np.bool_,
        "np_formal": np.bool_,
        "np_perf": np.bool_,
    }
    # The per-day records a new day starts from zero.
    DAILY: ClassVar[tuple[str, ...]] = (
        "hours_worked",
        "formalism_hours",
        "perfunctory_hours",
        "resolved_today",
        "attempts_today",
        "chosen_today",
        "imposed_today",
        "inspected",
        "sanctioned",
        "recognised",
        "met",
        "np_worked",
        "np_formal",
        "np_perf",
    )

    def __init__(self) -> None:
        self.n = 0
        self._cap = 0
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype))

    def add(self) -> int:
        """Append a zeroed row and return its index."""
        if self.n == self._cap:
            cap = max(64, 2 * self._cap)
            for name, dtype in self.FIELDS.items():
                arr = np.zeros(cap, dtype)
                arr[: self.n] = getattr(self, name)[: self.n]
                setattr(self, name, arr)
            self._cap = cap
        self.n += 1
        return self.n - 1

    def all(self) -> np.ndarray:
        """Indices of every cadre."""
        return np.arange(self.n)

    def total(self, field: str) -> float:
        """The sum of a field over every cadre in cadre order, as Python's built-in
        ``sum`` adds the per-cadre values (compensated while they are Python floats,
        plainly from the first numpy scalar on), with that result's type.

        Args:
            field: ``hours_worked``, ``formalism_hours`` or ``perfunctory_hours``.
        """
        flag = {"hours_worked": "np_worked", "formalism_hours": "np_formal"}.get(field, "np_perf")
        values = getattr(self, field)[: self.n]
        first = int(np.argmax(getattr(self, flag)[: self.n])) if self.n else 0
        if self.n == 0 or not getattr(self, flag)[first]:
            return sum(values.tolist())
        head = sum(values[:first].tolist())
        return np.add.accumulate(np.concatenate([[head], values[first:]]))[-1]


class _Field:
    """A cadre attribute stored in its row of the model's :class:`CadreState`.

    Args:
        kind: the Python type a read returns (float, int or bool).
    """

    __slots__ = ("kind", "name")

    def __init__(self, kind: type) -> None:
        self.kind = kind
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return self.kind(getattr(obj.model.cadre_state, self.name)[obj.idx])

    def __set__(self, obj, value) -> None:
        getattr(obj.model.cadre_state, self.name)[obj.idx] = value


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
        self.queue: list[int] = []
        self.queue_changed = False
        self.effort = motivation
        self.hours_left = 0.0
        self.clock = 0.0
        self.overtime = 0.0
        self.ordered = False
        self._reset_day()

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

        This is the one per-need loop of the day, on a clock, so it runs in Python: the
        shift's running state (hours left, clock, hours worked, counts) is kept in local
        variables and written back to the cadre's row at the end.

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


# ===== every cadre at once ===========================================================
# The day's per-cadre submodels, run on the rows ``idx`` of the model's CadreState. The
# model runs them for all cadres together; a Cadre's methods run them for its own row.
# Each expression keeps the order of operations of its one-cadre form, so a vectorised
# day gives exactly the numbers a loop over cadres gives.
def reset_days(m: CollaborationModel, idx: np.ndarray) -> None:
    """Start today's records (hours, counts, events) of cadres ``idx`` from zero.

    Args:
        m: the model.
        idx: cadre indices.
    """
    st = m.cadre_state
    for name in CadreState.DAILY:
        getattr(st, name)[idx] = 0


def availability(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Who of cadres ``idx`` works today (P9, seed 000, 002).

    Withdrawn cadres rest until recovered, and cadres recalled to their unit (away) are
    off duty; other full-time cadres work every day;
    in-service members choose to, day by day, unless a surge orders them out:
    P(active) = [w + c (1 − w)] (β + (1 − β) motivation) (1 − exhaustion), with w
    willingness and c compliance; a member called out by a surge turns out with
    P = max(P, surge_turnout). One draw per in-service member asked, in cadre order.

    Args:
        m: the model.
        idx: cadre indices, ascending.
    """
    st, b = m.cadre_state, m.behaviour
    active = ~st.withdrawn[idx] & ~st.away[idx]
    choose = active & ~st.full_time[idx]
    ask = idx[choose]
    if len(ask):
        will, comp = st.willingness[ask], st.compliance[ask]
        w = will + comp * (1 - will)
        p = w * (b.participation_base + (1 - b.participation_base) * st.motivation[ask])
        p *= 1 - st.exhaustion[ask]
        p = np.where(st.called_out[ask], np.maximum(p, b.surge_turnout), p)
        active[choose] = m.rng.random(len(ask)) < p
    return active


def overheads(m: CollaborationModel, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hours cadres ``idx`` spend before any need: (formalism, other overheads).

    Formalism is what is counted rather than what serves a need: the paperwork that
    checklist inspection demands of full-time staff, the defensive records a compliant
    cadre chooses to keep when it feels watched and records are what is counted
    (checklist goals), data entry when every event goes up the digital system (seed
    001, 003), and the assessments of in-service members (seed 002). Other overheads:
    community cadres' administrative load from above, less what they offload; off-post
    cadres carry what is offloaded onto them (seed 001).

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b, r = m.cadre_state, m.behaviour, m.regime
    counted = 1 - r.goals
    formal = b.cover_hours * st.compliance[idx] * st.felt_pressure[idx] * counted
    if not r.event_filter:
        formal += b.data_entry_hours
    ft, sunk, comm = st.full_time[idx], st.sunk[idx], st.community[idx]
    formal = np.where(ft, formal + m.paperwork_hours(), formal)
    formal = np.where(sunk & ~ft, formal + ASSESSMENT_HOURS[r.evaluation], formal)
    admin = m.population.admin_hours * (1 - m.offload_share[comm])
    other = np.where(sunk, np.where(ft, m.offloaded_admin[comm], 0.0), admin)
    return formal, other


def spend_many(
    m: CollaborationModel,
    idx: np.ndarray,
    hours: np.ndarray | float,
    *,
    formalism: bool = False,
    hours_np: np.ndarray | bool = False,
) -> None:
    """Cadres ``idx`` (distinct) each spend up to ``hours`` of today's time on
    something that serves no community's coverage (as :meth:`Cadre.spend` with no
    community).

    Args:
        m: the model.
        idx: cadre indices, each at most once.
        hours: hours wanted, one per cadre or one for all.
        formalism: whether they go to mandates, paperwork or records (counted work).
        hours_np: whether each amount is a numpy scalar in a one-by-one run (see
            CadreState.FIELDS).
    """
    st = m.cadre_state
    left = st.hours_left[idx]
    short = left < hours
    h = np.where(short, left, hours)
    h_np = np.where(short, st.np_left[idx], hours_np)
    pos = h > 0
    i, h, h_np = idx[pos], h[pos], h_np[pos]
    st.hours_left[i] -= h
    st.clock[i] += h
    st.hours_worked[i] += h
    st.np_left[i] |= h_np
    st.np_clock[i] |= h_np
    st.np_worked[i] |= h_np
    if formalism:
        st.formalism_hours[i] += h
        st.np_formal[i] |= h_np


def begin_days(m: CollaborationModel, idx: np.ndarray) -> None:
    """Cadres ``idx`` decide whether to work, start the clock (office hours, or after
    work for in-service members), take the overheads and set today's effort.

    Args:
        m: the model.
        idx: cadre indices, ascending.
    """
    st, b = m.cadre_state, m.behaviour
    reset_days(m, idx)
    active = availability(m, idx)
    st.active[idx] = active
    day0 = m.day * nd.HOURS_PER_DAY
    st.clock[idx] = day0 + np.where(st.full_time[idx], b.workday_start, b.after_hours_start)
    st.hours_left[idx] = np.where(active, st.hours[idx] + st.overtime[idx], 0.0)
    st.np_left[idx] = st.np_clock[idx] = False
    on = idx[active]
    if len(on) == 0:
        return
    formal, other = overheads(m, on)
    # Paperwork is a numpy scalar once correction's relief is one; a community's admin
    # load is read from an array (see CadreState.FIELDS).
    paper_np = st.full_time[on] & isinstance(m.relief, np.generic)
    spend_many(m, on, formal, formalism=True, hours_np=paper_np)
    spend_many(m, on, other, hours_np=~st.sunk[on])
    st.effort[on] = efforts(m, on)


def anxieties(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Anxiety of cadres ``idx`` from real risk, amplified by felt pressure, eased by
    experience (seed 000).

    a = risk · (1 − w_p + w_p · felt pressure) · (1 − e_x · experience)

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b = m.cadre_state, m.behaviour
    w = b.anxiety_pressure
    return (
        m.risk * (1 - w + w * st.felt_pressure[idx]) * (1 - b.experience_calm * st.experience[idx])
    )


def efforts(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Effort in [0, 1] of cadres ``idx`` (seed 000): intrinsic motivation plus the
    compliance that sanctions extract from the less motivated, eroded by exhaustion,
    anxiety and goals the cadre does not share.

    effort = [m + c (1 − m)] (1 − x) (1 − e_a a) (1 − e_g (1 − A))
    with m motivation, c compliance, x exhaustion, a anxiety, A goal alignment.

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b = m.cadre_state, m.behaviour
    mot = st.motivation[idx]
    return (
        (mot + st.compliance[idx] * (1 - mot))
        * (1 - st.exhaustion[idx])
        * (1 - b.anxiety_effect * anxieties(m, idx))
        * (1 - b.misalignment_effort * (1 - st.alignment[idx]))
    )


def sanction(m: CollaborationModel, idx: np.ndarray) -> None:
    """Inspection caught cadres ``idx`` in perfunctory work or absence (seed 000, 001):
    fear buys compliance at once, and costs strain and intrinsic motivation.

    Args:
        m: the model.
        idx: cadre indices, each at most once.
    """
    st, b = m.cadre_state, m.behaviour
    st.sanctioned[idx] = True
    st.compliance[idx] += b.sanction_compliance * (1 - st.compliance[idx])
    st.exhaustion[idx] = np.minimum(1.0, st.exhaustion[idx] + b.sanction_strain)
    st.motivation[idx] = np.maximum(0.0, st.motivation[idx] - b.sanction_motivation)


def supports(m: CollaborationModel, idx: np.ndarray) -> np.ndarray:
    """Support buffering strain for cadres ``idx``: trust of fellow cadres, resources,
    recognition.

    Args:
        m: the model.
        idx: cadre indices.
    """
    st, b = m.cadre_state, m.behaviour
    w_t, w_r = b.support_trust_weight, b.support_resources_weight
    return (
        w_t * m._cadre_trust_mean[idx]
        + w_r * st.resources[idx]
        + max(0.0, 1 - w_t - w_r) * st.recognition[idx]
    )


def end_days(m: CollaborationModel, idx: np.ndarray) -> None:
    """Cadres ``idx`` update felt control and pressure, alignment, compliance,
    recognition, exhaustion, motivation and withdrawal from the day's events (seed 000);
    in-service members' willingness decays without accountability (an evaluation, or an
    inspection that day) and is rebuilt by recognition (P9); off-post terms end in
    rotation (seed 002).

    load L = (hours worked + w_b min(backlog, 2 capacity)) / capacity
    dx = r_x (L − 1)+ (1 + s_c (1 − J)) (1 + s_r risk) (1 − b_s S)
         + s_a r_x (anxiety + felt pressure) − r_r (1 − L)+ (1 − b_s + b_s S)
    with J felt job control and S support.

    Args:
        m: the model.
        idx: cadre indices, ascending.
    """
    st, b = m.cadre_state, m.behaviour
    # A member called out by a surge was ordered out today (seed 000).
    st.ordered[idx] |= st.called_out[idx]
    st.called_out[idx] = False
    chosen = st.chosen_today[idx]
    tasks = chosen + st.imposed_today[idx]
    jc = st.job_control[idx]
    has = tasks > 0
    jc[has] += b.control_rate * (chosen[has] / tasks[has] - jc[has])
    st.job_control[idx] = jc
    pressed = st.inspected[idx] | st.ordered[idx]
    fp = st.felt_pressure[idx]
    fp += b.pressure_rate * (pressed.astype(np.float64) - fp)
    st.felt_pressure[idx] = fp
    active, ft = st.active[idx], st.full_time[idx]
    al = st.alignment[idx]
    st.alignment[idx] = np.where(
        st.met[idx],
        al + b.alignment_gain * (1 - al),
        np.where(active & ft, al - b.alignment_decay * al, al),
    )
    comp = st.compliance[idx]
    st.compliance[idx] = comp - b.compliance_decay * comp
    rec = st.recognition[idx]
    rec -= b.recognition_decay * rec
    rec = np.where(st.recognised[idx], rec + b.recognition_gain * (1 - rec), rec)
    st.recognition[idx] = rec
    cap = st.hours[idx] + st.overtime[idx]
    on = active & (cap > 0)
    dx = np.full(len(idx), -b.recovery_rate)
    st.load[idx[~on]] = 0.0
    if on.any():
        w, c = idx[on], cap[on]
        load = (st.hours_worked[w] + b.backlog_load * np.minimum(m.backlog[w], 2 * c)) / c
        st.load[w] = load  # observed: load > 1 is overload (metrics.overload_cascades)
        sup = supports(m, w)
        dx[on] = (
            b.exhaustion_rate
            * np.maximum(0.0, load - 1)
            * (1 + b.low_control_strain * (1 - st.job_control[w]))
            * (1 + b.risk_strain * m.risk)
            * (1 - b.support_buffer * sup)
            + b.anxiety_strain * b.exhaustion_rate * (anxieties(m, w) + st.felt_pressure[w])
            - b.recovery_rate * np.maximum(0.0, 1 - load) * (1 - b.support_buffer * (1 - sup))
        )
    exh = np.minimum(1.0, np.maximum(0.0, st.exhaustion[idx] + dx))
    st.exhaustion[idx] = exh
    wd = st.withdrawn[idx]
    st.withdrawn[idx] = (exh > b.withdraw_threshold) | (wd & (exh >= b.burnout_threshold))
    hw = st.hours_worked[idx]
    worked = hw != 0
    formal_share = np.zeros(len(idx))
    formal_share[worked] = st.formalism_hours[idx][worked] / hw[worked]
    target = (
        st.baseline_motivation[idx]
        + b.control_motivation * (st.job_control[idx] - 0.5)
        + b.recognition_motivation * rec
        - b.crowding_motivation * fp * formal_share
        - b.exhaustion_motivation * exh
    )
    mot = st.motivation[idx]
    step = b.motivation_rate * (target - mot)
    st.motivation[idx] = np.minimum(1.0, np.maximum(0.0, mot + step))
    st.overtime[idx] = 0.0
    st.ordered[idx] = False
    sunk = st.sunk[idx]
    members = idx[sunk & ~ft]
    if len(members):
        # An inspection of attendance holds the member to account that day, as an
        # evaluation does every day with its own strength (seed 002).
        acc = np.where(st.inspected[members], 1.0, ACCOUNTABILITY[m.regime.evaluation])
        d = b.participation_decay
        will = st.willingness[members]
        rebuild = b.recognition_rebuild * d * st.recognition[members]
        will += -d * will * (1 - acc) + rebuild * (1 - will)
        st.willingness[members] = np.minimum(1.0, np.maximum(0.0, will))
    off_post = idx[sunk & ft]
    ended = off_post[m.day - st.start_day[off_post] >= m.population.off_post_term]
    for i in ended.tolist():
        m.rotate(m.cadres[i])
