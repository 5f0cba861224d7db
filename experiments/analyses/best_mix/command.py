"""``saca best-mix``: its options and console text."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from saca.experiments import console
from saca.experiments.analyses.best_mix.figures import short_name
from saca.experiments.analyses.best_mix.workflow import (
    SPEC_COPY,
    BestMixPlan,
    BestMixResult,
    plan_best_mix,
    run_best_mix,
)
from saca.experiments.engine import io, outdir, sweep
from saca.model import SacaInputError


def format_text(mp: BestMixPlan, res: BestMixResult) -> str:
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
        dials = " ".join(f"{short_name(k)}={r[f'top_{k}']:.2f}" for k in params)
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
        sub: the subparsers object of :func:`saca.experiments.cli.parser.build_parser`.
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
