"""``saca map``: its options, its dry run and its console text."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments import console, stats
from saca.experiments.analyses.regime_map.method import DIAL_ABBR, FRONTS, PARETO_METRICS, letters
from saca.experiments.analyses.regime_map.workflow import (
    PRESETS,
    RUNS,
    SPEC_COPY,
    MapPlan,
    plan_map,
    run_map,
)
from saca.experiments.engine import outdir, sweep
from saca.experiments.engine.backends import check_backend, check_timeout
from saca.experiments.engine.estimate import estimate, pending_runs
from saca.experiments.engine.outdir import prepare_out
from saca.experiments.engine.plan import plan_line
from saca.experiments.engine.results import read_meta
from saca.experiments.engine.spec import same_spec
from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER
from saca.model.regime import DIALS

NO_WINNER = "·"
EMPTY = "?"
WORST_OFF_MARK = "!"
"""Marks a cell where a regime wins the mean efficacy but loses the worst-off."""


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
    higher = bool(HIGHER_IS_BETTER[metric])
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


# ----- the command ----------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add the ``map`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.parser.build_parser`.
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
    console.add_backend_options(p)
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
        pending = None
        if out is not None and (Path(out) / name / "meta.json").is_file():
            meta = read_meta(Path(out) / name)
            if same_spec(meta, plan.spec):
                pending = pending_runs(plan, Path(out) / name)
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
            prepare_out(args.out)
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
