"""Community cadres (社区干部): committee members and grid workers, the community's own staff.

Seeds: 001 (underpaid and under-resourced, administrative load from above, offloading onto
sunk cadres), 004 (grid workers posted to grids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from saca.agents.cadre import Cadre

if TYPE_CHECKING:
    from saca.model.model import CollaborationModel


class CommunityCadre(Cadre):
    """A committee member (whole community, community-level reach) or a grid worker.

    Args:
        model: the model.
        role: ``committee`` or ``grid_worker``.
        **kwargs: the Cadre arguments.
    """

    def __init__(self, model: CollaborationModel, *, role: str, **kwargs) -> None:
        super().__init__(model, **kwargs)
        self.role = role
        # Their administrative load from above, less what they offload onto sunk cadres,
        # is among the overheads of their day (agents.cadre.overheads).
