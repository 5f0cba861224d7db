"""The dial contrasts' command line: ``python -m saca.experiments.analyses.dials``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from saca.experiments.analyses.dials import __doc__ as DESCRIPTION
from saca.experiments.analyses.dials.method import two_sided
from saca.experiments.analyses.dials.workflow import run_contrasts, write
from saca.model import SacaInputError


def main(argv: list[str] | None = None) -> int:
    """Command line: run the contrasts and write them."""
    p = argparse.ArgumentParser(
        prog="python -m saca.experiments.analyses.dials", description=DESCRIPTION
    )
    p.add_argument("--out", default="docs/findings/dials", help="output folder")
    p.add_argument("--scenario", default="emergency")
    p.add_argument("--base", default="hybrid", help="the base regime")
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    try:
        result = run_contrasts(
            args.scenario, args.base, args.replicates, args.seed, workers=args.workers
        )
    except SacaInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write(result, Path(args.out))
    for dial, ok in two_sided(result).items():
        print(f"{dial:12s} {'two-sided' if ok else 'ONE-SIDED'}")
    return 0
