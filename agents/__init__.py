"""The actors of the SACA model as Mesa agents: residents, cadres and organisations."""

from saca.agents.cadre import Cadre
from saca.agents.community_cadre import CommunityCadre
from saca.agents.organization import (
    CityPlatform,
    Organization,
    PropertyFirm,
    SendingUnit,
    SocialOrg,
    StreetOffice,
    TaskForce,
)
from saca.agents.resident import Households, Resident
from saca.agents.sunk_cadre import SunkCadre

__all__ = [
    "Cadre",
    "CityPlatform",
    "CommunityCadre",
    "Households",
    "Organization",
    "PropertyFirm",
    "Resident",
    "SendingUnit",
    "SocialOrg",
    "StreetOffice",
    "SunkCadre",
    "TaskForce",
]
