"""Console helpers shared by every command: number formats, tables, and the checked values of
common options (``--set``, ``--regimes``).

The analyses and the command line import from here, so that nothing below the command line
has to import it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from saca.model import SacaInputError
from saca.model.parameters import coerce, unknown_key_error
from saca.model.scenario import all_params, parse_overrides


def num(x: Any) -> str:
    """A number as the tables print it: n/a for None or NaN, decimals by magnitude."""
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


def pm(mean: Any, lo: Any, hi: Any, signed: bool = False) -> str:
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


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(r[0]).ljust(widths[0])] + [
            str(c).rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit(text: str) -> None:
    """Write ``text`` to stdout with exactly one final newline."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def duration(seconds: float) -> str:
    """Seconds as ``12.3 s``, ``4 min 05 s`` or ``1 h 02 min``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(round(seconds), 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def set_overrides(items: list[str], scenario: str, regimes: Sequence[str]) -> dict[str, Any]:
    """``--set`` values, with every mistake in them, the scenario and the regimes at once.

    Each is checked on its own (:func:`saca.experiments.engine.runner.resolve`), so a typo in one
    does not hide a typo in another; errors come one line each.
    """
    # imported here: the engine loads pandas and Mesa, and `saca --help` must stay light
    from saca.experiments.engine import runner
    from saca.experiments.engine.spec import many

    problems: list[str] = []
    overrides: dict[str, Any] = {}
    for item in items:
        try:
            overrides.update(parse_overrides([item]))
        except SacaInputError as exc:
            problems.append(str(exc))
    base = [scenario, regimes[0] if regimes else "hybrid"]
    try:
        runner.resolve(scenario, "hybrid")
    except SacaInputError as exc:
        problems.append(str(exc))
        base[0] = "baseline"  # the values are still checked, on the default scenario
    for i, name in enumerate(regimes):
        try:
            runner.resolve("baseline", name)
        except SacaInputError as exc:
            problems.append(str(exc))
            if i == 0:
                base[1] = "hybrid"
    infos = {p.key: p for p in all_params()}
    for key, value in overrides.items():  # each key and value alone: name, type, range
        if key == "situation.timeline":
            continue
        try:
            if key not in infos:
                raise unknown_key_error(key, [*infos, "situation.timeline"])
            coerce(infos[key], value)
        except SacaInputError as exc:
            problems.append(str(exc))
    if not problems:  # then the values together (e.g. households >= grids)
        runner.resolve(*base, overrides)
    problems = list(dict.fromkeys(problems))
    if len(problems) > 1:
        raise many(problems)
    if problems:
        raise SacaInputError(problems[0])
    return overrides


def regime_list(text: str) -> list[str]:
    """The names of ``--regimes a,b,...``: at least two, none empty, none twice."""
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


def add_backend_options(parser: Any) -> None:
    """Add ``--backend``, ``--workers`` and ``--scheduler`` (read by
    :func:`saca.experiments.engine.backends.check_backend`).

    Every command that runs a sweep (``saca sweep``, ``sensitivity``, ``map``, ``discover``)
    offers the same three, so a cluster is used the same way by all of them.

    Args:
        parser: an argparse parser or argument group.
    """
    parser.add_argument(
        "--backend",
        default=None,
        metavar="serial|process|dask",
        help="where runs execute (default: process; dask when --scheduler is given)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes for process and a dask LocalCluster (default: all cores)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="connect to a running dask scheduler, e.g. tcp://host:8786, or the file of its "
        "--scheduler-file (implies --backend dask)",
    )
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a run that takes longer and record it as failed (timeout); the sweep goes "
        "on (default: no limit; the serial backend then runs each run in a child process)",
    )
