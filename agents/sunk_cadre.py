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

# How strongly each evaluation holds in-service members to account, and its burden (hours).
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
        self.willingness = 0.8
        self.start_day = 0

    def daily_hours(self) -> float:
        """Full day off-post; a few after-hours hours in service."""
        return self.hours

    def is_available(self) -> bool:
        """Off-post cadres work every day; in-service members choose to, day by day (P9).

        P(active) = willingness (0.4 + 0.6 motivation)(1 − exhaustion)
        """
        if self.withdrawn:
            return False
        if self.mode == "off_post":
            return True
        p = self.willingness * (0.4 + 0.6 * self.motivation) * (1 - self.exhaustion)
        return bool(self.model.rng.random() < p)

    def overhead_hours(self) -> tuple[float, float]:
        """Formalism includes mandated visits' paperwork and assessments; off-post cadres
        also carry administrative work offloaded by community cadres (seed 001)."""
        formal, other = super().overhead_hours()
        if self.mode == "in_service":
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
        for _ in range(int(m.rng.poisson(rate))):
            if self.spend(m.behaviour.visit_hours, formalism=True) <= 0:
                break
            m.households.visit(m.random_household(self.community, self.grid), self)

    def information_access(self) -> float:
        """Marginalised sunk cadres are not told what insiders know (seed 000, P3):
        1 − 0.3 (1 − decision)."""
        return 1.0 - 0.3 * (1.0 - self.model.regime.decision)

    def job_control(self) -> float:
        """Marginalised sunk cadres (decision dial at 0) have less control (seed 000)."""
        r = self.model.regime
        return r.autonomy * (0.5 + 0.5 * r.decision)

    def recognition_weight(self) -> float:
        """In-service members are also recognised through their evaluation (seed 002)."""
        w = super().recognition_weight()
        if self.mode == "in_service":
            w = min(1.0, w + RECOGNITION[self.model.regime.evaluation])
        return w

    def end_day(self) -> None:
        """Strain and motivation; in-service willingness decays without accountability
        and is rebuilt by recognition (P9); off-post terms end in rotation (seed 002)."""
        super().end_day()
        m = self.model
        if self.mode == "in_service":
            acc = ACCOUNTABILITY[m.regime.evaluation]
            d = m.behaviour.participation_decay
            self.willingness += -d * self.willingness * (1 - acc) + 2 * d * self.recognition * (
                1 - self.willingness
            )
            self.willingness = min(1.0, max(0.0, self.willingness))
        elif m.day - self.start_day >= m.population.off_post_term:
            m.rotate(self)
