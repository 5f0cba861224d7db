"""The `saca discover` command: its options and console text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from saca.experiments import console
from saca.experiments.analyses.discovery.export import check_export_path
from saca.experiments.analyses.discovery.workflow import DiscoveryPlan, prepare, run_discover
from saca.experiments.engine import io, outdir, sweep
from saca.experiments.engine.backends import check_backend, check_timeout
from saca.experiments.engine.estimate import estimate, stored_pending
from saca.experiments.engine.plan import plan_line
from saca.experiments.engine.results import read_meta
from saca.model import SacaInputError


# ----- command line ---------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add the ``discover`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.parser.build_parser`.
    """
    p = sub.add_parser(
        "discover",
        help="scenario discovery: PRIM boxes of parameters where one regime beats another",
        description="Scenario discovery (PRIM, by EMA Workbench): per design point the paired "
        "difference regime - reference of a metric, averaged over replicates (common random "
        "numbers), marks the points where the regime wins; PRIM finds boxes of parameters "
        "that hold them. Give a sweep spec (run into DIR/runs, resumable; settings from its "
        "[discover] table) or a directory written by saca sweep. Writes boxes.json, "
        "boxes.parquet, points.parquet, trajectory.png and boxes.png to DIR.",
    )
    p.add_argument("spec", metavar="SPEC.toml|DIR", help="a sweep spec or a stored sweep")
    p.add_argument("--out", default=None, metavar="DIR", help="where the results go")
    g = p.add_argument_group("what to discover (override the spec's [discover] table)")
    g.add_argument(
        "--contrast",
        default=None,
        metavar="REGIME,REFERENCE",
        help="the regime whose wins are sought and its reference (default: the last and "
        "the first regime of the sweep)",
    )
    g.add_argument("--metric", default=None, help="the metric compared (default: efficacy)")
    g.add_argument(
        "--direction",
        default=None,
        metavar="higher|lower",
        help="which is better, for a metric without an agreed direction",
    )
    g.add_argument("--window", default=None, help="all (default) or a phase, e.g. emergency")
    g.add_argument(
        "--margin",
        type=float,
        default=None,
        metavar="X",
        help="a win is a mean paired difference beyond X in the good direction (default: 0)",
    )
    g.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="X",
        help="least density of the box retained (default: 0.8)",
    )
    g.add_argument(
        "--peel-alpha",
        type=float,
        default=None,
        metavar="X",
        help="share peeled off per step (default: 0.05)",
    )
    g.add_argument(
        "--mass-min",
        type=float,
        default=None,
        metavar="X",
        help="PRIM stops below this share of the points (default: 0.05)",
    )
    g.add_argument(
        "--max-boxes", type=int, default=None, metavar="N", help="at most N boxes (default: 3)"
    )
    p.add_argument(
        "--export-ema",
        default=None,
        metavar="FILE.tar.gz",
        help="also write the sweep as EMA Workbench results (ema_workbench.load_results)",
    )
    p.add_argument("--json", action="store_true", help="print boxes.json's content on stdout")
    x = p.add_argument_group("running a spec (as saca sweep)")
    console.add_backend_options(x)
    outdir.add_force_option(p)
    x.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep in DIR/runs: stored runs are not redone",
    )
    x.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything, print the runs and a time estimate, run nothing",
    )


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "contrast": args.contrast,
        "metric": args.metric,
        "direction": args.direction,
        "window": args.window,
        "margin": args.margin,
        "threshold": args.threshold,
        "peel_alpha": args.peel_alpha,
        "mass_min": args.mass_min,
        "max_boxes": args.max_boxes,
    }


def _settings_line(job: DiscoveryPlan) -> str:
    st = job.settings
    better = "higher" if job.higher_is_better else "lower"
    return (
        f"discovery: where {job.regime} beats {job.reference} on {st.metric} ({better} is "
        f"better, margin {st.margin:g}, window {st.window}); PRIM over "
        f"{', '.join(job.params)}: threshold {st.threshold:g}, peel_alpha {st.peel_alpha:g}, "
        f"mass_min {st.mass_min:g}, at most {st.max_boxes} box"
        f"{'es' if st.max_boxes != 1 else ''}"
    )


