"""Batch experiments: a TOML spec → design points × regimes × replicates, run and stored.

A sweep spec (DESIGN §5) names a scenario, the regimes every design point runs under,
the replicates, the root seed and a design over parameters given by dotted key::

    [sweep]
    scenario = "emergency"
    regimes = ["constructive", "autonomous"]
    steps = 120                 # optional: default the scenario's whole timeline
    replicates = 5
    seed = 7
    design = "lhs"              # factorial (default) | lhs | sobol | morris
    samples = 16                # lhs: design points; sobol: SALib's base samples N;
                                # morris: trajectories
    levels = 4                  # morris only: grid levels per range (even; default 4)

    [parameters]
    "situation.risk" = { min = 0.1, max = 0.9 }      # a range (lhs, sobol)
    "regime.information" = [0.0, 0.5, 1.0]          # levels (factorial)
    "situation.cohesion_mean" = { min = 0.2, max = 0.8, levels = 4 }  # factorial levels
    "situation.households" = 600                      # a single value: fixed

    [fixed]                     # fixed values for every run (same as --set)
    "situation.grids" = 12

Every value is checked with the same coercion as ``--set`` (ranges at both ends), and
every design point under every regime is validated before the first run.

Runs: run ``(point, regime, replicate)`` has the id ``p{point:05d}-{regime}-r{rep:03d}``
and the generator ``SeedSequence(seed, spawn_key=(point, replicate))``: the regimes of a
design point and replicate share their seed (common random numbers, so regime
differences are paired), and nothing depends on the order, the backend or the number of
workers. With ``common_random_numbers = false`` the key is ``(point, replicate,
regime_index)``. Runs go replicate by replicate (all points and regimes of replicate 0
first), so a sweep stopped early still covers the whole design.

Storage (:mod:`saca.experiments.engine.store`): finished runs are streamed to Parquet shards within
about ``FLUSH_SECONDS``; a killed sweep continues with ``resume=True`` and recomputes
nothing stored; a failing run is recorded with its traceback and the others go on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from saca.experiments.engine import constants, io, outdir, runner, sizes
from saca.experiments.engine import design as dsg
from saca.experiments.engine.progress import Progress
from saca.experiments.engine.progress import say as say_line
from saca.experiments.engine.store import MANIFEST, SUMMARY, TIMESERIES, SweepStore, check_readable
from saca.model import SacaInputError
from saca.model.metrics import METRICS, windows
from saca.model.parameters import ParamInfo, coerce, unknown_key_error
from saca.model.regime import Regime
from saca.model.scenario import Scenario, all_params, apply_overrides

BACKENDS = ("serial", "process", "dask")
SWEEP_KEYS = (
    "name",
    "description",
    "scenario",
    "regimes",
    "steps",
    "replicates",
    "seed",
    "design",
    "samples",
    "second_order",
    "levels",
    "common_random_numbers",
)
SPEC_TABLES = ("sweep", "parameters", "fixed")
RANGE_KEYS = ("min", "max", "levels")
FLUSH_SECONDS = 2.0
"""A finished run reaches the disk within about this many seconds."""
MAX_BATCH = 500
TICK = 0.25
RUN_ID = "p{point:05d}-{regime}-r{replicate:03d}"
MAX_RUNS = 1_000_000
"""Most runs a sweep may plan: the plan's run ids and the manifest are held in memory
(about 100 bytes a run), and a million runs of a second each is already 12 days of a core.
Checked arithmetically, before anything is built."""
MAX_POINTS = 1_000_000
"""Most design points (and levels of one factor) a sweep may plan."""
CONNECT_TIMEOUT = "10s"
"""How long to wait for a dask scheduler given by address."""


# ----- the spec -------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (the form of its values checked; see :func:`prepare`).

    Args:
        name: the sweep's name (``[sweep] name``, default the file's stem).
        scenario: scenario preset name or TOML path (relative paths already resolved).
        regimes: regime preset names or TOML paths, in order.
        replicates: runs per design point and regime.
        seed: the root seed.
        design: ``factorial``, ``lhs``, ``sobol`` or ``morris``.
        samples: lhs points, sobol base samples or morris trajectories; None for factorial.
        steps: days per run; None for the scenario's whole timeline.
        second_order: sobol: sample for second-order indices too.
        common_random_numbers: the regimes of a (point, replicate) share their seed.
        factors: the varied parameters.
        fixed: dotted key → value applied to every run (``[fixed]`` and scalars in
            ``[parameters]``).
        data: the parsed TOML, as given.
        label: how messages name the spec (its path).
        base_dir: directory that relative file names in the spec are resolved against.
        text: the spec file's text (copied into the results directory).
        levels: morris: grid levels per range; None for the other designs.
    """

    name: str
    scenario: str
    regimes: tuple[str, ...]
    replicates: int
    seed: int
    design: str
    samples: int | None
    steps: int | None
    second_order: bool
    common_random_numbers: bool
    factors: tuple[dsg.Factor, ...]
    fixed: dict[str, Any]
    data: dict[str, Any] = field(repr=False)
    label: str = "spec"
    base_dir: str = "."
    text: str = field(default="", repr=False)
    levels: int | None = None

    @property
    def hash(self) -> str:
        """SHA-256 of the spec's content (TOML comments, layout and description ignored).

        Values of float parameters count as floats, so ``1`` and ``1.0`` in a level list,
        range or ``[fixed]`` give the same hash: they are the same sweep.
        """
        return _digest(_canonical(self.data))

    @property
    def legacy_hash(self) -> str:
        """The hash as computed before numbers were normalised (older sweep folders)."""
        return _digest(json.loads(json.dumps(self.data, default=str)))


