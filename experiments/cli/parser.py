"""The ``saca`` argument parser: every subcommand's options, built without loading the analyses.

Only the subcommand given is built in full, so that ``saca --help`` answers at once (pandas,
matplotlib and Mesa are not loaded); the analyses keep their own options beside their code
(each has an ``add_parser``).
"""

from __future__ import annotations

import argparse
from importlib import import_module
from typing import Any, NoReturn

from saca.experiments.console import add_backend_options
from saca.experiments.engine import outdir, sizes


class UsageError(Exception):
    """An argparse usage error, reported by :func:`main` as one line."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of printing usage."""

    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        where = self.prog.removeprefix("saca").strip()
        raise UsageError(f"{where + ': ' if where else ''}{message}; see '{self.prog} -h'")


def _common(p: argparse.ArgumentParser, *, seed_help: str, seed_type: Any = int) -> None:
    """Add the options ``run`` and ``compare`` share (scenario, --set, seed, steps, out, json).

    Args:
        p: the subcommand's parser.
        seed_help: the help text of ``--seed``.
        seed_type: what parses ``--seed``.
    """
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


COMMAND_MODULES = {
    "sensitivity": "saca.experiments.analyses.sensitivity.command",
    "map": "saca.experiments.analyses.regime_map.command",
    "discover": "saca.experiments.analyses.discovery.command",
    "validate": "saca.experiments.analyses.validation.command",
    "best-mix": "saca.experiments.analyses.best_mix.command",
    "uncertainty": "saca.experiments.analyses.uncertainty.command",
    "withdrawal": "saca.experiments.analyses.withdrawal.command",
}
"""The module of each analysis that holds its ``add_parser(sub)`` and ``command(args)``."""


VALIDATE_HELP = "run the pattern experiments P1-P16 and give each pattern a verdict"
"""``saca validate``'s one-line help, shown by ``saca --help`` without loading it."""


SPEC_COMMANDS = ("sweep", "sensitivity", "map", "discover", "best-mix", "uncertainty")
"""Commands that run a spec: they take the sizes of :mod:`saca.experiments.engine.sizes`."""


COMMANDS = (
    *("list", "run", "compare", "sweep", "results", "plot", "app", "validate"),
    *ANALYSES,
    *EXPERIMENTS,
)
"""Every subcommand's name."""


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
        add_backend_options(p)
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
        "Python: saca.experiments.engine.results.load_results(DIR).",
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

    if full("validate"):  # its options live beside the analysis
        import_module(COMMAND_MODULES["validate"]).add_parser(sub)
    else:
        sub.add_parser("validate", help=VALIDATE_HELP)

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
    for name in ANALYSES:
        if full(name):
            import_module(COMMAND_MODULES[name]).add_parser(sub)
            sizes.add_options(sub.choices[name], samples=name != "map")  # a map is factorial
        else:
            sub.add_parser(name, help=ANALYSES[name])
    for name in EXPERIMENTS:
        if full(name):
            import_module(COMMAND_MODULES[name]).add_parser(sub)
            if name in SPEC_COMMANDS:
                sizes.add_options(sub.choices[name], samples=True)
        else:
            sub.add_parser(name, help=EXPERIMENTS[name])
    return parser
