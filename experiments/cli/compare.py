"""``saca compare``: replicated runs of several regimes, their CIs, paired differences, figures."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments import console, stats
from saca.experiments.cli.shared import claim, overrides_text
from saca.experiments.engine import advice, io, runner
from saca.experiments.engine.replicates import Comparison, run_replicates
from saca.experiments.engine.seeds import check_seed
from saca.experiments.plots.runs import plot_compare, plot_differences
from saca.experiments.plots.style import KEY_METRICS
from saca.model import SacaInputError
from saca.model.metrics import METRICS

CI_NOTE = (
    "95% CI: Student t over replicates; differences are paired (every regime runs with "
    "the same replicate seeds, common random numbers), so their CI is a paired t interval "
    "over per-replicate differences"
)


def compare_result(comparison: Comparison, meta: dict[str, Any]) -> dict[str, Any]:
    """The statistics of a comparison as printed by ``--json`` and saved as compare.json.

    Args:
        comparison: the runs of :func:`saca.experiments.engine.replicates.run_replicates`.
        meta: the ``meta`` entry (scenario, regimes, replicates, seed, steps, ...).

    Returns:
        ``{"meta", "regimes": {regime: {metric: {mean, lo, hi, sd, n}}}, "differences":
        {regime: {metric: {diff, lo, hi, sd, n}}}, "worst_off": {regime: [other, ...]},
        "phases": {phase: {"regimes", "differences", "worst_off"}}}``; differences are
        ``regime - first regime`` (paired); ``worst_off`` names each regime that wins the
        mean efficacy but loses the worst-off decile of communities against the others
        listed (:func:`saca.experiments.stats.worst_off_flags`), whole run and per phase.
    """
    regs = comparison.regimes
    whole = stats.compare_stats(comparison.runs, regs, METRICS)
    whole["worst_off"] = stats.worst_off_of_runs(comparison.runs, regs)
    phases = {}
    win = comparison.windows
    for w in dict.fromkeys(win["window"]):
        if w != "all":
            part = win[win["window"] == w]
            phases[w] = stats.compare_stats(part, regs, METRICS)
            phases[w]["worst_off"] = stats.worst_off_of_runs(part, regs)
    return {"meta": meta, **whole, "phases": phases}


def _compare_table(res: dict[str, Any]) -> str:
    """The console table of a comparison: each key metric's CI per regime and differences."""
    regs = res["meta"]["regimes"]
    ref = regs[0]
    header = ["metric", *regs, *(f"Δ {r}" for r in regs[1:])]
    rows = []
    for m in stats.with_equity(KEY_METRICS):
        row = [m]
        for r in regs:
            c = res["regimes"][r][m]
            row.append(console.pm(c["mean"], c["lo"], c["hi"]))
        for r in regs[1:]:
            d = res["differences"][r][m]
            star = ""
            if d["lo"] is not None and d["lo"] == d["lo"] and (d["lo"] > 0 or d["hi"] < 0):
                star = " *"
            row.append(console.pm(d["diff"], d["lo"], d["hi"], signed=True) + (star or "  "))
        rows.append(row)
    meta = res["meta"]
    return "\n".join(
        [
            f"saca compare: scenario {meta['scenario']}, {meta['replicates']} replicates per "
            f"regime, {meta['steps']} days, root seed {meta['seed']}",
            "whole run; mean ± half-width of the 95% CI (Student t over replicates);",
            f"Δ = regime − {ref}, paired t CI (replicates share seeds across regimes: "
            "common random numbers); * = CI excludes 0",
            "",
            console.table(header, rows),
            "",
            *_worst_off_lines(res),
            f"all {len(METRICS)} metrics and per-phase results: --json or --out DIR (compare.json)",
        ]
    )


