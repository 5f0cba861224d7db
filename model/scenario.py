"""Scenarios and regimes by name or TOML file, with validated overrides.

A *scenario* is a situation plus an actor population (plus, rarely, changed behavioural
constants). A *regime* is a set of collaboration settings. Both ship as TOML files in
``model/presets/scenarios`` and ``model/presets/regimes``; a path to any TOML file works too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from saca.model.behaviour import Behaviour
from saca.model.parameters import (
    ParamInfo,
    SacaInputError,
    apply_values,
    closest,
    describe,
    parse_toml,
    parse_value,
    unknown_key_error,
)
from saca.model.population import Population
from saca.model.regime import Regime
from saca.model.situation import SUNK_PRESENCE, Phase, Situation

GROUPS: dict[str, type] = {
    "situation": Situation,
    "population": Population,
    "behaviour": Behaviour,
    "regime": Regime,
}


@dataclass(frozen=True)
class Scenario:
    """A situation with its actor population.

    Args:
        name: the scenario's name (file stem for files).
        situation: structure, conditions, timeline.
        population: cadres and organisations.
        behaviour: behavioural constants.
        description: one line shown by ``saca list``.
    """

    name: str = "baseline"
    situation: Situation = field(default_factory=Situation)
    population: Population = field(default_factory=Population)
    behaviour: Behaviour = field(default_factory=Behaviour)
    description: str = ""


def check_scenario(scen: Scenario) -> None:
    """Raise SacaInputError if the structure, timeline or population is inconsistent.

    Args:
        scen: the scenario to check.
    """
    scen.situation.check()
    pop = scen.population
    if pop.committee_per_community + pop.grid_workers_per_grid + pop.sunk_per_community == 0:
        raise SacaInputError(
            "the population has no cadres; set population.committee_per_community, "
            "population.grid_workers_per_grid or population.sunk_per_community above 0"
        )


def all_params() -> list[ParamInfo]:
    """Every scalar parameter of every group, in a stable order."""
    return [info for group, cls in GROUPS.items() for info in describe(group, cls)]


def _known_keys() -> list[str]:
    return [p.key for p in all_params()]


def _preset_dir(kind: str):
    return resources.files("saca.model") / "presets" / kind


def preset_names(kind: str) -> list[str]:
    """Names of the shipped presets of one kind.

    Args:
        kind: ``"regimes"`` or ``"scenarios"``.
    """
    return sorted(p.name[:-5] for p in _preset_dir(kind).iterdir() if p.name.endswith(".toml"))


def _read_toml(name_or_path: str | Path, kind: str) -> tuple[str, dict[str, Any]]:
    """Find a preset by name or a file by path and parse it."""
    text_path = str(name_or_path)
    path = Path(text_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise SacaInputError(
                f"{kind[:-1]} file {text_path} does not exist or is not a file; give a .toml "
                f"file or a preset name (saca list)"
            )
        source, stem, raw = str(path), path.stem, path.read_bytes()
    else:
        entry = _preset_dir(kind) / f"{text_path}.toml"
        if not entry.is_file():
            names = preset_names(kind)
            close = closest(text_path, names)
            hint = f"did you mean {close}? " if close else ""
            raise SacaInputError(
                f"unknown {kind[:-1]} {text_path!r}; {hint}choose one of {', '.join(names)} "
                "or give a .toml file"
            )
        source, stem, raw = f"{kind[:-1]} {text_path}", text_path, entry.read_bytes()
    return stem, parse_toml(raw, source)


def _timeline(raw: Any) -> tuple[Phase, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise SacaInputError(
            "situation.timeline must be a list of tables like "
            '{ phase = "normal", start = 0, end = 30 }'
        )
    phases = []
    for p in raw:
        extra = set(p) - {"phase", "start", "end", "sunk"}
        if extra or not {"phase", "start", "end"} <= set(p):
            raise SacaInputError(
                "each timeline entry needs exactly phase, start and end (and optionally "
                f"which sunk cadres are present: sunk = one of {', '.join(SUNK_PRESENCE)}), got "
                f"{', '.join(sorted(p))}"
            )
        if not all(isinstance(p[k], int) and not isinstance(p[k], bool) for k in ("start", "end")):
            raise SacaInputError("timeline start and end must be whole days")
        sunk = p.get("sunk", "all")
        if not isinstance(sunk, str):
            raise SacaInputError(
                f"timeline sunk must be one of {', '.join(SUNK_PRESENCE)} (a string), got {sunk!r}"
            )
        phases.append(Phase(str(p["phase"]), p["start"], p["end"], sunk))
    return tuple(phases)


def _apply_group(obj: Any, group: str, values: Mapping[str, Any]) -> Any:
    values = dict(values)
    if group == "situation" and "timeline" in values:
        obj = dataclasses.replace(obj, timeline=_timeline(values.pop("timeline")))
    return apply_values(obj, group, values, _known_keys())


def load_scenario(name_or_path: str | Path | Scenario = "baseline") -> Scenario:
    """Load a scenario by preset name or TOML path (a Scenario passes through).

    Args:
        name_or_path: a preset name (``saca list``), a ``.toml`` path, or a Scenario.
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path
    stem, data = _read_toml(name_or_path, "scenarios")
    scen = Scenario(name=str(data.pop("name", stem)), description=str(data.pop("description", "")))
    for group, values in data.items():
        if group not in ("situation", "population", "behaviour"):
            raise SacaInputError(
                f"scenario {stem}: unknown table [{group}]; use [situation], [population] "
                "or [behaviour]"
            )
        if not isinstance(values, dict):
            raise SacaInputError(f"scenario {stem}: {group} must be a table")
        scen = dataclasses.replace(
            scen, **{group: _apply_group(getattr(scen, group), group, values)}
        )
    check_scenario(scen)
    return scen


