"""The actors of the SACA model as Mesa agents: residents, cadres and organisations."""

from agents.cadre import Cadre
from agents.community_cadre import CommunityCadre
from agents.organization import (
    CityPlatform,
    Organization,
    PropertyFirm,
    SendingUnit,
    SocialOrg,
    StreetOffice,
    TaskForce,
)
from agents.resident import Households, Resident
from agents.sunk_cadre import SunkCadre

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