def _worst_off_lines(res: dict[str, Any]) -> list[str]:
    """Equity beside the mean, in words: each regime that wins the mean efficacy but loses
    the worst-off decile of communities (paired CIs both excluding 0), whole run and by
    phase, or a line saying none does."""
    found = [*stats.worst_off_text(res.get("worst_off", {}))]
    for w, ph in res.get("phases", {}).items():
        found += [f"{w}: {t}" for t in stats.worst_off_text(ph.get("worst_off", {}))]
    if not found:
        return [
            f"equity: no regime {stats.WORST_OFF} (efficacy vs efficacy_worst_decile, paired "
            "95% CIs, whole run and every phase)",
            "",
        ]
    return [f"equity: {t}" for t in found] + [""]


def compare_figures(res: dict[str, Any], ts: pd.DataFrame, out: Path) -> list[Path]:
    """Draw a comparison's figures (compare.png, differences.png) from its stored results.

    Args:
        res: the statistics of :func:`compare_result` (as stored in compare.json).
        ts: the comparison's daily time series.
        out: the folder to draw into.
    """
    meta = res["meta"]
    regs = meta["regimes"]
    head = f"{meta['scenario']} scenario, {meta['replicates']} replicates, seed {meta['seed']}"
    head += overrides_text(meta.get("overrides"))
    plot_compare(ts, regs, out / "compare.png", title=f"{' vs '.join(regs)}: {head}")
    plot_differences(
        res["differences"],
        regs,
        out / "differences.png",
        title=f"Difference from {regs[0]} over the whole run, 95% paired t CI ({head})",
    )
    return [out / "compare.png", out / "differences.png"]


def cmd_compare(args: argparse.Namespace) -> int:
    """``saca compare``: replicated runs of several regimes with CIs and differences.

    Args:
        args: parsed arguments.
    """
    names = console.regime_list(args.regimes)
    overrides = console.set_overrides(args.set, args.scenario, names)
    regimes: dict[str, Any] = {}
    scenario = None
    for n in names:
        scenario, label, reg = runner.resolve(args.scenario, n, overrides)
        if label in regimes:
            raise SacaInputError(
                f"--regimes: two regimes are both named {label!r}; give one file another name"
            )
        regimes[label] = reg
    assert scenario is not None
    steps = runner.check_steps(args.steps, scenario)
    seed = check_seed(args.seed)
    if args.replicates < 2:
        raise SacaInputError(
            f"--replicates must be at least 2 for confidence intervals, got {args.replicates}"
        )
    if args.workers is not None and args.workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {args.workers}")
    workers = args.workers or os.cpu_count() or 1
    for warning in advice.noop_overrides(scenario, overrides, steps):
        print(f"saca compare: warning: {warning}", file=sys.stderr)
    out = claim(args, "compare")
    # ---- all input checked: simulate
    comp = run_replicates(
        scenario, regimes, args.replicates, seed, steps, workers=workers, progress=None
    )
    meta = {
        "scenario": scenario.name,
        "regimes": comp.regimes,
        "reference": comp.regimes[0],
        "replicates": args.replicates,
        "seed": seed,
        "steps": steps,
        "overrides": overrides,
        "seeding": "replicate r of every regime: numpy.random.SeedSequence(seed)"
        ".spawn(replicates)[r]",
        "interval": CI_NOTE,
    }
    res = compare_result(comp, meta)
    if out is not None:
        io.write_parquet(comp.runs, out / "runs.parquet")
        io.write_parquet(comp.windows, out / "runs_by_phase.parquet")
        io.write_parquet(comp.timeseries, out / "timeseries.parquet")
        io.write_json(res, out / "compare.json")
        full = {
            "kind": "compare",
            **meta,
            "parameters": {r: io.flat_params(scenario, reg) for r, reg in regimes.items()},
            **io.provenance(),
        }
        io.write_json(full, out / "meta.json")
        compare_figures(res, comp.timeseries, out)
    if args.json:
        console.emit(io.dumps(res))
        if out is not None:
            print(f"saca: wrote {out}", file=sys.stderr)
        return 0
    text = _compare_table(io.jsonable(res))
    if out is not None:
        text += (
            f"\nwrote {out}/runs.parquet, runs_by_phase.parquet, timeseries.parquet, "
            "compare.json, meta.json, compare.png, differences.png"
        )
    console.emit(text)
    return 0
