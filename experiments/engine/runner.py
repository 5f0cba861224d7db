"""Running the model once: a scenario and a regime resolved and checked, run for some days,
its summary and daily series collected.

Everything a user can get wrong is checked by :func:`resolve` and :func:`check_steps`
before any simulation starts (DESIGN §6). A run's seed follows
:mod:`saca.experiments.engine.seeds`; batches of runs go through
:mod:`saca.experiments.engine.backends`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.engine.seeds import seed_sequence
from saca.model import SacaInputError
from saca.model.regime import Regime
from saca.model.scenario import Scenario, apply_overrides, load_regime, load_scenario


def resolve(
    scenario: str | Path | Scenario = "baseline",
    regime: str | Path | Regime = "hybrid",
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Scenario, str, Regime]:
    """Load a scenario and a regime and apply overrides, validating everything.

    Args:
        scenario: scenario preset name, TOML path or Scenario.
        regime: regime preset name, TOML path or Regime.
        overrides: dotted key → value, e.g. ``{"situation.risk": 0.9}``.

    Returns:
        ``(scenario, regime_name, regime)`` with the overrides applied.

    Raises:
        SacaInputError: any unknown name or key, wrong type, bad range or file.
    """
    try:
        spec = load_scenario(scenario)
        name, reg = load_regime(regime)
    except OSError as exc:
        raise SacaInputError(
            f"cannot read {exc.filename or scenario}: {exc.strerror}; check the path"
        ) from None
    spec, reg = apply_overrides(spec, reg, dict(overrides or {}))
    return spec, name, reg


def check_steps(steps: int | None, scenario: Scenario) -> int:
    """Return the number of days to run: the timeline length unless ``steps`` is given.

    Args:
        steps: requested days, or None for the whole timeline.
        scenario: the resolved scenario.

    Raises:
        SacaInputError: ``steps`` below 1 or beyond the end of the timeline.
    """
    days = scenario.situation.days
    if steps is None:
        return days
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise SacaInputError(f"--steps must be a whole number of days of at least 1, got {steps}")
    if steps > days:
        raise SacaInputError(
            f"--steps {steps} runs past the end of the timeline of scenario {scenario.name!r} "
            f"({days} days); use at most {days} or lengthen situation.timeline"
        )
    return int(steps)


def run_one(
    scenario: str | Path | Scenario,
    regime: str | Path | Regime,
    seed: int | np.random.SeedSequence,
    steps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the model once.

    Args:
        scenario: scenario preset name, TOML path or Scenario.
        regime: regime preset name, TOML path or Regime.
        seed: int root seed (the model gets ``SeedSequence(seed)``) or a SeedSequence.
        steps: days to run; None runs the whole timeline.
        overrides: dotted-key overrides, validated.
        progress: called with 1 after each day, e.g. ``tqdm.update``; None runs at once.

    Returns:
        ``(summary, timeseries)``: the summary has one row per window (``all`` and each
        phase, index named ``window``) and a column per metric; the time series one row
        per day (index ``day``), a ``phase`` column and a column per metric.
    """
    from saca.model.model import CollaborationModel  # Mesa loads when the first run starts

    spec, _, reg = resolve(scenario, regime, overrides)
    steps = check_steps(steps, spec)
    model = CollaborationModel(scenario=spec, regime=reg, rng=seed_sequence(seed))
    if progress is None:
        model.run_for(steps)
    else:
        for _ in range(steps):
            model.run_for(1)
            progress(1)
    summary = model.summary(by_phase=True)
    summary.index.name = "window"
    return summary, model.timeseries()