def _digest(data: dict[str, Any]) -> str:
    data.get("sweep", {}).pop("description", None)
    canon = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's data with every value of a float parameter written as a float."""
    data = json.loads(json.dumps(data, default=str))
    kinds = {p.key: p.kind for p in all_params()}

    def as_float(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, list):
            return [as_float(v) for v in value]
        if isinstance(value, dict):
            return {k: (as_float(v) if k in ("min", "max") else v) for k, v in value.items()}
        return value

    for table in ("parameters", "fixed"):
        values = data.get(table)
        if isinstance(values, dict):
            for key, value in values.items():
                if kinds.get(key) == "float":
                    values[key] = as_float(value)
    return data


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices`` to ``word``, or ``""``.

    Args:
        word: what the user wrote.
        choices: the valid words.
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_spec(
    path: str | Path, base_dir: str | Path | None = None, extra_tables: Sequence[str] = ()
) -> SweepSpec:
    """Read and check a sweep spec file.

    Args:
        path: the TOML file.
        base_dir: directory for relative scenario / regime files in the spec; default the
            spec file's directory.
        extra_tables: further tables the caller reads itself (e.g. ``sensitivity`` for
            ``saca sensitivity``); they are kept in ``data`` and count in the spec's hash.

    Raises:
        SacaInputError: a missing file, bad TOML, unknown key or table, or a value of the
            wrong form, in one line naming the spec.
    """
    p = Path(path)
    if not p.is_file():
        raise SacaInputError(f"sweep spec {path} does not exist or is not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SacaInputError(f"cannot read {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except ValueError as exc:
        raise SacaInputError(f"cannot read {path}: {exc}; fix the TOML syntax") from None
    base = Path(base_dir) if base_dir is not None else p.resolve().parent
    return parse_spec(
        data, label=str(path), base_dir=base, text=text, stem=p.stem, extra_tables=extra_tables
    )


def parse_spec(
    data: Mapping[str, Any],
    label: str = "spec",
    base_dir: str | Path = ".",
    text: str = "",
    stem: str = "sweep",
    extra_tables: Sequence[str] = (),
) -> SweepSpec:
    """Check a parsed sweep spec and return it as a :class:`SweepSpec`.

    Values the running command sets (:mod:`saca.experiments.engine.sizes`: ``--replicates``,
    ``--set``, ...) are written into the tables first, and the stored text shows them.

    Args:
        data: the parsed TOML.
        label: how messages name the spec.
        base_dir: directory for relative scenario / regime files.
        text: the original text, kept for the copy in the results directory.
        stem: default name of the sweep.
        extra_tables: further tables allowed, checked by the caller (see :func:`load_spec`).

    Raises:
        SacaInputError: see :func:`load_spec`; when there is more than one mistake, every
            one (its ``problems`` lists them, one line each).
    """
    # [constants] (behavioural constants with their declared ranges) becomes ordinary
    # [parameters] first, and the stored copy is the expanded spec (experiments.constants)
    data, had_constants = constants.expand(data, label)
    if had_constants:
        original = "\n".join(f"#   {ln}" for ln in text.splitlines())
        text = sizes.toml_text(data, header=f"{label} with [constants] expanded") + (
            f"\n# {label} as written:\n{original}\n" if original else ""
        )
    given = sizes.current()
    if given is not None:  # --replicates, --set, ... of the running command
        data = sizes.apply(data, label, given)
        original = "\n".join(f"#   {ln}" for ln in text.splitlines())
        text = sizes.toml_text(
            data, header=f"{label} with values from the command line:{given.argv()}"
        ) + (f"\n# {label} as written:\n{original}\n" if original else "")
    with sizes.applied(None):
        try:
            return _parse_spec(data, label, base_dir, text, stem, extra_tables)
        except SacaInputError as first:
            problems = [str(first)]
            for p in _survey(data, label, base_dir, extra_tables):
                if p not in problems:
                    problems.append(p)
            if len(problems) == 1:
                raise
            raise many(problems) from None


def many(problems: Sequence[str]) -> SacaInputError:
    """One error carrying several mistakes (``problems``), reported one line each."""
    exc = SacaInputError("\n".join(problems))
    exc.problems = list(problems)  # type: ignore[attr-defined]
    return exc


def _survey(
    data: Mapping[str, Any], label: str, base_dir: str | Path, extra_tables: Sequence[str]
) -> list[str]:
    """Every mistake of a spec found by checking its parts one at a time.

    :func:`_parse_spec` stops at the first mistake; this checks each table, each
    ``[sweep]`` value, each ``[fixed]`` and ``[parameters]`` entry and each scenario and
    regime on its own, so the user fixes them all in one go.
    """
    found: list[str] = []

    def check(part: dict[str, Any]) -> None:
        try:
            _parse_spec(part, label, base_dir, "", "sweep", extra_tables)
        except SacaInputError as exc:
            # a part on its own may lack the ranges its design needs: not a mistake
            if not str(exc).endswith("needs at least one range in [parameters]"):
                found.append(str(exc))

    sw = data.get("sweep")
    sw = dict(sw) if isinstance(sw, dict) else {}
    regimes = sw.get("regimes") if isinstance(sw.get("regimes"), list) else None
    base = {"regimes": ["hybrid"]}
    for key, value in data.items():
        if not isinstance(value, dict) or key not in (*SPEC_TABLES, *extra_tables):
            check({"sweep": base, key: value})
    # design and samples go together; the other [sweep] values are checked one by one
    design = {k: sw[k] for k in ("design", "samples", "levels", "second_order") if k in sw}
    check({"sweep": {**base, **design}})
    for key, value in sw.items():
        if key not in design and key != "regimes":
            check({"sweep": {**base, key: value}})
    if regimes is not None:
        check({"sweep": {"regimes": regimes}})
    ctx = {**base, **design}
    for table in ("fixed", "parameters"):
        entries = data.get(table)
        if isinstance(entries, dict):
            for key, value in entries.items():
                check({"sweep": ctx, table: {key: value}})
    scenario = sw.get("scenario", "baseline")
    for name in regimes or []:
        if isinstance(name, str) and isinstance(scenario, str):
            path = Path(base_dir) / name if name.endswith(".toml") else name
            scen = Path(base_dir) / scenario if scenario.endswith(".toml") else scenario
            try:
                runner.resolve(scen, path)
            except SacaInputError as exc:
                found.append(f"{label}: {exc}")
    return found


def _parse_spec(
    data: Mapping[str, Any],
    label: str,
    base_dir: str | Path,
    text: str,
    stem: str,
    extra_tables: Sequence[str],
) -> SweepSpec:
    """The checks of :func:`parse_spec`, stopping at the first mistake."""

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{label}: {msg}")

    data = dict(data)
    tables = (*SPEC_TABLES, *extra_tables)
    for key, value in data.items():
        if key not in tables:
            if key in SWEEP_KEYS:
                raise fail(f"{key} belongs in the [sweep] table")
            raise fail(
                f"unknown table [{key}]; {did_you_mean(key, tables)}"
                f"use {', '.join(f'[{t}]' for t in tables)}"
            )
        if not isinstance(value, dict):
            raise fail(f"{key} must be a table [{key}]")
    if "sweep" not in data:
        raise fail("no [sweep] table; it names the scenario, regimes, replicates and seed")
    sw = dict(data["sweep"])
    for key in sw:
        if key not in SWEEP_KEYS:
            raise fail(
                f"unknown key {key!r} in [sweep]; {did_you_mean(key, SWEEP_KEYS)}"
                f"known keys: {', '.join(SWEEP_KEYS)}"
            )
    base = Path(base_dir)

    def file_or_name(value: Any, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{what} must be a preset name or a .toml file, got {value!r}")
        if value.endswith(".toml") and not Path(value).is_absolute():
            return str(base / value)
        return value

    scenario = file_or_name(sw.get("scenario", "baseline"), "scenario")
    regimes = sw.get("regimes")
    if regimes is None:
        raise fail('[sweep] needs regimes, e.g. regimes = ["constructive", "autonomous"]')
    if isinstance(regimes, str) or not isinstance(regimes, list) or not regimes:
        raise fail(f'regimes must be a non-empty list like ["hybrid"], got {regimes!r}')
    regimes = [file_or_name(r, "each regime") for r in regimes]
    dup = sorted({r for r in regimes if regimes.count(r) > 1})
    if dup:
        raise fail(f"regimes lists {', '.join(dup)} more than once; list each once")
    replicates = sw.get("replicates", 1)
    if not _whole(replicates) or replicates < 1:
        raise fail(f"replicates must be a whole number of at least 1, got {replicates!r}")
    seed = sw.get("seed", 0)
    if not _whole(seed) or not 0 <= seed <= runner.MAX_SEED:
        raise fail(f"seed must be a whole number from 0 to {runner.MAX_SEED}, got {seed!r}")
    steps = sw.get("steps")
    if steps is not None and (not _whole(steps) or steps < 1):
        raise fail(f"steps must be a whole number of days of at least 1, got {steps!r}")
    kind = sw.get("design", "factorial")
    if kind not in dsg.DESIGNS:
        raise fail(
            f"unknown design {kind!r}; {did_you_mean(str(kind), dsg.DESIGNS)}"
            f"choose one of {', '.join(dsg.DESIGNS)}"
        )
    samples = sw.get("samples")
    if kind == "factorial":
        if samples is not None:
            raise fail(
                "samples is for lhs, sobol and morris designs; a factorial design runs every "
                "combination of the levels"
            )
    elif samples is None:
        what = "trajectories" if kind == "morris" else "design points"
        raise fail(f'design = "{kind}" needs samples = N (the number of {what})')
    elif not _whole(samples) or samples < 1:
        raise fail(f"samples must be a whole number of at least 1, got {samples!r}")
    elif kind == "sobol" and not dsg.is_power_of_two(samples):
        lo = 2 ** int(math.log2(samples))
        raise fail(
            f"sobol samples must be a power of two (Saltelli's scheme), got {samples}; "
            f"use {lo} or {2 * lo}"
        )
    levels = sw.get("levels")
    if kind == "morris":
        levels = dsg.MORRIS_LEVELS if levels is None else levels
        if not _whole(levels) or levels < 2 or levels % 2:
            raise fail(
                f"levels (the Morris grid) must be an even whole number >= 2, got {levels!r}"
            )
    elif levels is not None:
        raise fail(
            "levels in [sweep] is the grid of a morris design; a factorial design gives "
            "levels = N in each range"
        )
    second = sw.get("second_order", False)
    if not isinstance(second, bool):
        raise fail(f"second_order must be true or false, got {second!r}")
    if second and kind != "sobol":
        raise fail("second_order applies to sobol designs only")
    crn = sw.get("common_random_numbers", True)
    if not isinstance(crn, bool):
        raise fail(f"common_random_numbers must be true or false, got {crn!r}")

    infos = {p.key: p for p in all_params()}
    known = [*infos, "situation.timeline"]
    fixed: dict[str, Any] = {}
    for key, value in data.get("fixed", {}).items():
        if key not in known:
            raise fail(f"[fixed] {unknown_key_error(key, known)}")
        if key == "situation.timeline":
            fixed[key] = value
            continue
        if isinstance(value, list | dict):
            raise fail(f"[fixed] {key} must be a single value; vary it in [parameters]")
        try:
            fixed[key] = coerce(infos[key], value)
        except SacaInputError as exc:
            raise fail(f"[fixed] {exc}") from None
    factors: list[dsg.Factor] = []
    for key, value in data.get("parameters", {}).items():
        if key not in infos:
            if key == "situation.timeline":
                raise fail("situation.timeline cannot be varied; set it in [fixed]")
            raise fail(f"[parameters] {unknown_key_error(key, known)}")
        if key in fixed:
            raise fail(f"{key} is in both [parameters] and [fixed]; keep one")
        info = infos[key]
        if isinstance(value, list):
            factors.append(_levels_factor(info, value, kind, fail))
        elif isinstance(value, dict):
            factors.append(_range_factor(info, value, kind, fail))
        else:
            try:
                fixed[key] = coerce(info, value)
            except SacaInputError as exc:
                raise fail(f"[parameters] {exc}") from None
    if kind != "factorial" and not factors:
        raise fail(f"a {kind} design needs at least one range in [parameters]")
    name = sw.get("name", stem)
    if not isinstance(name, str) or not name:
        raise fail(f"name must be a non-empty string, got {name!r}")
    description = sw.get("description", "")
    if not isinstance(description, str):
        raise fail("description must be a string")
    spec = SweepSpec(
        name=name,
        scenario=scenario,
        regimes=tuple(regimes),
        replicates=replicates,
        seed=seed,
        design=kind,
        samples=samples,
        steps=steps,
        second_order=second,
        common_random_numbers=crn,
        factors=tuple(factors),
        fixed=fixed,
        data=dict(data),
        label=label,
        base_dir=str(base),
        text=text,
        levels=levels,
    )
    check_size(spec)
    return spec


def planned_points(spec: SweepSpec) -> int:
    """The number of design points of a spec, computed without building the design.

    Args:
        spec: the spec.
    """
    dims = sum(1 for f in spec.factors if f.is_range)
    if spec.design == "factorial":
        return math.prod(len(f.levels or ()) or 1 for f in spec.factors)
    samples = spec.samples or 0
    if spec.design == "sobol":
        return dsg.sobol_rows(samples, dims, spec.second_order)
    if spec.design == "morris":
        return dsg.morris_rows(samples, dims)
    return samples


def check_size(spec: SweepSpec) -> int:
    """Refuse a spec whose plan is too large, before anything is built; return its runs.

    Args:
        spec: the spec.

    Raises:
        SacaInputError: more than :data:`MAX_POINTS` design points or :data:`MAX_RUNS`
            runs (design points x regimes x replicates), in one line.
    """
    points = planned_points(spec)
    runs = points * len(spec.regimes) * spec.replicates
    if points > MAX_POINTS:
        what = "samples" if spec.design != "factorial" else "levels"
        raise SacaInputError(
            f"{spec.label}: the {spec.design} design has {points:,} points, above the limit "
            f"of {MAX_POINTS:,}; use fewer {what}"
        )
    if runs > MAX_RUNS:
        raise SacaInputError(
            f"{spec.label}: {points:,} points x {len(spec.regimes)} regimes x "
            f"{spec.replicates:,} replicates = {runs:,} runs, above the limit of "
            f"{MAX_RUNS:,} runs a sweep may hold; use fewer replicates, samples or levels, "
            "or split it into several sweeps"
        )
    return runs


def _coerce_at(info: ParamInfo, value: Any, where: str, fail: Callable) -> Any:
    if isinstance(value, list | dict):
        raise fail(f"[parameters] {info.key}: {where} must be a single value, got {value!r}")
    try:
        return coerce(info, value)
    except SacaInputError as exc:
        raise fail(f"[parameters] {info.key} {where}: {exc}") from None


def _levels_factor(info: ParamInfo, value: list, kind: str, fail: Callable) -> dsg.Factor:
    if kind != "factorial":
        raise fail(
            f'[parameters] {info.key} lists levels, which need design = "factorial"; '
            f"give a range {{ min = ..., max = ... }} for a {kind} design"
        )
    if not value:
        raise fail(f"[parameters] {info.key} has an empty list of levels")
    levels = [_coerce_at(info, v, f"level {v!r}", fail) for v in value]
    if len(set(levels)) < len(levels):
        raise fail(f"[parameters] {info.key} repeats a level: {value!r}")
    return dsg.Factor(info.key, info.kind, levels=tuple(levels))


def _range_factor(info: ParamInfo, value: dict, kind: str, fail: Callable) -> dsg.Factor:
    key = info.key
    for k in value:
        if k not in RANGE_KEYS:
            raise fail(
                f"[parameters] {key}: unknown key {k!r} in a range; "
                f"{did_you_mean(k, RANGE_KEYS)}a range is {{ min = ..., max = ... }}"
            )
    if info.kind not in ("float", "int"):
        allowed = "true, false" if info.kind == "bool" else ", ".join(info.choices or ())
        raise fail(
            f"[parameters] {key} is a {info.kind} parameter and has no range; list the "
            f"values to use ({allowed}) in a factorial design"
        )
    if "min" not in value or "max" not in value:
        raise fail(f"[parameters] {key}: a range needs both min and max")
    lo = _coerce_at(info, value["min"], "min", fail)
    hi = _coerce_at(info, value["max"], "max", fail)
    if not lo < hi:
        raise fail(
            f"[parameters] {key}: bad range, min ({lo}) must be below max ({hi}); "
            "for a single value write it without braces"
        )
    levels = value.get("levels")
    if kind == "factorial":
        if levels is None:
            raise fail(
                f"[parameters] {key}: a range in a factorial design needs levels = N "
                "(N evenly spaced values from min to max), or give a list of levels"
            )
        if not _whole(levels) or levels < 2:
            raise fail(f"[parameters] {key}: levels must be a whole number >= 2, got {levels!r}")
        if levels > MAX_POINTS:
            raise fail(
                f"[parameters] {key}: levels = {levels} is above the limit of {MAX_POINTS:,} "
                "design points; use fewer levels"
            )
        try:
            grid = dsg.even_levels(key, info.kind, lo, hi, levels)
        except SacaInputError as exc:
            raise fail(str(exc)) from None
        return dsg.Factor(
            key, info.kind, levels=tuple(_coerce_at(info, g, "level", fail) for g in grid)
        )
    if levels is not None:
        grid = "; set the Morris grid with levels = N in [sweep]" if kind == "morris" else ""
        raise fail(
            f"[parameters] {key}: levels is for factorial designs; a {kind} design samples "
            f"the range{grid}"
        )
    return dsg.Factor(key, info.kind, lo=lo, hi=hi)


# ----- the plan: resolved inputs, design points and runs --------------------------------
def run_id(point: int, regime: str, replicate: int) -> str:
    """The stable id of a run, e.g. ``p00003-autonomous-r001``.

    Args:
        point: design point index.
        regime: regime label.
        replicate: replicate index.
    """
    return RUN_ID.format(point=point, regime=regime, replicate=replicate)


def seed_key(
    point: int, replicate: int, regime_index: int, common_random_numbers: bool = True
) -> tuple[int, ...]:
    """The spawn key of a run's SeedSequence.

    Args:
        point: design point index.
        replicate: replicate index.
        regime_index: the regime's position in the spec.
        common_random_numbers: if True the regimes share the key ``(point, replicate)``;
            otherwise it is ``(point, replicate, regime_index)``.
    """
    if common_random_numbers:
        return (point, replicate)
    return (point, replicate, regime_index)


def run_seed(root: int, key: Sequence[int]) -> np.random.SeedSequence:
    """A run's generator seed: ``SeedSequence(root, spawn_key=key)``.

    Args:
        root: the sweep's root seed.
        key: from :func:`seed_key`.
    """
    return np.random.SeedSequence(root, spawn_key=tuple(key))


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, as sent to a worker.

    Args:
        id: the run id.
        point: design point index.
        regime: regime label.
        replicate: replicate index.
        seed_key: spawn key of the run's SeedSequence.
        root_seed: the sweep's root seed.
        scenario: the scenario with ``[fixed]`` applied.
        settings: the regime with ``[fixed]`` applied.
        overrides: the design point's values (dotted keys), applied in the worker.
        steps: days to run.
        timeseries: return the daily series too.
    """

    id: str
    point: int
    regime: str
    replicate: int
    seed_key: tuple[int, ...]
    root_seed: int
    scenario: Scenario
    settings: Regime
    overrides: dict[str, Any]
    steps: int
    timeseries: bool = False

    @property
    def seed_text(self) -> str:
        """The run's seed as ``saca run --seed`` takes it: ``root:key,key`` (e.g. ``5:3,0``
        is ``SeedSequence(5, spawn_key=(3, 0))``; see
        :func:`saca.experiments.engine.runner.parse_seed`)."""
        return runner.seed_text(self.root_seed, self.seed_key)


@dataclass(frozen=True)
class Plan:
    """A spec resolved and validated: scenario, regimes, design, runs.

    Args:
        spec: the spec.
        scenario: the scenario with ``[fixed]`` applied.
        regimes: label → regime with ``[fixed]`` applied, in spec order.
        design: the design points.
        steps: days per run.
    """

    spec: SweepSpec
    scenario: Scenario
    regimes: dict[str, Regime]
    design: dsg.Design
    steps: int

    @property
    def n_runs(self) -> int:
        """Design points × regimes × replicates."""
        return len(self.design) * len(self.regimes) * self.spec.replicates

    @property
    def windows(self) -> list[str]:
        """The summary windows every run has: ``all`` and each phase the runs reach."""
        return [name for name, _, _ in windows(self.scenario.situation.timeline, self.steps)]

    @property
    def param_kinds(self) -> dict[str, str]:
        """Varied parameter key → kind, in spec order."""
        return {f.key: f.kind for f in self.design.factors}

    def ids(self) -> Iterator[str]:
        """Every run id, in run order (replicate, then point, then regime)."""
        for rep in range(self.spec.replicates):
            for point in range(len(self.design)):
                for label in self.regimes:
                    yield run_id(point, label, rep)

    def tasks(
        self, only: Iterable[str] | None = None, timeseries: bool = False
    ) -> Iterator[RunTask]:
        """The runs to do, in run order, built one at a time.

        Args:
            only: run ids to include; None includes all.
            timeseries: whether workers return daily series.
        """
        keep = None if only is None else set(only)
        crn = self.spec.common_random_numbers
        for rep in range(self.spec.replicates):
            for point in range(len(self.design)):
                values: dict[str, Any] | None = None
                for r_index, (label, reg) in enumerate(self.regimes.items()):
                    rid = run_id(point, label, rep)
                    if keep is not None and rid not in keep:
                        continue
                    if values is None:
                        values = self.design.values(point)
                    yield RunTask(
                        id=rid,
                        point=point,
                        regime=label,
                        replicate=rep,
                        seed_key=seed_key(point, rep, r_index, crn),
                        root_seed=self.spec.seed,
                        scenario=self.scenario,
                        settings=reg,
                        overrides=values,
                        steps=self.steps,
                        timeseries=timeseries,
                    )

    def inputs_hash(self) -> str:
        """SHA-256 of every resolved base parameter of the scenario and regimes."""
        flat = {label: io.flat_params(self.scenario, reg) for label, reg in self.regimes.items()}
        canon = json.dumps(io.jsonable(flat), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def prepare(spec: SweepSpec | str | Path) -> Plan:
    """Resolve a spec and validate every run's parameters before any run starts.

    Loads the scenario and regimes with ``[fixed]`` applied, builds the design and applies
    every design point to every regime with :func:`saca.model.scenario.apply_overrides` (the
    same checks as ``--set``, including the scenario's consistency).

    Args:
        spec: a :class:`SweepSpec` or the path of a spec file.

    Raises:
        SacaInputError: anything wrong, in one line naming the spec.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    check_size(spec)  # again: a spec may have been changed with dataclasses.replace
    label = spec.label
    regimes: dict[str, Regime] = {}
    scenario: Scenario | None = None
    problems = []
    for name in spec.regimes:  # every regime's mistake at once
        try:
            runner.resolve(spec.scenario, name, spec.fixed)
        except SacaInputError as exc:
            if f"{label}: {exc}" not in problems:
                problems.append(f"{label}: {exc}")
    if len(problems) > 1:
        raise many(problems)
    for name in spec.regimes:
        try:
            scenario, rlabel, reg = runner.resolve(spec.scenario, name, spec.fixed)
        except SacaInputError as exc:
            raise SacaInputError(f"{label}: {exc}") from None
        if rlabel in regimes:
            raise SacaInputError(
                f"{label}: two regimes are both named {rlabel!r}; give one file another name"
            )
        regimes[rlabel] = reg
    assert scenario is not None
    try:
        steps = runner.check_steps(spec.steps, scenario)
    except SacaInputError as exc:
        raise SacaInputError(f"{label}: {str(exc).replace('--steps', 'steps', 1)}") from None
    try:
        design = dsg.build(
            spec.design,
            spec.factors,
            spec.samples,
            spec.seed,
            spec.second_order,
            spec.levels or dsg.MORRIS_LEVELS,
        )
    except SacaInputError as exc:
        raise SacaInputError(f"{label}: {exc}") from None
    for point in range(len(design)):
        values = design.values(point)
        for rlabel, reg in regimes.items():
            try:
                apply_overrides(scenario, reg, values)
            except SacaInputError as exc:
                shown = ", ".join(f"{k}={v}" for k, v in values.items())
                raise SacaInputError(
                    f"{label}: design point {point} ({shown}) under regime {rlabel}: {exc}"
                ) from None
    return Plan(spec, scenario, regimes, design, steps)


# ----- one run in a worker --------------------------------------------------------------
@dataclass
class RunOutcome:
    """What a worker sends back for one run.

    Args:
        id: the run id.
        status: ``ok`` or ``failed``.
        error: ``Type: message`` of the exception, or None.
        traceback: the formatted traceback, or None.
        duration_s: wall time of the run in seconds.
        started: UTC start time (ISO 8601).
        worker: ``host/pid`` of the process that ran it.
        summary: one row per window (ok runs), tagged with the run's id columns.
        timeseries: one row per day if requested (ok runs), else None.
    """

    id: str
    status: str
    error: str | None
    traceback: str | None
    duration_s: float
    started: str
    worker: str
    summary: pd.DataFrame | None = None
    timeseries: pd.DataFrame | None = None


def _tag(df: pd.DataFrame, task: RunTask) -> pd.DataFrame:
    out = df.reset_index()
    for col in METRICS:
        out[col] = out[col].astype("float64")
    ids = {"id": task.id, "point": task.point, "regime": task.regime, "replicate": task.replicate}
    for i, (col, val) in enumerate(ids.items()):
        out.insert(i, col, val)
    return out


def execute(task: RunTask) -> RunOutcome:
    """Run one task and capture its results or its error (never raises an Exception).

    Args:
        task: the run.
    """
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    worker = f"{socket.gethostname()}/{os.getpid()}"
    t0 = time.perf_counter()
    try:
        summary, ts = runner.run_one(
            task.scenario,
            task.settings,
            run_seed(task.root_seed, task.seed_key),
            task.steps,
            task.overrides,
        )
        summary = _tag(summary, task)
        ts = _tag(ts, task) if task.timeseries else None
    except Exception as exc:
        return RunOutcome(
            task.id,
            "failed",
            f"{type(exc).__name__}: {exc}",
            traceback.format_exc(),
            time.perf_counter() - t0,
            started,
            worker,
        )
    return RunOutcome(
        task.id, "ok", None, None, time.perf_counter() - t0, started, worker, summary, ts
    )


def _failed(task: RunTask, exc: BaseException, why: str = "") -> RunOutcome:
    text = "".join(traceback.format_exception(exc))
    msg = f"{type(exc).__name__}: {exc}" + (f" ({why})" if why else "")
    return RunOutcome(task.id, "failed", msg, text, math.nan, "", "")


# ----- backends -------------------------------------------------------------------------
Item = tuple[RunTask, RunOutcome] | None
"""A finished run, or None when nothing finished for a moment (time to flush)."""


class _Serial:
    concurrency = 1

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def run(self, tasks: Iterator[RunTask]) -> Iterator[Item]:
        for task in tasks:
            yield task, execute(task)


STARTED = "started"
"""A worker's word that it has begun a run (the run's clock starts then)."""


def _worker_loop(conn: Any) -> None:
    """A worker process: receive a task, send back its outcome, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(STARTED)
        outcome = execute(task)
        try:
            conn.send(outcome)
        except Exception as exc:  # e.g. a result that cannot be pickled
            conn.send(_failed(task, exc, "its result could not be sent back"))


@contextlib.contextmanager
def _quiet_start() -> Iterator[None]:
    """Start children with SIGINT ignored, without losing a Ctrl-C meant for the parent.

    A spawned worker imports the model for a second or more before it can ignore Ctrl-C
    itself; a Ctrl-C then printed its KeyboardInterrupt traceback. An ignored signal stays
    ignored across exec, and Python keeps it so; SIGINT is blocked meanwhile, so a Ctrl-C
    in this moment reaches the parent once its handler is back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[None]:
    """Hold a Ctrl-C back until the block ends, then raise it.

    A dask LocalCluster interrupted half-built cannot be closed (dask's own exit hook then
    prints a traceback); once whole, it closes cleanly.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hit: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: hit.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if hit:
        raise KeyboardInterrupt


def _warm_up() -> None:
    """Import what a run needs (in a dask worker, before its first timed run)."""
    import model  # noqa: F401


def execute_batch(tasks: Sequence[RunTask]) -> list[RunOutcome]:
    """Run several tasks one after the other; each one's error is its own (never raises).

    A dask task carries a batch, so that the scheduler's cost per task is spread over
    several runs; a run that raises is recorded failed inside the batch, like in
    :func:`execute`, and the batch goes on.

    Args:
        tasks: the runs, in order.
    """
    return [execute(task) for task in tasks]


def _warm_up_plugin() -> Any:
    """A dask worker plugin that imports the model once, when a worker starts.

    Registered with the client, it runs on every worker there is and on every one that
    joins later (a restarted or replacement worker too), so no run pays for the imports.
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmUp(WorkerPlugin):
        """Imports ``model`` (and the runner) in a worker before its first task."""

        def setup(self, worker: Any) -> None:
            """Args: worker: the dask worker starting up."""
            _warm_up()

    return WarmUp()


def _timed_out(task: RunTask, seconds: float, how: str) -> RunOutcome:
    why = f"the run took longer than --run-timeout {seconds:g} s and was stopped ({how})"
    return _failed(task, TimeoutError(why))


@dataclass
class _Worker:
    proc: Any
    conn: Any
    task: RunTask | None = None
    deadline: float | None = None


class _Process:
    """Worker processes (spawned), each running one task at a time over its own pipe.

    A worker that dies (killed, crashed, out of memory) takes only its own run with it:
    that run is recorded as failed and a fresh worker takes its place. With a timeout, a
    run still going that long after its worker began it is stopped the same way (the
    worker is killed) and recorded as failed.
    """

    def __init__(self, workers: int, timeout: float | None = None) -> None:
        self.concurrency = workers
        self.timeout = timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=_worker_loop, args=(child,), daemon=True)
        with _quiet_start():
            proc.start()
        child.close()
        return _Worker(proc, parent)

    def __enter__(self) -> _Process:
        self._workers = [self._spawn() for _ in range(self.concurrency)]
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        for w in self._workers:
            if exc_type is None and w.task is None:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        for w in self._workers:
            if exc_type is None:
                w.proc.join(timeout=10)
            if w.proc.is_alive():
                w.proc.terminate()
                w.proc.join(timeout=10)
            w.conn.close()
        self._workers = []

    def _give(self, i: int, task: RunTask) -> None:
        w = self._workers[i]
        try:
            w.conn.send(task)
        except OSError:  # the worker died while idle: not this run's fault
            w.proc.join(timeout=1)
            self._workers[i] = w = self._spawn()
            w.conn.send(task)
        w.task = task
        w.deadline = None

    def _replace(self, i: int, kill: bool = False) -> None:
        w = self._workers[i]
        if kill:
            w.proc.kill()
        w.proc.join(timeout=5)
        if w.proc.is_alive():
            w.proc.terminate()
        w.conn.close()
        self._workers[i] = self._spawn()

    def _wait_for(self) -> float:
        """How long to wait for news: a tick, or less when a run's deadline is nearer."""
        deadlines = [w.deadline for w in self._workers if w.deadline is not None]
        if not deadlines:
            return TICK
        return max(0.0, min(TICK, min(deadlines) - time.monotonic()))

    def run(self, tasks: Iterator[RunTask]) -> Iterator[Item]:
        from multiprocessing.connection import wait as mp_wait

        exhausted = False
        while True:
            for i, w in enumerate(self._workers):
                if w.task is None and not exhausted:
                    task = next(tasks, None)
                    if task is None:
                        exhausted = True
                    else:
                        self._give(i, task)
            busy = [(i, w) for i, w in enumerate(self._workers) if w.task is not None]
            if not busy:
                return
            handles = [w.conn for _, w in busy] + [w.proc.sentinel for _, w in busy]
            ready = set(mp_wait(handles, timeout=self._wait_for()))
            finished: list[tuple[RunTask, RunOutcome]] = []
            for i, w in busy:
                task = w.task
                assert task is not None
                outcome: RunOutcome | None = None
                if w.conn in ready or w.proc.sentinel in ready:
                    try:
                        while outcome is None and w.conn.poll():
                            msg = w.conn.recv()
                            if msg == STARTED:
                                if self.timeout is not None:
                                    w.deadline = time.monotonic() + self.timeout
                            else:
                                outcome = msg
                    except (EOFError, OSError):
                        outcome = None
                    if outcome is None and not w.proc.is_alive():
                        # the process ended without an answer
                        w.proc.join(timeout=5)
                        code = w.proc.exitcode
                        how = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                        why = f"its worker process died ({how}): killed, crashed or out of memory"
                        outcome = _failed(task, ChildProcessError(why))
                        self._replace(i)
                    elif outcome is not None:
                        w.task = w.deadline = None
                if outcome is None and w.deadline is not None and time.monotonic() >= w.deadline:
                    assert self.timeout is not None
                    outcome = _timed_out(task, self.timeout, "its worker process was killed")
                    self._replace(i, kill=True)
                if outcome is not None:
                    finished.append((task, outcome))
            if not finished:
                yield None
                continue
            yield from finished


BATCH_SECONDS = 1.0
"""Run time a dask task aims to carry: runs go to the workers in batches of about this
many seconds (by the runs' mean time so far), so that the scheduler's per-task cost is
spread over several runs, while the workers still finish at about the same time."""
MAX_RUNS_PER_TASK = 16
"""Most runs in one dask task (very short runs would otherwise make a batch huge)."""


class _Dask:
    """A dask.distributed client: a LocalCluster, or an existing scheduler.

    Every worker imports the model once, when it starts (a worker plugin), and runs are
    sent in small batches (:data:`BATCH_SECONDS`). A run that raises fails only itself
    (:func:`execute_batch`). A worker that is lost has its batch redone by dask on another
    worker (runs are seeded, so a redone run gives the same result); a batch that dask
    gives up on (``KilledWorker``: it took down several workers) is split and its runs are
    sent again one at a time, and a run whose own task dask gives up on gets one more try
    alone on the cluster (it may have been lost beside the culprit), so only a run that
    kills its worker every time is recorded failed.

    With a timeout, a run's clock starts when the scheduler reports it processing on a
    worker; past the deadline the run is recorded failed, its future is cancelled and that
    worker is restarted through its nanny (dask cannot stop a running task otherwise; a
    worker without a nanny keeps computing the abandoned run in the background).
    """

    def __init__(
        self, workers: int, scheduler: str | None, key_prefix: str, timeout: float | None = None
    ) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self.prefix = key_prefix
        self.timeout = timeout
        self.concurrency = workers
        self.client: Any = None
        self.cluster: Any = None
        self._config: Any = None  # the dask settings of a LocalCluster, while it is open

    def __enter__(self) -> _Dask:
        import logging

        import dask
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            # The workers' statistical profiler samples every thread's stack each 10 ms;
            # with a pure-Python model it competes for the GIL and cost ~10% of throughput
            # (benchmarks/bench_sweep.py). A user's own cluster keeps its own settings.
            # in force while the pool is open: the nannies are made later (scale)
            self._config = dask.config.set({"distributed.worker.profile.enabled": False})
            try:
                with _deferred_interrupt():
                    self.cluster = LocalCluster(
                        n_workers=0,  # they are added below, once the plugin is in
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                    self.client = Client(self.cluster)
                    self._register_warm_up()
                # not waited for: runs queue at the scheduler and each worker starts on
                # them as soon as it is up, instead of all waiting for the slowest
                self.cluster.scale(self.workers)
            except BaseException:
                self.__exit__()
                raise
        else:
            target = {"address": self.scheduler}
            if Path(self.scheduler).is_file():  # a --scheduler-file written by dask scheduler
                target = {"scheduler_file": self.scheduler}
            try:
                self.client = Client(**target, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SacaInputError(
                    f"cannot connect to the dask scheduler at {self.scheduler}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}; "
                    "start one with `dask scheduler` and workers with `dask worker ADDRESS`"
                ) from None
            self._register_warm_up()
        self.concurrency = self.workers if self.cluster is not None else max(1, self._threads())
        return self

    def _register_warm_up(self) -> None:
        """Import the model in every worker there is and in every one that joins later; a
        run's clock (and a timeout's) then never includes the imports."""
        try:
            self.client.register_plugin(_warm_up_plugin(), name="saca-warm-up")
        except Exception:
            with contextlib.suppress(Exception):
                self.client.run(_warm_up)

    def _threads(self) -> int:
        try:
            return int(sum(self.client.nthreads().values()))
        except Exception:
            return self.workers

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None:
                self.client.close()
        with contextlib.suppress(Exception):
            if self.cluster is not None:
                self.cluster.close()
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None

    def _batch_size(self, seconds: float, runs: int) -> int:
        """Runs for the next task: one with a timeout (each run has its own clock) or before
        any run has finished, else about :data:`BATCH_SECONDS` of runs."""
        if self.timeout is not None or runs == 0 or seconds <= 0:
            return 1
        return max(1, min(MAX_RUNS_PER_TASK, round(BATCH_SECONDS * runs / seconds)))

    def run(self, tasks: Iterator[RunTask]) -> Iterator[Item]:
        from distributed import wait as dask_wait

        inflight: dict[Any, list[RunTask]] = {}
        began: dict[str, tuple[float, str]] = {}  # key -> (when seen processing, worker)
        alone: list[RunTask] = []  # runs of a batch dask gave up on, to send one by one
        again: set[str] = set()  # runs whose own task dask gave up on once already
        # Runs lost alone once get their last try with nothing else in flight, so that an
        # innocent run cannot be lost beside the culprit a second time.
        suspects: list[RunTask] = []
        solo: Any = None  # the future of the suspect running alone
        seconds, runs = 0.0, 0  # run time finished so far, for the batch size
        while True:
            # with a timeout no run waits in a worker's queue, where its clock would run
            window = (1 if self.timeout else 2) * max(1, self._threads())
            while len(inflight) < window and solo not in inflight:
                if suspects:
                    if inflight:
                        break
                    batch = [suspects.pop(0)]
                elif alone:
                    batch = [alone.pop(0)]
                else:
                    batch = list(itertools.islice(tasks, self._batch_size(seconds, runs)))
                    if not batch:
                        break
                key = f"{self.prefix}-{batch[0].id}" + (f"+{len(batch)}" if len(batch) > 1 else "")
                fut = self.client.submit(execute_batch, batch, key=key, pure=False)
                inflight[fut] = batch
                if batch[0].id in again:
                    solo = fut  # alone on the cluster until it finishes
            if not inflight:
                return
            try:
                done = dask_wait(list(inflight), timeout=TICK, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            finished = []
            if self.timeout is not None:
                finished += self._overdue(inflight, began, done)
            if not done and not finished:
                yield None
                continue
            for fut in done:
                batch = inflight.pop(fut)
                began.pop(str(fut.key), None)
                try:
                    outcomes = fut.result()
                except Exception as exc:  # KilledWorker, CancelledError, lost connection
                    if len(batch) > 1:
                        alone.extend(batch)  # find the run at fault: one task each
                    elif batch[0].id not in again:  # it may have been lost beside another
                        again.add(batch[0].id)
                        suspects.append(batch[0])
                    else:
                        finished.append(
                            (batch[0], _failed(batch[0], exc, "the dask worker failed"))
                        )
                else:
                    for task, res in zip(batch, outcomes, strict=True):
                        finished.append((task, res))
                        if res.duration_s == res.duration_s:
                            seconds += res.duration_s
                            runs += 1
                fut.release()
            yield from finished

    def _overdue(
        self, inflight: dict[Any, list[RunTask]], began: dict[str, tuple[float, str]], done: set
    ) -> list[tuple[RunTask, RunOutcome]]:
        """Runs past the timeout: recorded failed, cancelled, their workers restarted."""
        assert self.timeout is not None
        now = time.monotonic()
        with contextlib.suppress(Exception):
            for worker, keys in self.client.processing().items():
                for key in keys:
                    began.setdefault(str(key), (now, worker))
        out, restart = [], set()
        for fut in [f for f in inflight if f not in done]:
            start = began.get(str(fut.key))
            if start is not None and now - start[0] >= self.timeout:
                (task,) = inflight.pop(fut)  # with a timeout every task is one run
                began.pop(str(fut.key), None)
                out.append((task, _timed_out(task, self.timeout, "its dask worker restarted")))
                fut.cancel()
                restart.add(start[1])
        if restart:
            with contextlib.suppress(Exception):
                self.client.restart_workers(sorted(restart), raise_for_error=False)
        return out


def add_backend_options(parser: Any) -> None:
    """Add ``--backend``, ``--workers`` and ``--scheduler`` (read by :func:`check_backend`).

    Every command that runs a sweep (``saca sweep``, ``sensitivity``, ``map``, ``discover``)
    offers the same three, so a cluster is used the same way by all of them.

    Args:
        parser: an argparse parser or argument group.
    """
    parser.add_argument(
        "--backend",
        default=None,
        metavar="serial|process|dask",
        help="where runs execute (default: process; dask when --scheduler is given)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for process and a dask LocalCluster (default: all cores)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="connect to a running dask scheduler, e.g. tcp://host:8786, or the file of its "
        "--scheduler-file (implies --backend dask)",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a run that takes longer and record it as failed (timeout); the sweep goes "
        "on (default: no limit; the serial backend then runs each run in a child process)",
    )


def check_backend(
    backend: str | None, workers: int | None, scheduler: str | None
) -> tuple[str, int]:
    """Check the backend options; return the backend and the worker count.

    Args:
        backend: ``serial``, ``process``, ``dask`` or None (``dask`` with a scheduler,
            else ``process``).
        workers: worker processes (process, dask LocalCluster); None for all cores.
        scheduler: address of a running dask scheduler, or None.

    Raises:
        SacaInputError: an unknown backend or inconsistent options.
    """
    if backend is None:
        backend = "dask" if scheduler else "process"
    if backend not in BACKENDS:
        raise SacaInputError(
            f"unknown backend {backend!r}; {did_you_mean(backend, BACKENDS)}"
            f"choose one of {', '.join(BACKENDS)}"
        )
    if scheduler is not None and backend != "dask":
        raise SacaInputError("--scheduler needs --backend dask")
    if workers is not None and (not _whole(workers) or workers < 1):
        raise SacaInputError(f"--workers must be a whole number of at least 1, got {workers}")
    if backend == "serial":
        if workers not in (None, 1):
            raise SacaInputError("--workers applies to the process and dask backends")
        return backend, 1
    if scheduler is not None and workers is not None:
        raise SacaInputError(
            "--workers does not apply with --scheduler: the scheduler's workers run the runs"
        )
    return backend, workers or os.cpu_count() or 1


# ----- the sweep ------------------------------------------------------------------------
@dataclass
class SweepReport:
    """How a sweep session went.

    Args:
        out: the results directory.
        total: runs in the design.
        stored_before: runs already stored when the session started (skipped).
        ran: runs done in this session.
        ok: of those, successful.
        failed: of those, failed (recorded with their traceback).
        seconds: wall time of the session.
        complete: every run of the design is stored (ok or failed).
        failed_total: runs whose latest record is a failure, over the whole sweep.
        damaged: stored runs found damaged when the session started (run again).
    """

    out: Path
    total: int
    stored_before: int
    ran: int
    ok: int
    failed: int
    seconds: float
    complete: bool
    failed_total: int
    damaged: int = 0


def _read_meta(out: Path) -> dict[str, Any] | None:
    path = out / "meta.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SacaInputError(f"cannot read {path}: {exc}") from None


def _write_meta(out: Path, meta: Mapping[str, Any]) -> None:
    outdir.write_bytes((io.dumps(meta) + "\n").encode("utf-8"), out / "meta.json")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (e.g. a SLURM time limit) like Ctrl-C, so stored runs are flushed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _meta(plan: Plan, timeseries: bool) -> dict[str, Any]:
    spec, d = plan.spec, plan.design
    return {
        "kind": "sweep",
        "name": spec.name,
        "description": spec.data.get("sweep", {}).get("description", ""),
        "spec": spec.data,
        "spec_file": spec.label,
        "spec_dir": spec.base_dir,
        "spec_hash": spec.hash,
        "inputs_hash": plan.inputs_hash(),
        "scenario": plan.scenario.name,
        "regimes": list(plan.regimes),
        "replicates": spec.replicates,
        "seed": spec.seed,
        "steps": plan.steps,
        "design": {
            "kind": d.kind,
            "factors": [f.describe() for f in d.factors],
            "points": len(d),
            "samples": spec.samples,
            "second_order": spec.second_order,
            **({"levels": d.levels} if d.kind == "morris" else {}),
            "salib_problem": d.problem,
        },
        "runs": plan.n_runs,
        "run_id": RUN_ID,
        "run_order": "replicate, then design point, then regime",
        "common_random_numbers": spec.common_random_numbers,
        "seeding": (
            "run (point, regime, replicate): numpy.random.SeedSequence(seed, spawn_key="
            + (
                "(point, replicate)); the regimes of a point and replicate share it"
                if spec.common_random_numbers
                else "(point, replicate, regime_index))"
            )
            + f"; design sampler: SeedSequence(seed, spawn_key=({dsg.DESIGN_KEY},))"
        ),
        "fixed": spec.fixed,
        "command_line": (sizes.current() or sizes.Sizes()).record(),
        "parameters": {
            label: io.flat_params(plan.scenario, r) for label, r in plan.regimes.items()
        },
        "timeseries": timeseries,
        **io.provenance(),
        "sessions": [],
        "complete": False,
    }


class _Buffer:
    """Finished runs not yet on disk."""

    def __init__(self, store: SweepStore, session: int, flush_seconds: float) -> None:
        self.store = store
        self.session = session
        self.flush_seconds = flush_seconds
        self.rows: list[dict[str, Any]] = []
        self.summaries: list[pd.DataFrame] = []
        self.series: list[pd.DataFrame] = []
        self.since: float | None = None

    def add(self, task: RunTask, res: RunOutcome) -> None:
        self.rows.append(
            {
                "id": task.id,
                "point": task.point,
                "regime": task.regime,
                "replicate": task.replicate,
                "seed": task.seed_text,
                **task.overrides,
                "status": res.status,
                "error": res.error,
                "traceback": res.traceback,
                "duration_s": res.duration_s,
                "started": res.started,
                "worker": res.worker,
                "session": self.session,
            }
        )
        if res.summary is not None:
            self.summaries.append(res.summary)
        if res.timeseries is not None:
            self.series.append(res.timeseries)
        if self.since is None:
            self.since = time.monotonic()

    def due(self, gap: float) -> bool:
        """Flush now if waiting for the next run would keep these past the deadline."""
        if not self.rows:
            return False
        age = time.monotonic() - (self.since or 0.0)
        return len(self.rows) >= MAX_BATCH or age + gap >= self.flush_seconds

    def flush(self) -> None:
        if self.rows:
            self.store.write_batch(self.rows, self.summaries, self.series)
        self.rows, self.summaries, self.series, self.since = [], [], [], None


IDENTITY = ("spec.toml", "design.parquet")
"""The files a sweep writes before its ``meta.json``: alone they are a half-born folder."""


def _state(out: Path) -> tuple[dict[str, Any] | None, bool]:
    """The sweep's meta.json if ``out`` holds a sweep, and whether ``out`` has other files.

    A folder holding only a sweep's identity files without ``meta.json`` (a start killed
    or out of space before it was complete) holds no run: it counts as empty, and the
    next start or ``--resume`` writes it again.
    """
    if not out.is_dir():
        return None, False
    meta = _read_meta(out)
    if meta is None:
        names = {p.name for p in out.iterdir() if not p.name.startswith(".")}
        return None, bool(names - set(IDENTITY))
    return meta, outdir.holds_files(out)


def unborn(root: str | Path, *sweeps: str) -> bool:
    """Whether ``root`` holds nothing but sweep folders that never got their meta.json.

    Such a folder (a start killed in its first moments) holds no run and counts as empty.

    Args:
        root: an analysis's ``--out``.
        sweeps: the names of its sweep folders (e.g. ``runs``).
    """
    root = Path(root)
    names = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    if not names <= set(sweeps):
        return False
    return all(_state(root / n) == (None, False) for n in names)


def check_timeout(run_timeout: float | None) -> float | None:
    """Check ``--run-timeout``: None (off) or a positive number of seconds.

    Args:
        run_timeout: seconds a run may take before it is stopped and recorded failed.

    Raises:
        SacaInputError: not a positive finite number.
    """
    if run_timeout is None:
        return None
    try:
        value = float(run_timeout)
    except (TypeError, ValueError):
        raise SacaInputError(f"--run-timeout must be seconds, got {run_timeout!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise SacaInputError(
            f"--run-timeout must be a positive number of seconds, got {run_timeout!r}"
        )
    return value


def _check_state(
    out: Path,
    plan: Plan,
    resume: bool,
    rerun_failed: bool,
    timeseries: bool | None,
    force: bool,
    log: Callable[[str], None],
) -> tuple[dict[str, Any] | None, bool]:
    """Read and check the folder's state (under the lock): the meta to continue, or None."""
    meta, other = _state(out)
    if force and (other or meta is not None) and not (resume and _same(meta, plan)):
        dest = outdir.move_aside(out)
        log(f"saca sweep: moved the old contents of {out} to {dest}")
        meta, other = None, False
    if meta is None:
        if other:
            raise SacaInputError(
                f"--out {out} is not empty and holds no sweep; give a new or empty directory, "
                "or add --force to move its contents aside"
            )
        if rerun_failed:
            raise SacaInputError(f"{out} holds no sweep to rerun (no meta.json)")
        return None, bool(timeseries)
    if meta.get("kind") != "sweep":
        raise SacaInputError(
            f"--out {out} holds a saca {meta.get('kind', '?')}, not a sweep; give another "
            "--out, or add --force to move its contents aside"
        )
    if not resume and not _same(meta, plan):
        raise SacaInputError(
            f"--out {out} already holds the sweep {meta.get('name')!r} of another spec (hash "
            f"{str(meta.get('spec_hash'))[:12]}); give another --out, or add --force to move "
            "it aside"
        )
    if not resume:
        raise SacaInputError(
            f"--out {out} already holds the sweep {meta.get('name')!r}; add --resume to "
            "continue it, or give another directory"
        )
    if not _same(meta, plan):
        raise SacaInputError(
            f"{out} was written by a different spec (hash {str(meta.get('spec_hash'))[:12]}, "
            f"this one {plan.spec.hash[:12]}); resume it with the same spec, or give "
            "another --out"
        )
    if meta.get("inputs_hash") != plan.inputs_hash():
        raise SacaInputError(
            f"{out}: the scenario or regimes of the spec now resolve to other parameter "
            "values than when the sweep started (a preset or file changed); restore "
            "them, or start a new sweep"
        )
    stored_ts = bool(meta.get("timeseries"))
    if timeseries and not stored_ts:
        raise SacaInputError(
            f"{out} was started without --timeseries; resume it without, or start a new sweep"
        )
    return meta, stored_ts


def _same(meta: Mapping[str, Any] | None, plan: Plan) -> bool:
    return bool(meta) and meta.get("kind") == "sweep" and same_spec(meta, plan.spec)


def same_spec(meta: Mapping[str, Any], spec: SweepSpec) -> bool:
    """Whether a stored sweep's ``meta.json`` was written by this spec (``1`` = ``1.0``).

    Args:
        meta: the stored sweep's metadata.
        spec: the spec.
    """
    return meta.get("spec_hash") in (spec.hash, spec.legacy_hash)


def run_sweep(
    spec: SweepSpec | Plan | str | Path,
    out: str | Path,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    rerun_failed: bool = False,
    timeseries: bool | None = None,
    progress: bool | None = None,
    flush_seconds: float = FLUSH_SECONDS,
    run_timeout: float | None = None,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run a sweep, streaming every finished run to ``out``.

    The folder is locked before its state is read (:func:`saca.experiments.engine.outdir.locked`),
    so two writers never mix: the second is refused in one line naming the first. A new sweep's
    identity (``spec.toml``, ``design.parquet``) is written first and its ``meta.json`` last, so a
    kill leaves either no sweep (the next start writes it again) or a resumable one. Resuming
    verifies every stored file and run first and runs the damaged ones again.

    Args:
        spec: a :class:`SweepSpec`, a prepared :class:`Plan` or the path of a spec file.
        out: the results directory (created; must be new or empty unless resuming).
        backend: ``serial``, ``process`` or ``dask`` (see :func:`check_backend`).
        workers: worker processes for ``process`` and a dask LocalCluster.
        scheduler: address of a running dask scheduler (``tcp://host:8786``), or the
            JSON file its ``--scheduler-file`` option wrote.
        resume: continue the sweep stored in ``out`` (same spec): runs already stored are
            skipped; a new or empty ``out`` starts afresh.
        rerun_failed: like ``resume``, and also redo the runs recorded as failed.
        timeseries: store the daily time series of every run; None keeps what the stored
            sweep does (default False for a new one).
        progress: show progress on stderr: True or None (a tqdm bar on a terminal, a
            plain line every few seconds in a log, see :mod:`saca.experiments.engine.progress`), or
            False for none.
        flush_seconds: a finished run reaches the disk within about this many seconds.
        run_timeout: seconds a run may take; past it the run is stopped and recorded as
            failed (``TimeoutError``) and the sweep goes on. None (default): no limit.
            The serial backend then runs each run in one child process.
        force: move whatever ``out`` holds (other files, another sweep) aside to
            ``out.old-<time>`` instead of refusing.
        log: where one-line notices go (damaged runs, moved folders); default stderr.

    Returns:
        A :class:`SweepReport`. Failed runs do not raise; Ctrl-C or SIGTERM raises
        KeyboardInterrupt after storing every finished run.

    Raises:
        SacaInputError: a bad spec, options or directory, before any run.
        StorageError: the disk is full or a file cannot be written (one line).
    """
    plan = spec if isinstance(spec, Plan) else prepare(spec)
    backend, workers = check_backend(backend, workers, scheduler)
    run_timeout = check_timeout(run_timeout)
    out = io.prepare_out(out)
    resume = resume or rerun_failed
    say = log or say_line
    identity = {
        "command": "saca sweep",
        "name": plan.spec.name,
        "spec": plan.spec.label,
        "spec_hash": plan.spec.hash,
    }
    with outdir.locked(out, identity):
        # the state is read under the lock: nobody can change it until this sweep ends
        meta, ts = _check_state(out, plan, resume, rerun_failed, timeseries, force, say)
        t_start = time.perf_counter()
        prefix = f"saca-{plan.spec.hash[:10]}-{time.time_ns() % 10**9}"
        pool: Any
        if backend == "serial" and run_timeout is None:
            pool = _Serial()
        elif backend in ("serial", "process"):
            # a run can be stopped only from outside: with a timeout, serial runs go to
            # one child process
            pool = _Process(workers, run_timeout)
        else:
            pool = _Dask(workers, scheduler, prefix, run_timeout)
        try:
            with pool, _sigterm_as_interrupt():  # an unreachable scheduler: input error
                return _session(
                    plan,
                    out,
                    meta,
                    pool,
                    (backend, workers, scheduler),
                    rerun_failed,
                    ts,
                    progress,
                    flush_seconds,
                    t_start,
                    say,
                )
        except OSError as exc:
            raise outdir.storage_error(exc, out, _again(plan, out)) from None


def _again(plan: Plan, out: Path) -> str:
    """What to do after a storage error: free space, then resume."""
    spec = plan.spec.label if plan.spec.label != "spec" else "SPEC.toml"
    return f"free space or fix the disk, then resume: saca sweep {spec} --out {out} --resume"


def _birth(plan: Plan, out: Path) -> None:
    """Write a new sweep's identity files, each whole or not at all (meta.json comes last)."""
    outdir.write_bytes(plan.spec.text.encode("utf-8"), out / "spec.toml")
    tmp = out / ".design.parquet.tmp"
    io.write_parquet(plan.design.points.reset_index(), tmp)
    os.replace(tmp, out / "design.parquet")


def _session(
    plan: Plan,
    out: Path,
    meta: dict[str, Any] | None,
    pool: Any,
    how: tuple[str, int, str | None],
    rerun_failed: bool,
    timeseries: bool,
    progress: bool | None,
    flush_seconds: float,
    t_start: float,
    say: Callable[[str], None] = say_line,
) -> SweepReport:
    backend, workers, scheduler = how
    store = SweepStore(out, plan.param_kinds)
    damaged = 0
    if meta is None:
        meta = _meta(plan, timeseries)
        _birth(plan, out)
        mode = "start"
    else:
        store.clean()
        mode = "rerun-failed" if rerun_failed else "resume"
        found = store.verify(
            windows=len(plan.windows), days=plan.steps if timeseries else None, repair=True
        )
        if not found.ok:
            damaged = len(found.runs)
            what, _, detail = found.line(out).partition(" (")
            say(
                f"saca sweep: {what}, re-running ({detail.removesuffix(')')}; the damaged "
                f"files are kept in {out / 'damaged'})"
            )
        first = meta.get("git_commit")
        now = io.git_commit()
        if first != now:
            print(
                f"saca sweep: warning: the code is at commit {str(now)[:12]}, the sweep "
                f"started at {str(first)[:12]}; its runs may come from different versions",
                file=sys.stderr,
            )
    manifest = store.manifest()
    stored = dict(zip(manifest["id"], manifest["status"], strict=True))
    if rerun_failed:
        stored = {k: v for k, v in stored.items() if v != "failed"}
    pending = [rid for rid in plan.ids() if rid not in stored]
    session = len(meta["sessions"])
    record: dict[str, Any] = {
        "session": session,
        "mode": mode,
        "started": io.provenance()["timestamp"],
        "backend": backend,
        "workers": None if scheduler else workers,
        "scheduler": scheduler,
        "host": socket.gethostname(),
        "git_commit": io.git_commit(),
        "saca_version": io.versions()["saca"],
        "pending": len(pending),
        **({"damaged": damaged} if damaged else {}),
    }
    meta["sessions"].append(record)
    if pending:
        meta["complete"] = False  # until every run is stored again (a kill keeps it False)
    _write_meta(out, meta)
    buffer = _Buffer(store, session, flush_seconds)
    ok = failed = 0
    busy = 0.0
    total, before = plan.n_runs, plan.n_runs - len(pending)
    interrupted = False
    if progress is not False:  # a log says at once what this session is about to do
        on = f"the dask scheduler {scheduler}" if scheduler else f"{workers} {backend} worker"
        plural = "s" if not scheduler and workers != 1 else ""
        say(
            f"sweep {plan.spec.name}: {len(pending)} of {total} runs to do "
            f"({before} stored) on {on}{plural}; writing {out}"
        )
    bar = Progress(total, f"sweep {plan.spec.name}", initial=before, show=progress)
    try:
        for item in pool.run(plan.tasks(pending, timeseries)):
            if item is not None:
                task, res = item
                buffer.add(task, res)
                if res.status == "ok":
                    ok += 1
                else:
                    failed += 1
                if res.duration_s == res.duration_s:
                    busy += res.duration_s
                bar.update(1, failed=int(res.status != "ok"))
            else:
                bar.update(0)
            done = ok + failed
            gap = busy / done / max(1, pool.concurrency) if done else 0.0
            if buffer.due(gap):
                buffer.flush()
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        bar.close()
        buffer.flush()
        record.update(finished=io.provenance()["timestamp"], ran=ok + failed, ok=ok, failed=failed)
        record["interrupted"] = interrupted
        manifest = store.manifest()
        complete = not interrupted and set(plan.ids()) <= set(manifest["id"])
        if complete:
            store.compact()
        meta["complete"] = complete
        _write_meta(out, meta)
    return SweepReport(
        out=out,
        total=total,
        stored_before=before,
        ran=ok + failed,
        ok=ok,
        failed=failed,
        seconds=time.perf_counter() - t_start,
        complete=complete,
        failed_total=int((manifest["status"] == "failed").sum()),
        damaged=damaged,
    )


def rerun_failed(out: str | Path, **kwargs: Any) -> SweepReport:
    """Redo the runs of a stored sweep recorded as failed (and any not yet run).

    Args:
        out: the sweep directory.
        **kwargs: backend options as for :func:`run_sweep` (``backend``, ``workers``,
            ``scheduler``, ``progress``).
    """
    spec = stored_spec(out)
    return run_sweep(spec, out, rerun_failed=True, **kwargs)


def stored_spec(out: str | Path) -> SweepSpec:
    """The spec of a stored sweep, read from its ``spec.toml``.

    Args:
        out: the sweep directory.
    """
    out = Path(out)
    check_readable(out)
    meta = _read_meta(out) or {}
    if meta.get("kind") != "sweep":
        raise SacaInputError(f"{out} holds no sweep (meta.json kind is {meta.get('kind')!r})")
    # a sweep run by an analysis (saca sensitivity, ...) keeps that analysis's own table
    extra = tuple(k for k in meta.get("spec", {}) if k not in SPEC_TABLES)
    spec = load_spec(out / "spec.toml", base_dir=meta.get("spec_dir"), extra_tables=extra)
    # the copy is called spec.toml: the sweep's name is the one it was started with
    name = str(meta.get("name") or spec.name)
    return dataclasses.replace(spec, name=name, label=str(meta.get("spec_file", spec.label)))


# ----- dry run --------------------------------------------------------------------------
SAMPLE_RUNS = 5
"""Design points timed for an estimate: the low corner, the high corner, the centre and
two between (ordered by their scaled factor values), under the regimes in turn."""
SAMPLE_DAYS = 5
"""Days of each sample run: with a 1-day run of the same point, its build time and time
per day."""
CALIBRATE_SECONDS = 5.0
"""Budget of the calibrating run: the centre point for the whole run length (or as many
days as fit), which corrects the short runs for the costlier days later on (an emergency
costs about twice an ordinary day)."""


def _timed_run(task: RunTask, days: int) -> float:
    """Wall seconds of one real run of ``task`` cut to ``days`` days.

    Args:
        task: the run.
        days: days to run.
    """
    t0 = time.perf_counter()
    seed = run_seed(task.root_seed, task.seed_key)
    runner.run_one(task.scenario, task.settings, seed, days, task.overrides)
    return time.perf_counter() - t0


def _startup_seconds(backend: str) -> float:
    """Seconds for a fresh worker process to import what a run needs (measured).

    Args:
        backend: ``process`` or ``dask`` (dask workers import distributed too).
    """
    code = "import experiments.runner" + ("; import distributed" if backend == "dask" else "")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    return time.perf_counter() - t0 if proc.returncode == 0 else 0.0


def sample_tasks(plan: Plan, n: int = SAMPLE_RUNS) -> list[RunTask]:
    """Up to ``n`` runs spread over the design: its points ordered by the sum of their
    factor values scaled to 0..1 (text levels count as the middle), then the first, the last
    and evenly between; the regimes take turns.

    Args:
        plan: the prepared sweep.
        n: how many runs at most.
    """
    pts = plan.design.points
    if len(pts) == 0:
        return []
    score = pd.Series(0.0, index=range(len(pts)))
    for col in pts.columns:
        x = pd.to_numeric(pts[col], errors="coerce").astype("float64").reset_index(drop=True)
        span = x.max() - x.min()
        scaled = (x - x.min()) / span if span and span == span else x * 0.0
        score = score + scaled.fillna(0.5)
    order = score.sort_values(kind="stable").index.to_list()
    k = min(n, len(order))
    picks = sorted({order[round(i * (len(order) - 1) / max(1, k - 1))] for i in range(k)})
    labels = list(plan.regimes)
    # the regimes in turn; with fewer points than samples, more regimes of each point
    pairs = [(p, labels[i % len(labels)]) for i, p in enumerate(picks)]
    pairs += [(p, r) for p in picks for r in labels if (p, r) not in pairs]
    wanted = {run_id(p, r, 0): i for i, (p, r) in enumerate(pairs[: max(n, 1)])}
    return sorted(plan.tasks(only=wanted), key=lambda t: wanted[t.id])


def estimate(
    plan: Plan, workers: int = 1, pending: int | None = None, backend: str = "process"
) -> dict[str, Any]:
    """Count the runs and estimate the sweep's time from timed sample runs of the design.

    :func:`sample_tasks` picks up to :data:`SAMPLE_RUNS` runs across the design; each is
    run for 1 and :data:`SAMPLE_DAYS` days, which gives its build time and time per day, and
    so its time for the whole run length. The centre run is then run whole (or for as many
    days as :data:`CALIBRATE_SECONDS` allows) and all predictions are scaled by how far off
    its own was (later phases cost more than the first days). The mean over the samples is
    the time per run; their spread is given as ±. With workers, the time a fresh worker
    takes to import the model is measured and added, and the runs are shared out whole.

    Args:
        plan: the prepared sweep.
        workers: workers to share the runs.
        pending: runs still to do (resume); None for all.
        backend: ``process`` or ``dask`` (their start-up differs); ignored for 1 worker.
    """
    samples = sample_tasks(plan)
    steps = plan.steps
    _timed_run(samples[0], 1)  # warm up imports and caches
    k = min(SAMPLE_DAYS, steps)
    fits: list[tuple[float, float]] = []  # (build s, s per day) per sample
    for task in samples:
        t1 = _timed_run(task, 1)
        tk = _timed_run(task, k) if k > 1 else t1
        per_day = max(tk - t1, 0.0) / max(k - 1, 1)
        fits.append((max(t1 - per_day, 0.0), per_day if k > 1 else t1))
    predicted = [b + steps * d for b, d in fits]
    centre = len(samples) // 2
    b, d = fits[centre]
    if predicted[centre] <= CALIBRATE_SECONDS:
        days = steps
    else:  # as many days as the budget allows (none past the sample's when a day is free)
        days = min(steps, max(int((CALIBRATE_SECONDS - b) / d), k)) if d > 0 else k
    scale, calib = 1.0, ""
    if days > k:
        actual = _timed_run(samples[centre], days)
        scale = min(4.0, max(0.25, actual / (b + days * d))) if b + days * d > 0 else 1.0
        calib = f", one {days}-day run to calibrate (x{scale:.2f})"
    per_run_each = [p * scale for p in predicted]
    per_run = sum(per_run_each) / len(per_run_each)
    spread = (max(per_run_each) - min(per_run_each)) / 2 / per_run if per_run > 0 else 0.0
    n = plan.n_runs if pending is None else pending
    startup = _startup_seconds(backend) if workers > 1 and n > 0 else 0.0
    rounds = math.ceil(n / max(1, workers))
    return {
        "runs": plan.n_runs,
        "pending": n,
        "seconds_per_run": per_run,
        "serial_seconds": per_run * n,
        "workers": workers,
        "startup_seconds": startup,
        "parallel_seconds": startup + per_run * rounds if workers > 1 else per_run * n,
        "spread": spread,
        "samples": len(samples),
        "method": (
            f"estimate from {len(samples)} timed sample runs across the design ({k} days "
            f"each, scaled to {steps}{calib}), ±{spread:.0%} between them"
            + (f"; {startup:.1f} s worker start-up" if startup else "")
        ),
    }


def pending_runs(plan: Plan, out: str | Path, rerun_failed: bool = False) -> int:
    """How many runs of a plan are not yet stored in ``out`` (all if it holds nothing).

    Args:
        plan: the prepared sweep.
        out: the results directory.
        rerun_failed: count failed runs as pending.
    """
    out = Path(out)
    if not (out / "meta.json").is_file():
        return plan.n_runs
    manifest = SweepStore(out, plan.param_kinds).manifest()
    stored = set(
        manifest["id"] if not rerun_failed else manifest.loc[manifest["status"] == "ok", "id"]
    )
    return sum(1 for rid in plan.ids() if rid not in stored)


# ----- reading results ------------------------------------------------------------------
def read_meta(out: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a sweep directory.

    Args:
        out: the sweep directory.

    Raises:
        SacaInputError: not a sweep directory.
    """
    out = Path(out)
    check_readable(out)
    meta = _read_meta(out) or {}
    if meta.get("kind") != "sweep":
        raise SacaInputError(f"{out} holds no sweep (meta.json kind is {meta.get('kind')!r})")
    return meta


def _store_of(out: Path, meta: Mapping[str, Any]) -> SweepStore:
    kinds = {f["key"]: f["kind"] for f in meta["design"]["factors"]}
    return SweepStore(out, kinds)


def _order(df: pd.DataFrame, meta: Mapping[str, Any], extra: Sequence[str] = ()) -> pd.DataFrame:
    rank = {r: i for i, r in enumerate(meta["regimes"])}
    df = df.assign(_r=df["regime"].map(rank))
    df = df.sort_values(["point", "_r", "replicate", *extra], kind="stable")
    return df.drop(columns="_r").reset_index(drop=True)


def verify(out: str | Path, deep: bool = True) -> str:
    """Check a stored sweep's files and runs (read only); describe it, or raise.

    Args:
        out: the sweep directory.
        deep: also checksum and read the time-series files.

    Returns:
        One line: files and runs checked.

    Raises:
        SacaInputError: not a sweep directory.
        StorageError: something is damaged or missing, in one line saying how to repair.
    """
    out = Path(out)
    meta = read_meta(out)
    store = _store_of(out, meta)
    # every ok run must have summary rows; how many per run is checked on --resume,
    # where the plan knows its windows
    found = store.verify(days=meta.get("steps") if meta.get("timeseries") else None, deep=deep)
    if not found.ok:
        spec = meta.get("spec_file") or "SPEC.toml"
        raise outdir.StorageError(
            f"{out} is damaged: {found.line(out)}; resume the command that wrote it to run "
            f"them again (e.g. saca sweep {spec} --out {out} --resume)"
        )
    files = sum(len(g) for g in store.groups().values())
    runs = len(store.manifest())
    return (
        f"{files} files, {runs} stored runs; every file reads whole, the recorded checksums "
        "and row counts match, and every ok run has its rows"
    )


def load_results(out: str | Path, window: str | None = "all") -> pd.DataFrame:
    """A stored sweep as one DataFrame: one row per stored run.

    Columns: ``id``, ``point``, ``regime``, ``replicate``, ``seed``, one per varied
    parameter, ``status``, every metric over ``window`` (NaN for failed runs),
    ``duration_s``, ``error``, ``traceback``, ``started``, ``worker``, ``session``. Rows
    are ordered by point, regime (spec order) and replicate. Works while a sweep is still
    running or after it was killed (the runs stored so far).

    Args:
        out: the sweep directory.
        window: ``all`` (the whole run) or a phase name; None gives every window, one row
            per run and window, with a ``window`` column.

    Raises:
        SacaInputError: not a sweep directory, or an unknown window.
    """
    out = Path(out)
    meta = read_meta(out)
    store = _store_of(out, meta)
    man = store.manifest()
    ok = set(man.loc[man["status"] == "ok", "id"])
    filt = None if window is None else pc.field("window") == window
    summ = store.read(SUMMARY, ok, filt).drop(columns=["point", "regime", "replicate"])
    if window is not None:
        if ok and summ.empty:
            windows = sorted(set(store.read(SUMMARY, ok)["window"]))
            if not windows:
                raise outdir.StorageError(
                    f"{out}: the summary rows of all {len(ok)} ok runs are missing (a deleted "
                    f"or damaged file); check it with saca results --verify {out}"
                )
            raise SacaInputError(
                f"no window {window!r} in {out}; choose one of {', '.join(windows)}"
            )
        summ = summ.drop(columns="window")
    lacking = len(ok) - summ["id"].nunique()
    if lacking > 0:
        raise outdir.StorageError(
            f"{out}: {lacking} of {len(ok)} ok runs have no summary rows (a deleted or damaged "
            f"file); check it with saca results --verify {out}, and resume the sweep to run "
            "them again"
        )
    params = [f["key"] for f in meta["design"]["factors"]]
    head = ["id", "point", "regime", "replicate", "seed", *params, "status"]
    tail = ["duration_s", "error", "traceback", "started", "worker", "session"]
    df = man[head].merge(summ, on="id", how="left").merge(man[["id", *tail]], on="id")
    return _order(df, meta, ["window"] if window is None else [])


def load_timeseries(out: str | Path) -> pd.DataFrame:
    """The daily time series of a sweep stored with ``--timeseries``, one row per run-day.

    Columns: ``id``, ``point``, ``regime``, ``replicate``, the varied parameters, ``day``,
    ``phase`` and every metric.

    Args:
        out: the sweep directory.

    Raises:
        SacaInputError: not a sweep directory, or no time series stored.
    """
    out = Path(out)
    meta = read_meta(out)
    if not meta.get("timeseries"):
        raise SacaInputError(f"{out} has no time series; run the sweep with --timeseries")
    store = _store_of(out, meta)
    man = store.manifest()
    ok = set(man.loc[man["status"] == "ok", "id"])
    ts = store.read(TIMESERIES, ok)
    params = [f["key"] for f in meta["design"]["factors"]]
    ts = ts.merge(man[["id", *params]], on="id", how="left")
    cols = ["id", "point", "regime", "replicate", *params, "day", "phase", *METRICS]
    return _order(ts[cols], meta, ["day"])


__all__ = [
    "BACKENDS",
    "MANIFEST",
    "Plan",
    "RunOutcome",
    "RunTask",
    "SweepReport",
    "SweepSpec",
    "check_backend",
    "check_size",
    "check_timeout",
    "estimate",
    "execute",
    "load_results",
    "load_spec",
    "load_timeseries",
    "parse_spec",
    "pending_runs",
    "planned_points",
    "prepare",
    "read_meta",
    "rerun_failed",
    "run_id",
    "run_seed",
    "run_sweep",
    "same_spec",
    "seed_key",
    "stored_spec",
    "unborn",
    "verify",
]


def plan_line(plan: Plan) -> str:
    """One line naming the design, its size and the root seed of a checked sweep plan."""
    spec, d = plan.spec, plan.design
    what = {
        "factorial": "factorial design",
        "lhs": "Latin hypercube",
        "sobol": "Sobol (Saltelli) design",
        "morris": "Morris (elementary effects) design",
    }[d.kind]
    points = f"{len(d)} point{'s' if len(d) != 1 else ''}"
    regs = f"{len(plan.regimes)} regime{'s' if len(plan.regimes) != 1 else ''}"
    reps = f"{spec.replicates} replicate{'s' if spec.replicates != 1 else ''}"
    return (
        f"saca sweep {spec.name}: {what}, {points} x {regs} x {reps} = {plan.n_runs} runs "
        f"of {plan.steps} days (scenario {plan.scenario.name}, root seed {spec.seed})"
    )
