"""The regime (协同): six dials of collaboration plus the policy switches of the studies.

Every dial runs from 0 (constructive: command, posts, checklists, pressure) to 1
(autonomous: voluntary, claimed, negotiated, two-way information, outcome evaluation);
values between mix the two ends. Seed 000 names the six structural elements; the switches
cite their own seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from saca.model.parameters import param

DIALS = ("information", "consensus", "goals", "contract", "decision", "control")


@dataclass(frozen=True)
class Regime:
    """Collaboration settings: the six dials and the policy switches."""

    information: float = param(
        0.5,
        "0: reports climb the hierarchy with delay and loss; 1: shared task list and "
        "peer-to-peer exchange",
        "000",
        lo=0.0,
        hi=1.0,
    )
    consensus: float = param(
        0.5,
        "0: decisions imposed; 1: negotiated (meeting hours, goal alignment, cadre trust)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    goals: float = param(
        0.5,
        "0: checklist indicators (easy tasks first); 1: residents' resolved needs",
        "000",
        lo=0.0,
        hi=1.0,
    )
    contract: float = param(
        0.5,
        "share of needs allocated by self-claiming from a task list instead of fixed posts",
        "000/002",
        lo=0.0,
        hi=1.0,
    )
    decision: float = param(
        0.5,
        "0: command decides alone, sunk cadres marginalised; 1: consultation with sunk "
        "cadres and residents",
        "000",
        lo=0.0,
        hi=1.0,
    )
    control: float = param(
        0.5,
        "0: checklist inspection (pressure, paperwork, no correction); 1: outcome "
        "evaluation with feedback correction",
        "000/001",
        lo=0.0,
        hi=1.0,
    )
    mandated_visits_per_week: float = param(
        0.0, "door-knocking visits per week ordered for every sunk cadre", "001", lo=0.0, hi=14.0
    )
    offloading_allowed: bool = param(
        False, "community cadres may push their work onto sunk cadres (no duty boundary)", "001/002"
    )
    task_force: bool = param(
        False,
        "a standing task force collects front-line problems and issues corrective work tips",
        "001",
    )
    evaluation: str = param(
        "none",
        "how in-service members are assessed",
        "002",
        choices=("none", "points", "satisfaction", "multi"),
    )
    assignment_basis: str = param(
        "residence",
        "in-service members report to the community where they live or where their unit is",
        "002",
        choices=("residence", "workplace"),
    )
    front_loading: float = param(
        0.0,
        "degree of top-down front-loaded service and resources (prevention)",
        "003",
        lo=0.0,
        hi=1.0,
    )
    event_filter: bool = param(
        True,
        "what the community can solve stays local; only the rest enters the digital system",
        "003",
    )
    escalation: str = param(
        "grid_first",
        "escalate level by level from the grid, or send everything to the central platform",
        "004",
        choices=("grid_first", "central"),
    )
    grid_instructors: bool = param(
        False,
        "one extra off-post cadre per community acts as grid instructor who can cross levels",
        "004",
    )
    selection: str = param(
        "merit", "how sending units choose whom to send", "004", choices=("merit", "adverse")
    )
    off_post_share: float = param(
        0.3,
        "share of sunk cadres dispatched off-post (full-time); the rest are in-service",
        "001/002",
        lo=0.0,
        hi=1.0,
    )
