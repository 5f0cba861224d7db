"""Experiments: the `saca` command line, presets, sweeps, analysis and plots."""

from typing import Any


def __getattr__(name: str) -> Any:
    # imported on first use, so `import experiments` (and `saca --help`) stays light
    if name == "saca_ema_model":
        from saca.experiments.engine.ema import saca_ema_model

        return saca_ema_model
    raise AttributeError(f"module 'experiments' has no attribute {name!r}")
