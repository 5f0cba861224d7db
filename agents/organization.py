"""Organisations: sending units, street offices, the city platform, the task force, social
organisations and property firms.

Seeds: 001 (sending units bring resources; the task force corrects), 003 (social
organisations mediate), 004 (street offices and the city platform receive escalations
with limited capacity; adverse selection by sending units).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from saca.agents import needs as nd

if TYPE_CHECKING:
    from saca.model.model import CollaborationModel


class Organization(mesa.Agent):
    """Base of every organisation.

    Args:
        model: the model.
        kind: ``sending_unit``, ``street_office``, ``city_platform``, ``task_force``,
            ``social_org`` or ``property_firm``.
    """

    def __init__(self, model: CollaborationModel, kind: str) -> None:
        super().__init__(model)
        self.kind = kind

    def step(self) -> None:
        """Act for one day (nothing by default)."""


class SendingUnit(Organization):
    """An agency that sends cadres and brings resources (seed 001, 004).

    Args:
        model: the model.
        street: the street office the unit works with.
        community: the community where the unit sits (workplace assignment, seed 002).
        quality: mean quality of the unit's staff, [0, 1].
        resources: resources the unit brings, [0, 1].
    """

    def __init__(
        self,
        model: CollaborationModel,
        *,
        street: int,
        community: int,
        quality: float,
        resources: float,
    ) -> None:
        super().__init__(model, "sending_unit")
        self.street = street
        self.community = community
        self.quality = quality
        self.resources = resources

    def select_quality(self) -> float:
        """Quality of the next cadre sent: the better of two staff under merit selection,
        the weaker of two when units keep their best (adverse selection, P16)."""
        rng = self.model.rng
        draws = np.clip(rng.normal(self.quality, 0.15, 2), 0.02, 0.98)
        return float(draws.max() if self.model.regime.selection == "merit" else draws.min())


class StreetOffice(Organization):
    """A street office: the command above communities and the first escalation level.

    Each day it settles up to its capacity of waiting needs, oldest first, each
    ``behaviour.office_handle_hours`` after it arrives (or after the office opens). Needs
    that came up without being filtered (no event filter, seed 003) are triaged and sent
    back down ("case backflow", seed 004); needs beyond its powers go on to the city
    platform. Its capacity belongs to the street, so the load on it grows with the number
    of communities it covers (seed 004).

    Args:
        model: the model.
        street: its street index.
        capacity: needs it can handle per day.
    """

    where = nd.AT_STREET
    level = 2

    def __init__(self, model: CollaborationModel, *, street: int, capacity: float) -> None:
        super().__init__(model, "street_office")
        self.street = street
        self.capacity = capacity
        self._credit = 0.0
        self.handled_today = 0

    def queue(self) -> np.ndarray:
        """Needs waiting here today, oldest first."""
        return self.model.waiting_by_street().get(self.street, np.empty(0, np.int64))

    def step(self, queue: np.ndarray | None = None) -> None:
        """Handle up to capacity waiting needs.

        Args:
            queue: the needs waiting here now, oldest first, if already known (the model
                finds every office's at once); None to look.
        """
        self._credit = min(self._credit + self.capacity, max(self.capacity, 1.0))
        ids = self.queue() if queue is None else queue
        n = min(len(ids), int(self._credit))
        self._credit -= n
        self.handled_today = n
        if n == 0:
            return
        self.handle(ids[:n])

    def handle(self, ids: np.ndarray) -> None:
        """Triage, pass up or settle needs.

        Args:
            ids: the needs handled today, in ascending id order (oldest first).
        """
        m = self.model
        nds, b = m.needs, m.behaviour
        done_at = np.maximum(nds.t_ready[ids], m.day_open) + b.office_handle_hours
        nds.t_ready[ids] = done_at
        level = nds.level[ids]
        is_down = (level <= 1) & ~nds.triaged[ids]
        is_up = level > self.level
        down = ids[is_down]
        nds.triaged[down] = True
        m.send_to_command(down, extra_hops=1)
        m.move(ids[is_up], nd.AT_CITY, hops=1)
        # The queue is oldest first, i.e. in ascending id order, so the rest keep the order
        # (and the draws) of a set difference.
        rest = ids[~(is_down | is_up)]
        won = m.rng.random(len(rest)) < b.settle_probability
        ok = rest[won]
        m.settle_above(ok, nds.t_ready[ok])
        nds.t_ready[rest[~won]] = m.day_end + b.workday_start


class CityPlatform(StreetOffice):
    """The city governance platform: the top of escalation, one pooled queue (seed 004).

    Args:
        model: the model.
        capacity: needs it can handle per day.
    """

    where = nd.AT_CITY
    level = 3

    def __init__(self, model: CollaborationModel, *, capacity: float) -> None:
        super().__init__(model, street=-1, capacity=capacity)
        self.kind = "city_platform"

    def queue(self) -> np.ndarray:
        """Every need waiting at the platform, oldest first."""
        return self.model.needs.waiting(self.where, self.model.day_end)


class TaskForce(Organization):
    """A standing team that collects front-line problems and sends corrective work tips
    (seed 001): it makes the feedback channel work even under checklist control."""

    def __init__(self, model: CollaborationModel) -> None:
        super().__init__(model, "task_force")


class SocialOrg(Organization):
    """A social organisation: volunteers and mediation that raise self-help for services
    and disputes in its community (seed 003).

    Args:
        model: the model.
        community: the community it works in.
    """

    def __init__(self, model: CollaborationModel, *, community: int) -> None:
        super().__init__(model, "social_org")
        self.community = community


class PropertyFirm(Organization):
    """A property management firm that takes facility needs in new-build communities.

    Args:
        model: the model.
        community: the community it manages.
        capacity: facility needs it settles per day.
    """

    def __init__(self, model: CollaborationModel, *, community: int, capacity: float) -> None:
        super().__init__(model, "property_firm")
        self.community = community
        self.capacity = capacity
        self._credit = 0.0

    def step(self) -> None:
        """Settle waiting facility needs of its community, up to capacity."""
        PropertyFirm.step_all(self.model, [self])

    @staticmethod
    def step_all(model: CollaborationModel, firms: list[PropertyFirm]) -> None:
        """The steps of several firms, one after another, done at once.

        Each firm handles the needs waiting for it today, oldest first, as many as its
        capacity allows, and settles each with ``settle_probability``. A firm touches only
        its own community's needs and households, so handling them all together settles
        the same needs with the same draws (one block, in firm order) as firm after firm.

        Args:
            model: the model.
            firms: the firms, in the order they step.
        """
        m = model
        nds, b = m.needs, m.behaviour
        handled = [np.empty(0, np.int64)]
        for firm in firms:
            ids = m.waiting_at_firm(firm.community)
            firm._credit = min(firm._credit + firm.capacity, max(firm.capacity, 1.0))
            n = min(len(ids), int(firm._credit))
            firm._credit -= n
            handled.append(ids[:n])
        done = np.concatenate(handled)
        nds.t_ready[done] = np.maximum(nds.t_ready[done], m.day_open) + b.office_handle_hours
        won = m.rng.random(len(done)) < b.settle_probability
        ok = done[won]
        m.settle_above(ok, nds.t_ready[ok])
        nds.t_ready[done[~won]] = m.day_end + b.workday_start
