"""``saca map``: which regime wins where over two situation parameters, and Pareto fronts.

A map spec is a sweep spec (:mod:`saca.experiments.engine.sweep`) with a factorial design over
exactly two situation parameters (x, then y), two or more regimes and at least two replicates,
plus an optional ``[map]`` table::

    [map]
    metrics = ["efficacy", "trust_institution", "burnout_mean"]   # the default
    window = "all"          # or a phase of the runs: normal, emergency, recovery
    pareto_samples = 16     # dial settings for the Pareto fronts (default 0: presets only)

Method.

- **Map.** Every (cell, regime, replicate) is one run of the sweep; the regimes of a cell
  and replicate share their seed (common random numbers), so the runs are paired by
  replicate. In each cell and for each metric the *best* regime has the best mean (the
  metric's direction is :data:`saca.experiments.plots.figures.BETTER`); it is the cell's *winner*
  when its paired 95% Student t CI against every other regime excludes 0 in its favour
  (:func:`saca.experiments.stats.winner`), and otherwise the cell has *no clear winner*. The
  difference reported is best − runner-up (the next best mean), paired, with its CI.
- **Pareto fronts.** Points are regimes (dial settings) described by their mean efficacy,
  burnout and institutional trust with 95% CIs; a point is on a front when no other point
  is at least as good on both of the front's metrics and better on one (efficacy and trust
  are maximised, burnout minimised; :func:`pareto_front`). Only comparable points share a
  front, so there are two groups: ``map`` (each regime of the spec averaged over the
  map's cells: one mean per replicate, then a t CI over the replicates) and, with
  ``pareto_samples = N``, ``dials``: N dial settings drawn by a Latin hypercube over the
  six dials ``regime.<dial>`` in [0, 1] on the first regime's switches, together with
  every regime of the spec, all run at the scenario's own situation (no grid), so the
  front is over real dial settings run in the same situation as the presets.

Storage in ``--out DIR``: ``runs/`` (the map's sweep: ``saca results DIR/runs`` works),
``pareto/`` (the dial settings) and ``pareto_presets/`` (the spec's regimes at the
scenario's situation), three ordinary sweeps of the same engine, so results are the same
on every backend and ``--resume`` recomputes nothing stored; ``map_spec.toml`` (the spec as
given), ``map.parquet`` and ``map.json`` (one row per cell and metric), ``map.png``,
``pareto.parquet`` (every point, its dials, means, CIs and front flags) and
``pareto.png``. The sweeps' own specs leave the ``[map]`` table out, so changing the
metrics or the window re-analyses the stored runs without rerunning them.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import console, stats
from saca.experiments.engine import io, outdir, sweep
from saca.experiments.engine.backends import add_backend_options, check_backend, check_timeout
from saca.experiments.engine.estimate import estimate, stored_pending
from saca.experiments.engine.plan import SweepPlan, plan_line, prepare
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import SweepSpec, load_spec, parse_spec, same_spec
from saca.experiments.plots import figures as plots
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import did_you_mean
from saca.model.regime import DIALS

DEFAULT_METRICS = ("efficacy", "trust_institution", "burnout_mean")
MAP_KEYS = ("metrics", "window", "pareto_samples")
PARETO_METRICS = ("efficacy", "burnout_mean", "trust_institution")
FRONTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "burnout": (("efficacy",), ("burnout_mean",)),
    "trust": (("efficacy", "trust_institution"), ()),
}
"""Front name → (metrics maximised, metrics minimised); column ``on_front_<name>``."""
RUNS, PARETO, PRESETS = "runs", "pareto", "pareto_presets"
SPEC_COPY = "map_spec.toml"
OUTPUTS = ("map.parquet", "map.json", "map.png", "pareto.parquet", "pareto.png")
DIAL_ABBR = {
    "information": "info",
    "consensus": "cons",
    "goals": "goal",
    "contract": "ctrt",
    "decision": "deci",
    "control": "ctrl",
}
"""Short dial names for text tables."""
NO_WINNER = "·"
EMPTY = "?"
WORST_OFF_MARK = "!"
"""Marks a cell where a regime wins the mean efficacy but loses the worst-off."""


# ----- the spec -------------------------------------------------------------------------
@dataclass(frozen=True)
class MapSettings:
    """The ``[map]`` table, checked.

    Args:
        metrics: metrics mapped, each with a better direction.
        window: ``all`` or a phase of the runs.
        pareto_samples: dial settings drawn for the Pareto fronts (0: none).
    """

    metrics: tuple[str, ...] = DEFAULT_METRICS
    window: str = "all"
    pareto_samples: int = 0


@dataclass(frozen=True)
class MapPlan:
    """A map spec resolved and validated: its settings and the sweeps it runs.

    Args:
        spec: the map spec as read (with its ``[map]`` table).
        settings: the ``[map]`` settings.
        runs: the map's sweep (cells × regimes × replicates).
        pareto: the dial settings' sweep, or None without ``pareto_samples``.
        presets: the spec's regimes at the scenario's own situation, or None.
    """

    spec: SweepSpec
    settings: MapSettings
    runs: SweepPlan
    pareto: SweepPlan | None = None
    presets: SweepPlan | None = None

    @property
    def sweeps(self) -> dict[str, SweepPlan]:
        """Subdirectory → plan, in the order they run."""
        out = {RUNS: self.runs}
        if self.pareto is not None and self.presets is not None:
            out[PARETO] = self.pareto
            out[PRESETS] = self.presets
        return out

    @property
    def n_runs(self) -> int:
        """Runs of every sweep together."""
        return sum(p.n_runs for p in self.sweeps.values())

    @property
    def axes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The x and y parameters as in a sweep's meta.json (``key``, ``kind``, ``levels``)."""
        fx, fy = self.runs.design.factors
        return fx.describe(), fy.describe()


