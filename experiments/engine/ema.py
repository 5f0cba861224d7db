"""saca as an EMA Workbench model: uncertainties, levers and outcomes from the declarations.

:func:`saca_ema_model` returns an ``ema_workbench.Model`` whose

- **uncertainties** are the situation and behaviour parameters (``situation.*``,
  ``behaviour.*``) over their declared ranges (``saca list``), except the district's
  size (households, grids, communities, streets: scale, not uncertainty; set them with
  ``fixed``);
- **levers** are the regime's dials and switches (``regime.*``) over their declared
  ranges and choices;
- **outcomes** are the summary metrics over the whole run, as ``ScalarOutcome`` with
  MAXIMIZE / MINIMIZE from :data:`saca.model.metrics.HIGHER_IS_BETTER` (INFO for the rest),
  so EMA's optimisation knows which end is better.

EMA needs Python identifiers as names: ``situation.risk`` is ``situation_risk``, and each
parameter's ``variable_name`` is its dotted key (:func:`ema_name`). Every experiment runs
with the same seed, ``SeedSequence(seed)`` as in ``saca run --seed``: differences between
experiments come from their parameters alone (common random numbers). With
``replicates > 1`` the model is a ``ReplicatorModel`` whose replication ``r`` uses
``SeedSequence(seed).spawn(replicates)[r]``, the replicate seeds of ``saca compare``, and
each outcome is the mean over the replications.

Example::

    from ema_workbench import perform_experiments
    from saca.experiments.engine.ema import saca_ema_model
    model = saca_ema_model("emergency", steps=60)
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from saca.experiments.engine.seeds import replicate_seeds
from saca.model.metrics import HIGHER_IS_BETTER, METRICS
from saca.model.parameters import ParamInfo
from saca.model.scenario import all_params

SCALE_KEYS = (
    "situation.households",
    "situation.grids",
    "situation.communities",
    "situation.streets",
)
"""The district's size: left out of the uncertainties (their declared ranges are validity
limits up to millions of households, not plausible uncertainty)."""
JOINT_BOUNDS: dict[str, tuple[float, float]] = {
    "situation.share_old_estate": (0.0, 0.5),
    "situation.share_urban_village": (0.0, 0.5),
}
"""Default bounds narrower than the declared range where two parameters are limited
together (their sum must not exceed 1): every sampled point is then a valid district."""
UNCERTAIN_GROUPS = ("situation", "behaviour")
LEVER_GROUPS = ("regime",)
_CONSTANTS = ("saca_scenario", "saca_regime", "saca_steps", "saca_seed")


def ema_name(key: str) -> str:
    """EMA's name (an identifier) for a dotted key: ``situation.risk`` → ``situation_risk``."""
    return key.replace(".", "_")


def _parameter(info: ParamInfo, bounds: tuple[Any, Any] | None = None) -> Any:
    from ema_workbench import (
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
    )

    name = ema_name(info.key)
    if info.kind == "bool":
        return BooleanParameter(name, variable_name=info.key)
    if info.kind == "choice":
        return CategoricalParameter(name, list(info.choices or ()), variable_name=info.key)
    lo, hi = bounds if bounds is not None else (info.lo, info.hi)
    if lo is None or hi is None:
        raise ValueError(f"{info.key} has no declared range; give bounds for it")
    if info.kind == "int":
        return IntegerParameter(name, int(lo), int(hi), variable_name=info.key)
    return RealParameter(name, float(lo), float(hi), variable_name=info.key)


def _pick(
    groups: Sequence[str], keys: Iterable[str] | None, skip: Iterable[str]
) -> list[ParamInfo]:
    infos = {p.key: p for p in all_params()}
    if keys is not None:
        chosen = list(keys)
        unknown = [k for k in chosen if k not in infos]
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; see saca list")
        return [infos[k] for k in chosen]
    leave = set(skip)
    return [p for k, p in infos.items() if k.split(".", 1)[0] in groups and k not in leave]


