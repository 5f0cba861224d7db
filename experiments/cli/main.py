"""The ``saca`` command line (also ``python -m saca.experiments``).

Subcommands: ``list``, ``run``, ``compare``, ``sweep``, ``results``, ``plot``, ``app``,
``validate`` (DESIGN §5 and the pattern checks of docs/VALIDATION.md), and the analyses
``sensitivity``, ``map`` and ``discover`` (defined in :mod:`saca.experiments.analyses.sensitivity`,
:mod:`saca.experiments.analyses.regime_map` and :mod:`saca.experiments.analyses.discovery`).
Every user mistake is reported as one line ``saca: error: ...`` on stderr with exit code
2, before any simulation starts (DESIGN §6). The work itself lives in importable modules:
:mod:`saca.experiments.engine.runner` (runs and replicates), :mod:`saca.experiments.engine.sweep`
(batch experiments), :mod:`saca.experiments.stats` (confidence intervals),
:mod:`saca.experiments.engine.io` (files and provenance), :mod:`saca.experiments.plots.figures`.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

from saca.experiments import console
from saca.experiments.engine import advice, outdir, sizes
from saca.model import SacaInputError
from saca.model.scenario import all_params, load_scenario, preset_names
from saca.model.scenario import regime_description as _regime_description

if TYPE_CHECKING:
    import pandas as pd


def _lazy(name: str) -> ModuleType:
    """``name``, imported on first use of one of its attributes.

    ``saca --help`` must answer at once: pandas, matplotlib, Mesa and the analyses are
    loaded only when a command uses them.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


best_mix = _lazy("saca.experiments.analyses.best_mix")
discovery = _lazy("saca.experiments.analyses.discovery.command")
io = _lazy("saca.experiments.engine.io")
plots = _lazy("saca.experiments.plots.figures")
regime_map = _lazy("saca.experiments.analyses.regime_map")
runner = _lazy("saca.experiments.engine.runner")
sensitivity = _lazy("saca.experiments.analyses.sensitivity")
stats = _lazy("saca.experiments.stats")
sweep = _lazy("saca.experiments.engine.sweep")
validation = _lazy("saca.experiments.analyses.validation.command")
uncertainty = _lazy("saca.experiments.analyses.uncertainty")
withdrawal = _lazy("saca.experiments.analyses.withdrawal")
_metrics = _lazy("saca.model.metrics")


def __getattr__(name: str) -> Any:
    if name == "METRICS":  # kept for importers; loads numpy and pandas
        return _metrics.METRICS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


EXIT_USAGE = outdir.EXIT_INPUT
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
def _common(p: argparse.ArgumentParser, *, seed_help: str, seed_type: Any = int) -> None:
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
    p.add_argument("--seed", type=seed_type, default=0, metavar="N", help=seed_help)
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        metavar="N",
        help="days to run (default: the scenario's whole timeline)",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="write results to this directory")
    outdir.add_force_option(p)
    p.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of a table"
    )


ANALYSES = {
    "sensitivity": "global sensitivity analysis (Sobol or Morris) of a sweep spec's parameters",
    "map": "which regime wins where over two situation parameters, and Pareto fronts",
    "discover": "scenario discovery: PRIM boxes of parameters where one regime beats another",
}
"""The analyses' one-line help, shown by ``saca --help`` without loading them."""

