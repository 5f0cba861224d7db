"""The ``saca`` command line (also ``python -m saca.experiments``): parse, dispatch, report errors.

Subcommands: ``list``, ``run``, ``compare``, ``sweep``, ``results``, ``plot``, ``app``,
``validate`` (DESIGN §5 and the pattern checks of docs/VALIDATION.md), and the analyses
``sensitivity``, ``map``, ``discover``, ``best-mix``, ``uncertainty`` and ``withdrawal``
(each defined beside its code in :mod:`saca.experiments.analyses`). Every user mistake is
reported as one line ``saca: error: ...`` on stderr with exit code 2, before any simulation
starts (DESIGN §6). The options live in :mod:`saca.experiments.cli.parser`; each command in
its own module (:mod:`~saca.experiments.cli.run`, :mod:`~saca.experiments.cli.compare`,
:mod:`~saca.experiments.cli.sweep`, :mod:`~saca.experiments.cli.results`,
:mod:`~saca.experiments.cli.misc`), imported only when that command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from saca.experiments.cli.parser import (
    COMMAND_MODULES,
    COMMANDS,
    SPEC_COMMANDS,
    UsageError,
    build_parser,
)
from saca.experiments.engine import outdir, sizes
from saca.model import SacaInputError

EXIT_USAGE = outdir.EXIT_INPUT

HANDLERS = {
    "list": "saca.experiments.cli.misc:cmd_list",
    "run": "saca.experiments.cli.run:cmd_run",
    "compare": "saca.experiments.cli.compare:cmd_compare",
    "sweep": "saca.experiments.cli.sweep:cmd_sweep",
    "results": "saca.experiments.cli.results:cmd_results",
    "plot": "saca.experiments.cli.results:cmd_plot",
    "app": "saca.experiments.cli.misc:cmd_app",
    **{name: f"{module}:command" for name, module in COMMAND_MODULES.items()},
}
"""Each subcommand's function as ``module:function``: a command's module (with pandas,
matplotlib, Mesa) is imported only when that command runs."""


def handler(command: str) -> Callable[[argparse.Namespace], int]:
    """The function that runs a subcommand.

    Args:
        command: a subcommand's name (a key of :data:`HANDLERS`).
    """
    module, _, name = HANDLERS[command].partition(":")
    return getattr(import_module(module), name)


def _fail(message: str | BaseException) -> int:
    """Print a mistake as ``saca: error: ...`` lines on stderr; returns the usage exit code."""
    # every mistake on its own line (an error may carry several: ``problems``)
    for problem in getattr(message, "problems", None) or [message]:
        one_line = " ".join(str(problem).split())
        print(f"saca: error: {one_line}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``saca``; returns the exit code.

    Args:
        argv: arguments without the program name; None reads ``sys.argv``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # only the command given is built in full: `saca --help` loads no analysis
    named = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(named if named in COMMANDS else "")
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        given = None
        if args.command in SPEC_COMMANDS:
            from saca.experiments.cli.sweep import spec_sizes

            given = spec_sizes(args)
        with sizes.applied(given):
            return handler(args.command)(args)
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


if __name__ == "__main__":
    raise SystemExit(main())
