"""The best-mix workflow: a spec checked into a :class:`BestMixPlan`, its sweeps run (one
per cell and switch combination), the method applied to the stored runs, files written."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.analyses.best_mix import figures, method
from saca.experiments.analyses.best_mix.method import DIAL_KEYS, BestMixSettings, label
from saca.experiments.analyses.regime_map import workflow as map_workflow
from saca.experiments.engine import io, sweep
from saca.experiments.engine.backends import check_backend
from saca.experiments.engine.outdir import holds_files, make_out, prepare_out
from saca.experiments.engine.plan import SweepPlan, prepare
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import SweepSpec, load_spec, parse_spec, same_spec
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import coerce, did_you_mean
from saca.model.scenario import all_params

KEYS = ("axes", "map", "switches", "objective", "burnout", "equity", "window", "top")
CELLS = "cells"
SPEC_COPY = "best_mix_spec.toml"


@dataclass(frozen=True)
class BestMixPlan:
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
    settings: BestMixSettings
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


def read_settings(spec: SweepSpec) -> BestMixSettings:
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
        map_workflow.read_settings(mspec)
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
    return BestMixSettings(axes, switches, window=window, top=top, **out)


def plan_best_mix(spec: SweepSpec | str | Path) -> BestMixPlan:
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
    mp = BestMixPlan(spec, st, cells, combos)
    for i, cell in enumerate(cells):
        for j, combo in enumerate(combos):
            name = f"c{i:02d}-s{j:02d}"
            data = {
                "sweep": {
                    **{k: v for k, v in sw.items() if k not in ("name", "description")},
                    "name": f"{spec.name}-{name}",
                    "description": f"cell {label(cell)}, switches {label(combo)}",
                },
                "parameters": dict(spec.data.get("parameters", {})),
                "fixed": {**fixed, **cell, **combo},
            }
            text = map_workflow.to_toml(data, f"Written by saca best-mix from {spec.label}")
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
class BestMixResult:
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


def check_out(out: str | Path, mp: BestMixPlan, resume: bool) -> Path:
    """Check that ``out`` can take this search: new or empty, or (resume) the same search.

    Args:
        out: the output directory.
        mp: the plan.
        resume: continue a search stored in ``out``.

    Raises:
        SacaInputError: ``out`` holds something else, or a search without ``resume``.
    """
    out = prepare_out(out)
    if not holds_files(out):
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
    mp: BestMixPlan,
    out: str | Path,
    *,
    backend: str | None = "serial",
    workers: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> BestMixResult:
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
    make_out(out)
    (out / SPEC_COPY).write_text(mp.spec.text or map_workflow.to_toml(mp.spec.data), "utf-8")
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


def load_runs(mp: BestMixPlan, out: str | Path) -> dict[str, pd.DataFrame]:
    """The successful runs of every stored sweep, in the plan's order.

    Args:
        mp: the plan.
        out: the directory holding ``cells/``.
    """
    runs = {}
    for name in mp.sweeps:
        d = Path(out) / CELLS / name
        if not (d / "meta.json").is_file():
            continue
        res = load_results(d, mp.settings.window)
        runs[name] = res[res["status"] == "ok"]
    return runs


def analyse(mp: BestMixPlan, out: str | Path) -> BestMixResult:
    """The best mix per cell, the fronts and the trends, from the stored sweeps; writes
    the files.

    Args:
        mp: the plan.
        out: the directory holding ``cells/``.
    """
    st = mp.settings
    out = Path(out)
    runs = load_runs(mp, out)
    if not any(len(r) for r in runs.values()):
        raise SacaInputError(f"{out}: no successful run of the search to analyse")
    params = [f.key for f in mp.spec.factors]
    found = method.analyse(runs, st, mp.index, mp.cells, mp.combos, params)
    cand, best, trends = found.candidates, found.best, found.trends
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
    files += figures.plot_best(best, st, params, out / "best_mix.png")
    files += figures.plot_fronts(cand, st, out / "fronts.png")
    return BestMixResult(cand, best, trends, files)
