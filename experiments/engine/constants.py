"""Behavioural constants in a spec: ``[constants]`` expands into ``[parameters]`` ranges.

Structural uncertainty (issue 13): the constants that decide who wins (paperwork hours,
hop delay, shirking threshold, compliance, strain terms...) enter a sweep, sensitivity or
discovery spec beside the dials and the situation, with ranges taken from their own
declarations (``model/behaviour.py``: every constant has ``lo`` and ``hi``)::

    [constants]
    include = "all"                 # every behavioural constant, or a list of keys
    exclude = ["behaviour.workday_start"]   # optional: keys left at their defaults
    narrow = 0.2                    # optional (default 1): the range is
                                    # [d − narrow (d − lo), d + narrow (hi − d)]

With ``narrow = 1`` a constant spans its whole declared range; a smaller factor shrinks
the range toward the default ``d`` on each side by the same factor (declared ranges are
what is *allowed*, often far wider than what is plausible). A constant the spec already
varies or fixes in ``[parameters]`` or ``[fixed]`` keeps the spec's own entry. Clock hours
(when a shift or the day's needs start and end) are excluded by default: their ranges are
tied to one another and to the day, not uncertain behaviour.

The expansion happens before anything else reads the spec (:func:`saca.experiments.engine.spec.
parse_spec` calls :func:`expand`), so every command sees ordinary ``[parameters]``, the
spec's hash covers the ranges actually used, and the copy stored with the runs is the
expanded spec (its text keeps the original as a comment), which reads back to the same
sweep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from saca.model import SacaInputError
from saca.model.behaviour import Behaviour
from saca.model.parameters import ParamInfo, closest, describe

TABLE = "constants"
KEYS = ("include", "exclude", "narrow")
CLOCK = (
    "behaviour.workday_start",
    "behaviour.after_hours_start",
    "behaviour.need_hour_first",
    "behaviour.need_hour_last",
)
"""Hours of the day, excluded unless listed by name: not behaviour, and tied together."""


def declared() -> dict[str, ParamInfo]:
    """Every behavioural constant's declaration, by dotted key, in declaration order."""
    return {p.key: p for p in describe("behaviour", Behaviour)}


def constant_range(info: ParamInfo, narrow: float) -> tuple[float, float]:
    """The range of one constant: its declared range shrunk toward the default.

    Args:
        info: the constant's declaration.
        narrow: factor in (0, 1]; 1 keeps the declared range.
    """
    assert info.lo is not None and info.hi is not None
    d = float(info.default)
    return d - narrow * (d - info.lo), d + narrow * (info.hi - d)


def expand(data: Mapping[str, Any], label: str = "spec") -> tuple[dict[str, Any], bool]:
    """Replace a spec's ``[constants]`` table by ranges in ``[parameters]``.

    Args:
        data: the parsed spec.
        label: how messages name the spec.

    Returns:
        The expanded spec (a copy; unchanged without a ``[constants]`` table) and whether
        it had one.

    Raises:
        SacaInputError: an unknown key, constant or value, in one line.
    """
    if TABLE not in data:
        return dict(data), False

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{label}: [constants] {msg}")

    table = data[TABLE]
    if not isinstance(table, dict):
        raise fail("must be a table")
    for key in table:
        if key not in KEYS:
            raise fail(f"unknown key {key!r}; known keys: {', '.join(KEYS)}")
    infos = declared()
    include = table.get("include", "all")
    if include == "all":
        keys = [k for k in infos if k not in CLOCK]
    elif isinstance(include, list) and include and all(isinstance(k, str) for k in include):
        keys = list(include)
    else:
        raise fail(f'include must be "all" or a list of behaviour.* keys, got {include!r}')
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(k, str) for k in exclude):
        raise fail(f"exclude must be a list of behaviour.* keys, got {exclude!r}")
    for k in [*keys, *exclude]:
        if k not in infos:
            close = closest(k, infos)
            hint = f"did you mean {close}? " if close else ""
            raise fail(f"{k!r} is not a behavioural constant; {hint}see saca list")
    if len(set(keys)) < len(keys):
        raise fail("include lists a constant twice")
    narrow = table.get("narrow", 1.0)
    if isinstance(narrow, bool) or not isinstance(narrow, int | float) or not 0 < narrow <= 1:
        raise fail(f"narrow must be a number in (0, 1], got {narrow!r}")
    out = {k: v for k, v in data.items() if k != TABLE}
    params = dict(out.get("parameters", {}))
    fixed = out.get("fixed", {})
    for k in keys:
        if k in exclude or k in params or k in fixed:
            continue
        lo, hi = constant_range(infos[k], float(narrow))
        if hi > lo:  # a default at a bound with nothing on the other side stays fixed
            params[k] = {"min": round(lo, 12), "max": round(hi, 12)}
    out["parameters"] = params
    return out, True
