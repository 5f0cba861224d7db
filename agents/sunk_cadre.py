"""Sunk cadres (下沉干部): officials sent from agencies into a community.

Seeds: 001 (off-post dispatch, mandated door-knocking, inexperience), 002 (in-service
members: after hours, claim tasks, participation under evaluation), 004 (grid
instructors who cross levels; adverse selection by sending units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from saca.agents.cadre import Cadre
from saca.agents.cadre_state import ACCOUNTABILITY, ASSESSMENT_HOURS, RECOGNITION, _Field

if TYPE_CHECKING:
    from saca.model.model import CollaborationModel

# The evaluation tables live with the cadres' daily submodels (agents.cadre_state), which run
# every cadre's day at once; they are named here too, where they belong.
__all__ = ["ACCOUNTABILITY", "ASSESSMENT_HOURS", "RECOGNITION", "SunkCadre"]


class SunkCadre(Cadre):
    """An official sunk into a community, off-post (full-time) or in-service (after hours).

    Off-post cadres keep office hours and carry what community cadres offload; in-service
    members serve after work, choose day by day whether to serve, and their willingness
    follows accountability and recognition; off-post terms end in rotation (these run for
    all cadres at once in agents.cadre: availability, overheads, end_days).

    Args:
        model: the model.
        mode: ``off_post`` or ``in_service``.
        unit: the sending unit (an Organization) the cadre comes from.
        instructor: whether the cadre is a grid instructor (seed 004).
        **kwargs: the Cadre arguments.
    """

    is_sunk = True

    willingness = _Field(float)
    called_out = _Field(bool)
    start_day = _Field(int)

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

    def work(self) -> None:
        """Mandated visits first (formalism, seed 001), then the queue (the readable
        reference of what the work round runs compiled, saca.agents.shifts)."""
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
