"""Sunk cadres (下沉干部): officials sent from agencies into a community.

Seeds: 001 (off-post dispatch, mandated door-knocking, inexperience), 002 (in-service
members: after hours, claim tasks, participation under evaluation), 004 (grid
instructors who cross levels; adverse selection by sending units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.cadre import Cadre

if TYPE_CHECKING:
    from model.model import CollaborationModel

# How each evaluation of in-service members works (seed 002): the chance a day's absence
# or service is noticed by it (accountability), the hours of assessment it takes, and the
# chance a day's service is recognised by it. Ordered from none to multi-headed assessment,
# whose burden the members fear. An input table, documented in docs/ODD.md §6.
ACCOUNTABILITY = {"none": 0.0, "points": 0.6, "satisfaction": 0.7, "multi": 0.9}
ASSESSMENT_HOURS = {"none": 0.0, "points": 0.1, "satisfaction": 0.05, "multi": 0.4}
RECOGNITION = {"none": 0.0, "points": 0.3, "satisfaction": 0.4, "multi": 0.4}


class SunkCadre(Cadre):
    """An official sunk into a community, off-post (full-time) or in-service (after hours).

    Args:
        model: the model.
        mode: ``off_post`` or ``in_service``.
        unit: the sending unit (an Organization) the cadre comes from.
        instructor: whether the cadre is a grid instructor (seed 004).
        **kwargs: the Cadre arguments.
    """

    is_sunk = True

    def __init__(
        self, model: CollaborationModel, *, mode: str, unit, instructor: bool = False, **kwargs
    ) -> None:
        super().__init__(model, **kwargs)
        self.mode = mode
        self.unit = unit
        self.instructor = instructor
        self.full_time = mode == "off_post"
        self.willingness = model.behaviour.initial_willingness
        self.called_out = False
        self.start_day = 0

    def shift_start(self) -> float:
        """Off-post cadres keep office hours; in-service members serve after work."""
        b = self.model.behaviour
        return b.workday_start if self.full_time else b.after_hours_start

    def is_available(self) -> bool:
        """Off-post cadres work every day; in-service members choose to, day by day (P9),
        unless a surge orders them out (seed 000).

        P(active) = [w + c (1 − w)] (β + (1 − β) motivation) (1 − exhaustion)
        with w willingness and c compliance; a member called out by a surge turns out with
        P = max(P, surge_turnout).
        """
        if self.withdrawn or self.away:
            return False
        if self.full_time:
            return True
        b = self.model.behaviour
        w = self.willingness + self.compliance * (1 - self.willingness)
        p = w * (b.participation_base + (1 - b.participation_base) * self.motivation)
        p *= 1 - self.exhaustion
        if self.called_out:
            p = max(p, b.surge_turnout)
        return bool(self.model.rng.random() < p)

    def overhead_hours(self) -> tuple[float, float]:
        """Formalism includes assessments of in-service members; off-post cadres also carry
        administrative work offloaded by community cadres (seed 001, 002)."""
        formal, other = super().overhead_hours()
        if not self.full_time:
            formal += ASSESSMENT_HOURS[self.model.regime.evaluation]
        else:
            other += float(self.model.offloaded_admin[self.community])
        return formal, other

    def work(self) -> None:
        """Mandated visits first (formalism, seed 001), then the queue."""
        self.visit_households()
        super().work()

    def visit_households(self) -> None:
        """Knock on doors as mandated: visits cost hours before any need is worked (P5)."""
        m = self.model
        rate = m.regime.mandated_visits_per_week / 7.0 * (1 - m.relief)
        if rate <= 0 or not self.active:
            return
        self.ordered = True
        for _ in range(int(m.rng.poisson(rate))):
            if self.spend(m.behaviour.visit_hours, formalism=True) <= 0:
                break
            m.households.visit(m.random_household(self.community, self.grid), self)

    def end_day(self) -> None:
        """Strain and motivation; in-service willingness decays without accountability
        (an evaluation, or an inspection that day) and is rebuilt by recognition (P9);
        off-post terms end in rotation (seed 002)."""
        if self.called_out:
            self.ordered = True
            self.called_out = False
        super().end_day()
        m = self.model
        if not self.full_time:
            # An inspection of attendance holds the member to account that day, as an
            # evaluation does every day with its own strength (seed 002).
            acc = 1.0 if self.inspected else ACCOUNTABILITY[m.regime.evaluation]
            d = m.behaviour.participation_decay
            rebuild = m.behaviour.recognition_rebuild * d * self.recognition
            self.willingness += -d * self.willingness * (1 - acc) + rebuild * (1 - self.willingness)
            self.willingness = min(1.0, max(0.0, self.willingness))
        elif m.day - self.start_day >= m.population.off_post_term:
            m.rotate(self)
