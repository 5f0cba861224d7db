"""The ``saca`` command line (also ``python -m experiments``).

Subcommands: ``list``, ``run``, ``compare``, ``plot`` (DESIGN §5). Every user mistake is
reported as one line ``saca: error: ...`` on stderr with exit code 2, before any
simulation starts (DESIGN §6). The work itself lives in importable modules:
:mod:`experiments.runner` (runs and replicates), :mod:`experiments.stats` (confidence
intervals), :mod:`experiments.io` (files and provenance), :mod:`experiments.plots`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from tqdm import tqdm

from experiments import io, plots, runner, stats
from model import SacaInputError
from model.metrics import METRICS
from model.scenario import all_params, load_scenario, parse_overrides, preset_names
from model.scenario import regime_description as _regime_description

EXIT_USAGE = 2
CI_NOTE = (
    "95% CI: Student t over replicates; differences are paired (every regime runs with "
    "the same replicate seeds, common random numbers), so their CI is a paired t interval "
    "over per-replicate differences"
)


class _UsageError(Exception):
    """An argparse usage error, reported by :func:`main` as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        where = self.prog.removeprefix("saca").strip()
        raise _UsageError(f"{where + ': ' if where else ''}{message}; see '{self.prog} -h'")


# ----- parser ---------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, *, seed_help: str) -> None:
    p.add_argument(
        "--scenario",
        default="baseline",
        metavar="NAME|FILE",
        help="scenario preset or TOML file (default: baseline)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter by dotted key, e.g. regime.information=1 (repeatable)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help=seed_help)
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="days to run (default: the scenario's whole timeline)",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="write results to this directory")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of a table"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``saca`` with its subcommands."""
    parser = _Parser(
        prog="saca",
        description="Agent-based model of constructive vs autonomous collaboration in urban "
        "community governance (SACA).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="regimes, scenarios and every parameter")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("run", help="one run; prints the summary")
    p.add_argument(
        "--regime",
        default="hybrid",
        metavar="NAME|FILE",
        help="regime preset or TOML file (default: hybrid)",
    )
    _common(p, seed_help="root seed; the model's generator is SeedSequence(N) (default: 0)")

    p = sub.add_parser(
        "compare",
        help="replicated runs of several regimes with 95%% CIs and paired differences",
        description="Run each regime REPLICATES times with the same replicate seeds "
        "(common random numbers) and report each metric's mean with a 95%% Student t CI, "
        "and each regime's difference from the first with a paired 95%% t CI.",
    )
    p.add_argument(
        "--regimes",
        required=True,
        metavar="A,B[,C]",
        help="comma-separated regime presets or TOML files; the first is the reference",
    )
    p.add_argument(
        "--replicates", type=int, default=10, metavar="N", help="runs per regime (default: 10)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes; results do not depend on it (default: 1)",
    )
    _common(
        p,
        seed_help="root seed; replicate r uses SeedSequence(N).spawn(REPLICATES)[r] "
        "under every regime (default: 0)",
    )

    p = sub.add_parser("plot", help="redraw the figures of a saved run or comparison")
    p.add_argument("dir", metavar="DIR", help="a directory written by saca run/compare --out")
    return parser


# ----- formatting -----------------------------------------------------------------------
def _num(x: Any) -> str:
    if x is None:
        return "n/a"
    x = float(x)
    if x != x:
        return "n/a"
    a = abs(x)
    if a >= 1000 or (x.is_integer() and a >= 1):
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def _pm(mean: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    """``mean ± half-width``, both with the decimals the mean's magnitude calls for."""
    mean = math.nan if mean is None else float(mean)
    if mean != mean:
        return "n/a"
    a = abs(mean)
    dec = 0 if a >= 1000 else 1 if a >= 10 else 3
    m = f"{mean:+.{dec}f}" if signed else f"{mean:.{dec}f}"
    if lo is None or hi is None or lo != lo or hi != hi:
        return m
    return f"{m} ± {(hi - lo) / 2:.{dec}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(r[0]).ljust(widths[0])] + [
            str(c).rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


# ----- list -----------------------------------------------------------------------------
def _range(info: Any) -> str:
    if info.choices:
        return "|".join(info.choices)
    if info.kind == "bool":
        return "true|false"
    if info.lo is None and info.hi is None:
        return ""
    return f"{_g(info.lo)} .. {_g(info.hi)}"


def _g(x: Any) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return f"{x:.1f}"
    return str(x)


def cmd_list(args: argparse.Namespace) -> int:
    """``saca list``: regimes, scenarios and every parameter.

    Args:
        args: parsed arguments (``json``).
    """
    regimes = [{"name": n, "description": _regime_description(n)} for n in preset_names("regimes")]
    scenarios = []
    for n in preset_names("scenarios"):
        s = load_scenario(n)
        scenarios.append(
            {
                "name": n,
                "description": s.description,
                "days": s.situation.days,
                "phases": [p.name for p in s.situation.timeline],
            }
        )
    params = [p.as_dict() for p in all_params()]
    if args.json:
        _emit(
            io.dumps(
                {
                    "regimes": regimes,
                    "scenarios": scenarios,
                    "parameters": params,
                    "metrics": list(METRICS),
                }
            )
        )
        return 0
    width = shutil.get_terminal_size((120, 24)).columns
    out = ["Regimes (--regime NAME, or a TOML file like experiments/regimes/*.toml)"]
    out += [f"  {r['name']:<16} {r['description']}" for r in regimes]
    out += ["", "Scenarios (--scenario NAME, or a TOML file like experiments/scenarios/*.toml)"]
    out += [
        f"  {s['name']:<16} {s['description']} [{s['days']} days: {', '.join(s['phases'])}]"
        for s in scenarios
    ]
    out += ["", "Parameters (--set KEY=VALUE; seed = source study 000-004 or calibration)"]
    rows = [[p.key, p.kind, _range(p), _g(p.default), p.seed, p.meaning] for p in all_params()]
    header = ["key", "type", "range", "default", "seed", "meaning"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    left_w = sum(widths) + 2 * 5 + 2
    beside = width - left_w >= 40  # meaning in its own column, else on the next line
    for r in [header, *rows]:
        left = "  " + "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True))
        if beside:
            wrapped = textwrap.wrap(r[5], width - left_w) or [""]
            out.append(f"{left}  {wrapped[0]}")
            out += [" " * left_w + w for w in wrapped[1:]]
        elif r is header:
            out.append(f"{left.rstrip()}  (meaning on the line below)")
        else:
            out.append(left.rstrip())
            out += textwrap.wrap(r[5], width - 2, initial_indent=" " * 6, subsequent_indent=" " * 6)
        if r is header:
            out.append("  " + "  ".join("-" * w for w in widths))
    out += ["", *textwrap.wrap("Metrics: " + ", ".join(METRICS), width - 2)]
    _emit("\n".join(out))
    return 0


# ----- run ------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """``saca run``: one run; prints the summary, optionally writes files.

    Args:
        args: parsed arguments.
    """
    overrides = parse_overrides(args.set)
    spec, regime_name, reg = runner.resolve(args.scenario, args.regime, overrides)
    steps = runner.check_steps(args.steps, spec)
    seed = runner.check_seed(args.seed)
    out = io.prepare_out(args.out) if args.out else None
    if out is not None:
        io.make_out(out)
    # ---- all input checked: simulate
    with tqdm(total=steps, desc="days", unit="day", file=sys.stderr, disable=None) as bar:
        summary, ts = runner.run_one(spec, reg, seed, steps, progress=bar.update)
    whole = {m: float(summary.loc["all", m]) for m in METRICS}
    phases = {
        w: {m: float(summary.loc[w, m]) for m in METRICS} for w in summary.index if w != "all"
    }
    meta = {
        "scenario": spec.name,
        "regime": regime_name,
        "seed": seed,
        "steps": steps,
        "overrides": overrides,
    }
    if out is not None:
        io.write_parquet(ts.reset_index(), out / "timeseries.parquet")
        io.write_parquet(summary.reset_index(), out / "summary.parquet")
        full = io.run_meta(spec, regime_name, reg, overrides, seed, steps)
        io.write_json(full, out / "meta.json")
    if args.json:
        _emit(io.dumps({**whole, "phases": phases, "meta": meta}))
        if out is not None:
            print(f"saca: wrote {out}", file=sys.stderr)
        return 0
    windows = list(summary.index)
    rows = [[m, *(_num(summary.loc[w, m]) for w in windows)] for m in plots.KEY_METRICS]
    sit = spec.situation
    changed = ", ".join(f"{k}={v}" for k, v in overrides.items())
    text = [
        f"saca run: scenario {spec.name}, regime {regime_name}, seed {seed}, {steps} days, "
        f"{sit.households} households in {sit.communities} communities",
        *([f"overrides: {changed}"] if overrides else []),
        "",
        _table(["metric", *windows], rows),
        "",
        f"all {len(METRICS)} metrics: --json or --out DIR",
    ]
    if out is not None:
        text.append(f"wrote {out}/timeseries.parquet, summary.parquet, meta.json")
    _emit("\n".join(text))
    return 0


# ----- compare --------------------------------------------------------------------------
def _regime_list(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise SacaInputError(
            f"--regimes {text!r} has an empty name; give e.g. constructive,autonomous"
        )
    if len(items) < 2:
        raise SacaInputError(
            f"--regimes needs at least two regimes separated by commas, got {text!r}; "
            "e.g. --regimes constructive,autonomous"
        )
    dup = sorted({t for t in items if items.count(t) > 1})
    if dup:
        raise SacaInputError(f"--regimes lists {', '.join(dup)} more than once; list each once")
    return items


def compare_result(comparison: runner.Comparison, meta: dict[str, Any]) -> dict[str, Any]:
    """The statistics of a comparison as printed by ``--json`` and saved as compare.json.

    Args:
        comparison: the runs of :func:`experiments.runner.run_replicates`.
        meta: the ``meta`` entry (scenario, regimes, replicates, seed, steps, ...).

    Returns:
        ``{"meta", "regimes": {regime: {metric: {mean, lo, hi, sd, n}}}, "differences":
        {regime: {metric: {diff, lo, hi, sd, n}}}, "phases": {phase: {"regimes",
        "differences"}}}``; differences are ``regime - first regime`` (paired).
    """
    regs = comparison.regimes
    whole = stats.compare_stats(comparison.runs, regs, METRICS)
    phases = {}
    win = comparison.windows
    for w in dict.fromkeys(win["window"]):
        if w != "all":
            phases[w] = stats.compare_stats(win[win["window"] == w], regs, METRICS)
    return {"meta": meta, **whole, "phases": phases}


def _compare_table(res: dict[str, Any]) -> str:
    regs = res["meta"]["regimes"]
    ref = regs[0]
    header = ["metric", *regs, *(f"Δ {r}" for r in regs[1:])]
    rows = []
    for m in plots.KEY_METRICS:
        row = [m]
        for r in regs:
            c = res["regimes"][r][m]
            row.append(_pm(c["mean"], c["lo"], c["hi"]))
        for r in regs[1:]:
            d = res["differences"][r][m]
            star = ""
            if d["lo"] is not None and d["lo"] == d["lo"] and (d["lo"] > 0 or d["hi"] < 0):
                star = " *"
            row.append(_pm(d["diff"], d["lo"], d["hi"], signed=True) + (star or "  "))
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
            _table(header, rows),
            "",
            f"all {len(METRICS)} metrics and per-phase results: --json or --out DIR (compare.json)",
        ]
    )


def _compare_figures(res: dict[str, Any], ts: pd.DataFrame, out: Path) -> list[Path]:
    meta = res["meta"]
    regs = meta["regimes"]
    head = f"{meta['scenario']} scenario, {meta['replicates']} replicates, seed {meta['seed']}"
    plots.plot_compare(ts, regs, out / "compare.png", title=f"{' vs '.join(regs)}: {head}")
    plots.plot_differences(
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
    names = _regime_list(args.regimes)
    overrides = parse_overrides(args.set)
    regimes: dict[str, Any] = {}
    spec = None
    for n in names:
        spec, label, reg = runner.resolve(args.scenario, n, overrides)
        if label in regimes:
            raise SacaInputError(
                f"--regimes: two regimes are both named {label!r}; give one file another name"
            )
        regimes[label] = reg
    assert spec is not None
    steps = runner.check_steps(args.steps, spec)
    seed = runner.check_seed(args.seed)
    if args.replicates < 2:
        raise SacaInputError(
            f"--replicates must be at least 2 for confidence intervals, got {args.replicates}"
        )
    if args.workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {args.workers}")
    out = io.prepare_out(args.out) if args.out else None
    if out is not None:
        io.make_out(out)
    # ---- all input checked: simulate
    comp = runner.run_replicates(
        spec, regimes, args.replicates, seed, steps, workers=args.workers, progress=None
    )
    meta = {
        "scenario": spec.name,
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
            "parameters": {r: io.flat_params(spec, reg) for r, reg in regimes.items()},
            **io.provenance(),
        }
        io.write_json(full, out / "meta.json")
        _compare_figures(res, comp.timeseries, out)
    if args.json:
        _emit(io.dumps(res))
        if out is not None:
            print(f"saca: wrote {out}", file=sys.stderr)
        return 0
    text = _compare_table(io.jsonable(res))
    if out is not None:
        text += (
            f"\nwrote {out}/runs.parquet, runs_by_phase.parquet, timeseries.parquet, "
            "compare.json, meta.json, compare.png, differences.png"
        )
    _emit(text)
    return 0


# ----- plot -----------------------------------------------------------------------------
def _read(path: Path) -> Any:
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SacaInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


def cmd_plot(args: argparse.Namespace) -> int:
    """``saca plot DIR``: redraw the figures of a saved run or comparison.

    Args:
        args: parsed arguments (``dir``).
    """
    d = Path(args.dir)
    if not d.is_dir():
        raise SacaInputError(f"{d} is not a directory; give one written by saca run/compare --out")
    if (d / "compare.json").is_file() and (d / "timeseries.parquet").is_file():
        res, ts = _read(d / "compare.json"), _read(d / "timeseries.parquet")
        try:
            paths = _compare_figures(res, ts, d)
        except (KeyError, TypeError, IndexError) as exc:
            raise SacaInputError(f"{d}/compare.json is not a saca comparison ({exc})") from None
    elif (d / "timeseries.parquet").is_file() and (d / "meta.json").is_file():
        meta, ts = _read(d / "meta.json"), _read(d / "timeseries.parquet")
        title = (
            f"{meta.get('regime', '?')} regime, {meta.get('scenario', '?')} scenario, "
            f"seed {meta.get('seed', '?')}"
        )
        try:
            plots.plot_run(ts, d / "timeseries.png", title=title)
        except KeyError as exc:
            raise SacaInputError(f"{d}/timeseries.parquet lacks column {exc}") from None
        paths = [d / "timeseries.png"]
    else:
        raise SacaInputError(
            f"{d} holds neither a saved run (timeseries.parquet + meta.json) nor a comparison "
            "(compare.json + timeseries.parquet); write one with saca run/compare --out"
        )
    _emit("wrote " + ", ".join(str(p) for p in paths))
    return 0


COMMANDS = {"list": cmd_list, "run": cmd_run, "compare": cmd_compare, "plot": cmd_plot}


def _fail(message: str) -> int:
    one_line = " ".join(str(message).split())
    print(f"saca: error: {one_line}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``saca``; returns the exit code.

    Args:
        argv: arguments without the program name; None reads ``sys.argv``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        return _fail(str(exc))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except SacaInputError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("saca: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `saca list | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