def load_regime(name_or_path: str | Path | Regime = "hybrid") -> tuple[str, Regime]:
    """Load a regime by preset name or TOML path; return its name and settings.

    Args:
        name_or_path: a preset name, a ``.toml`` path, or a Regime (named ``custom``).
    """
    if isinstance(name_or_path, Regime):
        return "custom", name_or_path
    stem, data = _read_toml(name_or_path, "regimes")
    name = str(data.pop("name", stem))
    data.pop("description", None)
    values = data.pop("regime", {})
    if data:
        key = next(iter(data))
        if isinstance(data[key], dict):
            raise SacaInputError(
                f"regime {stem}: unknown table [{key}]; a regime file has a [regime] table "
                "(is this a scenario file?)"
            )
        raise unknown_key_error(f"regime.{key}", _known_keys())
    return name, apply_values(Regime(), "regime", values, _known_keys())


def regime_description(name: str) -> str:
    """The one-line description stored in a shipped regime preset.

    Args:
        name: the preset's name.
    """
    _, data = _read_toml(name, "regimes")
    return str(data.get("description", ""))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` strings from ``--set`` into a dict of raw values.

    Args:
        items: the strings as typed.
    """
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SacaInputError(f"--set {item!r} needs the form KEY=VALUE, e.g. regime.goals=1")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def apply_overrides(
    scenario: Scenario, regime: Regime, overrides: Mapping[str, Any]
) -> tuple[Scenario, Regime]:
    """Apply dotted-key overrides to a scenario and a regime, validating each one.

    Args:
        scenario: the loaded scenario.
        regime: the loaded regime.
        overrides: dotted key → value, e.g. ``{"regime.information": 0.8}``.
    """
    by_group: dict[str, dict[str, Any]] = {}
    known = [*_known_keys(), "situation.timeline"]
    for key, value in overrides.items():
        group, _, name = key.partition(".")
        if group not in GROUPS or not name:
            raise unknown_key_error(key, known)
        by_group.setdefault(group, {})[name] = value
    for group, values in by_group.items():
        if group == "regime":
            regime = _apply_group(regime, group, values)
        else:
            scenario = dataclasses.replace(
                scenario, **{group: _apply_group(getattr(scenario, group), group, values)}
            )
    check_scenario(scenario)
    return scenario, regime