def read_settings(spec: SweepSpec) -> MapSettings:
    """Check that a sweep spec can be mapped and read its ``[map]`` table.

    Args:
        spec: a spec read with ``extra_tables=("map",)``.

    Returns:
        The settings.

    Raises:
        SacaInputError: one line naming the spec and the fix: not a factorial design over
            exactly two situation parameters, fewer than two regimes or replicates, an
            unknown ``[map]`` key, metric or value.
    """

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{spec.label}: {msg}")

    if spec.design != "factorial":
        raise fail(
            f'a map needs design = "factorial" over two parameters (lists of levels, or '
            f'ranges with levels = N), got design = "{spec.design}"'
        )
    keys = [f.key for f in spec.factors]
    if len(keys) != 2:
        got = f"{len(keys)}" + (f" ({', '.join(keys)})" if keys else "")
        raise fail(
            f"a map needs exactly two varied parameters in [parameters] (x, then y), got "
            f"{got}; give each a list of levels or a range with levels = N"
        )
    for f in spec.factors:
        if not f.key.startswith("situation."):
            raise fail(
                f"{f.key} is not a situation parameter; a map's axes are situations "
                "(situation.*) in which the regimes are compared; compare dial settings with "
                "[map] pareto_samples"
            )
        if f.levels is not None and len(f.levels) < 2:
            raise fail(f"[parameters] {f.key} has one level; a map axis needs two or more")
    if len(spec.regimes) < 2:
        raise fail(
            f"a map compares regimes and needs at least two in [sweep] regimes, got "
            f"{list(spec.regimes)}"
        )
    if spec.replicates < 2:
        raise fail(
            f"replicates = {spec.replicates}: a map needs at least 2 replicates per cell and "
            "regime for the paired 95% CI that decides a winner; use 3 or more"
        )
    if not spec.common_random_numbers:
        raise fail(
            "a map pairs the regimes of a cell by their shared seed; remove "
            "common_random_numbers = false"
        )
    table = spec.data.get("map", {})
    for key in table:
        if key not in MAP_KEYS:
            raise fail(
                f"unknown key {key!r} in [map]; {did_you_mean(key, MAP_KEYS)}"
                f"known keys: {', '.join(MAP_KEYS)}"
            )
    metrics = table.get("metrics", list(DEFAULT_METRICS))
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, list) or not metrics:
        raise fail(f'[map] metrics must be a list like ["efficacy"], got {metrics!r}')
    directed = list(plots.BETTER)
    for m in metrics:
        if not isinstance(m, str) or m not in METRICS:
            raise fail(
                f"[map] metrics: unknown metric {m!r}; {did_you_mean(str(m), METRICS)}"
                f"choose from {', '.join(directed)}"
            )
        if m not in plots.BETTER:
            raise fail(
                f"[map] metrics: {m} has no better direction, so no regime can win on it; "
                f"choose from {', '.join(directed)}"
            )
    if len(set(metrics)) < len(metrics):
        raise fail(f"[map] metrics lists a metric twice: {metrics!r}")
    window = table.get("window", "all")
    if not isinstance(window, str) or not window:
        raise fail(f'[map] window must be "all" or a phase name, got {window!r}')
    samples = table.get("pareto_samples", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 0:
        raise fail(
            f"[map] pareto_samples must be a whole number of dial settings (0 for none), "
            f"got {samples!r}"
        )
    return MapSettings(tuple(metrics), window, samples)


def plan_map(spec: SweepSpec | str | Path) -> MapPlan:
    """Read a map spec and prepare its sweeps, validating every run before any starts.

    Args:
        spec: the spec file, or a spec read with ``extra_tables=("map",)``.

    Raises:
        SacaInputError: anything wrong, in one line (see :func:`read_settings` and
            :func:`saca.experiments.engine.plan.prepare`), or a window the runs do not have.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, extra_tables=("map",))
    settings = read_settings(spec)
    data = {k: v for k, v in spec.data.items() if k != "map"}
    runs = prepare(_derived(spec, data, spec.label, spec.name, "the map's sweep"))
    windows = runs.windows
    if settings.window not in windows:
        raise SacaInputError(
            f"{spec.label}: [map] window {settings.window!r} is not a window of these "
            f"{runs.steps}-day runs; {did_you_mean(settings.window, windows)}"
            f"choose one of {', '.join(windows)}"
        )
    if not settings.pareto_samples:
        return MapPlan(spec, settings, runs)
    sw = spec.data["sweep"]
    base = {k: sw[k] for k in ("scenario", "steps") if k in sw}
    base |= {"replicates": spec.replicates, "seed": spec.seed}
    fixed = dict(spec.data.get("fixed", {}))
    # scalars in [parameters] are fixed values too (lists and ranges are the map's axes)
    params = spec.data.get("parameters", {})
    fixed |= {k: v for k, v in params.items() if not isinstance(v, list | dict)}
    dial_keys = {f"regime.{d}" for d in DIALS}
    dials = {
        "sweep": {
            "name": f"{spec.name}-pareto",
            "description": f"dial settings for the Pareto fronts of the map {spec.name}",
            **base,
            "regimes": [sw["regimes"][0]],
            "design": "lhs",
            "samples": settings.pareto_samples,
        },
        "parameters": {f"regime.{d}": {"min": 0.0, "max": 1.0} for d in DIALS},
        # the dials are what is sampled: a fixed dial of the map gives way
        "fixed": {k: v for k, v in fixed.items() if k not in dial_keys},
    }
    presets = {
        "sweep": {
            "name": f"{spec.name}-presets",
            "description": f"the regimes of the map {spec.name} at the scenario's situation",
            **base,
            "regimes": list(sw["regimes"]),
            "design": "factorial",
        },
        "fixed": fixed,
    }
    return MapPlan(
        spec,
        settings,
        runs,
        prepare(_derived(spec, dials, f"{spec.label} [pareto]", f"{spec.name}-pareto")),
        prepare(_derived(spec, presets, f"{spec.label} [pareto presets]", f"{spec.name}-presets")),
    )


def _derived(
    spec: SweepSpec, data: dict[str, Any], label: str, stem: str, what: str = ""
) -> SweepSpec:
    """A sweep spec built from a map spec, with a TOML text that reads back to ``data``."""
    header = f"Written by saca map from {spec.label}" + (f": {what}" if what else "")
    text = to_toml(data, header)
    return parse_spec(data, label=label, base_dir=spec.base_dir, text=text, stem=stem)


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def to_toml(data: Mapping[str, Mapping[str, Any]], header: str = "") -> str:
    """A sweep spec's tables as TOML text (values: strings, numbers, booleans, lists and
    inline tables, as a spec has; JSON's string and number syntax is valid TOML).

    Args:
        data: table name → key → value.
        header: a comment line at the top.

    Raises:
        ValueError: a value TOML cannot hold or that does not read back the same.
    """

    def key(k: str) -> str:
        return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float | str):
            return json.dumps(v, ensure_ascii=False, allow_nan=False)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, Mapping):
            return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
        raise ValueError(f"cannot write {v!r} to a spec")

    lines = [f"# {header}"] if header else []
    for table, values in data.items():
        lines += ["", f"[{key(table)}]"]
        lines += [f"{key(k)} = {value(v)}" for k, v in values.items()]
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib.loads(text) != json.loads(json.dumps(data)):
        raise ValueError("the spec does not read back the same from TOML")
    return text


# ----- the map --------------------------------------------------------------------------
def _axis(results: pd.DataFrame, axis: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(axis, Mapping):
        return dict(axis)
    values = results[axis].dropna().unique().tolist()
    numeric = pd.api.types.is_numeric_dtype(results[axis])
    return {"key": axis, "kind": "float" if numeric else "choice", "levels": sorted(values)}


def map_cells(
    results: pd.DataFrame,
    x: str | Mapping[str, Any],
    y: str | Mapping[str, Any],
    regimes: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    better: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """Which regime wins in every cell of two parameters, per metric.

    Runs are paired across regimes by design point and replicate (they share a seed); see
    :func:`saca.experiments.plots.figures.winner_grid` and :func:`saca.experiments.stats.winner`.

    Args:
        results: one row per run (:func:`saca.experiments.engine.results.load_results`): ``point``,
            ``regime``, ``replicate``, ``status``, the two parameters and the metrics.
        x: the x parameter's key (its levels are the values found), or its meta.json form
            (``key``, ``kind``, ``levels``).
        y: the y parameter, likewise.
        regimes: regime labels in order; None takes them in order of appearance.
        metrics: the metrics to map.
        better: metric → True if higher is better; default
        :data:`saca.experiments.plots.figures.BETTER`.

    Returns:
        One row per cell and metric: ``metric``, ``higher_is_better``, ``x``, ``y``,
        ``ix``, ``iy`` (level indices), ``<regime>_mean`` / ``_lo`` / ``_hi`` for each
        regime, ``n`` (pairs), ``best`` (best mean), ``clear``, ``winner`` (``best`` when
        clear, else None), ``runner_up``, and ``diff`` / ``diff_lo`` / ``diff_hi``, the
        paired difference best − runner-up with its 95% CI. Cells without runs are left out.

    Raises:
        KeyError: a metric without a direction in ``better``.
    """
    better = plots.BETTER if better is None else better
    if regimes is None:
        regimes = list(dict.fromkeys(results["regime"]))
    fx, fy = _axis(results, x), _axis(results, y)
    rows: list[dict[str, Any]] = []
    for m in metrics:
        higher = better[m]
        g = plots.winner_grid(results, fx, fy, regimes, m, higher, bins=1)
        for iy, row in enumerate(g["cells"]):
            for ix, cell in enumerate(row):
                if cell is None:
                    continue
                rec: dict[str, Any] = {
                    "metric": m,
                    "higher_is_better": higher,
                    "x": fx["levels"][ix],
                    "y": fy["levels"][iy],
                    "ix": ix,
                    "iy": iy,
                }
                for r in regimes:
                    ci = cell["cis"][r]
                    rec |= {f"{r}_mean": ci["mean"], f"{r}_lo": ci["lo"], f"{r}_hi": ci["hi"]}
                ru = cell["runner_up"]
                d = cell["diffs"].get(ru, {}) if ru is not None else {}
                rec |= {
                    "n": cell["n"],
                    "best": cell["best"],
                    "clear": bool(cell["clear"]),
                    "winner": cell["best"] if cell["clear"] else None,
                    "runner_up": ru,
                    "diff": d.get("diff", np.nan),
                    "diff_lo": d.get("lo", np.nan),
                    "diff_hi": d.get("hi", np.nan),
                }
                rows.append(rec)
    df = pd.DataFrame(rows)
    if len(df):  # None, not NaN, where no regime clearly wins
        df["winner"] = df["winner"].astype(object).where(df["clear"], None)
        df = _with_equity(df, results, fx, fy, regimes)
    df.attrs.update(x=fx["key"], y=fy["key"], regimes=list(regimes))
    return df


def _with_equity(
    df: pd.DataFrame,
    results: pd.DataFrame,
    fx: Mapping[str, Any],
    fy: Mapping[str, Any],
    regimes: Sequence[str],
) -> pd.DataFrame:
    """Beside efficacy in every cell: each regime's mean spread between communities
    (``<regime>_sd``) and worst-decile efficacy (``<regime>_worst``), and ``worst_off``,
    the sentence naming each regime that wins the mean but loses the worst-off there
    (:func:`saca.experiments.stats.worst_off_flags`, paired by point and replicate), or None.
    Rows of other metrics get NaN and None; runs stored without the equity metrics give
    NaN and flag nothing."""
    spread, worst = stats.EQUITY_METRICS
    ok = results[results["status"] == "ok"]
    cx, _, _ = plots.factor_cells(ok, fx, 1)
    cy, _, _ = plots.factor_cells(ok, fy, 1)
    extra: dict[tuple[int, int], dict[str, Any]] = {}
    for (ix, iy), sub in ok.groupby([np.asarray(cx), np.asarray(cy)]):
        rec: dict[str, Any] = {}
        cols = {}
        for m in (stats.MEAN_METRIC, spread, worst):
            if m in sub:
                cols[m] = sub.pivot_table(index=["point", "replicate"], columns="regime", values=m)
        for r in regimes:
            for m, tag in ((spread, "sd"), (worst, "worst")):
                has = m in cols and r in cols[m]
                rec[f"{r}_{tag}"] = float(cols[m][r].mean()) if has else np.nan
        flags: dict[str, list[str]] = {}
        if worst in cols:
            both = [r for r in regimes if r in cols[worst] and r in cols[stats.MEAN_METRIC]]
            pair = cols[stats.MEAN_METRIC].index.intersection(cols[worst].index)
            flags = stats.worst_off_flags(
                {r: cols[stats.MEAN_METRIC].loc[pair, r].to_numpy(float) for r in both},
                {r: cols[worst].loc[pair, r].to_numpy(float) for r in both},
            )
        rec["worst_off"] = "; ".join(stats.worst_off_text(flags)) or None
        extra[(int(ix), int(iy))] = rec
    is_eff = df["metric"] == stats.MEAN_METRIC
    for col in [f"{r}_{t}" for r in regimes for t in ("sd", "worst")]:
        df[col] = [
            extra.get((ix, iy), {}).get(col, np.nan) if e else np.nan
            for e, ix, iy in zip(is_eff, df["ix"], df["iy"], strict=True)
        ]
    df["worst_off"] = pd.Series(
        [
            extra.get((ix, iy), {}).get("worst_off") if e else None
            for e, ix, iy in zip(is_eff, df["ix"], df["iy"], strict=True)
        ],
        index=df.index,
        dtype=object,
    )
    return df


def letters(regimes: Sequence[str]) -> dict[str, str]:
    """One letter per regime for text maps: upper-case initials when they differ, else A, B, ...

    Args:
        regimes: regime labels in order.
    """
    initials = [r[:1].upper() for r in regimes]
    if len(set(initials)) == len(initials) and all(c.isalpha() for c in initials):
        return dict(zip(regimes, initials, strict=True))
    return {r: chr(ord("A") + i) if i < 26 else str(i) for i, r in enumerate(regimes)}


def _g(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float | np.floating) else str(v)


def text_map(
    cells: pd.DataFrame,
    metric: str,
    regimes: Sequence[str],
    x: Mapping[str, Any],
    y: Mapping[str, Any],
) -> str:
    """A compact text grid of one metric: rows y (highest first), columns x, a letter per
    winning regime and ``·`` where no regime clearly wins, with the counts.

    Args:
        cells: :func:`map_cells` output.
        metric: the metric.
        regimes: regime labels in order.
        x: the x parameter (meta.json form, with levels).
        y: the y parameter.
    """

    sub = cells[cells["metric"] == metric]
    mark = letters(regimes)
    grid = [[EMPTY] * len(x["levels"]) for _ in y["levels"]]
    flagged = sub["worst_off"].notna() if "worst_off" in sub else pd.Series(False, sub.index)
    for rec, flag in zip(sub.itertuples(), flagged, strict=True):
        grid[rec.iy][rec.ix] = NO_WINNER if pd.isna(rec.winner) else mark[rec.winner]
        grid[rec.iy][rec.ix] += WORST_OFF_MARK if flag else ""
    higher = bool(plots.BETTER[metric])
    counts = [f"{mark[r]} {r} wins {int((sub['winner'] == r).sum())}" for r in regimes]
    counts.append(f"{NO_WINNER} no clear winner {int((~sub['clear']).sum())}")
    if flagged.any():
        counts.append(f"{WORST_OFF_MARK} a regime {stats.WORST_OFF} {int(flagged.sum())}")
    head = (
        f"{metric} ({'higher' if higher else 'lower'} is better), {len(sub)} cells: "
        + ", ".join(counts)
    )
    rows = [[_g(y["levels"][iy]), *grid[iy]] for iy in reversed(range(len(y["levels"])))]
    table = console.table([f"{y['key']} \\ {x['key']}", *(_g(v) for v in x["levels"])], rows)
    return head + "\n" + table


def equity_table(
    cells: pd.DataFrame, regimes: Sequence[str], x: Mapping[str, Any], y: Mapping[str, Any]
) -> str:
    """Efficacy with equity beside it, one row per cell: each regime's mean efficacy, its
    spread between communities (sd) and its worst decile's efficacy, and the worst-off
    flag in words.

    Args:
        cells: :func:`map_cells` output with efficacy among its metrics.
        regimes: regime labels in order.
        x: the x parameter (meta.json form).
        y: the y parameter.
    """

    sub = cells[cells["metric"] == stats.MEAN_METRIC].sort_values(["iy", "ix"])
    header = [y["key"], x["key"], *(f"{r} eff / sd / worst" for r in regimes), "equity"]
    rows = [
        [
            _g(rec["y"]),
            _g(rec["x"]),
            *(
                f"{rec[f'{r}_mean']:.3f} / {rec.get(f'{r}_sd', np.nan):.3f} / "
                f"{rec.get(f'{r}_worst', np.nan):.3f}"
                for r in regimes
            ),
            rec.get("worst_off") or "",
        ]
        for _, rec in sub.iterrows()
    ]
    return console.table(header, rows)


# ----- Pareto fronts --------------------------------------------------------------------
def pareto_front(
    df: pd.DataFrame, maximise: Sequence[str] = (), minimise: Sequence[str] = ()
) -> pd.Series:
    """Which rows are non-dominated.

    Row ``p`` is dominated when another row is at least as good as ``p`` on every
    objective and strictly better on at least one. Equal rows do not dominate each other,
    so duplicates of a front point are all on the front. Rows with a missing objective
    are neither on the front nor dominate others.

    Args:
        df: one row per point.
        maximise: columns where higher is better.
        minimise: columns where lower is better.

    Returns:
        A boolean Series aligned with ``df`` (True: on the front).
    """
    cols = [*maximise, *minimise]
    if not cols:
        raise ValueError("pareto_front needs at least one column to maximise or minimise")
    # every objective as "higher is better"
    v = np.column_stack(
        [df[c].to_numpy(float) for c in maximise] + [-df[c].to_numpy(float) for c in minimise]
    )
    ok = np.isfinite(v).all(axis=1)
    w = v[ok]
    geq = (w[:, None, :] >= w[None, :, :]).all(axis=2)  # geq[q, p]: q at least as good as p
    gt = (w[:, None, :] > w[None, :, :]).any(axis=2)
    dominated = (geq & gt).any(axis=0)
    front = np.zeros(len(df), dtype=bool)
    front[np.flatnonzero(ok)] = ~dominated
    return pd.Series(front, index=df.index, name="on_front")


def _summary(values: pd.DataFrame, metrics: Sequence[str]) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for m in metrics:
        ci = stats.mean_ci(values[m].to_numpy(float))
        rec |= {m: ci["mean"], f"{m}_lo": ci["lo"], f"{m}_hi": ci["hi"]}
    rec["n"] = len(values)
    return rec


def pareto_points(
    map_results: pd.DataFrame,
    regime_dials: Mapping[str, Mapping[str, float]],
    samples: pd.DataFrame | None = None,
    presets: pd.DataFrame | None = None,
    metrics: Sequence[str] = PARETO_METRICS,
) -> pd.DataFrame:
    """The points of the Pareto fronts, with means, 95% CIs and front flags.

    Args:
        map_results: the map's runs (one row per run; ok runs are used).
        regime_dials: regime label → its six dial values, in the spec's order.
        samples: the dial settings' runs (columns ``regime.<dial>``), or None.
        presets: the spec's regimes run at the scenario's own situation, or None.
        metrics: the metrics summarised.

    Returns:
        One row per point: ``group`` (``map``: the regimes averaged over the map's cells,
        one mean per replicate then a t CI over replicates; ``dials``: the sampled dial
        settings and the regimes at the scenario's situation, a t CI over replicates),
        ``kind`` (``preset`` or ``sample``), ``label``, ``regime`` (whose switches),
        ``point`` (the sample's design point, -1 for a preset), one column per dial
        ``regime.<dial>``, each metric with ``_lo`` / ``_hi``, ``n`` (replicates) and
        ``on_front_<front>`` for each of :data:`FRONTS` whose metrics are summarised
        (computed within the group).
    """
    dial_cols = [f"regime.{d}" for d in DIALS]
    regimes = list(regime_dials)
    rows: list[dict[str, Any]] = []

    def preset_row(group: str, r: str, values: pd.DataFrame) -> dict[str, Any]:
        dials = {f"regime.{d}": float(regime_dials[r][d]) for d in DIALS}
        head = {"group": group, "kind": "preset", "label": r, "regime": r, "point": -1}
        return head | dials | _summary(values, metrics)

    ok = map_results[map_results["status"] == "ok"]
    n_cells = map_results["point"].nunique()
    for r in regimes:
        # average over the cells within a replicate first: the cells are fixed situations,
        # the replicates the independent draws; a replicate with a failed run would
        # average other cells, so it is left out
        g = ok[ok["regime"] == r].groupby("replicate")
        per_rep = g[list(metrics)].mean()[g.size() == n_cells]
        rows.append(preset_row("map", r, per_rep))
    if samples is not None:
        s_ok = samples[samples["status"] == "ok"]
        base = regimes[0]
        for point, sub in s_ok.groupby("point", sort=True):
            head = {
                "group": "dials",
                "kind": "sample",
                "label": f"dials {int(point):02d}",
                "regime": base,
                "point": int(point),
            }
            dials = {c: float(sub[c].iloc[0]) for c in dial_cols}
            rows.append(head | dials | _summary(sub, metrics))
    if presets is not None:
        p_ok = presets[presets["status"] == "ok"]
        for r in regimes:
            rows.append(preset_row("dials", r, p_ok[p_ok["regime"] == r]))
    df = pd.DataFrame(rows)
    for name, (maxi, mini) in FRONTS.items():
        if not set(maxi) | set(mini) <= set(metrics):
            continue  # a front over a metric not summarised
        col = f"on_front_{name}"
        df[col] = False
        for _, idx in df.groupby("group", sort=False).groups.items():
            df.loc[idx, col] = pareto_front(df.loc[idx], maxi, mini).to_numpy()
    return df


def front_table(points: pd.DataFrame, group: str) -> str:
    """The members of a group's fronts as a text table (dials abbreviated, :data:`DIAL_ABBR`).

    Args:
        points: :func:`pareto_points` output.
        group: ``map`` or ``dials``.
    """

    sub = points[points["group"] == group]
    flags = [f"on_front_{n}" for n in FRONTS]
    members = sub[sub[flags].any(axis=1)].sort_values(PARETO_METRICS[0], ascending=False)
    header = [
        "point",
        "fronts",
        *PARETO_METRICS,
        "dials (" + " ".join(DIAL_ABBR.get(d, d) for d in DIALS) + ")",
    ]
    rows = []
    for _, r in members.iterrows():
        fronts = "+".join(n for n in FRONTS if r[f"on_front_{n}"])
        vals = [f"{r[m]:.3f} ±{(r[f'{m}_hi'] - r[f'{m}_lo']) / 2:.3f}" for m in PARETO_METRICS]
        dials = " ".join(f"{r[f'regime.{d}']:.2f}" for d in DIALS)
        rows.append([r["label"], fronts, *vals, dials])
    return console.table(header, rows)


# ----- running --------------------------------------------------------------------------
@dataclass
class MapResult:
    """What ``saca map`` computed and wrote.

    Args:
        out: the output directory.
        plan: the map's plan.
        cells: :func:`map_cells` output (also ``map.parquet``).
        pareto: :func:`pareto_points` output (also ``pareto.parquet``).
        reports: subdirectory → the sweep's report of this session.
        files: the files written.
    """

    out: Path
    plan: MapPlan
    cells: pd.DataFrame
    pareto: pd.DataFrame
    reports: dict[str, sweep.SweepReport] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Runs whose latest record is a failure, over every sweep."""
        return sum(r.failed_total for r in self.reports.values())

    @property
    def ran(self) -> int:
        """Runs done in this session, over every sweep."""
        return sum(r.ran for r in self.reports.values())


def check_out(out: str | Path, mp: MapPlan, resume: bool) -> Path:
    """Check that ``out`` can take this map: new or empty, or (with resume) the same map.

    Args:
        out: the output directory.
        mp: the map's plan.
        resume: continue a map stored in ``out``.

    Raises:
        SacaInputError: ``out`` holds something else, a map without ``resume``, or the
            sweeps of another spec.
    """
    out = outdir.prepare_out(out)
    if not outdir.holds_files(out) or sweep.unborn(out, *mp.sweeps):
        return out
    if not (out / SPEC_COPY).is_file():
        raise SacaInputError(
            f"--out {out} is not empty and holds no saca map; give a new or empty directory, "
            "or add --force to move its contents aside"
        )
    if not resume:
        raise SacaInputError(
            f"--out {out} already holds a map; add --resume to continue it (stored runs are "
            "not redone), or give another directory"
        )
    for name, plan in mp.sweeps.items():
        if not (out / name / "meta.json").is_file():
            continue
        meta = read_meta(out / name)
        if not same_spec(meta, plan.spec):
            what = "dial settings" if name == PARETO else "runs"
            raise SacaInputError(
                f"{out / name} holds {what} of a different spec (its [sweep], [parameters], "
                "[fixed] or pareto_samples changed); resume with the same spec, or give "
                "another --out"
            )
    return out


def run_map(
    spec: MapPlan | SweepSpec | str | Path,
    out: str | Path,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool | None = None,
    run_timeout: float | None = None,
) -> MapResult:
    """Run a map's sweeps (or continue them) and write the map and the Pareto fronts.

    Args:
        spec: a :class:`MapPlan`, a spec read with ``extra_tables=("map",)``, or its path.
        out: the output directory (new or empty, or a map to resume).
        backend: ``serial``, ``process`` or ``dask``
            (:func:`saca.experiments.engine.backends.check_backend`).
        workers: worker processes for ``process`` and a dask LocalCluster.
        scheduler: address of a running dask scheduler.
        resume: continue the map stored in ``out``: stored runs are not redone.
        progress: a progress bar on stderr: True, False, or None for only on a terminal.
        run_timeout: seconds a run may take before it is recorded failed (None: no limit).

    Returns:
        A :class:`MapResult`. Failed runs do not raise (they are left out of the map).

    Raises:
        SacaInputError: a bad spec, options or directory, before any run.
        KeyboardInterrupt: after storing every finished run.
    """
    mp = spec if isinstance(spec, MapPlan) else plan_map(spec)
    backend, workers = check_backend(backend, workers, scheduler)
    out = check_out(out, mp, resume)
    outdir.make_out(out)
    (out / SPEC_COPY).write_text(mp.spec.text or to_toml(mp.spec.data), encoding="utf-8")
    reports = {
        name: sweep.run_sweep(
            plan,
            out / name,
            backend=backend,
            workers=None if scheduler else workers,
            scheduler=scheduler,
            resume=resume,
            progress=progress,
            run_timeout=run_timeout,
        )
        for name, plan in mp.sweeps.items()
    }
    result = analyse(mp, out)
    result.reports = reports
    return result


def analyse(mp: MapPlan, out: str | Path) -> MapResult:
    """Compute the map and the fronts from the stored sweeps in ``out`` and write the files.

    Args:
        mp: the map's plan.
        out: the directory the sweeps were stored in.

    Raises:
        SacaInputError: the map's sweep has no successful run.
    """
    out = Path(out)
    st = mp.settings
    regimes = list(mp.runs.regimes)
    fx, fy = mp.axes
    results = load_results(out / RUNS, window=st.window)
    if not (results["status"] == "ok").any():
        raise SacaInputError(
            f"{out / RUNS} has no successful runs to map; see saca results {out / RUNS}"
        )
    cells = map_cells(results, fx, fy, regimes, st.metrics)
    dials = {r: {d: getattr(reg, d) for d in DIALS} for r, reg in mp.runs.regimes.items()}
    samples = presets = None
    if mp.pareto is not None:
        samples = load_results(out / PARETO, window=st.window)
        presets = load_results(out / PRESETS, window=st.window)
    points = pareto_points(results, dials, samples, presets)
    spec = mp.spec
    head = (
        f"{spec.name}: {mp.runs.scenario.name} scenario, window {st.window}, "
        f"{spec.replicates} replicates per cell, seed {spec.seed}"
    )
    io.write_parquet(cells, out / "map.parquet")
    io.write_parquet(points, out / "pareto.parquet")
    plots.plot_sweep_winners(
        results,
        [fx, fy],
        regimes,
        out / "map.png",
        title=f"Which regime wins ({head})",
        metrics={m: plots.BETTER[m] for m in st.metrics},
    )
    group = "dials" if samples is not None else "map"
    shown = points[points["group"] == group]
    if group == "dials":
        note = (
            f"{st.pareto_samples} dial settings (Latin hypercube over the six dials, "
            f"{regimes[0]}'s switches) and the regimes, all at the {mp.runs.scenario.name} "
            f"scenario's own situation; points: mean of {spec.replicates} replicates, bars: "
            "95% CI"
        )
    else:
        note = (
            f"the regimes averaged over the map's {len(cells) // max(1, len(st.metrics))} "
            f"cells; bars: 95% CI over {spec.replicates} replicates"
        )
    panels = [(mini[0] if mini else maxi[1], f"on_front_{n}") for n, (maxi, mini) in FRONTS.items()]
    plots.plot_pareto(
        shown, regimes, panels, out / "pareto.png", title=f"Pareto fronts ({head})", note=note
    )
    summary = {
        "kind": "map",
        "name": spec.name,
        "spec_file": spec.label,
        "scenario": mp.runs.scenario.name,
        "regimes": regimes,
        "letters": letters(regimes),
        "x": fx,
        "y": fy,
        "replicates": spec.replicates,
        "seed": spec.seed,
        "steps": mp.runs.steps,
        "window": st.window,
        "method": (
            "winner: best mean whose paired 95% Student t CI against every other regime "
            "excludes 0 (pairs: replicates, which share a seed); diff: best - runner-up"
        ),
        "metrics": {
            m: {
                "higher_is_better": plots.BETTER[m],
                "wins": {
                    r: int((cells.loc[cells["metric"] == m, "winner"] == r).sum()) for r in regimes
                },
                "no_clear_winner": int((~cells.loc[cells["metric"] == m, "clear"]).sum()),
            }
            for m in st.metrics
        },
        "equity": {
            "beside": stats.MEAN_METRIC,
            "metrics": list(stats.EQUITY_METRICS),
            "worst_off_cells": (
                cells.loc[cells["worst_off"].notna(), ["x", "y", "worst_off"]].to_dict(
                    orient="records"
                )
                if "worst_off" in cells
                else []
            ),
        },
        "cells": cells.to_dict(orient="records"),
        "pareto": {
            "shown": group,
            "pareto_samples": st.pareto_samples,
            "fronts": {
                g: {
                    n: points.loc[
                        (points["group"] == g) & points[f"on_front_{n}"], "label"
                    ].tolist()
                    for n in FRONTS
                }
                for g in dict.fromkeys(points["group"])
            },
            "points": points.to_dict(orient="records"),
        },
        "sweeps": {name: str(out / name) for name in mp.sweeps},
        **io.provenance(),
    }
    io.write_json(summary, out / "map.json")
    files = [out / f for f in OUTPUTS]
    return MapResult(out, mp, cells, points, files=files)


# ----- the command ----------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add the ``map`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.main.build_parser`.
    """
    p = sub.add_parser(
        "map",
        help="which regime wins where over two situation parameters, and Pareto fronts",
        description="Run a map spec (a factorial sweep over two situation parameters, two or "
        "more regimes, replicates >= 2, and an optional [map] table: metrics, window, "
        "pareto_samples) and write DIR/map.parquet, map.json, map.png (the winning regime of "
        "every cell, or no clear winner when the paired 95% CIs include 0) and "
        "DIR/pareto.parquet, pareto.png (Pareto fronts of dial settings: efficacy vs burnout "
        "and vs trust). The runs are stored in DIR/runs (saca results DIR/runs) and "
        "resumable. Exit 0, 1 when some runs failed, 2 for input errors, 130 when "
        "interrupted (continue with --resume).",
    )
    p.add_argument("spec", metavar="SPEC.toml", help="the map spec")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    add_backend_options(p)
    outdir.add_force_option(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the map in DIR (same spec): stored runs are not redone",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the runs of every sweep and an estimate of the time, run nothing",
    )


def _dry_run(
    mp: MapPlan, out: str | None, backend: str, workers: int, scheduler: str | None
) -> str:

    lines = []
    total = parallel = 0.0
    k = 1 if scheduler else workers
    per_run: float | None = None
    basis = ""
    for name, plan in mp.sweeps.items():
        pending = stored_pending(plan, Path(out) / name if out is not None else None)
        n = plan.n_runs if pending is None else pending
        if name == PRESETS and per_run is not None:
            # the same situation as the dial settings: time its runs once, not twice
            sec = per_run
        else:
            est = estimate(plan, k, pending, backend)
            sec = per_run = est["seconds_per_run"]
            startup = est["startup_seconds"]
            basis = basis or f"{name}/: {est['method']}"
        total += sec * n
        # each sweep starts its own workers, and shares its runs out whole
        parallel += (startup + sec * math.ceil(n / k)) if k > 1 else sec * n
        stored = f"; {plan.n_runs - n} already stored" if pending is not None else ""
        lines.append(f"{name}/: {plan_line(plan)}{stored}; about {sec:.2f} s per run")
    where = f", about {console.duration(parallel)} on {k} {backend} workers" if k > 1 else ""
    lines.append(
        f"estimate: {mp.n_runs} runs take about {console.duration(total)} serially{where} ({basis})"
    )
    return "\n".join(lines)


def command(args: argparse.Namespace) -> int:
    """Run ``saca map``.

    Args:
        args: the parsed command line.

    Returns:
        0, or 1 when some runs failed, 130 when interrupted.
    """

    if not args.out and not args.dry_run:
        raise SacaInputError("--out DIR is required: where the map and its runs are stored")
    mp = plan_map(args.spec)
    backend, workers = check_backend(args.backend, args.workers, args.scheduler)
    if args.dry_run:
        if args.out is not None:
            outdir.prepare_out(args.out)
        console.emit(_dry_run(mp, args.out, backend, workers, args.scheduler))
        return 0
    check_timeout(args.run_timeout)
    outdir.claim(
        args.out,
        "map",
        force=args.force,
        own=lambda p: (
            ((p / SPEC_COPY).is_file() or (p / RUNS).is_dir()) and (args.resume or not args.force)
        ),
        what="saca map",
        log=lambda line: print(line, file=sys.stderr),
        identity={"name": mp.spec.name, "spec": mp.spec.label},
    )
    try:
        res = run_map(
            mp,
            args.out,
            backend=backend,
            workers=None if args.scheduler else workers,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=None,
            run_timeout=args.run_timeout,
        )
    except KeyboardInterrupt:
        again = f"saca map {args.spec} --out {args.out} --resume"
        print(sweep.interrupted("map", again, args.out), file=sys.stderr)
        return 130
    st, spec = mp.settings, mp.spec
    fx, fy = mp.axes
    regimes = list(mp.runs.regimes)
    stored = sum(r.stored_before for r in res.reports.values())
    seconds = sum(r.seconds for r in res.reports.values())
    lines = [
        f"saca map {spec.name}: {fx['key']} ({len(fx['levels'])} levels) x {fy['key']} "
        f"({len(fy['levels'])} levels) x {len(regimes)} regimes x {spec.replicates} "
        f"replicates, {mp.runs.steps}-day runs of the {mp.runs.scenario.name} scenario, "
        f"seed {spec.seed}, window {st.window}",
        f"ran {res.ran} runs ({res.failed} failed"
        + (f", {stored} already stored" if stored else "")
        + f") in {console.duration(seconds)}",
        "",
        "winner: best mean with a paired 95% CI against every other regime that excludes 0; "
        + ", ".join(f"{c} = {r}" for r, c in letters(regimes).items())
        + f", {NO_WINNER} = no clear winner",
    ]
    for m in st.metrics:
        lines += ["", text_map(res.cells, m, regimes, fx, fy)]
        if m == stats.MEAN_METRIC:
            lines += [
                "",
                "efficacy beside its spread between communities (sd) and its worst "
                f"decile's efficacy; {WORST_OFF_MARK} above = a regime {stats.WORST_OFF} "
                "(paired 95% CIs on both):",
                equity_table(res.cells, regimes, fx, fy),
            ]
    pts = res.pareto
    for group in dict.fromkeys(pts["group"]):
        sub = pts[pts["group"] == group]
        what = (
            f"{int((sub['kind'] == 'sample').sum())} dial settings ({regimes[0]}'s switches) "
            f"and the regimes at the scenario's own situation"
            if group == "dials"
            else "the regimes averaged over the map's cells"
        )
        lines += [
            "",
            f"Pareto fronts of {what} (burnout: max efficacy, min burnout; trust: max "
            "efficacy and trust_institution); mean ±95% CI half-width:",
            front_table(pts, group),
        ]
    lines += [
        "",
        "wrote " + ", ".join(str(f) for f in res.files),
        f"runs: saca results {Path(args.out) / RUNS}",
    ]
    console.emit("\n".join(lines))
    if res.failed:
        where = [Path(args.out) / n for n, r in res.reports.items() if r.failed_total]
        redo = "; ".join(f"saca sweep --rerun-failed {d}" for d in where)
        print(
            f"saca map: warning: {res.failed} runs failed and are left out (errors and "
            f"tracebacks: saca results {where[0]}); redo them with {redo}, then saca map "
            f"{args.spec} --out {args.out} --resume",
            file=sys.stderr,
        )
        return 1
    return 0
