"""The SACA model: situation, regimes, network, metrics and the Mesa model itself."""

from model.model import CollaborationModel
from model.parameters import SacaInputError
from model.regime import Regime
from model.scenario import Scenario, load_regime, load_scenario

__all__ = [
    "CollaborationModel",
    "Regime",
    "SacaInputError",
    "Scenario",
    "load_regime",
    "load_scenario",
]
