"""``saca best-mix``: the best mix of dials and switches in each cell of a situation map,
and its efficacy–burnout and efficacy–equity Pareto fronts.

The regime maps compare three presets; here the regime itself is searched. A best-mix
spec is a sweep spec whose ``[parameters]`` are ranges of regime parameters (the six
dials and any numeric switch, e.g. ``regime.front_loading``) sampled by a Latin hypercube
(``design = "lhs"``, ``samples`` mixes), with one base regime in ``[sweep] regimes``
(whose other switches every mix keeps), plus a ``[best_mix]`` table::

    [best_mix]
    axes = { "situation.risk" = [0.2, 0.8], "situation.capacity_mean" = [0.3, 0.7] }
    # or: map = "map_risk_capacity.toml"   (the two axes of a map spec, its levels)
    switches = { "regime.task_force" = [false, true] }   # every combination is searched
    objective = "efficacy"          # maximised; "-metric" minimises
    burnout = "burnout_mean"        # the efficacy–burnout front (minimised)
    equity = "efficacy_sd_between_communities"   # the efficacy–equity front (minimised)
    window = "emergency"            # or "all", or another phase of the runs
    top = 5                         # the mixes whose dials are averaged (robust optimum)

**Search.** Each cell (a combination of the axes' levels) and each combination of the
switches is one ordinary sweep of :mod:`saca.experiments.engine.sweep` (``DIR/cells/<name>``): the
same Latin hypercube of mixes (it is seeded from the spec's seed only) × ``replicates``, so the
sweeps are resumable after a kill (``--resume``), isolate failures and give the same
numbers on every backend; mix ``p`` and replicate ``r`` get the same seed in every cell and
switch combination (common random numbers). A *candidate* is a (switch combination, mix)
pair; its value is the mean over replicates.

**Analysis** per cell: the best candidate (highest mean objective, with its 95% t CI and
its paired difference from the runner-up); the *top-k mean* of each dial (the average
over the ``top`` best candidates: where the optimum lies, less noisy than one point); the
*autonomy index* of a mix, the mean of its six dials (0 all constructive, 1 all
autonomous); and the non-dominated ranks (:func:`nondominated_ranks`, repeated
:func:`saca.experiments.analyses.regime_map.pareto_front`) of the two fronts. Whether the best mix
moves toward construction or autonomy along an axis is the slope of the top-k autonomy
index (and of each dial) over the axis's levels, in the text and the JSON.

**Files** in ``DIR``: ``cells/`` (the sweeps), ``best_mix_spec.toml``, ``candidates.parquet``
(every candidate of every cell: its values, means, CIs, ranks), ``best.parquet`` and
``best_mix.json`` (one row per cell), ``best_mix.png`` (autonomy index and each dial of
the top-k, per cell) and ``fronts.png``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import console, stats
from saca.experiments.analyses import regime_map
from saca.experiments.engine import design as dsg
from saca.experiments.engine import io, outdir, sweep
from saca.experiments.engine.backends import check_backend
from saca.experiments.engine.plan import SweepPlan, prepare
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import SweepSpec, load_spec, parse_spec, same_spec
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import coerce, did_you_mean
from saca.model.regime import DIALS
from saca.model.scenario import all_params

KEYS = ("axes", "map", "switches", "objective", "burnout", "equity", "window", "top")
CELLS = "cells"
SPEC_COPY = "best_mix_spec.toml"
DIAL_KEYS = tuple(f"regime.{d}" for d in DIALS)


# ----- the search core (independent of the model) ---------------------------------------
def lhs_search(
    evaluate: Callable[[Mapping[str, Any]], Mapping[str, float]],
    factors: Sequence[dsg.Factor],
    samples: int,
    seed: int,
) -> pd.DataFrame:
    """Evaluate a function on a Latin hypercube of its inputs (the design a sweep uses).

    Args:
        evaluate: inputs by key → outputs by name.
        factors: the inputs' ranges.
        samples: points of the hypercube.
        seed: root seed of the design (:func:`saca.experiments.engine.design.lhs`).

    Returns:
        One row per point: the inputs, then the outputs.
    """
    points = dsg.lhs(factors, samples, seed)
    rows = [{**row, **evaluate(row)} for row in points.to_dict("records")]
    return pd.DataFrame(rows)


def nondominated_ranks(
    df: pd.DataFrame, maximise: Sequence[str] = (), minimise: Sequence[str] = ()
) -> pd.Series:
    """Non-dominated sorting: rank 0 is the Pareto front, rank 1 the front of the rest,
    and so on; rows with a missing objective get rank -1.

    Args:
        df: one row per point.
        maximise: columns where higher is better.
        minimise: columns where lower is better.
    """
    cols = [*maximise, *minimise]
    ok = np.isfinite(df[cols].to_numpy(float)).all(axis=1)
    rank = pd.Series(-1, index=df.index, name="rank")
    left = df[ok]
    r = 0
    while len(left):
        front = regime_map.pareto_front(left, maximise, minimise)
        rank[front[front].index] = r
        left = left[~front]
        r += 1
    return rank


def best_rows(df: pd.DataFrame, objective: str, top: int) -> pd.DataFrame:
    """The ``top`` rows by the objective (``-name`` minimises), best first.

    Args:
        df: one row per candidate.
        objective: a column, or ``-column`` to minimise.
        top: how many.
    """
    col, ascending = (objective[1:], True) if objective.startswith("-") else (objective, False)
    ok = df[np.isfinite(df[col].to_numpy(float))]
    return ok.sort_values(col, ascending=ascending, kind="stable").head(top)


def autonomy_index(df: pd.DataFrame) -> pd.Series:
    """Mean of the six dials of each row (0: all constructive, 1: all autonomous); dials
    not in ``df`` are left out.

    Args:
        df: rows with ``regime.<dial>`` columns.
    """
    cols = [k for k in DIAL_KEYS if k in df.columns]
    return df[cols].mean(axis=1)


# ----- the spec -------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """The ``[best_mix]`` table, checked.

    Args:
        axes: situation key → levels, in order (x, then y).
        switches: regime switch key → values searched (every combination).
        objective: the metric maximised (``-metric``: minimised).
        burnout: the burnout metric of the efficacy–burnout front (minimised).
        equity: the equity metric of the efficacy–equity front (minimised).
        window: ``all`` or a phase of the runs.
        top: candidates averaged for the top-k dials.
    """

    axes: dict[str, tuple[Any, ...]]
    switches: dict[str, tuple[Any, ...]]
    objective: str = "efficacy"
    burnout: str = "burnout_mean"
    equity: str = "efficacy_sd_between_communities"
    window: str = "all"
    top: int = 5

    @property
    def metrics(self) -> list[str]:
        """The metrics the analysis reads."""
        obj = self.objective.lstrip("-")
        return list(dict.fromkeys([obj, "efficacy", self.burnout, self.equity]))


@dataclass(frozen=True)
class MixPlan:
    """A best-mix spec resolved: its settings, cells, switch combinations and sweeps.

    Args:
        spec: the spec as read.
        settings: the ``[best_mix]`` settings.
        cells: one dict of situation values per cell.
        combos: one dict of switch values per combination.
        sweeps: sweep name → plan, one per (cell, combination).
        index: sweep name → (cell index, combination index).
    """

    spec: SweepSpec
    settings: Settings
    cells: list[dict[str, Any]]
    combos: list[dict[str, Any]]
    sweeps: dict[str, SweepPlan] = field(default_factory=dict)
    index: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        """Runs of every sweep together."""
        return sum(p.n_runs for p in self.sweeps.values())


def _values(key: str, raw: Any, where: str, fail: Callable[[str], SacaInputError]) -> tuple:
    infos = {p.key: p for p in all_params()}
    if key not in infos:
        raise fail(f"{where}: unknown parameter {key!r}; {did_you_mean(key, list(infos))}")
    if not isinstance(raw, list) or len(raw) < 1:
        raise fail(f"{where}: {key} needs a list of values, got {raw!r}")
    try:
        vals = tuple(coerce(infos[key], v) for v in raw)
    except SacaInputError as exc:
        raise fail(f"{where}: {exc}") from None
    if len(set(vals)) < len(vals):
        raise fail(f"{where}: {key} repeats a value: {raw!r}")
    return vals


def read_settings(spec: SweepSpec) -> Settings:
    """Check that a sweep spec can be searched and read its ``[best_mix]`` table.

    Args:
        spec: a spec read with ``extra_tables=("best_mix",)``.

    Raises:
        SacaInputError: one line naming the spec and the fix.
    """

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{spec.label}: {msg}")

    if spec.design != "lhs":
        raise fail(f'a best-mix search samples mixes with design = "lhs", got "{spec.design}"')
    if len(spec.regimes) != 1:
        raise fail(
            "a best-mix search needs exactly one base regime in [sweep] regimes (its "
            f"switches are kept), got {list(spec.regimes)}"
        )
    for f in spec.factors:
        if not f.key.startswith("regime."):
            raise fail(
                f"[parameters] {f.key} is not a regime parameter; the mixes are regimes, "
                "the situations go in [best_mix] axes"
            )
    if not any(f.key in DIAL_KEYS for f in spec.factors):
        raise fail("[parameters] must give a range for at least one dial, e.g. regime.contract")
    if spec.replicates < 2:
        raise fail(f"replicates = {spec.replicates}: the CIs need at least 2")
    table = spec.data.get("best_mix", {})
    for key in table:
        if key not in KEYS:
            raise fail(
                f"unknown key {key!r} in [best_mix]; {did_you_mean(key, KEYS)}"
                f"known keys: {', '.join(KEYS)}"
            )
    if ("axes" in table) == ("map" in table):
        raise fail('[best_mix] needs either axes = { ... } or map = "<map spec>", not both')
    if "map" in table:
        path = Path(spec.base_dir) / str(table["map"])
        mspec = load_spec(path, extra_tables=("map",))
        regime_map.read_settings(mspec)
        axes = {f.key: tuple(f.levels or ()) for f in mspec.factors}
    else:
        raw = table["axes"]
        if not isinstance(raw, dict) or not raw:
            raise fail('[best_mix] axes must be a table like { "situation.risk" = [0.2, 0.8] }')
        axes = {k: _values(k, v, "[best_mix] axes", fail) for k, v in raw.items()}
    if not 1 <= len(axes) <= 2:
        raise fail(f"[best_mix] axes needs one or two situation parameters, got {len(axes)}")
    for k in axes:
        if not k.startswith("situation."):
            raise fail(f"[best_mix] axes: {k} is not a situation parameter (situation.*)")
    raw_sw = table.get("switches", {})
    if not isinstance(raw_sw, dict):
        raise fail(
            '[best_mix] switches must be a table like { "regime.task_force" = [false, true] }'
        )
    switches = {k: _values(k, v, "[best_mix] switches", fail) for k, v in raw_sw.items()}
    for k in switches:
        if not k.startswith("regime."):
            raise fail(f"[best_mix] switches: {k} is not a regime parameter")
        if k in {f.key for f in spec.factors}:
            raise fail(f"{k} is both sampled in [parameters] and listed in [best_mix] switches")
    out: dict[str, Any] = {}
    for key in ("objective", "burnout", "equity"):
        if key not in table:
            continue
        val = table[key]
        name = val.lstrip("-") if isinstance(val, str) else val
        if not isinstance(val, str) or name not in METRICS:
            raise fail(
                f"[best_mix] {key}: unknown metric {val!r}; "
                f"{did_you_mean(str(name), METRICS)}choose one of {', '.join(METRICS)}"
            )
        if key != "objective" and val.startswith("-"):
            raise fail(f"[best_mix] {key} is minimised; give the metric without '-'")
        out[key] = val
    window = table.get("window", "all")
    if not isinstance(window, str) or not window:
        raise fail(f'[best_mix] window must be "all" or a phase name, got {window!r}')
    top = table.get("top", 5)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise fail(f"[best_mix] top must be a whole number >= 1, got {top!r}")
    return Settings(axes, switches, window=window, top=top, **out)


def _label(values: Mapping[str, Any]) -> str:
    parts = []
    for k, v in values.items():
        short = k.split(".", 1)[1]
        parts.append(f"{short}={int(v) if isinstance(v, bool) else v}")
    return "-".join(parts) or "base"


def plan_best_mix(spec: SweepSpec | str | Path) -> MixPlan:
    """Read a best-mix spec and prepare one sweep per cell and switch combination,
    validating every run before any starts.

    Args:
        spec: the spec file, or a spec read with ``extra_tables=("best_mix",)``.

    Raises:
        SacaInputError: anything wrong, in one line.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, extra_tables=("best_mix",))
    st = read_settings(spec)
    cells = [dict(zip(st.axes, v, strict=True)) for v in itertools.product(*st.axes.values())]
    combos = [
        dict(zip(st.switches, v, strict=True)) for v in itertools.product(*st.switches.values())
    ] or [{}]
    sw = spec.data["sweep"]
    fixed = dict(spec.data.get("fixed", {}))
    clash = [k for k in [*st.axes, *st.switches] if k in fixed]
    if clash:
        raise SacaInputError(f"{spec.label}: {clash[0]} is in [fixed] and in [best_mix]; keep one")
    mp = MixPlan(spec, st, cells, combos)
    for i, cell in enumerate(cells):
        for j, combo in enumerate(combos):
            name = f"c{i:02d}-s{j:02d}"
            data = {
                "sweep": {
                    **{k: v for k, v in sw.items() if k not in ("name", "description")},
                    "name": f"{spec.name}-{name}",
                    "description": f"cell {_label(cell)}, switches {_label(combo)}",
                },
                "parameters": dict(spec.data.get("parameters", {})),
                "fixed": {**fixed, **cell, **combo},
            }
            text = regime_map.to_toml(data, f"Written by saca best-mix from {spec.label}")
            derived = parse_spec(
                data, label=f"{spec.label} [{name}]", base_dir=spec.base_dir, text=text, stem=name
            )
            mp.sweeps[name] = prepare(derived)
            mp.index[name] = (i, j)
    first = next(iter(mp.sweeps.values()))
    if st.window not in first.windows:
        raise SacaInputError(
            f"{spec.label}: [best_mix] window {st.window!r} is not a window of these "
            f"{first.steps}-day runs; choose one of {', '.join(first.windows)}"
        )
    return mp


