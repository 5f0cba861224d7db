"""``saca uncertainty``: its options and console text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from saca.experiments import console
from saca.experiments.analyses.uncertainty.method import METRICS_DEFAULT
from saca.experiments.analyses.uncertainty.workflow import RUNS, plan_uncertainty, run_uncertainty
from saca.experiments.engine import outdir, sweep
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import did_you_mean


def format_text(doc: dict[str, Any]) -> str:
    """The shares as text lines."""
    a, b = doc["contrast"]
    lines = [f"contrast {b} − {a} over the design points (95% CIs):"]
    for s in doc["shares"]:
        md = s["mean_diff"]
        lines.append(
            f"  {s['metric']}: mean {md['mean']:+.3f} [{md['lo']:+.3f}, {md['hi']:+.3f}] over "
            f"{s['points']} points; {b} wins {s[b]['share']:.0%} [{s[b]['lo']:.0%}, "
            f"{s[b]['hi']:.0%}] (clearly {s[b]['clear_share']:.0%}), {a} wins "
            f"{s[a]['share']:.0%} [{s[a]['lo']:.0%}, {s[a]['hi']:.0%}] (clearly "
            f"{s[a]['clear_share']:.0%})"
        )
    for m, bx in doc["prim_where_first_wins"].items():
        found = bx["boxes"]
        rate = bx["base_rate"]
        lines.append(
            f"  where {a} wins on {m}: {rate:.0%} of the points, {len(found)} PRIM box(es) "
            "with density >= 0.7"
        )
        for box in found:
            lines.append(
                f"    coverage {box['coverage']:.2f}, density {box['density']:.2f}, mass "
                f"{box['mass']:.2f}: {box['rule']}"
            )
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """Add the ``uncertainty`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.parser.build_parser`.
    """
    p = sub.add_parser(
        "uncertainty",
        help="regime contrast over uncertain constants and situations: shares won, PRIM boxes",
        description="Run a spec over behavioural constants and situations (or read a stored "
        "sweep) and write, per metric, the share of the space each of two regimes wins with "
        "95%% Wilson CIs, the mean contrast, and PRIM boxes of where the first regime wins.",
    )
    p.add_argument("source", metavar="SPEC.toml|DIR", help="a spec, or a stored sweep")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    p.add_argument(
        "--contrast",
        default=None,
        metavar="A,B",
        help="the two regimes (default: the sweep's first two); PRIM looks for where A wins",
    )
    p.add_argument(
        "--metrics",
        default=",".join(METRICS_DEFAULT),
        help=f"metrics, comma-separated (default {','.join(METRICS_DEFAULT)})",
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--resume", action="store_true", help="continue the runs in DIR/runs")
    outdir.add_force_option(p)


def command(args: argparse.Namespace) -> int:
    """Run ``saca uncertainty``.

    Args:
        args: the parsed command line.

    Returns:
        0, or 130 when interrupted.
    """

    if not args.out:
        raise SacaInputError("--out DIR is required: where the shares and boxes are written")
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    bad = [m for m in metrics if m not in METRICS]
    if bad or not metrics:
        raise SacaInputError(
            f"--metrics: unknown metric {bad[0] if bad else ''!r}; "
            f"{did_you_mean(bad[0] if bad else '', METRICS)}choose from {', '.join(METRICS)}"
        )
    a = b = None
    if args.contrast is not None:
        parts = [t.strip() for t in args.contrast.split(",")]
        if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
            raise SacaInputError(
                f"--contrast needs two different regimes A,B, got {args.contrast!r}"
            )
        a, b = parts
    if args.workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {args.workers}")
    src = Path(args.source)
    out = Path(args.out)
    up = plan_uncertainty(src, metrics, (a, b) if a is not None else None)
    if up.runs is None:
        outdir.claim(out, "uncertainty", force=args.force)
    else:
        outdir.claim(
            out,
            "uncertainty",
            force=args.force,
            own=lambda p: (p / RUNS).is_dir() and args.resume,
            log=lambda line: print(line, file=sys.stderr),
        )
    try:
        doc = run_uncertainty(up, out, args.workers, args.resume)
    except KeyboardInterrupt:
        again = f"saca uncertainty {src} --out {out} --resume"
        print(sweep.interrupted("uncertainty", again), file=sys.stderr)
        return 130
    console.emit(format_text(doc) + f"\nwrote {out / 'shares.json'}, {out / 'shares.png'}, prim_*/")
    return 0
