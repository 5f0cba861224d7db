"""``saca withdrawal``: its options and console text."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from saca.experiments import console
from saca.experiments.analyses.withdrawal.method import OUTCOMES, TAIL
from saca.experiments.analyses.withdrawal.workflow import (
    WithdrawalResult,
    plan_withdrawal,
    run_withdrawal,
)
from saca.experiments.engine import io, outdir, runner
from saca.experiments.engine.seeds import check_seed
from saca.model import SacaInputError


def _pm(ci: Mapping[str, float]) -> str:
    if not np.isfinite(ci["lo"]):
        return f"{ci['mean']:+.3f}"
    return f"{ci['mean']:+.3f} [{ci['lo']:+.3f}, {ci['hi']:+.3f}]"


def format_table(res: WithdrawalResult) -> str:
    """The text report: per regime, each window's withdrawal-arm means and effects of the
    main outcomes, the hysteresis at each presence level, and the verdicts."""
    lines = []
    main = ("efficacy", "claim_share", "self_help_share", "trust_institution")
    for regime, reg in res.analysis.items():
        lines.append(f"{regime}: window (sunk present) | withdrawal mean, effect vs control")
        for name, row in reg["windows"].items():
            if not row["path"]:
                continue
            cells = "; ".join(
                f"{m} {row[m]['withdrawal']['mean']:.3f} ({_pm(row[m]['effect'])})" for m in main
            )
            lines.append(f"  {name} [{row['path']}] ({row['sunk_present']:.2f}): {cells}")
        for m in OUTCOMES:
            h = "; ".join(f"{x['sunk']}: up-down {_pm(x)}" for x in reg["hysteresis"][m])
            lines.append(f"  {m}: {reg['verdict'].get(m, '')}; hysteresis {h}")
        lines.append("")
    return "\n".join(lines)


def add_parser(sub: Any) -> None:
    """Add the ``withdrawal`` subcommand to the ``saca`` parser.

    Args:
        sub: the subparsers object of :func:`saca.experiments.cli.parser.build_parser`.
    """
    p = sub.add_parser(
        "withdrawal",
        help="recall the sunk cadres after an emergency and bring them back: persistence "
        "and hysteresis",
        description="Run a scenario whose timeline recalls sunk cadres (sunk = in_service "
        "or none in a window) and brings them back, under each regime, beside a control arm "
        "with every cadre present (same seeds), and write DIR/series.parquet, "
        "windows.parquet, withdrawal.json, timelines.png and hysteresis.png.",
    )
    p.add_argument(
        "--scenario",
        default="withdrawal",
        metavar="NAME|FILE",
        help="scenario with a withdrawal in its timeline (default: withdrawal)",
    )
    p.add_argument(
        "--regimes",
        default="constructive,autonomous",
        help="regimes, comma-separated (default: constructive,autonomous)",
    )
    p.add_argument("--replicates", type=int, default=6, metavar="N", help="default 6")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="root seed (default 0)")
    p.add_argument(
        "--tail",
        type=int,
        default=TAIL,
        metavar="DAYS",
        help=f"a window's value is the mean of its last DAYS days (default {TAIL})",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter by dotted key (repeatable)",
    )
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    outdir.add_force_option(p)
    p.add_argument("--json", action="store_true", help="print the analysis as one JSON object")


def command(args: argparse.Namespace) -> int:
    """Run ``saca withdrawal``.

    Args:
        args: the parsed command line.

    Returns:
        0 (input mistakes raise SacaInputError: exit 2).
    """

    problems = []
    if args.replicates < 2:
        problems.append(
            f"--replicates must be at least 2 for confidence intervals, got {args.replicates}"
        )
    if args.tail < 1:
        problems.append(f"--tail must be at least 1 day, got {args.tail}")
    if args.workers < 1:
        problems.append(f"--workers must be at least 1, got {args.workers}")
    check_seed(args.seed)
    names = [t.strip() for t in args.regimes.split(",")]
    if len(names) >= 2:
        names = console.regime_list(args.regimes)
    elif not names or not names[0]:
        problems.append("--regimes needs at least one regime, e.g. constructive,autonomous")
    if problems:
        raise SacaInputError(problems[0]) if len(problems) == 1 else _many(problems)
    overrides = console.set_overrides(args.set, args.scenario, names)
    resolved = {n: runner.resolve(args.scenario, n, overrides) for n in names}
    scenario = next(iter(resolved.values()))[0]
    wp = plan_withdrawal(
        scenario, {n: r[2] for n, r in resolved.items()}, args.replicates, args.seed, args.tail
    )
    if args.out:
        outdir.claim(
            args.out, "withdrawal", force=args.force, log=lambda s: print(s, file=sys.stderr)
        )
    res = run_withdrawal(
        wp,
        args.out,
        workers=args.workers,
        meta={"command": "saca withdrawal " + " ".join(sys.argv[2:]), "overrides": overrides},
    )
    if args.json:
        console.emit(io.dumps({"results": res.analysis, "files": [str(f) for f in res.files]}))
    else:
        text = format_table(res)
        if res.files:
            text += "wrote " + ", ".join(str(f) for f in res.files)
        console.emit(text)
    return 0


def _many(problems: Sequence[str]) -> SacaInputError:
    from saca.experiments.engine.sweep import many

    return many(problems)
