"""The map's workflow: a map spec checked into a :class:`MapPlan`, its sweeps run, the
method applied to the stored runs, and the tables and figures written."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments import stats
from saca.experiments.analyses.regime_map import figures
from saca.experiments.analyses.regime_map.method import (
    DEFAULT_METRICS,
    FRONTS,
    letters,
    map_cells,
    pareto_points,
)
from saca.experiments.engine import io, sweep
from saca.experiments.engine.backends import check_backend
from saca.experiments.engine.outdir import holds_files, make_out, prepare_out
from saca.experiments.engine.plan import SweepPlan, prepare
from saca.experiments.engine.results import load_results, read_meta
from saca.experiments.engine.spec import SweepSpec, load_spec, parse_spec, same_spec
from saca.experiments.plots import sweeps
from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER, METRICS
from saca.model.parameters import did_you_mean
from saca.model.regime import DIALS

MAP_KEYS = ("metrics", "window", "pareto_samples")
RUNS, PARETO, PRESETS = "runs", "pareto", "pareto_presets"
SPEC_COPY = "map_spec.toml"
OUTPUTS = ("map.parquet", "map.json", "map.png", "pareto.parquet", "pareto.png")


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
    directed = list(HIGHER_IS_BETTER)
    for m in metrics:
        if not isinstance(m, str) or m not in METRICS:
            raise fail(
                f"[map] metrics: unknown metric {m!r}; {did_you_mean(str(m), METRICS)}"
                f"choose from {', '.join(directed)}"
            )
        if m not in HIGHER_IS_BETTER:
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
            :func:`saca.experiments.engine.sweep.prepare`), or a window the runs do not have.
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
    out = prepare_out(out)
    if not holds_files(out) or sweep.unborn(out, *mp.sweeps):
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
            (:func:`saca.experiments.engine.sweep.check_backend`).
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
    make_out(out)
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
    figures.plot_map(
        cells, fx, fy, regimes, st.metrics, out / "map.png", title=f"Which regime wins ({head})"
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
    sweeps.plot_pareto(
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
                "higher_is_better": HIGHER_IS_BETTER[m],
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