def command(args: argparse.Namespace) -> int:
    """Run ``saca discover``.

    Args:
        args: the parsed command line.

    Returns:
        0 on success, 1 when some runs of the sweep failed (the rest is analysed), 130
        when interrupted.
    """

    execution = any(
        v is not None for v in (args.backend, args.workers, args.scheduler, args.run_timeout)
    ) or bool(args.dry_run)
    if args.out is None and not args.dry_run:
        raise SacaInputError("--out DIR is required: where the boxes and figures go")
    if args.export_ema is not None:
        check_export_path(args.export_ema)
    # a dry run may look at a stored sweep without --resume: it runs nothing
    resume = args.resume or (args.dry_run and not Path(args.spec).is_dir())
    job = prepare(
        args.spec, args.out, _options(args), resume=resume, execution=execution, force=args.force
    )
    backend, workers = ("serial", 1)
    if job.sweep_plan is not None:
        backend, workers = check_backend(args.backend, args.workers, args.scheduler)
    if args.dry_run:
        assert job.sweep_plan is not None
        plan = job.sweep_plan
        pending = stored_pending(plan, job.runs if args.out is not None else None)
        est = estimate(plan, 1 if args.scheduler else workers, pending, backend)
        lines = [plan_line(plan).replace("saca sweep", "saca discover", 1)]
        if pending is not None:
            lines.append(f"{plan.n_runs - pending} runs already stored in {job.runs}")
        par = (
            f", about {console.duration(est['parallel_seconds'])} on {workers} {backend} workers"
            if workers > 1 and not args.scheduler
            else ""
        )
        lines.append(
            f"estimate: {est['seconds_per_run']:.2f} s per run ({est['method']}); "
            f"{est['pending']} runs take about {console.duration(est['serial_seconds'])} "
            f"serially{par}"
        )
        lines.append(_settings_line(job))
        console.emit("\n".join(lines))
        return 0
    check_timeout(args.run_timeout)
    spec_given = job.sweep_plan is not None
    outdir.claim(
        args.out,
        "discover",
        force=args.force,
        own=lambda p: (
            ((p / "boxes.json").is_file() or (spec_given and (p / "runs").is_dir()))
            and (args.resume or not args.force)
        ),
        what="discovery",
        log=lambda line: print(line, file=sys.stderr),
        identity={"spec": str(args.spec)},
    )
    try:
        rep = run_discover(
            args.spec,
            args.out,
            backend=backend,
            workers=None if args.scheduler else workers,
            scheduler=args.scheduler,
            resume=args.resume,
            progress=None,
            export_ema_to=args.export_ema,
            job=job,
            run_timeout=args.run_timeout,
        )
    except KeyboardInterrupt:
        assert job.sweep_plan is not None
        again = f"saca discover {args.spec} --out {args.out} --resume"
        print(sweep.interrupted("discover", again, job.runs, job.sweep_plan), file=sys.stderr)
        return 130
    d = rep.discovery
    if args.json:
        console.emit(io.dumps(d.to_dict()))
    else:
        lines = []
        if job.sweep_plan is not None and rep.sweep is not None:
            s = rep.sweep
            skipped = f", {s.stored_before} already stored" if s.stored_before else ""
            lines += [
                plan_line(job.sweep_plan).replace("saca sweep", "saca discover", 1),
                f"ran {s.ran} runs ({s.ok} ok, {s.failed} failed{skipped}) in "
                f"{console.duration(s.seconds)}; stored in {s.out}",
            ]
        else:
            meta = read_meta(job.runs)
            n_ok = int(d.points["pairs"].sum()) if len(d.points) else 0
            lines.append(
                f"saca discover: sweep {meta.get('name')} in {job.runs}: "
                f"{meta['design']['points']} points x {len(meta['regimes'])} regimes x "
                f"{meta['replicates']} replicate{'s' if meta['replicates'] != 1 else ''} "
                f"({n_ok} complete {job.regime}/"
                f"{job.reference} pairs)"
            )
            if not meta.get("complete"):
                print(
                    f"saca discover: warning: the sweep in {job.runs} is incomplete; the "
                    "runs stored so far are analysed",
                    file=sys.stderr,
                )
        lines += [_settings_line(job), "", d.summary(), ""]
        lines.append(f"wrote {', '.join(p.name for p in rep.files)} to {rep.out}")
        if rep.export is not None:
            lines.append(f"wrote {rep.export} (EMA Workbench: ema_workbench.load_results)")
        console.emit("\n".join(lines))
    if rep.sweep is not None and rep.sweep.failed_total:
        print(
            f"saca discover: warning: {rep.sweep.failed_total} runs failed and were left out "
            f"(see saca results {job.runs}); redo them with: saca sweep --rerun-failed "
            f"{job.runs}",
            file=sys.stderr,
        )
        return 1
    return 0