EXPERIMENTS = {
    "best-mix": "search the dials and switches for the best mix in each cell of a situation map",
    "uncertainty": "regime contrast over uncertain constants and situations: shares won, "
    "PRIM boxes",
    "withdrawal": "recall the sunk cadres after an emergency and bring them back: "
    "persistence and hysteresis",
}
"""Experiments with their own options (not spec commands), loaded only when run."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argparse parser of ``saca`` with its subcommands.

    Args:
        command: build only this subcommand's options in full (the others get their name
            and help line: enough for ``saca --help`` without loading the analyses);
            None builds every one.
    """

    def full(name: str) -> bool:
        return command is None or command == name

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
    _common(
        p,
        seed_help="root seed; the model's generator is SeedSequence(N); N:K1,K2 (as a sweep "
        "stores each run's seed) is SeedSequence(N, spawn_key=(K1, K2)) (default: 0)",
        seed_type=str,
    )
    p.add_argument(
        "--from",
        dest="source",
        default=None,
        metavar="DIR",
        help="a results folder of saca sweep (or sensitivity, map, discover): rerun one of "
        "its runs, given by --id, with its scenario, regime, values and seed",
    )
    p.add_argument(
        "--id",
        default=None,
        metavar="RUN_ID",
        help="the run to redo with --from, e.g. "
        "p00003-autonomous-r001 (saca results DIR lists them)",
    )
    p.add_argument(
        "--timeseries",
        action="store_true",
        help="also print the daily time series (a table, or a 'timeseries' list with --json)",
    )
    # None = not given, so --from can tell what the user set on top of the stored run
    p.set_defaults(scenario=None, regime=None, seed=None)

    p = sub.add_parser(
        "compare",
        help="replicated runs of several regimes with 95%% CIs and paired differences",
        description="Run each regime REPLICATES times with the same replicate seeds "
        "(common random numbers) and report each metric's mean with a 95% Student t CI, "
        "and each regime's difference from the first with a paired 95% t CI.",
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
        default=None,
        metavar="N",
        help="worker processes; results do not depend on it (default: all cores, as sweep)",
    )
    _common(
        p,
        seed_help="root seed; replicate r uses SeedSequence(N).spawn(REPLICATES)[r] "
        "under every regime (default: 0)",
    )

    p = sub.add_parser(
        "sweep",
        help="factorial / LHS / Sobol designs x regimes x replicates, stored as they finish",
        description="Run a sweep spec (TOML: [sweep], [parameters], [fixed]; see README) and "
        "stream every finished run to DIR. Run (point, regime, replicate) is seeded by "
        "SeedSequence(seed, spawn_key=(point, replicate)), so results do not depend on the "
        "backend or the number of workers. Exit 0 when every run succeeded, 1 when some "
        "failed (recorded with tracebacks; the others are stored), 2 for input errors, "
        "3 for I/O or storage errors (disk full, damaged files), 130 when interrupted "
        "(resume with --resume).",
    )
    p.add_argument("spec", nargs="?", metavar="SPEC.toml", help="the sweep spec")
    p.add_argument("--out", default=None, metavar="DIR", help="the results directory")
    outdir.add_force_option(p)
    if full("sweep"):
        sweep.add_backend_options(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the sweep in DIR (same spec): stored runs are not redone",
    )
    p.add_argument(
        "--rerun-failed",
        default=None,
        metavar="DIR",
        help="redo the failed (and any missing) runs of the sweep in DIR, with its spec",
    )
    p.add_argument(
        "--timeseries", action="store_true", help="store every run's daily time series too"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the number of runs and an estimate of the time, run nothing",
    )
    sizes.add_options(p)

    p = sub.add_parser(
        "results",
        help="a stored sweep as one table",
        description="Load a sweep directory (complete, running or killed) as one table, "
        "one row per stored run; print a summary, or write it all with --csv / --json. "
        "Python: experiments.sweep.load_results(DIR).",
    )
    p.add_argument("dir", metavar="DIR", help="a directory written by saca sweep --out")
    p.add_argument(
        "--verify",
        action="store_true",
        help="check every file's checksum and row count and every stored run; exit 3 if "
        "anything is damaged (resume the sweep to repair it)",
    )
    p.add_argument(
        "--window",
        default="all",
        metavar="all|PHASE",
        help="metrics over the whole run (all, default) or one phase",
    )
    p.add_argument("--csv", default=None, metavar="FILE", help="write every row to a CSV file")
    p.add_argument("--json", action="store_true", help="print every row as JSON records")

    p = sub.add_parser("plot", help="redraw the figures of a saved run, comparison or sweep")
    p.add_argument("dir", metavar="DIR", help="a directory written by saca run/compare/sweep --out")

    if full("validate"):
        validation.add_parser(sub)
    else:
        sub.add_parser(
            "validate", help="run the pattern experiments P1-P16 and give each pattern a verdict"
        )

    p = sub.add_parser(
        "app",
        help="the interactive app (Mesa SolaraViz) in a browser",
        description="Serve the app at http://HOST:PORT: dials, switches, scenario and preset "
        "pickers, step/run/reset, live plots, a community's network, and constructive vs "
        "autonomous side by side. On first start it unpacks Solara's front end from npm "
        "into the environment (needs npm once; no CDN).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, metavar="N", help="port (default: 8765)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    p.add_argument(
        "--setup-assets",
        action="store_true",
        help="only unpack the front end from npm (what the first start does), then exit",
    )

    # The analyses of "where does autonomy win" keep their options beside their code.
    for name, module in (
        ("sensitivity", sensitivity),
        ("map", regime_map),
        ("discover", discovery),
    ):
        if full(name):
            module.add_parser(sub)
            sizes.add_options(sub.choices[name], samples=name != "map")  # a map is factorial
        else:
            sub.add_parser(name, help=ANALYSES[name])
    for name, module in (
        ("best-mix", best_mix),
        ("uncertainty", uncertainty),
        ("withdrawal", withdrawal),
    ):
        if full(name):
            module.add_parser(sub)
            if name in SPEC_COMMANDS:
                sizes.add_options(sub.choices[name], samples=True)
        else:
            sub.add_parser(name, help=EXPERIMENTS[name])
    return parser


# ----- formatting -----------------------------------------------------------------------
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
        console.emit(
            io.dumps(
                {
                    "regimes": regimes,
                    "scenarios": scenarios,
                    "parameters": params,
                    "metrics": list(_metrics.METRICS),
                }
            )
        )
        return 0
    width = shutil.get_terminal_size((120, 24)).columns
    out = ["Regimes (--regime NAME, or a TOML file like model/presets/regimes/*.toml)"]
    out += [f"  {r['name']:<16} {r['description']}" for r in regimes]
    out += ["", "Scenarios (--scenario NAME, or a TOML file like model/presets/scenarios/*.toml)"]
    out += [
        f"  {s['name']:<16} {s['description']} [{s['days']} days: {', '.join(s['phases'])}]"
        for s in scenarios
    ]
    out += ["", "Parameters (--set KEY=VALUE; seed = source study 000-004 or calibration)"]
    rows = [[p.key, p.kind, _range(p), _g(p.default), p.source, p.meaning] for p in all_params()]
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
    out += ["", *textwrap.wrap("Metrics: " + ", ".join(_metrics.METRICS), width - 2)]
    console.emit("\n".join(out))
    return 0


# ----- run ------------------------------------------------------------------------------
def _log(line: str) -> None:
    print(line, file=sys.stderr)


def _claim(args: argparse.Namespace, command: str) -> Path | None:
    """Lock ``--out`` for a command without resumable work: new, empty, or ``--force``."""
    if not args.out:
        return None
    return outdir.claim(args.out, command, force=args.force, log=_log)


def cmd_run(args: argparse.Namespace) -> int:
    """``saca run``: one run; prints the summary, optionally writes files.

    Args:
        args: parsed arguments.
    """
    overrides = console.set_overrides(
        args.set, args.scenario or "baseline", [args.regime or "hybrid"] if not args.source else []
    )
    stored: dict[str, Any] | None = None
    if args.source is not None or args.id is not None:
        spec, regime_name, reg, seed, overrides, stored = _stored_run(args, overrides)
        steps = runner.check_steps(args.steps or stored["steps"], spec)
    else:
        spec, regime_name, reg = runner.resolve(
            args.scenario or "baseline", args.regime or "hybrid", overrides
        )
        steps = runner.check_steps(args.steps, spec)
        seed = runner.parse_seed(args.seed if args.seed is not None else 0)
    for warning in advice.noop_overrides(spec, overrides, steps):
        print(f"saca run: warning: {warning}", file=sys.stderr)
    seed_shown = (
        runner.seed_text(seed.entropy, seed.spawn_key) if not isinstance(seed, int) else seed
    )
    out = _claim(args, "run")
    # ---- all input checked: simulate
    from tqdm import tqdm

    with tqdm(total=steps, desc="days", unit="day", file=sys.stderr, disable=None) as bar:
        summary, ts = runner.run_one(spec, reg, seed, steps, progress=bar.update)
    whole = {m: float(summary.loc["all", m]) for m in _metrics.METRICS}
    phases = {
        w: {m: float(summary.loc[w, m]) for m in _metrics.METRICS}
        for w in summary.index
        if w != "all"
    }
    meta = {
        "scenario": spec.name,
        "regime": regime_name,
        "seed": seed_shown,
        "steps": steps,
        "overrides": overrides,
        **({"from": stored["from"], "id": stored["id"]} if stored else {}),
    }
    same = None
    if stored is not None and stored["row"] is not None:
        same = all(
            _same(whole[m], stored["row"].get(m)) for m in _metrics.METRICS if m in stored["row"]
        )
    if out is not None:
        io.write_parquet(ts.reset_index(), out / "timeseries.parquet")
        io.write_parquet(summary.reset_index(), out / "summary.parquet")
        full = io.run_meta(spec, regime_name, reg, overrides, seed_shown, steps)
        if not isinstance(seed, int):
            full["seeding"] = "numpy.random.SeedSequence(N, spawn_key=(K1, ...)) of seed N:K1,..."
        if stored is not None:
            full.update(source=stored["from"], source_id=stored["id"], reproduces=same)
        io.write_json(full, out / "meta.json")
    if args.json:
        extra: dict[str, Any] = {}
        if args.timeseries:
            extra["timeseries"] = ts.reset_index().to_dict(orient="records")
        if same is not None:
            extra["reproduces_stored_run"] = same
        console.emit(io.dumps({**whole, "phases": phases, "meta": meta, **extra}))
        if out is not None:
            print(f"saca: wrote {out}", file=sys.stderr)
        return 0
    windows = list(summary.index)
    rows = [[m, *(console.num(summary.loc[w, m]) for w in windows)] for m in plots.KEY_METRICS]
    sit = spec.situation
    changed = ", ".join(f"{k}={v}" for k, v in overrides.items())
    text = [
        f"saca run: scenario {spec.name}, regime {regime_name}, seed {seed_shown}, {steps} "
        f"days, {sit.households} households in {sit.communities} communities",
        *([f"run {stored['id']} of {stored['from']}"] if stored else []),
        *([f"overrides: {changed}"] if overrides else []),
        "",
        console.table(["metric", *windows], rows),
        "",
        f"all {len(_metrics.METRICS)} metrics: --json or --out DIR",
    ]
    if args.timeseries:
        daily = ts.reset_index()
        text[-1:-1] = [
            console.table(
                ["day", "phase", *plots.KEY_METRICS],
                [
                    [str(r["day"]), r["phase"], *(console.num(r[m]) for m in plots.KEY_METRICS)]
                    for r in daily.to_dict(orient="records")
                ],
            ),
            "",
        ]
    if same is not None:
        text.append(
            "identical to the stored run's summary"
            if same
            else "warning: differs from the stored run's summary (the code or a preset "
            "changed since the sweep; see its meta.json git_commit)"
        )
    if out is not None:
        text.append(f"wrote {out}/timeseries.parquet, summary.parquet, meta.json")
    console.emit("\n".join(text))
    return 0


def _same(a: Any, b: Any) -> bool:
    """Equal floats, NaN equal to NaN (a metric undefined in both runs)."""
    a, b = float(a), float("nan") if b is None else float(b)
    return a == b or (a != a and b != b)


def _stored_run(
    args: argparse.Namespace, extra: dict[str, Any]
) -> tuple[Any, str, Any, Any, dict[str, Any], dict[str, Any]]:
    """Resolve ``saca run --from DIR --id RUN_ID``: the stored run's inputs and row."""
    if args.source is None or args.id is None:
        raise SacaInputError("--from DIR and --id RUN_ID go together: give both")
    given = [
        o
        for o, v in (
            ("--scenario", args.scenario),
            ("--regime", args.regime),
            ("--seed", args.seed),
        )
        if v is not None
    ]
    if given:
        raise SacaInputError(
            f"{', '.join(given)} cannot be combined with --from: the stored run fixes them; "
            "change parameters with --set"
        )
    src = Path(args.source)
    if not (src / "meta.json").is_file() and (src / "runs" / "meta.json").is_file():
        src = src / "runs"  # the runs of saca sensitivity, map or discover
    spec = sweep.stored_spec(src)
    plan = sweep.prepare(spec)
    task = next(iter(plan.tasks(only=[args.id])), None)
    if task is None:
        ids = list(itertools.islice(plan.ids(), 100_000))
        raise SacaInputError(
            f"--id {args.id!r} is not a run of {src}; {sweep.did_you_mean(args.id, ids)}"
            f"ids look like {ids[0]} (saca results {src} --csv FILE lists them)"
        )
    overrides = {**task.overrides, **extra}
    scenario, _, reg = runner.resolve(task.scenario, task.settings, overrides)
    row = None
    table = sweep.load_results(src)
    hit = table[(table["id"] == args.id) & (table["status"] == "ok")]
    if len(hit) and not extra:
        row = hit.iloc[0].to_dict()
    seed = sweep.run_seed(task.root_seed, task.seed_key)
    stored = {"from": str(src), "id": task.id, "steps": task.steps, "row": row}
    return scenario, task.regime, reg, seed, overrides, stored


# ----- compare --------------------------------------------------------------------------
def compare_result(comparison: runner.Comparison, meta: dict[str, Any]) -> dict[str, Any]:
    """The statistics of a comparison as printed by ``--json`` and saved as compare.json.

    Args:
        comparison: the runs of :func:`saca.experiments.engine.runner.run_replicates`.
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
    whole = stats.compare_stats(comparison.runs, regs, _metrics.METRICS)
    whole["worst_off"] = stats.worst_off_of_runs(comparison.runs, regs)
    phases = {}
    win = comparison.windows
    for w in dict.fromkeys(win["window"]):
        if w != "all":
            part = win[win["window"] == w]
            phases[w] = stats.compare_stats(part, regs, _metrics.METRICS)
            phases[w]["worst_off"] = stats.worst_off_of_runs(part, regs)
    return {"meta": meta, **whole, "phases": phases}


def _compare_table(res: dict[str, Any]) -> str:
    regs = res["meta"]["regimes"]
    ref = regs[0]
    header = ["metric", *regs, *(f"Δ {r}" for r in regs[1:])]
    rows = []
    for m in stats.with_equity(plots.KEY_METRICS):
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
            f"all {len(_metrics.METRICS)} metrics and per-phase results: --json or --out DIR "
            "(compare.json)",
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


def _compare_figures(res: dict[str, Any], ts: pd.DataFrame, out: Path) -> list[Path]:
    meta = res["meta"]
    regs = meta["regimes"]
    head = f"{meta['scenario']} scenario, {meta['replicates']} replicates, seed {meta['seed']}"
    head += _overrides_text(meta.get("overrides"))
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
    names = console.regime_list(args.regimes)
    overrides = console.set_overrides(args.set, args.scenario, names)
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
    if args.workers is not None and args.workers < 1:
        raise SacaInputError(f"--workers must be at least 1, got {args.workers}")
    workers = args.workers or os.cpu_count() or 1
    for warning in advice.noop_overrides(spec, overrides, steps):
        print(f"saca compare: warning: {warning}", file=sys.stderr)
    out = _claim(args, "compare")
    # ---- all input checked: simulate
    comp = runner.run_replicates(
        spec, regimes, args.replicates, seed, steps, workers=workers, progress=None
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


# ----- sweep ----------------------------------------------------------------------------
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
        spec = sweep.stored_spec(args.rerun_failed)
    else:
        if not args.spec:
            raise SacaInputError("give a sweep spec: saca sweep SPEC.toml --out DIR")
        if not args.out and not args.dry_run:
            raise SacaInputError("--out DIR is required: where the results are stored")
        out = args.out
        spec = sweep.load_spec(args.spec)
    plan = sweep.prepare(spec)
    backend, workers = sweep.check_backend(args.backend, args.workers, args.scheduler)
    sweep.check_timeout(args.run_timeout)
    if out is not None:
        io.prepare_out(out)
    if args.dry_run:
        pending = None
        if out is not None and (Path(out) / "meta.json").is_file():
            meta = sweep.read_meta(out)
            if meta.get("spec_hash") == plan.spec.hash:
                pending = sweep.pending_runs(plan, out, args.rerun_failed is not None)
        est = sweep.estimate(plan, 1 if args.scheduler else workers, pending, backend)
        lines = [sweep.plan_line(plan)]
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
    console.emit(sweep.plan_line(plan))  # first, before any work: a log shows what is coming
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
        stored = plan.n_runs - sweep.pending_runs(plan, out)
        again = (
            f"saca sweep --rerun-failed {out}"
            if args.rerun_failed
            else f"saca sweep {args.spec} --out {out} --resume"
            + (sizes.current() or sizes.Sizes()).argv()
        )
        print(
            f"saca sweep: interrupted; {stored} of {plan.n_runs} runs are stored in {out}; "
            f"continue with: {again}",
            file=sys.stderr,
        )
        return 130
    skipped = f", {report.stored_before} already stored" if report.stored_before else ""
    if report.damaged:
        skipped += f", {report.damaged} damaged runs run again"
    console.emit(
        "\n".join(
            [
                f"ran {report.ran} runs ({report.ok} ok, {report.failed} failed{skipped}) in "
                f"{console.duration(report.seconds)}; wrote {report.out}",
                f"table: saca results {report.out} (or experiments.sweep.load_results); "
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


# ----- results --------------------------------------------------------------------------
def cmd_results(args: argparse.Namespace) -> int:
    """``saca results DIR``: a stored sweep as one table.

    Args:
        args: parsed arguments (``dir``, ``window``, ``csv``, ``json``).
    """
    meta = sweep.read_meta(args.dir)
    if args.csv is not None:
        csv = Path(args.csv)
        if csv.is_dir() or not csv.parent.is_dir():
            raise SacaInputError(f"--csv {csv}: give a file path in an existing directory")
    busy = outdir.is_busy(args.dir)
    if busy and args.verify:
        raise SacaInputError(
            f"{args.dir} is being written right now by "
            f"{outdir.describe(outdir.holder(args.dir))}; verify it when that ends"
        )
    if not busy:  # a writer renames files as it goes: its folder is verified when it ends
        # every read is verified: damaged data is refused, never shown as complete
        check = sweep.verify(args.dir, deep=args.verify)
        if args.verify:
            console.emit(f"saca results {args.dir}: verified: {check}")
            return 0
    df = sweep.load_results(args.dir, window=args.window)
    if args.csv is not None:
        df.to_csv(args.csv, index=False)
    if args.json:
        console.emit(io.dumps(df.to_dict(orient="records")))
        if args.csv is not None:
            print(f"saca: wrote {args.csv}", file=sys.stderr)
        return 0
    regs = [r for r in meta["regimes"] if r in set(df["regime"])]
    ok = df[df["status"] == "ok"]
    failed = df[df["status"] == "failed"]
    state = (
        "complete"
        if meta.get("complete") and len(df) == meta["runs"]
        else "incomplete (resume with --resume)"
    )
    if busy:
        state = f"being written by {outdir.describe(outdir.holder(args.dir))}"
    d = meta["design"]
    lines = [
        f"saca results {args.dir}: sweep {meta['name']}, {d['kind']} design, {d['points']} "
        f"points x {len(meta['regimes'])} regimes x {meta['replicates']} replicates = "
        f"{meta['runs']} runs; stored {len(df)} ({len(ok)} ok, {len(failed)} failed); {state}",
    ]
    if regs and len(ok):
        lines += [
            f"window {args.window}; mean ± half-width of the 95% CI (Student t) over every ok "
            "run of a regime, design points and replicates pooled",
            "",
        ]
        rows = []
        for m in plots.KEY_METRICS:
            row = [m]
            for r in regs:
                c = stats.mean_ci(ok.loc[ok["regime"] == r, m].to_numpy(dtype=float))
                row.append(console.pm(c["mean"], c["lo"], c["hi"]))
            rows.append(row)
        lines.append(console.table(["metric", *regs], rows))
    if len(failed):
        lines += ["", "failed runs:"]
        lines += [f"  {i}  {e}" for i, e in zip(failed["id"], failed["error"], strict=True)][:20]
        if len(failed) > 20:
            lines.append(f"  ... and {len(failed) - 20} more")
    lines += [
        "",
        f"one row per run, {len(df.columns)} columns: --csv FILE, --json, or "
        "saca.experiments.engine.sweep.load_results(DIR)",
    ]
    if args.csv is not None:
        lines.append(f"wrote {args.csv}")
    console.emit("\n".join(lines))
    return 0


def _overrides_text(overrides: Any) -> str:
    """``, with situation.risk=0.9`` for a figure's title (empty without overrides)."""
    if not overrides:
        return ""
    return ", with " + ", ".join(f"{k}={v}" for k, v in dict(overrides).items())


def _sweep_figures(d: Path) -> list[Path]:
    meta = sweep.read_meta(d)
    df = sweep.load_results(d)
    if not (df["status"] == "ok").any():
        raise SacaInputError(f"{d} has no successful runs to plot")
    regs = list(meta["regimes"])
    factors = meta["design"]["factors"]
    head = (
        f"sweep {meta['name']}: {meta['design']['kind']} design, {meta['scenario']} scenario, "
        f"{meta['replicates']} replicates, seed {meta['seed']}"
        + _overrides_text((meta.get("command_line") or {}).get("set"))
    )
    paths = [d / "sweep_params.png"]
    plots.plot_sweep_params(df, factors, regs, paths[0], title=f"Metrics vs parameters ({head})")
    if len(factors) >= 2:
        paths.append(d / "sweep_winners.png")
        what = "Which regime wins" if len(regs) > 1 else "Mean"
        plots.plot_sweep_winners(df, factors, regs, paths[-1], title=f"{what} ({head})")
    if meta.get("timeseries"):
        paths.append(d / "sweep_timeseries.png")
        plots.plot_sweep_timeseries(
            sweep.load_timeseries(d), regs, paths[-1], title=f"Time series ({head})"
        )
    return paths


# ----- plot -----------------------------------------------------------------------------
def _read(path: Path) -> Any:
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        import pandas as pd

        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SacaInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


def cmd_plot(args: argparse.Namespace) -> int:
    """``saca plot DIR``: redraw the figures of a saved run or comparison, or draw a sweep's.

    Args:
        args: parsed arguments (``dir``).
    """
    d = Path(args.dir)
    if not d.is_dir():
        raise SacaInputError(
            f"{d} is not a directory; give one written by saca run/compare/sweep --out"
        )
    meta_path = d / "meta.json"
    meta = _read(meta_path) if meta_path.is_file() else None
    if isinstance(meta, dict) and meta.get("kind") == "sweep":
        paths = _sweep_figures(d)
    elif (d / "compare.json").is_file() and (d / "timeseries.parquet").is_file():
        res, ts = _read(d / "compare.json"), _read(d / "timeseries.parquet")
        try:
            paths = _compare_figures(res, ts, d)
        except (KeyError, TypeError, IndexError) as exc:
            raise SacaInputError(f"{d}/compare.json is not a saca comparison ({exc})") from None
    elif (d / "timeseries.parquet").is_file() and (d / "meta.json").is_file():
        meta, ts = _read(d / "meta.json"), _read(d / "timeseries.parquet")
        title = (
            f"{meta.get('regime', '?')} regime, {meta.get('scenario', '?')} scenario, "
            f"seed {meta.get('seed', '?')}" + _overrides_text(meta.get("overrides"))
        )
        try:
            plots.plot_run(ts, d / "timeseries.png", title=title)
        except KeyError as exc:
            raise SacaInputError(f"{d}/timeseries.parquet lacks column {exc}") from None
        paths = [d / "timeseries.png"]
    else:
        raise SacaInputError(
            f"{d} holds neither a saved run (timeseries.parquet + meta.json), a comparison "
            "(compare.json + timeseries.parquet) nor a sweep (meta.json of saca sweep); "
            "write one with saca run/compare/sweep --out"
        )
    console.emit("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from saca.experiments.app import assets as app_assets

    if not 0 <= args.port <= 65535:
        raise SacaInputError(f"--port must be from 0 to 65535, got {args.port}")
    try:
        if args.setup_assets:
            done = app_assets.ensure_assets()
            print(f"saca app: front end ready in {app_assets.cache_dir()}", end="")
            print(f" (unpacked {', '.join(done)})" if done else " (nothing to do)")
            return 0
        return app_assets.serve(args.host, args.port, open_browser=args.open)
    except app_assets.AssetError as exc:
        print(f"saca: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "results": cmd_results,
    "plot": cmd_plot,
    "app": cmd_app,
    "validate": lambda args: validation.command(args),
    # the analyses are loaded only when run (see _lazy)
    "sensitivity": lambda args: sensitivity.command(args),
    "map": lambda args: regime_map.command(args),
    "discover": lambda args: discovery.command(args),
    "withdrawal": lambda args: withdrawal.command(args),
    "best-mix": lambda args: best_mix.command(args),
    "uncertainty": lambda args: uncertainty.command(args),
}


def _fail(message: str | BaseException) -> int:
    # every mistake on its own line (an error may carry several: ``problems``)
    for problem in getattr(message, "problems", None) or [message]:
        one_line = " ".join(str(problem).split())
        print(f"saca: error: {one_line}", file=sys.stderr)
    return EXIT_USAGE


SPEC_COMMANDS = ("sweep", "sensitivity", "map", "discover", "best-mix", "uncertainty")
"""Commands that run a spec: they take the sizes of :mod:`saca.experiments.engine.sizes`."""


def _sizes(args: argparse.Namespace) -> sizes.Sizes | None:
    """The sizes given to a spec command, all their mistakes raised at once."""
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
                    sweep.prepare(
                        sweep.load_spec(spec, extra_tables=("sensitivity", "map", "discover"))
                    )
            except SacaInputError as exc:
                problems += getattr(exc, "problems", None) or [str(exc)]
        raise sweep.many(problems)
    return given


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``saca``; returns the exit code.

    Args:
        argv: arguments without the program name; None reads ``sys.argv``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # only the command given is built in full: `saca --help` loads no analysis
    named = next((a for a in argv if not a.startswith("-")), None)
    known = (
        *("list", "run", "compare", "sweep", "results", "plot", "app", "validate"),
        *ANALYSES,
        *EXPERIMENTS,
    )
    parser = build_parser(named if named in known else "")
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        return _fail(str(exc))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        with sizes.applied(_sizes(args)):
            return COMMANDS[args.command](args)
    except SacaInputError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        print("saca: interrupted", file=sys.stderr)
        return outdir.EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `saca list | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except outdir.StorageError as exc:
        _fail(str(exc))
        return outdir.EXIT_STORAGE
    except OSError as exc:  # disk full, permissions, I/O: not the user's input, not a bug
        where = getattr(args, "out", None) or getattr(args, "dir", None) or "the results"
        _fail(str(outdir.storage_error(exc, where)))
        return outdir.EXIT_STORAGE
    finally:
        outdir.release()
