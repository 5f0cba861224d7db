"""The actor population (行动者): how many cadres of each kind, and what they bring.

Seeds: 000 (strangers, inexperience), 001 (off-post teams, underpaid community cadres),
002 (in-service members, residence vs workplace), 004 (sending units, instructors).
"""

from __future__ import annotations

from dataclasses import dataclass

from saca.model.parameters import param


@dataclass(frozen=True)
class Population:
    """Counts and attribute distributions of the cadres and organisations."""

    committee_per_community: int = param(
        3, "community committee members per community (community cadres)", "001", lo=0, hi=50
    )
    grid_workers_per_grid: int = param(
        1, "grid workers per grid (community cadres posted to the grid)", "004", lo=0, hi=10
    )
    sunk_per_community: int = param(
        10,
        "sunk cadres per community on average (off-post and in-service together)",
        "001/002",
        lo=0,
        hi=500,
    )
    cadre_hours: float = param(
        8.0,
        "working hours per day of a full-time cadre (community or off-post)",
        "001",
        lo=1.0,
        hi=16.0,
    )
    in_service_hours: float = param(
        2.0, "after-hours time an active in-service member gives per day", "002", lo=0.0, hi=8.0
    )
    admin_hours: float = param(
        3.0,
        "administrative hours per day that upper levels load on community cadres",
        "001",
        lo=0.0,
        hi=8.0,
    )
    sunk_experience: float = param(
        0.3, "mean grassroots experience of sunk cadres", "000/001", lo=0.0, hi=1.0
    )
    community_experience: float = param(
        0.8, "mean grassroots experience of community cadres", "001", lo=0.0, hi=1.0
    )
    motivation_mean: float = param(
        0.65,
        "mean intrinsic (public service) motivation of cadres at the start",
        "000",
        lo=0.0,
        hi=1.0,
    )
    motivation_sd: float = param(0.15, "spread of intrinsic motivation", "000", lo=0.0, hi=0.5)
    skill_sd: float = param(
        0.15, "spread of a cadre's skills across need types", "002", lo=0.0, hi=0.5
    )
    units_per_street: int = param(5, "sending units per street office", "001", lo=1, hi=100)
    unit_resources: float = param(
        0.5, "mean resources a sending unit brings with its cadres", "001", lo=0.0, hi=1.0
    )
    off_post_term: int = param(
        365,
        "fixed term in days of an off-post cadre before a new one replaces them",
        "002",
        lo=7,
        hi=3650,
    )
    workplace_concentration: float = param(
        1.5,
        "Zipf exponent of where sending units sit: workplaces cluster in few communities",
        "002",
        lo=0.0,
        hi=5.0,
    )
    committee_quality: float = param(
        0.55,
        "mean quality (skill level) of community committee members",
        "001",
        lo=0.0,
        hi=1.0,
    )
    grid_worker_quality: float = param(
        0.5, "mean quality (skill level) of grid workers", "001/004", lo=0.0, hi=1.0
    )
    community_quality_sd: float = param(
        0.1, "spread of community cadres' quality", "001", lo=0.0, hi=0.5
    )
    community_cadre_resources: float = param(
        0.3,
        "share of its community's resources a community cadre can draw on (underpaid, "
        "under-resourced)",
        "001",
        lo=0.0,
        hi=1.0,
    )
    grid_familiarity: float = param(
        0.5,
        "initial familiarity between a grid worker and the households of its grid",
        "004",
        lo=0.0,
        hi=1.0,
    )
    committee_familiarity: float = param(
        0.2,
        "initial familiarity between a household and the committee member it knows",
        "001",
        lo=0.0,
        hi=1.0,
    )
    neighbour_familiarity: float = param(
        0.4,
        "initial familiarity between an in-service member and the neighbours it knows",
        "002",
        lo=0.0,
        hi=1.0,
    )
    neighbours_known: int = param(
        10,
        "households around its home an in-service member serving where it lives knows",
        "002",
        lo=0,
        hi=1000,
    )
