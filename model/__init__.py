"""The SACA model: situation, regimes, network, metrics and the Mesa model itself."""

from typing import Any

from saca.model.parameters import SacaInputError
from saca.model.regime import Regime
from saca.model.scenario import Scenario, load_regime, load_scenario

__all__ = [
    "CollaborationModel",
    "Regime",
    "SacaInputError",
    "Scenario",
    "load_regime",
    "load_scenario",
]


def __getattr__(name: str) -> Any:
    # The Mesa model (and Mesa, numpy, networkx with it) is imported on first use, so
    # reading parameters and presets stays light: `saca --help` answers at once.
    if name == "CollaborationModel":
        from saca.model.model import CollaborationModel

        return CollaborationModel
    raise AttributeError(f"module 'model' has no attribute {name!r}")
