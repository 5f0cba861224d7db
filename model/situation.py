"""The situation (情境): district structure, community conditions and the phase timeline.

Seeds: 000 (ordinary times vs emergency, risk), 003 and 004 (community conditions,
district → street → community → grid → household).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from saca.model.parameters import SacaInputError, param

PHASES = ("normal", "emergency", "recovery")
SUNK_PRESENCE = ("all", "in_service", "none")
"""Which sunk cadres are at their posts in a window: all of them, the in-service members
only (the off-post cadres recalled to their units), or none (every sunk cadre recalled).
The withdrawal experiment (docs/ODD.md §7) recalls them after an emergency and sends
them back later."""


@dataclass(frozen=True)
class Phase:
    """One window of the timeline.

    Args:
        name: ``normal``, ``emergency`` or ``recovery``.
        start: first day of the window.
        end: first day after the window.
        sunk: which sunk cadres are present (one of :data:`SUNK_PRESENCE`); the others
            are recalled to their sending units for the window.
    """

    name: str
    start: int
    end: int
    sunk: str = "all"


def default_timeline() -> tuple[Phase, ...]:
    """Return the default timeline: 180 days of ordinary times."""
    return (Phase("normal", 0, 180),)


@dataclass(frozen=True)
class Situation:
    """The field the actors are in: structure, community conditions, phases and needs."""

    streets: int = param(2, "street offices in the district", "004", lo=1, hi=500)
    communities: int = param(6, "residential communities in the district", "004", lo=1, hi=5000)
    grids: int = param(
        24, "grids (smallest responsibility areas) in the district", "004", lo=1, hi=50000
    )
    households: int = param(2400, "households (one resident agent each)", "004", lo=1, hi=2_000_000)
    community_size_sd: float = param(
        0.3, "log-normal spread of community sizes (grids per community)", "004", lo=0.0, hi=2.0
    )
    capacity_mean: float = param(
        0.5, "mean community self-governance capacity", "003", lo=0.0, hi=1.0
    )
    capacity_sd: float = param(
        0.15, "spread of capacity across communities (heterogeneity)", "003/004", lo=0.0, hi=0.5
    )
    resources_mean: float = param(0.5, "mean community resources", "003", lo=0.0, hi=1.0)
    resources_sd: float = param(
        0.15, "spread of resources across communities", "003", lo=0.0, hi=0.5
    )
    cohesion_mean: float = param(
        0.5,
        "mean community cohesion (density and clustering of resident ties)",
        "003",
        lo=0.0,
        hi=1.0,
    )
    cohesion_sd: float = param(0.15, "spread of cohesion across communities", "003", lo=0.0, hi=0.5)
    share_old_estate: float = param(
        0.4,
        "share of communities that are old estates (more facility needs); only new builds "
        "have a property firm",
        "003",
        lo=0.0,
        hi=1.0,
    )
    share_urban_village: float = param(
        0.2,
        "share of communities that are urban villages (more disputes, lower capacity)",
        "003",
        lo=0.0,
        hi=1.0,
    )
    social_org_share: float = param(
        0.5,
        "share of communities with a social organisation (volunteers, mediation)",
        "003",
        lo=0.0,
        hi=1.0,
    )
    need_rate: float = param(
        0.012, "needs per household per day in ordinary times", "000", lo=0.0, hi=0.5
    )
    emergency_multiplier: float = param(
        3.0, "need rate multiplier during an emergency", "000", lo=1.0, hi=20.0
    )
    recovery_multiplier: float = param(
        1.5, "need rate multiplier during recovery", "000", lo=1.0, hi=20.0
    )
    risk: float = param(
        0.7, "risk level during an emergency (feeds cadre anxiety)", "000", lo=0.0, hi=1.0
    )
    baseline_risk: float = param(
        0.05,
        "risk level in ordinary times (recovery takes the mean of the two)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    volatility: float = param(
        0.05,
        "daily rate at which a waiting need's information goes stale in ordinary times",
        "000",
        lo=0.0,
        hi=1.0,
    )
    volatility_multiplier: float = param(
        3.0,
        "factor on the volatility of information during an emergency",
        "000",
        lo=1.0,
        hi=20.0,
    )
    emergency_deadline_factor: float = param(
        0.5,
        "factor on every need's time to its deadline during an emergency",
        "000",
        lo=0.05,
        hi=1.0,
    )
    emergency_escalation: float = param(
        0.1,
        "chance an emergency need requires one level higher than it would in ordinary times",
        "000/004",
        lo=0.0,
        hi=1.0,
    )
    street_capacity: float = param(
        6.0,
        "escalated needs a street office handles per day (its own staff: the load per "
        "office grows with the communities it covers)",
        "004",
        lo=0.0,
        hi=10000.0,
    )
    city_capacity: float = param(
        3.0,
        "needs the city governance platform handles per day, for the whole district",
        "004",
        lo=0.0,
        hi=10000.0,
    )
    firm_capacity: float = param(
        0.004,
        "facility needs a property firm settles per day, per household it manages",
        "003",
        lo=0.0,
        hi=1.0,
    )
    timeline: tuple[Phase, ...] = field(default_factory=default_timeline)

    @property
    def days(self) -> int:
        """Length of the timeline in days."""
        return self.timeline[-1].end

    def check(self) -> None:
        """Raise SacaInputError if the structure or timeline is inconsistent."""
        if self.communities < self.streets:
            raise SacaInputError(
                f"situation.communities ({self.communities}) must be at least "
                f"situation.streets ({self.streets})"
            )
        if self.grids < self.communities:
            raise SacaInputError(
                f"situation.grids ({self.grids}) must be at least situation.communities "
                f"({self.communities})"
            )
        if self.households < self.grids:
            raise SacaInputError(
                f"situation.households ({self.households}) must be at least situation.grids "
                f"({self.grids}): the population is empty in some grids"
            )
        if self.share_old_estate + self.share_urban_village > 1.0:
            raise SacaInputError(
                "situation.share_old_estate + situation.share_urban_village must not exceed 1"
            )
        check_timeline(self.timeline)


def check_timeline(timeline: tuple[Phase, ...]) -> None:
    """Raise SacaInputError unless phases are known, start at day 0 and tile without gaps.

    Args:
        timeline: the phases in order.
    """
    if not timeline:
        raise SacaInputError("situation.timeline is empty; give at least one phase")
    expected = 0
    for ph in timeline:
        if ph.name not in PHASES:
            raise SacaInputError(
                f"timeline phase {ph.name!r} is unknown; use one of {', '.join(PHASES)}"
            )
        if ph.sunk not in SUNK_PRESENCE:
            raise SacaInputError(
                f"timeline phase {ph.name!r} (days {ph.start}-{ph.end}) has sunk = {ph.sunk!r}; "
                f"use one of {', '.join(SUNK_PRESENCE)}"
            )
        if ph.start != expected:
            raise SacaInputError(
                f"timeline phase {ph.name!r} starts on day {ph.start} but the previous one "
                f"ends on day {expected}; phases must follow each other without gaps"
            )
        if ph.end <= ph.start:
            raise SacaInputError(
                f"timeline phase {ph.name!r} ends (day {ph.end}) before it starts (day {ph.start})"
            )
        expected = ph.end