def run_experiment(
    saca_scenario: str,
    saca_regime: str,
    saca_steps: int | None,
    saca_seed: int,
    saca_replicate: int | None = None,
    saca_replicates: int = 1,
    **params: Any,
) -> dict[str, float]:
    """One run for EMA: dotted-key parameters in, the whole-run summary metrics out.

    Args:
        saca_scenario: scenario preset or TOML file.
        saca_regime: regime preset or TOML file the levers are applied to.
        saca_steps: days to run; None for the whole timeline.
        saca_seed: root seed.
        saca_replicate: the replication (ReplicatorModel); None for ``SeedSequence(seed)``.
        saca_replicates: how many replications there are.
        **params: dotted key → value (EMA passes each parameter's ``variable_name``).
    """
    from saca.experiments.engine import runner

    # EMA passes each parameter under its variable_name (the dotted key); a
    # ReplicatorModel passes constants under their EMA name: accept both
    keys = {ema_name(p.key): p.key for p in all_params()}
    values = {
        keys.get(k, k): v.item() if isinstance(v, np.generic) else v for k, v in params.items()
    }
    if saca_replicate is None:
        seed: Any = saca_seed
    else:
        seed = replicate_seeds(saca_seed, saca_replicates)[saca_replicate]
    summary, _ = runner.run_one(saca_scenario, saca_regime, seed, saca_steps, values)
    return {m: float(summary.loc["all", m]) for m in METRICS}


def saca_ema_model(
    scenario: str = "emergency",
    regime: str = "hybrid",
    *,
    steps: int | None = None,
    seed: int = 0,
    replicates: int = 1,
    fixed: Mapping[str, Any] | None = None,
    uncertainties: Iterable[str] | None = None,
    levers: Iterable[str] | None = None,
    bounds: Mapping[str, tuple[Any, Any]] | None = None,
    outcomes: Iterable[str] | None = None,
    name: str = "saca",
) -> Any:
    """An ``ema_workbench.Model`` (or ``ReplicatorModel``) running saca.

    Args:
        scenario: scenario preset or TOML file every experiment starts from.
        regime: regime preset or TOML file the levers modify.
        steps: days per run; None for the scenario's whole timeline.
        seed: root seed (the same for every experiment: common random numbers).
        replicates: replications per experiment (> 1 gives a ReplicatorModel).
        fixed: dotted key → value for every run (EMA constants), e.g. a smaller district.
        uncertainties: dotted keys to treat as uncertain; None: every situation and
            behaviour parameter except :data:`SCALE_KEYS` and the ``fixed`` ones.
        levers: dotted keys to treat as levers; None: every regime parameter not fixed.
        bounds: dotted key → (lo, hi) replacing a declared range (default
            :data:`JOINT_BOUNDS`).
        outcomes: metric names; None: every summary metric.
        name: the model's name in EMA's results.

    Raises:
        SacaInputError: a bad scenario, regime, fixed value or steps (checked now, before
            EMA starts any experiment).
    """
    from ema_workbench import Constant, Model, ReplicatorModel, ScalarOutcome

    from saca.experiments.engine import runner

    fixed = dict(fixed or {})
    spec, _, _ = runner.resolve(scenario, regime, fixed)  # fail now, not in a worker
    runner.check_steps(steps, spec)
    bounds = {**JOINT_BOUNDS, **dict(bounds or {})}
    unc = _pick(UNCERTAIN_GROUPS, uncertainties, [*SCALE_KEYS, *fixed])
    lev = _pick(LEVER_GROUPS, levers, fixed)
    model: Any
    if replicates > 1:
        model = ReplicatorModel(name, function=run_experiment)
        model.replications = [
            {"saca_replicate": r, "saca_replicates": replicates} for r in range(replicates)
        ]
    else:
        model = Model(name, function=run_experiment)
    model.uncertainties = [_parameter(p, bounds.get(p.key)) for p in unc]
    model.levers = [_parameter(p, bounds.get(p.key)) for p in lev]
    model.constants = [
        Constant("saca_scenario", str(scenario)),
        Constant("saca_regime", str(regime)),
        Constant("saca_steps", steps),
        Constant("saca_seed", int(seed)),
        *(Constant(ema_name(k), v, variable_name=k) for k, v in fixed.items()),
    ]
    kinds = {True: ScalarOutcome.MAXIMIZE, False: ScalarOutcome.MINIMIZE}
    # replications are pooled into their mean (EMA's way: the outcome's function)
    pool = {"function": np.nanmean} if replicates > 1 else {}
    model.outcomes = [
        ScalarOutcome(m, kind=kinds.get(HIGHER_IS_BETTER.get(m), ScalarOutcome.INFO), **pool)
        for m in (METRICS if outcomes is None else list(outcomes))
    ]
    return model


__all__ = ["JOINT_BOUNDS", "SCALE_KEYS", "ema_name", "run_experiment", "saca_ema_model"]
