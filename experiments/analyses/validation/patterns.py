"""The pattern files (experiments/patterns/Pnn.toml): their records, reading, checking and arms."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saca.experiments.engine import runner
from saca.experiments.engine.seeds import check_seed
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import read_toml
from saca.model.scenario import all_params

PATTERN_DIR = Path(__file__).resolve().parents[2] / "patterns"
EXPECTED_FILE = PATTERN_DIR / "expected.toml"

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
DEFINITIONAL_ONLY = "definitional only"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, DEFINITIONAL_ONLY)
"""Verdicts of a pattern; a test's verdict is one of the first three."""
EMERGENT, DEFINITIONAL = "emergent", "definitional"
TEST_KINDS = (EMERGENT, DEFINITIONAL)
KINDS = ("regimes", "switch", "change", "gradient", "optimum", "interaction", "level")


QUICK_REPLICATES = 5


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
            return (
                f"{self.key} = {value_text(self.values[1])} − {value_text(self.values[0])} (paired)"
            )
        if k == "change":
            return f"window {self.after} − window {self.before} (same runs)"
        if k == "gradient":
            return f"slope per unit of {self.key} over {_vals(self.values)}"
        if k == "optimum":
            return (
                f"{self.key} = {value_text(self.middle)} minus the better of "
                f"{value_text(min(self.values))} and {value_text(max(self.values))}"
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


def value_text(x: Any) -> str:
    """A level as the pattern files write it (``true``, ``0.5``).

    Args:
        x: the value.
    """
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def _vals(values: Sequence[Any]) -> str:
    return "[" + ", ".join(value_text(x) for x in values) + "]"


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
                spec = resolve_arm(arm, {})[0]
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
            Arm(*base, (*ov, (c.key or "", v)), f"{c.key} = {value_text(v)}", x=i)
            for i, v in enumerate(c.values)
        ]
    if c.kind in ("change", "level"):
        return [Arm(*base, ov, test.regime)]
    vals, by_vals = _grid_levels(test, thin)
    if c.kind in ("gradient", "optimum"):
        return [
            Arm(*base, (*ov, (c.key or "", v)), f"{c.key} = {value_text(v)}", x=v) for v in vals
        ]
    return [
        Arm(
            *base,
            (*ov, (c.by or "", w), (c.key or "", v)),
            f"{c.by} = {value_text(w)}, {c.key} = {value_text(v)}",
            x=v,
            by=w,
        )
        for w in by_vals
        for v in vals
    ]


def resolve_arm(arm: Arm, extra: Mapping[str, Any]) -> tuple[Any, str, Any]:
    """Resolve an arm; ``extra`` (sizes, situation point) come first, the arm's win."""
    try:
        return runner.resolve(arm.scenario, arm.regime, {**extra, **dict(arm.overrides)})
    except SacaInputError as exc:
        raise SacaInputError(f"{arm.label}: {exc}") from None
