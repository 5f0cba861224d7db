"""Pattern-oriented validation: one replicated experiment per pattern P1-P16.

Each pattern of the source studies (``SEEDS.md``; ODD §1) has a TOML file in
``experiments/patterns/`` that a researcher can read: the claim, the passage it comes from,
the experiment (scenario, base regime, fixed overrides, replicates, root seed), one or more
*tests* (a contrast, a metric, a window and the expected sign) and the mechanism that is
meant to produce it. Nothing here touches the model: every run is an ordinary run of
:class:`model.CollaborationModel` through :mod:`saca.experiments.engine.runner`.

Contrasts and their effects (every arm of a test runs with the same replicate seeds,
``SeedSequence(seed).spawn(replicates)``, so effects are computed per replicate and the
95% CI is a Student t interval over replicates):

``regimes`` (two presets ``a``, ``b``) and ``switch`` (``key`` from ``off`` to ``on``)
    paired difference ``b - a`` (``on - off``), :func:`saca.experiments.stats.paired_diff_ci`.
``change``
    within the same run: the metric in window ``after`` minus window ``before``.
``gradient``
    OLS slope of the metric on ``key`` over its ``values``, one slope per replicate.
``optimum``
    ``J(middle) - max(J(lowest value), J(highest value))`` per replicate: an interior
    setting beats both ends.
``interaction``
    per replicate, the slope of the metric on ``key`` at each level of ``by``, then the
    slope of those slopes on ``by``: how the effect of ``key`` changes with ``by``.
``level``
    the metric minus a ``threshold``.

Verdict of a test: *reproduced* when the CI lies beyond the test's ``min_effect`` (0
unless the file says otherwise) in the expected direction, *not reproduced* when it
excludes zero the other way, *inconclusive* otherwise. Both criteria, the direction and the
minimum effect, are fixed in the pattern file before the run, so a changed criterion shows
in version control.

Kind of a test: *emergent* (the effect arises from interacting mechanisms, its sign not
fixed by any one rule) or *definitional* (it restates an input: a starting value, a lookup
table, a share or a factor the test reads back; the file says why). A pattern is
reproduced when all its emergent tests are, not reproduced when any emergent test is, else
inconclusive; a pattern with no emergent test is *definitional only*, never reproduced.
Definitional tests still run and are reported, as checks that the inputs reach the
outputs.

Robustness: each reproduced pattern is rerun at the points of a Latin hypercube over the
situation (risk, capacity, cohesion, need rate) with a few replicates at the quick size;
a pattern *holds* at a point when every test's mean effect has the expected sign.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import resource
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import qmc

from saca.experiments import stats
from saca.experiments.engine import io, outdir, runner
from saca.experiments.engine.backends import run_tasks
from saca.experiments.engine.replicates import Task, run_task
from saca.experiments.engine.seeds import check_seed, replicate_seeds, robust_seed
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import read_toml
from saca.model.scenario import all_params, load_scenario

PATTERN_DIR = Path(__file__).resolve().parents[1] / "patterns"
EXPECTED_FILE = PATTERN_DIR / "expected.toml"

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
DEFINITIONAL_ONLY = "definitional only"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, DEFINITIONAL_ONLY)
"""Verdicts of a pattern; a test's verdict is one of the first three."""
EMERGENT, DEFINITIONAL = "emergent", "definitional"
TEST_KINDS = (EMERGENT, DEFINITIONAL)
KINDS = ("regimes", "switch", "change", "gradient", "optimum", "interaction", "level")

QUICK_SIZE: dict[str, Any] = {
    "situation.households": 2400,
    "situation.grids": 24,
    "situation.communities": 6,
    "situation.streets": 2,
}
"""Quick mode's district: the six-community district of the ``baseline`` and ``emergency``
scenarios. Quick mode saves time by shortening the run, not by shrinking the district: at
this size a run's cost is mostly per-run overhead (a 1,600-household, four-community
district runs only ~20 % faster), while fewer households per community would change the
load per cadre and fewer communities would starve the between-community metrics (P10,
P15, P16)."""
QUICK_DAYS = 72
"""Quick mode's run length (every phase shortened in proportion: the emergency timeline
becomes 12 days normal, 24 emergency, 36 recovery)."""
QUICK_REPLICATES = 5

ROBUST_RANGES: dict[str, tuple[float, float]] = {
    "situation.risk": (0.3, 0.95),
    "situation.capacity_mean": (0.2, 0.8),
    "situation.cohesion_mean": (0.2, 0.8),
    "situation.need_rate": (0.006, 0.02),
}
"""The situations of the robustness check: a Latin hypercube over these ranges."""
ROBUST_POINTS = 30
ROBUST_REPLICATES = 3


# ===== specs ============================================================================
@dataclass(frozen=True)
class Contrast:
    """What a test varies. Fields by ``kind``: see the module docstring."""

    kind: str
    a: str | None = None
    b: str | None = None
    key: str | None = None
    values: tuple[Any, ...] = ()
    middle: Any = None
    by: str | None = None
    by_values: tuple[Any, ...] = ()
    before: str | None = None
    after: str | None = None
    threshold: float | None = None

    def describe(self) -> str:
        """One line: what the effect of this contrast is."""
        k = self.kind
        if k == "regimes":
            return f"regime {self.b} − regime {self.a} (paired)"
        if k == "switch":
            return f"{self.key} = {_v(self.values[1])} − {_v(self.values[0])} (paired)"
        if k == "change":
            return f"window {self.after} − window {self.before} (same runs)"
        if k == "gradient":
            return f"slope per unit of {self.key} over {_vals(self.values)}"
        if k == "optimum":
            return (
                f"{self.key} = {_v(self.middle)} minus the better of {_v(min(self.values))} "
                f"and {_v(max(self.values))}"
            )
        if k == "interaction":
            return (
                f"change, per unit of {self.by} ({_vals(self.by_values)}), of the slope on "
                f"{self.key} ({_vals(self.values)})"
            )
        return f"mean − {self.threshold:g}"


@dataclass(frozen=True)
class Test:
    """One row of a pattern: a contrast, a metric in a window, an expected sign."""

    label: str
    metric: tuple[tuple[str, float], ...]
    window: str
    expected: int
    contrast: Contrast
    scenario: str
    regime: str
    overrides: tuple[tuple[str, Any], ...] = ()
    kind: str = EMERGENT
    why: str = ""
    min_effect: float = 0.0

    @property
    def metric_label(self) -> str:
        """The metric as written, e.g. ``efficacy − efficacy_sd_between_communities``."""
        return metric_text(self.metric)


@dataclass(frozen=True)
class Pattern:
    """One pattern's experiment, read from ``experiments/patterns/Pnn.toml``."""

    id: str
    title: str
    claim: str
    seed_study: str
    passage: str
    scenario: str
    regime: str
    replicates: int
    quick_replicates: int
    seed: int
    tests: tuple[Test, ...]
    mechanism: str
    parameters: tuple[str, ...]
    diagnosis: str = ""
    overrides: tuple[tuple[str, Any], ...] = ()
    path: str = ""

    @property
    def number(self) -> int:
        """The pattern's number (1 for P1)."""
        return int(self.id[1:])


def _v(x: Any) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def _vals(values: Sequence[Any]) -> str:
    return "[" + ", ".join(_v(x) for x in values) + "]"


def metric_text(metric: Sequence[tuple[str, float]]) -> str:
    """A linear combination of metrics as text.

    Args:
        metric: ``(name, coefficient)`` pairs.
    """
    parts = []
    for i, (name, c) in enumerate(metric):
        mag = "" if abs(c) == 1 else f"{abs(c):g}·"
        sign = ("− " if c < 0 else "+ ") if i else ("−" if c < 0 else "")
        parts.append(f"{sign}{mag}{name}")
    return " ".join(parts)


def pattern_id(text: str) -> str:
    """Normalise a pattern name: ``p1``, ``P01`` and ``1`` all give ``P1``.

    Args:
        text: as typed.

    Raises:
        SacaInputError: not of the form ``P<number>``.
    """
    t = str(text).strip().upper().removeprefix("P")
    if not t.isdigit():
        raise SacaInputError(f"pattern {text!r} is not a pattern id; give e.g. P1 or P12")
    return f"P{int(t)}"


