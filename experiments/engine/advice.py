"""Warnings about inputs that are valid but cannot change a run, knowable before it starts.

``--set situation.risk=0.9`` in a scenario whose timeline has no emergency is accepted
(the value is in range) yet changes nothing: the risk of an emergency is read only in the
emergency and recovery phases. A researcher should hear that at once, not after a sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from saca.model.scenario import Scenario

PHASE_ONLY: dict[str, tuple[str, ...]] = {
    "situation.risk": ("emergency", "recovery"),
    "situation.emergency_multiplier": ("emergency",),
    "situation.recovery_multiplier": ("recovery",),
}
"""Parameters the daily step reads only in some phases (model.model's situation stage)."""


def phases_reached(scenario: Scenario, steps: int | None = None) -> list[str]:
    """The phases of the scenario's timeline that a run of ``steps`` days enters.

    Args:
        scenario: the resolved scenario.
        steps: days run; None for the whole timeline.
    """
    end = scenario.situation.days if steps is None else steps
    return [p.name for p in scenario.situation.timeline if p.start < end]


def noop_overrides(
    scenario: Scenario, keys: Iterable[str] | Mapping[str, Any], steps: int | None = None
) -> list[str]:
    """One warning per given parameter that cannot affect a run of this scenario.

    Args:
        scenario: the resolved scenario (overrides applied, so a changed timeline counts).
        keys: the dotted keys set (``--set``, ``[fixed]`` or varied in a design).
        steps: days run; None for the whole timeline.
    """
    reached = set(phases_reached(scenario, steps))
    out = []
    for key in keys:
        needs = PHASE_ONLY.get(key)
        if needs and not reached & set(needs):
            where = " or ".join(needs)
            later = set(phases_reached(scenario)) & set(needs)
            days = "" if steps is None else f" in its first {steps} days"
            fix = (
                "run more days (steps)"
                if later
                else "use a scenario with an emergency (e.g. --scenario emergency)"
            )
            out.append(
                f"{key} acts only in the {where} phase, and scenario {scenario.name!r} has "
                f"none{days}: it changes nothing; {fix}"
            )
    return out
