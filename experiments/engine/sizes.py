"""A spec's sizes from the command line: ``--set``, ``--replicates``, ``--steps``,
``--samples`` / ``--trajectories`` and ``--seed`` on every command that runs a spec.

To try a small version of a sweep, nobody should copy and edit TOML files:
``saca sweep SPEC --out D --replicates 2 --steps 30 --set situation.households=240``.
The values are written into the spec's tables before it is checked (``[sweep]``
``replicates``, ``steps``, ``samples``, ``seed``; ``[fixed]`` for ``--set``), so they go
through the same checks as the file's own values, count in the spec's hash, and are
stored in the results folder's ``spec.toml`` and ``meta.json`` (``spec`` and
``command_line``): ``--resume`` and ``--rerun-failed`` read them back from there.

The command line sets the values for the duration of a command with :func:`applied`;
:func:`saca.experiments.engine.spec.parse_spec` applies them (:func:`apply`) to every spec it reads
in that time, so the analyses that read their spec themselves (sensitivity, map,
discover) get them too.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from saca.model import SacaInputError
from saca.model.parameters import unknown_key_error
from saca.model.scenario import all_params, parse_overrides


@dataclass(frozen=True)
class Sizes:
    """What the command line sets in a spec (None: keep the file's value).

    Args:
        replicates: ``[sweep] replicates``.
        steps: ``[sweep] steps``.
        samples: ``[sweep] samples`` (lhs points, sobol base samples, morris trajectories).
        seed: ``[sweep] seed``.
        fixed: dotted key → value for ``[fixed]`` (``--set``).
    """

    replicates: int | None = None
    steps: int | None = None
    samples: int | None = None
    seed: int | None = None
    fixed: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The values given, for ``meta.json`` (empty when none was)."""
        out = {k: getattr(self, k) for k in ("replicates", "steps", "samples", "seed")}
        out = {k: v for k, v in out.items() if v is not None}
        if self.fixed:
            out["set"] = dict(self.fixed)
        return out

    def argv(self) -> str:
        """The options as typed, e.g. `` --replicates 2 --set situation.households=240``."""
        parts = [f" --{k} {v}" for k, v in self.record().items() if k != "set"]
        parts += [f" --set {k}={v}" for k, v in self.fixed.items()]
        return "".join(parts)


_CURRENT: contextvars.ContextVar[Sizes | None] = contextvars.ContextVar("saca_sizes", default=None)


def current() -> Sizes | None:
    """The sizes set by the running command, or None."""
    return _CURRENT.get()


@contextlib.contextmanager
def applied(sizes: Sizes | None) -> Iterator[None]:
    """Apply ``sizes`` to every spec read inside the ``with`` block."""
    token = _CURRENT.set(sizes if sizes and sizes.record() else None)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def add_options(parser: argparse.ArgumentParser, samples: bool = True) -> None:
    """Add ``--set``, ``--replicates``, ``--steps``, ``--samples`` and ``--seed``.

    Args:
        parser: a subcommand's parser that reads a spec.
        samples: offer ``--samples`` / ``--trajectories`` (designs that sample).
    """
    g = parser.add_argument_group("sizes (override the spec; stored with the results)")
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fix a parameter for every run, as in [fixed] (repeatable)",
    )
    g.add_argument("--replicates", type=int, default=None, metavar="N", help="[sweep] replicates")
    g.add_argument("--steps", type=int, default=None, metavar="N", help="[sweep] steps (days)")
    if samples:
        g.add_argument(
            "--samples",
            "--trajectories",
            dest="samples",
            type=int,
            default=None,
            metavar="N",
            help="[sweep] samples: lhs points, sobol base samples or morris trajectories",
        )
    g.add_argument("--seed", type=int, default=None, metavar="N", help="[sweep] seed (root seed)")


def from_args(args: argparse.Namespace) -> tuple[Sizes, list[str]]:
    """The sizes given on the command line, and every mistake in them (one line each).

    Args:
        args: parsed arguments of a command with :func:`add_options`.
    """
    errors: list[str] = []
    for opt, lowest in (("replicates", 1), ("steps", 1), ("samples", 1), ("seed", 0)):
        v = getattr(args, opt, None)
        if v is not None and v < lowest:
            errors.append(f"--{opt} must be at least {lowest}, got {v}")
    fixed: dict[str, Any] = {}
    known = [p.key for p in all_params()]
    for item in getattr(args, "set", None) or []:
        try:
            pair = parse_overrides([item])
        except SacaInputError as exc:
            errors.append(str(exc))
            continue
        for key, value in pair.items():
            if key not in known and key != "situation.timeline":
                errors.append(f"--set {unknown_key_error(key, [*known, 'situation.timeline'])}")
            else:
                fixed[key] = value
    sizes = Sizes(
        replicates=getattr(args, "replicates", None),
        steps=getattr(args, "steps", None),
        samples=getattr(args, "samples", None),
        seed=getattr(args, "seed", None),
        fixed=fixed,
    )
    return sizes, errors


def apply(data: Mapping[str, Any], label: str, sizes: Sizes | None = None) -> dict[str, Any]:
    """The parsed spec ``data`` with the command line's values written into its tables.

    Args:
        data: the parsed TOML.
        label: how messages name the spec.
        sizes: the values; None takes :func:`current`.

    Raises:
        SacaInputError: ``--set`` of a parameter the spec varies.
    """
    sizes = current() if sizes is None else sizes
    if sizes is None or not sizes.record():
        return dict(data)
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    sw = out.setdefault("sweep", {})
    if isinstance(sw, dict):
        for key in ("replicates", "steps", "samples", "seed"):
            value = getattr(sizes, key)
            if value is not None:
                sw[key] = value
    if sizes.fixed:
        params = out.get("parameters", {})
        fixed = out.setdefault("fixed", {})
        for key, value in sizes.fixed.items():
            if isinstance(params, dict) and key in params:
                if isinstance(params[key], list | dict):
                    raise SacaInputError(
                        f"--set {key}: {label} varies {key} in [parameters]; --set fixes "
                        "parameters the design does not vary"
                    )
                del params[key]  # a single value there is a fixed value: replace it
            if isinstance(fixed, dict):
                fixed[key] = value
    return out


# ----- writing the spec back as TOML ----------------------------------------------------
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def toml_text(data: Mapping[str, Any], header: str = "") -> str:
    """A spec (tables of scalars, lists and inline tables) as TOML text.

    Args:
        data: the parsed spec.
        header: a comment for the first line(s).
    """
    lines = [f"# {ln}" for ln in header.splitlines()]
    for table, body in data.items():
        if lines:
            lines.append("")
        lines.append(f"[{_key(table)}]")
        lines += [f"{_key(k)} = {_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"
