"""What a discovery seeks: the [discover] settings, the metric's direction, the contrast."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from saca.model import SacaInputError
from saca.model.metrics import HIGHER_IS_BETTER, METRICS
from saca.model.parameters import did_you_mean

TABLE = "discover"
"""The spec's table of discovery settings."""

KEYS = (
    "contrast",
    "metric",
    "direction",
    "window",
    "margin",
    "threshold",
    "peel_alpha",
    "mass_min",
    "max_boxes",
)
"""The keys of a ``[discover]`` table."""


# ----- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscoverySettings:
    """What to discover and how (the ``[discover]`` table and command-line options).

    Args:
        contrast: ``(regime, reference)``: the cases are where ``regime`` beats
            ``reference``; None for the last and the first regime of the sweep.
        metric: the metric compared (a name of ``saca.model.metrics.METRICS``).
        direction: ``higher`` or ``lower`` is better; None takes the metric's own.
        window: ``all`` (the whole run) or a phase name, as in ``load_results``.
        margin: how far beyond zero the paired difference must lie to count as a win.
        threshold: the least density of the box retained.
        peel_alpha: share of the points peeled off in one step.
        mass_min: PRIM stops peeling below this share of the points.
        max_boxes: at most this many boxes.
    """

    contrast: tuple[str, str] | None = None
    metric: str = "efficacy"
    direction: str | None = None
    window: str = "all"
    margin: float = 0.0
    threshold: float = 0.8
    peel_alpha: float = 0.05
    mass_min: float = 0.05
    max_boxes: int = 3


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_settings(
    table: Mapping[str, Any] | None,
    overrides: Mapping[str, Any] | None = None,
    label: str = "[discover]",
) -> DiscoverySettings:
    """Check the form of a ``[discover]`` table and apply command-line overrides.

    Args:
        table: the parsed ``[discover]`` table (or None).
        overrides: key → value from the command line (None values are ignored); they win
            over the table.
        label: how messages name the table (e.g. the spec's path).

    Returns:
        The :class:`DiscoverySettings`.

    Raises:
        SacaInputError: an unknown key or a value of the wrong form or range.
    """

    def fail(msg: str) -> SacaInputError:
        return SacaInputError(f"{label}: {msg}")

    values = dict(table or {})
    for key in values:
        if key not in KEYS:
            raise fail(
                f"unknown key {key!r} in [{TABLE}]; {did_you_mean(key, KEYS)}"
                f"known keys: {', '.join(KEYS)}"
            )
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    out: dict[str, Any] = {}
    if "contrast" in values:
        c = values["contrast"]
        if isinstance(c, str):
            c = [s.strip() for s in c.split(",")]
        if (
            not isinstance(c, list | tuple)
            or len(c) != 2
            or not all(isinstance(s, str) and s for s in c)
        ):
            raise fail(
                "contrast must name two regimes, the regime and its reference, e.g. "
                f'contrast = ["autonomous", "constructive"]; got {values["contrast"]!r}'
            )
        if c[0] == c[1]:
            raise fail(f"contrast names {c[0]!r} twice; give the regime and its reference")
        out["contrast"] = (c[0], c[1])
    for key in ("metric", "window"):
        if key in values:
            if not isinstance(values[key], str) or not values[key]:
                raise fail(f"{key} must be a name, got {values[key]!r}")
            out[key] = values[key]
    if "direction" in values:
        if values["direction"] not in ("higher", "lower"):
            raise fail(
                f'direction must be "higher" or "lower" (is better), got {values["direction"]!r}'
            )
        out["direction"] = values["direction"]
    bounds = {
        "margin": (0.0, math.inf, "at least 0"),
        "threshold": (0.0, 1.0, "in (0, 1]"),
        "peel_alpha": (0.0, 0.5, "in (0, 0.5]"),
        "mass_min": (0.0, 1.0, "in (0, 1)"),
    }
    for key, (lo, hi, text) in bounds.items():
        if key not in values:
            continue
        v = values[key]
        ok = _number(v) and math.isfinite(v)
        if ok and key == "margin":
            ok = v >= lo
        elif ok and key == "mass_min":
            ok = lo < v < hi
        elif ok:
            ok = lo < v <= hi
        if not ok:
            raise fail(f"{key} must be a number {text}, got {v!r}")
        out[key] = float(v)
    if "max_boxes" in values:
        v = values["max_boxes"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise fail(f"max_boxes must be a whole number of at least 1, got {v!r}")
        out["max_boxes"] = v
    return DiscoverySettings(**out)


def metric_direction(metric: str, direction: str | None = None) -> bool:
    """Whether higher is better for a metric.

    Args:
        metric: the metric's name.
        direction: ``higher`` or ``lower`` to say it; None takes :data:`HIGHER_IS_BETTER`.

    Raises:
        SacaInputError: an unknown metric (with a "did you mean"), or one with no agreed
            direction and none given.
    """
    if metric not in METRICS:
        raise SacaInputError(
            f"unknown metric {metric!r}; {did_you_mean(metric, METRICS)}"
            "see the metric names in README or docs/ODD.md"
        )
    if direction is not None:
        return direction == "higher"
    if metric not in HIGHER_IS_BETTER:
        raise SacaInputError(
            f"metric {metric!r} has no agreed good direction; say which is better with "
            'direction = "higher" or "lower" in [discover] (or --direction)'
        )
    return HIGHER_IS_BETTER[metric]


def resolve_contrast(
    settings: DiscoverySettings, regimes: Sequence[str], label: str
) -> tuple[str, str]:
    """The (regime, reference) pair of a discovery, checked against the sweep's regimes.

    Args:
        settings: the settings (``contrast`` None: the last and the first regime).
        regimes: the sweep's regime labels, in order.
        label: how messages name the sweep.

    Raises:
        SacaInputError: fewer than two regimes, or a contrast naming a regime not swept.
    """
    regimes = list(regimes)
    if len(regimes) < 2:
        raise SacaInputError(
            f"{label}: discovery compares two regimes but the sweep has only "
            f"{', '.join(regimes) or 'none'}; list the reference too, e.g. "
            'regimes = ["constructive", "autonomous"]'
        )
    if settings.contrast is None:
        return regimes[-1], regimes[0]
    for name in settings.contrast:
        if name not in regimes:
            raise SacaInputError(
                f"{label}: contrast names the regime {name!r}, which the sweep does not run; "
                f"{did_you_mean(name, regimes)}its regimes are {', '.join(regimes)}"
            )
    return settings.contrast
