"""The `saca validate` command: its options and console text."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from saca.experiments import console
from saca.experiments.analyses.validation.design import ROBUST_POINTS
from saca.experiments.analyses.validation.expectations import (
    load_expected,
    require_complete,
    write_expected,
)
from saca.experiments.analyses.validation.patterns import (
    EMERGENT,
    parse_pattern_list,
)
from saca.experiments.analyses.validation.report import (
    ci_text,
    headline,
    number_text,
    regressions,
    robustness_text,
)
from saca.experiments.analyses.validation.workflow import prepare, run_validation, write_outputs
from saca.experiments.engine import io, outdir
from saca.model import SacaInputError


def add_parser(sub: Any) -> None:
    """Add ``saca validate`` and its options.

    Args:
        sub: the subparsers of ``saca``'s parser.
    """
    p = sub.add_parser(
        "validate",
        help="run the pattern experiments P1-P16 and give each pattern a verdict",
        description="Run one replicated experiment per pattern of the source studies "
        "(experiments/patterns/P*.toml) and print, per test, the effect (difference or "
        "slope) with its 95% CI, the expected sign, the test's kind and the verdict: "
        "reproduced (CI beyond the file's minimum effect, default 0, in the expected "
        "direction), not reproduced (CI excludes 0 the other way) or inconclusive. A test is "
        "emergent or definitional (it restates an input); a pattern is judged on its emergent "
        "tests only, and is 'definitional only' without any. Full mode also checks each "
        "reproduced pattern over a Latin hypercube of situations. Results do not depend on "
        "--workers.",
    )
    p.add_argument(
        "--pattern", default=None, metavar="P1,...", help="only these patterns (default: all)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="72-day runs (phases shortened in proportion) and 5 replicates: a few minutes",
    )
    p.add_argument(
        "--replicates",
        type=int,
        default=None,
        metavar="N",
        help="replicates per arm for every pattern (default: each file's)",
    )
    p.add_argument(
        "--robustness",
        type=int,
        default=None,
        metavar="N",
        help="situations in the Latin hypercube of the robustness check, 0 to skip "
        f"(default: {ROBUST_POINTS} in full mode, 0 with "
        "--quick)",
    )
    p.add_argument(
        "--workers", type=int, default=2, metavar="N", help="worker processes (default: 2)"
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write validation.json and one figure per pattern to DIR, and the report "
        "VALIDATION.md beside DIR (--out docs/validation writes docs/VALIDATION.md)",
    )
    outdir.add_force_option(p)
    p.add_argument("--report", default=None, metavar="FILE", help="write the report here instead")
    p.add_argument(
        "--patterns-dir",
        default=None,
        metavar="DIR",
        help="read the pattern files from DIR (default: experiments/patterns)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a pattern expected reproduced (experiments/patterns/expected.toml) "
        "is not",
    )
    p.add_argument("--json", action="store_true", help="print every result as one JSON object")
    p.add_argument(
        "--write-expected",
        action="store_true",
        help="rewrite this mode's section of experiments/patterns/expected.toml from this run "
        "(only a run of every pattern at its files' replicates), recording its commit",
    )


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def _command_line(args: argparse.Namespace, robustness: int) -> str:
    parts = ["saca validate"]
    if args.pattern:
        parts.append(f"--pattern {args.pattern}")
    if args.quick:
        parts.append("--quick")
    if args.replicates is not None:
        parts.append(f"--replicates {args.replicates}")
    if args.robustness is not None:
        parts.append(f"--robustness {robustness}")
    if args.workers != 2:
        parts.append(f"--workers {args.workers}")
    if args.out:
        parts.append(f"--out {args.out}")
    if args.report:
        parts.append(f"--report {args.report}")
    return " ".join(parts)


def command(args: argparse.Namespace) -> int:
    """``saca validate``: the pattern experiments, their verdicts and robustness.

    Args:
        args: parsed arguments.
    """
    plan = prepare(
        parse_pattern_list(args.pattern),
        args.patterns_dir,
        quick=args.quick,
        replicates=args.replicates,
        robustness=args.robustness,
        workers=args.workers,
    )
    if args.report and not args.out:
        raise SacaInputError("--report needs --out DIR for the figures it shows")
    expected = load_expected()["quick" if args.quick else "full"] if args.check else {}
    if args.write_expected:
        require_complete(plan.complete)  # before any run
    out = outdir.claim(args.out, "validate", force=args.force, log=_log) if args.out else None
    # ---- all input checked: simulate
    result = run_validation(
        plan.patterns,
        quick=plan.quick,
        replicates=plan.replicates,
        robustness=plan.robustness,
        workers=plan.workers,
        progress=None,
        log=lambda msg: print(f"saca {msg}", file=sys.stderr),
    )
    if args.write_expected:  # first, so the report names the commit it now records
        path = write_expected(result, complete=plan.complete)
        print(f"saca: wrote {path} [{result['meta']['mode']}]", file=sys.stderr)
    if out is not None:
        paths = write_outputs(result, out, args.report, _command_line(args, plan.robustness))
        print(f"saca: wrote {out}/ and {paths[-1]}", file=sys.stderr)
    console.emit(io.dumps(result) if args.json else text_report(result))
    for line in regressions(result, expected):
        print(f"saca validate: regression: {line}", file=sys.stderr)
    return 1 if args.check and regressions(result, expected) else 0


def text_report(result: Mapping[str, Any]) -> str:
    """The terminal table: one line per test, the pattern verdicts, robustness counts.

    Args:
        result: the output of :func:`run_validation`.
    """
    meta = result["meta"]
    header = ["pattern", "test", "kind", "metric [window]", "effect [95% CI]", "exp.", "verdict"]
    rows = []
    for p in result["patterns"]:
        for i, t in enumerate(p["tests"]):
            rows.append(
                [
                    p["id"] if i == 0 else "",
                    t["label"],
                    t.get("kind", EMERGENT),
                    f"{t['metric']} [{t['window']}]"
                    if t["contrast"]["kind"] != "change"
                    else t["metric"],
                    ci_text(t),
                    t["expected"]
                    + (f" >{number_text(t['min_effect'], False)}" if t.get("min_effect") else ""),
                    t["verdict"],
                ]
            )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"saca validate: {len(result['patterns'])} patterns, {meta['mode']} mode, "
        f"{meta['runs']} runs in {meta['seconds']:.0f} s on {meta['workers']} worker(s)",
        "effect = the contrast's difference or slope (see --json for each contrast); 95% CI: "
        "Student t over replicates (paired across arms: common random numbers)",
        "",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines += ["", "pattern verdicts:"]
    for p in result["patterns"]:
        rob = f"; {robustness_text(p.get('robustness'))}" if p.get("robustness") else ""
        lines.append(f"  {p['id']:<4} {p['verdict']:<15} {p['title']}{rob}")
    lines += ["", headline(result["patterns"])]
    return "\n".join(lines)