class _Spec:
    """Reads one table of a pattern file, naming the file and key in every error."""

    def __init__(self, where: str, data: Mapping[str, Any]) -> None:
        self.where, self.data, self.used = where, data, set()

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise SacaInputError(f"{self.where}: missing {key!r}")
            return default
        v = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(v, kinds) and not (isinstance(v, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            raise SacaInputError(f"{self.where}: {key!r} must be a {names}, got {v!r}")
        return v

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            raise SacaInputError(f"{self.where}: unknown key {extra[0]!r}")


def _metric(where: str, raw: Any) -> tuple[tuple[str, float], ...]:
    if isinstance(raw, str):
        raw = {raw: 1.0}
    if not isinstance(raw, dict) or not raw:
        raise SacaInputError(
            f"{where}: metric must be a metric name or a table of name = coefficient"
        )
    out = []
    for name, c in raw.items():
        if name not in METRICS:
            raise SacaInputError(f"{where}: unknown metric {name!r}; see saca list")
        if isinstance(c, bool) or not isinstance(c, int | float) or c == 0:
            raise SacaInputError(f"{where}: coefficient of {name!r} must be a non-zero number")
        out.append((name, float(c)))
    return tuple(out)


def _window_ok(where: str, window: str) -> None:
    if window == "all" or window in ("normal", "emergency", "recovery"):
        return
    if window.startswith("span:"):
        try:
            a, b = (float(x) for x in window[5:].split("-"))
        except ValueError:
            a, b = -1.0, -1.0
        if 0 <= a < b <= 1:
            return
    raise SacaInputError(
        f"{where}: window {window!r} must be all, a phase (normal, emergency, recovery) or "
        "span:A-B with fractions of the run 0 <= A < B <= 1"
    )


def _values(where: str, raw: Any, n_min: int = 2) -> tuple[Any, ...]:
    if not isinstance(raw, list) or len(raw) < n_min:
        raise SacaInputError(f"{where}: values must be a list of at least {n_min} values")
    return tuple(raw)


def _numeric(where: str, values: Sequence[Any]) -> None:
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise SacaInputError(f"{where}: the values of a gradient must be numbers")
    if len(set(values)) != len(values):
        raise SacaInputError(f"{where}: values must differ")


def _contrast(where: str, raw: Any) -> Contrast:
    if not isinstance(raw, dict):
        raise SacaInputError(f"{where}: contrast must be a table with a kind")
    c = _Spec(f"{where} contrast", raw)
    kind = c.get("kind", str)
    if kind not in KINDS:
        raise SacaInputError(f"{where}: contrast kind {kind!r} is not one of {', '.join(KINDS)}")
    w = f"{where} ({kind})"
    if kind == "regimes":
        out = Contrast(kind, a=c.get("a", str), b=c.get("b", str))
    elif kind == "switch":
        off, on = c.get("off", (bool, int, float, str)), c.get("on", (bool, int, float, str))
        out = Contrast(kind, key=c.get("key", str), values=(off, on))
    elif kind == "change":
        out = Contrast(kind, before=c.get("before", str), after=c.get("after", str))
        _window_ok(w, out.before or "")
        _window_ok(w, out.after or "")
    elif kind in ("gradient", "optimum"):
        vals = _values(w, c.get("values", list), 3 if kind == "optimum" else 2)
        _numeric(w, vals)
        middle = None
        if kind == "optimum":
            middle = c.get("middle", (int, float))
            if middle not in vals or middle in (min(vals), max(vals)):
                raise SacaInputError(f"{w}: middle must be one of the values, not an end")
        out = Contrast(kind, key=c.get("key", str), values=vals, middle=middle)
    elif kind == "interaction":
        vals = _values(w, c.get("values", list))
        by_vals = _values(w, c.get("by_values", list))
        _numeric(w, vals)
        _numeric(w, by_vals)
        out = Contrast(
            kind, key=c.get("key", str), values=vals, by=c.get("by", str), by_values=by_vals
        )
    else:
        out = Contrast(kind, threshold=float(c.get("threshold", (int, float))))
    c.done()
    return out


def _overrides(where: str, raw: Any) -> tuple[tuple[str, Any], ...]:
    if not isinstance(raw, dict):
        raise SacaInputError(f"{where}: overrides must be a table of dotted key = value")
    return tuple(raw.items())


def load_pattern(path: str | Path) -> Pattern:
    """Read and check one pattern file (no simulation).

    Args:
        path: the TOML file.

    Raises:
        SacaInputError: unreadable file, missing or unknown keys, wrong types, unknown
            metrics, windows, regimes, scenarios or parameter keys.
    """
    path = Path(path)
    name = path.name
    data, _ = read_toml(path, "pattern file")
    top = _Spec(name, data)
    pid = pattern_id(top.get("id", str))
    src = _Spec(f"{name} [source]", top.get("source", dict))
    exp = _Spec(f"{name} [experiment]", top.get("experiment", dict))
    mech = _Spec(f"{name} [mechanism]", top.get("mechanism", dict))
    scenario = exp.get("scenario", str)
    regime = exp.get("regime", str)
    base_ov = _overrides(f"{name} [experiment]", exp.get("overrides", dict, {}))
    replicates = exp.get("replicates", int)
    quick_reps = exp.get("quick_replicates", int, QUICK_REPLICATES)
    if replicates < 2 or quick_reps < 2:
        raise SacaInputError(f"{name}: replicates must be at least 2")
    seed = check_seed(exp.get("seed", int))
    raw_tests = top.get("test", list)
    if not raw_tests:
        raise SacaInputError(f"{name}: give at least one [[test]]")
    tests = []
    for i, raw in enumerate(raw_tests, 1):
        if not isinstance(raw, dict):
            raise SacaInputError(f"{name}: [[test]] {i} must be a table")
        t = _Spec(f"{name} test {i}", raw)
        where = f"{name} test {i}"
        window = t.get("window", str, "all")
        _window_ok(where, window)
        sign = t.get("expected", str)
        if sign not in ("+", "-"):
            raise SacaInputError(f"{where}: expected must be '+' or '-', got {sign!r}")
        kind = t.get("kind", str)
        if kind not in TEST_KINDS:
            raise SacaInputError(
                f"{where}: kind must be 'emergent' or 'definitional', got {kind!r}"
            )
        why = " ".join(t.get("why", str, "").split())
        if kind == DEFINITIONAL and not why:
            raise SacaInputError(
                f'{where}: a definitional test needs why = "...": which input it restates'
            )
        min_effect = t.get("min_effect", (int, float), 0.0)
        if isinstance(min_effect, bool) or not math.isfinite(min_effect) or min_effect < 0:
            raise SacaInputError(
                f"{where}: min_effect must be a number >= 0 (its size, the sign is expected), "
                f"got {min_effect!r}"
            )
        test = Test(
            label=t.get("label", str),
            metric=_metric(where, t.get("metric", (str, dict))),
            window=window,
            expected=1 if sign == "+" else -1,
            contrast=_contrast(where, t.get("contrast", dict)),
            scenario=t.get("scenario", str, scenario),
            regime=t.get("regime", str, regime),
            overrides=base_ov + _overrides(where, t.get("overrides", dict, {})),
            kind=kind,
            why=why,
            min_effect=float(min_effect),
        )
        t.done()
        tests.append(test)
    pattern = Pattern(
        id=pid,
        title=top.get("title", str),
        claim=top.get("claim", str),
        seed_study=src.get("seed", str),
        passage=src.get("passage", str),
        scenario=scenario,
        regime=regime,
        replicates=replicates,
        quick_replicates=quick_reps,
        seed=seed,
        tests=tuple(tests),
        mechanism=mech.get("chain", str),
        parameters=tuple(mech.get("parameters", list)),
        diagnosis=mech.get("diagnosis", str, ""),
        overrides=base_ov,
        path=str(path),
    )
    for s in (top, src, exp, mech):
        s.done()
    known = {info.key for info in all_params()}
    for key in pattern.parameters:
        if key not in known:
            raise SacaInputError(f"{name} [mechanism]: parameters lists unknown key {key!r}")
    for test in pattern.tests:  # every arm resolves: keys, values, presets, windows
        for arm in arms(test):
            try:
                spec = _resolve(arm, {})[0]
            except SacaInputError as exc:
                raise SacaInputError(f"{name} test {test.label!r}: {exc}") from None
            _check_window(name, test, spec)
    return pattern


def _check_window(name: str, test: Test, spec: Any) -> None:
    phases = {p.name for p in spec.situation.timeline}
    wins = [test.contrast.before, test.contrast.after] if test.contrast.kind == "change" else []
    for w in [test.window, *wins]:
        if w in ("normal", "emergency", "recovery") and w not in phases:
            raise SacaInputError(
                f"{name} test {test.label!r}: window {w!r} is not a phase of scenario {spec.name!r}"
            )


def load_patterns(
    ids: Sequence[str] | None = None, directory: str | Path | None = None
) -> list[Pattern]:
    """Load the pattern files ``P*.toml`` of a directory, in pattern order.

    Args:
        ids: pattern ids to keep (e.g. ``["P1", "P12"]``); None keeps all.
        directory: where the files are; default ``experiments/patterns``.

    Raises:
        SacaInputError: an unknown id, a bad file, two files with the same id.
    """
    directory = Path(directory) if directory is not None else PATTERN_DIR
    if not directory.is_dir():
        raise SacaInputError(f"pattern directory {directory} does not exist")
    files = sorted(directory.glob("P*.toml"))
    if not files:
        raise SacaInputError(f"no pattern files P*.toml in {directory}")
    found: dict[str, Pattern] = {}
    wanted = None if ids is None else [pattern_id(i) for i in ids]
    for f in files:
        try:
            pid = pattern_id(f.stem)
        except SacaInputError:
            raise SacaInputError(f"pattern file {f.name}: name it P<number>.toml") from None
        if wanted is not None and pid not in wanted:
            continue
        p = load_pattern(f)
        if p.id != pid:
            raise SacaInputError(f"pattern file {f.name} says id = {p.id!r}; make them agree")
        if p.id in found:
            raise SacaInputError(f"two pattern files for {p.id}")
        found[p.id] = p
    if wanted is not None:
        missing = [i for i in wanted if i not in found]
        if missing:
            known = ", ".join(sorted(found, key=lambda s: int(s[1:]))) or "none"
            have = sorted((pattern_id(f.stem) for f in files), key=lambda s: int(s[1:]))
            raise SacaInputError(
                f"unknown pattern {missing[0]}; known: {', '.join(have) if have else known}"
            )
        return [found[i] for i in dict.fromkeys(wanted)]
    return sorted(found.values(), key=lambda p: p.number)


def parse_pattern_list(text: str | None) -> list[str] | None:
    """``--pattern P1,P3`` as a list of ids (None for all).

    Args:
        text: the option's value.
    """
    if text is None:
        return None
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise SacaInputError(f"--pattern {text!r} has an empty item; give e.g. P1,P3")
    return [pattern_id(t) for t in items]


def load_expected(path: str | Path = EXPECTED_FILE) -> dict[str, dict[str, str]]:
    """The expected verdicts, ``{"quick": {id: verdict}, "full": {...}}``.

    Args:
        path: the TOML file.
    """
    data, _ = read_toml(path, "expected verdicts")
    out: dict[str, dict[str, str]] = {}
    for mode in ("quick", "full"):
        table = data.get(mode, {})
        for pid, v in table.items():
            if v not in VERDICTS:
                raise SacaInputError(f"{path}: [{mode}] {pid} = {v!r} is not a verdict")
        out[mode] = {pattern_id(k): v for k, v in table.items()}
    return out


def load_provenance(path: str | Path = EXPECTED_FILE) -> dict[str, dict[str, Any]]:
    """Which run produced each section of the expected verdicts: ``{"quick": {commit,
    timestamp, full, runs}, "full": {...}}`` (a section written by hand has none).

    Args:
        path: the TOML file.
    """
    data, _ = read_toml(path, "expected verdicts")
    prov = data.get("provenance", {})
    return {mode: dict(prov.get(mode, {})) for mode in ("quick", "full")}


EXPECTED_HEADER = """\
# Expected verdicts of `saca validate` (a pattern's verdict is judged on its emergent
# tests; "definitional only" when it has none). tests/test_validate.py runs the quick
# validation and fails when a pattern listed here as "reproduced" under [quick] is
# anything else.
#
# Written by `saca validate --write-expected` from a run of every pattern at its files'
# replicates, never by hand: [quick] from `saca validate --quick --write-expected`
# (72-day runs, 5 replicates), [full] from `saca validate --write-expected` (180 days,
# 10 replicates), the run behind docs/VALIDATION.md. [provenance.<mode>] records the
# commit whose code produced each section, and full = true only for the full run.
"""


def require_complete(complete: bool) -> None:
    """Refuse to write expected verdicts from a partial run (a subset of patterns, other
    replicates or other pattern files).

    Args:
        complete: the run covers every pattern file at its own replicates.

    Raises:
        SacaInputError: it does not.
    """
    if not complete:
        raise SacaInputError(
            "--write-expected needs a run of every pattern at its files' replicates: drop "
            "--pattern, --replicates and --patterns-dir"
        )


def write_expected(
    result: Mapping[str, Any], complete: bool, path: str | Path = EXPECTED_FILE
) -> Path:
    """Regenerate the section of the expected verdicts that the run's mode owns, from a
    complete run, recording the commit that produced it; the other section is kept.

    Args:
        result: the output of :func:`run_validation`.
        complete: the run covered every pattern file at its own replicates.
        path: the TOML file.

    Raises:
        SacaInputError: the run was not complete, or the file cannot be read.
    """
    require_complete(complete)
    path = Path(path)
    mode = result["meta"]["mode"]
    old = load_expected(path) if path.is_file() else {"quick": {}, "full": {}}
    prov = load_provenance(path) if path.is_file() else {"quick": {}, "full": {}}
    old[mode] = {p["id"]: p["verdict"] for p in result["patterns"]}
    meta = result["meta"]
    prov[mode] = {
        "commit": meta.get("git_commit") or "unknown",
        "timestamp": meta.get("timestamp", ""),
        "full": mode == "full",
        "runs": int(meta.get("runs", 0)),
    }
    lines = [EXPECTED_HEADER]
    for m in ("quick", "full"):
        if prov[m]:
            lines.append(f"[provenance.{m}]")
            for k, v in prov[m].items():
                # TOML literals: JSON's quoted strings, integers and lower-case booleans
                val = str(v).lower() if isinstance(v, bool) else json.dumps(v)
                lines.append(f"{k} = {val}")
            lines.append("")
    for m in ("quick", "full"):
        lines.append(f"[{m}]")
        ordered = sorted(old[m], key=lambda pid: int(pid[1:]))
        lines += [f'{pid} = "{old[m][pid]}"' for pid in ordered]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def regressions(result: Mapping[str, Any], expected: Mapping[str, str]) -> list[str]:
    """Patterns expected *reproduced* that are not reproduced now, one message each.

    Args:
        result: the output of :func:`run_validation`.
        expected: pattern id → expected verdict (one mode of :func:`load_expected`).
    """
    out = []
    for p in result["patterns"]:
        if expected.get(p["id"]) == REPRODUCED and p["verdict"] != REPRODUCED:
            rows = "; ".join(f"{t['label']}: {_ci_text(t)} ({t['verdict']})" for t in p["tests"])
            out.append(f"{p['id']} was reproduced and is now {p['verdict']}: {rows}")
    return out


# ===== arms and runs ====================================================================
@dataclass(frozen=True)
class Arm:
    """One configuration of a test: scenario, regime and overrides (contrast included)."""

    scenario: str
    regime: str
    overrides: tuple[tuple[str, Any], ...]
    label: str
    x: Any = None
    by: Any = None


def _grid_levels(test: Test, thin: bool) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    c = test.contrast
    vals, by_vals = c.values, c.by_values
    if thin:
        vals = _thin(vals, c.middle)
        by_vals = _thin(by_vals, None)
    return vals, by_vals


def _thin(values: tuple[Any, ...], keep: Any) -> tuple[Any, ...]:
    """The two ends of a list of levels, and ``keep`` (an optimum's middle) if given.

    The robustness check asks only for the sign of a slope or an interaction at each
    situation, which the ends give; an optimum also needs its middle.
    """
    if len(values) <= 2:
        return values
    return tuple(sorted({min(values), max(values)} | ({keep} if keep is not None else set())))


def arms(test: Test, thin: bool = False) -> list[Arm]:
    """The arms a test runs, in the order its effect uses them.

    Args:
        test: the test.
        thin: keep only the end levels of gradients and interactions (robustness runs).
    """
    c, ov = test.contrast, test.overrides
    base = (test.scenario, test.regime)
    if c.kind == "regimes":
        return [
            Arm(test.scenario, c.a or "", ov, c.a or "", x=0),
            Arm(test.scenario, c.b or "", ov, c.b or "", x=1),
        ]
    if c.kind == "switch":
        return [
            Arm(*base, (*ov, (c.key or "", v)), f"{c.key} = {_v(v)}", x=i)
            for i, v in enumerate(c.values)
        ]
    if c.kind in ("change", "level"):
        return [Arm(*base, ov, test.regime)]
    vals, by_vals = _grid_levels(test, thin)
    if c.kind in ("gradient", "optimum"):
        return [Arm(*base, (*ov, (c.key or "", v)), f"{c.key} = {_v(v)}", x=v) for v in vals]
    return [
        Arm(
            *base,
            (*ov, (c.by or "", w), (c.key or "", v)),
            f"{c.by} = {_v(w)}, {c.key} = {_v(v)}",
            x=v,
            by=w,
        )
        for w in by_vals
        for v in vals
    ]


def scaled_timeline(scenario: str, days: int) -> list[dict[str, Any]]:
    """The scenario's timeline with every phase shortened in proportion to ``days``.

    Args:
        scenario: scenario name or file.
        days: the new length.
    """
    tl = load_scenario(scenario).situation.timeline
    total = tl[-1].end
    bounds = [0] + [round(p.end * days / total) for p in tl]
    return [
        {"phase": p.name, "start": bounds[i], "end": bounds[i + 1], "sunk": p.sunk}
        for i, p in enumerate(tl)
        if bounds[i + 1] > bounds[i]
    ]


def size_overrides(scenario: str, quick: bool) -> dict[str, Any]:
    """The overrides that make a run quick (none in full mode).

    Args:
        scenario: the arm's scenario.
        quick: quick mode.
    """
    if not quick:
        return {}
    return {**QUICK_SIZE, "situation.timeline": scaled_timeline(scenario, QUICK_DAYS)}


def _resolve(arm: Arm, extra: Mapping[str, Any]) -> tuple[Any, str, Any]:
    """Resolve an arm; ``extra`` (sizes, situation point) come first, the arm's win."""
    try:
        return runner.resolve(arm.scenario, arm.regime, {**extra, **dict(arm.overrides)})
    except SacaInputError as exc:
        raise SacaInputError(f"{arm.label}: {exc}") from None


class Batch:
    """Runs to do, each configuration and seed once however many tests use it."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self._index: dict[str, int] = {}

    def add(self, arm: Arm, extra: Mapping[str, Any], seed: np.random.SeedSequence) -> int:
        """Add a run (or find the same run already added); return its index.

        Args:
            arm: the configuration.
            extra: overrides applied under the arm's own (sizes, situation point).
            seed: the run's seed.
        """
        spec, name, reg = _resolve(arm, extra)
        steps = spec.situation.days
        key = repr((spec, reg, seed.entropy, seed.spawn_key, steps))
        if key not in self._index:
            self._index[key] = len(self.tasks)
            self.tasks.append(Task(name, 0, seed, spec, reg, steps))
        return self._index[key]

    def run(self, workers: int, progress: bool | None) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
        """Run every task (results in task order)."""
        return run_tasks(self.tasks, run_task, workers=workers, progress=progress, label="validate")


def _window_value(summary: pd.DataFrame, ts: pd.DataFrame, metric: str, window: str) -> float:
    if window.startswith("span:"):
        a, b = (float(x) for x in window[5:].split("-"))
        n = len(ts)
        lo = min(math.floor(a * n), n - 1)
        hi = max(lo + 1, round(b * n))
        vals = ts[metric].to_numpy(dtype=float)[lo:hi]
        vals = vals[np.isfinite(vals)]
        return float(vals.mean()) if len(vals) else math.nan
    if window not in summary.index:
        return math.nan
    return float(summary.loc[window, metric])


def metric_value(
    summary: pd.DataFrame,
    ts: pd.DataFrame,
    metric: Sequence[tuple[str, float]],
    window: str,
) -> float:
    """A (combination of) metric(s) of one run in a window.

    Args:
        summary: the run's summary by window.
        ts: the run's time series.
        metric: ``(name, coefficient)`` pairs.
        window: ``all``, a phase, or ``span:A-B`` (mean of the daily values over that
            fraction of the run).
    """
    return float(sum(c * _window_value(summary, ts, m, window) for m, c in metric))


# ===== effects ==========================================================================
def slope(x: Sequence[float], y: Sequence[float]) -> float:
    """OLS slope of y on x over the finite pairs (NaN with fewer than 2 distinct x).

    Args:
        x: predictor values.
        y: responses.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if len(np.unique(xa)) < 2:
        return math.nan
    xc = xa - xa.mean()
    return float((xc * (ya - ya.mean())).sum() / (xc**2).sum())


def verdict(lo: float | None, hi: float | None, expected: int, min_effect: float = 0.0) -> str:
    """Reproduced when the CI lies beyond ``min_effect`` in the expected direction; not
    reproduced when it excludes 0 the other way.

    Args:
        lo: lower bound of the CI (None or NaN: undefined).
        hi: upper bound.
        expected: +1 (the effect should be positive) or -1.
        min_effect: the smallest effect size that counts (>= 0), fixed in the pattern file.
    """
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return INCONCLUSIVE
    if expected > 0:
        return REPRODUCED if lo > min_effect else NOT_REPRODUCED if hi < 0 else INCONCLUSIVE
    return REPRODUCED if hi < -min_effect else NOT_REPRODUCED if lo > 0 else INCONCLUSIVE


def pattern_verdict(verdicts: Sequence[str], kinds: Sequence[str] | None = None) -> str:
    """Judged on the emergent tests only: reproduced if every one is, not reproduced if any
    one is, else inconclusive; *definitional only* when no test is emergent.

    Args:
        verdicts: the tests' verdicts.
        kinds: each test's kind (None: all emergent).
    """
    kinds = [EMERGENT] * len(verdicts) if kinds is None else list(kinds)
    emergent = [v for v, k in zip(verdicts, kinds, strict=True) if k == EMERGENT]
    if verdicts and not emergent:
        return DEFINITIONAL_ONLY
    if emergent and all(v == REPRODUCED for v in emergent):
        return REPRODUCED
    if any(v == NOT_REPRODUCED for v in emergent):
        return NOT_REPRODUCED
    return INCONCLUSIVE


def kind_counts(tests: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Tests and reproduced tests of each kind, e.g. ``{"emergent": {"tests": 3,
    "reproduced": 2}, "definitional": {...}}``.

    Args:
        tests: test dicts with ``kind`` and ``verdict``.
    """
    return {
        k: {
            "tests": sum(t.get("kind", EMERGENT) == k for t in tests),
            "reproduced": sum(
                t.get("kind", EMERGENT) == k and t["verdict"] == REPRODUCED for t in tests
            ),
        }
        for k in TEST_KINDS
    }


def effect(test: Test, values: np.ndarray, arm_list: Sequence[Arm]) -> dict[str, float]:
    """The effect of a test with its 95% CI from per-arm, per-replicate values.

    Args:
        test: the test.
        values: shape (arms, replicates) of the metric; for ``change`` tests shape
            (2, replicates): the ``before`` and ``after`` windows of the same runs.
        arm_list: the arms, as returned by :func:`arms` (levels for gradients).

    Returns:
        ``{"effect", "lo", "hi", "sd", "n"}``.
    """
    c = test.contrast
    v = np.asarray(values, dtype=float)
    if c.kind in ("regimes", "switch", "change"):
        d = stats.paired_diff_ci(v[0], v[1])
        return {"effect": d["diff"], "lo": d["lo"], "hi": d["hi"], "sd": d["sd"], "n": d["n"]}
    if c.kind == "level":
        per = v[0] - float(c.threshold or 0.0)
    elif c.kind == "gradient":
        x = [a.x for a in arm_list]
        per = np.array([slope(x, v[:, r]) for r in range(v.shape[1])])
    elif c.kind == "optimum":
        x = np.array([a.x for a in arm_list], dtype=float)
        mid = v[x == c.middle][0]
        ends = np.vstack([v[x == x.min()][0], v[x == x.max()][0]])
        per = mid - ends.max(axis=0)
    else:  # interaction
        by = np.array([a.by for a in arm_list], dtype=float)
        x = np.array([a.x for a in arm_list], dtype=float)
        levels = np.unique(by)
        per = np.array(
            [
                slope(levels, [slope(x[by == w], v[by == w, r]) for w in levels])
                for r in range(v.shape[1])
            ]
        )
    ci = stats.mean_ci(per)
    return {"effect": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "sd": ci["sd"], "n": ci["n"]}


# ===== running ==========================================================================
@dataclass
class _Planned:
    pattern: Pattern
    test: Test
    arms: list[Arm]
    replicates: int
    cells: list[list[int]] = field(default_factory=list)  # [arm][replicate] → task index


def _plan(
    patterns: Sequence[Pattern],
    batch: Batch,
    replicates: Callable[[Pattern], int],
    extra: Callable[[Arm], Mapping[str, Any]],
    seeds: Callable[[Pattern, int], np.random.SeedSequence],
    thin: bool = False,
) -> list[_Planned]:
    plans = []
    for p in patterns:
        n = replicates(p)
        for t in p.tests:
            a = arms(t, thin)
            cells = [[batch.add(arm, extra(arm), seeds(p, r)) for r in range(n)] for arm in a]
            plans.append(_Planned(p, t, a, n, cells))
    return plans


def _values_of(plan: _Planned, results: Sequence[tuple[pd.DataFrame, pd.DataFrame]]) -> np.ndarray:
    t = plan.test
    if t.contrast.kind == "change":
        row = plan.cells[0]
        return np.array(
            [
                [metric_value(*results[i], t.metric, w) for i in row]
                for w in (t.contrast.before or "", t.contrast.after or "")
            ]
        )
    return np.array(
        [[metric_value(*results[i], t.metric, t.window) for i in row] for row in plan.cells]
    )


def _arm_stats(plan: _Planned, values: np.ndarray) -> list[dict[str, Any]]:
    t = plan.test
    if t.contrast.kind == "change":
        labels = [f"window {t.contrast.before}", f"window {t.contrast.after}"]
        rows = [{"label": lab, "x": i, "by": None} for i, lab in enumerate(labels)]
    else:
        rows = [{"label": a.label, "x": a.x, "by": a.by} for a in plan.arms]
    for row, v in zip(rows, values, strict=True):
        ci = stats.mean_ci(v)
        row.update(mean=ci["mean"], lo=ci["lo"], hi=ci["hi"], n=ci["n"])
    return rows


def _contrast_dict(c: Contrast) -> dict[str, Any]:
    d = {k: v for k, v in dataclasses.asdict(c).items() if v not in (None, ())}
    d["description"] = c.describe()
    return d


def _experiment_dict(p: Pattern, replicates: int, quick: bool) -> dict[str, Any]:
    return {
        "scenario": p.scenario,
        "regime": p.regime,
        "overrides": dict(p.overrides),
        "replicates": replicates,
        "seed": p.seed,
        "size": size_overrides(p.scenario, quick) or "scenario defaults",
    }


def _by_level(plan: _Planned, values: np.ndarray) -> list[dict[str, Any]]:
    """For an interaction: per level of ``by``, the slope on ``key`` (mean and CI over
    replicates) and the level of ``key`` with the highest mean."""
    by = np.array([a.by for a in plan.arms], dtype=float)
    x = np.array([a.x for a in plan.arms], dtype=float)
    rows = []
    for w in np.unique(by):
        m = by == w
        per = [slope(x[m], values[m, r]) for r in range(values.shape[1])]
        ci = stats.mean_ci(per)
        means = np.nanmean(values[m], axis=1)
        best = float(x[m][int(np.nanargmax(means))]) if np.isfinite(means).any() else None
        rows.append(
            {"by": float(w), "slope": ci["mean"], "lo": ci["lo"], "hi": ci["hi"], "best": best}
        )
    return rows


def _test_dict(plan: _Planned, values: np.ndarray) -> dict[str, Any]:
    t = plan.test
    eff = effect(t, values, plan.arms)
    extra = {"by_level": _by_level(plan, values)} if t.contrast.kind == "interaction" else {}
    return {
        "label": t.label,
        "metric": t.metric_label,
        "window": t.window,
        "scenario": t.scenario,
        "regime": t.regime,
        "overrides": dict(t.overrides),
        "contrast": _contrast_dict(t.contrast),
        "expected": "+" if t.expected > 0 else "-",
        "min_effect": t.min_effect,
        "kind": t.kind,
        "why": t.why,
        **eff,
        "verdict": verdict(eff["lo"], eff["hi"], t.expected, t.min_effect),
        "arms": _arm_stats(plan, values),
        "per_replicate": values.tolist(),
        **extra,
    }


def robust_design(points: int, seed: int) -> pd.DataFrame:
    """The Latin hypercube of situations of the robustness check.

    Args:
        points: number of situations.
        seed: root seed of the design.
    """
    keys = list(ROBUST_RANGES)
    sampler = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng([seed, 7]))
    unit = sampler.random(points)
    lo = np.array([ROBUST_RANGES[k][0] for k in keys])
    hi = np.array([ROBUST_RANGES[k][1] for k in keys])
    return pd.DataFrame(lo + unit * (hi - lo), columns=keys)


def run_validation(
    patterns: Sequence[Pattern],
    *,
    quick: bool = False,
    replicates: int | None = None,
    robustness: int = 0,
    robust_replicates: int = ROBUST_REPLICATES,
    workers: int = 1,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the experiments of the patterns and (optionally) their robustness check.

    Args:
        patterns: loaded patterns.
        quick: small district, short timeline, ``quick_replicates`` replicates.
        replicates: replicates per arm for every pattern (overrides the files).
        robustness: points of the Latin hypercube of situations (0: no robustness check);
            run for the patterns that are reproduced.
        robust_replicates: replicates per arm at each point.
        workers: worker processes (results do not depend on it).
        progress: tqdm progress bars (None: only on a terminal).
        log: called with a line of progress news (None: silent).

    Returns:
        A JSON-ready dict: ``meta`` and ``patterns`` (each with its tests, effects, CIs,
        verdicts, arm means and robustness).
    """
    say = log or (lambda _msg: None)
    t0, cpu0 = time.perf_counter(), _cpu_seconds()

    def reps(p: Pattern) -> int:
        return replicates or (p.quick_replicates if quick else p.replicates)

    batch = Batch()
    plans = _plan(
        patterns,
        batch,
        reps,
        lambda arm: size_overrides(arm.scenario, quick),
        lambda p, r: replicate_seeds(p.seed, reps(p))[r],
    )
    say(f"validation: {len(batch.tasks)} runs ({'quick' if quick else 'full'} size)")
    results = batch.run(workers, progress)
    t_main = time.perf_counter() - t0
    out_patterns = []
    for p in patterns:
        tests = [_test_dict(pl, _values_of(pl, results)) for pl in plans if pl.pattern is p]
        out_patterns.append(
            {
                "id": p.id,
                "title": p.title,
                "claim": p.claim,
                "source": {"seed": p.seed_study, "passage": p.passage},
                "experiment": _experiment_dict(p, reps(p), quick),
                "mechanism": p.mechanism,
                "parameters": list(p.parameters),
                "diagnosis": p.diagnosis,
                "file": Path(p.path).name,
                "tests": tests,
                "verdict": pattern_verdict(
                    [t["verdict"] for t in tests], [t["kind"] for t in tests]
                ),
                "kinds": kind_counts(tests),
            }
        )
    meta: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "runs": len(batch.tasks),
        "workers": workers,
        "seconds_main": t_main,
        "size": {
            "quick": {**QUICK_SIZE, "days": QUICK_DAYS},
            "full": "scenario defaults (2,400 households, 24 grids, 6 communities, 180 days)",
        }["quick" if quick else "full"],
        "replicates": {p.id: reps(p) for p in patterns},
        **io.provenance(),
    }
    if robustness > 0:
        chosen = [
            p for p, d in zip(patterns, out_patterns, strict=True) if d["verdict"] == REPRODUCED
        ]
        rob = _robustness(chosen, robustness, robust_replicates, workers, progress, say)
        meta["robustness"] = rob["meta"]
        for d in out_patterns:
            d["robustness"] = rob["patterns"].get(d["id"])
    meta["seconds"] = time.perf_counter() - t0
    meta["cpu_seconds"] = _cpu_seconds() - cpu0
    return {"meta": meta, "patterns": out_patterns}


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker processes)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _robustness(
    patterns: Sequence[Pattern],
    points: int,
    replicates: int,
    workers: int,
    progress: bool | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    t0 = time.perf_counter()
    seed = patterns[0].seed if patterns else 0
    design = robust_design(points, seed)
    batch = Batch()
    per_point: list[list[_Planned]] = []
    for j, row in design.iterrows():
        situation = {k: float(v) for k, v in row.items()}
        per_point.append(
            _plan(
                patterns,
                batch,
                lambda _p: replicates,
                lambda arm, s=situation: {**size_overrides(arm.scenario, True), **s},
                lambda p, r, j=int(j): robust_seed(p.seed, j, r),
                thin=True,
            )
        )
    say(f"robustness: {len(batch.tasks)} runs at {points} situations")
    results = batch.run(workers, progress) if batch.tasks else []
    out: dict[str, Any] = {}
    for p in patterns:
        rows = []
        for j, plans in enumerate(per_point):
            tests = []
            for pl in plans:
                if pl.pattern is not p:
                    continue
                eff = effect(pl.test, _values_of(pl, results), pl.arms)
                sign_ok = math.isfinite(eff["effect"]) and eff["effect"] * pl.test.expected > 0
                tests.append(
                    {
                        "label": pl.test.label,
                        "effect": eff["effect"],
                        "lo": eff["lo"],
                        "hi": eff["hi"],
                        "holds": bool(sign_ok),
                        "kind": pl.test.kind,
                        "verdict": verdict(
                            eff["lo"], eff["hi"], pl.test.expected, pl.test.min_effect
                        ),
                    }
                )
            # A pattern holds on its emergent tests, as it is reproduced on them.
            judged = [t for t in tests if t["kind"] == EMERGENT]
            rows.append(
                {
                    "point": j,
                    **{k: float(design.iloc[j][k]) for k in design.columns},
                    "holds": all(t["holds"] for t in judged),
                    "significant": all(t["verdict"] == REPRODUCED for t in judged),
                    "failed_tests": [t["label"] for t in judged if not t["holds"]],
                    "tests": tests,
                }
            )
        overridden = sorted(
            {
                k
                for t in p.tests
                for k in (t.contrast.key, t.contrast.by, *dict(t.overrides))
                if k in ROBUST_RANGES
            }
        )
        out[p.id] = {
            "points": len(rows),
            "held": sum(r["holds"] for r in rows),
            "significant": sum(r["significant"] for r in rows),
            "fixed_by_pattern": overridden,
            "situations": rows,
        }
    meta = {
        "design": "scipy.stats.qmc.LatinHypercube",
        "ranges": {k: list(v) for k, v in ROBUST_RANGES.items()},
        "points": points,
        "replicates": replicates,
        "size": {**QUICK_SIZE, "days": QUICK_DAYS},
        "levels": "gradients and interactions thinned to their two end levels "
        "(optima keep their middle)",
        "runs": len(batch.tasks),
        "seconds": time.perf_counter() - t0,
        "patterns": [p.id for p in patterns],
    }
    return {"meta": meta, "patterns": out}


# ===== text =============================================================================
def _num(x: Any, signed: bool = True) -> str:
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    a = abs(x)
    fmt = ".3g" if a >= 0.001 or a == 0 else ".2e"
    s = f"{x:{'+' if signed else ''}{fmt}}"
    return s


def _ci_text(t: Mapping[str, Any]) -> str:
    return f"{_num(t['effect'])} [{_num(t['lo'])}, {_num(t['hi'])}]"


def robustness_text(rob: Mapping[str, Any] | None) -> str:
    """``holds in 27 of 30 situations (CI excludes 0 in 20)``, or ``not checked``.

    Args:
        rob: a pattern's robustness entry.
    """
    if not rob:
        return "not checked"
    return (
        f"holds in {rob['held']} of {rob['points']} situations "
        f"(CI excludes 0 in {rob['significant']})"
    )


def text_report(result: Mapping[str, Any]) -> str:
    """The terminal table: one line per test, the pattern verdicts, robustness counts.

    Args:
        result: the output of :func:`run_validation`.
    """
    meta = result["meta"]
    header = ["pattern", "test", "kind", "metric [window]", "effect [95% CI]", "exp.", "verdict"]
    rows = []
    for p in result["patterns"]:
        for i, t in enumerate(p["tests"]):
            rows.append(
                [
                    p["id"] if i == 0 else "",
                    t["label"],
                    t.get("kind", EMERGENT),
                    f"{t['metric']} [{t['window']}]"
                    if t["contrast"]["kind"] != "change"
                    else t["metric"],
                    _ci_text(t),
                    t["expected"]
                    + (f" >{_num(t['min_effect'], False)}" if t.get("min_effect") else ""),
                    t["verdict"],
                ]
            )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"saca validate: {len(result['patterns'])} patterns, {meta['mode']} mode, "
        f"{meta['runs']} runs in {meta['seconds']:.0f} s on {meta['workers']} worker(s)",
        "effect = the contrast's difference or slope (see --json for each contrast); 95% CI: "
        "Student t over replicates (paired across arms: common random numbers)",
        "",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines += ["", "pattern verdicts:"]
    for p in result["patterns"]:
        rob = f"; {robustness_text(p.get('robustness'))}" if p.get("robustness") else ""
        lines.append(f"  {p['id']:<4} {p['verdict']:<15} {p['title']}{rob}")
    lines += ["", headline(result["patterns"])]
    return "\n".join(lines)


def headline(patterns: Sequence[Mapping[str, Any]]) -> str:
    """The counts: patterns by verdict (judged on emergent tests), then tests by kind.

    Args:
        patterns: the result's patterns.
    """
    counts = {v: sum(p["verdict"] == v for p in patterns) for v in VERDICTS}
    tests = [t for p in patterns for t in p["tests"]]
    kc = kind_counts(tests)
    e, d = kc[EMERGENT], kc[DEFINITIONAL]
    return (
        f"{counts[REPRODUCED]} of {len(patterns)} patterns reproduced on their emergent tests, "
        f"{counts[NOT_REPRODUCED]} not reproduced, {counts[INCONCLUSIVE]} inconclusive, "
        f"{counts[DEFINITIONAL_ONLY]} definitional only (no emergent test). Tests: "
        f"{e['reproduced']} of {e['tests']} emergent tests reproduced; {d['reproduced']} of "
        f"{d['tests']} definitional tests (which restate an input) reproduced, counted apart."
    )


# ===== figures ==========================================================================
COLOURS = {
    REPRODUCED: "#2ca02c",
    NOT_REPRODUCED: "#d62728",
    INCONCLUSIVE: "#7f7f7f",
    DEFINITIONAL_ONLY: "#8c6d31",
}


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def _panel(ax: Any, t: Mapping[str, Any]) -> None:
    kind = t["contrast"]["kind"]
    arms_ = t["arms"]
    colour = COLOURS[t["verdict"]]
    mean = np.array([_f(a["mean"]) for a in arms_])
    lo = np.array([_f(a["lo"]) for a in arms_])
    hi = np.array([_f(a["hi"]) for a in arms_])
    err = np.vstack([mean - lo, hi - mean])
    err = np.where(np.isfinite(err), err, 0.0)
    if kind in ("regimes", "switch", "change", "level"):
        pos = np.arange(len(arms_))
        ax.bar(pos, mean, color=["#9ecae1", "#3182bd"][: len(arms_)], width=0.6)
        ax.errorbar(pos, mean, yerr=err, fmt="none", ecolor="black", capsize=5)
        labels = [str(a["label"]).replace(" = ", "=\n", 1) for a in arms_]
        ax.set_xticks(pos, labels, fontsize=8)
        if kind == "level":
            ax.axhline(t["contrast"]["threshold"], color="#d62728", ls="--", lw=1)
    elif kind in ("gradient", "optimum"):
        x = np.array([float(a["x"]) for a in arms_])
        ax.fill_between(x, lo, hi, color="#3182bd", alpha=0.2, lw=0)
        ax.plot(x, mean, "o-", color="#3182bd")
        if kind == "optimum":
            mid = float(t["contrast"]["middle"])
            ax.axvline(mid, color="#999999", ls=":", lw=1)
        ax.set_xlabel(t["contrast"]["key"], fontsize=8)
    else:
        by = np.array([float(a["by"]) for a in arms_])
        x = np.array([float(a["x"]) for a in arms_])
        for i, w in enumerate(np.unique(by)):
            m = by == w
            c = f"C{i}"
            ax.fill_between(x[m], lo[m], hi[m], color=c, alpha=0.15, lw=0)
            ax.plot(x[m], mean[m], "o-", color=c, label=f"{t['contrast']['by']} = {w:g}")
        ax.legend(fontsize=7, frameon=False)
        ax.set_xlabel(t["contrast"]["key"], fontsize=8)
    window = "" if kind == "change" else f" [{t['window']}]"
    ax.set_ylabel(f"{t['metric']}{window}", fontsize=8)
    ax.set_title(
        f"{t['label']}\neffect {_ci_text(t)}, expected {t['expected']}: {t['verdict']}",
        fontsize=9,
        color=colour,
    )
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)


def _slopes_panel(ax: Any, t: Mapping[str, Any]) -> None:
    rows = t["by_level"]
    w = np.array([r["by"] for r in rows])
    m = np.array([_f(r["slope"]) for r in rows])
    lo = np.array([_f(r["lo"]) for r in rows])
    hi = np.array([_f(r["hi"]) for r in rows])
    err = np.where(np.isfinite([m - lo, hi - m]), [m - lo, hi - m], 0.0)
    ax.errorbar(w, m, yerr=err, fmt="o-", color=COLOURS[t["verdict"]], capsize=4)
    ax.axhline(0, color="#999999", lw=1)
    c = t["contrast"]
    ax.set_xlabel(c["by"], fontsize=8)
    ax.set_ylabel(f"slope of {t['metric']} on {c['key']}", fontsize=8)
    ax.set_title(
        f"slope on {c['key']} at each level of {c['by']}\n(the test: the trend of these slopes)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)


def plot_pattern(p: Mapping[str, Any], path: str | Path | None = None) -> Figure:
    """One figure per pattern: a panel per test (bars with 95% CIs, or lines with bands);
    an interaction gets a second panel with the slope at each level of its moderator.

    Args:
        p: a pattern entry of :func:`run_validation`'s result.
        path: where to save the PNG, or None.
    """
    panels: list[tuple[Callable[[Any, Mapping[str, Any]], None], Mapping[str, Any]]] = []
    for t in p["tests"]:
        panels.append((_panel, t))
        if t.get("by_level"):
            panels.append((_slopes_panel, t))
    n = len(panels)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    width = max(4.6 * ncols, 9.0)
    fig = Figure(figsize=(width, 3.7 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax, (draw, t) in zip(axes, panels, strict=False):
        draw(ax, t)
    reps = p["experiment"]["replicates"]
    title = (
        f"{p['id']} {p['title']}: {p['verdict']}. {p['experiment']['scenario']} scenario, "
        f"{reps} replicates; bars and bands: 95% CI of each arm's mean (the effects' CIs are "
        "paired across arms and narrower)"
    )
    fig.suptitle(textwrap.fill(title, int(11 * width)), fontsize=10, color=COLOURS[p["verdict"]])
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_robustness(result: Mapping[str, Any], path: str | Path | None = None) -> Figure:
    """Robustness: for each checked pattern, the situations where it holds or fails.

    Args:
        result: the output of :func:`run_validation` with a robustness check.
        path: where to save the PNG, or None.
    """
    checked = [p for p in result["patterns"] if p.get("robustness")]
    keys = list(ROBUST_RANGES)
    fig = Figure(figsize=(12, 0.45 * max(len(checked), 1) + 1.6), layout="constrained")
    axes = fig.subplots(1, len(keys), sharey=True, squeeze=False)[0]
    for ax, k in zip(axes, keys, strict=True):
        for i, p in enumerate(checked):
            for s in p["robustness"]["situations"]:
                ok = s["holds"]
                ax.plot(
                    s[k],
                    i,
                    "o" if ok else "x",
                    color="#2ca02c" if ok else "#d62728",
                    ms=4 if ok else 6,
                    alpha=0.7,
                )
        ax.set_xlabel(k, fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0].set_yticks(
        range(len(checked)),
        [f"{p['id']} ({p['robustness']['held']}/{p['robustness']['points']})" for p in checked],
        fontsize=8,
    )
    axes[0].invert_yaxis()
    fig.suptitle(
        "Robustness over a Latin hypercube of situations: o holds (every test's mean effect "
        "has the expected sign), x fails",
        fontsize=10,
    )
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


# ===== the report =======================================================================
def _md_escape(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _fails_text(rob: Mapping[str, Any]) -> list[str]:
    keys = list(ROBUST_RANGES)
    fails = [s for s in rob["situations"] if not s["holds"]]
    if not fails:
        return ["It holds at every situation of the hypercube."]
    by_test: dict[str, int] = {}
    for s in fails:
        for t in s["failed_tests"]:
            by_test[t] = by_test.get(t, 0) + 1
    lines = [
        "Tests that fail: "
        + "; ".join(f"*{_md_escape(t)}* at {n} of {rob['points']}" for t, n in by_test.items())
        + ".",
        "",
        "Where it fails (situation values; the tests whose mean effect had the wrong sign):",
        "",
        "| " + " | ".join(k.removeprefix("situation.") for k in keys) + " | failed tests |",
        "|" + "---|" * (len(keys) + 1),
    ]
    for s in fails:
        cells = [f"{s[k]:.3g}" for k in keys]
        lines.append("| " + " | ".join(cells) + f" | {', '.join(s['failed_tests'])} |")
    all_s = rob["situations"]
    shifts = []
    for k in keys:
        lo, hi = ROBUST_RANGES[k]
        f_mean = float(np.mean([s[k] for s in fails]))
        a_mean = float(np.mean([s[k] for s in all_s]))
        shift = (f_mean - a_mean) / (hi - lo)
        if abs(shift) >= 0.1:
            shifts.append(
                f"{k.removeprefix('situation.')} {'high' if shift > 0 else 'low'} "
                f"(mean {f_mean:.3g} where it fails vs {a_mean:.3g} over all points)"
            )
    if shifts:
        lines += ["", "Failures lean toward: " + "; ".join(shifts) + "."]
    return lines


def markdown_report(
    result: Mapping[str, Any], figures: str, command: str, wall_seconds: float | None = None
) -> str:
    """docs/VALIDATION.md: the verdict table and, per pattern, claim, source, experiment,
    figure, effects, verdict, mechanism and robustness.

    Args:
        result: the output of :func:`run_validation`.
        figures: the figures' directory relative to the report.
        command: the command that produced it.
        wall_seconds: total wall time, or None to use the result's.
    """
    meta = result["meta"]
    pats = result["patterns"]
    secs = meta["seconds"] if wall_seconds is None else wall_seconds
    rob_meta = meta.get("robustness")
    size = meta["size"]
    size_text = (
        size
        if isinstance(size, str)
        else ", ".join(f"{k.removeprefix('situation.')} {v}" for k, v in size.items())
    )
    reps = sorted(set(meta["replicates"].values()))
    L = [
        "# Validation: the sixteen patterns",
        "",
        "<!-- Generated by `saca validate`; do not edit by hand (edit the pattern files in "
        "experiments/patterns/ or the template in experiments/analyses/validation.py). -->",
        "",
        f"Generated by `{command}` on {meta['timestamp'][:10]} from commit "
        f"`{(meta.get('git_commit') or 'unknown')[:12]}` (saca {meta.get('saca_version')}), "
        f"{meta['runs'] + (rob_meta['runs'] if rob_meta else 0)} runs in {secs / 60:.1f} min "
        f"of wall time on {meta['workers']} worker processes"
        + (
            f" ({meta['cpu_seconds'] / 60:.1f} min of CPU time, i.e. about "
            f"{meta['cpu_seconds'] / max(meta['workers'], 1) / 60:.1f} min of wall time on "
            f"{meta['workers']} otherwise idle cores)."
            if meta.get("cpu_seconds")
            else "."
        ),
        "",
        f"**Sizes.** Experiments: {meta['mode']} mode, {size_text}; "
        f"{'/'.join(str(r) for r in reps)} replicates per arm. "
        + (
            f"Robustness: {rob_meta['points']} situations × {rob_meta['replicates']} "
            f"replicates at {rob_meta['size']['situation.households']} households, "
            f"{rob_meta['size']['situation.communities']} communities, "
            f"{rob_meta['size']['days']} days ({rob_meta['runs']} runs, "
            f"{rob_meta['seconds'] / 60:.1f} min); {rob_meta['levels']}."
            if rob_meta
            else "No robustness check in this run."
        ),
        "",
        "**Method.** Each pattern of the source studies (P1–P16, ODD §1) has one experiment, "
        "a TOML file in `experiments/patterns/`. An experiment has one or more tests: a "
        "contrast (two regimes, a switch, a within-run change, a gradient, an interior "
        "optimum or an interaction), a metric in a window, and the sign the claim expects. "
        "Every arm of a test runs with the same replicate seeds (common random numbers), so "
        "effects are computed per replicate — a paired difference, an OLS slope, the middle "
        "setting minus the better end, or the change of a slope with a moderator — and the "
        "95% CI is a Student t interval over replicates. A test is *reproduced* when its CI "
        "lies beyond its minimum effect (zero unless the file sets `min_effect`) in the "
        "expected direction, *not reproduced* when it excludes zero the other way, "
        "*inconclusive* otherwise; direction and minimum effect are fixed in the pattern file "
        "before the run. Each test is labelled *emergent* (its effect arises from interacting "
        "mechanisms) or *definitional* (it restates an input, e.g. a starting value or a lookup "
        "table; the file says which and why). A pattern is reproduced when all its emergent "
        "tests are, not reproduced when any is, and *definitional only* when it has none; "
        "definitional tests are reported as checks and counted apart. "
        "No code path exists for a pattern: the runs are ordinary runs of the model, and the "
        "regime and situation only change the inputs of its submodels.",
        "",
        "**Robustness.** A pattern reproduced at the defaults is rerun at each point of a "
        "Latin hypercube over the situation ("
        + ", ".join(f"`{k}` {a:g}–{b:g}" for k, (a, b) in ROBUST_RANGES.items())
        + "). It *holds* at a point when every test's mean effect has the expected sign; the "
        "count in brackets is the number of points where every CI also excludes zero (with "
        "only a few replicates per point, a strict test). A parameter that the pattern's own "
        "contrast sets (e.g. the risk gradient of P2) takes the contrast's values, not the "
        "point's. `situation.risk` only acts in an emergency phase. The robustness runs are "
        "as long as quick mode's (72 days; the emergency lasts 24 days instead of 60), so a "
        "test whose sign depends on how long the emergency lasts can fail there for that "
        "reason rather than because of the situation (P2's pressure test: see P2).",
        "",
        f"**Result.** {headline(pats)}",
        "",
        "| pattern | claim | tests: effect [95% CI] | verdict | robustness |",
        "|---|---|---|---|---|",
    ]
    for p in pats:
        tests = "<br>".join(
            f"{_md_escape(t['label'])}{_kind_mark(t)}: {_ci_text(t)} ({t['expected']}) "
            f"{_mark(t['verdict'])}"
            for t in p["tests"]
        )
        rob = p.get("robustness")
        L.append(
            f"| [{p['id']}](#{p['id'].lower()}) | {_md_escape(p['title'])} | {tests} | "
            f"**{p['verdict']}** | {robustness_text(rob) if rob else '—'} |"
        )
    L += ["", "✓ reproduced, ✗ not reproduced, ? inconclusive.", ""]
    if rob_meta:
        L += [f"![Robustness]({figures}/robustness.png)", ""]
    for p in pats:
        L += _pattern_section(p, figures)
    L += [
        "## Reproducing this report",
        "",
        "```bash",
        command,
        "saca validate --quick            # the CI check: 72-day runs, 5 replicates",
        "saca validate --pattern P1,P12   # some patterns; --json for every number",
        "```",
        "",
        "The expected verdicts that CI holds the model to are in "
        "`experiments/patterns/expected.toml`; `tests/test_validate.py` fails when a pattern "
        "expected *reproduced* in quick mode is not. "
        + _provenance_text(load_provenance() if EXPECTED_FILE.is_file() else {}),
        "",
    ]
    return "\n".join(L)


def _provenance_text(prov: Mapping[str, Mapping[str, Any]]) -> str:
    """Which commit produced each section of expected.toml, in words."""
    parts = []
    for mode in ("full", "quick"):
        pr = prov.get(mode) or {}
        if pr:
            kind = "a full run" if pr.get("full") else "a quick run (full = false)"
            parts.append(
                f"[{mode}] was written from {kind} of commit `{str(pr.get('commit'))[:12]}` "
                f"({str(pr.get('timestamp', ''))[:10]})"
            )
        else:
            parts.append(f"[{mode}] records no producing run")
    return "; ".join(parts) + "."


def _kind_mark(t: Mapping[str, Any]) -> str:
    """`` *(definitional)*`` after a definitional test's label, else nothing."""
    return " *(definitional)*" if t.get("kind") == DEFINITIONAL else ""


def _min_text(t: Mapping[str, Any]) -> str:
    """`` (beyond 0.05)`` for a test with a minimum effect, else nothing."""
    m = t.get("min_effect") or 0.0
    return f" (beyond {_num(m, False)})" if m else ""


def _mark(v: str) -> str:
    return {REPRODUCED: "✓", NOT_REPRODUCED: "✗", INCONCLUSIVE: "?"}[v]


def _pattern_section(p: Mapping[str, Any], figures: str) -> list[str]:
    e = p["experiment"]
    ov = ", ".join(f"`{k} = {_v(v)}`" for k, v in e["overrides"].items()) or "none"
    L = [
        f'<a id="{p["id"].lower()}"></a>',
        "",
        f"## {p['id']} · {p['title']}",
        "",
        f"**Claim.** {' '.join(p['claim'].split())}",
        "",
        f"**Source.** Seed {p['source']['seed']}: “{' '.join(p['source']['passage'].split())}”",
        "",
        f"**Experiment** (`experiments/patterns/{p['file']}`). Scenario `{e['scenario']}`, "
        f"base regime `{e['regime']}`, fixed overrides: {ov}; {e['replicates']} replicates "
        f"per arm, root seed {e['seed']}.",
        "",
        "| test | kind | contrast | metric [window] | expected | effect [95% CI] | n | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in p["tests"]:
        win = "" if t["contrast"]["kind"] == "change" else f" [{t['window']}]"
        extra = []
        if t["regime"] != e["regime"]:
            extra.append(f"regime `{t['regime']}`")
        if t["scenario"] != e["scenario"]:
            extra.append(f"scenario `{t['scenario']}`")
        more = {k: v for k, v in t["overrides"].items() if k not in e["overrides"]}
        extra += [f"`{k} = {_v(v)}`" for k, v in more.items()]
        where = f" ({', '.join(extra)})" if extra else ""
        L.append(
            f"| {_md_escape(t['label'])} | {t.get('kind', EMERGENT)} | "
            f"{_md_escape(t['contrast']['description'])}{where} | "
            f"`{t['metric']}`{win} | {t['expected']}{_min_text(t)} | {_ci_text(t)} | {t['n']} | "
            f"{t['verdict']} |"
        )
    for t in p["tests"]:
        if t.get("kind") == DEFINITIONAL:
            L += ["", f"*{_md_escape(t['label'])}* is definitional: {_md_escape(t['why'])}"]
    for t in p["tests"]:
        if t.get("by_level"):
            c = t["contrast"]
            slopes = "; ".join(
                f"{r['by']:g}: {_num(r['slope'])} [{_num(r['lo'])}, {_num(r['hi'])}]"
                for r in t["by_level"]
            )
            best = ", ".join(
                f"{r['by']:g} → {_v(r['best'])}" for r in t["by_level"] if r["best"] is not None
            )
            L += [
                "",
                f"*{_md_escape(t['label'])}*: slope of `{t['metric']}` on `{c['key']}` at each "
                f"`{c['by']}`: {slopes}. Level of `{c['key']}` with the highest mean at each "
                f"`{c['by']}`: {best}.",
            ]
    L += [
        "",
        f"![{p['id']}]({figures}/{p['id']}.png)",
        "",
        f"**Verdict: {p['verdict']}.**",
        "",
        f"**Mechanism.** {' '.join(p['mechanism'].split())}",
        "",
        "Parameters it depends on: " + ", ".join(f"`{k}`" for k in p["parameters"]) + ".",
        "",
    ]
    if p["verdict"] != REPRODUCED and p.get("diagnosis"):
        L += [f"**Diagnosis.** {' '.join(p['diagnosis'].split())}", ""]
    rob = p.get("robustness")
    if rob:
        L += [f"**Robustness.** {p['id']} {robustness_text(rob)}.", ""]
        if rob["fixed_by_pattern"]:
            L += [
                "Set by the pattern's own experiment rather than the situation point: "
                + ", ".join(f"`{k}`" for k in rob["fixed_by_pattern"])
                + ".",
                "",
            ]
        L += [*_fails_text(rob), ""]
    elif p["verdict"] == REPRODUCED:
        L += ["**Robustness.** Not checked in this run.", ""]
    return L


def write_outputs(
    result: Mapping[str, Any],
    out: str | Path,
    report: str | Path | None,
    command: str,
) -> list[Path]:
    """Write ``validation.json``, one figure per pattern (and ``robustness.png``) into
    ``out``, and the Markdown report.

    Args:
        result: the output of :func:`run_validation`.
        out: the directory (created).
        report: the report's path; None writes ``VALIDATION.md`` beside ``out``.
        command: the command line, quoted in the report.
    """
    out = outdir.make_out(out)
    paths = [io.write_json(result, out / "validation.json")]
    for p in result["patterns"]:
        paths.append(out / f"{p['id']}.png")
        plot_pattern(p, paths[-1])
    if any(p.get("robustness") for p in result["patterns"]):
        paths.append(out / "robustness.png")
        plot_robustness(result, paths[-1])
    rpath = Path(report) if report is not None else out.parent / "VALIDATION.md"
    rel = os.path.relpath(out.resolve(), rpath.resolve().parent)
    rpath.write_text(markdown_report(result, Path(rel).as_posix(), command), encoding="utf-8")
    paths.append(rpath)
    return paths
