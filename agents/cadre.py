"""What every cadre does in a day: overheads first, then the queue; then strain and motivation.

A cadre's day runs on a clock in hours: a full-time cadre starts at
``behaviour.workday_start``, an in-service member at ``behaviour.after_hours_start``;
overheads, visits and work move the clock, and a need can only be worked once it has
reached the cadre (its ``t_ready``). Everything a cadre feels (pressure, compliance, job
control, alignment, recognition, exhaustion, motivation) is a state that moves only with
what happened to it: inspections and sanctions, orders, meetings, consultations, the work
it chose or was given, its load and its results. The regime decides which of those events
happen; it never writes a cadre's state.

Seeds: 000 (effort, perfunctory work, anxiety, burnout, crowding out of motivation),
001 (paperwork, formalism, inspection), 002 (claiming, recognition), 004 (levels a cadre
can solve at).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mesa
import numpy as np

from model import needs as nd

if TYPE_CHECKING:
    from model.model import CollaborationModel

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
    full_time = True
    away = False  # recalled to a sending unit (sunk cadres only; see model.set_sunk_presence)

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
        self.idx = len(model.cadres)
        model.cadres.append(self)
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
        self.hours_worked = 0.0
        self.formalism_hours = 0.0
        self.perfunctory_hours = 0.0
        self.resolved_today = 0
        self.attempts_today = 0
        self.chosen_today = 0
        self.imposed_today = 0
        self.inspected = False
        self.sanctioned = False
        self.recognised = False
        self.met = False

    # ----- the day ------------------------------------------------------------------
    def daily_hours(self) -> float:
        """Hours this cadre can give today if active (with any overtime ordered)."""
        return self.hours + self.overtime

    def shift_start(self) -> float:
        """Hour of the day this cadre starts work."""
        return self.model.behaviour.workday_start

    def is_available(self) -> bool:
        """Whether the cadre works today (withdrawn cadres rest until recovered)."""
        return not self.withdrawn

    def overhead_hours(self) -> tuple[float, float]:
        """Hours taken before any need: (formalism, other overheads).

        Formalism is what is counted rather than what serves a need: the paperwork that
        checklist inspection demands of full-time staff, the defensive records a compliant
        cadre chooses to keep when it feels watched and records are what is counted
        (checklist goals), and data entry when every event goes up the digital system
        (seed 001, 003).
        """
        m, b = self.model, self.model.behaviour
        counted = 1 - m.regime.goals
        formal = b.cover_hours * self.compliance * self.felt_pressure * counted
        if not m.regime.event_filter:
            formal += b.data_entry_hours
        if self.full_time:
            formal += m.paperwork_hours()
        return formal, 0.0

    def begin_day(self) -> None:
        """Decide whether to work, start the clock, take the overheads, set today's effort."""
        self._reset_day()
        self.active = self.is_available()
        day0 = self.model.day * nd.HOURS_PER_DAY
        self.clock = day0 + self.shift_start()
        self.hours_left = self.daily_hours() if self.active else 0.0
        if not self.active:
            return
        formal, other = self.overhead_hours()
        self.spend(formal, formalism=True)
        self.spend(other)
        self.effort = self.compute_effort()

    def compute_effort(self) -> float:
        """Effort in [0, 1] (seed 000): intrinsic motivation plus the compliance that
        sanctions extract from the less motivated, eroded by exhaustion, anxiety and
        goals the cadre does not share.

        effort = [m + c (1 − m)] (1 − x) (1 − e_a a) (1 − e_g (1 − A))
        with m motivation, c compliance, x exhaustion, a anxiety, A goal alignment.
        """
        b = self.model.behaviour
        mot = self.motivation
        return (
            (mot + self.compliance * (1 - mot))
            * (1 - self.exhaustion)
            * (1 - b.anxiety_effect * self.anxiety())
            * (1 - b.misalignment_effort * (1 - self.alignment))
        )

    def anxiety(self) -> float:
        """Anxiety from real risk, amplified by felt pressure, eased by experience (seed 000).

        a = risk · (1 − w_p + w_p · felt pressure) · (1 − e_x · experience)
        """
        m, b = self.model, self.model.behaviour
        w = b.anxiety_pressure
        return m.risk * (1 - w + w * self.felt_pressure) * (1 - b.experience_calm * self.experience)

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
        h = min(hours, self.hours_left)
        if h <= 0:
            return 0.0
        self.hours_left -= h
        self.clock += h
        self.hours_worked += h
        if formalism:
            self.formalism_hours += h
        elif community >= 0 and self.perfunctory:
            self.perfunctory_hours += h
        if community >= 0:
            self.model.hours_by_community[community] += h
        return h

    def wait_until(self, t: float) -> None:
        """Idle until hour ``t`` (nothing to work before it): the time is lost, not worked.

        Args:
            t: the hour to wait for.
        """
        if t > self.clock:
            self.hours_left = max(0.0, self.hours_left - (t - self.clock))
            self.clock = t

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
        """Work through the queue with the hours left, in priority order among the needs
        that have reached the cadre; then the needs that arrive later in the shift, as they
        arrive."""
        self.order_queue()
        if not self.queue or self.hours_left <= 0:
            return
        nds = self.model.needs
        done: list[int] = []
        later: list[int] = []
        shift_end = self.clock + self.hours_left
        for nid in self.queue:
            if self.hours_left <= 0:
                break
            if nds.status[nid] != nd.OPEN:
                done.append(nid)
            elif nds.t_ready[nid] > self.clock:
                if nds.t_ready[nid] < shift_end:
                    later.append(nid)
            elif self._work_on(nid):
                done.append(nid)
        later.sort(key=lambda n: nds.t_ready[n])
        for nid in later:
            if self.hours_left <= 0:
                break
            if nds.status[nid] != nd.OPEN:
                continue
            self.wait_until(float(nds.t_ready[nid]))
            if self._work_on(nid):
                done.append(nid)
        if done:
            gone = set(done)
            self.queue = [n for n in self.queue if n not in gone]

    def _work_on(self, nid: int) -> bool:
        """Spend hours on one need; return True when it leaves the cadre's queue."""
        m = self.model
        nds, b = m.needs, m.behaviour
        comm = int(nds.comm[nid])
        if nds.unverified[nid]:
            # An unverified peer report: check it before anything else (seed 000).
            self.spend(b.verify_hours, community=comm)
            if self.hours_left <= 0:
                return False
            nds.unverified[nid] = False
        if nds.level[nid] > self.reach:
            self.spend(b.diagnosis_hours, community=comm)
            m.escalate(nid, self)
            return True
        nds.hours[nid] -= self.spend(float(nds.hours[nid]), community=comm)
        return bool(nds.hours[nid] <= 1e-9 and self._finished(nid))

    def _finished(self, nid: int) -> bool:
        """Attempt a need whose hours are spent; return True when it leaves the queue."""
        m = self.model
        nds = m.needs
        self.attempts_today += 1
        h = int(nds.hh[nid])
        success = m.rng.random() < self.success_probability(nid)
        if success:
            self.resolved_today += 1
            late = self.clock > nds.t_deadline[nid]
            m.settle(nid, self, late=late)
            return True
        m.households.contact(h, self.idx, FAIL)
        if self._closes_on_paper():
            m.close_on_paper(nid)
            return True
        nds.hours[nid] = m.behaviour.rework_share * nds.hours_total[nid]
        return False

    def _closes_on_paper(self) -> bool:
        """Whether the cadre records a failed attempt as done (goal displacement, seed
        001): when checklist goals count closures ("done or not"), a failed need is closed
        on paper with chance p = (1 − goals) · ``paper_closure``. (Perfunctory cadres fail
        more often, so they close more.)"""
        m = self.model
        p = (1 - m.regime.goals) * m.behaviour.paper_closure
        # No draw when nothing can happen: regimes with resident goals keep their streams.
        return p > 0 and m.rng.random() < p

    def success_probability(self, nid: int) -> float:
        """Chance that finished work resolves the need (seed 000, 002, 004).

        q = w_s skill + w_e experience + w_f familiarity + w_r resources
            + w_i · fidelity · local knowledge            (clipped to [0, 1])
        p = p₀ + (1 − p₀) √q (1 − w_E + w_E effort), times ρ when perfunctory.
        """
        m = self.model
        nds, b = m.needs, m.behaviour
        fam = m.ties.familiarity_of(int(nds.hh[nid]), self.idx)
        res = max(self.resources, m.community_resources[self.community])
        q = (
            b.skill_weight * self.skills[nds.ntype[nid]]
            + b.experience_weight * self.experience
            + b.familiarity_weight * fam
            + b.resources_weight * res
            + b.information_weight * m.fidelity(nid, self.clock) * self.knowledge
        )
        q = min(1.0, max(0.0, q))
        p = b.success_floor + (1 - b.success_floor) * math.sqrt(q) * (
            1 - b.effort_weight + b.effort_weight * self.effort
        )
        return p * b.perfunctory_success if self.perfunctory else p

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
        """Inspection caught perfunctory work or absence (seed 000, 001): fear buys
        compliance at once, and costs strain and intrinsic motivation."""
        b = self.model.behaviour
        self.sanctioned = True
        self.compliance += b.sanction_compliance * (1 - self.compliance)
        self.exhaustion = min(1.0, self.exhaustion + b.sanction_strain)
        self.motivation = max(0.0, self.motivation - b.sanction_motivation)

    def learn(self) -> None:
        """A meeting or a consultation told the cadre what insiders know (seed 000)."""
        b = self.model.behaviour
        self.knowledge += b.knowledge_gain * (1 - self.knowledge)

    # ----- strain and motivation ----------------------------------------------------
    def support(self) -> float:
        """Support buffering strain: trust of fellow cadres, resources, recognition."""
        b = self.model.behaviour
        w_t, w_r = b.support_trust_weight, b.support_resources_weight
        return (
            w_t * self.model.cadre_trust_of(self.idx)
            + w_r * self.resources
            + max(0.0, 1 - w_t - w_r) * self.recognition
        )

    def end_day(self) -> None:
        """Update felt control and pressure, alignment, compliance, recognition,
        exhaustion, motivation and withdrawal from the day's events (seed 000).

        load L = (hours worked + w_b min(backlog, 2 capacity)) / capacity
        dx = r_x (L − 1)+ (1 + s_c (1 − J)) (1 + s_r risk) (1 − b_s S)
             + s_a r_x (anxiety + felt pressure) − r_r (1 − L)+ (1 − b_s + b_s S)
        with J felt job control and S support.
        """
        m, b = self.model, self.model.behaviour
        tasks = self.chosen_today + self.imposed_today
        if tasks:
            self.job_control += b.control_rate * (self.chosen_today / tasks - self.job_control)
        pressed = self.inspected or self.ordered
        self.felt_pressure += b.pressure_rate * (float(pressed) - self.felt_pressure)
        if self.met:
            self.alignment += b.alignment_gain * (1 - self.alignment)
        elif self.active and self.full_time:
            self.alignment -= b.alignment_decay * self.alignment
        self.compliance -= b.compliance_decay * self.compliance
        self.recognition -= b.recognition_decay * self.recognition
        if self.recognised:
            self.recognition += b.recognition_gain * (1 - self.recognition)
        cap = self.daily_hours()
        if self.active and cap > 0:
            load = (self.hours_worked + b.backlog_load * min(self.backlog(), 2 * cap)) / cap
            self.load = load  # observed: load > 1 is overload (metrics.overload_cascades)
            sup = self.support()
            dx = (
                b.exhaustion_rate
                * max(0.0, load - 1)
                * (1 + b.low_control_strain * (1 - self.job_control))
                * (1 + b.risk_strain * m.risk)
                * (1 - b.support_buffer * sup)
                + b.anxiety_strain * b.exhaustion_rate * (self.anxiety() + self.felt_pressure)
                - b.recovery_rate * max(0.0, 1 - load) * (1 - b.support_buffer * (1 - sup))
            )
        else:
            self.load = 0.0
            dx = -b.recovery_rate
        self.exhaustion = min(1.0, max(0.0, self.exhaustion + dx))
        if self.exhaustion > b.withdraw_threshold:
            self.withdrawn = True
        elif self.withdrawn and self.exhaustion < b.burnout_threshold:
            self.withdrawn = False
        formal_share = self.formalism_hours / self.hours_worked if self.hours_worked else 0.0
        target = (
            self.baseline_motivation
            + b.control_motivation * (self.job_control - 0.5)
            + b.recognition_motivation * self.recognition
            - b.crowding_motivation * self.felt_pressure * formal_share
            - b.exhaustion_motivation * self.exhaustion
        )
        step = b.motivation_rate * (target - self.motivation)
        self.motivation = min(1.0, max(0.0, self.motivation + step))
        self.overtime = 0.0
        self.ordered = False
