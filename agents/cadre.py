"""What every cadre does in a day: overheads first, then the queue; then strain and motivation.

Seeds: 000 (effort, perfunctory work, anxiety, burnout, crowding out of motivation),
001 (paperwork, formalism), 004 (levels a cadre can solve at).
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
SUCCESS, LATE, FAIL, VISIT_UNWANTED, VISIT_WANTED = range(5)
DIAGNOSIS_HOURS = 0.5
PERFUNCTORY_SUCCESS = 0.25


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
    """

    is_sunk = False

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
        self.exhaustion = 0.0
        self.recognition = 0.0
        self.success_rate = 0.5
        self.withdrawn = False
        self.active = True
        self.queue: list[int] = []
        self.queue_changed = False
        self.effort = motivation
        self.hours_left = 0.0
        self._reset_day()

    def _reset_day(self) -> None:
        self.hours_worked = 0.0
        self.formalism_hours = 0.0
        self.perfunctory_hours = 0.0
        self.resolved_today = 0
        self.attempts_today = 0

    # ----- the day ------------------------------------------------------------------
    def daily_hours(self) -> float:
        """Hours this cadre can give today if active."""
        return self.hours

    def is_available(self) -> bool:
        """Whether the cadre works today (withdrawn cadres rest until recovered)."""
        return not self.withdrawn

    def overhead_hours(self) -> tuple[float, float]:
        """Hours taken before any need: (formalism, meetings and administration)."""
        m = self.model
        formal = m.paperwork_hours()
        meetings = m.regime.consensus * m.behaviour.meeting_hours + m.regime.decision * (
            m.behaviour.consult_hours
        )
        return formal, meetings

    def begin_day(self) -> None:
        """Decide whether to work, take the overheads, and set today's effort."""
        self._reset_day()
        self.active = self.is_available()
        self.hours_left = self.daily_hours() if self.active else 0.0
        if not self.active:
            return
        formal, other = self.overhead_hours()
        self.spend(formal, formalism=True)
        self.spend(other)
        self.effort = self.compute_effort()

    def compute_effort(self) -> float:
        """Effort in [0, 1] (seed 000): intrinsic motivation plus the compliance that
        pressure extracts from the less motivated, eroded by exhaustion and anxiety.

        effort = [m + 0.4 p (1 − m)] (1 − x) (1 − 0.6 a) (0.8 + 0.2 g)
        with m motivation, p pressure, x exhaustion, a anxiety, g goal alignment.
        Pressure pays off at once through compliance but costs later: it raises anxiety,
        crowds out motivation (end_day) and adds formalism hours (overload, exhaustion).
        """
        m = self.model
        p = m.pressure
        mot = self.motivation
        return (
            (mot + 0.4 * p * (1 - mot))
            * (1 - self.exhaustion)
            * (1 - 0.6 * self.anxiety())
            * (0.8 + 0.2 * m.alignment)
        )

    def anxiety(self) -> float:
        """Anxiety from real risk, amplified by pressure, eased by experience (seed 000)."""
        m = self.model
        return m.risk * (0.5 + 0.5 * m.pressure) * (1 - 0.5 * self.experience)

    @property
    def perfunctory(self) -> bool:
        """True when effort is below the shirking threshold (hours logged, little done)."""
        return self.effort < self.model.behaviour.shirk_threshold

    def spend(self, hours: float, *, formalism: bool = False, community: int = -1) -> float:
        """Spend up to ``hours`` of today's time and log them; return what was spent.

        Args:
            hours: hours wanted.
            formalism: whether they go to mandates or inspection paperwork.
            community: community the hours serve, for coverage, or -1.
        """
        h = min(hours, self.hours_left)
        if h <= 0:
            return 0.0
        self.hours_left -= h
        self.hours_worked += h
        if formalism:
            self.formalism_hours += h
        elif community >= 0 and self.perfunctory:
            self.perfunctory_hours += h
        if community >= 0:
            self.model.hours_by_community[community] += h
        return h

    def backlog(self) -> float:
        """Hours of work waiting in the queue (the model's count, see refresh_backlog)."""
        return float(self.model.backlog[self.idx])

    def order_queue(self) -> None:
        """When new needs came in, drop needs no longer held (settled, dropped, passed on)
        and order the rest: earliest deadline first under resident goals, easiest first
        under checklist goals (goal displacement, seed 000)."""
        if not self.queue_changed:
            return
        self.queue_changed = False
        nds = self.model.needs
        g, day = self.model.regime.goals, self.model.day
        if len(self.queue) <= 16:  # plain Python beats numpy's per-call cost on short queues
            status, holder, deadline, hours = nds.status, nds.holder, nds.deadline, nds.hours
            held = [n for n in self.queue if status[n] == nd.OPEN and holder[n] == self.idx]
            held.sort(key=lambda n: g * deadline[n] + (1 - g) * (day + 4 * hours[n]))
            self.queue = held
            return
        q = np.asarray(self.queue, dtype=np.int64)
        q = q[(nds.status[q] == nd.OPEN) & (nds.holder[q] == self.idx)]
        key = g * nds.deadline[q] + (1 - g) * (day + 4 * nds.hours[q])
        self.queue = q[np.argsort(key, kind="stable")].tolist()

    def work(self) -> None:
        """Work through the queue with the hours left; needs still in transit wait."""
        self.order_queue()
        nds = self.model.needs
        done: list[int] = []
        for nid in self.queue:
            if self.hours_left <= 0:
                break
            if nds.status[nid] != nd.OPEN:
                done.append(nid)
                continue
            if nds.ready[nid] > self.model.day:  # still on its way (pooled from afar)
                continue
            if nds.level[nid] > self.reach:
                self.spend(DIAGNOSIS_HOURS, community=int(nds.comm[nid]))
                self.model.escalate(nid, self)
                done.append(nid)
                continue
            nds.hours[nid] -= self.spend(float(nds.hours[nid]), community=int(nds.comm[nid]))
            if nds.hours[nid] <= 1e-9 and self._finished(nid):
                done.append(nid)
        if done:
            gone = set(done)
            self.queue = [n for n in self.queue if n not in gone]

    def _finished(self, nid: int) -> bool:
        """Attempt a need whose hours are spent; return True when it leaves the queue."""
        m = self.model
        nds = m.needs
        self.attempts_today += 1
        h = int(nds.hh[nid])
        success = m.rng.random() < self.success_probability(nid)
        if success:
            self.resolved_today += 1
            late = m.day > nds.deadline[nid]
            m.settle(nid, self, late=late)
            return True
        nds.hours[nid] = 0.5 * nds.hours_total[nid]
        m.households.contact(h, self.idx, FAIL)
        return False

    def success_probability(self, nid: int) -> float:
        """Chance that finished work resolves the need (seed 000, 002, 004).

        q = 0.30 skill + 0.15 experience + 0.15 familiarity + 0.10 resources
            + 0.30 information fidelity
        p = 0.3 + 0.7 sqrt(q) (0.5 + 0.5 effort), times 0.25 when perfunctory.
        """
        m = self.model
        nds = m.needs
        fam = m.ties.familiarity_of(int(nds.hh[nid]), self.idx)
        res = max(self.resources, m.community_resources[self.community])
        q = (
            0.30 * self.skills[nds.ntype[nid]]
            + 0.15 * self.experience
            + 0.15 * fam
            + 0.10 * res
            + 0.30 * m.fidelity(nid) * self.information_access()
        )
        p = 0.3 + 0.7 * math.sqrt(q) * (0.5 + 0.5 * self.effort)
        return p * PERFUNCTORY_SUCCESS if self.perfunctory else p

    def information_access(self) -> float:
        """Share of the need's information that reaches this cadre (1 for insiders)."""
        return 1.0

    # ----- strain and motivation ----------------------------------------------------
    def job_control(self) -> float:
        """Control over one's own work (job demand–control model): the regime's autonomy."""
        return self.model.regime.autonomy

    def support(self) -> float:
        """Support buffering strain: trust of fellow cadres, resources, recognition."""
        return (
            0.5 * self.model.cadre_trust_of(self.idx)
            + 0.25 * self.resources
            + 0.25 * self.recognition
        )

    def end_day(self) -> None:
        """Update exhaustion, motivation, recognition and withdrawal (seed 000).

        load L = (hours worked + 0.5 min(backlog, 2 capacity)) / capacity
        dx = r_x (L − 1)+ (2 − control)(1 + risk)(1 − 0.5 support) + 0.1 r_x (anxiety + pressure)
             − r_r (1 − L)+ (0.5 + 0.5 support)
        """
        m, b = self.model, self.model.behaviour
        cap = self.daily_hours()
        if self.active and cap > 0:
            load = (self.hours_worked + 0.5 * min(self.backlog(), 2 * cap)) / cap
            sup = self.support()
            dx = (
                b.exhaustion_rate
                * max(0.0, load - 1)
                * (2 - self.job_control())
                * (1 + m.risk)
                * (1 - 0.5 * sup)
                + 0.1 * b.exhaustion_rate * (self.anxiety() + m.pressure)
                - b.recovery_rate * max(0.0, 1 - load) * (0.5 + 0.5 * sup)
            )
        else:
            dx = -b.recovery_rate
        self.exhaustion = min(1.0, max(0.0, self.exhaustion + dx))
        if self.exhaustion > b.withdraw_threshold:
            self.withdrawn = True
        elif self.withdrawn and self.exhaustion < b.burnout_threshold:
            self.withdrawn = False
        if self.attempts_today:
            rate = self.resolved_today / self.attempts_today
            self.success_rate += 0.1 * (rate - self.success_rate)
        self.recognition = self.recognition_weight() * self.success_rate
        target = (
            self.baseline_motivation
            + 0.25 * (self.job_control() - 0.5)
            + 0.2 * self.recognition
            - 0.3 * m.pressure * m.unreasonable
            - 0.3 * self.exhaustion
        )
        step = b.motivation_rate * (target - self.motivation)
        self.motivation = min(1.0, max(0.0, self.motivation + step))

    def recognition_weight(self) -> float:
        """How much good work is recognised: outcome evaluation and respect in decisions."""
        r = self.model.regime
        return 0.6 * r.control + 0.4 * r.decision
