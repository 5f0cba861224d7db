"""``saca sweep``: run, resume, rerun the failures of, or estimate a sweep; and the sizes every
spec command is given (``--set``, ``--replicates``, ``--steps``, ``--samples``, ``--seed``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from saca.experiments import console
from saca.experiments.cli.parser import SPEC_COMMANDS
from saca.experiments.engine import advice, sizes, sweep
from saca.experiments.engine.backends import check_backend, check_timeout
from saca.experiments.engine.estimate import estimate, pending_runs
from saca.experiments.engine.outdir import prepare_out
from saca.experiments.engine.plan import plan_line, prepare
from saca.experiments.engine.results import read_meta, stored_spec
from saca.experiments.engine.spec import load_spec, many
from saca.model import SacaInputError


def cmd_sweep(args: argparse.Namespace) -> int:
    """``saca sweep``: run, resume, rerun the failures of, or estimate a sweep.

    Args:
        args: parsed arguments.
    """
    if args.rerun_failed is not None:
        if args.spec or args.out or args.resume:
            raise SacaInputError(
                "--rerun-failed DIR reads the spec from DIR; give no SPEC, --out or --resume"
            )
        out: str | None = args.rerun_failed
        spec = stored_spec(args.rerun_failed)
    else:
        if not args.spec:
            raise SacaInputError("give a sweep spec: saca sweep SPEC.toml --out DIR")
        if not args.out and not args.dry_run:
            raise SacaInputError("--out DIR is required: where the results are stored")
        out = args.out
        spec = load_spec(args.spec)
    plan = prepare(spec)
    backend, workers = check_backend(args.backend, args.workers, args.scheduler)
    check_timeout(args.run_timeout)
    if out is not None:
        prepare_out(out)
    if args.dry_run:
        pending = None
        if out is not None and (Path(out) / "meta.json").is_file():
            meta = read_meta(out)
            if meta.get("spec_hash") == plan.spec.hash:
                pending = pending_runs(plan, out, args.rerun_failed is not None)
        est = estimate(plan, 1 if args.scheduler else workers, pending, backend)
        lines = [plan_line(plan)]
        if pending is not None:
            lines.append(f"{plan.n_runs - pending} runs already stored in {out}; {pending} to do")
        n = est["pending"]
        where = (
            "; divide by the dask workers' threads"
            if args.scheduler
            else (
                f", about {console.duration(est['parallel_seconds'])} "
                f"on {workers} {backend} workers"
                if workers > 1
                else ""
            )
        )
        lines.append(
            f"estimate: {est['seconds_per_run']:.2f} s per run ({est['method']}); "
            f"{n} runs take about {console.duration(est['serial_seconds'])} serially{where}"
        )
        console.emit("\n".join(lines))
        return 0
    keys = [*plan.spec.fixed, *(f.key for f in plan.design.factors)]
    for warning in advice.noop_overrides(plan.scenario, keys, plan.steps):
        print(f"saca sweep: warning: {warning}", file=sys.stderr)
    assert out is not None
    console.emit(plan_line(plan))  # first, before any work: a log shows what is coming
    sys.stdout.flush()
    try:
        report = sweep.run_sweep(
            plan,
            out,
            backend=backend,
            workers=None if args.scheduler else workers,
            scheduler=args.scheduler,
            resume=args.resume,
            rerun_failed=args.rerun_failed is not None,
            timeseries=True if args.timeseries else None,
            progress=None,
            run_timeout=args.run_timeout,
            force=args.force,
        )
    except KeyboardInterrupt:
        again = (
            f"saca sweep --rerun-failed {out}"
            if args.rerun_failed
            else f"saca sweep {args.spec} --out {out} --resume"
            + (sizes.current() or sizes.Sizes()).argv()
        )
        print(sweep.interrupted("sweep", again, out, plan), file=sys.stderr)
        return 130
    skipped = f", {report.stored_before} already stored" if report.stored_before else ""
    if report.damaged:
        skipped += f", {report.damaged} damaged runs run again"
    console.emit(
        "\n".join(
            [
                f"ran {report.ran} runs ({report.ok} ok, {report.failed} failed{skipped}) in "
                f"{console.duration(report.seconds)}; wrote {report.out}",
                f"table: saca results {report.out} "
                "(or saca.experiments.engine.results.load_results); "
                f"figures: saca plot {report.out}",
            ]
        )
    )
    if report.failed_total:
        print(
            f"saca sweep: warning: {report.failed_total} of {report.total} runs failed "
            f"(errors and tracebacks are in the manifest: saca results {report.out}); redo "
            f"them with: saca sweep --rerun-failed {report.out}",
            file=sys.stderr,
        )
        return 1
    return 0


def spec_sizes(args: argparse.Namespace) -> sizes.Sizes | None:
    """The sizes given to a spec command, all their mistakes raised at once.

    Args:
        args: parsed arguments; a command that runs no spec gets None.
    """
    if args.command not in SPEC_COMMANDS:
        return None
    given, problems = sizes.from_args(args)
    if given.record():
        if args.command == "sweep" and args.rerun_failed is not None:
            problems.append(
                "--rerun-failed DIR redoes runs with DIR's stored spec; give no --set, "
                "--replicates, --steps, --samples or --seed"
            )
        spec = getattr(args, "spec", None)
        if args.command == "discover" and spec is not None and Path(spec).is_dir():
            problems.append(
                f"{spec} is a stored sweep: its sizes are fixed; give --set, --replicates, "
                "--steps, --samples or --seed with a spec file"
            )
    if problems:
        spec = getattr(args, "spec", None)
        if spec is not None and Path(spec).is_file():  # the spec's mistakes too, at once
            try:
                with sizes.applied(None):
                    prepare(load_spec(spec, extra_tables=("sensitivity", "map", "discover")))
            except SacaInputError as exc:
                problems += getattr(exc, "problems", None) or [str(exc)]
        raise many(problems)
    return given
