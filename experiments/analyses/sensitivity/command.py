"""``saca sensitivity``: its options, its dry run and its console tables."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments import console
from saca.experiments.analyses.sensitivity.method import METHODS, Analysis, samples_of
from saca.experiments.analyses.sensitivity.workflow import (
    RUNS,
    SensitivityPlan,
    SensitivitySettings,
    check_out,
    prepare,
    run_sensitivity,
)
from saca.experiments.engine import outdir, sweep
from saca.experiments.engine.backends import check_backend
from saca.experiments.engine.estimate import estimate, pending_runs
from saca.experiments.engine.outdir import prepare_out
from saca.experiments.engine.results import read_meta
from saca.experiments.engine.spec import same_spec
from saca.model import SacaInputError


# ----- terminal -------------------------------------------------------------------------
def _share(x: float, conf: float) -> str:
    if x != x:
        return "n/a"
    return f"{x:.3f} ± {conf:.3f}" if conf == conf else f"{x:.3f}"


def _decimals(scale: float) -> int:
    """Decimals that give the largest value of a column three significant digits."""
    if not scale > 0 or not math.isfinite(scale):
        return 3
    return max(0, 2 - math.floor(math.log10(scale)))


def _fixed(x: float, dec: int, signed: bool = False) -> str:
    if x != x:
        return "n/a"
    return f"{x:+.{dec}f}" if signed else f"{x:.{dec}f}"


def format_tables(analysis: Analysis, settings: SensitivitySettings) -> str:
    """Per output, the parameters ranked by ST (sobol) or mu* (morris), one column group
    per regime, each value ``index ± half-width of its 95% CI``.

    Args:
        analysis: from :func:`analyse`.
        settings: the analysis settings (outputs in order, window).
    """

    df = analysis.indices
    method = analysis.method
    blocks = []
    for output in settings.outputs:
        sub = df[df["output"] == output]
        if sub.empty:
            continue
        regs = list(pd.unique(sub["regime"]))
        first = sub[sub["regime"] == regs[0]].sort_values("rank")
        # Morris effects are in the output's own units: one precision per output
        dec = _decimals(float(sub["mu_star"].abs().max())) if method == "morris" else 3
        head = ["parameter"]
        for r in regs:
            tag = f"{r} " if len(regs) > 1 else ""
            head += (
                [f"{tag}S1", f"{tag}ST"]
                if method == "sobol"
                else [f"{tag}mu*", f"{tag}mu", f"{tag}sigma"]
            )
        rows = []
        for param in first["parameter"]:
            row = [param]
            for r in regs:
                x = sub[(sub["regime"] == r) & (sub["parameter"] == param)].iloc[0]
                if method == "sobol":
                    row += [_share(x.S1, x.S1_conf), _share(x.ST, x.ST_conf)]
                else:
                    row += [
                        f"{_fixed(x.mu_star, dec)} ± {_fixed(x.mu_star_conf, dec)}",
                        _fixed(x.mu, dec, signed=True),
                        _fixed(x.sigma, dec),
                    ]
            rows.append(row)
        by = "ST" if method == "sobol" else "mu*"
        under = f" under {regs[0]}" if len(regs) > 1 else f" ({regs[0]})"
        blocks.append(
            f"{output}, window {settings.window}: parameters ranked by {by}{under}\n"
            + console.table(head, rows)
        )
    return "\n\n".join(blocks)


def plan_line(sp: SensitivityPlan) -> str:
    """One line saying what the analysis runs.

    Args:
        sp: the checked plan (the spec and settings).
    """
    plan, spec = sp.runs, sp.spec
    d = plan.design
    dims = len(d.factors)
    samples = samples_of(d, spec.second_order)
    if d.kind == "sobol":
        what = f"Sobol (Saltelli) design, N = {samples} base samples of {dims} parameters"
    else:
        what = (
            f"Morris design, {samples} trajectories of {dims} parameters on a {d.levels}-level grid"
        )
    regs = f"{len(plan.regimes)} regime{'s' if len(plan.regimes) != 1 else ''}"
    reps = f"{spec.replicates} replicate{'s' if spec.replicates != 1 else ''}"
    return (
        f"saca sensitivity {spec.name}: {what} = {len(d)} points x {regs} x {reps} = "
        f"{plan.n_runs} runs of {plan.steps} days (scenario {plan.scenario.name}, root seed "
        f"{spec.seed})"
    )


# ----- command line ---------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add the ``sensitivity`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.parser.build_parser`.
    """
    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis (Sobol or Morris) of a sweep spec's parameters",
        description="Run the design of a sweep spec (parameters as ranges; optional "
        "[sensitivity] table: outputs, window, resamples, tolerance) into DIR/runs with the "
        "sweep engine, average each output over the replicates of each design point and "
        "regime, and compute per regime and output Sobol S1/ST or Morris mu/mu*/sigma with "
        "95% bootstrap CIs (SALib). Writes DIR/indices.parquet, DIR/indices.json and "
        "DIR/sensitivity_<output>.png; warns with a recommended sample size when the "
        "indices have not converged. Exit 0, 1 when runs failed or indices could not be "
        "computed, 2 for input errors, 130 when interrupted (continue with --resume).",
    )
    p.add_argument("spec", metavar="SPEC.toml", help="a sweep spec with ranges")
    p.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="sobol (S1, ST) or morris (screening); sets [sweep] design (default: the "
        "spec's design)",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    console.add_backend_options(p)
    outdir.add_force_option(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the analysis in DIR (same spec): stored runs are not redone",
    )
    p.add_argument(
        "--rerun-failed",
        action="store_true",
        help="continue the analysis in DIR and redo its failed runs",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the number of runs and an estimate of the time, run nothing",
    )


