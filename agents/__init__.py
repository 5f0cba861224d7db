"""The actors of the SACA model as Mesa agents: residents, cadres and organisations."""

from importlib import import_module
from typing import Any

_HOME = {
    "Cadre": "cadre",
    "CityPlatform": "organization",
    "CommunityCadre": "community_cadre",
    "Households": "resident",
    "Organization": "organization",
    "PropertyFirm": "organization",
    "Resident": "resident",
    "SendingUnit": "organization",
    "SocialOrg": "organization",
    "StreetOffice": "organization",
    "SunkCadre": "sunk_cadre",
    "TaskForce": "organization",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    # The agent classes (and Mesa with them) are imported on first use, so that
    # `saca.agents.needs`, which the metrics and the engine read, does not load Mesa.
    if name in _HOME:
        return getattr(import_module(f"saca.agents.{_HOME[name]}"), name)
    raise AttributeError(f"module 'saca.agents' has no attribute {name!r}")