# ----- running and analysing --------------------------------------------------------------
@dataclass
class MixResult:
    """What :func:`run_best_mix` produced.

    Args:
        candidates: every candidate of every cell with means, CIs and ranks.
        best: one row per cell.
        trends: per axis, the slope of the top-k autonomy index and of each dial.
        files: files written.
        reports: sweep name → its report.
    """

    candidates: pd.DataFrame
    best: pd.DataFrame
    trends: dict[str, Any]
    files: list[Path]
    reports: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Runs that failed in this session."""
        return sum(r.failed for r in self.reports.values())


def check_out(out: str | Path, mp: MixPlan, resume: bool) -> Path:
    """Check that ``out`` can take this search: new or empty, or (resume) the same search.

    Args:
        out: the output directory.
        mp: the plan.
        resume: continue a search stored in ``out``.

    Raises:
        SacaInputError: ``out`` holds something else, or a search without ``resume``.
    """
    out = outdir.prepare_out(out)
    if not outdir.holds_files(out):
        return out
    if not (out / SPEC_COPY).is_file():
        raise SacaInputError(
            f"--out {out} is not empty and holds no saca best-mix search; give a new or empty "
            "directory, or add --force to move its contents aside"
        )
    if not resume:
        raise SacaInputError(
            f"--out {out} already holds a best-mix search; add --resume to continue it"
        )
    for name, plan in mp.sweeps.items():
        d = out / CELLS / name
        if (d / "meta.json").is_file() and not same_spec(read_meta(d), plan.spec):
            raise SacaInputError(
                f"{d} holds runs of a different spec; resume with the same spec, or give "
                "another --out"
            )
    return out


def run_best_mix(
    mp: MixPlan,
    out: str | Path,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> MixResult:
    """Run (or continue) every sweep of the search, then analyse it and write the files.

    Args:
        mp: the plan.
        out: the output directory.
        backend: ``serial``, ``process`` or ``dask``.
        workers: worker processes.
        resume: continue a search stored in ``out``: stored runs are not redone.
        progress: progress on stderr (None: a bar on a terminal, lines otherwise).
    """
    backend, workers = check_backend(backend, workers, None)
    out = check_out(out, mp, resume)
    outdir.make_out(out)
    (out / SPEC_COPY).write_text(mp.spec.text or regime_map.to_toml(mp.spec.data), "utf-8")
    reports = {}
    for name, plan in mp.sweeps.items():
        d = out / CELLS / name
        reports[name] = sweep.run_sweep(
            plan,
            d,
            backend=backend,
            workers=workers,
            resume=resume or (d / "meta.json").is_file(),
            progress=progress,
        )
    res = analyse(mp, out)
    res.reports = reports
    return res


def candidates_of(mp: MixPlan, out: str | Path) -> pd.DataFrame:
    """Every candidate (cell, switch combination, mix) with its replicate means and CIs.

    Args:
        mp: the plan.
        out: the directory holding ``cells/``.
    """
    st = mp.settings
    metrics = st.metrics
    params = [f.key for f in mp.spec.factors]
    rows = []
    for name in mp.sweeps:
        d = Path(out) / CELLS / name
        if not (d / "meta.json").is_file():
            continue
        res = load_results(d, st.window)
        res = res[res["status"] == "ok"]
        i, j = mp.index[name]
        for point, g in res.groupby("point", sort=True):
            rec: dict[str, Any] = {"cell": i, "combo": j, "point": int(point), "sweep": name}
            rec |= mp.cells[i] | mp.combos[j]
            rec |= {k: g[k].iloc[0] for k in params}
            for m in metrics:
                ci = stats.mean_ci(g[m].to_numpy(float))
                rec |= {m: ci["mean"], f"{m}_lo": ci["lo"], f"{m}_hi": ci["hi"]}
            rec["n"] = len(g)
            rows.append(rec)
    df = pd.DataFrame(rows)
    if df.empty:
        raise SacaInputError(f"{out}: no successful run of the search to analyse")
    df["autonomy"] = autonomy_index(df)
    return df


def analyse(mp: MixPlan, out: str | Path) -> MixResult:
    """The best mix per cell, the fronts and the trends, from the stored sweeps; writes
    the files.

    Args:
        mp: the plan.
        out: the directory holding ``cells/``.
    """
    st = mp.settings
    out = Path(out)
    cand = candidates_of(mp, out)
    obj = st.objective.lstrip("-")
    cand["rank_burnout"] = -1
    cand["rank_equity"] = -1
    for _, idx in cand.groupby("cell").groups.items():
        sub = cand.loc[idx]
        cand.loc[idx, "rank_burnout"] = nondominated_ranks(sub, ["efficacy"], [st.burnout])
        cand.loc[idx, "rank_equity"] = nondominated_ranks(sub, ["efficacy"], [st.equity])
    params = [f.key for f in mp.spec.factors]
    best_rows_: list[dict[str, Any]] = []
    for i, cell in enumerate(mp.cells):
        sub = cand[cand["cell"] == i]
        if sub.empty:
            continue
        ranked = best_rows(sub, st.objective, max(st.top, 2))
        b, runner_up = ranked.iloc[0], ranked.iloc[1]
        diff = _paired(out, b, runner_up, obj, st.window)
        top = ranked.head(st.top)
        rec: dict[str, Any] = {"cell": i, **cell, "switches": _label(mp.combos[int(b["combo"])])}
        rec |= {k: b[k] for k in params} | {k: b[k] for k in mp.settings.switches}
        rec |= {obj: b[obj], f"{obj}_lo": b[f"{obj}_lo"], f"{obj}_hi": b[f"{obj}_hi"]}
        rec |= {"vs_runner_up": diff["diff"], "vs_runner_up_lo": diff["lo"]}
        rec["vs_runner_up_hi"] = diff["hi"]
        rec["autonomy"] = b["autonomy"]
        rec["top_autonomy"] = float(top["autonomy"].mean())
        rec |= {f"top_{k}": float(top[k].mean()) for k in params}
        for k in st.switches:
            rec[f"top_{k}"] = float(top[k].astype(float).mean())
        rec["front_burnout"] = int((sub["rank_burnout"] == 0).sum())
        rec["front_equity"] = int((sub["rank_equity"] == 0).sum())
        best_rows_.append(rec)
    best = pd.DataFrame(best_rows_)
    trends = _trends(best, st, [*params, *st.switches])
    files = [
        io.write_parquet(cand, out / "candidates.parquet"),
        io.write_parquet(best, out / "best.parquet"),
        io.write_json(
            {
                "spec": mp.spec.label,
                "spec_hash": mp.spec.hash,
                "seed": mp.spec.seed,
                "settings": {
                    "axes": {k: list(v) for k, v in st.axes.items()},
                    "switches": {k: list(v) for k, v in st.switches.items()},
                    "objective": st.objective,
                    "burnout": st.burnout,
                    "equity": st.equity,
                    "window": st.window,
                    "top": st.top,
                },
                "mixes_per_cell": int(cand.groupby("cell").size().max()),
                "best": best.to_dict("records"),
                "trends": trends,
                **io.provenance(),
            },
            out / "best_mix.json",
        ),
    ]
    files += plot_best(best, st, params, out / "best_mix.png")
    files += plot_fronts(cand, st, out / "fronts.png")
    return MixResult(cand, best, trends, files)


def _paired(out: Path, a: pd.Series, b: pd.Series, metric: str, window: str) -> dict[str, float]:
    """Difference a − b of two candidates of a cell, a t interval over replicates paired
    by replicate index. The same mix in two switch combinations shares its seeds (common
    random numbers); two different mixes do not, and the interval is then that of
    independent runs, valid but not narrowed by the pairing."""
    va = _replicates(out, a, metric, window)
    vb = _replicates(out, b, metric, window)
    n = min(len(va), len(vb))
    return stats.paired_diff_ci(vb[:n], va[:n])


def _replicates(out: Path, c: pd.Series, metric: str, window: str) -> np.ndarray:
    res = load_results(out / CELLS / str(c["sweep"]), window)
    sel = res[(res["point"] == c["point"]) & (res["status"] == "ok")].sort_values("replicate")
    return sel[metric].to_numpy(float)


def _trends(best: pd.DataFrame, st: Settings, keys: Sequence[str]) -> dict[str, Any]:
    """Least-squares slope of the top-k autonomy index and of each top-k parameter over
    each axis (per unit of the axis, averaged over the other axes' levels)."""
    out: dict[str, Any] = {}
    for axis in st.axes:
        x = best[axis].to_numpy(float)
        if len(np.unique(x)) < 2:
            continue
        rec = {}
        for col in ["top_autonomy", *[f"top_{k}" for k in keys]]:
            y = best[col].to_numpy(float)
            rec[col.removeprefix("top_")] = float(np.polyfit(x, y, 1)[0])
        out[axis] = rec
    return out


# ----- figures ----------------------------------------------------------------------------
def _abbr(key: str) -> str:
    """A short name of a parameter for axes and tables (dials as in the regime maps)."""
    name = key.split(".", 1)[1]
    return regime_map.DIAL_ABBR.get(name, name[:4])


def plot_best(best: pd.DataFrame, st: Settings, params: Sequence[str], path: Path) -> list[Path]:
    """Per cell: the top-k autonomy index (colour) and each top-k dial (bars), on the
    grid of the two axes (one axis: a row).

    Args:
        best: one row per cell.
        st: the settings.
        params: the sampled parameters.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    axes_keys = list(st.axes)
    xs = list(st.axes[axes_keys[0]])
    ys = list(st.axes[axes_keys[1]]) if len(axes_keys) > 1 else [None]
    fig = Figure(figsize=(3.2 * len(xs) + 1, 2.6 * len(ys) + 1), layout="constrained")
    grid = np.atleast_2d(fig.subplots(len(ys), len(xs), squeeze=False))
    names = [_abbr(k) for k in params]
    for r, yv in enumerate(reversed(ys)):
        for c, xv in enumerate(xs):
            ax = grid[r, c]
            sel = best[best[axes_keys[0]] == xv]
            if yv is not None:
                sel = sel[sel[axes_keys[1]] == yv]
            if sel.empty:
                ax.axis("off")
                continue
            row = sel.iloc[0]
            vals = [row[f"top_{k}"] for k in params]
            a = row["top_autonomy"]
            ax.bar(range(len(params)), vals, color=(a, 0.3, 1 - a))
            ax.set_ylim(0, 1)
            ax.set_xticks(range(len(params)), names, fontsize=7, rotation=45)
            obj = st.objective.lstrip("-")
            title = f"{axes_keys[0].split('.')[1]}={xv}"
            if yv is not None:
                title += f", {axes_keys[1].split('.')[1]}={yv}"
            ax.set_title(
                f"{title}\nautonomy {a:.2f}, best {obj} {row[obj]:.3f}\n{row['switches']}",
                fontsize=8,
            )
    fig.suptitle(
        f"Best mix per cell: mean of the top {st.top} candidates by {st.objective} "
        f"(window {st.window})\nbar colour: autonomy index (red autonomous, blue constructive)",
        fontsize=9,
    )
    fig.savefig(path, dpi=110)
    return [path]


def plot_fronts(cand: pd.DataFrame, st: Settings, path: Path) -> list[Path]:
    """Efficacy against burnout and against the equity metric, every candidate of every
    cell (grey) with the Pareto front (rank 0) drawn per cell.

    Args:
        cand: the candidates.
        st: the settings.
        path: the PNG to write.
    """
    from matplotlib.figure import Figure

    cells = sorted(cand["cell"].unique())
    fig = Figure(figsize=(12, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for ax, metric, rank in (
        (axes[0], st.burnout, "rank_burnout"),
        (axes[1], st.equity, "rank_equity"),
    ):
        for k, c in enumerate(cells):
            sub = cand[cand["cell"] == c]
            colour = cmap(k / max(len(cells) - 1, 1))
            ax.scatter(sub[metric], sub["efficacy"], s=8, color=colour, alpha=0.3)
            f = sub[sub[rank] == 0].sort_values(metric)
            label = ", ".join(f"{a.split('.')[1]}={sub[a].iloc[0]}" for a in st.axes)
            ax.plot(f[metric], f["efficacy"], "o-", color=colour, ms=4, label=label)
        ax.set_xlabel(f"{metric} (lower is better)")
        ax.set_ylabel("efficacy")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Pareto fronts of the searched mixes per cell (window {st.window})")
    fig.savefig(path, dpi=110)
    return [path]


# ----- the command ------------------------------------------------------------------------
def format_text(mp: MixPlan, res: MixResult) -> str:
    """The text report: one line per cell, then the trends."""
    st = mp.settings
    obj = st.objective.lstrip("-")
    params = [f.key for f in mp.spec.factors]
    lines = [
        f"saca best-mix {mp.spec.name}: {len(mp.cells)} cells x {len(mp.combos)} switch "
        f"combinations x {mp.spec.samples} mixes x {mp.spec.replicates} replicates, seed "
        f"{mp.spec.seed}, window {st.window}; objective {st.objective}",
        "cell | best candidate: " + obj + " [95% CI], vs runner-up | top-"
        f"{st.top} mean of each parameter | autonomy (best, top-{st.top})",
    ]
    for _, r in res.best.iterrows():
        cell = ", ".join(f"{k.split('.')[1]}={r[k]}" for k in st.axes)
        dials = " ".join(f"{_abbr(k)}={r[f'top_{k}']:.2f}" for k in params)
        lines.append(
            f"  {cell}: {r[obj]:.3f} [{r[f'{obj}_lo']:.3f}, {r[f'{obj}_hi']:.3f}], "
            f"{r['vs_runner_up']:+.3f} [{r['vs_runner_up_lo']:+.3f}, {r['vs_runner_up_hi']:+.3f}]"
            f" ({r['switches']}) | {dials} | {r['autonomy']:.2f}, {r['top_autonomy']:.2f}"
        )
    for axis, t in res.trends.items():
        lines.append(
            f"along {axis}: top-{st.top} autonomy index changes {t['autonomy']:+.2f} per unit ("
            + ("toward autonomy" if t["autonomy"] > 0 else "toward construction")
            + "); "
            + ", ".join(f"{k.split('.')[1]} {v:+.2f}" for k, v in t.items() if k != "autonomy")
        )
    lines.append("wrote " + ", ".join(str(f) for f in res.files))
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """Add the ``best-mix`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.main.build_parser`.
    """
    p = sub.add_parser(
        "best-mix",
        help="search the dials and switches for the best mix in each cell of a situation map",
        description="Run a best-mix spec (a Latin hypercube of regime mixes, one base "
        "regime, and a [best_mix] table: axes or map, switches, objective, burnout, equity, "
        "window, top) in every cell, resumable, and write the best mix per cell, the "
        "efficacy-burnout and efficacy-equity Pareto fronts and the trends along the axes.",
    )
    p.add_argument("spec", metavar="SPEC.toml", help="the best-mix spec")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes")
    outdir.add_force_option(p)
    p.add_argument("--resume", action="store_true", help="continue the search in DIR")
    p.add_argument(
        "--dry-run", action="store_true", help="check the spec and print the runs, run nothing"
    )
    p.add_argument("--json", action="store_true", help="print the best mixes as one JSON object")


def command(args: argparse.Namespace) -> int:
    """Run ``saca best-mix``.

    Args:
        args: the parsed command line.

    Returns:
        0, or 1 when some runs failed, 130 when interrupted.
    """

    mp = plan_best_mix(args.spec)
    if args.workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {args.workers}")
    if args.dry_run:
        console.emit(
            f"{len(mp.sweeps)} sweeps ({len(mp.cells)} cells x {len(mp.combos)} switch "
            f"combinations), {mp.n_runs} runs of {next(iter(mp.sweeps.values())).steps} days"
        )
        return 0
    if not args.out:
        raise SacaInputError("--out DIR is required: where the search and its runs are stored")
    outdir.claim(
        args.out,
        "best-mix",
        force=args.force,
        own=lambda p: (p / SPEC_COPY).is_file() and (args.resume or not args.force),
        what="saca best-mix",
        log=lambda line: print(line, file=sys.stderr),
    )
    backend = "process" if args.workers > 1 else "serial"
    try:
        res = run_best_mix(mp, args.out, backend=backend, workers=args.workers, resume=args.resume)
    except KeyboardInterrupt:
        again = f"saca best-mix {args.spec} --out {args.out} --resume"
        print(sweep.interrupted("best-mix", again, args.out), file=sys.stderr)
        return 130
    if args.json:
        console.emit(io.dumps({"best": res.best.to_dict("records"), "trends": res.trends}))
    else:
        console.emit(format_text(mp, res))
    return 1 if res.failed else 0