def _dry_run(sp: SensitivityPlan, out: str | None, backend: str, workers: int, args: Any) -> int:

    plan = sp.runs
    pending = None
    runs = Path(out) / RUNS if out else None
    stored = runs is not None and (runs / "meta.json").is_file()
    if stored and same_spec(read_meta(runs), sp.spec):
        pending = pending_runs(plan, runs, args.rerun_failed)
    est = estimate(plan, 1 if args.scheduler else workers, pending, backend)
    lines = [plan_line(sp)]
    if pending is not None:
        lines.append(f"{plan.n_runs - pending} runs already stored in {runs}; {pending} to do")
    par = (
        f", about {console.duration(est['parallel_seconds'])} on {workers} {backend} workers"
        if workers > 1 and not args.scheduler
        else ""
    )
    lines.append(
        f"estimate: {est['seconds_per_run']:.2f} s per run ({est['method']}); "
        f"{est['pending']} runs take about {console.duration(est['serial_seconds'])} serially{par}"
    )
    st = sp.settings
    lines.append(
        f"analysis: {st.method} indices of {', '.join(st.outputs)} (window {st.window}) per "
        f"regime, {st.resamples} bootstrap resamples"
    )
    console.emit("\n".join(lines))
    return 0


def command(args: argparse.Namespace) -> int:
    """Run ``saca sensitivity``.

    Args:
        args: the parsed command line.

    Returns:
        0 when every run succeeded and every index was computed, 1 otherwise, 130 when
        interrupted.
    """

    sp = prepare(args.spec, args.method)
    backend, workers = check_backend(args.backend, args.workers, args.scheduler)
    if not args.out and not args.dry_run:
        raise SacaInputError("--out DIR is required: where the runs and indices are stored")
    if args.dry_run:
        if args.out:
            prepare_out(args.out)
        return _dry_run(sp, args.out, backend, workers, args)
    resume = args.resume or args.rerun_failed
    outdir.claim(
        args.out,
        "sensitivity",
        force=args.force,
        own=lambda p: (p / RUNS).is_dir() and (resume or not args.force),
        what="sensitivity analysis",
        log=lambda line: print(line, file=sys.stderr),
        identity={"name": sp.spec.name, "spec": sp.spec.label},
    )
    check_out(args.out, resume)
    again = f"saca sensitivity {args.spec} --out {args.out} --resume"
    try:
        res = run_sensitivity(
            sp,
            args.out,
            backend=backend,
            workers=None if args.scheduler else workers,
            scheduler=args.scheduler,
            resume=args.resume,
            rerun_failed=args.rerun_failed,
            progress=None,
            run_timeout=args.run_timeout,
        )
    except KeyboardInterrupt:
        print(
            sweep.interrupted("sensitivity", again, Path(args.out) / RUNS, sp.runs), file=sys.stderr
        )
        return 130
    rep, an = res.report, res.analysis
    skipped = f", {rep.stored_before} already stored" if rep.stored_before else ""
    lines = [
        plan_line(sp),
        f"ran {rep.ran} runs ({rep.ok} ok, {rep.failed} failed{skipped}) in "
        f"{console.duration(rep.seconds)}; runs in {res.out / RUNS} (saca results)",
        f"each output averaged over the successful replicates of each design point and "
        f"regime; index ± half-width of its 95% bootstrap CI ({sp.settings.resamples} "
        "resamples)",
        "",
    ]
    tables = format_tables(an, sp.settings)
    if tables:
        lines += [tables, ""]
    lines.append("wrote " + ", ".join(str(p) for p in res.files))
    console.emit("\n".join(lines))
    for w in an.warnings():
        print(f"saca sensitivity: warning: {w}", file=sys.stderr)
    code = 0
    if an.problems:
        fix = (
            f"redo the failed runs with: saca sensitivity {args.spec} --out {args.out} "
            "--rerun-failed"
            if rep.failed_total
            else (
                f"finish the runs with: {again}"
                if not rep.complete
                else "the metric is undefined there (NaN): choose another output or window"
            )
        )
        for p in an.problems:
            print(f"saca sensitivity: error: no indices for {p}; {fix}", file=sys.stderr)
        code = 1
    if rep.failed_total:
        print(
            f"saca sensitivity: warning: {rep.failed_total} of {rep.total} runs failed "
            f"(errors in saca results {res.out / RUNS}); their design points are averaged over "
            f"the other replicates; redo them with: saca sensitivity {args.spec} --out "
            f"{args.out} --rerun-failed",
            file=sys.stderr,
        )
        code = 1
    return code
