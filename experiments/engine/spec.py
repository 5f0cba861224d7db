"""Sweep specs: a TOML file → a checked :class:`SweepSpec` (every mistake at once).

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

Every value is checked with the same coercion as ``--set`` (ranges at both ends); every
design point under every regime is validated by :func:`saca.experiments.engine.plan.prepare`
before the first run.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saca.experiments.engine import constants, runner, seeds, sizes
from saca.experiments.engine import design as dsg
from saca.model import SacaInputError
from saca.model.parameters import ParamInfo, coerce, did_you_mean, read_toml, unknown_key_error
from saca.model.scenario import all_params

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


MAX_RUNS = 1_000_000
"""Most runs a sweep may plan: the plan's run ids and the manifest are held in memory
(about 100 bytes a run), and a million runs of a second each is already 12 days of a core.
Checked arithmetically, before anything is built."""
MAX_POINTS = 1_000_000


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
    data, text = read_toml(path, "sweep spec")
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
    if not _whole(seed) or not 0 <= seed <= seeds.MAX_SEED:
        raise fail(f"seed must be a whole number from 0 to {seeds.MAX_SEED}, got {seed!r}")
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


def same_spec(meta: Mapping[str, Any], spec: SweepSpec) -> bool:
    """Whether a stored sweep's ``meta.json`` was written by this spec (``1`` = ``1.0``).

    Args:
        meta: the stored sweep's metadata.
        spec: the spec.
    """
    return meta.get("spec_hash") in (spec.hash, spec.legacy_hash)
